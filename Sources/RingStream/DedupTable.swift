/// The message IDs seen within the duplicate window: a FIFO of entries (IDs arrive in time order, so the oldest
/// expire first), their bytes in a ring arena, and an index over them. Everything is allocated once;
/// remembering and forgetting an ID allocates nothing.
///
/// The index is built so that a publish touches one page of it at random and nothing else: its slots are
/// grouped in buckets of one cache line, each ID may live in one of two buckets of the same page, and a slot
/// names its entry by its 48-bit insertion number. Forgetting the oldest ID is then only a step of the FIFO's head: a
/// slot whose number has left the FIFO is dead, and the next insert into its bucket reuses it. (The table this
/// replaced deleted each forgotten ID from an open-addressing index, a second random memory access per publish
/// that cost as much as the lookup.)
///
/// Its non-mutating helpers are `@inline(__always)`: called out of line from a mutating method (or on the
/// `dedup` field of an `inout` stream state), Swift 6 copied the whole 256-byte table to the stack to pass it
/// as `self`, two to four times per publish (seen in the disassembly; the stream state's 592 bytes likewise for
/// every out-of-line read). Inlined, there is no call; the lookup, which loops over slots, still made the copy
/// inlined, and is `mutating` for that reason alone.
struct DedupTable: ~Copyable {
    struct Entry {
        var hash: UInt64
        /// The stored sequence; 0 when the ID was pushed out of the index early (see `insert`).
        var sequence: UInt64
        var time: Int64
        var idOffset: Int
        var idLength: Int
    }

    /// Bytes of ID storage budgeted per remembered ID.
    static let bytesPerID = 40
    /// Slots per bucket: one 64-byte cache line.
    static let bucketSlots = 8
    /// Both buckets of an ID lie in one group of this many buckets (one 4 KiB page).
    static let groupBuckets = 64

    let capacity: Int
    private let entries: UnsafeMutablePointer<Entry>
    /// Entries in the FIFO, including those pushed out of the index early.
    private var fifoCount = 0
    /// The FIFO's newest `unplaced` entries are not in the index yet (see `insert`).
    private var unplaced = 0
    static let placementDelay = 8
    private var head = 0
    /// The insertion number of the entry at `head`, modulo 2^48.
    private var headNumber: UInt64
    static let numberMask: UInt64 = (1 << 48) - 1

    /// IDs that can be found: the FIFO less those pushed out of the index early.
    private(set) var count = 0

    private let arena: UnsafeMutableRawPointer
    let arenaCapacity: Int
    private(set) var arenaUsed = 0
    private var arenaTail = 0

    /// Slots: (high 16 bits of the hash) << 48 | insertion number. A slot is live when its number is in the FIFO.
    /// A dead slot's number comes back into the FIFO's range only after 2^48 more inserts (a year at 9 million
    /// a second) without that slot being reused; it then merely takes room, as a lookup checks the entry's
    /// whole hash and bytes.
    private let slots: UnsafeMutablePointer<UInt64>
    private let bucketMask: Int
    private let seed: UInt64

    /// IDs forgotten before their window ended because the table was full.
    private(set) var forgottenEarly: UInt64 = 0

    /// Lets the lookup of an ID that ends in a growing counter skip the index (see `IDSeriesTable`).
    private var series: IDSeriesTable
    /// Prefixes tracked at most, and the slots of the series table where one is looked for.
    static let seriesCapacity = 4096
    static let seriesWindow = 8

