import Foundation
import Logging
import PostgresNIO
import Telemetry

/// The pipeline's PostgreSQL side: migrations, hourly snapshots (written once), checkpoints of open windows,
/// late-sample counts, and the queries the API and the controller use. All SQL is parameterised.
///
/// Uses PostgresNIO's `PostgresClient`, a connection pool that must be running (`client.run()`, a `Service`).
public final class SnapshotStore: Sendable {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// A client configuration from a `postgres://user:password@host:port/database` URL; the password may also
    /// come separately (from the environment or a file), so that it need not be on a command line.
    public static func configuration(url: String, password: String? = nil) throws(SnapshotStoreError)
        -> PostgresClient.Configuration
    {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty
        else {
            throw SnapshotStoreError("database URL '\(redactingPassword(url))' is not postgres://user[:password]@host[:port]/database")
        }
        let database = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard let user = components.user, !user.isEmpty, !database.isEmpty else {
            throw SnapshotStoreError("database URL '\(redactingPassword(url))' needs a user and a database name")
        }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: user,
            password: password ?? components.password,
            database: database,
            tls: .disable
        )
        configuration.options.minimumConnections = 0
        configuration.options.maximumConnections = 8
        return configuration
    }

    // MARK: Snapshots

    /// Writes a closed hour's row once: a second write of the same boiler-hour changes nothing and returns false.
    /// The hour's checkpoint is deleted in the same statement, so a restart never resumes a closed hour.
    @discardableResult
    public func write(_ snapshot: HourlySnapshot) async throws -> Bool {
        let id = snapshot.boilerID.rawValue
        let query: PostgresQuery = """
            WITH inserted AS (
                INSERT INTO hourly_snapshots (
                    boiler_id, hour_start, mean_c, min_c, max_c, stddev_c, samples, expected_samples, coverage,
                    duplicates, late_samples, out_of_order, max_gap_ms, first_ts, last_ts, closed_at, revision)
                VALUES (
                    \(id), to_timestamp(0) + \(snapshot.hourStartMs) * interval '1 millisecond',
                    \(snapshot.meanC), \(snapshot.minC), \(snapshot.maxC), \(snapshot.stddevC),
                    \(Int64(snapshot.samples)), \(Int64(snapshot.expectedSamples)), \(snapshot.coverage),
                    \(Int64(snapshot.duplicates)), \(Int64(snapshot.lateSamples)), \(Int64(snapshot.outOfOrder)),
                    \(snapshot.maxGapMs),
                    to_timestamp(0) + \(snapshot.firstTimestampMs) * interval '1 millisecond',
                    to_timestamp(0) + \(snapshot.lastTimestampMs) * interval '1 millisecond',
                    to_timestamp(0) + \(snapshot.closedAtMs) * interval '1 millisecond',
                    \(Int32(clamping: snapshot.revision)))
                ON CONFLICT (boiler_id, hour_start) DO NOTHING
                RETURNING 1
            ), cleared AS (
                DELETE FROM window_checkpoints
                WHERE boiler_id = \(id) AND hour_start = to_timestamp(0) + \(snapshot.hourStartMs) * interval '1 millisecond'
            )
            SELECT count(*)::bigint FROM inserted
            """
        let rows = try await self.client.query(query, logger: self.logger)
        for try await inserted in rows.decode(Int64.self) { return inserted == 1 }
        return false
    }

    /// Adds late readings to their closed rows, all in one statement; returns the rows updated (a count for a
    /// row that does not exist changes nothing). Each increment is applied at most once, by its id: retrying a
    /// call whose answer was lost (a timeout, a dropped connection) adds nothing twice. Several counts for one
    /// row, in one increment or across increments, are summed.
    @discardableResult
    public func addLate(_ increments: [LateIncrement]) async throws -> Int {
        let rows = increments.flatMap { increment in increment.readings.map { (increment.id, $0) } }
        guard !rows.isEmpty else { return 0 }
        let tokens = rows.map(\.0)
        let ids = rows.map(\.1.boilerID.rawValue)
        let hours = rows.map(\.1.hourStartMs)
        let counts = rows.map { Int64(clamping: $0.1.count) }
        // UPDATE ... FROM uses one source row per target row: the counts are summed per row first.
        let result = try await self.client.query(
            """
            WITH batch AS (
                SELECT * FROM unnest(\(tokens)::text[], \(ids)::text[], \(hours)::bigint[], \(counts)::bigint[])
                    AS u(token, boiler_id, hour_ms, count)
            ), fresh AS (
                INSERT INTO late_increments (id) SELECT DISTINCT token FROM batch ON CONFLICT DO NOTHING RETURNING id
            ), summed AS (
                SELECT b.boiler_id, b.hour_ms, sum(b.count)::bigint AS count
                FROM batch b JOIN fresh f ON f.id = b.token GROUP BY b.boiler_id, b.hour_ms
            ), updated AS (
                UPDATE hourly_snapshots AS h SET late_samples = h.late_samples + s.count
                FROM summed s
                WHERE h.boiler_id = s.boiler_id AND h.hour_start = to_timestamp(0) + s.hour_ms * interval '1 millisecond'
                RETURNING 1
            ), pruned AS (
                DELETE FROM late_increments WHERE applied_at < now() - interval '1 day'
            )
            SELECT count(*)::bigint FROM updated
            """,
            logger: self.logger
        )
        for try await updated in result.decode(Int64.self) { return Int(updated) }
        return 0
    }

    /// One boiler's snapshots with `hour_start` in `[fromMs, toMs)`, oldest first (at most `limit`).
    public func snapshots(boilerID: BoilerID, fromMs: Int64, toMs: Int64, limit: Int = 10_000) async throws -> [HourlySnapshot] {
        let (fromMs, toMs) = Self.clampRange(fromMs, toMs)
        return try await self.selectSnapshots(
            """
            SELECT \(unescaped: Self.snapshotJSON) FROM hourly_snapshots
            WHERE boiler_id = \(boilerID.rawValue)
              AND hour_start >= to_timestamp(0) + \(fromMs) * interval '1 millisecond'
              AND hour_start < to_timestamp(0) + \(toMs) * interval '1 millisecond'
            ORDER BY hour_start LIMIT \(Int64(limit))
            """
        )
    }

    /// A time range clamped to what PostgreSQL's timestamps hold (1970 to year 9999), so any range is a valid
    /// query.
    static func clampRange(_ fromMs: Int64, _ toMs: Int64) -> (Int64, Int64) {
        let bounds: ClosedRange<Int64> = 0...(TelemetryDecoder.maximumTimestampMs + 1)
        return (min(max(fromMs, bounds.lowerBound), bounds.upperBound), min(max(toMs, bounds.lowerBound), bounds.upperBound))
    }

    /// Every boiler's latest snapshot.
    public func latestSnapshots() async throws -> [HourlySnapshot] {
        try await self.selectSnapshots(
            """
            SELECT DISTINCT ON (boiler_id) \(unescaped: Self.snapshotJSON) FROM hourly_snapshots
            ORDER BY boiler_id, hour_start DESC
            """
        )
    }

    /// A row as the snapshot event's JSON, decoded by `HourlySnapshot(decoding:)`: one codec for both.
    static let snapshotJSON = """
        json_build_object(
            'v', 1, 'boiler_id', boiler_id,
            'hour_start_ms', (extract(epoch FROM hour_start) * 1000)::bigint,
            'mean_c', mean_c, 'min_c', min_c, 'max_c', max_c, 'stddev_c', stddev_c,
            'samples', samples, 'expected_samples', expected_samples, 'coverage', coverage,
            'duplicates', duplicates, 'late_samples', late_samples, 'out_of_order', out_of_order,
            'max_gap_ms', max_gap_ms,
            'first_ts_ms', (extract(epoch FROM first_ts) * 1000)::bigint,
            'last_ts_ms', (extract(epoch FROM last_ts) * 1000)::bigint,
            'closed_at_ms', (extract(epoch FROM closed_at) * 1000)::bigint,
            'revision', revision)::text
        """

    private func selectSnapshots(_ query: PostgresQuery) async throws -> [HourlySnapshot] {
        var result: [HourlySnapshot] = []
        for try await text in try await self.client.query(query, logger: self.logger).decode(String.self) {
            result.append(try HourlySnapshot(decoding: Array(text.utf8)))
        }
        return result
    }

    // MARK: Checkpoints

    /// Saves the open windows' checkpoints in one statement (one round trip however many boilers).
    public func saveCheckpoints(_ windows: [(boilerID: BoilerID, accumulator: HourlyAccumulator)]) async throws {
        guard !windows.isEmpty else { return }
        let ids = windows.map(\.boilerID.rawValue)
        let hours = windows.map(\.accumulator.hourStartMs)
        let samples = windows.map { Int64(clamping: $0.accumulator.samples) }
        let states = windows.map { String(decoding: $0.accumulator.checkpoint(), as: UTF8.self) }
        try await self.client.query(
            """
            INSERT INTO window_checkpoints (boiler_id, hour_start, samples, state, updated_at)
            SELECT u.boiler_id, to_timestamp(0) + u.hour_ms * interval '1 millisecond', u.samples, u.state::jsonb, now()
            FROM unnest(\(ids)::text[], \(hours)::bigint[], \(samples)::bigint[], \(states)::text[])
                AS u(boiler_id, hour_ms, samples, state)
            WHERE NOT EXISTS (
                SELECT 1 FROM hourly_snapshots s
                WHERE s.boiler_id = u.boiler_id AND s.hour_start = to_timestamp(0) + u.hour_ms * interval '1 millisecond')
            ON CONFLICT (boiler_id, hour_start)
            DO UPDATE SET samples = EXCLUDED.samples, state = EXCLUDED.state, updated_at = EXCLUDED.updated_at
            """,
            logger: self.logger
        )
    }

    /// The checkpoints of hours not yet closed. A checkpoint that cannot be read is logged and skipped.
    public func loadCheckpoints() async throws -> [(boilerID: BoilerID, accumulator: HourlyAccumulator)] {
        let rows = try await self.client.query(
            """
            SELECT c.boiler_id, c.state::text FROM window_checkpoints c
            WHERE NOT EXISTS (
                SELECT 1 FROM hourly_snapshots s WHERE s.boiler_id = c.boiler_id AND s.hour_start = c.hour_start)
            ORDER BY c.boiler_id, c.hour_start
            """,
            logger: self.logger
        )
        var result: [(boilerID: BoilerID, accumulator: HourlyAccumulator)] = []
        for try await (id, state) in rows.decode((String, String).self) {
            guard let boilerID = BoilerID(id) else {
                self.logger.error("skipping a checkpoint with an invalid boiler id", metadata: ["boiler.id": "\(id)"])
                continue
            }
            do {
                result.append((boilerID, try HourlyAccumulator(checkpoint: Array(state.utf8))))
            } catch {
                self.logger.error("skipping a damaged checkpoint", metadata: ["boiler.id": "\(id)", "error": "\(error)"])
            }
        }
        return result
    }
}

