import Foundation
import Logging
import PostgresNIO
import SnapshotStore
import Telemetry
import TestSupport
import Testing

/// boilerd killed with SIGKILL mid-hour and started again, while boiler-sim keeps publishing at QoS 1 (real
/// processes, real broker and database). Every boiler-hour still gets exactly one row. A row's samples equal the
/// simulator's truth minus at most the readings that arrived since boilerd's last checkpoint (one interval, plus
/// the time its write takes), and what is missing is exactly what the row's coverage says.
@Suite(.enabled(if: TestServices.runMQTT && TestServices.runPostgres))
struct CrashRecoveryTests {
    @Test func sigkillMidHourLosesAtMostOneCheckpointIntervalAndCoverageSaysHowMuch() async throws {
        let mqttURL = try TestServices.requireMQTT()
        _ = try TestServices.requirePostgres()
        let simulator = TestServices.builtProduct("boiler-sim")
        try #require(FileManager.default.isExecutableFile(atPath: BoilerdLauncher.binary), "build it first: swift build --product boilerd")
        try #require(FileManager.default.isExecutableFile(atPath: simulator), "build it first: swift build --product boiler-sim")
        var logger = Logger(label: "crash-test")
        logger.logLevel = .critical
        let (databaseURL, database) = try await BoilerdLauncher.makeDatabase(logger: logger)
        let prefix = "crash\(UInt32.random(in: 0...UInt32.max))"
        let checkpointIntervalMs = 1_000
        // The same client id both times, with a persistent session (boilerd's default): the broker keeps what
        // is published while boilerd is down.
        let launcher = try BoilerdLauncher(
            mqttURL: mqttURL, databaseURL: databaseURL, prefix: prefix,
            extra: ["BOILERD_CHECKPOINT_INTERVAL_MS=\(checkpointIntervalMs)", "BOILERD_IDLE_ALLOWANCE_MS=1000"]
        )
        var boilerd = try launcher.start()
        defer { _ = boilerd.finish() }
        try await launcher.requireReady(boilerd)

        // 5 boilers, 2 event hours of readings every 500 ms in messages of 4, at 360x: 20 s of wall time, so
        // one checkpoint interval (1 s) carries 720 readings per boiler.
        let accel = 360
        let periodMs = 500
        let truthPath = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-truth.jsonl").path
        defer { try? FileManager.default.removeItem(atPath: truthPath) }
        let fleet = try ChildProcess([
            simulator, "--mqtt-url", mqttURL, "--boilers", "5", "--period-ms", "\(periodMs)", "--batch", "4", "--duration", "2h",
            "--accel", "\(accel)", "--seed", "11", "--id-prefix", "\(prefix)b", "--topic-prefix", prefix,
            "--truth", truthPath, "--progress-interval", "600",
        ])
        // Mid first hour (about 21 minutes of event time in): SIGKILL, no chance to checkpoint; then start again.
        try await Task.sleep(for: .seconds(3.5))
        _ = boilerd.finish()
        boilerd = try launcher.start()
        try await launcher.requireReady(boilerd, "boilerd did not become ready again")
        let status = await fleet.wait(timeout: .seconds(120)).status
        #expect(status == 0, "boiler-sim exited with \(status)")

        let lines = try String(contentsOfFile: truthPath, encoding: .utf8).split(separator: "\n")
        let decoder = JSONDecoder()
        let truth = try lines.dropLast().map { try decoder.decode(EndToEndTests.TruthLine.self, from: Data($0.utf8)) }
        #expect(truth.count == 10)

        let client = PostgresClient(configuration: database)
        let clientTask = Task { await client.run() }
        defer { clientTask.cancel() }
        let store = SnapshotStore(client: client, logger: logger)
        var rows: [String: [HourlySnapshot]] = [:]
        let deadline = ContinuousClock.now + .seconds(60)
        repeat {
            for line in truth {
                guard let id = BoilerID(line.boiler_id) else { continue }
                rows["\(line.boiler_id)@\(line.hour_start_ms)"] = try await store.snapshots(
                    boilerID: id, fromMs: line.hour_start_ms, toMs: line.hour_start_ms + 1
                )
            }
            if rows.values.allSatisfy({ $0.count == 1 }) { break }
            try await Task.sleep(for: .milliseconds(250))
        } while ContinuousClock.now < deadline

        // One checkpoint interval of readings, and the 250 ms a checkpoint's write may take: a kill during the
        // write falls back to the checkpoint before.
        let perInterval = UInt64((checkpointIntervalMs + 250) * accel / periodMs)
        var missing: UInt64 = 0
        for line in truth {
            let found = rows["\(line.boiler_id)@\(line.hour_start_ms)"] ?? []
            #expect(found.count == 1, "\(line.boiler_id) \(line.hour_start_ms): \(found.count) rows")
            guard let row = found.first else { continue }
            // Nothing counted twice, and at most one checkpoint interval's readings lost.
            #expect(row.samples <= line.samples, "\(line.boiler_id) \(line.hour_start_ms): \(row.samples) > truth \(line.samples)")
            let lost = line.samples - min(row.samples, line.samples)
            #expect(lost <= perInterval, "\(line.boiler_id) \(line.hour_start_ms): lost \(lost) > \(perInterval)")
            missing += lost
            // The row says what is missing: the truth has the whole hour, so expected - samples is the loss.
            #expect(row.expectedSamples == line.samples)
            #expect(row.expectedSamples - row.samples == lost)
            #expect(abs(row.coverage * Double(row.expectedSamples) - Double(row.samples)) < 1e-6)
        }
        // The report in the log: how much the kill cost (at most 5 boilers x one interval).
        print("CrashRecoveryTests: \(missing) readings lost by SIGKILL (bound \(perInterval * 5))")
    }
}
