import Foundation
import PostgresNIO
import SnapshotStore
import Telemetry
import TestSupport
import Testing

/// 2025-11-26T14:00:00Z.
let hour0: Int64 = 1_764_165_600_000
let b1 = BoilerID("b0001")!

func snapshot(_ boiler: BoilerID = b1, hour: Int64 = hour0, samples: UInt64 = 360_000, mean: Double = 61.25) -> HourlySnapshot {
    HourlySnapshot(
        boilerID: boiler, hourStartMs: hour, meanC: mean, minC: 58.5, maxC: 64.125, stddevC: 1.5, samples: samples,
        expectedSamples: 360_000, duplicates: 3, lateSamples: 0, outOfOrder: 1, maxGapMs: 20,
        firstTimestampMs: hour, lastTimestampMs: hour + 3_599_990, closedAtMs: hour + 3_605_123
    )
}

@Suite struct MigrationListTests {
    @Test func embeddedMigrationsAreExactlyTheFilesInSchemasSQL() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schemas/sql")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files == SnapshotStore.migrations.map { String(format: "%03d_%@.sql", $0.version, $0.name) })
        for migration in SnapshotStore.migrations {
            let text = try String(
                contentsOf: folder.appendingPathComponent(String(format: "%03d_%@.sql", migration.version, migration.name)),
                encoding: .utf8
            )
            #expect(text == migration.sql)
        }
    }
}

