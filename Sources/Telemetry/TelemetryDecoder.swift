/// Decodes telemetry payloads (`schemas/telemetry.schema.json`): one reading or a batch, validated field by field.
///
/// Hand-written for these fixed schemas because Foundation's `JSONDecoder` is several times too slow for the
/// ingest rate (see the README's performance table). It accepts exactly what the schema accepts, plus two checks
/// a schema cannot state: a batch's arrays must have equal lengths, and no reading may be dated further ahead of
/// the wall clock than `maximumFutureSkewMs`. Everything else is a `TelemetryRejection` naming the field.
public struct TelemetryDecoder: Sendable {
    /// Limits that are deployment choices rather than part of the payload schema.
    public struct Configuration: Sendable, Hashable {
        /// Payloads larger than this are refused before parsing. Default 64 KiB.
        public var maximumPayloadBytes: Int
        /// How far ahead of the wall clock a reading's `ts_ms` may be. Default 5 minutes.
        public var maximumFutureSkewMs: Int64

        public init(maximumPayloadBytes: Int = 65_536, maximumFutureSkewMs: Int64 = 300_000) {
            self.maximumPayloadBytes = maximumPayloadBytes
            self.maximumFutureSkewMs = maximumFutureSkewMs
        }
    }

    /// The most readings one batch may carry (the schema's `maxItems`).
    public static let maximumBatchReadings = 1_000
    /// The water temperatures accepted, °C.
    public static let waterRange: ClosedRange<Double> = -20...150
    /// The largest `seq` (2^53 - 1, so that every JSON tool reads it exactly).
    public static let maximumSeq: UInt64 = (1 << 53) - 1
    /// The largest `ts_ms`: 9999-12-31T23:59:59.999Z.
    public static let maximumTimestampMs: Int64 = 253_402_300_799_999
    /// The accepted batch periods, milliseconds.
    public static let periodRange: ClosedRange<Int64> = 1...3_600_000

    public var configuration: Configuration

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// The payload's fields, in the order of the schema.
    private enum Field: Int {
        case v, boot, seq, tsMs, periodMs, waterC, returnC, roomC, outdoorC, burnerPct

        var name: StaticString {
            switch self {
            case .v: "v"
            case .boot: "boot"
            case .seq: "seq"
            case .tsMs: "ts_ms"
            case .periodMs: "period_ms"
            case .waterC: "water_c"
            case .returnC: "return_c"
            case .roomC: "room_c"
            case .outdoorC: "outdoor_c"
            case .burnerPct: "burner_pct"
            }
        }

        /// The field a key names (its bytes, escapes decoded), or nil: the length (and for 9 bytes the first
        /// byte) picks the one candidate, and one comparison confirms it. (Comparing the key with every field's
        /// name in turn cost a fifth of a single reading's decode.)
        init?(key: UnsafeBufferPointer<UInt8>) {
            let candidate: Field
            switch key.count {
            case 1: candidate = .v
            case 3: candidate = .seq
            case 4: candidate = .boot
            case 5: candidate = .tsMs
            case 6: candidate = .roomC
            case 7: candidate = .waterC
            case 8: candidate = .returnC
            case 9: candidate = key[0] == UInt8(ascii: "p") ? .periodMs : .outdoorC
            case 10: candidate = .burnerPct
            default: return nil
            }
            let name = candidate.name
            guard name.utf8CodeUnitCount == key.count else { return nil }
            for offset in 0..<key.count where key[offset] != name.utf8Start[offset] { return nil }
            self = candidate
        }

        var optional: TelemetryPayload.OptionalField? {
            switch self {
            case .returnC: .returnC
            case .roomC: .roomC
            case .outdoorC: .outdoorC
            case .burnerPct: .burnerPct
            default: nil
            }
        }

        /// The accepted range of an optional field, °C or percent.
        var range: ClosedRange<Double> {
            switch self {
            case .returnC: -20...150
            case .roomC: -50...60
            case .outdoorC: -60...60
            case .burnerPct: 0...100
            default: TelemetryDecoder.waterRange
            }
        }
    }

    private static let requiredFields: [Field] = [.v, .boot, .seq, .tsMs, .waterC]
    private static let optionalFields: [Field] = [.returnC, .roomC, .outdoorC, .burnerPct]

