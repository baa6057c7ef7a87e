import Telemetry
import Testing

/// The ledger that tells re-sent readings from new ones when a stream message holds a run of readings.
@Suite("Reading ledger")
struct ReadingLedgerTests {
    static let boot = BootID("a")!

    /// Which of `first..<first + count` the ledger says were stored.
    static func stored(_ ledger: ReadingLedger, _ first: UInt64, _ count: Int, boiler: BoilerID = b1, boot: BootID = boot, nowMs: Int64 = 0)
        -> [UInt64]
    {
        var flags = [Bool](repeating: false, count: count)
        let marked = ledger.markStored(boilerID: boiler, boot: boot, firstSeq: first, count: count, nowMs: nowMs, in: &flags)
        let seqs = flags.indices.filter { flags[$0] }.map { first + UInt64($0) }
        #expect(marked == seqs.count)
        return seqs
    }

    @Test("in order, a boiler's readings stay one run; a re-send with other boundaries is caught reading by reading")
    func inOrderThenResentWithOtherBoundaries() {
        var ledger = ReadingLedger()
        for batch in 0..<100 { ledger.record(boilerID: b1, boot: Self.boot, firstSeq: UInt64(batch * 10), count: 10, nowMs: Int64(batch)) }
        #expect(ledger.runCount == 1)
        #expect(Self.stored(ledger, 995, 10) == Array(995...999))
        #expect(Self.stored(ledger, 1_000, 10) == [])
        #expect(Self.stored(ledger, 0, 3) == [0, 1, 2])
        // Another boot, another boiler: nothing stored.
        #expect(Self.stored(ledger, 0, 10, boot: BootID("b")!) == [])
        #expect(Self.stored(ledger, 0, 10, boiler: b2) == [])
    }

    @Test("a gap is a second run; the late readings fill it and the runs become one")
    func gapsAndLateReadings() {
        var ledger = ReadingLedger()
        ledger.record(boilerID: b1, boot: Self.boot, firstSeq: 0, count: 10, nowMs: 0)
        ledger.record(boilerID: b1, boot: Self.boot, firstSeq: 20, count: 10, nowMs: 1)
        #expect(ledger.runCount == 2)
        #expect(Self.stored(ledger, 5, 20) == Array(5...9) + Array(20...24))
        ledger.record(boilerID: b1, boot: Self.boot, firstSeq: 12, count: 3, nowMs: 2)
        #expect(ledger.runCount == 3)
        #expect(Self.stored(ledger, 0, 40) == Array(0...9) + Array(12...14) + Array(20...29))
        ledger.record(boilerID: b1, boot: Self.boot, firstSeq: 10, count: 2, nowMs: 3)
        ledger.record(boilerID: b1, boot: Self.boot, firstSeq: 15, count: 5, nowMs: 4)
        #expect(ledger.runCount == 1)
        #expect(Self.stored(ledger, 0, 40) == Array(0...29))
    }

    @Test("boots are apart: a restart's readings are new, the old boot's re-sends are still caught")
    func bootsAreApart() {
        var ledger = ReadingLedger()
        let second = BootID("b")!
        ledger.record(boilerID: b1, boot: Self.boot, firstSeq: 0, count: 50, nowMs: 0)
        #expect(Self.stored(ledger, 0, 10, boot: second) == [])
        ledger.record(boilerID: b1, boot: second, firstSeq: 0, count: 10, nowMs: 1)
        #expect(Self.stored(ledger, 0, 20, boot: second) == Array(0...9))
        #expect(Self.stored(ledger, 40, 20) == Array(40...49))
        ledger.record(boilerID: b1, boot: Self.boot, firstSeq: 50, count: 5, nowMs: 2)
        #expect(Self.stored(ledger, 40, 20) == Array(40...54))
        #expect(ledger.runCount == 2)
    }

