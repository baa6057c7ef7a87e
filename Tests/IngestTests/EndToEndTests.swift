import BoilerService
import Foundation
import HeatingControl
import Logging
import MQTT
import PostgresNIO
import RingStream
import ServiceLifecycle
import SnapshotStore
import Telemetry
import TestSupport
import Testing

/// The whole loop with real parts: `boiler-sim` (the built executable, as a child process) publishes a fleet's
/// readings to the real mosquitto with faults injected; boilerd's services (ingestion, snapshots, controller)
/// run in-process against the real PostgreSQL; every snapshot row must equal the simulator's ground truth, the
/// injected duplicates and malformed payloads must be counted as such, and the setpoints the controller sent must
/// be the ones the simulated boilers applied.
@Suite(.enabled(if: TestServices.runMQTT || TestServices.runPostgres))
struct EndToEndTests {
    /// The simulator next to the test binary (`swift build` puts both in the same folder), or $BOILER_SIM.
    static var simulatorPath: String {
        if let path = ProcessInfo.processInfo.environment["BOILER_SIM"] { return path }
        return TestServices.builtProduct("boiler-sim")
    }

    /// One line of the truth file.
    struct TruthLine: Decodable {
        var boiler_id: String
        var hour_start_ms: Int64
        var samples: UInt64
        var mean_c: Double?
        var min_c: Double?
        var max_c: Double?
        var duplicates: UInt64
    }

    struct Summary: Decodable {
        struct Faults: Decodable {
            var duplicate_readings: UInt64
            var duplicate_messages: UInt64
            var malformed_messages: UInt64
            var malformed_by_reason: [String: UInt64]
            var dropped_messages: UInt64
            var reordered_messages: UInt64
        }
        var readings_delivered: UInt64
        var faults: Faults
        var setpoints_applied: Int
        var applied_decisions: [String: [String]]
    }

