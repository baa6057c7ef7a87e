import CMosquitto
import CSocketReadBuffer
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// libmosquitto is initialised once per process, on first use.
private let libraryInitialized: Bool = {
    mosquitto_lib_init()
    return true
}()

/// A safe MQTT client over libmosquitto (v3.1.1 and v5, TLS, auth, persistent sessions, last will), with a
/// network thread of its own running libmosquitto's loop (see `Configuration.receiveWindow`).
///
/// - Incoming messages go to `messageHandler` **on the network thread**, with topic and payload borrowed (no
///   copy, no Task, no String): the hot path. The handler must be quick and must not block on this client's
///   async API.
/// - The network thread reconnects with exponential backoff (as libmosquitto's own loop would); on every (re)connection the client subscribes
///   again to everything `subscribe` was asked for. Connection changes go to `connectionHandler`.
/// - Everything else is async: `connect`, `subscribe`, `unsubscribe`, `publish` (which waits for PUBACK/PUBCOMP at
///   QoS 1/2), `waitForConnection`, `disconnect`.
///
/// Call `disconnect()` when done: it stops the network thread and releases the client.
public final class MQTTClient: Sendable {
    public typealias MessageHandler = @Sendable (MQTTMessageView) -> Void
    public typealias ConnectionHandler = @Sendable (ConnectionState) -> Void

    struct State {
        var connection: ConnectionState = .idle
        var started = false
        var stopped = false
        /// Filters to (re)subscribe on every connection, in the order asked.
        var subscriptions: [(filter: String, qos: QoS)] = []
        /// Operations waiting for an acknowledgement, by message id.
        var waiters: [Int32: Waiter] = [:]
        /// Acknowledgements that arrived before their waiter was registered.
        var earlyAcks: [Int32: Int32] = [:]
        /// Calls between sending and registering their waiter; while > 0, unclaimed acks are kept.
        var registering = 0
        var connectionWaiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var nextWaiterID = 0
        var lastRefusal: MQTTError? = nil
        /// QoS 1/2 messages published while disconnected, sent on reconnection.
        var offline: [MQTTMessage] = []
        /// From each connection until the offline queue is flushed, newer messages queue behind the kept ones.
        var flushing = false
        /// The message id of the UNSUBSCRIBE sent on connection as a barrier: its UNSUBACK starts the flush.
        var flushBarrier: Int32? = nil
        /// Our network thread, from `start()` until `disconnect()`.
        var networkThread: pthread_t? = nil
    }

    struct Waiter {
        var operation: String
        var continuation: CheckedContinuation<Int32, any Error>
    }

    public let configuration: Configuration
    // libmosquitto is thread-safe for the calls made here once its network thread runs (threaded mode).
    nonisolated(unsafe) let handle: OpaquePointer
    let state = Mutex(State())
    let messageHandler: MessageHandler
    let connectionHandler: ConnectionHandler?
    let logger: Logger
    /// Messages delivered to the handler.
    let received = Atomic<UInt64>(0)
    /// Our publishes the broker has acknowledged (QoS 1/2) or that were sent (QoS 0).
    let published = Atomic<UInt64>(0)
    /// Set by `disconnect()`: the network thread ends.
    let stopRequested = Atomic<Bool>(false)
    /// Times the network thread slept out a receive window (for tests).
    let windowSleeps = Atomic<UInt64>(0)
    /// The write end of libmosquitto's wake-up pipe for this client (-1 if none was seen): it writes a byte there
    /// for every packet it queues, a PUBACK per QoS 1 message received included. The network thread skips those
    /// writes when it makes them itself (`boilerpipeline_self_wake_skip`): it sends what it queued in its next
    /// pass anyway, and the byte cost it a system call per message, and one more pass to read it back.
    let selfWakeDescriptor: Int32
    /// Wake-up writes the network thread skipped (for tests).
    let selfWakesSkipped = Atomic<UInt64>(0)
    /// Set on each successful connection; the network thread's backoff starts over after one.
    let connectedSinceBackoff = Atomic<Bool>(false)

