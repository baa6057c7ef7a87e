import Telemetry
import Testing

@Suite struct HourlyAccumulatorTests {
    let boot = BootID("boot1")!

    /// The seed's problem: one boiler, one hour, 360,000 readings 10 ms apart, checked against a direct
    /// computation over the same values.
    @Test func fullHourMatchesDirectComputation() throws {
        var generator = SeededGenerator(seed: 42)
        var values: [Double] = []
        values.reserveCapacity(360_000)
        var temperature = 60.0
        for _ in 0..<360_000 {
            temperature = min(150, max(-20, temperature + Double.random(in: -0.05...0.05, using: &generator)))
            values.append((temperature * 100).rounded() / 100)
        }
        var windows = HourlyWindows()
        var index = 0
        while index < values.count {
            let chunk = Array(values[index..<min(index + 10, values.count)])
            let payload = try batch(seq: UInt64(index), firstMs: hour0 + Int64(index) * 10, values: chunk)
            #expect(windows.add(payload, wallMs: hour0).accepted == chunk.count)
            index += 10
        }
        // The next hour's first reading past the lateness closes the window.
        _ = windows.add(try batch(seq: 360_000, firstMs: hour0 + 3_605_000, values: [60]), wallMs: hour0 + 3_605_000)
        let snapshots = windows.drainClosed()
        #expect(snapshots.count == 1)
        let snapshot = try #require(snapshots.first)

        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        #expect(snapshot.samples == 360_000)
        #expect(snapshot.expectedSamples == 360_000)
        #expect(snapshot.coverage == 1)
        #expect(abs((snapshot.meanC ?? .nan) - mean) < 1e-9)
        #expect(abs((snapshot.stddevC ?? .nan) - variance.squareRoot()) < 1e-9)
        #expect(snapshot.minC == values.min())
        #expect(snapshot.maxC == values.max())
        #expect(snapshot.firstTimestampMs == hour0)
        #expect(snapshot.lastTimestampMs == hour0 + 3_599_990)
        #expect(snapshot.maxGapMs == 10)
        #expect(snapshot.outOfOrder == 0)
        #expect(windows.latestSnapshots[b1] == snapshot)
    }

    struct Reading {
        var ts: Int64
        var value: Double
        var seq: UInt64
        var boot: BootID
    }

    func randomReadings(_ count: Int, ordered: Bool, using generator: inout SeededGenerator) -> [Reading] {
        let boots = [BootID("a")!, BootID("b")!, BootID("c")!]
        var ts = hour0
        return (0..<count).map { index in
            ts += Int64.random(in: 1...500, using: &generator)
            let stamp = ordered ? min(ts, hour0 + hourMs - 1) : hour0 + Int64.random(in: 0..<hourMs, using: &generator)
            return Reading(
                ts: stamp,
                value: Double.random(in: -20...150, using: &generator),
                seq: UInt64.random(in: 0...1_000_000, using: &generator),
                boot: boots.randomElement(using: &generator) ?? boots[0]
            )
        }
    }

    func accumulate(_ readings: some Sequence<Reading>) -> HourlyAccumulator {
        var accumulator = HourlyAccumulator(hourStartMs: hour0)
        for reading in readings {
            accumulator.add(timestampMs: reading.ts, waterC: reading.value, boot: reading.boot, seq: reading.seq)
        }
        return accumulator
    }

    func expectClose(_ a: Double, _ b: Double, _ comment: Comment) {
        #expect(abs(a - b) <= 1e-9 * max(1, abs(a), abs(b)), comment)
    }

