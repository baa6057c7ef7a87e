import CMosquitto
import Synchronization

extension MQTTClient {
    /// Subscribes to `filter` now and on every reconnection. When connected, waits for the broker's SUBACK and
    /// throws if it refuses; when not, the subscription is sent as soon as the connection is up.
    public func subscribe(_ filter: String, qos: QoS = .atLeastOnce, timeout: Duration = .seconds(10)) async throws(MQTTError) {
        let connected = self.state.withLock { state -> Bool in
            state.subscriptions.removeAll { $0.filter == filter }
            state.subscriptions.append((filter, qos))
            if case .connected = state.connection { return true }
            return false
        }
        guard connected else { return }
        let granted = try await self.sendAndWait("subscribe to '\(filter)'", timeout: timeout) { mid in
            mosquitto_subscribe(self.handle, &mid, filter, qos.rawValue)
        }
        if granted >= 0x80 { throw MQTTError.subscriptionRefused(filter, granted) }
    }

    /// Unsubscribes from `filter` (and stops resubscribing it). Waits for the UNSUBACK when connected.
    public func unsubscribe(_ filter: String, timeout: Duration = .seconds(10)) async throws(MQTTError) {
        let connected = self.state.withLock { state -> Bool in
            state.subscriptions.removeAll { $0.filter == filter }
            if case .connected = state.connection { return true }
            return false
        }
        guard connected else { return }
        _ = try await self.sendAndWait("unsubscribe from '\(filter)'", timeout: timeout) { mid in
            mosquitto_unsubscribe(self.handle, &mid, filter)
        }
    }

    /// Publishes and, at QoS 1 or 2, waits for the broker's acknowledgement. While disconnected, libmosquitto
    /// queues QoS 1/2 messages and sends them on reconnection; the wait then lasts until `timeout`.
    ///
    /// That queue is libmosquitto's, not the client's offline queue: across a reconnection a message published
    /// here can overtake messages that `publishNow` kept. Where order matters, publish with `publishNow` only.
    public func publish(
        _ topic: String,
        payload: [UInt8],
        qos: QoS = .atLeastOnce,
        retain: Bool = false,
        timeout: Duration = .seconds(10)
    ) async throws(MQTTError) {
        if qos == .atMostOnce {
            try self.publishNow(topic, payload: payload, qos: qos, retain: retain)
            return
        }
        _ = try await self.sendAndWait("publish to '\(topic)'", timeout: timeout) { mid in
            payload.withUnsafeBytes { bytes in
                mosquitto_publish(self.handle, &mid, topic, Int32(bytes.count), bytes.baseAddress, qos.rawValue, retain)
            }
        }
    }

    /// Publishes without waiting for an acknowledgement. While disconnected, a QoS 1/2 message is kept (up to
    /// `maximumOfflineMessages`) and sent on reconnection, in order; a QoS 0 message is refused with an error.
    public func publishNow(_ topic: String, payload: [UInt8], qos: QoS = .atMostOnce, retain: Bool = false) throws(MQTTError) {
        if qos != .atMostOnce {
            let kept = try self.state.withLock { state throws(MQTTError) -> Bool in
                // Keep order: while older messages wait, newer ones wait behind them.
                if case .connected = state.connection, state.offline.isEmpty, !state.flushing { return false }
                try self.keepOffline(&state, MQTTMessage(topic: topic, payload: payload, qos: qos, retain: retain))
                return true
            }
            if kept { return }
        }
        let rc = self.send(topic, payload: payload, qos: qos, retain: retain)
        if rc == Int32(MOSQ_ERR_NO_CONN.rawValue) && qos != .atMostOnce {
            // The connection dropped under us: keep the message for the reconnection.
            try self.state.withLock { state throws(MQTTError) in
                try self.keepOffline(&state, MQTTMessage(topic: topic, payload: payload, qos: qos, retain: retain))
            }
            return
        }
        try check(rc, "publish to '\(topic)'")
    }