    /// Makes a client; nothing is sent until `connect`/`start`. Throws for a configuration libmosquitto refuses.
    public init(
        configuration: Configuration,
        logger: Logger = Logger(label: "mqtt"),
        connectionHandler: ConnectionHandler? = nil,
        messageHandler: @escaping MessageHandler
    ) throws(MQTTError) {
        _ = libraryInitialized
        let endpoint = try configuration.endpoint()
        // The socket pair libmosquitto opens here is the client's wake-up pipe (see `selfWakeDescriptor`).
        boilerpipeline_socketpair_capture_begin()
        let made = mosquitto_new(configuration.clientID.isEmpty ? nil : configuration.clientID, configuration.cleanSession, nil)
        self.selfWakeDescriptor = boilerpipeline_socketpair_capture_end()
        guard let handle = made else {
            throw MQTTError(code: -1, message: "mosquitto_new failed (out of memory, or an invalid client id)")
        }
        self.handle = handle
        self.configuration = configuration
        self.messageHandler = messageHandler
        self.connectionHandler = connectionHandler
        var logger = logger
        logger[metadataKey: "mqtt.client_id"] = "\(configuration.clientID)"
        self.logger = logger
        do {
            try self.configure(endpoint: endpoint)
        } catch {
            mosquitto_destroy(handle)
            throw error
        }
    }

    deinit {
        mosquitto_destroy(self.handle)
    }