    /// Property: `a.merge(b)` equals accumulating the union, for random data and random split points. Statistics
    /// hold for any split; gap and order counts for the time-ordered splits a checkpoint produces.
    @Test(arguments: [false, true])
    func mergeEqualsAccumulatingTheUnion(ordered: Bool) {
        var generator = SeededGenerator(seed: ordered ? 1 : 2)
        for trial in 0..<500 {
            let readings = self.randomReadings(Int.random(in: 0...300, using: &generator), ordered: ordered, using: &generator)
            let split = Int.random(in: 0...readings.count, using: &generator)
            var merged = self.accumulate(readings[..<split])
            let second = self.accumulate(readings[split...])
            let mergedOK = merged.merge(second)
            #expect(mergedOK)
            let union = self.accumulate(readings)
            let comment: Comment = "trial \(trial), \(readings.count) readings split at \(split)"
            #expect(merged.samples == union.samples, comment)
            #expect(merged.min == union.min, comment)
            #expect(merged.max == union.max, comment)
            #expect(merged.firstTimestampMs == union.firstTimestampMs, comment)
            #expect(merged.lastTimestampMs == union.lastTimestampMs, comment)
            #expect(merged.highestSeqByBoot == union.highestSeqByBoot, comment)
            #expect(merged.currentBoot == union.currentBoot, comment)
            self.expectClose(merged.sum, union.sum, comment)
            self.expectClose(merged.mean, union.mean, comment)
            self.expectClose(merged.sampleVariance ?? 0, union.sampleVariance ?? 0, comment)
            if ordered {
                #expect(merged.maxGapMs == union.maxGapMs, comment)
                #expect(merged.outOfOrder == union.outOfOrder, comment)
            }
        }
    }

    @Test func mergeRefusesAnotherHour() {
        var a = HourlyAccumulator(hourStartMs: hour0)
        a.add(timestampMs: hour0, waterC: 50, boot: self.boot, seq: 0)
        let before = a
        let mergedOK = a.merge(HourlyAccumulator(hourStartMs: hour0 + hourMs))
        #expect(!mergedOK)
        #expect(a == before)
    }

    @Test func checkpointRoundTripsBitForBit() throws {
        var generator = SeededGenerator(seed: 3)
        for count in [0, 1, 2, 1_000] {
            let accumulator = self.accumulate(self.randomReadings(count, ordered: false, using: &generator))
            let restored = try HourlyAccumulator(checkpoint: accumulator.checkpoint())
            #expect(restored == accumulator, "\(count) readings: \(String(decoding: accumulator.checkpoint(), as: UTF8.self))")
        }
    }

    @Test func checkpointSetRoundTripsBitForBitAndRefusesDamage() throws {
        var generator = SeededGenerator(seed: 5)
        let windows = (0..<50).map { index in
            (boilerID: BoilerID("b\(index)")!, accumulator: self.accumulate(self.randomReadings(index * 7 % 40, ordered: false, using: &generator)))
        }
        let encoded = CheckpointSet.encode(windows)
        let decoded = try CheckpointSet.decode(encoded)
        #expect(decoded.map(\.boilerID) == windows.map(\.boilerID))
        #expect(decoded.map(\.accumulator) == windows.map(\.accumulator))
        for cut in [0, 3, 8, encoded.count / 2, encoded.count - 1] {
            #expect(throws: TelemetryRejection.self) { try CheckpointSet.decode(Array(encoded.prefix(cut))) }
        }
        #expect(throws: TelemetryRejection.self) { try CheckpointSet.decode(encoded + [0]) }
    }

    @Test func damagedCheckpointIsARejection() {
        let good = HourlyAccumulator(hourStartMs: hour0).checkpoint()
        #expect(throws: TelemetryRejection.self) { try HourlyAccumulator(checkpoint: Array(good.dropLast())) }
        #expect(throws: TelemetryRejection.self) { try HourlyAccumulator(checkpoint: Array("{}".utf8)) }
    }

    @Test func outOfOrderReadingsAreCountedAndGapsMeasured() {
        var accumulator = HourlyAccumulator(hourStartMs: hour0)
        for (ts, seq) in [(0, 0), (10, 1), (500, 3), (20, 2), (510, 4)] as [(Int64, UInt64)] {
            accumulator.add(timestampMs: hour0 + ts, waterC: 60, boot: self.boot, seq: seq)
        }
        #expect(accumulator.samples == 5)
        #expect(accumulator.outOfOrder == 1)
        #expect(accumulator.maxGapMs == 490)
        #expect(accumulator.highestSeqByBoot == [self.boot: 4])
    }

