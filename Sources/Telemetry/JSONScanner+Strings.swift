extension JSONScanner {
    /// Reads a string token at the current `"`; checks escapes and control characters, does not decode.
    mutating func readString() throws(TelemetryRejection) -> Token {
        self.skipWhitespace()
        guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\"") else {
            throw self.malformed("expected a string")
        }
        self.index += 1
        let start = self.index
        var hasEscapes = false
        while self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            switch byte {
            case UInt8(ascii: "\""):
                let token = Token(range: start..<self.index, hasEscapes: hasEscapes)
                self.index += 1
                return token
            case UInt8(ascii: "\\"):
                hasEscapes = true
                try self.skipEscape()
            case 0x00..<0x20:
                throw self.malformed("control character in string")
            default:
                self.index += 1
            }
        }
        throw self.malformed("unterminated string")
    }

    private mutating func skipEscape() throws(TelemetryRejection) {
        guard self.index + 1 < self.bytes.count else { throw self.malformed("unterminated escape") }
        switch self.bytes[self.index + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            self.index += 2
        case UInt8(ascii: "u"):
            guard self.index + 6 <= self.bytes.count,
                (2..<6).allSatisfy({ Self.hexValue(self.bytes[self.index + $0]) != nil })
            else { throw self.malformed("invalid \\u escape") }
            self.index += 6
        default:
            throw self.malformed("invalid escape")
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// The token's text as a `String`, escapes decoded; invalid UTF-8 or a lone surrogate is malformed.
    func string(_ token: Token) throws(TelemetryRejection) -> String {
        let result: String?
        if token.hasEscapes {
            let decoded = try self.decodedBytes(token)
            result = decoded.withUnsafeBufferPointer { String(validating: $0, as: UTF8.self) }
        } else {
            result = String(validating: UnsafeBufferPointer(rebasing: self.bytes[token.range]), as: UTF8.self)
        }
        guard let result else {
            throw TelemetryRejection(.malformedJSON, "string at byte \(token.range.lowerBound) is not valid UTF-8")
        }
        return result
    }

    /// Decodes the escapes of a token into UTF-8 bytes (the rare path: payloads from boilers have none).
    func decodedBytes(_ token: Token) throws(TelemetryRejection) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(token.range.count)
        var index = token.range.lowerBound
        let end = token.range.upperBound
        while index < end {
            let byte = self.bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                index += 1
                continue
            }
            let escape = self.bytes[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = self.hex4(at: index)
                index += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard index + 6 <= end, self.bytes[index] == UInt8(ascii: "\\"),
                        self.bytes[index + 1] == UInt8(ascii: "u")
                    else { throw TelemetryRejection(.malformedJSON, "lone surrogate in string at byte \(index)") }
                    let low = self.hex4(at: index + 2)
                    guard (0xDC00..<0xE000).contains(low) else {
                        throw TelemetryRejection(.malformedJSON, "lone surrogate in string at byte \(index)")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw TelemetryRejection(.malformedJSON, "lone surrogate in string at byte \(index)")
                }
                guard let unicode = Unicode.Scalar(scalar) else {
                    throw TelemetryRejection(.malformedJSON, "invalid code point in string at byte \(index)")
                }
                out.append(contentsOf: unicode.utf8)
            default: out.append(escape)  // \" \\ \/
            }
        }
        return out
    }

    private func hex4(at index: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 4 | (Self.hexValue(self.bytes[index + offset]) ?? 0) }
        return value
    }
}
