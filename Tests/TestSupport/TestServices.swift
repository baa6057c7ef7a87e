import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The services that deploy/local/services.sh started, as the tests see them.
///
/// A test that needs a service asks for it here. When the service's variable is missing the test is skipped,
/// and the skip is visible in the output; with `REQUIRE_SERVICES=1` (as in CI) it fails instead.
public enum TestServices {
    public static var required: Bool { ProcessInfo.processInfo.environment["REQUIRE_SERVICES"] == "1" }
    public static var mqttURL: String? { ProcessInfo.processInfo.environment["BOILER_TEST_MQTT_URL"] }
    public static var databaseURL: String? { ProcessInfo.processInfo.environment["BOILER_TEST_DATABASE_URL"] }

    /// Whether a test needing MQTT should run: when the broker is configured, or when services are required
    /// (then the test runs and fails on the missing broker).
    public static var runMQTT: Bool { required || mqttURL != nil }
    public static var runPostgres: Bool { required || databaseURL != nil }

    /// The broker URL, or a recorded failure saying how to get one.
    public static func requireMQTT() throws -> String {
        guard let url = mqttURL else {
            throw Missing(what: "BOILER_TEST_MQTT_URL (run the tests with deploy/local/test.sh)")
        }
        return url
    }

    public static func requirePostgres() throws -> String {
        guard let url = databaseURL else {
            throw Missing(what: "BOILER_TEST_DATABASE_URL (run the tests with deploy/local/test.sh)")
        }
        return url
    }

    /// deploy/local/services.sh, for tests that start their own broker (`BOILER_SERVICES_DIR=... start-mqtt`).
    public static var servicesScript: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/local/services.sh").path
    }

    /// Runs a services.sh command with `BOILER_SERVICES_DIR=state`, through the shell (`system`), and returns
    /// its exit status. Not through Foundation's `Process`: a daemon the script starts (mosquitto -d) would
    /// inherit the descriptor `Process` watches, and the script would never seem to end.
    ///
    /// On a thread of its own, awaited: starting PostgreSQL takes seconds, and a test that blocked one of the
    /// concurrency pool's threads (two on a 2-core machine) for that long stalled every other test.
    public static func services(_ command: String, state: String, environment: [String: String] = [:]) async -> Int32 {
        await onThreadOfItsOwn { servicesBlocking(command, state: state, environment: environment) }
    }

    /// `services`, blocking the calling thread: for a `defer`, which cannot await.
    public static func servicesBlocking(_ command: String, state: String, environment: [String: String] = [:]) -> Int32 {
        let settings = environment.sorted { $0.key < $1.key }.map { "\($0.key)='\($0.value)' " }.joined()
        return system("\(settings)BOILER_SERVICES_DIR='\(state)' '\(servicesScript)' \(command) >/dev/null 2>&1")
    }

    public struct Missing: Error, CustomStringConvertible {
        public var what: String
        public init(what: String) { self.what = what }
        public var description: String { "required service not configured: \(what)" }
    }
}

/// Runs blocking `work` on a thread of its own and awaits its result. Swift's concurrency runs every test on a
/// pool of as many threads as cores (two here): a test that blocks one of them, waiting for a program or a
/// script, holds back every other test's tasks for as long (a readiness wait starved that way failed CI once).
public func onThreadOfItsOwn<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async -> Value {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: work()) }.start()
    }
}

/// Runs a command-line program to completion and returns its exit status and standard output, waiting on a
/// thread of its own (see `onThreadOfItsOwn`). A program still running after `timeout` is killed with SIGKILL,
/// because programs started from Swift's worker threads inherit their blocked signals, so SIGTERM and SIGALRM
/// (mosquitto_sub's `-W`) never reach them.
public func run(_ arguments: [String], timeout: TimeInterval = 20) async throws -> (status: Int32, output: String) {
    try await onThreadOfItsOwn { Result { try runBlocking(arguments, timeout: timeout) } }.get()
}

/// `run`, blocking the calling thread: only where a test cannot await.
public func runBlocking(_ arguments: [String], timeout: TimeInterval = 20) throws -> (status: Int32, output: String) {
    let child = try ChildProcess(arguments)
    let deadline = Date().addingTimeInterval(timeout)
    while child.process.isRunning && Date() < deadline { usleep(10_000) }
    return child.finish()
}

/// A program running beside a test, waited for without blocking a Swift concurrency thread.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private let pipe = Pipe()

    public init(_ arguments: [String]) throws {
        self.process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        self.process.arguments = arguments
        self.process.standardOutput = self.pipe
        self.process.standardError = FileHandle.nullDevice
        try self.process.run()
    }

    /// Waits (asynchronously) for the program to end, killing it after `timeout`; returns status and output.
    public func wait(timeout: Duration) async -> (status: Int32, output: String) {
        let deadline = ContinuousClock.now + timeout
        while self.process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return self.finish()
    }

    /// Kills the program if it still runs, and collects its status and output.
    public func finish() -> (status: Int32, output: String) {
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
        self.process.waitUntilExit()
        let data = self.pipe.fileHandleForReading.readDataToEndOfFile()
        return (self.process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// mosquitto or PostgreSQL of a test's own, run by services.sh in a private state folder, so a test can stop and
/// start it without disturbing any other test.
public struct PrivateServices: Sendable {
    /// The state folder (PostgreSQL's socket is in `{state}/postgres`).
    public let state: String

    /// A new, unused state folder named after `name`; nothing is started yet.
    public init(_ name: String) {
        self.state = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UInt32.random(in: 0...UInt32.max))").path
    }

    /// Runs `services.sh COMMAND` (`start-postgres`, `stop-mqtt`, ...) on this folder, with `environment` set
    /// for it (e.g. `BOILER_MQTT_MAX_INFLIGHT`); returns its exit status.
    public func run(_ command: String, environment: [String: String] = [:]) async -> Int32 {
        await TestServices.services(command, state: self.state, environment: environment)
    }

    /// Stops whatever runs and deletes the state, blocking (for a `defer`).
    public func stop() { _ = TestServices.servicesBlocking("stop", state: self.state) }

    /// The port a started service listens on: `pg` or `mqtt`.
    public func port(_ service: String) throws -> String {
        try String(contentsOfFile: "\(self.state)/\(service)_port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
