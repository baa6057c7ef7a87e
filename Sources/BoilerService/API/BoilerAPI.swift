import Foundation
import HeatingControl
import Hummingbird
import Logging
import Metrics
import RingStream
import SnapshotStore
import Telemetry

/// The HTTP API (schemas/openapi.yaml): health, readiness, metrics, the fleet, a boiler's snapshots and
/// decisions, and the telemetry stream. Reads only; every answer comes from the live stream and windows, or from
/// PostgreSQL.
public struct BoilerAPI: Sendable {
    public struct Configuration: Sendable {
        /// With a token, every `/v1` request needs `Authorization: Bearer <token>`.
        public var apiToken: String?
        /// Largest `limit` accepted by the list endpoints.
        public var maximumLimit: Int

        public init(apiToken: String? = nil, maximumLimit: Int = 10_000) {
            self.apiToken = apiToken
            self.maximumLimit = maximumLimit
        }
    }

    /// Named readiness checks, each true when passing (e.g. `mqtt_connected`, `postgres_reachable`, `migrated`).
    public typealias Readiness = @Sendable () async -> [String: Bool]

    public let configuration: Configuration
    let pipeline: IngestPipeline
    let telemetry: RingStream
    let controller: ControlService?
    let store: SnapshotStore?
    let readiness: Readiness
    let metrics: (@Sendable () -> [UInt8])?
    let statementTimeout: Duration
    /// `boiler_stream_consumer_gaps_total`: evicted ranges reported to readers of `/v1/stream/messages`.
    let gapsReported: Counter

    public init(
        configuration: Configuration = .init(),
        pipeline: IngestPipeline,
        telemetry: RingStream,
        controller: ControlService?,
        store: SnapshotStore?,
        readiness: @escaping Readiness,
        metrics: (@Sendable () -> [UInt8])?,
        statementTimeout: Duration = .seconds(5),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.gapsReported = makeCounter("boiler_stream_consumer_gaps_total", factory: metricsFactory)
        self.configuration = configuration
        self.pipeline = pipeline
        self.telemetry = telemetry
        self.controller = controller
        self.store = store
        self.readiness = readiness
        self.metrics = metrics
        self.statementTimeout = statementTimeout
    }