    @Test func twentySimulatedBoilersForTwoHoursGiveSnapshotRowsEqualToTheTruth() async throws {
        let mqttURL = try TestServices.requireMQTT()
        let simulator = Self.simulatorPath
        try #require(FileManager.default.isExecutableFile(atPath: simulator), "build it first: swift build --product boiler-sim (looked at \(simulator))")
        var logger = Logger(label: "e2e-test")
        logger.logLevel = .error
        let database = try await TestServices.makeDatabase(logger: logger)
        let client = PostgresClient(configuration: database)
        let clientTask = Task { await client.run() }
        defer { clientTask.cancel() }
        let store = SnapshotStore(client: client, logger: logger)
        try await store.migrate()

        // boilerd's services, on a topic prefix of their own.
        let prefix = "e2e\(UInt32.random(in: 0...UInt32.max))"
        let telemetry = try RingStream(
            configuration: .init(name: "TELEMETRY", subjects: ["boiler.*.telemetry"], maxMessages: 400_000, maxBytes: 64 << 20)
        )
        let decisions = try RingStream(configuration: .init(name: "DECISIONS", subjects: ["boiler.*.setpoint"], maxMessages: 100_000, maxBytes: 32 << 20))
        let snapshots = try RingStream(configuration: .init(name: "SNAPSHOTS", subjects: ["boiler.*.hourly-snapshot"], maxMessages: 10_000, maxBytes: 16 << 20))
        let layout = try TopicLayout(filter: "\(prefix)/+/telemetry")
        let ingest = try IngestService(
            configuration: .init(mqtt: .init(url: mqttURL, clientID: "\(prefix)-boilerd")),
            logger: logger
        ) { _ in
            // A short idle allowance, so the last hour closes soon after the simulator stops.
            IngestPipeline(layout: layout, windows: .init(idleAllowanceMs: 1_000), stream: telemetry, logger: logger)
        }
        let snapshotter = SnapshotService(
            configuration: .init(tickInterval: .milliseconds(100), topicPrefix: prefix),
            store: store, pipeline: ingest.pipeline, snapshotStream: snapshots, mqtt: ingest.client, logger: logger
        )
        let controller = ControlService(
            configuration: .init(pollInterval: .milliseconds(50), topicPrefix: prefix),
            telemetry: telemetry, decisions: decisions, pipeline: ingest.pipeline, store: store, mqtt: ingest.client,
            logger: logger
        )
        let group = ServiceGroup(services: [ingest, snapshotter, controller], gracefulShutdownSignals: [], logger: logger)
        let groupTask = Task { try await group.run() }
        defer { groupTask.cancel() }
        try await ingest.client.waitForConnection()
        // Subscribing again while connected waits for the broker's SUBACK: from here on nothing is missed.
        try await ingest.client.subscribe(layout.filter)

        // 20 boilers, 2 event hours of readings every 500 ms in messages of 4, at 360x (20 s of wall time), with
        // duplicates, malformed payloads, drops, reordering and one clock 2 s ahead.
        let truthPath = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-truth.jsonl").path
        defer { try? FileManager.default.removeItem(atPath: truthPath) }
        let run = try ChildProcess([
            simulator, "--mqtt-url", mqttURL, "--boilers", "20", "--period-ms", "500", "--batch", "4", "--duration", "2h",
            "--accel", "360", "--seed", "42", "--id-prefix", "\(prefix)b", "--topic-prefix", prefix,
            "--faults", "duplicate=0.01,malformed=0.005,drop=0.002,reorder=0.005,skew=+2s@\(prefix)b0003",
            "--truth", truthPath, "--progress-interval", "600",
        ])
        let status = await run.wait(timeout: .seconds(180)).status
        #expect(status == 0, "boiler-sim exited with \(status)")
        let lines = try String(contentsOfFile: truthPath, encoding: .utf8).split(separator: "\n")
        let decoder = JSONDecoder()
        let truth = try lines.dropLast().map { try decoder.decode(TruthLine.self, from: Data($0.utf8)) }
        let summary = try decoder.decode(Summary.self, from: Data(try #require(lines.last).utf8))
        #expect(truth.count == 40)

        // Every boiler-hour of the truth gets its row (the last hour closes by the wall clock once traffic stops).
        var rows: [String: HourlySnapshot] = [:]
        let deadline = ContinuousClock.now + .seconds(60)
        while rows.count < truth.count && ContinuousClock.now < deadline {
            for line in truth where rows["\(line.boiler_id)@\(line.hour_start_ms)"] == nil {
                let found = try await store.snapshots(boilerID: BoilerID(line.boiler_id)!, fromMs: line.hour_start_ms, toMs: line.hour_start_ms + 1)
                if let row = found.first { rows["\(line.boiler_id)@\(line.hour_start_ms)"] = row }
            }
            if rows.count < truth.count { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(rows.count == truth.count, "rows written for \(rows.count) of \(truth.count) boiler-hours")
        for line in truth {
            guard let row = rows["\(line.boiler_id)@\(line.hour_start_ms)"] else { continue }
            #expect(row.samples == line.samples, "\(line.boiler_id) \(line.hour_start_ms)")
            #expect(row.minC == line.min_c && row.maxC == line.max_c, "\(line.boiler_id) \(line.hour_start_ms)")
            let mean = try #require(row.meanC), expected = try #require(line.mean_c)
            #expect(abs(mean - expected) <= 1e-9 * abs(expected), "\(line.boiler_id) \(line.hour_start_ms): \(mean) vs \(expected)")
            #expect(row.duplicates == line.duplicates, "\(line.boiler_id) \(line.hour_start_ms)")
            #expect(row.lateSamples == 0)
            #expect(row.expectedSamples == 7_200)
        }

        // Duplicates and rejections counted exactly as injected; everything delivered is in the stream.
        let statistics = ingest.pipeline.statistics
        let faults = summary.faults
        #expect(faults.duplicate_messages > 0 && faults.malformed_messages > 0 && faults.dropped_messages > 0 && faults.reordered_messages > 0)
        #expect(statistics.duplicates == faults.duplicate_readings)
        #expect(statistics.readingsIngested == summary.readings_delivered)
        #expect(statistics.rejections.total == faults.malformed_messages)
        for (reason, count) in faults.malformed_by_reason {
            let known = try #require(RejectionReason(rawValue: reason))
            #expect(statistics.rejections[known] == count, "\(reason)")
        }

        // The controller's published commands are the ones the boilers applied (a command sent in the last moment
        // may miss a boiler that had already stopped: at most one per boiler).
        var published: [String: Set<String>] = [:]
        for index in 0..<20 {
            let id = "\(prefix)b" + String(format: "%04d", index)
            let made = try await store.decisions(boilerID: id, fromMs: 0, toMs: Int64.max / 2)
            published[id] = Set(made.filter(\.published).map(\.decisionID))
        }
        let publishedCount = published.values.reduce(0) { $0 + $1.count }
        #expect(summary.setpoints_applied > 0, "the controller sent no setpoint the boilers applied")
        for (id, applied) in summary.applied_decisions {
            #expect(Set(applied).isSubset(of: published[id] ?? []), "\(id) applied decisions the controller never published")
        }
        #expect(summary.setpoints_applied >= publishedCount - 20, "applied \(summary.setpoints_applied) of \(publishedCount) published")
        await group.triggerGracefulShutdown()
        try await groupTask.value
    }

    /// With a connection per boiler, each boiler's status is `online` while it runs and, when the simulator is
    /// killed, `offline` by its last will (read back with the real mosquitto_sub).
    @Test func aKilledBoilersLastWillMarksItOffline() async throws {
        let mqttURL = try TestServices.requireMQTT()
        let simulator = Self.simulatorPath
        try #require(FileManager.default.isExecutableFile(atPath: simulator), "build it first: swift build --product boiler-sim")
        let prefix = "will\(UInt32.random(in: 0...UInt32.max))"
        func statuses() async throws -> [String] {
            let subscriber = try ChildProcess(["mosquitto_sub", "-L", "\(mqttURL)/\(prefix)/+/status", "-v", "-C", "2"])
            return await subscriber.wait(timeout: .seconds(3)).output.split(separator: "\n").map(String.init).sorted()
        }
        let sim = try ChildProcess([
            simulator, "--mqtt-url", mqttURL, "--boilers", "2", "--connection-per-boiler", "--duration", "1h", "--topic-prefix", prefix,
        ])
        var online: [String] = []
        for _ in 0..<50 where online.count < 2 {
            try await Task.sleep(for: .milliseconds(100))
            online = try await statuses()
        }
        #expect(online == ["\(prefix)/b0000/status online", "\(prefix)/b0001/status online"])
        _ = sim.finish()  // SIGKILL: no clean disconnect, so the broker publishes the wills
        var offline: [String] = []
        for _ in 0..<50 where offline != ["\(prefix)/b0000/status offline", "\(prefix)/b0001/status offline"] {
            try await Task.sleep(for: .milliseconds(100))
            offline = try await statuses()
        }
        #expect(offline == ["\(prefix)/b0000/status offline", "\(prefix)/b0001/status offline"])
    }
}
