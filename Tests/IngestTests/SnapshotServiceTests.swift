import BoilerService
import Foundation
import Logging
import MetricsTestKit
import MQTT
import PostgresNIO
import RingStream
import SnapshotStore
import Synchronization
import Telemetry
import TestSupport
import Testing

/// The snapshotter against its own PostgreSQL (started by services.sh in a private state folder, so stopping it
/// disturbs no other test): PostgreSQL stopped mid-run and started again loses and duplicates nothing.
@Suite(.enabled(if: TestServices.runPostgres))
struct SnapshotServiceTests {
    /// 2025-11-26T14:00:00Z.
    static let hour0: Int64 = 1_764_165_600_000

    final class Clock: Sendable {
        let ms = Atomic<Int64>(SnapshotServiceTests.hour0)
        var wall: WallClock { WallClock { self.ms.load(ordering: .relaxed) } }
        func advance(_ delta: Int64) { self.ms.wrappingAdd(delta, ordering: .relaxed) }
    }

    /// A pipeline on a small telemetry stream of its own, as a worker (re)started by a test.
    func makePipeline(_ clock: Clock, _ logger: Logger) throws -> IngestPipeline {
        let telemetry = try RingStream(configuration: .init(name: "TELEMETRY", subjects: ["boiler.*.telemetry"], maxMessages: 10_000, maxBytes: 4 << 20))
        return IngestPipeline(
            decoder: TelemetryDecoder(configuration: .init(maximumFutureSkewMs: .max / 4)),
            stream: telemetry,
            clock: clock.wall,
            logger: logger
        )
    }

    /// A fresh database of the test cluster, migrated, with its client (cancel `task` when done).
    func makeStore(_ logger: Logger) async throws -> (store: SnapshotStore, client: PostgresClient, task: Task<Void, Never>, name: String) {
        let configuration = try await TestServices.makeDatabase(logger: logger)
        let client = PostgresClient(configuration: configuration)
        let task = Task { await client.run() }
        let store = SnapshotStore(client: client, logger: logger)
        try await store.migrate()
        return (store, client, task, configuration.database ?? "test")
    }

    func feed(_ pipeline: IngestPipeline, boiler: String, seq: Int, firstMs: Int64, values: [Double]) {
        feedBatch(pipeline, boiler: boiler, seq: seq, firstMs: firstMs, values: values)
    }

