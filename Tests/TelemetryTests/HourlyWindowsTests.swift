import Telemetry
import Testing

@Suite struct HourlyWindowsTests {
    /// One reading per boiler at `ms` past hour0, for every boiler in `ids`, then an advance.
    func tick(_ windows: inout HourlyWindows, _ ids: [BoilerID], at ms: Int64, wall: Int64? = nil) throws {
        for id in ids {
            _ = windows.add(try batch(id, firstMs: hour0 + ms, values: [60]), wallMs: wall ?? hour0 + ms)
        }
        windows.advance(wallMs: wall ?? hour0 + ms)
    }

    @Test func windowClosesWhenTheBoilersWatermarkPassesTheHourPlusLateness() throws {
        var windows = HourlyWindows()
        try self.tick(&windows, [b1], at: 1_000)
        try self.tick(&windows, [b1], at: hourMs + 4_999)
        #expect(windows.drainClosed().isEmpty)
        try self.tick(&windows, [b1], at: hourMs + 5_000)
        let closed = windows.drainClosed()
        #expect(closed.map(\.hourStartMs) == [hour0])
        #expect(closed.first?.samples == 1)
    }

    @Test func readingWithinLatenessStillCountsAndAfterCloseIsLate() throws {
        var windows = HourlyWindows()
        try self.tick(&windows, [b1], at: 1_000)
        try self.tick(&windows, [b1], at: hourMs + 1_000)
        // 4 s behind the boiler's newest: still within the 5 s lateness, so folded into the open hour.
        try self.tick(&windows, [b1], at: hourMs - 3_000, wall: hour0 + hourMs + 1_100)
        try self.tick(&windows, [b1], at: hourMs + 6_000)
        let closed = windows.drainClosed()
        #expect(closed.first?.samples == 2)
        // After close: counted late, not folded in.
        let outcome = windows.add(try batch(firstMs: hour0 + 2_000, values: [99, 99]), wallMs: hour0 + hourMs + 7_000)
        #expect(outcome.late == 2 && outcome.accepted == 0)
        #expect(windows.drainLate() == [.init(boilerID: b1, hourStartMs: hour0, count: 2)])
        #expect(windows.drainLate().isEmpty)
        #expect(windows.latestSnapshots[b1]?.samples == 2)
    }

    @Test func oneClockAnHourAheadClosesNobodysWindowEarly() throws {
        var windows = HourlyWindows()
        let fleet = (1...5).map { BoilerID("b\($0)")! }
        let skewed = BoilerID("skewed")!
        try self.tick(&windows, fleet + [skewed], at: 0)
        for second in stride(from: Int64(60), through: 600, by: 60) {
            // The skewed boiler's clock has jumped an hour ahead: its own watermark is past the end of hour0.
            _ = windows.add(try batch(skewed, firstMs: hour0 + hourMs + second * 1_000, values: [60]), wallMs: hour0 + second * 1_000)
            try self.tick(&windows, fleet, at: second * 1_000)
        }
        #expect(windows.drainClosed().isEmpty)
        #expect((windows.fleetWatermarkMs ?? .max) < hour0 + 600_000)
        // When the fleet really reaches the next hour, everyone's hour0 closes, once.
        try self.tick(&windows, fleet, at: hourMs + 70_000)
        let closed = windows.drainClosed().filter { $0.hourStartMs == hour0 }
        #expect(closed.map(\.boilerID).sorted() == (fleet + [skewed]).sorted())
        #expect(closed.filter { $0.boilerID != skewed }.allSatisfy { $0.samples == 11 })
        #expect(closed.first { $0.boilerID == skewed }?.samples == 1)
    }

