/// A JSON number as read: its significant digits and decimal exponent, and where its text is.
///
/// Kept exact so that integer fields can tell `12` and `12.0` (integers, as JSON Schema says) from `12.5`, and so
/// that doubles are converted with one correctly rounded step.
struct JSONNumber {
    /// Whether a minus sign was present.
    var negative = false
    /// Up to 19 significant decimal digits.
    var significand: UInt64 = 0
    /// The value is `significand × 10^exponent`, apart from digits dropped past the 19th.
    var exponent = 0
    /// True when non-zero digits past the 19th were dropped.
    var truncated = false
    /// The number's text in the payload, for the slow conversion path.
    var range: Range<Int> = 0..<0

    /// An integer's value, or why it is not one.
    enum IntegerValue {
        case integer(negative: Bool, magnitude: UInt64)
        case fraction
        case tooLarge
    }

    var integerValue: IntegerValue {
        if self.significand == 0 { return .integer(negative: self.negative, magnitude: 0) }
        if self.truncated { return self.exponent >= 0 ? .tooLarge : .fraction }
        if self.exponent >= 0 {
            var value = self.significand
            for _ in 0..<min(self.exponent, 20) {
                let (product, overflow) = value.multipliedReportingOverflow(by: 10)
                if overflow { return .tooLarge }
                value = product
            }
            return self.exponent > 20 ? .tooLarge : .integer(negative: self.negative, magnitude: value)
        }
        // 19 digits cannot be a multiple of 10^20 or more unless zero (handled above).
        guard self.exponent > -20 else { return .fraction }
        let divisor = Self.powersOfTen[-self.exponent]
        guard self.significand % divisor == 0 else { return .fraction }
        return .integer(negative: self.negative, magnitude: self.significand / divisor)
    }

    static let powersOfTen: [UInt64] = (0..<20).reduce(into: []) { powers, index in
        powers.append(index == 0 ? 1 : powers[index - 1] * 10)
    }
}

