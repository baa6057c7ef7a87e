@testable import RingStream
import Testing

/// The series table lets a lookup skip the dedup index for an ID above its prefix's high water. It may only
/// ever answer "certainly new" when the ID is not remembered: these tests hold it to that against a plain FIFO.
@Suite("Dedup: IDs that end in a counter")
struct IDSeriesTests {
    /// The table behind a reference, so that `#expect` can take expressions that read it.
    final class Table {
        var table: DedupTable
        init(capacity: Int, seed: UInt64, seriesCapacity: Int? = nil) {
            self.table = DedupTable(capacity: capacity, seed: seed, seriesCapacity: seriesCapacity)
        }

        private func withBytes<R>(_ id: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
            var text = id
            return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        }

        func split(_ id: String) -> (prefix: String, number: UInt64)? {
            self.withBytes(id) { bytes in
                self.table.locator.series.split(bytes).map { (String(decoding: bytes[0..<$0.length], as: UTF8.self), $0.number) }
            }
        }

        func insert(_ id: String, sequence: UInt64, time: Int64) {
            self.withBytes(id) { self.table.insert($0, hash: self.table.hash($0), sequence: sequence, time: time) }
        }

        func lookup(_ id: String) -> UInt64? {
            self.withBytes(id) { bytes in
                let hash = self.table.hash(bytes)
                return self.table.lookup(bytes, hash: hash)
            }
        }

        func isCertainlyNew(_ id: String) -> Bool { self.withBytes(id) { self.table.isCertainlyNew($0) } }

        func expire(storedAtOrBefore cutoff: Int64) { self.table.expire(storedAtOrBefore: cutoff) }
    }

    @Test("an ID splits into the prefix before its trailing digits and their canonical number, or not at all")
    func splitting() {
        let table = Table(capacity: 16, seed: 1)
        #expect(table.split("b1:boot:42")! == ("b1:boot:", 42))
        #expect(table.split("x:0")! == ("x:", 0))
        #expect(table.split("12345")! == ("", 12345))
        #expect(table.split("m9999999999999999999")! == ("m", 9_999_999_999_999_999_999))
        // "07" is another ID than "7": only the canonical spelling maps back to its number.
        #expect(table.split("m07") == nil)
        #expect(table.split("m00") == nil)
        #expect(table.split("no-digits") == nil)
        #expect(table.split("m10000000000000000000") == nil, "20 digits")
        let prefix32 = String(repeating: "p", count: 32)
        #expect(table.split(prefix32 + "1")! == (prefix32, 1))
        #expect(table.split(prefix32 + "q1") == nil, "prefix of 33 bytes")
    }

