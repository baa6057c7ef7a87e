/// What the dedup table knows, without reading its index, about IDs that end in a counter.
///
/// Producers that follow JetStream's advice build message IDs from a name and a counter that only grows: the
/// ingestion path's `{boiler}:{boot}:{seq}`, a snapshotter's `{subject}:{hour}`. Such an ID splits into a
/// *prefix* (everything before its trailing decimal digits) and a *number* (those digits, written without
/// leading zeros, at most 19 of them), and the split is one to one. For each prefix this table keeps the
/// highest number remembered under it, its *high water*. An ID whose number is above its prefix's high water
/// cannot be remembered, so the publish skips the index lookup: a cache miss in a table of tens of MiB, the
/// largest single cost of a publish. A retry (a number at or below the high water), any other ID, and every
/// case this table cannot vouch for go to the index as before; the table only ever answers "certainly new".
///
/// It is small (`capacity` entries of one prefix each, looked for within `window` slots of their home) and
/// never allocates after `init`. Its claims rest on three rules, all in terms of the dedup FIFO's insertion
/// numbers (an entry is *live* while its number is still in the FIFO; entries leave the FIFO oldest first):
/// 1. An entry's `lastInsert` is the insertion number of the newest ID remembered under its prefix. When that
///    has left the FIFO, no ID of the prefix is remembered, and the entry may be reused for another prefix.
/// 2. An insert whose prefix has no entry and cannot get one (no free or reusable slot in the window, or rule 3)
///    is *untracked*; `untrackedNewest` keeps the newest such insertion number.
/// 3. While an untracked ID may still be remembered, a prefix without an entry may have remembered IDs: the
///    table then answers nothing for it. An entry made for a prefix meanwhile records the newest untracked
///    insertion (`waitsFor`) and answers nothing until that has left the FIFO, when every untracked ID of the
///    prefix has too. (Making no entry at all, as this table first did, let one prefix that never found room
///    and kept publishing keep every new prefix untracked for good.)
struct IDSeriesTable: ~Copyable {
    /// Prefixes longer than this are not tracked (their IDs go to the index).
    static let maximumPrefixLength = 32
    /// The largest number an ID splits off: 19 digits (20 could overflow).
    static let largestNumber: UInt64 = 9_999_999_999_999_999_999

    typealias Key = (UInt64, UInt64, UInt64, UInt64)

    struct Entry {
        /// The prefix's bytes, zero-padded.
        var key: Key
        /// -1: never used.
        var length: Int
        var highWater: UInt64
        var lastInsert: UInt64
        /// The insertion the entry's answers wait for (rule 3), or `IDSeriesTable.waitsForNothing`. It also
        /// brings the entry to a whole cache line, so that reading an entry touches one line.
        var waitsFor: UInt64 = IDSeriesTable.waitsForNothing
    }

    /// Not an insertion number (those have 48 bits).
    static let waitsForNothing: UInt64 = 1 << 63

    /// An ID split into prefix and number, with the prefix's key and hash.
    struct Split {
        var key: Key
        var length: Int
        var number: UInt64
        var hash: UInt64
    }

    private let entries: UnsafeMutablePointer<Entry>
    private let mask: Int
    private let window: Int
    private let seed: UInt64
    /// The insertion number of the newest untracked insert, if there was one.
    private var untrackedNewest: UInt64?

