import Foundation
import Logging
import PostgresNIO
import SnapshotStore
import TestSupport
import Testing

/// deploy/postgres/setup.sh run against a private PostgreSQL (as its superuser, the way an operator runs it):
/// boilerd's role is no superuser and cannot create roles or databases, owns its database and every table its
/// migrations make, and other roles cannot connect to its database.
@Suite(.enabled(if: TestServices.runPostgres))
struct DatabaseRoleTests {
    @Test func boilerdsRoleOwnsItsTablesAndNothingMore() async throws {
        _ = try TestServices.requirePostgres()
        let postgres = PrivateServices("pg-role")
        #expect(await postgres.run("start-postgres") == 0)
        defer { postgres.stop() }
        let port = try postgres.port("pg")
        let setup = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/postgres/setup.sh").path
        let password = "role-Test-\(UInt32.random(in: 0...UInt32.max))"
        let made = try await run([
            "PGHOST=\(postgres.state)/postgres", "PGPORT=\(port)", "BOILERD_DATABASE_PASSWORD=\(password)", "BOILERD_DATABASE_NAME=boilerdb",
            "bash", setup,
        ])
        try #require(made.status == 0, "setup.sh failed")
        let url = "postgres://boilerd:\(password)@127.0.0.1:\(port)/boilerdb"
        func psql(_ url: String, _ sql: String) async throws -> (status: Int32, output: String) {
            let result = try await run(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atc", sql])
            return (result.status, result.output.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        // boilerd's migrations, as boilerd: every table they make is boilerd's.
        var logger = Logger(label: "role-test")
        logger.logLevel = .critical
        let client = PostgresClient(configuration: try SnapshotStore.configuration(url: url))
        let clientTask = Task { await client.run() }
        defer { clientTask.cancel() }
        #expect(try await SnapshotStore(client: client, logger: logger).migrate() == SnapshotStore.migrations.map(\.version))
        #expect(try await psql(url, "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user").output == "f|f|f")
        #expect(try await psql(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = 'boilerd'").output == "6")
        #expect(try await psql(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> 'boilerd'").output == "0")
        // It cannot make databases or roles.
        #expect(try await psql(url, "CREATE DATABASE other").status != 0)
        #expect(try await psql(url, "CREATE ROLE intruder").status != 0)
        // Another role of the server cannot connect to boilerd's database.
        #expect(try await psql("postgres://boiler:boiler@127.0.0.1:\(port)/boilerdb", "SELECT 1").status != 0)
        #expect(try await psql("postgres://boiler:boiler@127.0.0.1:\(port)/boiler", "SELECT 1").output == "1")
    }
}
