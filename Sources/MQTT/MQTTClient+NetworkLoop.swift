import CMosquitto
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

// The network thread: libmosquitto's `mosquitto_loop` driven by a thread of our own (libmosquitto in its
// "threaded, external loop" mode) rather than by `mosquitto_loop_start`, so that it can read in windows
// (`Configuration.receiveWindow`). Reconnection follows `mosquitto_loop_forever`'s backoff, except that no error
// ends the thread: only `disconnect()` does.

extension MQTTClient {
    /// Starts the network thread. It holds a reference to the client until it ends.
    func startNetworkThread() throws(MQTTError) {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            let client = Unmanaged<MQTTClient>.fromOpaque(context).takeRetainedValue()
            client.runNetworkLoop()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<MQTTClient>.fromOpaque(context).release()
            throw MQTTError(code: -1, message: "cannot start the network thread (pthread_create: \(rc))")
        }
        self.state.withLock { $0.networkThread = thread }
    }

    /// Asks the network thread to end (after `mosquitto_disconnect` has queued the DISCONNECT) and waits for it,
    /// unless called on that thread itself (from a callback), which then ends after the callback.
    func stopNetworkThread() {
        self.stopRequested.store(true, ordering: .releasing)
        guard let thread = self.state.withLock({ state -> pthread_t? in
            defer { state.networkThread = nil }
            return state.networkThread
        }) else { return }
        if pthread_equal(thread, pthread_self()) != 0 {
            pthread_detach(thread)
        } else {
            pthread_join(thread, nil)
        }
    }

    private var stopping: Bool { self.stopRequested.load(ordering: .acquiring) }

    private func runNetworkLoop() {
        _ = boilerpipeline_name_thread("mqtt-network")
        var reconnects: UInt32 = 0
        while !self.stopping {
            self.loopWhileConnected()
            if self.stopping { break }
            if self.connectedSinceBackoff.exchange(false, ordering: .relaxed) { reconnects = 0 }
            // mosquitto_loop_forever's backoff: delay × (n+1)² (exponential) up to the maximum.
            let first = max(self.configuration.reconnectDelaySeconds, 1)
            let maximum = max(self.configuration.reconnectDelayMaximumSeconds, first)
            let growth = UInt64(reconnects) + 1
            let delay = min(UInt64(first) * growth * growth, UInt64(maximum))
            if delay < UInt64(maximum) { reconnects += 1 }
            guard self.sleepUnlessStopping(seconds: delay) else { break }
            // A failure here leaves no socket; the next mosquitto_loop says so and the backoff goes on.
            _ = mosquitto_reconnect(self.handle)
        }
    }

    /// Runs mosquitto_loop until it fails (the connection is lost, or there is none). With a receive window, the
    /// first message after a quiet spell is handled at once; then the thread sleeps for the window and handles
    /// whatever came meanwhile without blocking, until a pass finds nothing. Meanwhile the socket is corked
    /// (TCP_CORK), so the PUBACKs of a window leave together, in as few segments as fit, when it is uncorked.
    private func loopWhileConnected() {
        let window = self.configuration.receiveWindow.components
        var pause = timespec(tv_sec: Int(window.seconds), tv_nsec: Int(window.attoseconds / 1_000_000_000))
        let windowed = pause.tv_sec > 0 || pause.tv_nsec > 0
        var draining = false
        var stopSeen: UInt64? = nil
        while true {
            let before = self.received.load(ordering: .relaxed)
            let rc = mosquitto_loop(self.handle, draining ? 0 : 1_000, 1)
            guard rc == Int32(MOSQ_ERR_SUCCESS.rawValue) else { return }
            if self.stopping {
                // disconnect() queued a DISCONNECT; once it is written the socket closes and mosquitto_loop fails.
                // Should that not happen within a second (a broker that stopped reading), give up on it.
                let now = Self.monotonicNanoseconds()
                if let stopSeen, now > stopSeen + 1_000_000_000 { return }
                if stopSeen == nil { stopSeen = now }
            }
            if self.received.load(ordering: .relaxed) != before {
                if windowed && !draining {
                    draining = true
                    self.cork(true)
                    var rest = timespec()
                    while nanosleep(&pause, &rest) == -1 && errno == EINTR { pause = rest }
                    pause = timespec(tv_sec: Int(window.seconds), tv_nsec: Int(window.attoseconds / 1_000_000_000))
                }
            } else {
                if draining { self.cork(false) }
                draining = false
            }
        }
    }

    /// TCP_CORK on the broker socket: on, writes wait in the kernel (at most 200 ms, or until a segment is full);
    /// off, they leave. Nothing to do without a socket.
    private func cork(_ on: Bool) {
        let socket = mosquitto_socket(self.handle)
        guard socket >= 0 else { return }
        var value: Int32 = on ? 1 : 0
        _ = setsockopt(socket, Int32(IPPROTO_TCP), TCP_CORK, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Sleeps for `seconds` in short steps; false if `disconnect()` was called meanwhile.
    private func sleepUnlessStopping(seconds: UInt64) -> Bool {
        let deadline = Self.monotonicNanoseconds() + seconds * 1_000_000_000
        while Self.monotonicNanoseconds() < deadline {
            if self.stopping { return false }
            var step = timespec(tv_sec: 0, tv_nsec: 50_000_000)
            nanosleep(&step, nil)
        }
        return !self.stopping
    }

    private static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
