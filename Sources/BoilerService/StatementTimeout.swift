import SnapshotStore

/// Runs one PostgreSQL call, failing it after `timeout` (the call is cancelled). PostgresNIO's pool would
/// otherwise queue the call for as long as PostgreSQL is away.
func withStatementTimeout<Result: Sendable>(
    _ timeout: Duration,
    _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else {
            throw SnapshotStoreError("PostgreSQL did not answer within \(timeout)")
        }
        return result
    }
}