    /// `firstNumber` is for tests of the insertion number's wrap-around.
    /// `seriesCapacity` defaults to the power of two at or above `capacity`, at least 8 and at most
    /// `DedupTable.seriesCapacity`.
    init(capacity: Int, seed: UInt64, firstNumber: UInt64 = 1, seriesCapacity: Int? = nil) {
        precondition(capacity > 0 && capacity <= 1 << 30, "dedup capacity out of range")
        self.capacity = capacity
        self.entries = .allocate(capacity: capacity)
        // Room for at least one ID of the maximum length, so an insert into an empty table always fits.
        self.arenaCapacity = max(capacity * DedupTable.bytesPerID, MessageID.maximumLength)
        self.arena = .allocate(byteCount: self.arenaCapacity, alignment: 8)
        // At most a quarter of the slots are live. At half (as it was), the IDs of 500 counters filled both
        // buckets of 122 in 240,000 live IDs, which were then forgotten early (DedupTableTests.fullOfCounterIDs,
        // seed 5); at a quarter, none for three seeds. (Placing each ID in the emptier of its buckets did as
        // well at half, for 7% more instructions per publish; the twice larger index costs memory instead,
        // 32 MiB more for the default 2M IDs.)
        var buckets = DedupTable.groupBuckets
        while buckets * DedupTable.bucketSlots < capacity * 4 { buckets <<= 1 }
        // Page-aligned, so that a group of 64 buckets is exactly one 4 KiB page; on large pages where the system
        // grants them, as every publish reads it at random.
        let raw = allocateForRandomAccess(byteCount: buckets * DedupTable.bucketSlots * 8)
        self.slots = raw.bindMemory(to: UInt64.self, capacity: buckets * DedupTable.bucketSlots)
        // Unused slots carry the number furthest from the first: dead for the next 2^47 inserts.
        let never = (firstNumber &- (1 << 47)) & DedupTable.numberMask
        self.slots.initialize(repeating: never, count: buckets * DedupTable.bucketSlots)
        self.bucketMask = buckets - 1
        self.seed = seed
        self.headNumber = firstNumber & DedupTable.numberMask
        var prefixes = 8
        while prefixes < min(capacity, DedupTable.seriesCapacity) { prefixes <<= 1 }
        self.series = IDSeriesTable(capacity: seriesCapacity ?? prefixes, window: DedupTable.seriesWindow, seed: seed ^ 0x5851_F42D_4C95_7F2D)
    }

    /// The storage written only as IDs arrive: the entries and the ID arena (`init` writes the index).
    var lazilyWrittenStorage: [UnsafeMutableRawBufferPointer] {
        [
            UnsafeMutableRawBufferPointer(start: self.entries, count: self.capacity * MemoryLayout<Entry>.stride),
            UnsafeMutableRawBufferPointer(start: self.arena, count: self.arenaCapacity),
        ]
    }

    deinit {
        self.entries.deallocate()
        self.arena.deallocate()
        self.slots.deallocate()
    }

    /// What hashing an ID and finding its buckets takes, all fixed when the table is made.
    @inline(__always)
    var locator: BucketLocator {
        BucketLocator(slots: self.slots, bucketMask: self.bucketMask, seed: self.seed, series: self.series.locator)
    }

    /// What a publish needs to know of its ID before looking it up: its hash and its series split.
    struct Probe {
        var hash: UInt64
        var split: IDSeriesTable.Split?
    }

    /// Hashes IDs and starts loading their buckets. A copy of it can do that before the stream's lock is
    /// taken: it reads nothing that changes, and a prefetch reads no value.
    struct BucketLocator: @unchecked Sendable {
        /// Only ever prefetched through.
        let slots: UnsafeMutablePointer<UInt64>
        let bucketMask: Int
        let seed: UInt64
        let series: IDSeriesTable.Locator

        /// A 64-bit hash of the ID bytes, seeded per stream so IDs cannot be chosen to collide.
        @inline(__always)
        func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 { self.hash(bytes, split: self.series.split(bytes)) }

        /// The same hash, given the ID's split (`series.split(bytes)`): the one place that picks how an ID is
        /// hashed, so that every caller agrees.
        @inline(__always)
        func hash(_ bytes: UnsafeRawBufferPointer, split: IDSeriesTable.Split?) -> UInt64 {
            if let split { return self.hash(split) }
            return seededHash(bytes, seed: self.seed)
        }

