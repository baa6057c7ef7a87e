/// Which readings were stored, per boiler and boot, as runs of consecutive `seq`: how a re-sent reading is told
/// from a new one when one stream message holds a whole run of readings. The stream's dedup then sees one message
/// ID per run, and a batch re-sent with other boundaries than the first time would get past it.
///
/// In order, a message extends its boot's newest run: a comparison, no allocation. A gap (a message lost or
/// still on its way) starts a new run; the late message fills it and the runs merge. Like the stream's
/// duplicate window, the ledger forgets: a run to which nothing was added for `retentionMs` of wall time is
/// dropped, so a reading re-sent after that long is taken as new (a run that keeps growing is remembered whole).
/// At most `maximumRunsPerBoiler` runs are kept per boiler; past that the stalest is dropped early, and its
/// readings are counted in `forgottenEarly`.
public struct ReadingLedger: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// How long a run is remembered after it last grew, ms of wall time. Default 120,000 (the stream's
        /// default duplicate window).
        public var retentionMs: Int64
        /// Runs kept per boiler (all boots). Default 1,024.
        public var maximumRunsPerBoiler: Int

        public init(retentionMs: Int64 = 120_000, maximumRunsPerBoiler: Int = 1_024) {
            self.retentionMs = retentionMs
            self.maximumRunsPerBoiler = maximumRunsPerBoiler
        }
    }

    struct Run: Sendable {
        var first: UInt64
        var last: UInt64
        var touchedMs: Int64
    }

    /// One boot's runs, sorted by `first`, disjoint and not adjacent.
    struct Boot: Sendable {
        var boot: BootID
        var runs: [Run]
    }

    /// One boiler's boots, the most recently used last.
    struct Boiler: Sendable {
        var boots: [Boot] = []
        /// No run is older than this (`Int64.max` when there is none), so expiry is looked for only when due.
        var oldestTouchedMs = Int64.max
        var runCount: Int { self.boots.reduce(0) { $0 + $1.runs.count } }
    }

    public let configuration: Configuration
    var boilers: [BoilerID: Boiler] = [:]
    /// Records since every boiler was last swept for expired runs (see `record`).
    var recordsSinceSweep = 0
    /// Readings whose runs were dropped before their retention ended, because a boiler had too many runs.
    public private(set) var forgottenEarly: UInt64 = 0

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// Sets `stored[i]` for each reading `firstSeq + i` (`i` in `0..<count`) that was recorded before and is still
    /// remembered, and returns how many. The caller passes `stored` with at least `count` elements, all false.
    public func markStored(
        boilerID: BoilerID,
        boot: BootID,
        firstSeq: UInt64,
        count: Int,
        nowMs: Int64,
        in stored: inout [Bool]
    ) -> Int {
        guard count > 0, let boiler = self.boilers[boilerID],
            let runs = boiler.boots.last(where: { $0.boot == boot })?.runs, let newest = runs.last
        else { return 0 }
        let lastSeq = firstSeq + UInt64(count - 1)
        // In order: beyond everything stored.
        if newest.last < firstSeq { return 0 }
        let since = nowMs - self.configuration.retentionMs
        var marked = 0
        for run in runs.reversed() {
            if run.last < firstSeq { break }
            guard run.first <= lastSeq, run.touchedMs >= since else { continue }
            let from = Int(max(run.first, firstSeq) - firstSeq)
            let to = Int(min(run.last, lastSeq) - firstSeq)
            for index in from...to where !stored[index] {
                stored[index] = true
                marked += 1
            }
        }
        return marked
    }

    /// Records readings `firstSeq..<firstSeq + count` of `boot` as stored at `nowMs`.
    public mutating func record(boilerID: BoilerID, boot: BootID, firstSeq: UInt64, count: Int, nowMs: Int64) {
        guard count > 0 else { return }
        let forgotten = Self.record(
            into: &self.boilers[boilerID, default: Boiler()],
            boot: boot,
            run: Run(first: firstSeq, last: firstSeq + UInt64(count - 1), touchedMs: nowMs),
            configuration: self.configuration
        )
        self.forgottenEarly &+= forgotten
        // A boiler is swept when it records; one that has gone quiet would keep its runs for good. So every
        // boiler is swept once per as many records as there are boilers (at least 1,024): constant work per
        // record, amortized, and a quiet boiler's runs go within a retention and a sweep.
        self.recordsSinceSweep += 1
        if self.recordsSinceSweep >= max(1_024, self.boilers.count) { self.sweep(nowMs: nowMs) }
    }

    /// Drops every boiler's expired runs, and boilers left with none.
    public mutating func sweep(nowMs: Int64) {
        self.recordsSinceSweep = 0
        let since = nowMs - self.configuration.retentionMs
        for id in Array(self.boilers.keys) {
            guard let oldest = self.boilers[id]?.oldestTouchedMs, oldest < since else { continue }
            Self.expire(&self.boilers[id, default: Boiler()], since: since)
            if self.boilers[id]?.boots.isEmpty == true { self.boilers[id] = nil }
        }
    }

    /// Boilers with runs remembered.
    public var boilerCount: Int { self.boilers.count }

    /// Adds `run` to `boiler`'s runs of `boot`; returns the readings dropped early to make room.
    private static func record(into boiler: inout Boiler, boot: BootID, run: Run, configuration: Configuration) -> UInt64 {
        let nowMs = run.touchedMs
        if boiler.oldestTouchedMs < nowMs - configuration.retentionMs { Self.expire(&boiler, since: nowMs - configuration.retentionMs) }
        let index: Int
        if let found = boiler.boots.lastIndex(where: { $0.boot == boot }) {
            index = found
        } else {
            boiler.boots.append(Boot(boot: boot, runs: []))
            index = boiler.boots.count - 1
        }
        let newest = boiler.boots[index].runs.last
        if let newest, newest.last < run.first {
            // In order: extend the newest run, or start one after a gap.
            let last = boiler.boots[index].runs.count - 1
            if newest.last + 1 == run.first {
                boiler.boots[index].runs[last].last = run.last
                boiler.boots[index].runs[last].touchedMs = nowMs
            } else {
                boiler.boots[index].runs.append(run)
            }
        } else {
            boiler.boots[index].runs = Self.merging(run, into: boiler.boots[index].runs)
        }
        boiler.oldestTouchedMs = min(boiler.oldestTouchedMs, nowMs)
        if index != boiler.boots.count - 1 { boiler.boots.append(boiler.boots.remove(at: index)) }
        var forgotten: UInt64 = 0
        while boiler.runCount > configuration.maximumRunsPerBoiler { forgotten &+= Self.dropStalest(&boiler) }
        return forgotten
    }

    /// `runs` with `run` added: the runs it overlaps or touches become one.
    static func merging(_ run: Run, into runs: [Run]) -> [Run] {
        var merged = run
        var result: [Run] = []
        result.reserveCapacity(runs.count + 1)
        var placed = false
        for existing in runs {
            if existing.last &+ 1 < merged.first {
                result.append(existing)
            } else if existing.first > merged.last &+ 1 {
                if !placed {
                    result.append(merged)
                    placed = true
                }
                result.append(existing)
            } else {
                merged.first = min(merged.first, existing.first)
                merged.last = max(merged.last, existing.last)
            }
        }
        if !placed { result.append(merged) }
        return result
    }

    /// Drops the runs that have not grown since `since`, and boots left without runs.
    private static func expire(_ boiler: inout Boiler, since: Int64) {
        for index in boiler.boots.indices { boiler.boots[index].runs.removeAll { $0.touchedMs < since } }
        boiler.boots.removeAll { $0.runs.isEmpty }
        boiler.oldestTouchedMs = Self.oldestTouch(boiler)
    }

    /// Drops the run that grew longest ago; returns its readings.
    private static func dropStalest(_ boiler: inout Boiler) -> UInt64 {
        var stalest: (boot: Int, run: Int)? = nil
        var stalestMs = Int64.max
        for (bootIndex, boot) in boiler.boots.enumerated() {
            for (runIndex, run) in boot.runs.enumerated() where run.touchedMs < stalestMs {
                stalest = (bootIndex, runIndex)
                stalestMs = run.touchedMs
            }
        }
        guard let stalest else { return 0 }
        let run = boiler.boots[stalest.boot].runs.remove(at: stalest.run)
        boiler.boots.removeAll { $0.runs.isEmpty }
        boiler.oldestTouchedMs = Self.oldestTouch(boiler)
        return run.last - run.first + 1
    }

    private static func oldestTouch(_ boiler: Boiler) -> Int64 {
        boiler.boots.reduce(Int64.max) { oldest, boot in boot.runs.reduce(oldest) { min($0, $1.touchedMs) } }
    }

    /// Runs remembered, all boilers (for metrics and tests).
    public var runCount: Int { self.boilers.values.reduce(0) { $0 + $1.runCount } }
}
