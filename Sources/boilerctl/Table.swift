import Foundation

/// Plain-text tables and values for people; `--json` prints the API's own JSON instead.
enum Table {
    /// Columns padded to their widest cell; numbers right-aligned.
    static func render(_ headers: [String], _ rows: [[String]]) -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: max(0, widths[index] - cell.count))
                return Self.isNumeric(cell) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        var lines = [line(headers), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        lines += rows.map(line)
        return lines.joined(separator: "\n")
    }

    static func isNumeric(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isNumber || $0 == "." || $0 == "-" || $0 == "%" || $0 == "+" }
    }

    /// A number with `digits` decimals, or "-" when absent.
    static func number(_ value: Any?, _ digits: Int = 2) -> String {
        guard let value = value as? NSNumber else { return "-" }
        return String(format: "%.\(digits)f", value.doubleValue)
    }

    static func integer(_ value: Any?) -> String {
        guard let value = value as? NSNumber else { return "-" }
        return "\(value.int64Value)"
    }

    /// `2026-11-26 14:00:00Z` for milliseconds since 1970.
    static func time(_ value: Any?) -> String {
        guard let ms = value as? NSNumber else { return "-" }
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: ms.doubleValue / 1_000)).replacingOccurrences(of: "T", with: " ")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.hasSuffix(" ") { copy.removeLast() }
        return copy
    }
}