    private func configure(endpoint: (host: String, port: Int32, tls: Bool)) throws(MQTTError) {
        let handle = self.handle
        let configuration = self.configuration
        let version = configuration.protocolVersion == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
        try check(mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, version), "set protocol version")
        try check(mosquitto_int_option(handle, MOSQ_OPT_TCP_NODELAY, configuration.tcpNoDelay ? 1 : 0), "set TCP_NODELAY")
        if let username = configuration.username {
            try check(mosquitto_username_pw_set(handle, username, configuration.password), "set username/password")
        }
        if let will = configuration.will {
            let rc = will.payload.withUnsafeBytes { bytes in
                mosquitto_will_set(handle, will.topic, Int32(bytes.count), bytes.baseAddress, will.qos.rawValue, will.retain)
            }
            try check(rc, "set last will on '\(will.topic)'")
        }
        if endpoint.tls, let tls = configuration.tls {
            try check(
                mosquitto_tls_set(handle, tls.caFile, nil, tls.certificateFile, tls.keyFile, nil),
                "set TLS (CA file '\(tls.caFile)')"
            )
            if tls.insecureSkipHostnameCheck { try check(mosquitto_tls_insecure_set(handle, true), "set TLS insecure") }
        }
        // The reconnect backoff is the network thread's own (MQTTClient+NetworkLoop.swift); libmosquitto's
        // reconnect delay is used only by its own loops, which this client does not run.
        try check(mosquitto_max_inflight_messages_set(handle, configuration.maximumInflightMessages), "set inflight")
        // Our own thread runs the network loop (MQTTClient+NetworkLoop.swift); other threads publish meanwhile.
        try check(mosquitto_threaded_set(handle, true), "set threaded mode")
        self.installCallbacks()
    }

    // MARK: Connection

    /// Starts connecting in the background (libmosquitto's network thread retries until the broker answers).
    public func start() throws(MQTTError) {
        let endpoint = try self.configuration.endpoint()
        let proceed = self.state.withLock { state -> Bool in
            guard !state.started, !state.stopped else { return false }
            state.started = true
            state.connection = .connecting
            return true
        }
        guard proceed else { return }
        // Balanced in disconnect(): callbacks may run until the network thread has stopped.
        mosquitto_user_data_set(self.handle, Unmanaged.passRetained(self).toOpaque())
        var properties: OpaquePointer? = nil
        defer { mosquitto_property_free_all(&properties) }
        if self.configuration.protocolVersion == .v5 && !self.configuration.cleanSession {
            try check(
                mosquitto_property_add_int32(
                    &properties,
                    Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue),
                    self.configuration.sessionExpirySeconds
                ),
                "set session expiry"
            )
        }
        // A blocking TCP connect (fast, or refused at once); if the broker is down, the network thread retries.
        let rc = mosquitto_connect_bind_v5(
            self.handle,
            endpoint.host,
            endpoint.port,
            self.configuration.keepAliveSeconds,
            nil,
            properties
        )
        if rc != Int32(MOSQ_ERR_SUCCESS.rawValue) {
            self.logger.warning(
                "MQTT broker not reachable yet; retrying in the background",
                metadata: ["mqtt.url": "\(self.configuration.url)", "mqtt.error": "\(MQTTError.mosquitto(rc, "connect"))"]
            )
            if rc == Int32(MOSQ_ERR_INVAL.rawValue) || rc == Int32(MOSQ_ERR_NOT_SUPPORTED.rawValue) {
                throw MQTTError.mosquitto(rc, "connect to \(self.configuration.url)")
            }
        }
        try self.startNetworkThread()
    }

    /// Starts connecting and waits until connected (or `timeout`).
    public func connect(timeout: Duration = .seconds(10)) async throws(MQTTError) {
        try self.start()
        try await self.waitForConnection(timeout: timeout)
    }

    /// The connection's current state.
    public var connectionState: ConnectionState { self.state.withLock { $0.connection } }

    /// True while connected to the broker.
    public var isConnected: Bool {
        if case .connected = self.connectionState { return true }
        return false
    }

    /// Whether the connection's socket has TCP_NODELAY set; `nil` while there is no socket. For tests.
    var socketHasNoDelay: Bool? {
        let socket = mosquitto_socket(self.handle)
        guard socket >= 0 else { return nil }
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length) == 0 else { return nil }
        return value != 0
    }

    /// QoS 1/2 messages waiting for the connection to come back.
    public var offlineMessages: Int { self.state.withLock { $0.offline.count } }

    /// Publishes completed so far: acknowledged by the broker at QoS 1/2, written to the socket at QoS 0.
    public var messagesPublished: UInt64 { self.published.load(ordering: .relaxed) }

    /// Messages delivered to the handler so far.
    public var messagesReceived: UInt64 { self.received.load(ordering: .relaxed) }

    /// Waits until the client is connected; throws after `timeout`, with the broker's refusal if there was one.
    public func waitForConnection(timeout: Duration = .seconds(10)) async throws(MQTTError) {
        let id = self.state.withLock { state -> Int? in
            if case .connected = state.connection { return nil }
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        guard let id else { return }
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = self.state.withLock { state -> Result<Void, MQTTError>? in
                    if case .connected = state.connection { return .success(()) }
                    if state.stopped { return .failure(.shutDown) }
                    state.connectionWaiters[id] = continuation
                    return nil
                }
                if let resumeNow { continuation.resume(with: resumeNow) }
                self.failAfter(timeout) { state in
                    guard let waiter = state.connectionWaiters.removeValue(forKey: id) else { return nil }
                    let error = state.lastRefusal ?? MQTTError.timedOut("connect to \(self.configuration.url)")
                    return { waiter.resume(throwing: error) }
                }
            }
        } catch let error as MQTTError {
            throw error
        } catch {
            throw MQTTError(code: -5, message: "\(error)")
        }
    }

    /// Disconnects cleanly, stops the network thread, and fails whatever still waits. Idempotent.
    public func disconnect() {
        let (wasStarted, waiters, connectionWaiters) = self.state.withLock { state in
            let wasStarted = state.started && !state.stopped
            state.stopped = true
            state.connection = .idle
            let waiters = state.waiters.values.map(\.continuation)
            state.waiters.removeAll()
            let connectionWaiters = Array(state.connectionWaiters.values)
            state.connectionWaiters.removeAll()
            return (wasStarted, waiters, connectionWaiters)
        }
        for waiter in waiters { waiter.resume(throwing: MQTTError.shutDown) }
        for waiter in connectionWaiters { waiter.resume(throwing: MQTTError.shutDown) }
        guard wasStarted else { return }
        mosquitto_disconnect(self.handle)
        self.stopNetworkThread()
        if let userData = mosquitto_userdata(self.handle) {
            mosquitto_user_data_set(self.handle, nil)
            Unmanaged<MQTTClient>.fromOpaque(userData).release()
        }
        self.connectionHandler?(.idle)
    }

    /// Runs `fail` under the lock after `timeout`; what it returns is run after the lock is released.
    func failAfter(_ timeout: Duration, _ fail: @escaping @Sendable (inout State) -> (() -> Void)?) {
        Task {
            try? await Task.sleep(for: timeout)
            let action = self.state.withLock { fail(&$0) }
            action?()
        }
    }
}
