import Foundation
import TestSupport
import Testing

/// The deployment's mosquitto configuration (deploy/mosquitto): a real mosquitto started with its ACL and a
/// password file made by make-passwords.sh. A boiler cannot publish telemetry as another boiler nor read
/// another's setpoints; anonymous clients are refused.
@Suite(.enabled(if: TestServices.runMQTT))
struct MosquittoACLTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/mosquitto")

    @Test func aBoilerCannotPublishAsAnotherNorReadItsSetpoints() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("acl-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "b0001\nb0002\n".write(to: directory.appendingPathComponent("ids"), atomically: true, encoding: .utf8)
        let made = try await run([Self.deploy.appendingPathComponent("make-passwords.sh").path, directory.appendingPathComponent("ids").path, directory.path])
        #expect(made.status == 0)
        var passwords: [String: String] = [:]
        for line in try String(contentsOf: directory.appendingPathComponent("credentials.txt"), encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { passwords[String(parts[0])] = String(parts[1]) }
        }
        #expect(Set(passwords.keys) == ["boilerd", "b0001", "b0002"])

        // The deployment's configuration, on a free loopback port, with the files just made.
        let port = try TestServices.freeLoopbackPort()
        var configuration = try String(contentsOf: Self.deploy.appendingPathComponent("mosquitto.conf"), encoding: .utf8)
        configuration = configuration
            .replacingOccurrences(of: "listener 1883", with: "listener \(port) 127.0.0.1")
            .replacingOccurrences(of: "/etc/mosquitto/boilerpipeline.passwd", with: directory.appendingPathComponent("boilerpipeline.passwd").path)
            .replacingOccurrences(of: "/etc/mosquitto/boilerpipeline.acl", with: Self.deploy.appendingPathComponent("boilerpipeline.acl").path)
            .replacingOccurrences(of: "persistence true", with: "persistence false")
        let configurationFile = directory.appendingPathComponent("mosquitto.conf")
        try configuration.write(to: configurationFile, atomically: true, encoding: .utf8)
        let binary = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "mosquitto"
        let broker = try ChildProcess([binary, "-c", configurationFile.path])
        defer { _ = broker.finish() }
        func client(_ tool: String, _ user: String?, _ arguments: [String]) -> [String] {
            var command = [tool, "-h", "127.0.0.1", "-p", port, "-q", "1"]
            if let user { command += ["-u", user, "-P", passwords[user] ?? ""] }
            return command + arguments
        }
        // Wait for the broker: boilerd can publish.
        var up = false
        for _ in 0..<50 where !up {
            up = try await run(client("mosquitto_pub", "boilerd", ["-t", "boilers/b0002/setpoint", "-r", "-m", "cmd-for-b0002"])).status == 0
            if !up { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(up, "mosquitto with the deployment's configuration did not start")

        // boilerd listens to all telemetry; b0001 publishes as b0002 (dropped by the ACL), then as itself.
        let listener = try ChildProcess(client("mosquitto_sub", "boilerd", ["-t", "boilers/+/telemetry", "-v", "-C", "1"]))
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await run(client("mosquitto_pub", "b0001", ["-t", "boilers/b0002/telemetry", "-m", "spoofed"])).status == 0)
        #expect(try await run(client("mosquitto_pub", "b0001", ["-t", "boilers/b0001/telemetry", "-m", "own"])).status == 0)
        let heard = await listener.wait(timeout: .seconds(5)).output
        #expect(heard == "boilers/b0001/telemetry own\n", "boilerd heard: \(heard)")

        // b0001 cannot read b0002's retained setpoint; b0002 can.
        let snoop = await (try ChildProcess(client("mosquitto_sub", "b0001", ["-t", "boilers/b0002/setpoint", "-C", "1"]))).wait(timeout: .seconds(2))
        #expect(snoop.output.isEmpty, "b0001 read \(snoop.output)")
        let own = await (try ChildProcess(client("mosquitto_sub", "b0002", ["-t", "boilers/b0002/setpoint", "-C", "1"]))).wait(timeout: .seconds(5))
        #expect(own.output == "cmd-for-b0002\n")

        // No anonymous clients, no wrong passwords.
        #expect(try await run(client("mosquitto_pub", nil, ["-t", "boilers/b0001/telemetry", "-m", "x"])).status != 0)
        #expect(try await run(client("mosquitto_pub", "b0001", ["-t", "boilers/b0001/telemetry", "-m", "x", "-P", "wrong"])).status != 0)
    }
}
