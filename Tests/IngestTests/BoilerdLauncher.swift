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

    /// Starts boilerd. Processes started from Swift's threads inherit blocked signals: they are unblocked before
    /// exec, so SIGTERM reaches boilerd as it would from systemd or a shell.
    func start() throws -> ChildProcess {
        let unblockAndExec = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_UNBLOCK, range(1, 32)); os.execv(sys.argv[1], sys.argv[1:])"
        return try ChildProcess(self.environment + ["python3", "-c", unblockAndExec, Self.binary, "run"])
    }

    /// Waits until `/readyz` answers 200; returns whether it did within `timeout`.
    func waitUntilReady(timeout: Duration = .seconds(20)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try run(["curl", "-sf", "http://127.0.0.1:\(self.port)/readyz"]).status == 0 { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
