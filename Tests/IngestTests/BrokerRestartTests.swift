import BoilerService
import Foundation
import Synchronization
import MQTT
import RingStream
import Telemetry
import TestSupport
import Testing

/// The worker survives a broker stopped for 30 s and restarted under it, without being restarted itself. QoS 1
/// readings published during the outage (persistent sessions) are all ingested afterwards; QoS 0 readings
/// published during it are lost, the sender is told of each one, and the hour's coverage shows exactly that many
/// missing. The test runs its own broker (started by services.sh in a private state folder), so stopping it
/// disturbs no other test.
@Suite(.enabled(if: TestServices.runMQTT))
struct BrokerRestartTests {
    @Test func readingsSentDuringAnOutageArriveAfterIt() async throws {
        _ = try TestServices.requireMQTT()
        let broker = PrivateServices("broker-restart")
        func services(_ command: String) -> Int32 { broker.run(command) }
        #expect(services("start-mqtt") == 0)
        defer { broker.stop() }
        guard let port = try? broker.port("mqtt") else {
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
        // A second boiler publishes at QoS 0: what it sends while the broker is away is lost.
        let quiet = try MQTTClient(
            configuration: .init(url: url, clientID: "boiler0-\(port)", cleanSession: true, reconnectDelayMaximumSeconds: 2)
        ) { _ in }
        try await quiet.connect()
        func payload(_ seq: Int) -> [UInt8] {
            Array(#"{"v":1,"boot":"r","seq":\#(seq),"ts_ms":\#(1_764_165_600_000 + seq * 10),"water_c":55}"#.utf8)
        }
        func send(_ seq: Int) throws {
            try boiler.publishNow(harness.topic("b0001"), payload: payload(seq), qos: .atLeastOnce)
        }
        /// Sends at QoS 0; returns false when the client reports the reading lost (not connected).
        func sendQoS0(_ seq: Int) -> Bool {
            do {
                try quiet.publishNow(harness.topic("b0002"), payload: payload(seq), qos: .atMostOnce)
                return true
            } catch {
                return false
            }
        }
        var lostAtQoS0 = 0
        /// Sends reading `seq` from both boilers, counting the QoS 0 ones the client reports lost.
        func sendBoth(_ seq: Int) throws {
            try send(seq)
            if !sendQoS0(seq) { lostAtQoS0 += 1 }
        }
        for seq in 0..<10 { try sendBoth(seq) }
        #expect(try await harness.eventually { try harness.readings("b0001").count == 10 && harness.readings("b0002").count == 10 })

        // 30 s without a broker; both boilers keep publishing through it.
        #expect(services("stop-mqtt") == 0)
        #expect(try await harness.eventually { !harness.service.client.isConnected && !quiet.isConnected })
        for seq in 10..<60 {
            try sendBoth(seq)
            try await Task.sleep(for: .milliseconds(580))
        }
        #expect(services("start-mqtt") == 0)
        #expect(try await harness.eventually(timeout: .seconds(30)) { harness.service.client.isConnected && quiet.isConnected })
        for seq in 60..<70 { try sendBoth(seq) }

        // QoS 1: every reading, in order.
        #expect(try await harness.eventually(timeout: .seconds(30)) { try harness.readings("b0001").count == 70 })
        #expect(try harness.readings("b0001").map(\.seq) == (0..<70).map(UInt64.init))
        // QoS 0: the outage's readings are gone, each one reported to the sender, and the hour's window holds
        // exactly the others: its coverage is short by what was lost.
        #expect(lostAtQoS0 == 50)
        #expect(try await harness.eventually { try harness.readings("b0002").count == 70 - lostAtQoS0 })
        let window = harness.pipeline.withWindows { windows in windows.openWindows.first { $0.boilerID.rawValue == "b0002" }?.accumulator }
        let accumulator = try #require(window)
        #expect(accumulator.samples == UInt64(70 - lostAtQoS0))
        // The row it will close into reports that coverage (20 of the hour's expected readings), not 70.
        let row = accumulator.snapshot(boilerID: try #require(BoilerID("b0002")), closedAtMs: 0)
        #expect(row.coverage == 20 / Double(row.expectedSamples))
        #expect(harness.service.client.isConnected)
        boiler.disconnect()
        quiet.disconnect()
        try await harness.stop()
    }

    /// A sender that keeps publishing while its client reconnects: what it kept during the outage is flushed on
    /// reconnection while newer messages keep coming, and the subscriber gets every message once, in the order sent.
    /// (A message published while the flush was still sending used to overtake the flush's remaining messages.)
    @Test func messagesPublishedWhileTheOfflineQueueFlushesKeepTheirOrder() async throws {
        _ = try TestServices.requireMQTT()
        let broker = PrivateServices("flush-order")
        #expect(broker.run("start-mqtt") == 0)
        defer { broker.stop() }
        guard let port = try? broker.port("mqtt") else {
            Issue.record("the private broker did not start")
            return
        }
        let url = "mqtt://127.0.0.1:\(port)"
        let topic = "flush-order/\(port)"
        let received = Mutex<[UInt32]>([])
        let subscriber = try MQTTClient(
            configuration: .init(url: url, clientID: "order-sub-\(port)", cleanSession: false, reconnectDelayMaximumSeconds: 1)
        ) { message in
            guard message.payload.count == 4 else { return }
            let seq = message.payload.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            received.withLock { $0.append(seq) }
        }
        try await subscriber.connect()
        try await subscriber.subscribe(topic, qos: .atLeastOnce)
        let sender = try MQTTClient(
            configuration: .init(
                url: url, clientID: "order-pub-\(port)", cleanSession: false, reconnectDelayMaximumSeconds: 1,
                maximumOfflineMessages: 1_000_000
            )
        ) { _ in }
        try await sender.connect()
        func payload(_ seq: UInt32) -> [UInt8] { [UInt8(seq >> 24), UInt8(seq >> 16 & 0xFF), UInt8(seq >> 8 & 0xFF), UInt8(seq & 0xFF)] }

        #expect(broker.run("stop-mqtt") == 0)
        var seq: UInt32 = 0
        // Kept while the broker is away.
        while sender.isConnected || seq < 20_000 {
            try sender.publishNow(topic, payload: payload(seq), qos: .atLeastOnce)
            seq += 1
            if seq % 1_000 == 0 { try await Task.sleep(for: .milliseconds(1)) }
        }
        #expect(sender.offlineMessages > 0)
        #expect(broker.run("start-mqtt") == 0)
        // Publishing goes on through the reconnection and its flush: ten messages a millisecond while the sender
        // reconnects, then as fast as it can for 300 ms from the moment it is connected (the flush starts then),
        // then slowly again until it has been connected and caught up for a while.
        var connectedAt: ContinuousClock.Instant? = nil
        var caughtUpSince: ContinuousClock.Instant? = nil
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            try sender.publishNow(topic, payload: payload(seq), qos: .atLeastOnce)
            seq += 1
            if connectedAt == nil && sender.isConnected { connectedAt = .now }
            let burst = connectedAt.map { ContinuousClock.now - $0 < .milliseconds(300) } ?? false
            if !burst && seq % 10 == 0 { try await Task.sleep(for: .milliseconds(1)) }
            if !burst && sender.isConnected && sender.offlineMessages == 0 {
                if caughtUpSince == nil { caughtUpSince = .now }
                if let since = caughtUpSince, ContinuousClock.now - since > .milliseconds(300) { break }
            } else {
                caughtUpSince = nil
            }
        }
        #expect(caughtUpSince != nil, "the sender never reconnected and caught up")
        let sent = seq
        let waitUntil = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < waitUntil, received.withLock({ $0.count }) < Int(sent) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let got = received.withLock { $0 }
        #expect(got.count == Int(sent))
        let firstOutOfOrder = zip(got.indices, got).first { index, value in value != UInt32(index) }
        #expect(firstOutOfOrder == nil, "message \(firstOutOfOrder.map { "\($0.1) arrived at position \($0.0)" } ?? "")")
        sender.disconnect()
        subscriber.disconnect()
    }
}
