import Logging
import Metrics
import MQTT
import RingStream
import ServiceLifecycle
import SnapshotStore
import Synchronization
import Telemetry

/// Closes hourly windows and writes each closed boiler-hour to PostgreSQL exactly once; checkpoints the open
/// windows (all of them in one row, `window_checkpoint_sets`); counts late readings on their rows.
///
/// Every `tickInterval` it advances the windows (the fleet watermark and the wall-clock rule), drains what closed,
/// publishes each snapshot into the snapshot stream (`boiler.{id}.hourly-snapshot`, with
/// `expectedLastSubjectSequence`) and, if given an MQTT client, to `boilers/{id}/snapshot/hourly` (retained), and
/// queues it for PostgreSQL. Writes are retried with exponential backoff while PostgreSQL is unavailable;
/// ingestion goes on meanwhile. The queue is bounded (`maximumPending`): when it is full, closed windows stay in
/// the windows' own list (nothing is dropped) and the service reports not ready until the queue drains.
public final class SnapshotService: Service, Sendable {
    public struct Configuration: Sendable {
        /// How often windows are advanced and drained. Default 1 s.
        public var tickInterval: Duration
        /// How often open windows are checkpointed (one statement for all of them). Default 5 s.
        public var checkpointIntervalMs: Int64
        /// Closed snapshots held in memory while PostgreSQL is away. Default 100,000.
        public var maximumPending: Int
        /// Backoff between failed writes: first delay and cap. Default 0.5 s and 30 s.
        public var retryDelayMs: Int64
        public var retryDelayMaximumMs: Int64
        /// The name this worker's checkpoints are saved under (one row per worker). Default "boilerd".
        public var checkpointOwner: String
        /// Snapshots are announced on `{topicPrefix}/{id}/snapshot/hourly`. Default "boilers".
        public var topicPrefix: String
        /// How long one PostgreSQL call may take before it counts as failed (the pool would otherwise queue it
        /// while PostgreSQL is away). Default 5 s.
        public var statementTimeout: Duration

        public init(
            tickInterval: Duration = .seconds(1),
            checkpointIntervalMs: Int64 = 5_000,
            maximumPending: Int = 100_000,
            retryDelayMs: Int64 = 500,
            retryDelayMaximumMs: Int64 = 30_000,
            statementTimeout: Duration = .seconds(5),
            checkpointOwner: String = "boilerd",
            topicPrefix: String = "boilers"
        ) {
            self.topicPrefix = topicPrefix
            self.tickInterval = tickInterval
            self.checkpointIntervalMs = checkpointIntervalMs
            self.maximumPending = maximumPending
            self.retryDelayMs = retryDelayMs
            self.retryDelayMaximumMs = retryDelayMaximumMs
            self.statementTimeout = statementTimeout
            self.checkpointOwner = checkpointOwner
        }
    }

    /// Counts since start, and the queue.
    public struct Statistics: Sendable, Hashable {
        /// Rows inserted.
        public var written: UInt64 = 0
        /// Writes that found the row already there (a replay, or another worker): nothing changed.
        public var alreadyPresent: UInt64 = 0
        /// Failed write attempts (each is retried).
        public var writeFailures: UInt64 = 0
        /// Snapshots waiting for PostgreSQL.
        public var pending = 0
        /// Checkpoint flushes done, and failed.
        public var checkpointFlushes: UInt64 = 0
        public var checkpointFailures: UInt64 = 0
        /// Checkpoints not saved because a closed hour's row was still unwritten (see `checkpointIfSafe`).
        public var checkpointsDeferred: UInt64 = 0
        /// Late readings added to rows.
        public var lateApplied: UInt64 = 0
        /// Snapshots the snapshot stream refused (10071: another writer published that boiler's hour first).
        public var streamConflicts: UInt64 = 0
    }

