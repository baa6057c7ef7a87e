/// A forward-only reader of one JSON text (RFC 8259) in memory, for the fixed, flat payloads of this pipeline.
///
/// It reads in place: no tree, no `String` per key, no allocation unless a string uses escapes. Every way a text
/// can be malformed is a `TelemetryRejection` with the byte offset, never a crash. `NaN` and `Infinity`, which
/// some parsers accept, are not JSON and are refused as `not-finite`.
struct JSONScanner {
    /// The kind of value that starts at the current position.
    enum ValueKind {
        case object, array, string, number, bool, null
    }

    /// A string token: where its raw bytes are (between the quotes) and whether it contains escapes.
    struct Token {
        var range: Range<Int>
        var hasEscapes: Bool
    }

    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    // MARK: Structure

    mutating func skipWhitespace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
            default: return
            }
        }
    }

    func malformed(_ what: String) -> TelemetryRejection {
        TelemetryRejection(.malformedJSON, "\(what) at byte \(self.index)")
    }

    /// The kind of the next value, after whitespace. Throws when there is no value there.
    mutating func peekValue() throws(TelemetryRejection) -> ValueKind {
        self.skipWhitespace()
        guard self.index < self.bytes.count else { throw self.malformed("unexpected end of text, expected a value") }
        switch self.bytes[self.index] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            throw TelemetryRejection(.notFinite, "NaN and Infinity are not JSON numbers (byte \(self.index))")
        default:
            throw self.malformed("unexpected character '\(Self.printable(self.bytes[self.index]))'")
        }
    }

    /// Consumes `byte` after optional whitespace, or throws.
    mutating func expect(_ byte: UInt8, _ what: String) throws(TelemetryRejection) {
        self.skipWhitespace()
        guard self.index < self.bytes.count, self.bytes[self.index] == byte else {
            throw self.malformed("expected \(what)")
        }
        self.index += 1
    }

    /// Consumes `byte` if it comes next (after whitespace).
    mutating func consume(_ byte: UInt8) -> Bool {
        self.skipWhitespace()
        guard self.index < self.bytes.count, self.bytes[self.index] == byte else { return false }
        self.index += 1
        return true
    }

    /// Throws unless only whitespace is left.
    mutating func expectEnd() throws(TelemetryRejection) {
        self.skipWhitespace()
        guard self.index == self.bytes.count else { throw self.malformed("unexpected text after the JSON value") }
    }

    /// Reads the next member's key of an object whose `{` has been consumed, and its `:`.
    /// Returns nil at the closing `}`. `isFirst` tracks whether a comma is needed.
    mutating func nextKey(isFirst: inout Bool) throws(TelemetryRejection) -> Token? {
        // A trailing comma (`{"a":1,}`) fails below: after the comma a key must follow.
        if self.consume(UInt8(ascii: "}")) { return nil }
        if !isFirst {
            try self.expect(UInt8(ascii: ","), "',' or '}' in object")
        }
        isFirst = false
        self.skipWhitespace()
        guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\"") else {
            throw self.malformed("expected a string key")
        }
        let key = try self.readString()
        try self.expect(UInt8(ascii: ":"), "':' after key")
        return key
    }

    // MARK: Literals

    /// Reads `true` or `false`.
    mutating func readBool() throws(TelemetryRejection) -> Bool {
        if self.consumeLiteral("true") { return true }
        if self.consumeLiteral("false") { return false }
        throw self.malformed("invalid literal")
    }

    /// Reads `null`.
    mutating func readNull() throws(TelemetryRejection) {
        guard self.consumeLiteral("null") else { throw self.malformed("invalid literal") }
    }

    private mutating func consumeLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard self.index + count <= self.bytes.count else { return false }
        let start = literal.utf8Start
        for offset in 0..<count where self.bytes[self.index + offset] != start[offset] {
            return false
        }
        self.index += count
        return true
    }

    /// Skips any value, checking that it is well-formed, with nesting bounded by `depth`.
    mutating func skipValue(depth: Int = 0) throws(TelemetryRejection) {
        guard depth < 32 else { throw self.malformed("nesting deeper than 32 levels") }
        switch try self.peekValue() {
        case .object:
            self.index += 1
            var isFirst = true
            while try self.nextKey(isFirst: &isFirst) != nil {
                try self.skipValue(depth: depth + 1)
            }
        case .array:
            self.index += 1
            var isFirst = true
            while try self.nextElement(isFirst: &isFirst) {
                try self.skipValue(depth: depth + 1)
            }
        case .string: _ = try self.readString()
        case .number: _ = try self.readNumber()
        case .bool: _ = try self.readBool()
        case .null: try self.readNull()
        }
    }

    /// In an array whose `[` has been consumed: true when another element follows (its comma consumed),
    /// false at the closing `]`.
    mutating func nextElement(isFirst: inout Bool) throws(TelemetryRejection) -> Bool {
        if self.consume(UInt8(ascii: "]")) { return false }
        if !isFirst {
            try self.expect(UInt8(ascii: ","), "',' or ']' in array")
        }
        isFirst = false
        return true
    }

    static func printable(_ byte: UInt8) -> String {
        (0x20..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }
}
