import Foundation
import MQTT
import Telemetry
import TestSupport
import Testing

/// `mqtts://`: a real mosquitto with a TLS listener whose certificate is signed by a certificate authority made
/// here with openssl. The ingestion worker (boilerd's `IngestService`, given the CA file as boilerd's
/// `mqtt-ca-file` gives it) connects and ingests what `mosquitto_pub --cafile` sends; a client that trusts only
/// another authority, or that speaks plain MQTT to the TLS port, never connects.
@Suite(.enabled(if: TestServices.runMQTT))
struct TLSTests {
    /// Runs openssl; a failure stops the test with its arguments.
    static func openssl(_ arguments: [String]) async throws {
        let result = try await run(["openssl"] + arguments)
        guard result.status == 0 else { throw TestServices.Missing(what: "openssl \(arguments.joined(separator: " ")) to succeed") }
    }

    @Test func theWorkerIngestsOverTLSWithTheTrustedAuthorityOnly() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

        // A test authority, the broker's certificate for 127.0.0.1 signed by it, and an authority nobody used.
        try await Self.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "1", "-subj", "/CN=BoilerPipeline test CA"])
        try await Self.openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=127.0.0.1"])
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: file("server.ext"), atomically: true, encoding: .utf8)
        try await Self.openssl([
            "x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial",
            "-out", file("server.pem"), "-days", "1", "-extfile", file("server.ext"),
        ])
        try await Self.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("other.key"), "-out", file("other.pem"), "-days", "1", "-subj", "/CN=Another CA"])
        // mosquitto started as root runs as the mosquitto user, which must read its files (test keys only).
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        for name in ["ca.pem", "server.pem", "server.key"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file(name))
        }

        let port = try TestServices.freeLoopbackPort()
        try """
        listener \(port) 127.0.0.1
        cafile \(file("ca.pem"))
        certfile \(file("server.pem"))
        keyfile \(file("server.key"))
        allow_anonymous true
        persistence false

        """.write(toFile: file("mosquitto.conf"), atomically: true, encoding: .utf8)
        let binary = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "mosquitto"
        let broker = try ChildProcess([binary, "-c", file("mosquitto.conf")])
        defer { _ = broker.finish() }
        var up = false
        for _ in 0..<50 where !up {
            up = try await run(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "--cafile", file("ca.pem"), "-t", "up", "-m", "1"]).status == 0
            if !up { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(up, "mosquitto with a TLS listener did not start")
        // The independent client checks the certificate too: with the other authority it is refused.
        #expect(try await run(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "--cafile", file("other.pem"), "-t", "up", "-m", "1"]).status != 0)

        let harness = try IngestHarness(mqttURL: "mqtts://127.0.0.1:\(port)", tls: MQTTClient.TLS(caFile: file("ca.pem")))
        try await harness.waitUntilIngesting()
        try await harness.publish(boiler: "b1", #"{"v":1,"boot":"k","seq":1,"ts_ms":1764165600000,"water_c":[61.5,61.75],"period_ms":10}"#)
        #expect(try await harness.eventually { try harness.readings("b1").count == 2 })
        #expect(try harness.readings("b1").map(\.waterC) == [61.5, 61.75])
        try await harness.stop()

        // Trusting only the other authority, or speaking plain MQTT to the TLS port: never connected.
        for (url, caFile) in [("mqtts://127.0.0.1:\(port)", file("other.pem")), ("mqtt://127.0.0.1:\(port)", nil)] {
            let client = try MQTTClient(
                configuration: .init(url: url, clientID: "tls-refused-\(UInt32.random(in: 0...UInt32.max))", tls: caFile.map { MQTTClient.TLS(caFile: $0) }),
                messageHandler: { _ in }
            )
            await #expect(throws: MQTTError.self, "\(url) with CA \(caFile ?? "none") connected") { try await client.connect(timeout: .seconds(3)) }
            #expect(!client.isConnected)
            client.disconnect()
        }
    }
}
