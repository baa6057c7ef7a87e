/// The open hourly windows of a whole fleet, and the rules that close them.
///
/// Readings are folded into their boiler's window for their hour of event time. A window `[H, H+1h)` closes:
/// - when the boiler's own watermark (its newest `ts_ms` minus `allowedLatenessMs`) passes `H+1h`, unless that
///   boiler is more than `maximumLeadMs` ahead of the fleet (a clock jumping ahead closes nobody's windows, not
///   even its own, early);
/// - when the fleet watermark passes `H+1h + idleAllowanceMs`: this closes the windows of boilers that went
///   quiet, or whose clocks lag; a boiler silent for a whole hour gets an empty row (coverage 0), up to
///   `silentHoursReported` hours in a row, and is then forgotten until it speaks again.
///
/// The fleet watermark is the lower median of the watermarks of the boilers heard from in the last
/// `activeWithinMs` of wall time, and never goes back: one boiler an hour ahead cannot move it. With no traffic at
/// all for `idleAllowanceMs` of wall time, it advances with the wall clock from where traffic stopped.
///
/// A reading for an hour already closed is counted as late (see `drainLate()`), never folded in. Closed hours come
/// out of `drainClosed()`. Pure: the wall clock is passed in.
public struct HourlyWindows: Sendable {
    /// The closing rules' parameters.
    public struct Configuration: Sendable, Hashable {
        /// How late a reading may arrive, relative to its boiler's newest, and still count. Default 5 s.
        public var allowedLatenessMs: Int64
        /// How far the fleet watermark must pass an hour's end before a quiet boiler's window closes, and how
        /// long the whole fleet may be silent before the wall clock takes over. Default 60 s.
        public var idleAllowanceMs: Int64
        /// How far a boiler's watermark may lead the fleet's and still close its windows. Default 5 minutes.
        public var maximumLeadMs: Int64
        /// A boiler counts toward the fleet watermark if heard from within this much wall time. Default 2 min.
        public var activeWithinMs: Int64
        /// Consecutive empty hours reported for a silent boiler before it is forgotten. Default 24.
        public var silentHoursReported: Int
        /// The reading period assumed for single-reading payloads. Default 10 ms.
        public var defaultPeriodMs: Int64

        public init(
            allowedLatenessMs: Int64 = 5_000,
            idleAllowanceMs: Int64 = 60_000,
            maximumLeadMs: Int64 = 300_000,
            activeWithinMs: Int64 = 120_000,
            silentHoursReported: Int = 24,
            defaultPeriodMs: Int64 = 10
        ) {
            self.allowedLatenessMs = allowedLatenessMs
            self.idleAllowanceMs = idleAllowanceMs
            self.maximumLeadMs = maximumLeadMs
            self.activeWithinMs = activeWithinMs
            self.silentHoursReported = silentHoursReported
            self.defaultPeriodMs = defaultPeriodMs
        }
    }

    /// Readings that arrived for an hour already closed.
    public struct LateReadings: Hashable, Sendable {
        public var boilerID: BoilerID
        public var hourStartMs: Int64
        public var count: UInt64

        public init(boilerID: BoilerID, hourStartMs: Int64, count: UInt64) {
            self.boilerID = boilerID
            self.hourStartMs = hourStartMs
            self.count = count
        }
    }

    /// What happened to a payload's readings.
    public struct AddOutcome: Hashable, Sendable {
        /// Folded into an open window.
        public var accepted = 0
        /// For an hour already closed: counted as late.
        public var late = 0
    }

    struct LateKey: Hashable {
        var boilerID: BoilerID
        var hourStartMs: Int64
    }

    public let configuration: Configuration
    var boilers: [BoilerID: BoilerWindows] = [:]
    private var closed: [HourlySnapshot] = []
    private var late: [LateKey: UInt64] = [:]
    /// The latest closed snapshot of each boiler: the O(1) answer to "what was last hour's mean".
    public private(set) var latestSnapshots: [BoilerID: HourlySnapshot] = [:]
    /// The fleet watermark as of the last `advance(wallMs:)`; nil before any traffic.
    public private(set) var fleetWatermarkMs: Int64? = nil
    private var lastTrafficWallMs: Int64? = nil
    private var trafficSinceAdvance = false
    private var watermarkAtLastTraffic: Int64? = nil

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// Folds a decoded payload's readings in. `wallMs` is the wall clock.
    public mutating func add(_ payload: TelemetryPayload, wallMs: Int64) -> AddOutcome {
        self.add(payload, readings: 0..<payload.count, wallMs: wallMs)
    }

    /// Folds the readings `readings` (indices into the payload) in: the ingest path leaves out the readings the
    /// stream found to be duplicates.
    public mutating func add(_ payload: TelemetryPayload, readings: Range<Int>, wallMs: Int64) -> AddOutcome {
        let readings = readings.clamped(to: 0..<payload.count)
        guard !readings.isEmpty else { return AddOutcome() }
        self.lastTrafficWallMs = Swift.max(self.lastTrafficWallMs ?? wallMs, wallMs)
        self.trafficSinceAdvance = true
        let configuration = self.configuration
        let period = payload.periodMs ?? configuration.defaultPeriodMs
        let fleet = self.fleetWatermarkMs
        return self.boilers[
            payload.boilerID,
            default: BoilerWindows(firstTimestampMs: payload.firstTimestampMs, periodMs: period, wallMs: wallMs)
        ].add(
            payload,
            readings: readings,
            periodMs: period,
            wallMs: wallMs,
            fleetWatermarkMs: fleet,
            configuration: configuration,
            closed: &self.closed,
            late: &self.late
        )
    }

