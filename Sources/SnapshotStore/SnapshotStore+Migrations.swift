import Foundation
import Logging
import PostgresNIO

/// One schema migration: `schemas/sql/NNN_name.sql`, embedded in the binary.
public struct Migration: Sendable, Hashable {
    public var version: Int32
    public var name: String
    public var sql: String
}

extension SnapshotStore {
    /// The migrations, in order. A test checks that this list and the files in schemas/sql agree.
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "initial", sql: String(decoding: PackageResources._01_initial_sql, as: UTF8.self)),
        Migration(
            version: 2,
            name: "checkpoint_sets",
            sql: String(decoding: PackageResources._02_checkpoint_sets_sql, as: UTF8.self)
        ),
        Migration(version: 3, name: "written_at", sql: String(decoding: PackageResources._03_written_at_sql, as: UTF8.self)),
        Migration(
            version: 4,
            name: "late_increments",
            sql: String(decoding: PackageResources._04_late_increments_sql, as: UTF8.self)
        ),
    ]

    /// A fixed key for the advisory lock that serialises migrations between workers.
    static let migrationLockKey: Int64 = 0x426F_696C_6572_5031  // "BoilerP1"

    /// Applies the migrations not yet recorded in `schema_migrations`, in one transaction under an advisory lock,
    /// so running twice, or two workers at once, is safe. Returns the versions applied now.
    @discardableResult
    public func migrate() async throws -> [Int32] {
        let logger = self.logger
        return try await self.client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer     PRIMARY KEY,
                    name       text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """,
                logger: logger
            )
            var applied = Set<Int32>()
            for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger)
                .decode(Int32.self)
            {
                applied.insert(version)
            }
            var now: [Int32] = []
            for migration in Self.migrations where !applied.contains(migration.version) {
                // The extended protocol runs one statement at a time; migrations hold no semicolons but as ends.
                for statement in Self.statements(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger
                )
                now.append(migration.version)
                logger.info("applied migration", metadata: ["migration.version": "\(migration.version)", "migration.name": "\(migration.name)"])
            }
            return now
        }
    }

    /// The statements of a migration: split at semicolons that end a line, comments dropped.
    static func statements(_ sql: String) -> [String] {
        let lines = sql.split(separator: "\n", omittingEmptySubsequences: false).filter {
            !$0.trimmingPrefix(while: \.isWhitespace).hasPrefix("--")
        }
        return lines.joined(separator: "\n").components(separatedBy: ";\n").map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: ";"))
        }.filter { !$0.isEmpty }
    }
}
