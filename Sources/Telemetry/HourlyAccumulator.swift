/// The running aggregate of one boiler's readings in one hour `[hourStartMs, hourStartMs + 1 h)` of event time.
///
/// `add` is a handful of comparisons and one Welford step (mean and variance in one pass, numerically stable),
/// with no allocation unless a new boot id appears. Two accumulators of the same hour merge into what
/// accumulating both sets of readings would give (Chan et al.'s parallel update), which is how a checkpoint taken
/// before a restart and the readings after it become one hour.
public struct HourlyAccumulator: Hashable, Sendable {
    /// The hour's start, ms since 1970 (UTC).
    public let hourStartMs: Int64
    /// The boiler's reading period, ms, for the expected sample count.
    public var periodMs: Int64
    /// Readings folded in.
    public internal(set) var samples: UInt64 = 0
    /// Sum of water temperatures.
    public internal(set) var sum: Double = 0
    /// Lowest water temperature (+infinity when empty).
    public internal(set) var min: Double = .infinity
    /// Highest water temperature (-infinity when empty).
    public internal(set) var max: Double = -.infinity
    /// Welford's running mean.
    public internal(set) var mean: Double = 0
    /// Welford's running sum of squared deviations from the mean.
    public internal(set) var m2: Double = 0
    /// Earliest event time folded in (`Int64.max` when empty).
    public internal(set) var firstTimestampMs: Int64 = .max
    /// Latest event time folded in (`Int64.min` when empty).
    public internal(set) var lastTimestampMs: Int64 = .min
    /// Longest gap between consecutive readings, in arrival order, ms.
    public internal(set) var maxGapMs: Int64 = 0
    /// Re-sent readings reported by the stream's dedup, not folded in again.
    public internal(set) var duplicates: UInt64 = 0
    /// Readings older than one already folded in.
    public internal(set) var outOfOrder: UInt64 = 0
    /// The boot of the most recent reading and its highest seq: the common case, kept out of the dictionary.
    public internal(set) var currentBoot: BootID? = nil
    var currentBootHighestSeq: UInt64 = 0
    /// Highest seq of the boots before `currentBoot`.
    var earlierBoots: [BootID: UInt64] = [:]

    /// An empty accumulator for the hour that starts at `hourStartMs`.
    public init(hourStartMs: Int64, periodMs: Int64 = 10) {
        self.hourStartMs = hourStartMs
        self.periodMs = periodMs
    }

    /// The hour's end (exclusive).
    public var hourEndMs: Int64 { self.hourStartMs + hourMs }

    /// Folds in one reading. The caller has checked that `timestampMs` is in this hour.
    @inline(__always)
    public mutating func add(timestampMs: Int64, waterC: Double, boot: BootID, seq: UInt64) {
        self.samples &+= 1
        self.sum += waterC
        if waterC < self.min { self.min = waterC }
        if waterC > self.max { self.max = waterC }
        let delta = waterC - self.mean
        self.mean += delta / Double(self.samples)
        self.m2 += delta * (waterC - self.mean)
        if timestampMs < self.firstTimestampMs { self.firstTimestampMs = timestampMs }
        if timestampMs > self.lastTimestampMs {
            if self.samples > 1 {
                let gap = timestampMs - self.lastTimestampMs
                if gap > self.maxGapMs { self.maxGapMs = gap }
            }
            self.lastTimestampMs = timestampMs
        } else if self.samples > 1 {
            self.outOfOrder &+= 1
        }
        if let current = self.currentBoot, current == boot {
            if seq > self.currentBootHighestSeq { self.currentBootHighestSeq = seq }
        } else {
            self.switchBoot(to: boot, seq: seq)
        }
    }

    /// Folds in `water.count` readings of one boot taken `stepMs` apart from `firstTimestampMs`, with seqs from
    /// `firstSeq`: what `add` does for each of them in turn, up to floating-point rounding. When they come after
    /// everything folded in so far (the usual case), the run's mean and variance are computed in two passes and
    /// merged (Chan et al., as `merge` does) instead of one Welford step per reading, whose division each
    /// reading waits for; the timestamps, gap and boot are settled once for the run.
    public mutating func add(run water: UnsafeBufferPointer<Double>, firstTimestampMs: Int64, stepMs: Int64, boot: BootID, firstSeq: UInt64) {
        let count = water.count
        guard count > 1, stepMs > 0, self.samples == 0 || firstTimestampMs > self.lastTimestampMs else {
            for index in 0..<count {
                self.add(timestampMs: firstTimestampMs + Int64(index) * stepMs, waterC: water[index], boot: boot, seq: firstSeq + UInt64(index))
            }
            return
        }
        var runSum = 0.0
        var runMin = Double.infinity
        var runMax = -Double.infinity
        for value in water {
            runSum += value
            runMin = Swift.min(runMin, value)
            runMax = Swift.max(runMax, value)
        }
        let runCount = Double(count)
        let runMean = runSum / runCount
        var runM2 = 0.0
        for value in water {
            let deviation = value - runMean
            runM2 += deviation * deviation
        }
        if self.samples == 0 {
            self.mean = runMean
            self.m2 = runM2
            self.firstTimestampMs = firstTimestampMs
            self.maxGapMs = Swift.max(self.maxGapMs, stepMs)
        } else {
            let total = Double(self.samples) + runCount
            let delta = runMean - self.mean
            self.mean += delta * runCount / total
            self.m2 += runM2 + delta * delta * Double(self.samples) * runCount / total
            if firstTimestampMs < self.firstTimestampMs { self.firstTimestampMs = firstTimestampMs }
            self.maxGapMs = Swift.max(self.maxGapMs, firstTimestampMs - self.lastTimestampMs, stepMs)
        }
        self.samples &+= UInt64(count)
        self.sum += runSum
        if runMin < self.min { self.min = runMin }
        if runMax > self.max { self.max = runMax }
        self.lastTimestampMs = firstTimestampMs + Int64(count - 1) * stepMs
        let lastSeq = firstSeq + UInt64(count - 1)
        if let current = self.currentBoot, current == boot {
            if lastSeq > self.currentBootHighestSeq { self.currentBootHighestSeq = lastSeq }
        } else {
            self.switchBoot(to: boot, seq: lastSeq)
        }
    }

