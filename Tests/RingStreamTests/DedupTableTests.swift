@testable import RingStream
import Testing

/// The dedup table's own edge cases, which random stream operations almost never reach.
@Suite("Dedup table")
struct DedupTableTests {
    private func insert(_ table: inout DedupTable, _ id: String, sequence: UInt64, time: Int64 = 0) {
        var text = id
        text.withUTF8 { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            let hash = table.hash(raw)
            #expect(table.lookup(raw, hash: hash) == nil, "\(id) inserted twice")
            table.insert(raw, hash: hash, sequence: sequence, time: time)
        }
    }

    private func lookup(_ table: inout DedupTable, _ id: String) -> UInt64? {
        var text = id
        return text.withUTF8 { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            let hash = table.hash(raw)
            return table.lookup(raw, hash: hash)
        }
    }

    @Test("when both buckets of an ID are full of live IDs, the oldest of them is forgotten and counted")
    func bothBucketsFull() {
        var table = DedupTable(capacity: 1000, seed: 42)
        // Find 17 IDs that share both buckets: more than the 16 slots they have.
        var byPair: [String: [String]] = [:]
        var crowded: [String] = []
        var candidate = 0
        while crowded.count < 17 {
            let id = "id-\(candidate)"
            candidate += 1
            var text = id
            let pair = text.withUTF8 { table.buckets(table.hash(UnsafeRawBufferPointer($0))) }
            let key = "\(pair.0),\(pair.1)"
            byPair[key, default: []].append(id)
            if byPair[key]!.count == 17 { crowded = byPair[key]! }
        }
        for (index, id) in crowded.enumerated() { self.insert(&table, id, sequence: UInt64(index + 1)) }
        // The newest IDs wait to be written to the index (found meanwhile in the FIFO); write them now.
        table.placeAll()

        #expect(self.lookup(&table, crowded[0]) == nil)
        for (index, id) in crowded.enumerated().dropFirst() {
            #expect(self.lookup(&table, id) == UInt64(index + 1), "\(id)")
        }
        #expect(table.count == 16)
        #expect(table.forgottenEarly == 1)

        // The pushed-out entry is still in the FIFO; leaving it is not counted a second time.
        table.expire(storedAtOrBefore: 0)
        #expect(table.count == 0)
        #expect(table.forgottenEarly == 1)
        #expect(table.arenaUsed == 0)
    }

    @Test("IDs are found across the wrap of the 48-bit insertion number")
    func insertionNumberWraps() {
        var table = DedupTable(capacity: 64, seed: 7, firstNumber: (1 << 48) - 20)
        for index in 0..<200 { self.insert(&table, "b1:boot:\(index)", sequence: UInt64(index + 1), time: Int64(index)) }
        for index in 0..<136 { #expect(self.lookup(&table, "b1:boot:\(index)") == nil, "\(index)") }
        for index in 136..<200 { #expect(self.lookup(&table, "b1:boot:\(index)") == UInt64(index + 1), "\(index)") }
        #expect(table.count == 64)
        #expect(table.forgottenEarly == 136)
        table.expire(storedAtOrBefore: 149)
        #expect(table.count == 50)
        #expect(self.lookup(&table, "b1:boot:149") == nil)
        #expect(self.lookup(&table, "b1:boot:150") == 151)
    }

    @Test("a full table at steady state forgets only by age or by its bound, never a live ID in between")
    func steadyState() {
        var table = DedupTable(capacity: 5000, seed: 3)
        // 50,000 IDs, one per time unit, a window of 4,000 units: the FIFO bound (5,000) is never reached.
        for index in 0..<50_000 {
            table.expire(storedAtOrBefore: Int64(index) - 4000)
            self.insert(&table, "boiler-\(index % 97):\(index)", sequence: UInt64(index + 1), time: Int64(index))
        }
        #expect(table.forgottenEarly == 0)
        #expect(table.count == 4000)
        for index in stride(from: 46_000, to: 50_000, by: 7) {
            #expect(self.lookup(&table, "boiler-\(index % 97):\(index)") == UInt64(index + 1))
        }
        for index in stride(from: 40_000, to: 46_000, by: 7) {
            #expect(self.lookup(&table, "boiler-\(index % 97):\(index)") == nil)
        }
    }

    @Test("a full table of counter IDs, as the ingestion worker makes them, forgets none early", arguments: [5, 6, 7] as [UInt64])
    func fullOfCounterIDs(seed: UInt64) {
        var table = DedupTable(capacity: 1 << 16, seed: seed)
        // 500 boilers counting up, 240,000 IDs in all, one per time unit, a window of 60,000 units: the table
        // holds 60,000 live IDs, 92% of its bound, runs of four sharing a page.
        let window = 60_000
        for index in 0..<240_000 {
            table.expire(storedAtOrBefore: Int64(index - window))
            self.insert(&table, "b\(index % 500):7f3a:\(index / 500)", sequence: UInt64(index + 1), time: Int64(index))
        }
        #expect(table.forgottenEarly == 0)
        #expect(table.count == window)
        for index in stride(from: 240_000 - window, to: 240_000, by: 13) {
            #expect(self.lookup(&table, "b\(index % 500):7f3a:\(index / 500)") == UInt64(index + 1))
        }
    }
}