    /// Decodes `payload`, which arrived for `boilerID`, into `result`. `nowMs` is the wall clock.
    ///
    /// On a rejection `result` holds partial data and must not be used.
    public func decode(
        _ payload: UnsafeBufferPointer<UInt8>,
        boilerID: BoilerID,
        into result: inout TelemetryPayload,
        nowMs: Int64
    ) throws(TelemetryRejection) {
        guard payload.count <= self.configuration.maximumPayloadBytes else {
            throw TelemetryRejection(
                .payloadTooLarge,
                "payload is \(payload.count) bytes; the limit is \(self.configuration.maximumPayloadBytes)"
            )
        }
        result.reset()
        result.boilerID = boilerID
        var scanner = JSONScanner(payload)
        guard try scanner.peekValue() == .object else {
            try scanner.skipValue()
            try scanner.expectEnd()
            throw TelemetryRejection(.wrongType, "payload must be a JSON object")
        }
        try scanner.expect(UInt8(ascii: "{"), "'{'")
        var seen: UInt16 = 0
        var isFirst = true
        var waterIsArray = false
        while let key = try scanner.nextKey(isFirst: &isFirst) {
            // A key with escapes (rare) is decoded first; one that cannot be is no field's name.
            let field =
                key.hasEscapes
                ? (try? scanner.decodedBytes(key)).flatMap { $0.withUnsafeBufferPointer { Field(key: $0) } }
                : Field(key: UnsafeBufferPointer(rebasing: scanner.bytes[key.range]))
            guard let field else {
                let name = (try? scanner.string(key)) ?? "?"
                throw TelemetryRejection(.unknownField, "field '\(name.prefix(64))' is not part of the telemetry schema")
            }
            let bit: UInt16 = 1 << field.rawValue
            guard seen & bit == 0 else { throw scanner.malformed("duplicate key '\(field.name)'") }
            seen |= bit
            switch field {
            case .v:
                guard case .integer(false, 1) = try Self.integer(&scanner, field: field, reason: .wrongType) else {
                    throw TelemetryRejection(.unsupportedVersion, "v must be 1")
                }
            case .boot:
                guard try scanner.peekValue() == .string else {
                    throw TelemetryRejection(.invalidBoot, "boot must be a string of [A-Za-z0-9_-]{1,32}")
                }
                let token = try scanner.readString()
                if let boot = Self.plainBootID(token, in: scanner) {
                    result.boot = boot
                } else {
                    let text = try scanner.string(token)
                    guard let boot = BootID(text) else {
                        throw TelemetryRejection(.invalidBoot, "boot '\(text.prefix(64))' is not [A-Za-z0-9_-]{1,32}")
                    }
                    result.boot = boot
                }
            case .seq:
                let value = try Self.integer(&scanner, field: field, reason: .invalidSeq)
                guard case .integer(_, let seq) = value, value.isNonNegative, seq <= Self.maximumSeq else {
                    throw TelemetryRejection(.invalidSeq, "seq must be an unsigned integer up to 2^53 - 1")
                }
                result.firstSeq = seq
            case .tsMs:
                let value = try Self.integer(&scanner, field: field, reason: .invalidTimestamp)
                guard case .integer(_, let ts) = value, value.isNonNegative, ts <= UInt64(Self.maximumTimestampMs)
                else {
                    throw TelemetryRejection(
                        .invalidTimestamp,
                        "ts_ms must be an integer count of milliseconds since 1970 up to year 9999"
                    )
                }
                result.firstTimestampMs = Int64(ts)
            case .periodMs:
                let value = try Self.integer(&scanner, field: field, reason: .wrongType)
                guard case .integer(_, let period) = value, value.isNonNegative,
                    period >= 1, period <= UInt64(Self.periodRange.upperBound)
                else {
                    throw TelemetryRejection(.valueOutOfRange, "period_ms must be an integer from 1 to 3600000")
                }
                result.periodMs = Int64(period)
            case .waterC:
                waterIsArray = try Self.readSeries(&scanner, field: field, into: &result.water)
            case .returnC, .roomC, .outdoorC, .burnerPct:
                let index = (field.optional ?? .returnC).rawValue
                result.optionals[index].present = true
                result.optionals[index].isArray = try Self.readSeries(
                    &scanner,
                    field: field,
                    into: &result.optionals[index].values
                )
            }
        }
        try scanner.expectEnd()
        try self.checkShape(of: result, seen: seen, waterIsArray: waterIsArray, nowMs: nowMs)
    }

    /// The checks that need the whole payload: required fields, single versus batch, lengths, wall clock.
    private func checkShape(
        of result: TelemetryPayload,
        seen: UInt16,
        waterIsArray: Bool,
        nowMs: Int64
    ) throws(TelemetryRejection) {
        for field in Self.requiredFields where seen & (1 << field.rawValue) == 0 {
            throw TelemetryRejection(.missingField, "required field '\(field.name)' is missing")
        }
        let hasPeriod = seen & (1 << Field.periodMs.rawValue) != 0
        if waterIsArray {
            guard hasPeriod else {
                throw TelemetryRejection(.missingField, "a batch (water_c is an array) needs period_ms")
            }
            for field in Self.optionalFields {
                let series = result.optionals[(field.optional ?? .returnC).rawValue]
                guard series.present, series.isArray, series.values.count != result.water.count else { continue }
                throw TelemetryRejection(
                    .arrayLengthMismatch,
                    "\(field.name) has \(series.values.count) values but water_c has \(result.water.count)"
                )
            }
        } else {
            guard !hasPeriod else {
                throw TelemetryRejection(.wrongType, "water_c must be an array when period_ms is given")
            }
            for field in Self.optionalFields
            where result.optionals[(field.optional ?? .returnC).rawValue].isArray {
                throw TelemetryRejection(.wrongType, "\(field.name) must be a number in a single reading")
            }
        }
        let newest = result.lastTimestampMs
        if newest > nowMs &+ self.configuration.maximumFutureSkewMs {
            throw TelemetryRejection(
                .timestampInFuture,
                "ts_ms \(newest) is \(newest - nowMs) ms ahead of the wall clock; at most "
                    + "\(self.configuration.maximumFutureSkewMs) ms is allowed"
            )
        }
    }

