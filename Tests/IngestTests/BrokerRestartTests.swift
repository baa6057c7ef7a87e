import BoilerService
import Foundation
import MQTT
import RingStream
import Telemetry
import TestSupport
import Testing

/// The worker survives a broker stopped and restarted under it, without being restarted itself, and QoS 1
/// readings published during the outage are ingested afterwards. The test runs its own broker (started by
/// services.sh in a private state folder), so stopping it disturbs no other test.
@Suite(.enabled(if: TestServices.runMQTT))
struct BrokerRestartTests {
    @Test func readingsSentDuringAnOutageArriveAfterIt() async throws {
        _ = try TestServices.requireMQTT()
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("broker-restart-\(UInt32.random(in: 0...UInt32.max))").path
        func services(_ command: String) -> Int32 { TestServices.services(command, state: state) }
        #expect(services("start-mqtt") == 0)
        defer { _ = services("stop") }
        guard let port = try? String(contentsOfFile: "\(state)/mqtt_port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) else {
            Issue.record("the private broker did not start")
            return
        }
        let url = "mqtt://127.0.0.1:\(port)"

        let harness = try IngestHarness(mqttURL: url, clientID: "worker-\(port)", cleanSession: false)
        try await harness.waitUntilIngesting()
        // A boiler with a persistent session: libmosquitto keeps its QoS 1 messages while the broker is away.
        let boiler = try MQTTClient(
            configuration: .init(url: url, clientID: "boiler-\(port)", cleanSession: false, reconnectDelayMaximumSeconds: 2)
        ) { _ in }
        try await boiler.connect()
        func send(_ seq: Int) throws {
            let payload = #"{"v":1,"boot":"r","seq":\#(seq),"ts_ms":\#(1_764_165_600_000 + seq * 10),"water_c":55}"#
            try boiler.publishNow(harness.topic("b0001"), payload: Array(payload.utf8), qos: .atLeastOnce)
        }
        for seq in 0..<10 { try send(seq) }
        #expect(try await harness.eventually { try harness.readings("b0001").count == 10 })

        #expect(services("stop-mqtt") == 0)
        #expect(try await harness.eventually { !harness.service.client.isConnected })
        for seq in 10..<60 { try send(seq) }
        try await Task.sleep(for: .seconds(1))
        #expect(services("start-mqtt") == 0)

        #expect(try await harness.eventually(timeout: .seconds(30)) { try harness.readings("b0001").count == 60 })
        #expect(try harness.readings("b0001").map(\.seq) == (0..<60).map(UInt64.init))
        #expect(harness.service.client.isConnected)
        boiler.disconnect()
        try await harness.stop()
    }
}
