import Foundation
import Logging
import PostgresNIO
import SnapshotStore
import Telemetry
import TestSupport
import Testing

/// The built `boilerd` as a real process against the real services: it becomes ready, ingests readings sent with
/// mosquitto_pub, answers its API, and on SIGTERM checkpoints its open windows and exits 0 within 10 s.
@Suite(.enabled(if: TestServices.runMQTT || TestServices.runPostgres))
struct BoilerdProcessTests {
    static var binary: String {
        TestServices.builtProduct("boilerd")
    }

    @Test func sigtermCheckpointsAndExitsZeroWithinTenSeconds() async throws {
        let mqttURL = try TestServices.requireMQTT()
        let baseURL = try TestServices.requirePostgres()
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build it first: swift build --product boilerd")
        var logger = Logger(label: "boilerd-process-test")
        logger.logLevel = .critical
        let database = try await TestServices.makeDatabase(logger: logger)
        let databaseURL = String(baseURL[..<(baseURL.lastIndex(of: "/") ?? baseURL.endIndex)]) + "/" + (database.database ?? "")
        let port = try TestServices.freeLoopbackPort()
        let prefix = "proc\(UInt32.random(in: 0...UInt32.max))"
        // Processes started from Swift's threads inherit blocked signals: unblock them before exec, so SIGTERM
        // reaches boilerd as it would from systemd or a shell.
        let unblockAndExec = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_UNBLOCK, range(1, 32)); os.execv(sys.argv[1], sys.argv[1:])"
        let boilerd = try ChildProcess([
            "BOILERD_DATABASE_URL=\(databaseURL)", "BOILERD_MQTT_URL=\(mqttURL)", "BOILERD_HTTP_PORT=\(port)",
            "BOILERD_MQTT_CLIENT_ID=\(prefix)", "BOILERD_TELEMETRY_FILTER=\(prefix)/+/telemetry", "BOILERD_TOPIC_PREFIX=\(prefix)",
            "BOILERD_MAX_FUTURE_SKEW_MS=100000000000000",
            "python3", "-c", unblockAndExec, Self.binary, "run",
        ])
        defer { _ = boilerd.finish() }
        var ready = false
        for _ in 0..<100 where !ready {
            ready = try run(["curl", "-sf", "http://127.0.0.1:\(port)/readyz"]).status == 0
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready, "boilerd never became ready")

        // Three readings of one open hour, sent with the real mosquitto_pub.
        let payload = #"{"v":1,"boot":"p","seq":0,"ts_ms":1764165600000,"period_ms":10,"water_c":[60.5,61,61.5]}"#
        #expect(try run(["mosquitto_pub", "-L", "\(mqttURL)/\(prefix)/b1/telemetry", "-q", "1", "-m", payload]).status == 0)
        var seen = ""
        for _ in 0..<50 where !seen.contains("61.5") {
            seen = try run(["curl", "-sf", "http://127.0.0.1:\(port)/v1/boilers/b1"]).output
            if !seen.contains("61.5") { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(seen.contains(#""water_c":61.5"#), "\(seen)")

        let start = ContinuousClock.now
        kill(boilerd.process.processIdentifier, SIGTERM)
        let exit = await boilerd.wait(timeout: .seconds(10))
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(exit.status == 0)

        // The open hour was checkpointed on the way out: 3 readings, mean 61.
        let client = PostgresClient(configuration: database)
        let clientTask = Task { await client.run() }
        defer { clientTask.cancel() }
        let checkpoints = try await SnapshotStore(client: client, logger: logger).loadCheckpointSet(owner: "boilerd")
        #expect(checkpoints.count == 1)
        #expect(checkpoints.first?.accumulator.samples == 3)
        #expect(checkpoints.first?.accumulator.mean == 61)
    }
}
