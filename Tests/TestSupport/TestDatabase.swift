import Logging
import PostgresNIO
import SnapshotStore

extension TestServices {
    /// Creates a fresh database on the test PostgreSQL (from deploy/local/services.sh) for one test and returns
    /// a client configuration for it.
    public static func makeDatabase(logger: Logger) async throws -> PostgresClient.Configuration {
        let base = try SnapshotStore.configuration(url: try requirePostgres())
        let admin = PostgresClient(configuration: base)
        let adminTask = Task { await admin.run() }
        defer { adminTask.cancel() }
        // An identifier cannot be a parameter; the name is made here of letters and digits only.
        let name = "t_\(UInt32.random(in: 0...UInt32.max))"
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        var configuration = base
        configuration.database = name
        return configuration
    }
}
