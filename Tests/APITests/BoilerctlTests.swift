@testable import boilerctl
import Foundation
import Testing

/// boilerctl's tables.
struct BoilerctlTests {
    @Test func tablesAlignNumbersRightAndTextLeft() {
        let table = Table.render(["boiler", "water °C"], [["b1", "61.25"], ["boiler-long", "7.00"]])
        #expect(table == """
            boiler       water °C
            -----------  --------
            b1              61.25
            boiler-long      7.00
            """)
    }

    @Test func snapshotsRenderAsRowsWithCoverageInPercent() {
        let text = Render.snapshots([
            ["hour_start_ms": 1_764_165_600_000, "samples": 359_000, "expected_samples": 360_000, "coverage": 0.99722, "mean_c": 60.1234, "min_c": 55.0, "max_c": 70.5, "duplicates": 3, "late_samples": 0],
        ])
        #expect(text.contains("2025-11-26 14:00:00Z"))
        #expect(text.contains("359000") && text.contains("99.7%") && text.contains("60.123") && text.contains("70.50"))
    }

    @Test func anIdCannotChangeThePath() {
        #expect(Render.pathSegment("b0001") == "b0001")
        #expect(Render.pathSegment("../../etc") == "%2E%2E%2F%2E%2E%2Fetc")
    }

    /// `boilerctl tail`: a message holding a run of readings shows each of them; a gap is named.
    @Test func tailShowsEveryReadingOfARun() {
        let reading: (Int, Double) -> [String: Any] = { seq, water in ["seq": seq, "ts_ms": 1_764_165_600_000 + seq * 10, "water_c": water] }
        let text = Render.tail([
            "gaps": [["first_seq": 1, "last_seq": 4, "message": "lapped"]],
            "messages": [
                ["seq": 5, "subject": "boiler.b1.telemetry", "readings": [reading(7, 60.5), reading(8, 61.25)]],
                ["seq": 6, "subject": "boiler.b1.telemetry", "reading": reading(9, 62)],
            ],
        ])
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[0].hasPrefix("GAP 1...4"))
        #expect(lines[1].hasPrefix("5  boiler.b1.telemetry  2 readings"))
        #expect(lines[2].contains("seq 7") && lines[2].contains("60.50"))
        #expect(lines[3].contains("seq 8") && lines[3].contains("61.25"))
        #expect(lines[4].hasPrefix("6  boiler.b1.telemetry") && lines[4].contains("seq 9"))
    }
}
