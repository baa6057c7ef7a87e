import ServiceLifecycle
import Synchronization

/// Opens once, when the database is migrated and the windows restored; the services that must not run before
/// that (ingestion, snapshots, the controller) wait for it. Readiness reads it too.
public final class StartupGate: Sendable {
    private let state = Mutex(false)

    public init() {}

    public var isOpen: Bool { self.state.withLock { $0 } }

    public func open() { self.state.withLock { $0 = true } }

    /// Returns when the gate opens, or false when graceful shutdown or cancellation comes first.
    public func wait() async -> Bool {
        while !self.isOpen {
            if Task.isShuttingDownGracefully || Task.isCancelled { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}

/// Runs `service` once `gate` opens (and not at all if shutdown comes first).
public struct GatedService: Service {
    let gate: StartupGate
    let service: any Service

    public init(gate: StartupGate, service: any Service) {
        self.gate = gate
        self.service = service
    }

    public func run() async throws {
        guard await self.gate.wait() else { return }
        try await self.service.run()
    }
}

extension GatedService: CustomStringConvertible {
    public var description: String { "\(type(of: self.service))" }
}

/// Sleeps for `duration`, or less when graceful shutdown begins (so shutdown does not wait for a poll interval).
func sleepUnlessShuttingDown(_ duration: Duration) async {
    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
}
