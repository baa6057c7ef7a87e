import Logging
import ServiceLifecycle
import SnapshotStore
import Synchronization

/// Brings PostgreSQL into service: migrates (under an advisory lock, so two workers do not race) and restores
/// the hourly windows from the latest snapshots and checkpoints, retrying with backoff until PostgreSQL answers,
/// then opens the startup gate. After that it pings PostgreSQL every `probeInterval`, for readiness.
public final class DatabaseService: Service, Sendable {
    let store: SnapshotStore
    let snapshots: SnapshotService
    let gate: StartupGate
    let probeInterval: Duration
    let logger: Logger
    private let reachable = Atomic<Bool>(false)

    public init(store: SnapshotStore, snapshots: SnapshotService, gate: StartupGate, probeInterval: Duration = .seconds(2), logger: Logger) {
        self.store = store
        self.snapshots = snapshots
        self.gate = gate
        self.probeInterval = probeInterval
        self.logger = logger
    }

    /// Whether the last ping (or the start-up) reached PostgreSQL.
    public var isReachable: Bool { self.reachable.load(ordering: .relaxed) }

    public func run() async throws {
        var delay = Duration.milliseconds(250)
        while !self.gate.isOpen {
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            do {
                try await self.store.migrate()
                try await self.snapshots.restore()
                self.reachable.store(true, ordering: .relaxed)
                self.gate.open()
                self.logger.info("database ready: migrated, windows restored")
            } catch {
                self.logger.warning(
                    "PostgreSQL not ready; retrying",
                    metadata: ["error": "\(String(reflecting: error))", "retry.in": "\(delay)"]
                )
                await sleepUnlessShuttingDown(delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await sleepUnlessShuttingDown(self.probeInterval)
            do {
                try await withStatementTimeout(.seconds(2)) { try await self.store.ping() }
                self.reachable.store(true, ordering: .relaxed)
            } catch {
                if self.reachable.exchange(false, ordering: .relaxed) {
                    self.logger.warning("PostgreSQL unreachable", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
        }
    }
}
