extension MQTTClient {
    /// The MQTT protocol version spoken to the broker.
    public enum ProtocolVersion: Sendable, Hashable {
        case v311
        case v5
    }

    /// Quality of service.
    public enum QoS: Int32, Sendable, Hashable, CaseIterable {
        case atMostOnce = 0
        case atLeastOnce = 1
        case exactlyOnce = 2
    }

    /// A message the broker publishes for us if we vanish (the MQTT last will).
    public struct Will: Sendable, Hashable {
        public var topic: String
        public var payload: [UInt8]
        public var qos: QoS
        public var retain: Bool

        public init(topic: String, payload: [UInt8], qos: QoS = .atLeastOnce, retain: Bool = true) {
            self.topic = topic
            self.payload = payload
            self.qos = qos
            self.retain = retain
        }
    }

    /// TLS settings for `mqtts://` URLs.
    public struct TLS: Sendable, Hashable {
        /// PEM file of the certificate authorities to trust.
        public var caFile: String
        /// PEM client certificate and key, for brokers that require one.
        public var certificateFile: String?
        public var keyFile: String?
        /// Skip the host name check (never in production).
        public var insecureSkipHostnameCheck: Bool

        public init(caFile: String, certificateFile: String? = nil, keyFile: String? = nil, insecureSkipHostnameCheck: Bool = false) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.insecureSkipHostnameCheck = insecureSkipHostnameCheck
        }
    }

    /// How to reach and talk to the broker.
    public struct Configuration: Sendable, Hashable {
        /// `mqtt://host:port` (default port 1883) or `mqtts://host:port` (default 8883, needs `tls`).
        public var url: String
        /// The client id; required for a persistent session.
        public var clientID: String
        public var username: String?
        public var password: String?
        /// Seconds between keepalive pings. Default 30.
        public var keepAliveSeconds: Int32
        /// false: a persistent session, so the broker queues QoS 1/2 messages while we are away.
        public var cleanSession: Bool
        /// With MQTT v5 and a persistent session: how long the broker keeps it after we go. Default 1 day.
        public var sessionExpirySeconds: UInt32
        public var protocolVersion: ProtocolVersion
        public var will: Will?
        public var tls: TLS?
        /// Automatic reconnect: first delay and the cap of the exponential backoff, seconds. Default 1 and 30.
        public var reconnectDelaySeconds: UInt32
        public var reconnectDelayMaximumSeconds: UInt32
        /// Outgoing QoS 1/2 messages in flight at once (0: no limit). Default 1,000.
        public var maximumInflightMessages: UInt32
        /// QoS 1/2 messages `publishNow` keeps while disconnected, sent in order on reconnection. Past this,
        /// `publishNow` throws rather than drop silently. Default 100,000.
        public var maximumOfflineMessages: Int
        /// TCP_NODELAY on the broker connection: each packet leaves at once instead of Nagle's algorithm
        /// coalescing small ones while one is unacknowledged. Default false, as in libmosquitto and
        /// mosquitto_sub: for a subscriber it is a PUBACK segment and a broker wake-up per message, about a
        /// fifth of the ingestion worker's CPU at 10,000 messages/s (deploy/bench/ingest.sh, README).
        public var tcpNoDelay: Bool
        /// The network thread wakes at most once per window: a message that wakes it is handled at once, with
        /// all that has arrived by then, and the thread then sleeps until a window has passed since it woke. One
        /// sleep and wake-up per window instead of one per message, and the window's PUBACKs leave together (in one
        /// write from the write buffer, or, without it, from the socket corked while the thread drains). What
        /// arrives while it sleeps waits up to a window, and so does a publish made meanwhile. Zero (the default)
        /// reads each message as it comes, as libmosquitto's own loop does. At most 1 s. A broker that lets only a
        /// few QoS 1/2 messages be in flight to a client (mosquitto's `max_inflight_messages`, 20 by default) sends
        /// at most that many while the thread sleeps; once it wakes, a backlog drains without a pause (tested with
        /// 20).
        public var receiveWindow: Duration
        /// Read the socket through a 64 KiB buffer on the network thread: one system call per buffer-full instead
        /// of libmosquitto's four or five per message (`CSocketReadBuffer`). Default true.
        public var bufferedReads: Bool
        /// Write to the socket through a 16 KiB buffer on the network thread, written out once per pass of the
        /// loop that may wait, and once per receive window's drain: one system call for many PUBACKs instead of
        /// libmosquitto's one per packet (`CSocketReadBuffer`'s write buffer). Default true.
        public var bufferedWrites: Bool

        public init(
            url: String,
            clientID: String,
            username: String? = nil,
            password: String? = nil,
            keepAliveSeconds: Int32 = 30,
            cleanSession: Bool = true,
            sessionExpirySeconds: UInt32 = 86_400,
            protocolVersion: ProtocolVersion = .v311,
            will: Will? = nil,
            tls: TLS? = nil,
            reconnectDelaySeconds: UInt32 = 1,
            reconnectDelayMaximumSeconds: UInt32 = 30,
            maximumInflightMessages: UInt32 = 1_000,
            maximumOfflineMessages: Int = 100_000,
            tcpNoDelay: Bool = false,
            receiveWindow: Duration = .zero,
            bufferedReads: Bool = true,
            bufferedWrites: Bool = true
        ) {
            self.url = url
            self.clientID = clientID
            self.username = username
            self.password = password
            self.keepAliveSeconds = keepAliveSeconds
            self.cleanSession = cleanSession
            self.sessionExpirySeconds = sessionExpirySeconds
            self.protocolVersion = protocolVersion
            self.will = will
            self.tls = tls
            self.reconnectDelaySeconds = reconnectDelaySeconds
            self.reconnectDelayMaximumSeconds = reconnectDelayMaximumSeconds
            self.maximumInflightMessages = maximumInflightMessages
            self.maximumOfflineMessages = maximumOfflineMessages
            self.tcpNoDelay = tcpNoDelay
            self.receiveWindow = receiveWindow
            self.bufferedReads = bufferedReads
            self.bufferedWrites = bufferedWrites
        }

        /// Host, port and whether TLS is used, parsed from `url`.
        public func endpoint() throws(MQTTError) -> (host: String, port: Int32, tls: Bool) {
            let secure: Bool
            let rest: Substring
            if self.url.hasPrefix("mqtt://") {
                secure = false
                rest = self.url.dropFirst("mqtt://".count)
            } else if self.url.hasPrefix("mqtts://") {
                secure = true
                rest = self.url.dropFirst("mqtts://".count)
            } else {
                throw .invalidConfiguration("URL '\(self.url)' must start with mqtt:// or mqtts://")
            }
            let authority = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            var host = Substring(authority)
            var port: Int32 = secure ? 8883 : 1883
            if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
                host = authority[..<colon]
                guard let parsed = Int32(authority[authority.index(after: colon)...]), (1...65_535).contains(parsed)
                else { throw .invalidConfiguration("URL '\(self.url)' has an invalid port") }
                port = parsed
            }
            if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
            guard !host.isEmpty else { throw .invalidConfiguration("URL '\(self.url)' has no host") }
            if secure && self.tls == nil { throw .invalidConfiguration("an mqtts:// URL needs TLS settings (a CA file)") }
            guard self.receiveWindow >= .zero && self.receiveWindow <= .seconds(1) else {
                throw .invalidConfiguration("the receive window must be 0 to 1 s, got \(self.receiveWindow)")
            }
            if !self.cleanSession && self.clientID.isEmpty {
                throw .invalidConfiguration("a persistent session (cleanSession false) needs a client id")
            }
            return (String(host), port, secure)
        }
    }

    /// Where the connection stands.
    public enum ConnectionState: Sendable, Hashable {
        /// Not started, or stopped by `disconnect()`.
        case idle
        /// Connecting or reconnecting (libmosquitto retries with backoff).
        case connecting
        /// Connected; `sessionPresent` says whether the broker kept our earlier session.
        case connected(sessionPresent: Bool)
    }
}