    @Test func silentBoilerIsClosedByTheFleetAndGetsEmptyRows() throws {
        var windows = HourlyWindows()
        let fleet = [b1, BoilerID("b3")!, BoilerID("b4")!]
        try self.tick(&windows, fleet + [b2], at: 1_000)
        // b2 goes quiet; the others carry on into the hour after next.
        for minute in stride(from: Int64(10), through: 185, by: 5) {
            try self.tick(&windows, fleet, at: minute * 60_000)
        }
        let closed = windows.drainClosed().filter { $0.boilerID == b2 }
        #expect(closed.map(\.hourStartMs) == [hour0, hour0 + hourMs, hour0 + 2 * hourMs])
        #expect(closed.map(\.samples) == [1, 0, 0])
        #expect(closed.last?.coverage == 0 && closed.last?.meanC == nil)
    }

    @Test func silentBoilerIsForgottenAfterTheConfiguredHours() throws {
        var windows = HourlyWindows(configuration: .init(silentHoursReported: 2))
        try self.tick(&windows, [b1, b2], at: 0)
        for hour in 1...6 { try self.tick(&windows, [b1], at: Int64(hour) * hourMs) }
        let b2Rows = windows.drainClosed().filter { $0.boilerID == b2 }
        #expect(b2Rows.map(\.samples) == [1, 0, 0])
        #expect(windows.boilerCount == 1)
    }

    @Test func wallClockClosesWindowsWhenNoTrafficArrives() throws {
        var windows = HourlyWindows(configuration: .init(idleAllowanceMs: 10_000))
        // Replayed history: event time far behind the wall clock, all of it sent at wall time W.
        let wall: Int64 = hour0 + 30 * 24 * hourMs
        for ms in stride(from: Int64(0), to: hourMs, by: 600_000) {
            _ = windows.add(try batch(firstMs: hour0 + ms, values: [60]), wallMs: wall)
            windows.advance(wallMs: wall)
        }
        #expect(windows.drainClosed().isEmpty, "continuous traffic: the wall clock must not close anything")
        windows.advance(wallMs: wall + 10_000)
        #expect(windows.drainClosed().isEmpty)
        // Traffic stopped at event time hour0+50 min (watermark 5 s earlier); the hour ends 10 min later; the
        // idle allowance is 10 s, twice (once for silence, once past the hour's end).
        windows.advance(wallMs: wall + 10_001 + 600_000 + 5_000 + 10_000)
        #expect(windows.drainClosed().map(\.hourStartMs) == [hour0])
    }

    @Test func duplicatesAreCountedInTheOpenWindow() throws {
        var windows = HourlyWindows()
        try self.tick(&windows, [b1], at: 0)
        windows.recordDuplicates(boilerID: b1, timestampMs: hour0 + 5, count: 3)
        try self.tick(&windows, [b1], at: hourMs + 6_000)
        #expect(windows.drainClosed().first?.duplicates == 3)
    }

    @Test func restoredCheckpointResumesTheHour() throws {
        var before = HourlyWindows()
        _ = before.add(try batch(firstMs: hour0, values: [60, 61, 62]), wallMs: hour0)
        let checkpoints = before.openWindows.map { ($0.boilerID, $0.accumulator.checkpoint()) }

        var after = HourlyWindows()
        for (id, bytes) in checkpoints {
            after.restore(boilerID: id, accumulator: try HourlyAccumulator(checkpoint: bytes), wallMs: hour0 + 100)
        }
        _ = after.add(try batch(seq: 3, firstMs: hour0 + 30, values: [63, 64]), wallMs: hour0 + 100)
        _ = after.add(try batch(seq: 5, firstMs: hour0 + hourMs + 5_000, values: [60]), wallMs: hour0 + 200)
        let snapshot = try #require(after.drainClosed().first)
        #expect(snapshot.samples == 5)
        #expect(snapshot.meanC == 62)
        #expect(snapshot.maxGapMs == 10)
    }

    @Test func batchSpanningTheHourEndSplitsBetweenWindows() throws {
        var windows = HourlyWindows()
        _ = windows.add(try batch(firstMs: hour0 + hourMs - 30, values: [1, 2, 3, 4, 5]), wallMs: hour0)
        #expect(windows.openWindows.map(\.accumulator.samples) == [3, 2])
    }
}
