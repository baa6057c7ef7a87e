import Foundation
import PostgresNIO
import TestSupport
import Testing

/// Starts the built `boilerd` as a real process, configured through its environment, on a topic prefix of its own.
struct BoilerdLauncher {
    static var binary: String { TestServices.builtProduct("boilerd") }

    let environment: [String]
    let port: String

    /// `databaseURL` names a database made for the test; `extra` adds or overrides `BOILERD_*` settings.
    init(mqttURL: String, databaseURL: String, prefix: String, extra: [String] = []) throws {
        self.port = try TestServices.freeLoopbackPort()
        self.environment = [
            "BOILERD_DATABASE_URL=\(databaseURL)", "BOILERD_MQTT_URL=\(mqttURL)", "BOILERD_HTTP_PORT=\(self.port)",
            "BOILERD_MQTT_CLIENT_ID=\(prefix)", "BOILERD_TELEMETRY_FILTER=\(prefix)/+/telemetry", "BOILERD_TOPIC_PREFIX=\(prefix)",
        ] + extra
    }

    /// The URL of a new, empty database on the test cluster, with its client configuration.
    static func makeDatabase(logger: Logger) async throws -> (url: String, configuration: PostgresClient.Configuration) {
        let baseURL = try TestServices.requirePostgres()
        let database = try await TestServices.makeDatabase(logger: logger)
        let url = String(baseURL[..<(baseURL.lastIndex(of: "/") ?? baseURL.endIndex)]) + "/" + (database.database ?? "")
        return (url, database)
    }

    /// Starts boilerd (with no blocked signal, as `ChildProcess` starts every program, so SIGTERM reaches it as it
    /// would from systemd or a shell). Its log (standard error) goes to `logPath`, appended across restarts.
    func start() throws -> ChildProcess {
        let logAndExec = """
            import os, sys
            os.dup2(os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644), 2)
            os.execv(sys.argv[2], sys.argv[2:])
            """
        return try ChildProcess(self.environment + ["python3", "-c", logAndExec, self.logPath, Self.binary, "run"])
    }

    /// Where boilerd's log goes.
    var logPath: String { FileManager.default.temporaryDirectory.appendingPathComponent("boilerd-test-\(self.port).log").path }

    /// Waits until `/readyz` answers 200; returns whether it did within `timeout`.
    ///
    /// It asks at least once after the deadline has passed, as `IngestHarness.eventually` does: a test task can be
    /// kept from running for tens of seconds (two cores, and other tests' blocking waits holding the cooperative
    /// pool's threads), and it then woke past its deadline and failed without asking again. That was seen in CI
    /// at `b6ff8a7`: boilerd had logged "MQTT connected" in its first second, and the test reported it never ready.
    func waitUntilReady(timeout: Duration = .seconds(20)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            if try await run(["curl", "-sf", "http://127.0.0.1:\(self.port)/readyz"]).status == 0 { return true }
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Waits until `boilerd` is ready; if it is not within 40 s (a loaded machine), or it exits, fails with its
    /// status and the end of its output, so the reason is in the test report.
    func requireReady(_ boilerd: ChildProcess, _ what: String = "boilerd never became ready") async throws {
        let deadline = ContinuousClock.now + .seconds(40)
        repeat {
            if try await self.waitUntilReady(timeout: .seconds(1)) { return }
        } while ContinuousClock.now < deadline && boilerd.isRunning
        let (status, _) = boilerd.finish()
        let log = (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? "(no log at \(self.logPath))"
        struct NotReady: Error, CustomStringConvertible { let description: String }
        throw NotReady(description: "\(what) (exit status \(status)); its log ends: \(log.suffix(3000))")
    }
}