    struct State {
        var pending: [HourlySnapshot] = []
        /// Late counts for rows already written, one increment per tick that had any (see `SnapshotStore.addLate`).
        var pendingLate: [LateIncrement] = []
        /// Late increments made so far; numbers their ids.
        var lateIncrements: UInt64 = 0
        /// When the last checkpoint was taken (whether or not it was saved): the next is due an interval later.
        var lastCheckpointMs: Int64 = .min
        var retryDelayMs: Int64 = 0
        var nextAttemptMs: Int64 = .min
        var lastWriteFailed = false
        var statistics = Statistics()
    }

    /// The swift-metrics instruments: rows written, writes that found the row present, failed writes, the queue
    /// depth, and failed and deferred checkpoint flushes.
    struct Instruments: Sendable {
        let written: Counter
        let alreadyPresent: Counter
        let writeFailures: Counter
        let pending: Gauge
        let checkpointFailures: Counter
        let checkpointsDeferred: Counter

        init(factory: (any MetricsFactory)?) {
            func counter(_ label: String) -> Counter { makeCounter(label, factory: factory) }
            self.written = counter("boiler_snapshots_written_total")
            self.alreadyPresent = counter("boiler_snapshots_already_present_total")
            self.writeFailures = counter("boiler_snapshot_write_failures_total")
            self.checkpointFailures = counter("boiler_checkpoint_failures_total")
            self.checkpointsDeferred = counter("boiler_checkpoints_deferred_total")
            self.pending = makeGauge("boiler_snapshots_pending", factory: factory)
        }
    }

    public let configuration: Configuration
    let instruments: Instruments
    public let store: SnapshotStore
    let pipeline: IngestPipeline
    let snapshotStream: RingStream?
    let mqtt: MQTTClient?
    let clock: WallClock
    let logger: Logger
    let state = Mutex(State())
    /// Makes late increments' ids unique across workers and restarts: the checkpoint owner and a random number.
    let lateIDPrefix: String

    public init(
        configuration: Configuration = .init(),
        store: SnapshotStore,
        pipeline: IngestPipeline,
        snapshotStream: RingStream? = nil,
        mqtt: MQTTClient? = nil,
        clock: WallClock = .system,
        logger: Logger,
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.configuration = configuration
        self.instruments = Instruments(factory: metricsFactory)
        self.store = store
        self.pipeline = pipeline
        self.snapshotStream = snapshotStream
        self.mqtt = mqtt
        self.clock = clock
        self.logger = logger
        self.lateIDPrefix = "\(configuration.checkpointOwner):\(String(UInt64.random(in: .min ... .max), radix: 16)):"
    }

    /// At start-up, before ingestion: every boiler's latest written snapshot (so replayed readings of closed
    /// hours count as late, and the controller has its reference), and the checkpoints of open windows.
    public func restore() async throws {
        let latest = try await self.store.latestSnapshots()
        let checkpoints = try await self.store.loadCheckpointSet(owner: self.configuration.checkpointOwner)
        let now = self.clock.nowMs()
        self.pipeline.withWindows { windows in
            for snapshot in latest { windows.restoreClosed(snapshot, wallMs: now) }
            for checkpoint in checkpoints {
                windows.restore(boilerID: checkpoint.boilerID, accumulator: checkpoint.accumulator, wallMs: now)
            }
        }
        self.logger.info(
            "restored hourly windows",
            metadata: ["snapshots.latest": "\(latest.count)", "checkpoints": "\(checkpoints.count)"]
        )
    }

