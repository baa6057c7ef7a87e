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
        func services(_ command: String) async -> Int32 { await broker.run(command) }
        #expect(await services("start-mqtt") == 0)
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
        #expect(await services("stop-mqtt") == 0)
        #expect(try await harness.eventually { !harness.service.client.isConnected && !quiet.isConnected })
        for seq in 10..<60 {
            try sendBoth(seq)
            try await Task.sleep(for: .milliseconds(580))
        }
        #expect(await services("start-mqtt") == 0)
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

    /// A sender that publishes QoS 1 at full speed while the broker stops (so libmosquitto has messages in flight
    /// when the connection drops), keeps publishing while it is away (kept in the client's offline queue), and
    /// goes on publishing at full speed while it reconnects and flushes. The subscriber must get every message,
    /// and each for the first time in the order sent. A message may come twice: QoS 1 is at-least-once, and a
    /// message the broker got just before it stopped, but whose PUBACK was lost, is sent again.
    ///
    /// Two bugs made messages overtake one another here: a message published while the flush was still sending
    /// went ahead of the flush's remaining ones; and the flush ran in the connect callback, before libmosquitto
    /// sent again the messages that were in flight at the drop, so the kept (newer) ones went first.
    @Test func messagesPublishedThroughABrokerRestartArriveInTheOrderSent() async throws {
        _ = try TestServices.requireMQTT()
        let broker = PrivateServices("flush-order")
        #expect(await broker.run("start-mqtt") == 0)
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

        let publisher = PacedPublisher(sender: sender, topic: topic)
        publisher.start()
        publisher.pace(.fast)
        try await Task.sleep(for: .milliseconds(200))
        // The broker stops under a full-speed sender.
        #expect(await broker.run("stop-mqtt") == 0)
        publisher.pace(.slow)
        try await Task.sleep(for: .milliseconds(300))
        #expect(!sender.isConnected && sender.offlineMessages > 0)
        #expect(await broker.run("start-mqtt") == 0)
        // Full speed again from the moment the sender is connected (its flush starts then), for 300 ms; then slowly
        // until it has caught up.
        let deadline = ContinuousClock.now + .seconds(30)
        while !sender.isConnected && ContinuousClock.now < deadline { await Task.yield() }
        publisher.pace(.fast)
        try await Task.sleep(for: .milliseconds(300))
        publisher.pace(.slow)
        while (!sender.isConnected || sender.offlineMessages > 0) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(200))
        let sent = publisher.stop()
        #expect(publisher.failure == nil, "publishing failed: \(publisher.failure ?? "")")
        // Generous: under a loaded CI the broker and the subscriber take tens of seconds for these messages.
        let waitUntil = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < waitUntil, Set(received.withLock { $0 }).count < Int(sent) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let got = received.withLock { $0 }
        // First arrivals, in order: 0, 1, 2, ... up to the last sent; repeats of earlier messages are allowed.
        var next: UInt32 = 0
        var overtaken: String? = nil
        for (position, seq) in got.enumerated() where seq >= next {
            if seq == next {
                next += 1
            } else if overtaken == nil {
                overtaken = "message \(seq) arrived at position \(position), before message \(next)"
            }
        }
        #expect(overtaken == nil, "\(overtaken ?? "")")
        #expect(Set(got).count == Int(sent), "\(sent) sent, \(Set(got).count) distinct ones arrived")
        print("BrokerRestartTests: \(sent) sent through the restart, \(Set(got).count) distinct received, \(got.count - Set(got).count) repeats")
        sender.disconnect()
        subscriber.disconnect()
    }
}

/// Publishes numbered QoS 1 messages (4-byte big-endian sequence numbers) from its own thread, at a pace the test
/// changes as it goes: thirty a millisecond (fast) or ten (slow), at most.
private final class PacedPublisher: @unchecked Sendable {
    enum Pace: Int { case fast = 0, slow = 1, stop = 2 }
    private let sender: MQTTClient
    private let topic: String
    private let currentPace = Atomic<Int>(Pace.slow.rawValue)
    private let sentCount = Atomic<UInt32>(0)
    private let done = Atomic<Bool>(false)
    private let failureText = Mutex<String?>(nil)

    init(sender: MQTTClient, topic: String) {
        self.sender = sender
        self.topic = topic
    }

    var failure: String? { self.failureText.withLock { $0 } }

    func pace(_ pace: Pace) { self.currentPace.store(pace.rawValue, ordering: .sequentiallyConsistent) }

    func start() {
        let thread = Thread { [self] in
            var seq: UInt32 = 0
            while true {
                let pace = Pace(rawValue: self.currentPace.load(ordering: .sequentiallyConsistent)) ?? .stop
                if pace == .stop { break }
                let payload = [UInt8(seq >> 24), UInt8(seq >> 16 & 0xFF), UInt8(seq >> 8 & 0xFF), UInt8(seq & 0xFF)]
                do {
                    try self.sender.publishNow(self.topic, payload: payload, qos: .atLeastOnce)
                } catch {
                    self.failureText.withLock { $0 = "\(error)" }
                    break
                }
                seq += 1
                self.sentCount.store(seq, ordering: .sequentiallyConsistent)
                if seq % (pace == .slow ? 10 : 30) == 0 { usleep(1_000) }
            }
            self.done.store(true, ordering: .sequentiallyConsistent)
        }
        thread.start()
    }

    /// Stops the thread; returns how many messages it sent.
    func stop() -> UInt32 {
        self.pace(.stop)
        while !self.done.load(ordering: .sequentiallyConsistent) { usleep(1_000) }
        return self.sentCount.load(ordering: .sequentiallyConsistent)
    }
}
