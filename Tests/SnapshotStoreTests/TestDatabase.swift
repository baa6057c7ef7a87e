import Logging
import PostgresNIO
import SnapshotStore
import TestSupport

/// A fresh database on the test PostgreSQL (from deploy/local/services.sh) for one test, with running clients.
final class TestDatabase: Sendable {
    let name: String
    let configuration: PostgresClient.Configuration
    let logger: Logger
    let clients: [PostgresClient]
    let tasks: [Task<Void, Never>]

    /// Creates the database and `clients` running clients on it.
    init(clients count: Int = 1) async throws {
        let url = try TestServices.requirePostgres()
        var logger = Logger(label: "snapshot-store-test")
        logger.logLevel = .warning
        self.logger = logger
        let base = try SnapshotStore.configuration(url: url)
        self.name = "t_\(UInt32.random(in: 0...UInt32.max))"
        let admin = PostgresClient(configuration: base)
        let adminTask = Task { await admin.run() }
        // An identifier cannot be a parameter; the name is made here of letters and digits only.
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(self.name)"), logger: logger)
        adminTask.cancel()
        var configuration = base
        configuration.database = self.name
        self.configuration = configuration
        let clients = (0..<count).map { _ in PostgresClient(configuration: configuration) }
        self.clients = clients
        self.tasks = clients.map { client in Task { await client.run() } }
    }

    func store(_ index: Int = 0) -> SnapshotStore { SnapshotStore(client: self.clients[index], logger: self.logger) }

    func stop() {
        for task in self.tasks { task.cancel() }
    }

    /// Runs a query returning one integer.
    func count(_ query: PostgresQuery) async throws -> Int64 {
        for try await value in try await self.clients[0].query(query, logger: self.logger).decode(Int64.self) { return value }
        return -1
    }
}
