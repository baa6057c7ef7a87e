import Logging
import PostgresNIO

/// A controller decision as recorded in `controller_decisions` (the store does not depend on HeatingControl).
public struct DecisionRow: Sendable, Hashable {
    public var decisionID: String
    public var boilerID: String
    public var tickAtMs: Int64
    public var trusted: Bool
    public var reason: String
    public var currentC: Double?
    public var hourlyMeanC: Double?
    public var deltaC: Double?
    public var roomSetpointC: Double?
    public var published: Bool

    public init(
        decisionID: String, boilerID: String, tickAtMs: Int64, trusted: Bool, reason: String, currentC: Double?,
        hourlyMeanC: Double?, deltaC: Double?, roomSetpointC: Double?, published: Bool
    ) {
        self.decisionID = decisionID
        self.boilerID = boilerID
        self.tickAtMs = tickAtMs
        self.trusted = trusted
        self.reason = reason
        self.currentC = currentC
        self.hourlyMeanC = hourlyMeanC
        self.deltaC = deltaC
        self.roomSetpointC = roomSetpointC
        self.published = published
    }
}

extension SnapshotStore {
    /// Records a tick's decisions in one statement; a decision already recorded (a re-run tick) is left as it
    /// was. Returns how many rows were inserted.
    @discardableResult
    public func recordDecisions(_ rows: [DecisionRow]) async throws -> Int {
        guard !rows.isEmpty else { return 0 }
        // Optional doubles travel as text ('' for null): PostgresNIO binds arrays of non-optional values.
        func text(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
        let result = try await self.client.query(
            """
            WITH inserted AS (
                INSERT INTO controller_decisions (decision_id, boiler_id, tick_at, trusted, reason, current_c,
                    hourly_mean_c, delta_c, room_setpoint_c, published)
                SELECT u.id, u.boiler, to_timestamp(0) + u.tick_ms * interval '1 millisecond', u.trusted, u.reason,
                    nullif(u.current, '')::double precision, nullif(u.mean, '')::double precision,
                    nullif(u.delta, '')::double precision, nullif(u.setpoint, '')::double precision, u.published
                FROM unnest(\(rows.map(\.decisionID))::text[], \(rows.map(\.boilerID))::text[],
                    \(rows.map(\.tickAtMs))::bigint[], \(rows.map(\.trusted))::boolean[], \(rows.map(\.reason))::text[],
                    \(rows.map { text($0.currentC) })::text[], \(rows.map { text($0.hourlyMeanC) })::text[],
                    \(rows.map { text($0.deltaC) })::text[], \(rows.map { text($0.roomSetpointC) })::text[],
                    \(rows.map(\.published))::boolean[])
                    AS u(id, boiler, tick_ms, trusted, reason, current, mean, delta, setpoint, published)
                ON CONFLICT DO NOTHING
                RETURNING 1
            )
            SELECT count(*)::bigint FROM inserted
            """,
            logger: self.logger
        )
        for try await inserted in result.decode(Int64.self) { return Int(inserted) }
        return 0
    }

    /// One boiler's decisions with `tick_at` in `[fromMs, toMs)`, oldest first.
    public func decisions(boilerID: String, fromMs: Int64, toMs: Int64, limit: Int = 10_000) async throws -> [DecisionRow] {
        let (fromMs, toMs) = SnapshotStore.clampRange(fromMs, toMs)
        let rows = try await self.client.query(
            """
            SELECT decision_id, boiler_id, (extract(epoch FROM tick_at) * 1000)::bigint, trusted, reason,
                current_c, hourly_mean_c, delta_c, room_setpoint_c, published
            FROM controller_decisions
            WHERE boiler_id = \(boilerID)
              AND tick_at >= to_timestamp(0) + \(fromMs) * interval '1 millisecond'
              AND tick_at < to_timestamp(0) + \(toMs) * interval '1 millisecond'
            ORDER BY tick_at LIMIT \(Int64(limit))
            """,
            logger: self.logger
        )
        var result: [DecisionRow] = []
        for try await (id, boiler, tick, trusted, reason, current, mean, delta, setpoint, published) in rows.decode(
            (String, String, Int64, Bool, String, Double?, Double?, Double?, Double?, Bool).self
        ) {
            result.append(
                DecisionRow(
                    decisionID: id, boilerID: boiler, tickAtMs: tick, trusted: trusted, reason: reason, currentC: current,
                    hourlyMeanC: mean, deltaC: delta, roomSetpointC: setpoint, published: published
                )
            )
        }
        return result
    }

    /// Deletes decisions older than `retentionMs` before `nowMs`; returns how many.
    @discardableResult
    public func pruneDecisions(olderThan retentionMs: Int64, nowMs: Int64) async throws -> Int {
        let rows = try await self.client.query(
            """
            WITH deleted AS (
                DELETE FROM controller_decisions
                WHERE tick_at < to_timestamp(0) + \(nowMs - retentionMs) * interval '1 millisecond'
                RETURNING 1
            )
            SELECT count(*)::bigint FROM deleted
            """,
            logger: self.logger
        )
        for try await deleted in rows.decode(Int64.self) { return Int(deleted) }
        return 0
    }
}
