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
}
