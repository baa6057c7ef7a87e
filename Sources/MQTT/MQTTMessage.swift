/// A message as libmosquitto hands it over: topic and payload are borrowed from libmosquitto and valid only
/// during the handler call. Read them in place (the ingest path decodes straight from them) or copy what you keep;
/// never let the pointers escape.
public struct MQTTMessageView {
    /// The topic's UTF-8 bytes (no terminating NUL).
    public let topic: UnsafeBufferPointer<UInt8>
    /// The payload bytes.
    public let payload: UnsafeBufferPointer<UInt8>
    /// The QoS the message was delivered with.
    public let qos: MQTTClient.QoS
    /// Whether the broker delivered it as a retained message.
    public let retain: Bool

    /// The topic as a String (allocates: keep it off the hot path).
    public var topicString: String { String(decoding: self.topic, as: UTF8.self) }

    /// An owned copy, for the paths that keep messages.
    public func copy() -> MQTTMessage {
        MQTTMessage(topic: self.topicString, payload: Array(self.payload), qos: self.qos, retain: self.retain)
    }
}

/// An owned message.
public struct MQTTMessage: Sendable, Hashable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: MQTTClient.QoS
    public var retain: Bool

    public init(topic: String, payload: [UInt8], qos: MQTTClient.QoS, retain: Bool) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}
