/// Durations on the command line: `500ms`, `30s`, `15m`, `2h`, `1d`, and sums like `1h30m`.
enum SimDuration {
    /// Milliseconds in `text`, or nil if it is not a duration.
    static func parseMs(_ text: String) -> Int64? {
        var total: Int64 = 0
        var number: Int64? = nil
        var index = text.startIndex
        guard !text.isEmpty else { return nil }
        while index < text.endIndex {
            let character = text[index]
            if let digit = character.wholeNumberValue, character.isASCII {
                let (times, overflow1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int64(digit))
                guard !overflow1, !overflow2 else { return nil }
                number = sum
                index = text.index(after: index)
                continue
            }
            guard let value = number else { return nil }
            let rest = text[index...]
            let unit: Int64
            if rest.hasPrefix("ms") {
                unit = 1
                index = text.index(index, offsetBy: 2)
            } else {
                switch character {
                case "s": unit = 1_000
                case "m": unit = 60_000
                case "h": unit = 3_600_000
                case "d": unit = 86_400_000
                default: return nil
                }
                index = text.index(after: index)
            }
            let (product, overflow) = value.multipliedReportingOverflow(by: unit)
            guard !overflow, total <= Int64.max - product else { return nil }
            total += product
            number = nil
        }
        // A bare number is not a duration (is it seconds? minutes?): say the unit.
        return number == nil ? total : nil
    }

    /// A duration with an optional sign: `+2s`, `-500ms`.
    static func parseSignedMs(_ text: String) -> Int64? {
        if text.hasPrefix("-") { return Self.parseMs(String(text.dropFirst())).map { -$0 } }
        if text.hasPrefix("+") { return Self.parseMs(String(text.dropFirst())) }
        return Self.parseMs(text)
    }
}

/// A command-line or fault-spec mistake, said in one line.
struct SimulatorError: Error, CustomStringConvertible, Sendable {
    let description: String
    init(_ description: String) { self.description = description }
}