    /// The boot id of a string token without escapes, from its bytes (`BootID(identifierBytes:)`); `nil` for
    /// anything else, which then goes the long way (UTF-8 validation, escapes) so that every rejection keeps its
    /// reason and text. `String(validating:)` is generic and cost 0.4 µs a message in the ingestion worker's
    /// profile.
    static func plainBootID(_ token: JSONScanner.Token, in scanner: JSONScanner) -> BootID? {
        guard !token.hasEscapes else { return nil }
        return BootID(identifierBytes: UnsafeBufferPointer(rebasing: scanner.bytes[token.range]))
    }

    /// Reads a number and classifies it as an integer; a non-number throws `reason`.
    private static func integer(
        _ scanner: inout JSONScanner,
        field: Field,
        reason: RejectionReason
    ) throws(TelemetryRejection) -> JSONNumber.IntegerValue {
        guard try scanner.peekValue() == .number else {
            throw TelemetryRejection(reason, "\(field.name) must be an integer")
        }
        return try scanner.readNumber().integerValue
    }

    /// Reads a number or an array of numbers, range-checked, into `values`; returns whether it was an array.
    private static func readSeries(
        _ scanner: inout JSONScanner,
        field: Field,
        into values: inout [Double]
    ) throws(TelemetryRejection) -> Bool {
        switch try scanner.peekValue() {
        case .number:
            values.append(try Self.readValue(&scanner, field: field))
            return false
        case .array:
            try scanner.expect(UInt8(ascii: "["), "'['")
            var isFirst = true
            while try scanner.nextElement(isFirst: &isFirst) {
                guard values.count < Self.maximumBatchReadings else {
                    throw TelemetryRejection(
                        .batchTooLarge,
                        "\(field.name) has more than \(Self.maximumBatchReadings) values"
                    )
                }
                // A short decimal needs no look ahead; anything else is told apart first.
                if let value = scanner.readShortDecimal() {
                    values.append(try Self.checked(value, field: field))
                    continue
                }
                guard try scanner.peekValue() == .number else {
                    throw TelemetryRejection(.wrongType, "\(field.name) must hold only numbers")
                }
                values.append(try Self.readValue(&scanner, field: field))
            }
            guard !values.isEmpty else { throw TelemetryRejection(.emptyBatch, "\(field.name) is an empty array") }
            return true
        default:
            throw TelemetryRejection(.wrongType, "\(field.name) must be a number or an array of numbers")
        }
    }

    /// Reads a number (the next value is one: `peekValue` said so) and range-checks it.
    private static func readValue(_ scanner: inout JSONScanner, field: Field) throws(TelemetryRejection) -> Double {
        if let value = scanner.readShortDecimal() { return try Self.checked(value, field: field) }
        let number = try scanner.readNumber()
        guard let value = scanner.doubleValue(number) else {
            throw TelemetryRejection(.notFinite, "\(field.name) is too large to be a finite number")
        }
        return try Self.checked(value, field: field)
    }

    @inline(__always)
    private static func checked(_ value: Double, field: Field) throws(TelemetryRejection) -> Double {
        guard field.range.contains(value) else {
            throw TelemetryRejection(
                field == .waterC ? .waterOutOfRange : .valueOutOfRange,
                "\(field.name) \(value) is outside [\(field.range.lowerBound), \(field.range.upperBound)]"
            )
        }
        return value
    }
}

extension JSONNumber.IntegerValue {
    /// True for zero and positive integers ("-0" is zero).
    var isNonNegative: Bool {
        switch self {
        case .integer(let negative, let magnitude): !negative || magnitude == 0
        default: false
        }
    }
}

extension TelemetryDecoder {
    /// Decodes a payload given as bytes; for tests and tools.
    public func decode(_ payload: [UInt8], boilerID: BoilerID, nowMs: Int64) throws(TelemetryRejection) -> TelemetryPayload {
        var result = TelemetryPayload()
        let outcome = payload.withUnsafeBufferPointer { bytes in
            Result { () throws(TelemetryRejection) in
                try self.decode(bytes, boilerID: boilerID, into: &result, nowMs: nowMs)
            }
        }
        try outcome.get()
        return result
    }
}