    /// Ticks until graceful shutdown, then checkpoints and tries once more to write what is pending.
    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await self.tick()
            // Wake for the next checkpoint on time even when it falls between two ticks: a crash then loses at
            // most one checkpoint interval of readings, not an interval and a tick.
            let untilCheckpointMs = self.state.withLock { $0.lastCheckpointMs } &+ self.configuration.checkpointIntervalMs
                &- self.clock.nowMs()
            let sleep = min(self.configuration.tickInterval, .milliseconds(max(untilCheckpointMs, 1)))
            await sleepUnlessShuttingDown(sleep)
        }
        await self.flush()
    }

    /// One round: advance and drain the windows, publish and queue what closed, write, checkpoint when due.
    public func tick() async {
        let now = self.clock.nowMs()
        let capacity = self.state.withLock { self.configuration.maximumPending - $0.pending.count }
        let checkpointDue = self.state.withLock { state in
            guard state.lastCheckpointMs == .min || now - state.lastCheckpointMs >= self.configuration.checkpointIntervalMs else { return false }
            // A failed checkpoint is retried an interval later, not at once.
            state.lastCheckpointMs = now
            // A checkpoint waits for the queued rows (`checkpointIfSafe`): write them now, whatever the backoff.
            state.nextAttemptMs = .min
            return true
        }
        let (closed, late, open) = self.pipeline.withWindows { windows in
            windows.advance(wallMs: now)
            return (windows.drainClosed(maximum: capacity), windows.drainLate(), checkpointDue ? windows.openWindows : nil)
        }
        for snapshot in closed { self.announce(snapshot) }
        self.state.withLock { state in
            state.pending.append(contentsOf: closed)
            // Late readings for a row still waiting go into it; the rest are added to the written rows, as one
            // increment with its own id, so that a retried write cannot add them twice.
            var forWrittenRows: [HourlyWindows.LateReadings] = []
            for entry in late {
                if let index = state.pending.firstIndex(where: { $0.boilerID == entry.boilerID && $0.hourStartMs == entry.hourStartMs }) {
                    state.pending[index].lateSamples &+= entry.count
                } else {
                    forWrittenRows.append(entry)
                }
            }
            if !forWrittenRows.isEmpty {
                state.lateIncrements &+= 1
                state.pendingLate.append(LateIncrement(id: "\(self.lateIDPrefix)\(state.lateIncrements)", readings: forWrittenRows))
            }
            state.statistics.pending = state.pending.count
        }
        await self.writePending(now: now)
        if let open { await self.checkpointIfSafe(open) }
    }

    /// Checkpoints the open windows and writes what is pending (at shutdown).
    public func flush() async {
        let open = self.pipeline.withWindows { $0.openWindows }
        let now = self.clock.nowMs()
        self.state.withLock { $0.nextAttemptMs = .min }
        await self.writePending(now: now)
        await self.checkpointIfSafe(open)
    }

    /// Saves the checkpoint only when no closed hour waits for its row. The saved checkpoint replaces the
    /// previous one, which still holds such an hour as an open window; replacing it while the row is unwritten
    /// would leave the hour nowhere but in memory, and a crash then would lose it. Callers have just tried the
    /// write, whatever the backoff; if rows are still pending the previous checkpoint is kept: a crash then
    /// costs the readings since that checkpoint, never the hour.
    private func checkpointIfSafe(_ open: [(boilerID: BoilerID, accumulator: HourlyAccumulator)]) async {
        let pending = self.state.withLock { state -> Int in
            if !state.pending.isEmpty { state.statistics.checkpointsDeferred &+= 1 }
            return state.pending.count
        }
        guard pending == 0 else {
            self.instruments.checkpointsDeferred.increment()
            self.logger.warning(
                "checkpoint deferred: closed hours are not written yet; the previous checkpoint still holds them",
                metadata: ["snapshots.pending": "\(pending)"]
            )
            return
        }
        await self.checkpoint(open)
    }

    private func writePending(now: Int64) async {
        let (due, batch, late) = self.state.withLock { state in
            (now >= state.nextAttemptMs, state.pending, state.pendingLate)
        }
        guard due else { return }
        var failure: (any Error)? = nil
        var done = 0
        for snapshot in batch {
            do {
                let inserted = try await self.withTimeout { try await self.store.write(snapshot) }
                done += 1
                self.state.withLock {
                    if inserted { $0.statistics.written &+= 1 } else { $0.statistics.alreadyPresent &+= 1 }
                }
                if inserted { self.instruments.written.increment() } else { self.instruments.alreadyPresent.increment() }
            } catch {
                failure = error
                break
            }
        }
        if failure == nil && !late.isEmpty {
            do {
                _ = try await self.withTimeout { try await self.store.addLate(late) }
                self.state.withLock {
                    $0.pendingLate.removeFirst(min(late.count, $0.pendingLate.count))
                    $0.statistics.lateApplied &+= late.reduce(0) { $0 &+ $1.count }
                }
            } catch {
                failure = error
            }
        }
        self.state.withLock { state in
            state.pending.removeFirst(min(done, state.pending.count))
            state.statistics.pending = state.pending.count
            self.instruments.pending.record(state.pending.count)
            if let failure {
                self.instruments.writeFailures.increment()
                state.statistics.writeFailures &+= 1
                state.retryDelayMs = min(
                    max(state.retryDelayMs * 2, self.configuration.retryDelayMs),
                    self.configuration.retryDelayMaximumMs
                )
                state.nextAttemptMs = now + state.retryDelayMs
                state.lastWriteFailed = true
                self.logger.warning(
                    "snapshot write failed; retrying with backoff",
                    metadata: [
                        "snapshots.pending": "\(state.pending.count)", "retry.delay_ms": "\(state.retryDelayMs)",
                        "error": "\(String(reflecting: failure))",
                    ]
                )
            } else {
                state.retryDelayMs = 0
                state.lastWriteFailed = false
            }
        }
    }

    private func checkpoint(_ open: [(boilerID: BoilerID, accumulator: HourlyAccumulator)]) async {
        do {
            let owner = self.configuration.checkpointOwner
            try await self.withTimeout { try await self.store.saveCheckpointSet(owner: owner, open) }
            self.state.withLock { $0.statistics.checkpointFlushes &+= 1 }
        } catch {
            self.state.withLock { $0.statistics.checkpointFailures &+= 1 }
            self.instruments.checkpointFailures.increment()
            self.logger.warning("checkpoint failed; retrying next interval", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    /// Runs one store call, failing it after `statementTimeout` (the call is cancelled).
    private func withTimeout<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) async throws -> Result {
        try await withStatementTimeout(self.configuration.statementTimeout, body)
    }

    /// Publishes a closed snapshot into the snapshot stream and over MQTT, once, when it closes.
    private func announce(_ snapshot: HourlySnapshot) {
        let payload = snapshot.encoded()
        if let stream = self.snapshotStream {
            let subject = "boiler.\(snapshot.boilerID.rawValue).hourly-snapshot"
            var id = MessageID()
            id.append(snapshot.boilerID.rawValue)
            id.append(byte: UInt8(ascii: ":"))
            id.append(decimal: UInt64(max(snapshot.hourStartMs, 0)))
            let options = PublishOptions(messageID: id, expectedLastSubjectSequence: stream.lastSequence(subject: subject))
            do {
                _ = try stream.publish(
                    subject: subject,
                    payload: payload,
                    options: options,
                    now: StreamInstant(millisecondsSinceEpoch: self.clock.nowMs())
                )
            } catch {
                self.state.withLock { $0.statistics.streamConflicts &+= 1 }
                self.logger.warning(
                    "snapshot stream refused the snapshot",
                    metadata: ["boiler.id": "\(snapshot.boilerID)", "stream.error": "\(error.code.rawValue) \(error.description)"]
                )
            }
        }
        try? self.mqtt?.publishNow(
            "\(self.configuration.topicPrefix)/\(snapshot.boilerID.rawValue)/snapshot/hourly",
            payload: payload,
            qos: .atLeastOnce,
            retain: true
        )
    }

    /// The counts so far.
    public var statistics: Statistics { self.state.withLock { $0.statistics } }

    /// False while PostgreSQL writes fail or the pending queue is full.
    public var isReady: Bool {
        self.state.withLock { !$0.lastWriteFailed && $0.pending.count < self.configuration.maximumPending }
    }
}
