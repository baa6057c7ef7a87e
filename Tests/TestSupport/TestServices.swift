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
/// thread of its own (see `onThreadOfItsOwn`). A program still running after `timeout` is killed with SIGKILL.
public func run(_ arguments: [String], timeout: TimeInterval = 20) async throws -> (status: Int32, output: String) {
    try await onThreadOfItsOwn { Result { try runBlocking(arguments, timeout: timeout) } }.get()
}

/// `run`, blocking the calling thread: only where a test cannot await.
public func runBlocking(_ arguments: [String], timeout: TimeInterval = 20) throws -> (status: Int32, output: String) {
    let child = try ChildProcess(arguments)
    let deadline = Date().addingTimeInterval(timeout)
    while child.isRunning && Date() < deadline { usleep(10_000) }
    return child.finish()
}

/// glibc functions that Swift's Glibc module leaves out (they are declared for `_GNU_SOURCE` only).
private enum GlibcExtension {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    static let pipe2: Pipe2? = function("pipe2")
    static let closeFrom: CloseFrom? = function("posix_spawn_file_actions_addclosefrom_np")

    private static func function<Function>(_ name: String) -> Function? {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), name) else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }
}

/// A program running beside a test, waited for without blocking a Swift concurrency thread.
///
/// Spawned with `posix_spawn`, not Foundation's `Process`: `Process` learns that a child ended from a socket pair
/// made without close-on-exec, so a program that another test spawned at the same moment could inherit it, and
/// `waitUntilExit` then waited for that other program (CI hung 41 minutes that way). Here the output pipe is made
/// close-on-exec, the child closes every descriptor above 2 before it runs, and the end is learned from `waitpid`.
/// The child starts with no blocked signals and default handlers, whatever the spawning thread had.
public final class ChildProcess: @unchecked Sendable {
    public let processIdentifier: pid_t
    private let lock = NSLock()
    private var exitStatus: Int32?
    private var collected: [UInt8] = []
    private var readerDone = false

    public struct SpawnError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ arguments: [String]) throws {
        var descriptors: [Int32] = [-1, -1]
        guard let pipe2 = GlibcExtension.pipe2, pipe2(&descriptors, O_CLOEXEC) == 0 else {
            throw SpawnError(description: "pipe2 failed: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, descriptors[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        if let closeFrom = GlibcExtension.closeFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGHUP, SIGINT, SIGPIPE, SIGALRM, SIGTERM, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, argv, environ)
        close(descriptors[1])
        guard result == 0 else {
            close(descriptors[0])
            throw SpawnError(description: "posix_spawn \(arguments.first ?? "") failed: \(String(cString: strerror(result)))")
        }
        self.processIdentifier = pid
        let output = descriptors[0]
        Thread { self.collect(from: output) }.start()
    }

    /// Whether the program still runs (reaping it, and keeping its status, once it has ended).
    public var isRunning: Bool {
        self.lock.withLock {
            guard self.exitStatus == nil else { return false }
            var status: Int32 = 0
            let reaped = waitpid(self.processIdentifier, &status, WNOHANG)
            if reaped == 0 { return true }
            // Exited: its code; killed: the signal's number, as Foundation's `terminationStatus` gives.
            self.exitStatus = reaped < 0 ? -1 : (status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f)
            return false
        }
    }

    /// What the program has written to its standard output so far.
    public var outputSoFar: String { self.lock.withLock { String(decoding: self.collected, as: UTF8.self) } }

    /// Waits (asynchronously) for the program to end, killing it after `timeout`; returns status and output.
    public func wait(timeout: Duration) async -> (status: Int32, output: String) {
        let deadline = ContinuousClock.now + timeout
        while self.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return self.finish()
    }

    /// Kills the program if it still runs, and collects its status and output.
    public func finish() -> (status: Int32, output: String) {
        if self.isRunning { kill(self.processIdentifier, SIGKILL) }
        while self.isRunning { usleep(2_000) }
        while !self.lock.withLock({ self.readerDone }) { usleep(2_000) }
        return self.lock.withLock { (self.exitStatus ?? -1, String(decoding: self.collected, as: UTF8.self)) }
    }

    /// Reads the program's output until end of file; or, when a program it started still holds the pipe, until
    /// one second after the program itself ended.
    private func collect(from descriptor: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var endedAt: ContinuousClock.Instant?
        while endedAt.map({ ContinuousClock.now - $0 < .seconds(1) }) ?? true {
            var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&request, 1, 50)
            if ready > 0 {
                let count = read(descriptor, &buffer, buffer.count)
                if count > 0 {
                    self.lock.withLock { self.collected.append(contentsOf: buffer[..<count]) }
                    continue
                }
                if count == 0 || (errno != EINTR && errno != EAGAIN) { break }
            } else if endedAt == nil && !self.isRunning {
                endedAt = ContinuousClock.now
            }
        }
        close(descriptor)
        self.lock.withLock { self.readerDone = true }
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