    /// The router: errors as JSON everywhere, the token on `/v1`, the dashboard at `/`.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.get("/") { _, _ in APIResponse.bytes(Array(dashboardHTML.utf8), contentType: "text/html; charset=utf-8") }
        router.get("/healthz") { _, _ in try APIResponse.json(APIModels.Health(status: "alive", checks: nil)) }
        router.get("/readyz") { _, _ in
            let checks = await self.readiness()
            let ready = checks.values.allSatisfy { $0 }
            return try APIResponse.json(
                APIModels.Health(status: ready ? "ready" : "not ready", checks: checks),
                status: ready ? .ok : .serviceUnavailable
            )
        }
        router.get("/metrics") { _, _ in
            guard let metrics = self.metrics else { throw APIError.notFound("metrics are not enabled") }
            return APIResponse.bytes(metrics(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        let v1 = router.group("v1")
        if let token = self.configuration.apiToken { v1.add(middleware: BearerTokenMiddleware(token: Array(token.utf8))) }
        v1.get("boilers") { _, _ in try APIResponse.json(self.boilers()) }
        v1.get("boilers/:id") { _, context in
            let id = try Self.boilerID(context)
            guard let boiler = self.boilers(only: id).boilers.first else { throw APIError.notFound("no boiler '\(id)'") }
            return try APIResponse.json(boiler)
        }
        v1.get("boilers/:id/snapshots") { request, context in try await APIResponse.json(self.snapshots(request, context)) }
        v1.get("boilers/:id/decisions") { request, context in try await APIResponse.json(self.decisions(request, context)) }
        v1.get("stream") { _, _ in
            try APIResponse.json(APIModels.Stream(self.telemetry.info(), configuration: self.telemetry.configuration))
        }
        v1.get("stream/messages") { request, _ in try APIResponse.json(self.streamMessages(request)) }
        return router
    }

    // MARK: Boilers

    /// Every boiler known: ingested, with a snapshot in memory, or decided for; or just `only`.
    func boilers(only: BoilerID? = nil) -> APIModels.Boilers {
        let subjects = self.pipeline.telemetrySubjects
        let snapshots = self.pipeline.withWindows { $0.latestSnapshots }
        let decisions = self.controller?.lastDecisions ?? [:]
        var ids = Set(subjects.keys).union(snapshots.keys).union(decisions.keys)
        if let only { ids = ids.contains(only) ? [only] : [] }
        let boilers = ids.sorted().map { id in
            let subject = subjects[id] ?? "boiler.\(id.rawValue).telemetry"
            let reading = try? self.telemetry.withLastMessage(subject: subject) { TelemetryReading(lastOf: $0.payload) }
            return APIModels.Boiler(
                boiler_id: id.rawValue,
                latest_reading: reading.flatMap { $0 }.map(APIModels.Reading.init),
                last_snapshot: snapshots[id].map(APIModels.Snapshot.init),
                last_decision: decisions[id].map(APIModels.Decision.init)
            )
        }
        return APIModels.Boilers(count: boilers.count, boilers: boilers)
    }

    func isKnown(_ id: BoilerID) -> Bool {
        self.pipeline.telemetrySubjects[id] != nil || self.pipeline.withWindows { $0.latestSnapshots[id] != nil }
            || self.controller?.lastDecisions[id] != nil
    }

    func snapshots(_ request: Request, _ context: BasicRequestContext) async throws -> APIModels.Snapshots {
        let id = try Self.boilerID(context)
        let (from, to) = try Self.range(request)
        let limit = try self.limit(request, default: 1_000)
        guard let store = self.store else { throw APIError(.serviceUnavailable, "unavailable", "no database configured") }
        let rows = try await self.database { try await store.snapshots(boilerID: id, fromMs: from, toMs: to, limit: limit) }
        if rows.isEmpty && !self.isKnown(id) { throw APIError.notFound("no boiler '\(id)'") }
        return APIModels.Snapshots(boiler_id: id.rawValue, from_ms: from, to_ms: to, snapshots: rows.map(APIModels.Snapshot.init))
    }

    func decisions(_ request: Request, _ context: BasicRequestContext) async throws -> APIModels.Decisions {
        let id = try Self.boilerID(context)
        let (from, to) = try Self.range(request)
        let limit = try self.limit(request, default: 1_000)
        guard let store = self.store else { throw APIError(.serviceUnavailable, "unavailable", "no database configured") }
        let rows = try await self.database { try await store.decisions(boilerID: id.rawValue, fromMs: from, toMs: to, limit: limit) }
        if rows.isEmpty && !self.isKnown(id) { throw APIError.notFound("no boiler '\(id)'") }
        return APIModels.Decisions(boiler_id: id.rawValue, from_ms: from, to_ms: to, decisions: rows.map(APIModels.Decision.init))
    }

    /// A PostgreSQL call that answers 503 when PostgreSQL does not.
    func database<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) async throws -> Result {
        do {
            return try await withStatementTimeout(self.statementTimeout, body)
        } catch {
            throw APIError(.serviceUnavailable, "unavailable", "PostgreSQL did not answer: \(error)")
        }
    }

    // MARK: Stream

    func streamMessages(_ request: Request) throws -> APIModels.StreamMessages {
        let subject = try Self.parameter(request, "subject") ?? ">"
        var fromSeq: UInt64 = 1
        if let text = try Self.parameter(request, "from_seq") {
            guard let value = UInt64(text), value >= 1 else { throw APIError.badParameter("from_seq", "must be a sequence number of at least 1, got '\(text)'") }
            fromSeq = value
        }
        let limit = try self.limit(request, default: 100, maximum: 1_000)
        var consumer: StreamConsumer
        do {
            consumer = try self.telemetry.makeConsumer(.init(filterSubjects: [subject], deliverPolicy: .byStartSequence(fromSeq)))
        } catch {
            throw APIError.badParameter("subject", "\(error)")
        }
        let (messages, gaps) = self.telemetry.fetch(&consumer, maxMessages: limit)
        if !gaps.isEmpty { self.gapsReported.increment(by: gaps.count) }
        return APIModels.StreamMessages(
            messages: messages.map { message in
                APIModels.StreamMessage(
                    seq: message.sequence,
                    subject: message.subject,
                    stored_at_ms: message.timestamp.millisecondsSinceEpoch,
                    stored_at_ns: message.timestamp.nanosecondsSinceEpoch,
                    readings: message.payload.withUnsafeBytes { TelemetryReading.readings(record: $0) }
                )
            },
            gaps: gaps.map { APIModels.Gap(first_seq: $0.first, last_seq: $0.last, message: $0.description) },
            next_seq: consumer.nextSequence
        )
    }

    // MARK: Parameters

    static func boilerID(_ context: BasicRequestContext) throws -> BoilerID {
        let text = context.parameters.get("id") ?? ""
        guard let id = BoilerID(text) else {
            throw APIError.badParameter("id", "a boiler id is [A-Za-z0-9_-]{1,64}, got '\(text.prefix(80))'")
        }
        return id
    }

    /// A query parameter, refused when longer than 256 characters.
    static func parameter(_ request: Request, _ name: String) throws -> String? {
        guard let value = request.uri.queryParameters[Substring(name)] else { return nil }
        guard value.count <= 256 else { throw APIError.badParameter(name, "longer than 256 characters") }
        return String(value)
    }

    func limit(_ request: Request, default value: Int, maximum: Int? = nil) throws -> Int {
        let maximum = min(maximum ?? self.configuration.maximumLimit, self.configuration.maximumLimit)
        guard let text = try Self.parameter(request, "limit") else { return min(value, maximum) }
        guard let limit = Int(text), (1...maximum).contains(limit) else {
            throw APIError.badParameter("limit", "must be an integer from 1 to \(maximum), got '\(text)'")
        }
        return limit
    }

    /// `from` and `to`: milliseconds since 1970 or ISO 8601 times; default the last 7 days to an hour ahead.
    static func range(_ request: Request, nowMs: Int64 = Int64(Date().timeIntervalSince1970 * 1_000)) throws -> (Int64, Int64) {
        let from = try Self.parameter(request, "from").map { try Self.time($0, name: "from") } ?? nowMs - 7 * 86_400_000
        let to = try Self.parameter(request, "to").map { try Self.time($0, name: "to") } ?? nowMs + 3_600_000
        guard from < to else { throw APIError.badParameter("from", "must be before to") }
        return (from, to)
    }

    static func time(_ text: String, name: String) throws -> Int64 {
        if let ms = Int64(text), (0...TelemetryDecoder.maximumTimestampMs).contains(ms) { return ms }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1_000).rounded()) }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1_000).rounded()) }
        throw APIError.badParameter(name, "must be milliseconds since 1970 or an ISO 8601 time like 2026-11-26T14:00:00Z, got '\(text)'")
    }
}
