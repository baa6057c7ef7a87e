#if canImport(Glibc)
import Glibc
#endif
@testable import MQTT
import Logging
import Synchronization
import TestSupport
import Testing

/// The client's own network thread: the receive window, and stopping it whatever it is doing.
@Suite(.enabled(if: TestServices.runMQTT))
struct MQTTNetworkLoopTests {
    /// What a subscriber got: each message's payload and when the handler saw it.
    final class Deliveries: Sendable {
        let items = Mutex<[(payload: String, at: ContinuousClock.Instant)]>([])
        var payloads: [String] { self.items.withLock { $0.map(\.payload) } }
        func record(_ message: MQTTMessageView) {
            let payload = String(decoding: message.payload, as: UTF8.self)
            let now = ContinuousClock.now
            self.items.withLock { $0.append((payload, now)) }
        }
        func wait(for count: Int) async throws {
            for _ in 0..<1_000 where self.items.withLock({ $0.count }) < count {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    /// A subscriber with `window` on a fresh topic of the broker at `url`, recording into `deliveries`, and a
    /// publisher beside it: both connected while `body` runs (given the subscriber and a QoS 1 send of message
    /// `m{index}`), disconnected after.
    func withClients(
        url: String,
        window: Duration,
        bufferedReads: Bool = true,
        bufferedWrites: Bool = true,
        padding: @escaping (Int) -> Int = { _ in 0 },
        _ body: (_ subscriber: MQTTClient, _ send: (Int) throws -> Void, _ deliveries: Deliveries) async throws -> Void
    ) async throws {
        let clients = try await Clients(
            url: url, window: window, bufferedReads: bufferedReads, bufferedWrites: bufferedWrites
        )
        defer { clients.disconnect() }
        try await body(clients.subscriber, { try clients.send($0, padding: padding($0)) }, clients.deliveries)
    }

    /// A connected subscriber (QoS 1, on a fresh topic, with `window`) and a publisher beside it.
    struct Clients {
        let topic = "window-test/\(UInt32.random(in: 0...UInt32.max))"
        let deliveries = Deliveries()
        let subscriber: MQTTClient
        let publisher: MQTTClient

        init(
            url: String, window: Duration = .zero, bufferedReads: Bool = true, bufferedWrites: Bool = true
        ) async throws {
            let deliveries = self.deliveries
            self.subscriber = try MQTTClient(
                configuration: .init(
                    url: url,
                    clientID: "window-sub-\(UInt32.random(in: 0...UInt32.max))",
                    receiveWindow: window,
                    bufferedReads: bufferedReads,
                    bufferedWrites: bufferedWrites
                ),
                logger: Logger(label: "test")
            ) { deliveries.record($0) }
            self.publisher = try MQTTClient(
                configuration: .init(
                    url: url, clientID: "window-pub-\(UInt32.random(in: 0...UInt32.max))", bufferedWrites: bufferedWrites
                ),
                logger: Logger(label: "test")
            ) { _ in }
            do {
                try await self.subscriber.connect()
                try await self.subscriber.subscribe(self.topic, qos: .atLeastOnce)
                try await self.publisher.connect()
            } catch {
                self.disconnect()
                throw error
            }
        }

        /// Publishes message `m{index}` (then `padding` dots) with QoS 1, from the calling thread.
        func send(_ index: Int, padding: Int = 0) throws {
            try self.publisher.publishNow(self.topic, payload: MQTTNetworkLoopTests.payload(index, padding: padding), qos: .atLeastOnce)
        }

        func disconnect() {
            self.publisher.disconnect()
            self.subscriber.disconnect()
        }
    }

    /// Message `m{index}`, then `padding` bytes of `.`.
    static func payload(_ index: Int, padding: Int) -> [UInt8] {
        Array("m\(index)".utf8) + [UInt8](repeating: UInt8(ascii: "."), count: padding)
    }

    @Test("with a receive window, the thread wakes at most once per window; every message arrives, in order")
    func windowHoldsLaterMessagesBack() async throws {
        let window = Duration.milliseconds(300)
        try await self.withClients(url: try TestServices.requireMQTT(), window: window) { _, send, deliveries in
            // The first message wakes the thread and is handled at once; the thread then sleeps until a window
            // has passed since it woke. A second message, sent once the first has been handled, waits for that.
            try send(0)
            try await deliveries.wait(for: 1)
            for index in 1..<20 { try send(index) }
            try await deliveries.wait(for: 20)
            let items = deliveries.items.withLock { $0 }
            #expect(items.map(\.payload) == (0..<20).map { "m\($0)" })
            guard items.count == 20 else { return }
            #expect(items[1].at - items[0].at >= window)
        }
    }

    @Test("a broker that lets only 20 messages be in flight does not cap a client with a window at 20 per window")
    func inflightLimitedBroker() async throws {
        _ = try TestServices.requireMQTT()
        let broker = PrivateServices("inflight-20")
        #expect(await broker.run("start-mqtt", environment: ["BOILER_MQTT_MAX_INFLIGHT": "20"]) == 0)
        defer { broker.stop() }
        guard let port = try? broker.port("mqtt") else {
            Issue.record("the private broker did not start")
            return
        }
        try await self.withClients(url: "mqtt://127.0.0.1:\(port)", window: .milliseconds(200)) { subscriber, send, deliveries in
            let count = 600
            for index in 0..<count { try send(index) }
            try await deliveries.wait(for: count)
            #expect(deliveries.payloads == (0..<count).map { "m\($0)" })
            // Capped at 20 per window, the burst would take 30 windows (29 sleeps at least); the thread drains the
            // backlog in a few (3 when this was written).
            #expect(subscriber.windowSleeps.load(ordering: .relaxed) < 15)
        }
    }

    @Test(
        "reads and writes buffered or not, with or without a window, a burst of messages of 2 to 100,000 bytes arrives whole and in order",
        arguments: [
            (false, false, Duration.zero), (true, true, .zero), (false, false, .milliseconds(2)),
            (true, true, .milliseconds(2)), (true, false, .milliseconds(2)), (false, true, .zero),
        ]
    )
    func burstOfMixedSizes(bufferedReads: Bool, bufferedWrites: Bool, window: Duration) async throws {
        // Sizes cross the 64 KiB read buffer's edges in every way: many messages per fill, a message split across
        // fills, and messages larger than the buffer.
        let padding: @Sendable (Int) -> Int = { index in index % 7 == 0 ? (index * 7_919) % 100_000 : index % 300 }
        try await self.withClients(
            url: try TestServices.requireMQTT(), window: window, bufferedReads: bufferedReads,
            bufferedWrites: bufferedWrites, padding: padding
        ) {
            _, send, deliveries in
            let count = 400
            for index in 0..<count { try send(index) }
            try await deliveries.wait(for: count)
            let expected = (0..<count).map { String(decoding: Self.payload($0, padding: padding($0)), as: UTF8.self) }
            #expect(deliveries.payloads.count == count)
            #expect(deliveries.payloads == expected)
        }
    }

    @Test("without a window, every message arrives, in order")
    func noWindow() async throws {
        try await self.withClients(url: try TestServices.requireMQTT(), window: .zero) { _, send, deliveries in
            for index in 0..<20 { try send(index) }
            try await deliveries.wait(for: 20)
            #expect(deliveries.payloads == (0..<20).map { "m\($0)" })
        }
    }

    @Test("the network thread skips libmosquitto's wake-up write for the PUBACKs it queues itself, and only those")
    func ownWakeUpsAreSkipped() async throws {
        let clients = try await Clients(url: try TestServices.requireMQTT())
        defer { clients.disconnect() }
        let (subscriber, publisher, deliveries) = (clients.subscriber, clients.publisher, clients.deliveries)
        #expect(subscriber.selfWakeDescriptor >= 0 && publisher.selfWakeDescriptor >= 0)

        // Published from this thread: each publish's wake-up must reach the publisher's network thread. Fewer
        // than libmosquitto's 20 in flight, so that none is held back and sent later by the network thread. The
        // publisher's own count starts after the first delivery: on connection its network thread sends an
        // UNSUBSCRIBE (the flush barrier), whose wake-up it skips.
        try clients.send(0)
        try await deliveries.wait(for: 1)
        let publisherSkippedBefore = publisher.selfWakesSkipped.load(ordering: .relaxed)
        for index in 1..<15 { try clients.send(index) }
        try await deliveries.wait(for: 15)
        #expect(deliveries.payloads == (0..<15).map { "m\($0)" })
        // The subscriber's network thread queued a PUBACK per message, from its message callback, and wrote no
        // wake-up byte for any of them.
        #expect(subscriber.selfWakesSkipped.load(ordering: .relaxed) >= 15)
        // The publisher's packets were queued by this thread, so their wake-ups were written, not skipped; and
        // the PUBACKs it received queue nothing.
        #expect(publisher.selfWakesSkipped.load(ordering: .relaxed) == publisherSkippedBefore)
        // And those wake-ups work: with the publisher's network thread idle in its poll (which gives up after
        // 1 s), a publish from here is sent at once, not when the poll ends. Were the byte skipped, each of these
        // would wait out most of a second.
        for index in 15..<18 {
            try await Task.sleep(for: .milliseconds(100))
            let sent = ContinuousClock.now
            try clients.send(index)
            try await deliveries.wait(for: index + 1)
            let arrived = deliveries.items.withLock { $0.last?.at } ?? sent
            #expect(arrived - sent < .milliseconds(500), "m\(index) took \(arrived - sent)")
        }
        #expect(deliveries.payloads == (0..<18).map { "m\($0)" })
    }

    @Test(
        "a disconnect is clean with writes buffered or not, with or without a window: the broker gets the DISCONNECT and publishes no last will",
        arguments: [(true, Duration.zero), (true, .milliseconds(2)), (false, .zero)]
    )
    func cleanDisconnectSendsNoWill(bufferedWrites: Bool, window: Duration) async throws {
        let url = try TestServices.requireMQTT()
        let topic = "will-test/\(UInt32.random(in: 0...UInt32.max))"
        let clients = try await Clients(url: url, window: window, bufferedWrites: bufferedWrites)
        defer { clients.disconnect() }
        // Traffic first, so that the write buffer has been used on this connection.
        for index in 0..<50 { try clients.send(index) }
        try await clients.deliveries.wait(for: 50)
        #expect(clients.deliveries.payloads.count == 50)
        let client = try MQTTClient(
            configuration: .init(
                url: url,
                clientID: "will-\(UInt32.random(in: 0...UInt32.max))",
                will: .init(topic: topic, payload: Array("gone".utf8), qos: .atLeastOnce, retain: true),
                receiveWindow: window,
                bufferedWrites: bufferedWrites
            ),
            logger: Logger(label: "test")
        ) { _ in }
        try await client.connect()
        try await client.subscribe(clients.topic, qos: .atLeastOnce)
        for index in 50..<60 { try clients.send(index) }
        try await clients.deliveries.wait(for: 60)
        client.disconnect()
        // A will, had the broker published one, would be retained: a subscriber that comes later still gets it.
        try await Task.sleep(for: .milliseconds(300))
        let subscriber = try ChildProcess(["mosquitto_sub", "-L", "\(url)/\(topic)", "-C", "1", "-W", "2"])
        let output = await subscriber.wait(timeout: .seconds(5)).output
        #expect(output.isEmpty, "the broker published the last will: \(output)")
    }

    @Test("a receive window outside 0...1 s is refused")
    func windowOutOfRange() throws {
        for window in [Duration.milliseconds(-1), .milliseconds(1_001)] {
            #expect(throws: MQTTError.self) {
                _ = try MQTTClient(configuration: .init(url: "mqtt://127.0.0.1:1883", clientID: "w", receiveWindow: window)) { _ in }
            }
        }
    }

    @Test("disconnect ends the network thread at once, also while it waits out a reconnect delay")
    func disconnectDuringBackoff() async throws {
        _ = try TestServices.requireMQTT()
        // A port nobody listens on: bound (not listening) for the whole test, so nothing else can take it and a
        // connection to it is refused at once.
        let (fd, port) = try TestServices.boundLoopbackSocket()
        defer { close(fd) }
        #expect(port != 0)

        weak var released: MQTTClient?
        var disconnecting = Duration.zero
        do {
            let client = try MQTTClient(
                configuration: .init(
                    url: "mqtt://127.0.0.1:\(port)",
                    clientID: "backoff-\(port)",
                    reconnectDelaySeconds: 30,
                    reconnectDelayMaximumSeconds: 60,
                    receiveWindow: .milliseconds(2)
                ),
                logger: Logger(label: "test")
            ) { _ in }
            released = client
            try client.start()
            try await Task.sleep(for: .milliseconds(200))  // the thread is now in its first 30-s reconnect delay
            #expect(client.connectionState == .connecting)
            let started = ContinuousClock.now
            client.disconnect()
            disconnecting = ContinuousClock.now - started
            #expect(client.connectionState == .idle)
        }
        // disconnect() joined the thread, which let go of the client: it is gone, and disconnect() did not wait out
        // the 30-s delay.
        #expect(released == nil)
        #expect(disconnecting < .seconds(10))
    }
}
