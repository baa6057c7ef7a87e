import CMosquitto
import Synchronization
import Logging

// libmosquitto's callbacks run on its network thread. `userdata` is the client, retained from `start()` until
// `disconnect()` has stopped the thread, so it is alive whenever a callback runs.

extension MQTTClient {
    func installCallbacks() {
        mosquitto_connect_with_flags_callback_set(self.handle) { _, userData, rc, flags in
            guard let client = MQTTClient.from(userData) else { return }
            client.handleConnect(rc: rc, sessionPresent: flags & 1 != 0)
        }
        mosquitto_disconnect_callback_set(self.handle) { _, userData, rc in
            MQTTClient.from(userData)?.handleDisconnect(rc: rc)
        }
        mosquitto_message_callback_set(self.handle) { _, userData, message in
            guard let client = MQTTClient.from(userData), let message, let topic = message.pointee.topic else { return }
            let topicStart = UnsafeRawPointer(topic).assumingMemoryBound(to: UInt8.self)
            var topicLength = 0
            while topicStart[topicLength] != 0 { topicLength += 1 }
            let topicBytes = UnsafeBufferPointer(start: topicStart, count: topicLength)
            let length = Int(max(message.pointee.payloadlen, 0))
            let payload = UnsafeBufferPointer(
                start: message.pointee.payload.map { UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self) },
                count: message.pointee.payload == nil ? 0 : length
            )
            client.received.wrappingAdd(1, ordering: .relaxed)
            client.messageHandler(
                MQTTMessageView(
                    topic: topicBytes,
                    payload: payload,
                    qos: QoS(rawValue: message.pointee.qos) ?? .atMostOnce,
                    retain: message.pointee.retain
                )
            )
        }
        mosquitto_subscribe_callback_set(self.handle) { _, userData, mid, count, granted in
            let code = count > 0 ? (granted?.pointee ?? 0x80) : 0x80
            MQTTClient.from(userData)?.acknowledge(mid: mid, code: code)
        }
        mosquitto_unsubscribe_callback_set(self.handle) { _, userData, mid in
            guard let client = MQTTClient.from(userData) else { return }
            if client.passFlushBarrier(mid: mid) {
                client.flushOffline()
            } else {
                client.acknowledge(mid: mid, code: 0)
            }
        }
        mosquitto_publish_callback_set(self.handle) { _, userData, mid in
            guard let client = MQTTClient.from(userData) else { return }
            client.published.wrappingAdd(1, ordering: .relaxed)
            client.acknowledge(mid: mid, code: 0)
        }
    }

    static func from(_ userData: UnsafeMutableRawPointer?) -> MQTTClient? {
        guard let userData else { return nil }
        return Unmanaged<MQTTClient>.fromOpaque(userData).takeUnretainedValue()
    }

    func handleConnect(rc: Int32, sessionPresent: Bool) {
        guard rc == 0 else {
            let refusal = MQTTError.connectionRefused(rc)
            self.state.withLock { $0.lastRefusal = refusal }
            self.logger.error("MQTT broker refused the connection", metadata: ["mqtt.error": "\(refusal)"])
            return
        }
        self.connectedSinceBackoff.store(true, ordering: .relaxed)
        let (subscriptions, waiters) = self.state.withLock { state in
            state.connection = .connected(sessionPresent: sessionPresent)
            // Until the flush (below) is done, `publishNow` queues behind the kept messages.
            state.flushing = true
            state.lastRefusal = nil
            let waiters = Array(state.connectionWaiters.values)
            state.connectionWaiters.removeAll()
            return (state.subscriptions, waiters)
        }
        // Subscribe again on every connection: a clean session forgot them, and repeating one is harmless.
        for subscription in subscriptions {
            let rc = mosquitto_subscribe(self.handle, nil, subscription.filter, subscription.qos.rawValue)
            if rc != Int32(MOSQ_ERR_SUCCESS.rawValue) {
                self.logger.error(
                    "MQTT resubscribe failed",
                    metadata: ["mqtt.filter": "\(subscription.filter)", "mqtt.error": "\(MQTTError.mosquitto(rc, "subscribe"))"]
                )
            }
        }
        self.startFlush()
        self.logger.info(
            "MQTT connected",
            metadata: ["mqtt.url": "\(self.configuration.url)", "mqtt.session_present": "\(sessionPresent)"]
        )
        self.connectionHandler?(.connected(sessionPresent: sessionPresent))
        for waiter in waiters { waiter.resume() }
    }

    /// Starts flushing the offline queue once libmosquitto has sent again what it had in flight. It does that
    /// only after this connect callback returns, so flushing now would let newer messages overtake those.
    /// An UNSUBSCRIBE from a filter this client never uses goes out behind them; its UNSUBACK starts the flush.
    private func startFlush() {
        var mid: Int32 = 0
        let rc = mosquitto_unsubscribe(self.handle, &mid, self.flushBarrierFilter)
        guard rc == Int32(MOSQ_ERR_SUCCESS.rawValue) else {
            self.logger.warning(
                "MQTT flush barrier not sent; flushing at once",
                metadata: ["mqtt.error": "\(MQTTError.mosquitto(rc, "unsubscribe"))"]
            )
            self.flushOffline()
            return
        }
        self.state.withLock { $0.flushBarrier = mid }
    }

    /// This client's own filter (wildcards in its id replaced), so the barrier never touches a real subscription.
    private var flushBarrierFilter: String {
        let id = String(self.configuration.clientID.map { $0 == "+" || $0 == "#" ? "_" : $0 })
        return "boilerpipeline/flush-barrier/\(id)"
    }

    /// Whether `mid` is the flush barrier's UNSUBACK (consumed if so).
    func passFlushBarrier(mid: Int32) -> Bool {
        self.state.withLock { state in
            guard state.flushBarrier == mid else { return false }
            state.flushBarrier = nil
            return true
        }
    }

    func handleDisconnect(rc: Int32) {
        let stopped = self.state.withLock { state -> Bool in
            if !state.stopped { state.connection = .connecting }
            state.flushBarrier = nil
            state.flushing = false
            return state.stopped
        }
        guard !stopped else { return }
        self.logger.warning(
            "MQTT connection lost; reconnecting with backoff",
            metadata: ["mqtt.error": "\(MQTTError.mosquitto(rc, "connection"))"]
        )
        self.connectionHandler?(.connecting)
    }
}