    init(capacity: Int, window: Int, seed: UInt64) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "series capacity must be a power of two")
        self.entries = UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<Entry>.stride, alignment: 64)
            .bindMemory(to: Entry.self, capacity: capacity)
        self.entries.initialize(repeating: Entry(key: (0, 0, 0, 0), length: -1, highWater: 0, lastInsert: 0), count: capacity)
        self.mask = capacity - 1
        self.window = min(window, capacity)
        self.seed = seed
    }

    deinit { self.entries.deallocate() }

    /// Splits IDs and starts loading their prefix's entry; all fixed when the table is made, so a copy can do
    /// it before the stream's lock is taken (a prefetch reads no value).
    struct Locator: @unchecked Sendable {
        /// Only ever prefetched through.
        let entries: UnsafeMutablePointer<Entry>
        let mask: Int
        let seed: UInt64

        /// The ID's prefix and number, or `nil` when it does not end in a canonical number of at most 19 digits
        /// or its prefix is too long to track.
        @inline(__always)
        func split(_ id: UnsafeRawBufferPointer) -> Split? {
            let count = id.count
            let start = Locator.digitsStart(id)
            let digits = count - start
            guard digits > 0 && digits <= 19 && start <= IDSeriesTable.maximumPrefixLength else { return nil }
            // "07" and "7" are different IDs; only the canonical spelling maps back to its number.
            if digits > 1 && id[start] == UInt8(ascii: "0") { return nil }
            var number: UInt64 = 0
            for index in start..<count { number = number &* 10 &+ UInt64(id[index] &- UInt8(ascii: "0")) }
            // Word by word in registers: bytes stored one at a time and then loaded as a word would stall the load.
            let key: Key = (
                Locator.word(id, 0, start), Locator.word(id, 8, start),
                Locator.word(id, 16, start), Locator.word(id, 24, start)
            )
            var hash = (self.seed ^ UInt64(start)) &* 0x9E37_79B9_7F4A_7C15
            hash = (hash ^ key.0) &* 0xBF58_476D_1CE4_E5B9
            hash = (hash ^ key.1 ^ (hash >> 29)) &* 0x94D0_49BB_1331_11EB
            hash = (hash ^ key.2 ^ (hash >> 32)) &* 0xBF58_476D_1CE4_E5B9
            hash = (hash ^ key.3 ^ (hash >> 29)) &* 0x94D0_49BB_1331_11EB
            return Split(key: key, length: start, number: number, hash: hash ^ (hash >> 32))
        }

        /// Where the ID's trailing decimal digits start (its length when it ends in something else). Eight bytes
        /// at a time: a byte is a digit when, XORed with "0", it is below 10; the test is done on all eight at
        /// once without carries between them, and the first non-digit from the end is the highest flagged byte.
        @inline(__always)
        static func digitsStart(_ id: UnsafeRawBufferPointer) -> Int {
            var start = id.count
            while start >= 8 {
                let word = id.loadUnaligned(fromByteOffset: start - 8, as: UInt64.self) ^ 0x3030_3030_3030_3030
                let notDigit = ((word & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7676_7676_7676_7676 | word) & 0x8080_8080_8080_8080
                if notDigit != 0 { return start - notDigit.leadingZeroBitCount / 8 }
                start -= 8
            }
            while start > 0 && id[start - 1] &- UInt8(ascii: "0") < 10 { start -= 1 }
            return start
        }

        /// The prefix's bytes `offset..<offset + 8` as a little-endian word, zero past `length` (the prefix's
        /// length; the ID goes on past it).
        @inline(__always)
        private static func word(_ id: UnsafeRawBufferPointer, _ offset: Int, _ length: Int) -> UInt64 {
            if offset >= length { return 0 }
            if offset + 8 <= id.count {
                let word = id.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                let kept = length - offset
                return kept >= 8 ? word : word & (UInt64.max >> UInt64(64 - 8 * kept))
            }
            var word: UInt64 = 0
            var index = offset
            while index < length {
                word |= UInt64(id[index]) << (8 * UInt64(index - offset))
                index += 1
            }
            return word
        }

        /// Starts loading the first entry where the split's prefix is or would go.
        @inline(__always)
        func prefetch(_ split: Split) {
            prefetchCacheLine(self.entries + (Int(truncatingIfNeeded: split.hash) & self.mask))
        }
    }

    @inline(__always)
    var locator: Locator { Locator(entries: self.entries, mask: self.mask, seed: self.seed) }

    @inline(__always)
    func split(_ id: UnsafeRawBufferPointer) -> Split? { self.locator.split(id) }

    /// Whether an insertion number is still in the FIFO that starts at `head` and holds `count` entries.
    @inline(__always)
    static func isLive(_ number: UInt64, head: UInt64, count: Int) -> Bool {
        DedupTable.age(of: number, head: head, count: count) != nil
    }

    /// The slot of `split`'s prefix, if it has one.
    @inline(__always)
    private func find(_ split: Split) -> Int? {
        var slot = Int(truncatingIfNeeded: split.hash) & self.mask
        for _ in 0..<self.window {
            let entry = self.entries[slot]
            if entry.length < 0 { return nil }
            if entry.length == split.length && entry.key == split.key { return slot }
            slot = (slot + 1) & self.mask
        }
        return nil
    }

    /// Whether the ID split as `split` is certainly not remembered, given the FIFO's `head` and `count`.
    @inline(__always)
    func isCertainlyNew(_ split: Split, head: UInt64, count: Int) -> Bool {
        if let slot = self.find(split) {
            let entry = self.entries[slot]
            // Nothing of the prefix is remembered once its newest ID has left, untracked ones being older.
            if !IDSeriesTable.isLive(entry.lastInsert, head: head, count: count) { return true }
            if entry.waitsFor != IDSeriesTable.waitsForNothing && IDSeriesTable.isLive(entry.waitsFor, head: head, count: count) {
                return false
            }
            return split.number > entry.highWater
        }
        return !self.untrackedMayBeRemembered(head: head, count: count)
    }

    @inline(__always)
    private func untrackedMayBeRemembered(head: UInt64, count: Int) -> Bool {
        guard let untracked = self.untrackedNewest else { return false }
        return IDSeriesTable.isLive(untracked, head: head, count: count)
    }

    /// Records that the ID split as `split` was remembered under insertion number `number`, which is in the
    /// FIFO that starts at `head` and holds `count` entries (the new one included).
    mutating func record(_ split: Split, insertion number: UInt64, head: UInt64, count: Int) {
        if let slot = self.find(split) {
            let wasLive = IDSeriesTable.isLive(self.entries[slot].lastInsert, head: head, count: count)
            if !wasLive {
                self.entries[slot].highWater = split.number
                self.entries[slot].waitsFor = IDSeriesTable.waitsForNothing
            } else if split.number > self.entries[slot].highWater {
                self.entries[slot].highWater = split.number
            }
            self.entries[slot].lastInsert = number
            return
        }
        if let slot = self.reusableSlot(split, head: head, count: count) {
            let waitsFor = self.untrackedMayBeRemembered(head: head, count: count) ? self.untrackedNewest : nil
            self.entries[slot] = Entry(
                key: split.key,
                length: split.length,
                highWater: split.number,
                lastInsert: number,
                waitsFor: waitsFor ?? IDSeriesTable.waitsForNothing
            )
            return
        }
        self.untrackedNewest = number
    }

    /// The first slot of the window that is unused or whose prefix has nothing remembered.
    private func reusableSlot(_ split: Split, head: UInt64, count: Int) -> Int? {
        var slot = Int(truncatingIfNeeded: split.hash) & self.mask
        for _ in 0..<self.window {
            let entry = self.entries[slot]
            if entry.length < 0 || !IDSeriesTable.isLive(entry.lastInsert, head: head, count: count) { return slot }
            slot = (slot + 1) & self.mask
        }
        return nil
    }
}