    /// Counts re-sent readings that the stream's dedup dropped, in the open window of their hour (if any).
    public mutating func recordDuplicates(boilerID: BoilerID, timestampMs: Int64, count: UInt64 = 1) {
        self.boilers[boilerID]?.recordDuplicates(hourStartMs: hourStart(of: timestampMs), count: count)
    }

    /// Recomputes the fleet watermark and closes every window it has passed. Call it periodically (every
    /// second or so) and before `drainClosed()`.
    public mutating func advance(wallMs: Int64) {
        let configuration = self.configuration
        var watermarks: [Int64] = []
        watermarks.reserveCapacity(self.boilers.count)
        for boiler in self.boilers.values where boiler.lastSeenWallMs >= wallMs - configuration.activeWithinMs {
            watermarks.append(boiler.newestTimestampMs - configuration.allowedLatenessMs)
        }
        if !watermarks.isEmpty {
            watermarks.sort()
            let median = watermarks[(watermarks.count - 1) / 2]
            self.fleetWatermarkMs = Swift.max(self.fleetWatermarkMs ?? median, median)
        }
        if self.trafficSinceAdvance {
            self.watermarkAtLastTraffic = self.fleetWatermarkMs
            self.trafficSinceAdvance = false
        }
        if let lastTraffic = self.lastTrafficWallMs, let base = self.watermarkAtLastTraffic,
            wallMs - lastTraffic > configuration.idleAllowanceMs
        {
            // Nobody is sending: event time is taken to pass as the wall clock does.
            self.fleetWatermarkMs = Swift.max(self.fleetWatermarkMs ?? base, base + (wallMs - lastTraffic))
        }
        guard let fleet = self.fleetWatermarkMs else { return }
        var forgotten: [BoilerID] = []
        for id in self.boilers.keys {
            guard let boiler = self.boilers[id] else { continue }
            // The boiler's own rule (capped by its lead over the fleet), or the fleet's rule for quiet boilers.
            let own = Swift.min(
                boiler.newestTimestampMs - configuration.allowedLatenessMs,
                fleet + configuration.maximumLeadMs
            )
            self.boilers[id]?.close(
                boilerID: id,
                through: Swift.max(own, fleet - configuration.idleAllowanceMs),
                wallMs: wallMs,
                configuration: configuration,
                closed: &self.closed
            )
            if self.boilers[id]?.isForgettable(configuration) == true { forgotten.append(id) }
        }
        for id in forgotten { self.boilers.removeValue(forKey: id) }
    }

    /// How many closed snapshots wait to be drained.
    public var closedCount: Int { self.closed.count }

    /// The snapshots of the windows closed since the last call, in closing order: at most `maximum` of them
    /// (the rest stay for the next call, so a full downstream queue never makes anything drop).
    public mutating func drainClosed(maximum: Int = .max) -> [HourlySnapshot] {
        let count = Swift.min(Swift.max(maximum, 0), self.closed.count)
        let result = Array(self.closed.prefix(count))
        self.closed.removeFirst(count)
        for snapshot in result {
            if (self.latestSnapshots[snapshot.boilerID]?.hourStartMs ?? .min) < snapshot.hourStartMs {
                self.latestSnapshots[snapshot.boilerID] = snapshot
            }
        }
        return result
    }

    /// Late readings counted since the last call, per boiler and hour. Counts for a closed hour whose snapshot
    /// has not been drained yet go into that snapshot's `lateSamples` instead.
    public mutating func drainLate() -> [LateReadings] {
        if !self.late.isEmpty && !self.closed.isEmpty {
            for index in self.closed.indices {
                let key = LateKey(boilerID: self.closed[index].boilerID, hourStartMs: self.closed[index].hourStartMs)
                if let count = self.late.removeValue(forKey: key) { self.closed[index].lateSamples &+= count }
            }
        }
        let result = self.late.map { LateReadings(boilerID: $0.key.boilerID, hourStartMs: $0.key.hourStartMs, count: $0.value) }
        self.late.removeAll(keepingCapacity: true)
        return result.sorted { ($0.boilerID, $0.hourStartMs) < ($1.boilerID, $1.hourStartMs) }
    }

    /// Every open window, for checkpoints.
    public var openWindows: [(boilerID: BoilerID, accumulator: HourlyAccumulator)] {
        self.boilers.sorted { $0.key < $1.key }.flatMap { id, boiler in boiler.open.map { (id, $0) } }
    }

    /// How many windows are open.
    public var openWindowCount: Int { self.boilers.values.reduce(0) { $0 + $1.open.count } }

    /// How many boilers are tracked.
    public var boilerCount: Int { self.boilers.count }

    /// Remembers a snapshot already written (at start-up, from the store): it becomes the boiler's latest, and
    /// readings for its hour or earlier count as late instead of opening the hour again.
    public mutating func restoreClosed(_ snapshot: HourlySnapshot, wallMs: Int64) {
        if (self.latestSnapshots[snapshot.boilerID]?.hourStartMs ?? .min) < snapshot.hourStartMs {
            self.latestSnapshots[snapshot.boilerID] = snapshot
        }
        let end = snapshot.hourStartMs + hourMs
        self.boilers[
            snapshot.boilerID,
            default: BoilerWindows(firstTimestampMs: end, periodMs: self.configuration.defaultPeriodMs, wallMs: wallMs)
        ].markClosed(through: end)
    }

    /// Resumes a window from a checkpoint, merging with anything already accumulated for that hour.
    public mutating func restore(boilerID: BoilerID, accumulator: HourlyAccumulator, wallMs: Int64) {
        self.boilers[
            boilerID,
            default: BoilerWindows(firstTimestampMs: accumulator.hourStartMs, periodMs: accumulator.periodMs, wallMs: wallMs)
        ].restore(accumulator)
    }
}