    @Test("a run is forgotten once it has not grown for the retention; one that keeps growing is not")
    func retention() {
        var ledger = ReadingLedger(configuration: .init(retentionMs: 1_000))
        ledger.record(boilerID: b1, boot: Self.boot, firstSeq: 100, count: 10, nowMs: 0)
        ledger.record(boilerID: b2, boot: Self.boot, firstSeq: 0, count: 10, nowMs: 0)
        #expect(Self.stored(ledger, 100, 10, nowMs: 1_000) == Array(100...109))
        #expect(Self.stored(ledger, 100, 10, nowMs: 1_001) == [])
        // b2 keeps sending: every reading since its start is remembered.
        for step in 1...30 { ledger.record(boilerID: b2, boot: Self.boot, firstSeq: UInt64(step * 10), count: 10, nowMs: Int64(step * 100)) }
        #expect(Self.stored(ledger, 0, 5, boiler: b2, nowMs: 3_000) == Array(0...4))
        // b1's stale run is dropped when b1 next records; then it is gone for good.
        ledger.record(boilerID: b1, boot: Self.boot, firstSeq: 0, count: 10, nowMs: 5_000)
        #expect(ledger.runCount == 2)
        #expect(Self.stored(ledger, 0, 200, nowMs: 5_000) == Array(0...9))
        #expect(ledger.forgottenEarly == 0)
    }

    /// Boilers that went quiet do not stay for good: the sweep that every 1,024 records (or as many as there are
    /// boilers) makes drops their expired runs, and them.
    @Test("quiet boilers are swept away after the retention")
    func quietBoilersAreSwept() {
        var ledger = ReadingLedger(configuration: .init(retentionMs: 1_000))
        for index in 0..<500 {
            ledger.record(boilerID: BoilerID("q\(index)")!, boot: Self.boot, firstSeq: 0, count: 10, nowMs: 0)
        }
        #expect(ledger.boilerCount == 500)
        // One boiler keeps sending; the quiet 500 expire at 1,000 ms and go at the next sweep.
        for step in 0..<400 { ledger.record(boilerID: b1, boot: Self.boot, firstSeq: UInt64(step), count: 1, nowMs: 500 + Int64(step)) }
        #expect(ledger.boilerCount == 501)
        // The 1,024th record sweeps.
        for step in 400..<600 { ledger.record(boilerID: b1, boot: Self.boot, firstSeq: UInt64(step), count: 1, nowMs: 1_500) }
        #expect(ledger.boilerCount == 1)
        #expect(ledger.runCount == 1)
        #expect(Self.stored(ledger, 0, 5, nowMs: 1_500) == Array(0...4))
        #expect(ledger.forgottenEarly == 0)
    }

    @Test("past the run limit the stalest run is dropped early and counted")
    func runLimit() {
        var ledger = ReadingLedger(configuration: .init(maximumRunsPerBoiler: 4))
        for run in 0..<6 { ledger.record(boilerID: b1, boot: Self.boot, firstSeq: UInt64(run * 10), count: 3, nowMs: Int64(run)) }
        #expect(ledger.runCount == 4)
        #expect(ledger.forgottenEarly == 6)
        #expect(Self.stored(ledger, 0, 60) == [20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 52])
    }

    /// Random batches (overlapping, re-sent, out of order, two boots, two boilers) against a set of every reading
    /// recorded: with nothing expiring, the ledger must answer exactly as the set.
    @Test("random batches: the ledger answers as the set of every recorded reading", arguments: [1, 2, 3, 4] as [UInt64])
    func againstASet(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var ledger = ReadingLedger(configuration: .init(retentionMs: .max / 4, maximumRunsPerBoiler: 1_000_000))
        var model: Set<String> = []
        let boots = [Self.boot, BootID("b")!]
        var caught = 0
        for step in 0..<3_000 {
            let boiler = Bool.random(using: &random) ? b1 : b2
            let boot = boots[Int.random(in: 0...1, using: &random)]
            let first = UInt64.random(in: 0...600, using: &random)
            let count = Int.random(in: 1...40, using: &random)
            let expected = (0..<count).filter { model.contains("\(boiler):\(boot):\(first + UInt64($0))") }.map { first + UInt64($0) }
            let stored = Self.stored(ledger, first, count, boiler: boiler, boot: boot, nowMs: Int64(step))
            #expect(stored == expected, "step \(step)")
            caught += stored.count
            // Record what is new, as the pipeline does: each run of new readings.
            var index = 0
            while index < count {
                if stored.contains(first + UInt64(index)) {
                    index += 1
                    continue
                }
                var end = index + 1
                while end < count && !stored.contains(first + UInt64(end)) { end += 1 }
                ledger.record(boilerID: boiler, boot: boot, firstSeq: first + UInt64(index), count: end - index, nowMs: Int64(step))
                for seq in index..<end { model.insert("\(boiler):\(boot):\(first + UInt64(seq))") }
                index = end
            }
        }
        #expect(caught > 10_000)
        #expect(ledger.forgottenEarly == 0)
    }
}