    @Test func postgresStoppedAndRestartedLosesAndDuplicatesNothing() async throws {
        _ = try TestServices.requirePostgres()
        let postgres = PrivateServices("pg-restart")
        #expect(await postgres.run("start-postgres") == 0)
        defer { postgres.stop() }
        let port = try postgres.port("pg")
        var logger = Logger(label: "snapshot-service-test")
        logger.logLevel = .error
        let client = PostgresClient(configuration: try SnapshotStore.configuration(url: "postgres://boiler:boiler@127.0.0.1:\(port)/boiler"))
        let clientTask = Task { await client.run() }
        defer { clientTask.cancel() }
        let store = SnapshotStore(client: client, logger: logger)
        try await store.migrate()

        let clock = Clock()
        let metrics = TestMetrics()
        let telemetry = try RingStream(configuration: .init(name: "TELEMETRY", subjects: ["boiler.*.telemetry"], maxMessages: 100_000, maxBytes: 16 << 20))
        let snapshots = try RingStream(configuration: .init(name: "SNAPSHOTS", subjects: ["boiler.*.hourly-snapshot"], maxMessages: 10_000, maxBytes: 16 << 20))
        let pipeline = IngestPipeline(
            decoder: TelemetryDecoder(configuration: .init(maximumFutureSkewMs: .max / 4)),
            stream: telemetry,
            clock: clock.wall,
            logger: logger
        )
        let service = SnapshotService(
            configuration: .init(maximumPending: 2, retryDelayMs: 100, retryDelayMaximumMs: 400, statementTimeout: .seconds(1)),
            store: store,
            pipeline: pipeline,
            snapshotStream: snapshots,
            clock: clock.wall,
            logger: logger,
            metricsFactory: metrics
        )
        let boilers = ["b1", "b2", "b3"]
        for boiler in boilers { self.feed(pipeline, boiler: boiler, seq: 0, firstMs: Self.hour0, values: [60, 61, 62]) }
        await service.tick()
        #expect(service.statistics.checkpointFlushes == 1)

        // PostgreSQL goes away; the hour closes meanwhile (each boiler's watermark passes it).
        #expect(await postgres.run("stop-postgres") == 0)
        for boiler in boilers { self.feed(pipeline, boiler: boiler, seq: 3, firstMs: Self.hour0 + hourMs + 6_000, values: [63]) }
        clock.advance(1_000)
        await service.tick()
        // The queue holds 2: the third closed hour waits in the windows, not dropped; the service says not ready.
        #expect(service.statistics.pending == 2)
        #expect(pipeline.withWindows { $0.closedCount } == 1)
        #expect(service.statistics.writeFailures >= 1)
        #expect(try metrics.expectCounter("boiler_snapshot_write_failures_total").totalValue >= 1)
        #expect(try metrics.expectGauge("boiler_snapshots_pending").lastValue == 2)
        #expect(!service.isReady)
        // Ingestion goes on, and late readings for the pending hour are kept with it.
        self.feed(pipeline, boiler: "b1", seq: 4, firstMs: Self.hour0 + hourMs + 7_000, values: [64])
        self.feed(pipeline, boiler: "b1", seq: 100, firstMs: Self.hour0 + 1_000, values: [99, 99])
        #expect(pipeline.statistics.readingsIngested == 3 * 3 + 3 + 1 + 2)
        for _ in 0..<3 {
            clock.advance(1_000)
            await service.tick()
        }
        #expect(service.statistics.pending == 2)

        #expect(await postgres.run("start-postgres") == 0)
        // PostgresNIO's pool reconnects with its own backoff (100 ms x 1.25^n, at most 60 s): wait for it.
        // An insert that committed but whose answer was lost (the 1-s statement timeout on a PostgreSQL just
        // restarted, CI at 2026-11-28 12:03 UTC) is retried and finds its row: counted as already present, not
        // written. Either way each boiler-hour is in the table once, which the rows below check.
        let deadline = ContinuousClock.now + .seconds(90)
        var settled: UInt64 { service.statistics.written + service.statistics.alreadyPresent }
        while (service.statistics.pending > 0 || settled < 3) && ContinuousClock.now < deadline {
            clock.advance(1_000)
            await service.tick()
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(service.statistics.pending == 0)
        #expect(pipeline.withWindows { $0.closedCount } == 0)
        #expect(service.isReady)
        #expect(settled == 3)
        #expect(try metrics.expectCounter("boiler_snapshots_written_total").totalValue == Int64(service.statistics.written))
        #expect(try metrics.expectCounter("boiler_snapshots_already_present_total").totalValue == Int64(service.statistics.alreadyPresent))
        #expect(try metrics.expectGauge("boiler_snapshots_pending").lastValue == 0)
        let rows = try await store.latestSnapshots()
        #expect(rows.map(\.boilerID.rawValue).sorted() == boilers)
        #expect(rows.allSatisfy { $0.hourStartMs == Self.hour0 && $0.samples == 3 && $0.meanC == 61 })
        #expect(rows.first { $0.boilerID.rawValue == "b1" }?.lateSamples == 2)
        // Ticking on writes nothing twice; each boiler-hour is in the snapshot stream once.
        let (written, alreadyPresent) = (service.statistics.written, service.statistics.alreadyPresent)
        clock.advance(1_000)
        await service.tick()
        #expect(service.statistics.written == written && service.statistics.alreadyPresent == alreadyPresent)
        #expect(snapshots.info().messages == 3)
        for boiler in boilers { #expect(snapshots.lastSequence(subject: "boiler.\(boiler).hourly-snapshot") > 0) }
    }

    /// A service dropped without a clean shutdown, and a new one on the same database: the hour's row has the
    /// readings checkpointed before the drop plus those ingested after the restart; the snapshot is announced
    /// retained on MQTT once it closes.
    @Test(.enabled(if: TestServices.runMQTT))
    func aServiceDroppedMidHourResumesFromItsCheckpoint() async throws {
        var logger = Logger(label: "snapshot-resume-test")
        logger.logLevel = .error
        let (store, _, clientTask, name) = try await self.makeStore(logger)
        defer { clientTask.cancel() }
        let mqtt = try MQTTClient(configuration: .init(url: try TestServices.requireMQTT(), clientID: "resume-\(name)"), logger: logger) { _ in }
        try await mqtt.connect()
        defer { mqtt.disconnect() }
        let boiler = "res\(UInt32.random(in: 0...UInt32.max))"
        let clock = Clock()

        func makeService() throws -> (IngestPipeline, SnapshotService) {
            let pipeline = try self.makePipeline(clock, logger)
            let service = SnapshotService(store: store, pipeline: pipeline, mqtt: mqtt, clock: clock.wall, logger: logger)
            return (pipeline, service)
        }

        // Worker 1: 4 readings at 60 °C, checkpointed; then 2 more that no checkpoint saw; then it is dropped.
        let (pipeline1, service1) = try makeService()
        self.feed(pipeline1, boiler: boiler, seq: 0, firstMs: Self.hour0, values: [60, 60, 60, 60])
        await service1.tick()
        self.feed(pipeline1, boiler: boiler, seq: 4, firstMs: Self.hour0 + 40, values: [99, 99])
        _ = service1  // dropped here: no flush, no shutdown

        // Worker 2 restores and ingests 4 readings at 66 °C, then the hour closes.
        let (pipeline2, service2) = try makeService()
        try await service2.restore()
        self.feed(pipeline2, boiler: boiler, seq: 6, firstMs: Self.hour0 + 60_000, values: [66, 66, 66, 66])
        self.feed(pipeline2, boiler: boiler, seq: 10, firstMs: Self.hour0 + hourMs + 6_000, values: [61])
        clock.advance(1_000)
        await service2.tick()

        let rows = try await store.snapshots(boilerID: BoilerID(boiler)!, fromMs: Self.hour0, toMs: Self.hour0 + hourMs)
        #expect(rows.count == 1)
        #expect(rows.first?.samples == 8)
        #expect(rows.first?.meanC == 63)
        #expect(rows.first?.coverage == 8.0 / 360_000.0)
        // Announced retained on MQTT, read with the real mosquitto_sub.
        let url = try TestServices.requireMQTT()
        let subscriber = try ChildProcess(["mosquitto_sub", "-L", "\(url)/boilers/\(boiler)/snapshot/hourly", "-C", "1"])
        let output = await subscriber.wait(timeout: .seconds(5)).output
        let event = try HourlySnapshot(decoding: Array(output.trimmingCharacters(in: .whitespacesAndNewlines).utf8))
        #expect(event.samples == 8 && event.hourStartMs == Self.hour0 && event.meanC == 63)
    }

    /// The hole a checkpoint could open: an hour closes, its row cannot be written (INSERT revoked on
    /// `hourly_snapshots`, while checkpoints can still be saved), and the service is dropped. The checkpoints in
    /// between must not have replaced the one that still holds the hour, so the restarted service writes it.
    @Test func aCrashWhileAClosedHourWaitsForItsRowLosesNotTheHour() async throws {
        var logger = Logger(label: "snapshot-deferred-checkpoint-test")
        logger.logLevel = .critical
        let (store, client, clientTask, _) = try await self.makeStore(logger)
        defer { clientTask.cancel() }
        let clock = Clock()
        let metrics = TestMetrics()

        func makeService() throws -> (IngestPipeline, SnapshotService) {
            let pipeline = try self.makePipeline(clock, logger)
            let service = SnapshotService(
                configuration: .init(retryDelayMs: 100, retryDelayMaximumMs: 60_000, statementTimeout: .seconds(2)),
                store: store,
                pipeline: pipeline,
                clock: clock.wall,
                logger: logger,
                metricsFactory: metrics
            )
            return (pipeline, service)
        }

        // Worker 1 checkpoints the open hour with its 4 readings.
        let (pipeline1, service1) = try makeService()
        self.feed(pipeline1, boiler: "b1", seq: 0, firstMs: Self.hour0, values: [60, 60, 60, 60])
        await service1.tick()
        #expect(service1.statistics.checkpointFlushes == 1)

        // Rows can no longer be inserted; the hour closes and waits.
        _ = try await client.query("REVOKE INSERT ON hourly_snapshots FROM CURRENT_USER", logger: logger).collect()
        self.feed(pipeline1, boiler: "b1", seq: 4, firstMs: Self.hour0 + hourMs + 6_000, values: [70])
        clock.advance(1_000)
        await service1.tick()
        #expect(service1.statistics.pending == 1)
        #expect(service1.statistics.writeFailures >= 1)

        // Checkpoints fall due (they could be saved): each is deferred instead, the write retried first.
        for _ in 0..<3 {
            clock.advance(6_000)
            await service1.tick()
        }
        #expect(service1.statistics.pending == 1)
        #expect(service1.statistics.checkpointFlushes == 1)
        #expect(service1.statistics.checkpointsDeferred == 3)
        #expect(try metrics.expectCounter("boiler_checkpoints_deferred_total").totalValue == 3)
        #expect(service1.statistics.writeFailures >= 4, "the write is retried at each deferred checkpoint")
        _ = service1  // dropped here: no flush, no shutdown

        // Rows can be inserted again; worker 2 restores the hour from the checkpoint and writes it once.
        _ = try await client.query("GRANT INSERT ON hourly_snapshots TO CURRENT_USER", logger: logger).collect()
        let (pipeline2, service2) = try makeService()
        try await service2.restore()
        self.feed(pipeline2, boiler: "b1", seq: 5, firstMs: Self.hour0 + hourMs + 7_000, values: [70])
        clock.advance(1_000)
        await service2.tick()
        let rows = try await store.snapshots(boilerID: BoilerID("b1")!, fromMs: Self.hour0, toMs: Self.hour0 + hourMs)
        #expect(rows.count == 1)
        #expect(rows.first?.samples == 4)
        #expect(rows.first?.meanC == 60)
        #expect(service2.statistics.checkpointFlushes == 1, "with the row written, checkpoints are saved again")
    }

    /// Late readings for a written row queue up while their update fails, one increment per tick; when it works
    /// again every count lands once. (PostgreSQL's `UPDATE ... FROM` applies one source row per target row:
    /// before the counts were summed per row, two queued counts for one row kept only one.)
    @Test func lateCountsQueuedAcrossTicksAllLandOnce() async throws {
        var logger = Logger(label: "snapshot-late-test")
        logger.logLevel = .critical
        let (store, client, clientTask, _) = try await self.makeStore(logger)
        defer { clientTask.cancel() }
        let clock = Clock()
        let pipeline = try self.makePipeline(clock, logger)
        let service = SnapshotService(
            configuration: .init(retryDelayMs: 100, retryDelayMaximumMs: 200, statementTimeout: .seconds(2)),
            store: store,
            pipeline: pipeline,
            clock: clock.wall,
            logger: logger
        )
        // The hour closes and its row is written.
        self.feed(pipeline, boiler: "b1", seq: 0, firstMs: Self.hour0, values: [60, 60, 60])
        self.feed(pipeline, boiler: "b1", seq: 3, firstMs: Self.hour0 + hourMs + 6_000, values: [70])
        clock.advance(1_000)
        await service.tick()
        #expect(service.statistics.written == 1)

        // Rows can no longer be updated: two ticks each bring late readings for the written hour.
        _ = try await client.query("REVOKE UPDATE ON hourly_snapshots FROM CURRENT_USER", logger: logger).collect()
        self.feed(pipeline, boiler: "b1", seq: 100, firstMs: Self.hour0 + 1_000, values: [61, 61])
        clock.advance(1_000)
        await service.tick()
        self.feed(pipeline, boiler: "b1", seq: 200, firstMs: Self.hour0 + 2_000, values: [62, 62, 62])
        clock.advance(1_000)
        await service.tick()
        #expect(service.statistics.writeFailures >= 2)
        #expect(service.statistics.lateApplied == 0)

        _ = try await client.query("GRANT UPDATE ON hourly_snapshots TO CURRENT_USER", logger: logger).collect()
        clock.advance(1_000)
        await service.tick()
        #expect(service.statistics.lateApplied == 5)
        let rows = try await store.snapshots(boilerID: BoilerID("b1")!, fromMs: Self.hour0, toMs: Self.hour0 + hourMs)
        #expect(rows.map(\.lateSamples) == [5])
        #expect(rows.first?.samples == 3)
        // Ticking on adds nothing twice.
        clock.advance(1_000)
        await service.tick()
        #expect(try await store.snapshots(boilerID: BoilerID("b1")!, fromMs: Self.hour0, toMs: Self.hour0 + hourMs).map(\.lateSamples) == [5])
    }
}
