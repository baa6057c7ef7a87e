import BoilerService
import Foundation
import HeatingControl
import Hummingbird
import HummingbirdTesting
import Logging
import Metrics
import NIOCore
import RingStream
import SnapshotStore
import Telemetry
import TestSupport
import Testing

/// The API over a real pipeline, streams and controller (and, when given, a real PostgreSQL store).
struct APIFixture {
    /// 2025-11-26T14:00:00Z.
    static let hour0: Int64 = 1_764_165_600_000

    let telemetry: RingStream
    let decisions: RingStream
    let pipeline: IngestPipeline
    let controller: ControlService
    let store: SnapshotStore?
    let logger: Logger

    init(
        store: SnapshotStore? = nil,
        maxMessages: Int = 100_000,
        clock: WallClock = .system,
        storage: IngestPipeline.Storage = .perMessage
    ) throws {
        var logger = Logger(label: "api-test")
        logger.logLevel = .critical
        self.logger = logger
        self.store = store
        self.telemetry = try RingStream(configuration: .init(name: "TELEMETRY", subjects: ["boiler.*.telemetry"], maxMessages: maxMessages, maxBytes: 16 << 20))
        self.decisions = try RingStream(configuration: .init(name: "DECISIONS", subjects: ["boiler.*.setpoint"], maxMessages: 10_000, maxBytes: 4 << 20))
        self.pipeline = IngestPipeline(
            decoder: TelemetryDecoder(configuration: .init(maximumFutureSkewMs: .max / 4)), stream: self.telemetry, clock: clock,
            logger: logger, storage: storage
        )
        self.controller = ControlService(
            policy: DefaultControlPolicy(trust: TrustPolicy(minimumCoverage: 0)), telemetry: self.telemetry, decisions: self.decisions,
            pipeline: self.pipeline, store: store, mqtt: nil, logger: logger
        )
    }

    func feed(_ boiler: String, seq: Int, firstMs: Int64, values: [Double]) {
        feedBatch(self.pipeline, boiler: boiler, seq: seq, firstMs: firstMs, values: values)
    }

    /// b1: hour0 at 60 °C (closed), then 62 °C; b2: one reading of 55 °C; one controller tick.
    func populate() async throws {
        self.feed("b1", seq: 0, firstMs: Self.hour0, values: [60, 60, 60])
        self.feed("b1", seq: 3, firstMs: Self.hour0 + hourMs + 59_000, values: [62, 62])
        self.feed("b2", seq: 0, firstMs: Self.hour0 + hourMs + 59_500, values: [55])
        let closed = self.pipeline.withWindows { $0.drainClosed() }
        if let store = self.store { for snapshot in closed { try await store.write(snapshot) } }
        try await self.controller.tick(at: Self.hour0 + hourMs + 60_000)
    }

    func api(
        token: String? = nil,
        readiness: @escaping BoilerAPI.Readiness = { ["migrated": true] },
        metrics: (@Sendable () -> [UInt8])? = nil,
        metricsFactory: (any MetricsFactory)? = nil
    ) -> BoilerAPI {
        BoilerAPI(
            configuration: .init(apiToken: token), pipeline: self.pipeline, telemetry: self.telemetry, controller: self.controller,
            store: self.store, readiness: readiness, metrics: metrics, metricsFactory: metricsFactory
        )
    }
}

/// A response as the tests look at it, and as the OpenAPI check records it.
struct Answer: Sendable {
    var status: Int
    var contentType: String
    var text: String

    var json: Any? { try? JSONSerialization.jsonObject(with: Data(self.text.utf8), options: [.fragmentsAllowed]) }
    var object: [String: Any] { self.json as? [String: Any] ?? [:] }
    var errorCode: String? { (self.object["error"] as? [String: Any])?["code"] as? String }
    var errorMessage: String { (self.object["error"] as? [String: Any])?["message"] as? String ?? "" }
}

extension TestClientProtocol {
    /// GETs `uri` (with a bearer token, if given).
    func get(_ uri: String, token: String? = nil) async throws -> Answer {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await self.execute(uri: uri, method: .get, headers: headers) { response in
            Answer(
                status: response.status.code,
                contentType: response.headers[.contentType] ?? "",
                text: String(buffer: response.body)
            )
        }
    }
}