        /// The hash of the ID split as `split`: its prefix's hash, which the split has already computed,
        /// folded with its number. The split is one to one, so this is a hash of the ID's bytes as much as
        /// `seededHash` is, at the cost of one multiply instead of a pass over the bytes. Both factors carry
        /// secrets (the prefix's hash is seeded), so no number is known to zero the product.
        @inline(__always)
        func hash(_ split: IDSeriesTable.Split) -> UInt64 {
            // One product alone is too regular for a counter: the IDs n and n + 1 differ by the same step in
            // its low half and hardly at all in its high half. A second product mixes them.
            let mixed = fold(split.hash ^ self.seed, split.number ^ hashPartner(of: self.seed))
            return fold(mixed ^ 0x8EBC_6AF0_9C88_C6E3, split.hash ^ 0x5899_65CC_7537_4CC3)
        }

        /// Starts loading the two buckets where an ID with `hash` is or would go, without waiting for them:
        /// the index is large, so each is a cache miss, and the publish has other work to do in the meantime.
        @inline(__always)
        func prefetch(_ hash: UInt64) {
            let (first, other) = DedupTable.buckets(hash, mask: self.bucketMask)
            prefetchCacheLine(self.slots + first)
            prefetchCacheLine(self.slots + other)
        }

        /// Hashes and splits the ID, and starts loading its buckets and its series entry.
        @inline(__always)
        func probe(_ bytes: UnsafeRawBufferPointer) -> Probe {
            let split = self.series.split(bytes)
            let probe = Probe(hash: self.hash(bytes, split: split), split: split)
            self.prefetch(probe.hash)
            if let split = probe.split { self.series.prefetch(split) }
            return probe
        }
    }

    @inline(__always)
    func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 { self.locator.hash(bytes) }

    @inline(__always)
    func prefetch(_ hash: UInt64) { self.locator.prefetch(hash) }

    /// The first slot of each of the ID's two buckets: the low bits of the hash pick the first, the tag picks
    /// another bucket of the same group.
    @inline(__always)
    func buckets(_ hash: UInt64) -> (Int, Int) { DedupTable.buckets(hash, mask: self.bucketMask) }

    @inline(__always)
    static func buckets(_ hash: UInt64, mask: Int) -> (Int, Int) {
        let first = Int(truncatingIfNeeded: hash) & mask
        let other = first ^ (Int(truncatingIfNeeded: hash >> 40) & (DedupTable.groupBuckets - 1) | 1)
        return (first * DedupTable.bucketSlots, other * DedupTable.bucketSlots)
    }

    /// Where in the FIFO the entry numbered by `slot` (its low 48 bits) is, if it is there.
    @inline(__always)
    private func age(_ slot: UInt64) -> Int? { DedupTable.age(of: slot, head: self.headNumber, count: self.fifoCount) }

    /// Where insertion `number` (its low 48 bits) is in a FIFO that starts at insertion `head` and holds `count`
    /// entries, if it is there. Also what the series table asks of its entries' numbers.
    @inline(__always)
    static func age(of number: UInt64, head: UInt64, count: Int) -> Int? {
        let age = Int(truncatingIfNeeded: (number &- head) & DedupTable.numberMask)
        return age < count ? age : nil
    }

    /// Whether `entry` remembers `id`, whose hash is `hash`.
    @inline(__always)
    private func remembers(_ entry: Entry, _ id: UnsafeRawBufferPointer, hash: UInt64) -> Bool {
        entry.hash == hash && entry.sequence != 0 && entry.idLength == id.count && self.arenaEquals(entry, id)
    }

    @inline(__always)
    private func entryIndex(age: Int) -> Int {
        let index = self.head + age
        return index >= self.capacity ? index - self.capacity : index
    }

    /// The sequence stored under `id`, if it is remembered.
    @inline(__always)
    mutating func lookup(_ id: UnsafeRawBufferPointer, hash: UInt64) -> UInt64? {
        self.lookup(id, probe: Probe(hash: hash, split: self.series.split(id)))
    }