    private mutating func switchBoot(to boot: BootID, seq: UInt64) {
        if let current = self.currentBoot {
            self.earlierBoots[current] = Swift.max(self.earlierBoots[current] ?? 0, self.currentBootHighestSeq)
        }
        let previous = self.earlierBoots.removeValue(forKey: boot)
        self.currentBoot = boot
        self.currentBootHighestSeq = Swift.max(previous ?? 0, seq)
    }

    /// Counts a re-sent reading that the stream's dedup dropped.
    public mutating func recordDuplicate(count: UInt64 = 1) {
        self.duplicates &+= count
    }

    /// The highest seq seen for each boot this hour.
    public var highestSeqByBoot: [BootID: UInt64] {
        var result = self.earlierBoots
        if let current = self.currentBoot {
            result[current] = Swift.max(result[current] ?? 0, self.currentBootHighestSeq)
        }
        return result
    }

    /// Population variance is m2 / n; the sample variance (n - 1) is what the snapshot reports.
    public var sampleVariance: Double? { self.samples > 1 ? self.m2 / Double(self.samples - 1) : nil }

    /// 3,600,000 ms / period.
    public var expectedSamples: UInt64 { UInt64(Swift.max(hourMs / Swift.max(self.periodMs, 1), 1)) }

    /// The closed hour's snapshot value. `lateSamples` is 0 at close: late readings arrive afterwards.
    public func snapshot(boilerID: BoilerID, closedAtMs: Int64) -> HourlySnapshot {
        let empty = self.samples == 0
        return HourlySnapshot(
            boilerID: boilerID,
            hourStartMs: self.hourStartMs,
            meanC: empty ? nil : self.mean,
            minC: empty ? nil : self.min,
            maxC: empty ? nil : self.max,
            stddevC: self.sampleVariance.map { $0.squareRoot() },
            samples: self.samples,
            expectedSamples: self.expectedSamples,
            duplicates: self.duplicates,
            lateSamples: 0,
            outOfOrder: self.outOfOrder,
            maxGapMs: self.samples > 1 ? self.maxGapMs : nil,
            firstTimestampMs: empty ? nil : self.firstTimestampMs,
            lastTimestampMs: empty ? nil : self.lastTimestampMs,
            closedAtMs: closedAtMs
        )
    }
}

extension HourlyAccumulator {
    /// Folds `other` (the same hour) in, as if its readings had been added after this one's.
    ///
    /// Counts, sum, min, max, mean and variance are exactly those of the union (up to floating-point rounding),
    /// whatever the order. The gap between the two parts (`other.firstTimestampMs - lastTimestampMs`) counts
    /// toward `maxGapMs` when `other` is later, which is the case a checkpoint and a restart produce.
    /// Returns false, changing nothing, when the hours differ.
    @discardableResult
    public mutating func merge(_ other: HourlyAccumulator) -> Bool {
        guard other.hourStartMs == self.hourStartMs else { return false }
        guard other.samples > 0 else {
            self.duplicates &+= other.duplicates
            return true
        }
        guard self.samples > 0 else {
            let duplicates = self.duplicates
            self = other
            self.duplicates &+= duplicates
            return true
        }
        let countA = Double(self.samples)
        let countB = Double(other.samples)
        let total = countA + countB
        let delta = other.mean - self.mean
        self.mean += delta * countB / total
        self.m2 += other.m2 + delta * delta * countA * countB / total
        self.samples &+= other.samples
        self.sum += other.sum
        self.min = Swift.min(self.min, other.min)
        self.max = Swift.max(self.max, other.max)
        var gap = Swift.max(self.maxGapMs, other.maxGapMs)
        if other.firstTimestampMs > self.lastTimestampMs {
            gap = Swift.max(gap, other.firstTimestampMs - self.lastTimestampMs)
        }
        self.maxGapMs = gap
        self.firstTimestampMs = Swift.min(self.firstTimestampMs, other.firstTimestampMs)
        self.lastTimestampMs = Swift.max(self.lastTimestampMs, other.lastTimestampMs)
        self.duplicates &+= other.duplicates
        self.outOfOrder &+= other.outOfOrder
        self.periodMs = other.periodMs
        var boots = self.highestSeqByBoot
        for (boot, seq) in other.highestSeqByBoot { boots[boot] = Swift.max(boots[boot] ?? 0, seq) }
        let current = other.currentBoot ?? self.currentBoot
        self.currentBoot = current
        self.currentBootHighestSeq = current.flatMap { boots.removeValue(forKey: $0) } ?? 0
        self.earlierBoots = boots
        return true
    }
}