@Suite(.enabled(if: TestServices.runPostgres))
struct SnapshotStoreTests {
    @Test func migrationsApplyFromEmptyOnceEvenWithTwoStoresAtOnce() async throws {
        let database = try await TestDatabase(clients: 2)
        defer { database.stop() }
        async let first = database.store(0).migrate()
        async let second = database.store(1).migrate()
        let applied = try await [first, second]
        #expect(applied.sorted { $0.count < $1.count } == [[], [1, 2, 3, 4]])
        #expect(try await database.store(0).migrate() == [])
        #expect(try await database.count("SELECT count(*)::bigint FROM schema_migrations") == 4)
        #expect(
            try await database.count(
                "SELECT count(*)::bigint FROM information_schema.tables WHERE table_name IN ('hourly_snapshots', 'window_checkpoints', 'controller_decisions')"
            ) == 3
        )
    }

    @Test func aSnapshotIsWrittenExactlyOnceByRacingStoresAndReplays() async throws {
        let database = try await TestDatabase(clients: 2)
        defer { database.stop() }
        try await database.store().migrate()
        let value = snapshot()
        async let a = database.store(0).write(value)
        async let b = database.store(1).write(value)
        let results = try await [a, b]
        #expect(results.filter { $0 }.count == 1)
        // The row records when it was written (migration 003), by the database's clock, just now.
        #expect(
            try await database.count(
                "SELECT count(*)::bigint FROM hourly_snapshots WHERE written_at BETWEEN now() - interval '1 minute' AND clock_timestamp()"
            ) == 1
        )
        // Replayed after a restart, with different contents: still the first row, unchanged.
        #expect(try await database.store(0).write(snapshot(samples: 10, mean: 99)) == false)
        #expect(try await database.count("SELECT count(*)::bigint FROM hourly_snapshots") == 1)
        let stored = try await database.store().snapshots(boilerID: b1, fromMs: hour0, toMs: hour0 + hourMs)
        #expect(stored == [value])
        #expect(try await database.store().latestSnapshots() == [value])
    }

    @Test func lateReadingsAreCountedOnTheClosedRow() async throws {
        let database = try await TestDatabase()
        defer { database.stop() }
        let store = database.store()
        try await store.migrate()
        try await store.write(snapshot())
        let updated = try await store.addLate([
            LateIncrement(
                id: "w1-1",
                readings: [
                    .init(boilerID: b1, hourStartMs: hour0, count: 5),
                    .init(boilerID: b1, hourStartMs: hour0 + hourMs, count: 2),  // no such row: nothing changes
                ]
            )
        ])
        #expect(updated == 1)
        let row = try await store.snapshots(boilerID: b1, fromMs: hour0, toMs: hour0 + 2 * hourMs)
        #expect(row.map(\.lateSamples) == [5])
        #expect(row.first?.meanC == 61.25 && row.first?.samples == 360_000)
    }

    /// Late counts queue up while PostgreSQL is away, several for one row, and a write that timed out may have
    /// committed: every count must land once, none twice.
    @Test func lateIncrementsAddUpAndARetriedOneCountsOnce() async throws {
        let database = try await TestDatabase()
        defer { database.stop() }
        let store = database.store()
        try await store.migrate()
        try await store.write(snapshot())
        let queued = [
            LateIncrement(id: "w1-1", readings: [.init(boilerID: b1, hourStartMs: hour0, count: 5)]),
            LateIncrement(id: "w1-2", readings: [.init(boilerID: b1, hourStartMs: hour0, count: 3)]),
        ]
        #expect(try await store.addLate(queued) == 1)
        #expect(try await store.snapshots(boilerID: b1, fromMs: hour0, toMs: hour0 + hourMs).map(\.lateSamples) == [8])
        // The same two again (the first attempt's answer was lost), with one new: only the new one counts.
        let retried = queued + [LateIncrement(id: "w1-3", readings: [.init(boilerID: b1, hourStartMs: hour0, count: 1)])]
        #expect(try await store.addLate(retried) == 1)
        #expect(try await store.snapshots(boilerID: b1, fromMs: hour0, toMs: hour0 + hourMs).map(\.lateSamples) == [9])
        #expect(try await store.addLate(retried) == 0)
        #expect(try await store.snapshots(boilerID: b1, fromMs: hour0, toMs: hour0 + hourMs).map(\.lateSamples) == [9])
    }

    @Test func checkpointsResumeAWindowAcrossACrash() async throws {
        let database = try await TestDatabase()
        defer { database.stop() }
        let store = database.store()
        try await store.migrate()
        // Worker 1 ingests 1,000 readings of hour0 and checkpoints, then dies without closing anything.
        var before = HourlyWindows()
        _ = before.add(try payload(seq: 0, firstMs: hour0, count: 1_000, value: 60), wallMs: hour0)
        try await store.saveCheckpoints(before.openWindows)
        _ = before.add(try payload(seq: 1_000, firstMs: hour0 + 10_000, count: 500, value: 70), wallMs: hour0)  // lost

        // Worker 2 resumes from the checkpoint and ingests the rest of the hour.
        var after = HourlyWindows()
        for checkpoint in try await store.loadCheckpoints() {
            after.restore(boilerID: checkpoint.boilerID, accumulator: checkpoint.accumulator, wallMs: hour0)
        }
        _ = after.add(try payload(seq: 2_000, firstMs: hour0 + 20_000, count: 1_000, value: 63), wallMs: hour0)
        _ = after.add(try payload(seq: 3_000, firstMs: hour0 + 30_000, count: 1_000, value: 63), wallMs: hour0)
        _ = after.add(try payload(seq: 9_000, firstMs: hour0 + hourMs + 6_000, count: 1, value: 60), wallMs: hour0)
        let closed = after.drainClosed()
        #expect(closed.count == 1)
        for snapshot in closed { try await store.write(snapshot) }
        let row = try #require(try await store.snapshots(boilerID: b1, fromMs: hour0, toMs: hour0 + hourMs).first)
        #expect(row.samples == 3_000)
        #expect(abs((row.meanC ?? 0) - 62.0) < 1e-9)
        #expect(row.coverage == 3_000.0 / 360_000.0)
        // The closed hour's checkpoint went with the row: a third start resumes nothing for it.
        #expect(try await store.loadCheckpoints().filter { $0.accumulator.hourStartMs == hour0 }.isEmpty)
    }

    @Test func aCheckpointSetResumesOpenHoursAndDropsWrittenOnes() async throws {
        let database = try await TestDatabase()
        defer { database.stop() }
        let store = database.store()
        try await store.migrate()
        var windows = HourlyWindows()
        for index in 0..<1_000 {
            _ = windows.add(try payload(BoilerID("b\(10_000 + index)")!, seq: 0, firstMs: hour0, count: 10, value: 60 + Double(index % 7)), wallMs: hour0)
        }
        let open = windows.openWindows
        try await store.saveCheckpointSet(owner: "w1", open)
        try await store.saveCheckpointSet(owner: "w1", open)
        #expect(try await database.count("SELECT count(*)::bigint FROM window_checkpoint_sets") == 1)
        // One of the hours got written after the flush: it is not resumed.
        let written = try #require(open.first)
        try await store.write(written.accumulator.snapshot(boilerID: written.boilerID, closedAtMs: hour0 + hourMs))
        let loaded = try await store.loadCheckpointSet(owner: "w1")
        #expect(loaded.count == 999)
        #expect(loaded.map(\.boilerID) == Array(open.dropFirst()).map(\.boilerID))
        #expect(loaded.map(\.accumulator) == Array(open.dropFirst()).map(\.accumulator))
        #expect(try await store.loadCheckpointSet(owner: "nobody").isEmpty)
    }

    @Test func flushingOneThousandCheckpointsIsOneStatement() async throws {
        let database = try await TestDatabase()
        defer { database.stop() }
        let store = database.store()
        try await store.migrate()
        var windows = HourlyWindows()
        for index in 0..<1_000 {
            _ = windows.add(try payload(BoilerID("b\(10_000 + index)")!, seq: 0, firstMs: hour0, count: 10, value: 60), wallMs: hour0)
        }
        try await store.saveCheckpoints(windows.openWindows)
        try await store.saveCheckpoints(windows.openWindows)
        #expect(try await database.count("SELECT count(*)::bigint FROM window_checkpoints") == 1_000)
        #expect(try await store.loadCheckpoints().count == 1_000)
    }
}