/// A store error in words (configuration or migration problems); database errors are PostgresNIO's `PSQLError`.
public struct SnapshotStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension SnapshotStore {
    /// Saves all open windows of `owner` (a worker) as one row: one small write however many boilers.
    public func saveCheckpointSet(owner: String, _ windows: [(boilerID: BoilerID, accumulator: HourlyAccumulator)]) async throws {
        let state = Data(CheckpointSet.encode(windows))
        try await self.client.query(
            """
            INSERT INTO window_checkpoint_sets (owner, taken_at, windows, state)
            VALUES (\(owner), now(), \(Int32(clamping: windows.count)), \(state))
            ON CONFLICT (owner) DO UPDATE SET taken_at = EXCLUDED.taken_at, windows = EXCLUDED.windows, state = EXCLUDED.state
            """,
            logger: self.logger
        )
    }

    /// The windows `owner` saved last, without the hours that have a row already (closed after the flush).
    public func loadCheckpointSet(owner: String) async throws -> [(boilerID: BoilerID, accumulator: HourlyAccumulator)] {
        let rows = try await self.client.query(
            "SELECT state FROM window_checkpoint_sets WHERE owner = \(owner)",
            logger: self.logger
        )
        var windows: [(boilerID: BoilerID, accumulator: HourlyAccumulator)] = []
        for try await state in rows.decode(Data.self) {
            do {
                windows = try CheckpointSet.decode([UInt8](state))
            } catch {
                self.logger.error("skipping a damaged checkpoint set", metadata: ["owner": "\(owner)", "error": "\(error)"])
            }
        }
        guard !windows.isEmpty else { return [] }
        // Hours written since the flush are closed: drop them.
        let closed = try await self.client.query(
            """
            SELECT s.boiler_id, (extract(epoch FROM s.hour_start) * 1000)::bigint FROM hourly_snapshots s
            JOIN unnest(\(windows.map(\.boilerID.rawValue))::text[], \(windows.map(\.accumulator.hourStartMs))::bigint[])
                AS w(boiler_id, hour_ms)
              ON s.boiler_id = w.boiler_id AND s.hour_start = to_timestamp(0) + w.hour_ms * interval '1 millisecond'
            """,
            logger: self.logger
        )
        var written = Set<String>()
        for try await (id, hour) in closed.decode((String, Int64).self) { written.insert("\(id):\(hour)") }
        return windows.filter { !written.contains("\($0.boilerID.rawValue):\($0.accumulator.hourStartMs)") }
    }
}

extension SnapshotStore {
    /// One round trip (`SELECT 1`): whether PostgreSQL answers now.
    public func ping() async throws {
        _ = try await self.client.query("SELECT 1", logger: self.logger).collect()
    }
}

/// `url` with any password replaced by `***`, for messages and logs.
public func redactingPassword(_ url: String) -> String {
    guard var components = URLComponents(string: url), components.password != nil else {
        // Unparsable: keep only what is before a possible credentials part.
        guard let at = url.lastIndex(of: "@"), let scheme = url.range(of: "://") else { return url }
        return String(url[..<scheme.upperBound]) + "***" + String(url[at...])
    }
    components.password = "***"
    return components.string ?? url
}

/// Late readings for rows already written, applied once by `id` (see `SnapshotStore.addLate`).
public struct LateIncrement: Sendable, Hashable {
    /// Unique per increment, across workers and restarts.
    public var id: String
    public var readings: [HourlyWindows.LateReadings]

    public init(id: String, readings: [HourlyWindows.LateReadings]) {
        self.id = id
        self.readings = readings
    }

    /// The late readings it adds, over all its rows.
    public var count: UInt64 { self.readings.reduce(0) { $0 &+ $1.count } }
}
