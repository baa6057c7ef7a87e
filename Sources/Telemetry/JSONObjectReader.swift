/// Reads one flat JSON object (numbers, strings, booleans, null, and nested values kept as raw text) into a
/// dictionary, for the payloads that are not on the hot path: setpoint commands, snapshot events, checkpoints.
///
/// Typed getters turn absent or mistyped fields into `TelemetryRejection`s naming the field; `requireOnly`
/// refuses fields the schema does not define.
struct JSONObjectReader {
    enum Value {
        case number(JSONNumber, Double?)
        case string(String)
        case bool(Bool)
        case null
        case raw([UInt8])
    }

    private(set) var fields: [String: Value] = [:]

    init(_ bytes: [UInt8], maximumBytes: Int = 1 << 20) throws(TelemetryRejection) {
        guard bytes.count <= maximumBytes else {
            throw TelemetryRejection(.payloadTooLarge, "payload is \(bytes.count) bytes; the limit is \(maximumBytes)")
        }
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(TelemetryRejection) -> [String: Value] in try Self.parse(buffer) }
        }
        self.fields = try result.get()
    }

    private static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(TelemetryRejection) -> [String: Value] {
        var scanner = JSONScanner(buffer)
        guard try scanner.peekValue() == .object else {
            try scanner.skipValue()
            try scanner.expectEnd()
            throw TelemetryRejection(.wrongType, "payload must be a JSON object")
        }
        scanner.index += 1
        var fields: [String: Value] = [:]
        var isFirst = true
        while let keyToken = try scanner.nextKey(isFirst: &isFirst) {
            let key = try scanner.string(keyToken)
            guard fields[key] == nil else { throw scanner.malformed("duplicate key '\(key.prefix(64))'") }
            switch try scanner.peekValue() {
            case .number:
                let number = try scanner.readNumber()
                fields[key] = .number(number, scanner.doubleValue(number))
            case .string: fields[key] = .string(try scanner.string(try scanner.readString()))
            case .bool: fields[key] = .bool(try scanner.readBool())
            case .null:
                try scanner.readNull()
                fields[key] = .null
            case .object, .array:
                scanner.skipWhitespace()
                let start = scanner.index
                try scanner.skipValue(depth: 1)
                fields[key] = .raw(Array(buffer[start..<scanner.index]))
            }
        }
        try scanner.expectEnd()
        return fields
    }

    /// Refuses any field not in `allowed`.
    func requireOnly(_ allowed: Set<String>) throws(TelemetryRejection) {
        if let extra = self.fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw TelemetryRejection(.unknownField, "field '\(extra.prefix(64))' is not part of the schema")
        }
    }

    private func require(_ name: String) throws(TelemetryRejection) -> Value {
        guard let value = self.fields[name] else {
            throw TelemetryRejection(.missingField, "required field '\(name)' is missing")
        }
        return value
    }

    /// True when the field is present and `null`.
    func isNull(_ name: String) -> Bool {
        if case .null = self.fields[name] { return true }
        return false
    }

    func string(_ name: String) throws(TelemetryRejection) -> String {
        guard case .string(let text) = try self.require(name) else {
            throw TelemetryRejection(.wrongType, "\(name) must be a string")
        }
        return text
    }

    func double(_ name: String, in range: ClosedRange<Double>? = nil) throws(TelemetryRejection) -> Double {
        guard case .number(_, let value) = try self.require(name) else {
            throw TelemetryRejection(.wrongType, "\(name) must be a number")
        }
        guard let value else { throw TelemetryRejection(.notFinite, "\(name) is too large to be a finite number") }
        if let range, !range.contains(value) {
            throw TelemetryRejection(.valueOutOfRange, "\(name) \(value) is outside [\(range.lowerBound), \(range.upperBound)]")
        }
        return value
    }

    func optionalDouble(_ name: String) throws(TelemetryRejection) -> Double? {
        self.isNull(name) ? nil : try self.double(name)
    }

    func integer(_ name: String, in range: ClosedRange<Int64>) throws(TelemetryRejection) -> Int64 {
        guard case .number(let number, _) = try self.require(name) else {
            throw TelemetryRejection(.wrongType, "\(name) must be an integer")
        }
        guard case .integer(let negative, let magnitude) = number.integerValue else {
            throw TelemetryRejection(.wrongType, "\(name) must be an integer")
        }
        guard magnitude <= UInt64(Int64.max), case let value = negative ? -Int64(magnitude) : Int64(magnitude),
            range.contains(value)
        else {
            throw TelemetryRejection(.valueOutOfRange, "\(name) is outside [\(range.lowerBound), \(range.upperBound)]")
        }
        return value
    }

    func optionalInteger(_ name: String, in range: ClosedRange<Int64>) throws(TelemetryRejection) -> Int64? {
        self.isNull(name) ? nil : try self.integer(name, in: range)
    }

    func raw(_ name: String) throws(TelemetryRejection) -> [UInt8] {
        guard case .raw(let bytes) = try self.require(name) else {
            throw TelemetryRejection(.wrongType, "\(name) must be an object or array")
        }
        return bytes
    }

    /// Checks `v` is 1.
    func requireVersion1() throws(TelemetryRejection) {
        guard case .integer(false, 1) = try self.integerValue("v") else {
            throw TelemetryRejection(.unsupportedVersion, "v must be 1")
        }
    }

    private func integerValue(_ name: String) throws(TelemetryRejection) -> JSONNumber.IntegerValue {
        guard case .number(let number, _) = try self.require(name) else {
            throw TelemetryRejection(.wrongType, "\(name) must be an integer")
        }
        return number.integerValue
    }
}
