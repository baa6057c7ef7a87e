import BoilerService
import Foundation
import Logging
import MQTT
import RingStream
import ServiceLifecycle
import Telemetry
import TestSupport
import Testing

/// A running ingestion worker against a real broker, with its own topic prefix so tests do not see each other.
final class IngestHarness: Sendable {
    let prefix: String
    let mqttURL: String
    /// What `mosquitto_pub` needs to reach the broker over TLS (the CA file), or nothing.
    let clientTLSArguments: [String]
    let stream: RingStream
    let service: IngestService
    let group: ServiceGroup
    let task: Task<Void, any Error>

    var pipeline: IngestPipeline { self.service.pipeline }

    init(
        mqttURL: String,
        clientID: String = "ingest-test-\(UInt32.random(in: 0...UInt32.max))",
        cleanSession: Bool = true,
        deadLetters: Bool = false,
        reconnectMaximumSeconds: UInt32 = 2,
        protocolVersion: MQTTClient.ProtocolVersion = .v311,
        tls: MQTTClient.TLS? = nil,
        rateLimit: RateLimit? = nil,
        receiveWindow: Duration = .milliseconds(2),
        storage: IngestPipeline.Storage = .perMessage
    ) throws {
        self.clientTLSArguments = tls.map { ["--cafile", $0.caFile] } ?? []
        self.prefix = "t\(UInt32.random(in: 0...UInt32.max))"
        self.mqttURL = mqttURL
        self.stream = try RingStream(
            configuration: RingStream.Configuration(
                name: "TELEMETRY",
                subjects: ["boiler.*.telemetry"],
                maxMessages: 100_000,
                maxBytes: 16 << 20
            )
        )
        var logger = Logger(label: "ingest-test")
        logger.logLevel = .warning
        let layout = try TopicLayout(filter: "\(self.prefix)/+/telemetry")
        let stream = self.stream
        self.service = try IngestService(
            configuration: .init(
                mqtt: .init(
                    url: mqttURL,
                    clientID: clientID,
                    cleanSession: cleanSession,
                    protocolVersion: protocolVersion,
                    tls: tls,
                    reconnectDelaySeconds: 1,
                    reconnectDelayMaximumSeconds: reconnectMaximumSeconds,
                    receiveWindow: receiveWindow
                ),
                deadLetters: deadLetters
            ),
            logger: logger
        ) { deadLetter in
            IngestPipeline(layout: layout, stream: stream, logger: logger, deadLetter: deadLetter, rateLimit: rateLimit, storage: storage)
        }
        self.group = ServiceGroup(services: [self.service], gracefulShutdownSignals: [], logger: logger)
        let group = self.group
        self.task = Task { try await group.run() }
    }

    /// Waits until the worker is connected and subscribed: publishes a probe reading until one is ingested.
    func waitUntilIngesting() async throws {
        for attempt in 0..<100 {
            try await self.publish(boiler: "probe", #"{"v":1,"boot":"probe","seq":\#(attempt),"ts_ms":1000,"water_c":50}"#)
            if try await self.eventually(timeout: .milliseconds(200), { self.stream.lastSequence(subject: "boiler.probe.telemetry") > 0 }) {
                return
            }
        }
        Issue.record("the ingestion worker never started ingesting")
    }

    func topic(_ boiler: String) -> String { "\(self.prefix)/\(boiler)/telemetry" }

    /// Publishes with the real `mosquitto_pub` client.
    func publish(boiler: String, _ payload: String, qos: Int = 1) async throws {
        let (host, port) = try self.hostAndPort()
        let result = try await run(["mosquitto_pub", "-h", host, "-p", port, "-q", "\(qos)", "-t", self.topic(boiler), "-m", payload] + self.clientTLSArguments)
        #expect(result.status == 0, "mosquitto_pub failed")
    }

    /// Publishes a file's bytes with `mosquitto_pub -f`.
    func publish(boiler: String, file: String) async throws {
        let (host, port) = try self.hostAndPort()
        let result = try await run(["mosquitto_pub", "-h", host, "-p", port, "-q", "1", "-t", self.topic(boiler), "-f", file] + self.clientTLSArguments)
        #expect(result.status == 0, "mosquitto_pub -f \(file) failed")
    }

    func hostAndPort() throws -> (String, String) {
        guard let rest = self.mqttURL.split(separator: "//").last, let colon = rest.lastIndex(of: ":") else {
            throw TestServices.Missing(what: "a parsable MQTT URL, got \(self.mqttURL)")
        }
        return (String(rest[..<colon]), String(rest[rest.index(after: colon)...]))
    }

    /// Polls `condition` until true or `timeout`; returns whether it became true.
    func eventually(timeout: Duration = .seconds(10), _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try condition()
    }

    /// Every reading stored for `boiler`, in stream order (a message may hold a run of them).
    func readings(_ boiler: String) throws -> [TelemetryReading] {
        try self.messages(boiler).flatMap { message in
            message.payload.withUnsafeBytes { TelemetryReading.readings(record: $0) } ?? []
        }
    }

    /// Every stream message on `boiler`'s telemetry subject.
    func messages(_ boiler: String) throws -> [StreamMessage] {
        var consumer = try self.stream.makeConsumer(.init(filterSubjects: ["boiler.\(boiler).telemetry"]))
        return self.stream.fetch(&consumer, maxMessages: 100_000).messages
    }

    func stop() async throws {
        await self.group.triggerGracefulShutdown()
        try await self.task.value
    }
}
