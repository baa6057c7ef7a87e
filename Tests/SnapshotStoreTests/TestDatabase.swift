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
        var logger = Logger(label: "snapshot-store-test")
        logger.logLevel = .warning
        self.logger = logger
        let configuration = try await TestServices.makeDatabase(logger: logger)
        self.name = configuration.database ?? ""
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