extension JSONScanner {
    /// Reads a number per RFC 8259's grammar: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    mutating func readNumber() throws(TelemetryRejection) -> JSONNumber {
        self.skipWhitespace()
        var number = JSONNumber()
        let start = self.index
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "-") {
            number.negative = true
            self.index += 1
        }
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "I") {
            throw TelemetryRejection(.notFinite, "Infinity is not a JSON number (byte \(start))")
        }
        var digits = 0
        let integerStart = self.index
        self.readDigits(into: &number, digits: &digits, fraction: false)
        let integerDigits = self.index - integerStart
        guard integerDigits > 0 else { throw self.malformed("expected a digit") }
        if integerDigits > 1 && self.bytes[integerStart] == UInt8(ascii: "0") {
            throw self.malformed("leading zero in number")
        }
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: ".") {
            self.index += 1
            let fractionStart = self.index
            self.readDigits(into: &number, digits: &digits, fraction: true)
            guard self.index > fractionStart else { throw self.malformed("expected a digit after '.'") }
        }
        if self.index < self.bytes.count, self.bytes[self.index] | 0x20 == UInt8(ascii: "e") {
            self.index += 1
            var exponentNegative = false
            if self.index < self.bytes.count,
                self.bytes[self.index] == UInt8(ascii: "+") || self.bytes[self.index] == UInt8(ascii: "-")
            {
                exponentNegative = self.bytes[self.index] == UInt8(ascii: "-")
                self.index += 1
            }
            var exponent = 0
            let exponentStart = self.index
            while self.index < self.bytes.count, case let digit = self.bytes[self.index] &- UInt8(ascii: "0"),
                digit < 10
            {
                // Clamp: anything past 10^6 is zero or infinite either way, and must not overflow.
                exponent = min(exponent * 10 + Int(digit), 1_000_000)
                self.index += 1
            }
            guard self.index > exponentStart else { throw self.malformed("expected a digit in exponent") }
            number.exponent += exponentNegative ? -exponent : exponent
        }
        number.range = start..<self.index
        return number
    }

    /// A reading as boilers write it, `-?(0|[1-9][0-9]*)(.[0-9]+)?` with at most 15 digits and no exponent
    /// (`61.25`, `-3`, `0.125`), read in one pass straight to its double, after optional whitespace. Anything else
    /// gives `nil` and consumes nothing but the whitespace, for `readNumber` to read or reject.
    ///
    /// Its result is the one `readNumber` and `doubleValue` give: with 15 digits the significand is below 2^53
    /// and the divisor a power of ten that a double holds exactly, so one division rounds correctly (Clinger's fast
    /// path, as `doubleValue` takes it). A batch's numbers went through `JSONNumber` at about 230 instructions
    /// each; this takes about a fifth of that.
    @inline(__always)
    mutating func readShortDecimal() -> Double? {
        self.skipWhitespace()
        let bytes = self.bytes
        let end = bytes.count
        var index = self.index
        guard index < end else { return nil }
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        let integerStart = index
        var significand: UInt64 = 0
        // Wrapping arithmetic: a number with more digits than fit is refused below, whatever this made of it.
        while index < end, case let digit = bytes[index] &- UInt8(ascii: "0"), digit < 10 {
            significand = significand &* 10 &+ UInt64(digit)
            index += 1
        }
        let integerDigits = index - integerStart
        guard integerDigits == 1 || (integerDigits > 1 && bytes[integerStart] != UInt8(ascii: "0")) else { return nil }
        var fractionDigits = 0
        if index < end, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < end, case let digit = bytes[index] &- UInt8(ascii: "0"), digit < 10 {
                significand = significand &* 10 &+ UInt64(digit)
                index += 1
            }
            fractionDigits = index - fractionStart
            guard fractionDigits > 0 else { return nil }
        }
        guard integerDigits + fractionDigits <= 15 else { return nil }
        if index < end, bytes[index] | 0x20 == UInt8(ascii: "e") { return nil }
        self.index = index
        let value = Double(significand) / JSONScanner.exactPowerOfTen(fractionDigits)
        return negative ? -value : value
    }

    /// 10^`exponent` for 0...22, each exact in a double (10^22 is the largest that is); a switch, not a table, so
    /// that no global is touched.
    @inline(__always)
    static func exactPowerOfTen(_ exponent: Int) -> Double {
        switch exponent {
        case 0: 1
        case 1: 1e1
        case 2: 1e2
        case 3: 1e3
        case 4: 1e4
        case 5: 1e5
        case 6: 1e6
        case 7: 1e7
        case 8: 1e8
        case 9: 1e9
        case 10: 1e10
        case 11: 1e11
        case 12: 1e12
        case 13: 1e13
        case 14: 1e14
        case 15: 1e15
        case 16: 1e16
        case 17: 1e17
        case 18: 1e18
        case 19: 1e19
        case 20: 1e20
        case 21: 1e21
        default: 1e22
        }
    }

    private mutating func readDigits(into number: inout JSONNumber, digits: inout Int, fraction: Bool) {
        while self.index < self.bytes.count, case let digit = self.bytes[self.index] &- UInt8(ascii: "0"), digit < 10 {
            self.index += 1
            if number.significand == 0 && digit == 0 {
                if fraction { number.exponent -= 1 }
            } else if digits < 19 {
                number.significand = number.significand &* 10 &+ UInt64(digit)
                digits += 1
                if fraction { number.exponent -= 1 }
            } else {
                if !fraction { number.exponent += 1 }
                if digit != 0 { number.truncated = true }
            }
        }
    }

    /// The number as a double, correctly rounded; nil when it is too large to be finite.
    func doubleValue(_ number: JSONNumber) -> Double? {
        let value: Double
        if number.significand == 0 {
            value = 0
        } else if !number.truncated, number.significand <= 1 << 53, (-22...22).contains(number.exponent) {
            // Clinger's fast path: both operands exact, so one IEEE operation rounds correctly.
            let significand = Double(number.significand)
            value =
                number.exponent >= 0
                ? significand * JSONScanner.exactPowerOfTen(number.exponent)
                : significand / JSONScanner.exactPowerOfTen(-number.exponent)
        } else {
            // Rare (long or extreme numbers): the standard library's correctly rounded parser.
            let text = String(decoding: UnsafeBufferPointer(rebasing: self.bytes[number.range]), as: UTF8.self)
            guard let parsed = Double(text) else { return nil }
            return parsed.isFinite ? parsed : nil
        }
        return number.negative ? -value : value
    }
}