    /// The sequence stored under `id`, if it is remembered; `probe` is `locator.probe(id)`.
    ///
    /// It changes nothing, but is `mutating` (as is `find`) so that the table is passed by address: a
    /// non-mutating method takes the table as a value, and even inlined into the publish, Swift copied all
    /// 161 bytes of it to the stack for each call (a call to memcpy, about 30 instructions per publish).
    @inline(__always)
    mutating func lookup(_ id: UnsafeRawBufferPointer, probe: Probe) -> UInt64? {
        if let split = probe.split, self.series.isCertainlyNew(split, head: self.headNumber, count: self.fifoCount) {
            return nil
        }
        let hash = probe.hash
        for age in (self.fifoCount - self.unplaced)..<self.fifoCount {
            let entry = self.entries[self.entryIndex(age: age)]
            if self.remembers(entry, id, hash: hash) { return entry.sequence }
        }
        let (first, other) = self.buckets(hash)
        // Not `??`: its autoclosure would capture `self`, and capturing the table copies it.
        if let found = self.find(id, hash: hash, bucket: first) { return found }
        return self.find(id, hash: hash, bucket: other)
    }

    /// Whether the series table vouches that `id` is not remembered, so that its lookup need not read the index.
    func isCertainlyNew(_ id: UnsafeRawBufferPointer) -> Bool {
        guard let split = self.series.split(id) else { return false }
        return self.series.isCertainlyNew(split, head: self.headNumber, count: self.fifoCount)
    }

    @inline(__always)
    private mutating func find(_ id: UnsafeRawBufferPointer, hash: UInt64, bucket base: Int) -> UInt64? {
        let tag = hash >> 48
        for slot in base..<(base + DedupTable.bucketSlots) {
            let value = self.slots[slot]
            guard value >> 48 == tag, let age = self.age(value) else { continue }
            let entry = self.entries[self.entryIndex(age: age)]
            if self.remembers(entry, id, hash: hash) { return entry.sequence }
        }
        return nil
    }

    /// Remembers `id` (which must not be remembered) for `sequence`, forgetting the oldest IDs early if the
    /// FIFO or its arena is full.
    ///
    /// The ID goes into the FIFO at once, and into the index `placementDelay` inserts later: placing it reads
    /// its buckets, a cache miss that the caller's prefetch (`BucketLocator.prefetch`) has had that long to
    /// serve by then, instead of a wait at the end of this publish. Until it is placed, `lookup` finds it among
    /// the FIFO's newest entries.
    mutating func insert(_ id: UnsafeRawBufferPointer, hash: UInt64, sequence: UInt64, time: Int64) {
        self.insert(id, probe: Probe(hash: hash, split: self.series.split(id)), sequence: sequence, time: time)
    }

    /// `insert` with the ID's `probe` (`locator.probe(id)`); inlined into the publish, with `append` (see
    /// `StreamCore.makeRoom`).
    @inline(__always)
    mutating func insert(_ id: UnsafeRawBufferPointer, probe: Probe, sequence: UInt64, time: Int64) {
        while self.fifoCount > 0 && (self.fifoCount == self.capacity || self.arenaUsed + id.count > self.arenaCapacity) {
            if self.removeOldest() { self.forgottenEarly += 1 }
        }
        self.append(id, probe: probe, sequence: sequence, time: time)
        if self.unplaced > DedupTable.placementDelay { self.placeOldestUnplaced() }
    }

    /// Places every ID still waiting to go into the index (for tests of the index itself).
    mutating func placeAll() {
        while self.unplaced > 0 { self.placeOldestUnplaced() }
    }

