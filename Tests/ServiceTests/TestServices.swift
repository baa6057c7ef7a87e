import Foundation
import Testing

/// The services that deploy/local/services.sh started, as the tests see them.
///
/// A test that needs a service asks for it here. When the service's variable is missing the test is skipped,
/// and the skip is visible in the output; with `REQUIRE_SERVICES=1` (as in CI) it fails instead.
enum TestServices {
    static var required: Bool { ProcessInfo.processInfo.environment["REQUIRE_SERVICES"] == "1" }
    static var mqttURL: String? { ProcessInfo.processInfo.environment["BOILER_TEST_MQTT_URL"] }
    static var databaseURL: String? { ProcessInfo.processInfo.environment["BOILER_TEST_DATABASE_URL"] }

    /// Whether a test needing MQTT should run: when the broker is configured, or when services are required
    /// (then the test runs and fails on the missing broker).
    static var runMQTT: Bool { required || mqttURL != nil }
    static var runPostgres: Bool { required || databaseURL != nil }

    /// The broker URL, or a recorded failure saying how to get one.
    static func requireMQTT() throws -> String {
        guard let url = mqttURL else {
            throw Missing(what: "BOILER_TEST_MQTT_URL (run the tests with deploy/local/test.sh)")
        }
        return url
    }

    static func requirePostgres() throws -> String {
        guard let url = databaseURL else {
            throw Missing(what: "BOILER_TEST_DATABASE_URL (run the tests with deploy/local/test.sh)")
        }
        return url
    }

    struct Missing: Error, CustomStringConvertible {
        var what: String
        var description: String { "required service not configured: \(what)" }
    }
}

/// Runs a command-line program to completion and returns its exit status and standard output.
func run(_ arguments: [String], timeout: TimeInterval = 20) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
