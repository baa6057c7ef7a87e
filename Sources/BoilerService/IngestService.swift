import Logging
import MQTT
import RingStream
import ServiceLifecycle
import Telemetry

/// The ingestion worker as a `Service`: subscribes to the telemetry filter over MQTT and hands every message to
/// the `IngestPipeline` on libmosquitto's network thread. Reconnection and resubscription are the client's;
/// with a persistent session (cleanSession false) and QoS 1 the broker keeps what arrives while we are away.
public final class IngestService: Service, Sendable {
    /// The MQTT side of ingestion.
    public struct Configuration: Sendable {
        /// How to reach the broker; use a fixed client id and `cleanSession: false` to lose nothing across
        /// reconnections.
        public var mqtt: MQTTClient.Configuration
        /// The QoS of the telemetry subscription. Default 1.
        public var subscriptionQoS: MQTTClient.QoS
        /// Republish rejected payloads' reasons to `boilers/{id}/rejected`. Default false.
        public var deadLetters: Bool

        public init(mqtt: MQTTClient.Configuration, subscriptionQoS: MQTTClient.QoS = .atLeastOnce, deadLetters: Bool = false) {
            self.mqtt = mqtt
            self.subscriptionQoS = subscriptionQoS
            self.deadLetters = deadLetters
        }
    }

    public let pipeline: IngestPipeline
    public let client: MQTTClient
    let configuration: Configuration
    let logger: Logger

    /// Makes the worker: `makePipeline` receives the dead-letter sink (nil unless enabled) and builds the pipeline.
    public init(
        configuration: Configuration,
        logger: Logger,
        makePipeline: (IngestPipeline.DeadLetterSink?) -> IngestPipeline
    ) throws(MQTTError) {
        let relay = DeadLetterRelay()
        var sink: IngestPipeline.DeadLetterSink? = nil
        if configuration.deadLetters {
            sink = { topic, payload in relay.send(topic, payload) }
        }
        let pipeline = makePipeline(sink)
        self.pipeline = pipeline
        self.configuration = configuration
        self.logger = logger
        let client = try MQTTClient(
            configuration: configuration.mqtt,
            logger: logger,
            messageHandler: { message in pipeline.handle(topic: message.topic, payload: message.payload) }
        )
        self.client = client
        relay.client.withLock { $0 = client }
    }

    /// Connects (retrying in the background until the broker answers), subscribes, and ingests until graceful
    /// shutdown; then unsubscribes and disconnects.
    public func run() async throws {
        try self.client.start()
        try await self.client.subscribe(self.pipeline.layout.filter, qos: self.configuration.subscriptionQoS)
        self.logger.info("ingesting telemetry", metadata: ["mqtt.filter": "\(self.pipeline.layout.filter)"])
        try? await gracefulShutdown()
        self.client.disconnect()
    }
}

import Synchronization

/// Lets the pipeline, made before the client, publish dead letters through it.
final class DeadLetterRelay: Sendable {
    let client = Mutex<MQTTClient?>(nil)

    func send(_ topic: String, _ payload: [UInt8]) {
        try? self.client.withLock { $0 }?.publishNow(topic, payload: payload, qos: .atMostOnce)
    }
}