    /// Puts the oldest unplaced FIFO entry into a free slot of its buckets, or, should both be full of live
    /// IDs, into the slot of the oldest of them, which is forgotten early (counted; none in the tests at a quarter
    /// of the slots live).
    private mutating func placeOldestUnplaced() {
        let age = self.fifoCount - self.unplaced
        self.unplaced -= 1
        let hash = self.entries[self.entryIndex(age: age)].hash
        let value = (hash >> 48) << 48 | ((self.headNumber &+ UInt64(age)) & DedupTable.numberMask)
        let (first, other) = self.buckets(hash)
        if let slot = self.freeSlot(first) ?? self.freeSlot(other) {
            self.slots[slot] = value
            return
        }
        var oldest = first
        var oldestAge = Int.max
        for index in 0..<(2 * DedupTable.bucketSlots) {
            let slot = index < DedupTable.bucketSlots ? first + index : other + index - DedupTable.bucketSlots
            let age = self.age(self.slots[slot]) ?? 0
            if age < oldestAge { (oldest, oldestAge) = (slot, age) }
        }
        self.entries[self.entryIndex(age: oldestAge)].sequence = 0
        self.count -= 1
        self.forgottenEarly += 1
        self.slots[oldest] = value
    }

    @inline(__always)
    private func freeSlot(_ base: Int) -> Int? {
        for slot in base..<(base + DedupTable.bucketSlots)
        where self.age(self.slots[slot]) == nil {
            return slot
        }
        return nil
    }

    @inline(__always)
    private mutating func append(_ id: UnsafeRawBufferPointer, probe: Probe, sequence: UInt64, time: Int64) {
        let index = self.entryIndex(age: self.fifoCount)
        let offset = self.arenaTail
        self.copyIntoArena(id, at: offset)
        self.arenaTail = offset + id.count
        if self.arenaTail >= self.arenaCapacity { self.arenaTail -= self.arenaCapacity }
        self.arenaUsed += id.count
        self.entries.advanced(by: index).initialize(
            to: Entry(hash: probe.hash, sequence: sequence, time: time, idOffset: offset, idLength: id.count)
        )
        let number = (self.headNumber &+ UInt64(self.fifoCount)) & DedupTable.numberMask
        self.fifoCount += 1
        self.unplaced += 1
        self.count += 1
        if let split = probe.split {
            self.series.record(split, insertion: number, head: self.headNumber, count: self.fifoCount)
        }
    }

    /// Forgets every ID stored at or before `cutoff` (nanoseconds).
    mutating func expire(storedAtOrBefore cutoff: Int64) {
        while self.fifoCount > 0 && self.entries[self.head].time <= cutoff {
            self.removeOldest()
        }
    }

    /// Drops the FIFO's oldest entry; its index slot is dead from now on. Returns whether it could still be found.
    @discardableResult
    private mutating func removeOldest() -> Bool {
        let entry = self.entries[self.head]
        self.arenaUsed -= entry.idLength
        self.head += 1
        if self.head == self.capacity { self.head = 0 }
        self.headNumber = (self.headNumber &+ 1) & DedupTable.numberMask
        self.fifoCount -= 1
        self.unplaced = min(self.unplaced, self.fifoCount)
        guard entry.sequence != 0 else { return false }
        self.count -= 1
        return true
    }

    @inline(__always)
    private func copyIntoArena(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let first = min(bytes.count, self.arenaCapacity - offset)
        copyBytes(from: base, to: self.arena + offset, count: first)
        if first < bytes.count {
            copyBytes(from: base + first, to: self.arena, count: bytes.count - first)
        }
    }

    @inline(__always)
    private func arenaEquals(_ entry: Entry, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count > 0 else { return true }
        let first = min(bytes.count, self.arenaCapacity - entry.idOffset)
        let head = UnsafeRawBufferPointer(start: self.arena + entry.idOffset, count: first)
        guard bytesEqual(head, UnsafeRawBufferPointer(rebasing: bytes[0..<first])) else { return false }
        guard first < bytes.count else { return true }
        let tail = UnsafeRawBufferPointer(start: self.arena, count: bytes.count - first)
        return bytesEqual(tail, UnsafeRawBufferPointer(rebasing: bytes[first...]))
    }
}
