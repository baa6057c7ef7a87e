import CMosquitto
import CSocketReadBuffer
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
        boilerpipeline_self_wake_skip(self.selfWakeDescriptor)
        defer { boilerpipeline_self_wake_skip(-1) }
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

    /// Runs mosquitto_loop until it fails (the connection is lost, or there is none). With a receive window, a
    /// message that wakes the thread is handled at once, and so is everything that has arrived by then, without
    /// blocking, until a pass finds nothing; the PUBACKs written meanwhile leave together at the end (from the
    /// write buffer, or, without it, from the socket corked with TCP_CORK meanwhile). Then the thread sleeps until
    /// a window has passed since it woke: it wakes at most once per window, and what arrives while it sleeps waits
    /// at most a window.
    ///
    /// With buffered writes (`socket_write_buffer.c`, in `CSocketReadBuffer`), libmosquitto's writes on this thread
    /// go to a buffer, which is written out in one system call before any pass that may wait, and at the end of a
    /// drain. Should the socket be full then, the next passes wait at most 1 ms each, until the rest has gone.
    ///
    /// The socket is read through this thread's read buffer (`CSocketReadBuffer`): libmosquitto asks for an MQTT
    /// packet in three or four reads and one more that finds nothing, and the buffer makes them one system call
    /// per 64 KiB. Bytes in the buffer do not make the socket readable, so while there are some, this hands them
    /// to libmosquitto (`mosquitto_loop_read`) instead of waiting in `mosquitto_loop`'s `pselect`.
    private func loopWhileConnected() {
        let window = self.configuration.receiveWindow.components
        let windowNs = UInt64(window.seconds) * 1_000_000_000 + UInt64(window.attoseconds / 1_000_000_000)
        var draining = false
        var wokeAt: UInt64 = 0
        var stopSeen: UInt64? = nil
        // Nothing buffered outlives the connection: libmosquitto closes the socket when the loop fails, and a
        // new one may get the same number.
        defer {
            boilerpipeline_read_buffer_detach()
            boilerpipeline_write_buffer_detach()
        }
        let bufferedWrites = self.configuration.bufferedWrites
        while true {
            let before = self.received.load(ordering: .relaxed)
            if self.configuration.bufferedReads {
                _ = boilerpipeline_read_buffer_attach(mosquitto_socket(self.handle))
            }
            // What was written goes out before a pass that may wait; a socket too full to take it all is tried
            // again after at most 1 ms.
            var writesWaiting = false
            if bufferedWrites {
                _ = boilerpipeline_write_buffer_attach(mosquitto_socket(self.handle))
                if !draining {
                    let flushed = boilerpipeline_write_buffer_flush() == 0
                    writesWaiting = !flushed && boilerpipeline_write_buffer_pending() > 0
                }
            }
            let ok = Int32(MOSQ_ERR_SUCCESS.rawValue)
            var rc = ok
            if boilerpipeline_read_buffer_pending() > 0 {
                rc = mosquitto_loop_read(self.handle, 1)
                if rc == ok && mosquitto_want_write(self.handle) { rc = mosquitto_loop_write(self.handle, 1) }
            } else {
                rc = mosquitto_loop(self.handle, draining ? 0 : writesWaiting ? 1 : 1_000, 1)
            }
            // The network thread serves only this client, so its count is the client's.
            self.selfWakesSkipped.store(boilerpipeline_self_wakes_skipped(), ordering: .relaxed)
            guard rc == ok else { return }
            if self.stopping {
                // disconnect() queued a DISCONNECT; once it is written the socket closes and mosquitto_loop fails.
                // Should that not happen within a second (a broker that stopped reading), give up on it.
                let now = Self.monotonicNanoseconds()
                if let stopSeen, now > stopSeen + 1_000_000_000 { return }
                if stopSeen == nil { stopSeen = now }
            }
            guard windowNs > 0 else { continue }
            if self.received.load(ordering: .relaxed) != before {
                if !draining {
                    draining = true
                    wokeAt = Self.monotonicNanoseconds()
                    if !bufferedWrites { self.setSocketOption(TCP_CORK, 1) }
                }
            } else if draining {
                // This pass wrote the PUBACKs queued so far; flushed (or uncorked), they leave. Then quick ACKs:
                // while the thread sleeps, each segment that arrives is acknowledged at once, so a broker with
                // Nagle's algorithm (mosquitto's default) sends on instead of holding its messages until our next
                // PUBACK. A socket too full to take the PUBACKs now gets them after the sleep.
                draining = false
                if bufferedWrites {
                    _ = boilerpipeline_write_buffer_flush()
                } else {
                    self.setSocketOption(TCP_CORK, 0)
                }
                self.setSocketOption(TCP_QUICKACK, 1)
                self.windowSleeps.wrappingAdd(1, ordering: .relaxed)
                Self.sleep(until: wokeAt + windowNs)
            }
        }
    }

    /// Sleeps until the monotonic clock reads `deadline` (ns); returns at once if it has passed.
    private static func sleep(until deadline: UInt64) {
        let now = Self.monotonicNanoseconds()
        guard deadline > now else { return }
        var pause = timespec(tv_sec: Int((deadline - now) / 1_000_000_000), tv_nsec: Int((deadline - now) % 1_000_000_000))
        var rest = timespec()
        while nanosleep(&pause, &rest) == -1 && errno == EINTR { pause = rest }
    }

    /// Sets a TCP option on the broker socket (TCP_CORK: writes wait in the kernel until it is cleared, at most
    /// 200 ms; TCP_QUICKACK: acknowledge what arrives at once). Nothing to do without a socket.
    private func setSocketOption(_ option: Int32, _ value: Int32) {
        let socket = mosquitto_socket(self.handle)
        guard socket >= 0 else { return }
        var value = value
        _ = setsockopt(socket, Int32(IPPROTO_TCP), option, &value, socklen_t(MemoryLayout<Int32>.size))
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