    func send(_ topic: String, payload: [UInt8], qos: QoS, retain: Bool) -> Int32 {
        payload.withUnsafeBytes { bytes in
            mosquitto_publish(self.handle, nil, topic, Int32(bytes.count), bytes.baseAddress, qos.rawValue, retain)
        }
    }

    private func keepOffline(_ state: inout State, _ message: MQTTMessage) throws(MQTTError) {
        guard state.offline.count < self.configuration.maximumOfflineMessages else {
            throw MQTTError(
                code: Int32(MOSQ_ERR_NO_CONN.rawValue),
                message: "publish to '\(message.topic)': not connected and \(state.offline.count) messages already wait"
            )
        }
        state.offline.append(message)
    }

    /// Sends the messages kept while disconnected (network thread, after the connection's flush barrier). Until
    /// the queue is empty, `publishNow` keeps queueing behind it, so nothing published meanwhile overtakes a kept
    /// message.
    func flushOffline() {
        while true {
            let batch = self.state.withLock { state -> [MQTTMessage] in
                let batch = Array(state.offline.prefix(1_000))
                state.offline.removeFirst(batch.count)
                // Empty: done, in the same critical section that finds it empty.
                state.flushing = !batch.isEmpty
                return batch
            }
            guard !batch.isEmpty else { return }
            for (index, message) in batch.enumerated() {
                let rc = self.send(message.topic, payload: message.payload, qos: message.qos, retain: message.retain)
                guard rc == Int32(MOSQ_ERR_SUCCESS.rawValue) else {
                    // Lost the connection again: put the rest back in front, in order, for the next connection.
                    self.state.withLock { state in
                        state.offline.insert(contentsOf: batch[index...], at: 0)
                        state.flushing = false
                    }
                    return
                }
            }
        }
    }

    /// Sends with `send` (which sets the message id) and waits for the matching acknowledgement's code.
    func sendAndWait(
        _ operation: String,
        timeout: Duration,
        _ send: (inout Int32) -> Int32
    ) async throws(MQTTError) -> Int32 {
        let stopped = self.state.withLock { state -> Bool in
            if !state.stopped { state.registering += 1 }
            return state.stopped
        }
        if stopped { throw MQTTError.shutDown }
        var sentMid: Int32 = 0
        let rc = send(&sentMid)
        let mid = sentMid
        guard rc == Int32(MOSQ_ERR_SUCCESS.rawValue) else {
            self.state.withLock { self.finishRegistering(&$0) }
            throw MQTTError.mosquitto(rc, operation)
        }
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
                let early = self.state.withLock { state -> Int32? in
                    let early = state.earlyAcks.removeValue(forKey: mid)
                    if early == nil { state.waiters[mid] = Waiter(operation: operation, continuation: continuation) }
                    self.finishRegistering(&state)
                    return early
                }
                if let early {
                    continuation.resume(returning: early)
                    return
                }
                self.failAfter(timeout) { state in
                    guard let waiter = state.waiters.removeValue(forKey: mid) else { return nil }
                    return { waiter.continuation.resume(throwing: MQTTError.timedOut(operation)) }
                }
            }
        } catch let error as MQTTError {
            throw error
        } catch {
            throw MQTTError(code: -5, message: "\(operation): \(error)")
        }
    }

    private func finishRegistering(_ state: inout State) {
        state.registering -= 1
        if state.registering == 0 { state.earlyAcks.removeAll(keepingCapacity: true) }
    }

    /// An acknowledgement for `mid` arrived (network thread): resume its waiter, or keep it for one registering.
    func acknowledge(mid: Int32, code: Int32) {
        let waiter = self.state.withLock { state -> Waiter? in
            if let waiter = state.waiters.removeValue(forKey: mid) { return waiter }
            if state.registering > 0 { state.earlyAcks[mid] = code }
            return nil
        }
        waiter?.continuation.resume(returning: code)
    }
}
