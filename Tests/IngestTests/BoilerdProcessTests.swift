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
    static var binary: String { BoilerdLauncher.binary }

    @Test func sigtermCheckpointsAndExitsZeroWithinTenSeconds() async throws {
        let mqttURL = try TestServices.requireMQTT()
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build it first: swift build --product boilerd")
        var logger = Logger(label: "boilerd-process-test")
        logger.logLevel = .critical
        let (databaseURL, database) = try await BoilerdLauncher.makeDatabase(logger: logger)
        let prefix = "proc\(UInt32.random(in: 0...UInt32.max))"
        let launcher = try BoilerdLauncher(
            mqttURL: mqttURL, databaseURL: databaseURL, prefix: prefix, extra: ["BOILERD_MAX_FUTURE_SKEW_MS=100000000000000"]
        )
        let port = launcher.port
        let boilerd = try launcher.start()
        defer { _ = boilerd.finish() }
        try await launcher.requireReady(boilerd)

        // Three readings of one open hour, sent with the real mosquitto_pub.
        let payload = #"{"v":1,"boot":"p","seq":0,"ts_ms":1764165600000,"period_ms":10,"water_c":[60.5,61,61.5]}"#
        #expect(try await run(["mosquitto_pub", "-L", "\(mqttURL)/\(prefix)/b1/telemetry", "-q", "1", "-m", payload]).status == 0)
        var seen = ""
        for _ in 0..<50 where !seen.contains("61.5") {
            seen = try await run(["curl", "-sf", "http://127.0.0.1:\(port)/v1/boilers/b1"]).output
            if !seen.contains("61.5") { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(seen.contains(#""water_c":61.5"#), "\(seen)")

        let start = ContinuousClock.now
        kill(boilerd.processIdentifier, SIGTERM)
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

    /// Secrets given to boilerd (MQTT and database passwords, API token) appear in none of its output: not at
    /// trace level, not in the errors it logs while neither the broker nor the database can be reached, not in
    /// `check-config`.
    @Test func noSecretAppearsInLogsOrErrors() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build it first: swift build --product boilerd")
        let secrets = ["Mqtt-Secret-7431", "Pg-Secret-9902", "Api-Secret-5518"]
        // Nothing listens on these ports, so connecting fails and is retried and logged.
        let closedPort = try TestServices.freeLoopbackPort()
        let environment = [
            "BOILERD_MQTT_URL=mqtt://127.0.0.1:\(closedPort)", "BOILERD_MQTT_USERNAME=boilerd", "BOILERD_MQTT_PASSWORD=\(secrets[0])",
            "BOILERD_DATABASE_URL=postgres://boilerd@127.0.0.1:\(closedPort)/boilers", "BOILERD_DATABASE_PASSWORD=\(secrets[1])",
            "BOILERD_API_TOKEN=\(secrets[2])", "BOILERD_HTTP_PORT=\(try TestServices.freeLoopbackPort())", "BOILERD_LOG_LEVEL=trace",
        ]
        // Standard error joins standard output, where the test reads it.
        let withErrors = "import os, sys; os.dup2(1, 2); os.execv(sys.argv[1], sys.argv[1:])"
        let running = try ChildProcess(environment + ["python3", "-c", withErrors, Self.binary, "run"])
        // Until it has logged a failed connection (at most 30 s: a loaded machine starts it slowly), then 1 s more.
        let deadline = ContinuousClock.now + .seconds(30)
        while !running.outputSoFar.contains("127.0.0.1:\(closedPort)") && running.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .seconds(1))
        let log = running.finish().output
        #expect(log.contains("trace") || log.contains("debug") || log.contains("warning"), "boilerd logged nothing: \(log.prefix(500))")
        #expect(log.contains("127.0.0.1:\(closedPort)"), "the connection failures were not logged")
        let checked = try ChildProcess(environment + ["python3", "-c", withErrors, Self.binary, "check-config"])
        let report = await checked.wait(timeout: .seconds(10)).output
        #expect(report.contains("api-token = (set)"), "\(report)")
        for secret in secrets {
            #expect(!log.contains(secret), "\(secret) is in boilerd's log")
            #expect(!report.contains(secret), "\(secret) is in check-config's output")
        }
    }
}