@Suite(.enabled(if: TestServices.runPostgres))
struct DecisionStoreTests {
    func row(_ boiler: String, tick: Int64, trusted: Bool = true) -> DecisionRow {
        DecisionRow(
            decisionID: "\(boiler):\(tick)", boilerID: boiler, tickAtMs: tick, trusted: trusted,
            reason: trusted ? "lower" : "no-snapshot", currentC: 62, hourlyMeanC: trusted ? 60 : nil,
            deltaC: trusted ? 2 : nil, roomSetpointC: trusted ? 19.6 : nil, published: trusted
        )
    }

    @Test func decisionsAreRecordedOnceQueriedByRangeAndPrunedByRetention() async throws {
        let database = try await TestDatabase()
        defer { database.stop() }
        let store = database.store()
        try await store.migrate()
        let day: Int64 = 86_400_000
        let old = row("b1", tick: hour0 - 31 * day)
        let recent = row("b1", tick: hour0)
        let untrusted = row("b2", tick: hour0, trusted: false)
        #expect(try await store.recordDecisions([old, recent, untrusted]) == 3)
        #expect(try await store.recordDecisions([recent]) == 0)
        #expect(try await store.decisions(boilerID: "b1", fromMs: hour0, toMs: hour0 + 1) == [recent])
        #expect(try await store.decisions(boilerID: "b2", fromMs: 0, toMs: .max / 2) == [untrusted])
        // 30 days of retention before the tick: the 31-day-old decision goes, the others stay.
        #expect(try await store.pruneDecisions(olderThan: 30 * day, nowMs: hour0) == 1)
        #expect(try await database.count("SELECT count(*)::bigint FROM controller_decisions") == 2)
    }
}

/// A decoded batch of `count` equal readings, 10 ms apart.
func payload(_ boiler: BoilerID = b1, seq: UInt64, firstMs: Int64, count: Int, value: Double) throws -> TelemetryPayload {
    let values = Array(repeating: "\(value)", count: min(count, 1_000)).joined(separator: ",")
    let json = #"{"v":1,"boot":"a","seq":\#(seq),"ts_ms":\#(firstMs),"period_ms":10,"water_c":[\#(values)]}"#
    return try TelemetryDecoder().decode(Array(json.utf8), boilerID: boiler, nowMs: .max / 2)
}