    @Test func snapshotEventRoundTrips() throws {
        var accumulator = HourlyAccumulator(hourStartMs: hour0)
        accumulator.add(timestampMs: hour0 + 5, waterC: 61.25, boot: self.boot, seq: 0)
        accumulator.add(timestampMs: hour0 + 15, waterC: 62.5, boot: self.boot, seq: 1)
        accumulator.recordDuplicate()
        let snapshot = accumulator.snapshot(boilerID: b1, closedAtMs: hour0 + hourMs + 5_000)
        #expect(try HourlySnapshot(decoding: snapshot.encoded()) == snapshot)
        let empty = HourlyAccumulator(hourStartMs: hour0).snapshot(boilerID: b2, closedAtMs: hour0 + hourMs)
        #expect(try HourlySnapshot(decoding: empty.encoded()) == empty)
        #expect(empty.meanC == nil && empty.coverage == 0)
    }

    @Test func setpointCommandRoundTrips() throws {
        let command = SetpointCommand(
            decisionID: "b0001:1764169200000", roomSetpointC: 20.5, issuedAtMs: 1_764_169_200_000,
            validUntilMs: 1_764_169_500_000, reason: "water 2.1 °C above the \"hourly\" mean"
        )
        #expect(try SetpointCommand(decoding: command.encoded()) == command)
    }

    /// Property: folding runs in with `add(run:...)` gives what adding their readings one by one gives: counts,
    /// times, gaps, order and boots exactly, mean and variance up to rounding. Runs come in order, with gaps,
    /// out of order (overlapping what came before), across boots, and of one reading.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func runsFoldInAsTheirReadingsDo(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        var byRun = HourlyAccumulator(hourStartMs: hour0)
        var byReading = HourlyAccumulator(hourStartMs: hour0)
        let boots = [BootID("a")!, BootID("b")!]
        var ts = hour0
        var seq: UInt64 = 0
        var fastRuns = 0
        for step in 0..<400 {
            let count = Int.random(in: 1...120, using: &generator)
            let stepMs = Int64([10, 10, 10, 250, 0][Int.random(in: 0..<5, using: &generator)])
            switch Int.random(in: 0..<10, using: &generator) {
            case 0: ts -= Int64.random(in: 1...5_000, using: &generator)  // out of order
            case 1: ts += Int64.random(in: 1...60_000, using: &generator)  // a gap
            default: ts += 10
            }
            let boot = boots[Int.random(in: 0..<10, using: &generator) == 0 ? 1 : 0]
            let values = (0..<count).map { _ in 40 + Double(Int.random(in: 0...8_000, using: &generator)) / 100 }
            if count > 1, stepMs > 0, byRun.samples == 0 || ts > byRun.lastTimestampMs { fastRuns += 1 }
            values.withUnsafeBufferPointer { byRun.add(run: $0, firstTimestampMs: ts, stepMs: stepMs, boot: boot, firstSeq: seq) }
            for (index, value) in values.enumerated() {
                byReading.add(timestampMs: ts + Int64(index) * stepMs, waterC: value, boot: boot, seq: seq + UInt64(index))
            }
            let comment: Comment = "seed \(seed), run \(step)"
            #expect(byRun.samples == byReading.samples, comment)
            #expect(byRun.min == byReading.min && byRun.max == byReading.max, comment)
            #expect(byRun.firstTimestampMs == byReading.firstTimestampMs, comment)
            #expect(byRun.lastTimestampMs == byReading.lastTimestampMs, comment)
            #expect(byRun.maxGapMs == byReading.maxGapMs, comment)
            #expect(byRun.outOfOrder == byReading.outOfOrder, comment)
            #expect(byRun.highestSeqByBoot == byReading.highestSeqByBoot, comment)
            self.expectClose(byRun.sum, byReading.sum, comment)
            self.expectClose(byRun.mean, byReading.mean, comment)
            self.expectClose(byRun.m2, byReading.m2, comment)
            ts += Int64(count - 1) * stepMs
            seq += UInt64(count)
        }
        #expect(fastRuns > 200)
    }
}