    @Test("splitting agrees with a byte-at-a-time reference for random IDs of 1 to 48 bytes, every byte value included")
    func splittingAgreesWithReference() {
        let table = Table(capacity: 16, seed: 7)
        let locator = table.table.locator
        var random = SeededGenerator(seed: 0x5EED_0001)
        for round in 0..<20_000 {
            let length = Int(random.next() % 48) + 1
            // Mostly digits near the end, so that tails of every length (past 8 and 16 bytes too) come up.
            let tail = Int(random.next() % UInt64(length + 1))
            var id = [UInt8]()
            for index in 0..<length {
                let digit = index >= length - tail && random.next() % 16 != 0
                id.append(digit ? UInt8(ascii: "0") + UInt8(random.next() % 10) : UInt8(truncatingIfNeeded: random.next()))
            }
            // The reference: the trailing digits, byte by byte.
            var start = id.count
            while start > 0 && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(id[start - 1]) { start -= 1 }
            let digits = id.count - start
            let splits = digits > 0 && digits <= 19 && start <= 32 && !(digits > 1 && id[start] == UInt8(ascii: "0"))
            let split = id.withUnsafeBytes { locator.series.split($0) }
            #expect(id.withUnsafeBytes { IDSeriesTable.Locator.digitsStart($0) } == start, "round \(round): \(id)")
            guard let split else {
                #expect(!splits, "round \(round): \(id) should split at \(start)")
                continue
            }
            #expect(splits && split.length == start, "round \(round): \(id)")
            #expect(split.number == id[start...].reduce(0) { $0 &* 10 &+ UInt64($1 - UInt8(ascii: "0")) }, "round \(round)")
            var padded = [UInt8](repeating: 0, count: 32)
            padded.replaceSubrange(0..<start, with: id[0..<start])
            let words = padded.withUnsafeBytes { bytes in (0..<4).map { bytes.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self) } }
            #expect([split.key.0, split.key.1, split.key.2, split.key.3] == words, "round \(round): \(id)")
        }
    }

    @Test("the index's hash of a split ID depends on its prefix and its number, and is the same for the same bytes")
    func splitHash() {
        let table = Table(capacity: 16, seed: 9)
        func hash(_ id: String) -> UInt64 { var text = id; return text.withUTF8 { table.table.hash(UnsafeRawBufferPointer($0)) } }
        #expect(hash("b1:42") == hash("b1:42"))
        #expect(hash("b1:42") != hash("b1:43"))
        #expect(hash("b1:42") != hash("b2:42"))
        #expect(hash("b1:42") != hash("b1:042"), "the noncanonical spelling is hashed as bytes")
        var seen: Set<UInt64> = []
        for prefix in ["", "a", "b1:", "boiler-0001:5f3a9c1e:"] {
            for number in 0..<2000 { #expect(seen.insert(hash(prefix + String(number))).inserted, "\(prefix)\(number)") }
        }
    }

    @Test("an ID above its prefix's high water skips the index; a retry, a noncanonical spelling, or a forgotten prefix does not")
    func highWater() {
        let table = Table(capacity: 100, seed: 2)
        for seq in 1...5 { table.insert("p:\(seq)", sequence: UInt64(seq), time: Int64(seq)) }
        #expect(table.isCertainlyNew("p:6"))
        #expect(table.isCertainlyNew("q:1"), "a prefix never seen")
        #expect(!table.isCertainlyNew("p:5"))
        #expect(!table.isCertainlyNew("p:3"))
        #expect(!table.isCertainlyNew("p:06"))
        #expect(!table.isCertainlyNew("plain-id"))
        #expect(table.lookup("p:3") == 3)
        #expect(table.lookup("p:6") == nil)
        // An older number not remembered is still looked up, and found absent.
        table.expire(storedAtOrBefore: 2)
        #expect(table.lookup("p:2") == nil)
        #expect(!table.isCertainlyNew("p:2"))
        // Once every ID of the prefix has left the window, any number is new again.
        table.expire(storedAtOrBefore: 5)
        #expect(table.isCertainlyNew("p:2"))
        table.insert("p:2", sequence: 9, time: 9)
        #expect(table.lookup("p:2") == 9)
        #expect(!table.isCertainlyNew("p:1") && table.isCertainlyNew("p:3"), "the high water restarted at 2")
    }

    @Test("when the series table is full, new prefixes are untracked and vouched for only after they leave the window")
    func fullSeriesTable() {
        let table = Table(capacity: 100, seed: 3, seriesCapacity: 8)
        for prefix in 0..<8 { table.insert("s\(prefix)-1", sequence: UInt64(prefix + 1), time: 1) }
        // Eight prefixes in eight entries: the ninth is untracked.
        table.insert("u-1", sequence: 9, time: 2)
        #expect(!table.isCertainlyNew("u-2"), "an untracked prefix may have IDs remembered")
        #expect(!table.isCertainlyNew("v-1"), "so may any prefix without an entry")
        #expect(table.isCertainlyNew("s3-2"), "tracked prefixes still skip the index")
        #expect(table.lookup("u-1") == 9)
        #expect(table.lookup("u-2") == nil)
        // The tracked IDs leave the window; the untracked one is still remembered.
        table.expire(storedAtOrBefore: 1)
        #expect(!table.isCertainlyNew("v-1"))
        // A new prefix takes a freed entry, but answers nothing while an untracked ID is remembered.
        table.insert("w-1", sequence: 10, time: 3)
        #expect(!table.isCertainlyNew("w-2"))
        table.expire(storedAtOrBefore: 3)
        #expect(table.isCertainlyNew("v-1"))
        #expect(table.isCertainlyNew("u-1"))
        // With nothing untracked remembered, freed entries are reused.
        table.insert("v-1", sequence: 11, time: 4)
        #expect(table.isCertainlyNew("v-2"))
        #expect(!table.isCertainlyNew("v-1"))
        #expect(table.lookup("v-1") == 11)
    }

    @Test("prefixes that come while an untracked ID is remembered are vouched for once it leaves, though they keep publishing")
    func untrackedDoesNotSpread() {
        let table = Table(capacity: 100, seed: 4, seriesCapacity: 8)
        for prefix in 0..<8 { table.insert("s\(prefix)-1", sequence: UInt64(prefix + 1), time: 1) }
        table.insert("u-1", sequence: 9, time: 2)
        // The eight tracked prefixes go quiet and leave; u keeps publishing, and w starts.
        table.expire(storedAtOrBefore: 1)
        table.insert("w-1", sequence: 10, time: 3)
        table.insert("u-2", sequence: 11, time: 3)
        #expect(!table.isCertainlyNew("w-2") && !table.isCertainlyNew("u-3"), "u-1 may still be remembered")
        // Once the one untracked ID has left, both skip the index, and their retries still do not.
        table.expire(storedAtOrBefore: 2)
        #expect(table.isCertainlyNew("w-2") && table.isCertainlyNew("u-3"))
        #expect(!table.isCertainlyNew("w-1") && !table.isCertainlyNew("u-2"))
        #expect(table.lookup("w-1") == 10 && table.lookup("u-2") == 11 && table.lookup("u-1") == nil)
        table.insert("w-2", sequence: 12, time: 4)
        table.insert("u-3", sequence: 13, time: 4)
        #expect(table.isCertainlyNew("w-3") && table.isCertainlyNew("u-4"))
    }

    @Test("an entry made for a prefix with untracked IDs does not vouch above them: a retry of one is still found")
    func entryAfterUntracked() {
        let table = Table(capacity: 100, seed: 5, seriesCapacity: 8)
        for prefix in 0..<8 { table.insert("s\(prefix)-1", sequence: UInt64(prefix + 1), time: 1) }
        table.insert("p-5", sequence: 9, time: 2)  // untracked: no room
        table.expire(storedAtOrBefore: 1)
        table.insert("p-3", sequence: 10, time: 3)  // an older number, arriving late: p gets an entry at 3
        #expect(!table.isCertainlyNew("p-5"), "p-5 is above the entry's high water, but remembered")
        #expect(table.lookup("p-5") == 9)
        #expect(!table.isCertainlyNew("p-6"))
        table.expire(storedAtOrBefore: 2)
        #expect(table.isCertainlyNew("p-6") && table.isCertainlyNew("p-5") && table.lookup("p-5") == nil)
        #expect(!table.isCertainlyNew("p-3") && table.lookup("p-3") == 10)
    }

    /// A plain FIFO of (ID, sequence, time) with the table's capacity: what the table must answer.
    private struct FIFOModel {
        let capacity: Int
        var entries: [(id: String, sequence: UInt64, time: Int64)] = []
        mutating func expire(storedAtOrBefore cutoff: Int64) {
            while let first = self.entries.first, first.time <= cutoff { self.entries.removeFirst() }
        }
        mutating func insert(_ id: String, sequence: UInt64, time: Int64) {
            if self.entries.count == self.capacity { self.entries.removeFirst() }
            self.entries.append((id, sequence, time))
        }
        func lookup(_ id: String) -> UInt64? { self.entries.last { $0.id == id }?.sequence }
    }

    @Test("random IDs, retries and expiry with a tiny series table: every lookup agrees with a plain FIFO", arguments: 0..<40)
    func agreesWithFIFO(seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 7)
        let capacity = Int.random(in: 4...64, using: &rng)
        let table = Table(capacity: capacity, seed: UInt64(seed), seriesCapacity: 8)
        var model = FIFOModel(capacity: capacity)
        var counters = [UInt64](repeating: 0, count: 12)
        var sequence: UInt64 = 0
        var time: Int64 = 0
        var issued: [String] = []
        for step in 0..<2000 {
            time += Int64.random(in: 0...2, using: &rng)
            let cutoff = time - Int64.random(in: 5...40, using: &rng)
            table.expire(storedAtOrBefore: cutoff)
            model.expire(storedAtOrBefore: cutoff)
            // Mostly a producer's next ID; else a retry of an earlier one, a noncanonical spelling, a bare ID.
            let id: String
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<6:
                let producer = Int.random(in: 0..<counters.count, using: &rng)
                counters[producer] += UInt64.random(in: 1...3, using: &rng)
                id = "prod\(producer):\(counters[producer])"
            case 6, 7: id = issued.isEmpty ? "first" : issued.randomElement(using: &rng)!
            case 8: id = "prod\(Int.random(in: 0..<3, using: &rng)):0\(Int.random(in: 0..<50, using: &rng))"
            default: id = "plain-\(Int.random(in: 0..<30, using: &rng))x"
            }
            let found = table.lookup(id)
            #expect(found == model.lookup(id), "seed \(seed) step \(step): \(id)")
            if found == nil && model.lookup(id) == nil {
                sequence += 1
                table.insert(id, sequence: sequence, time: time)
                model.insert(id, sequence: sequence, time: time)
                issued.append(id)
            }
        }
        table.table.placeAll()
        // The comparison assumes nothing was pushed out of the index for want of room (at most 1/8 load).
        #expect(table.table.count == model.entries.count, "seed \(seed)")
    }

    @Test("a stream deduplicates a counter's retries, and takes a number again once its window has passed")
    func throughTheStream() throws {
        let stream = try RingStream(
            configuration: .init(name: "S", subjects: ["t.*"], maxMessages: 1000, duplicateWindow: .seconds(10))
        )
        for seq in 1...20 { try stream.publish("t.a", "r\(seq)", id: MessageID("dev-1:\(seq)"), at: 1) }
        let retry = try stream.publish("t.a", "again", id: MessageID("dev-1:7"), at: 2)
        #expect(retry.duplicate && retry.sequence == 7)
        // Just published (still waiting to be written to the index) and then retried: still a duplicate.
        let fresh = try stream.publish("t.a", "r21", id: MessageID("dev-1:21"), at: 2)
        let freshRetry = try stream.publish("t.a", "again", id: MessageID("dev-1:21"), at: 2)
        #expect(!fresh.duplicate && freshRetry.duplicate && freshRetry.sequence == fresh.sequence)
        #expect(!(try stream.publish("t.a", "other spelling", id: MessageID("dev-1:07"), at: 2)).duplicate)
        // After the window, the same ID is a new message, as in JetStream.
        let late = try stream.publish("t.a", "late", id: MessageID("dev-1:7"), at: 20)
        #expect(!late.duplicate && late.sequence == 23)
    }
}
