/// The message IDs seen within the duplicate window: a FIFO of entries (IDs arrive in time order, so the oldest
/// expire first), their bytes in a ring arena, and an open-addressing index over them. Everything is allocated
/// once; remembering and forgetting an ID allocates nothing.
struct DedupTable: ~Copyable {
    struct Entry {
        var hash: UInt64
        var sequence: UInt64
        var time: Int64
        var idOffset: Int
        var idLength: Int
    }

    /// Bytes of ID storage budgeted per remembered ID.
    static let bytesPerID = 40

    let capacity: Int
    private let entries: UnsafeMutablePointer<Entry>
    private(set) var count = 0
    private var head = 0

    private let arena: UnsafeMutableRawPointer
    let arenaCapacity: Int
    private(set) var arenaUsed = 0
    private var arenaTail = 0

    /// Slots: 0 = empty, else (low 32 bits of the hash) << 32 | (entry index + 1).
    private let table: UnsafeMutablePointer<UInt64>
    private let tableMask: Int
    private let seed: UInt64

    /// IDs forgotten before their window ended because the table was full.
    private(set) var forgottenEarly: UInt64 = 0

    init(capacity: Int, seed: UInt64) {
        self.capacity = capacity
        self.entries = .allocate(capacity: capacity)
        // Room for at least one ID of the maximum length, so an insert into an empty table always fits.
        self.arenaCapacity = max(capacity * DedupTable.bytesPerID, MessageID.maximumLength)
        self.arena = .allocate(byteCount: self.arenaCapacity, alignment: 8)
        var tableSize = 16
        while tableSize < capacity * 2 { tableSize <<= 1 }
        self.table = .allocate(capacity: tableSize)
        self.table.initialize(repeating: 0, count: tableSize)
        self.tableMask = tableSize - 1
        self.seed = seed
    }

    deinit {
        self.entries.deallocate()
        self.arena.deallocate()
        self.table.deallocate()
    }

    /// A 64-bit hash of the ID bytes, seeded per stream so IDs cannot be chosen to collide.
    func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 { seededHash(bytes, seed: self.seed) }

    /// The sequence stored under `id`, if it is remembered.
    func lookup(_ id: UnsafeRawBufferPointer, hash: UInt64) -> UInt64? {
        let tag = hash & 0xFFFF_FFFF
        var slot = Int(truncatingIfNeeded: hash) & self.tableMask
        while true {
            let value = self.table[slot]
            if value == 0 { return nil }
            if value >> 32 == tag {
                let entry = self.entries[Int(value & 0xFFFF_FFFF) - 1]
                if entry.hash == hash && entry.idLength == id.count && self.arenaEquals(entry, id) {
                    return entry.sequence
                }
            }
            slot = (slot + 1) & self.tableMask
        }
    }

    /// Remembers `id` for `sequence`, forgetting the oldest IDs early if the table or its arena is full.
    mutating func insert(_ id: UnsafeRawBufferPointer, hash: UInt64, sequence: UInt64, time: Int64) {
        while self.count > 0 && (self.count == self.capacity || self.arenaUsed + id.count > self.arenaCapacity) {
            self.removeOldest()
            self.forgottenEarly += 1
        }
        var index = self.head + self.count
        if index >= self.capacity { index -= self.capacity }
        let offset = self.arenaTail
        self.copyIntoArena(id, at: offset)
        self.arenaTail = (offset + id.count) % self.arenaCapacity
        self.arenaUsed += id.count
        self.entries.advanced(by: index).initialize(
            to: Entry(hash: hash, sequence: sequence, time: time, idOffset: offset, idLength: id.count)
        )
        self.count += 1
        var slot = Int(truncatingIfNeeded: hash) & self.tableMask
        while self.table[slot] != 0 { slot = (slot + 1) & self.tableMask }
        self.table[slot] = (hash & 0xFFFF_FFFF) << 32 | UInt64(index + 1)
    }

    /// Forgets every ID stored at or before `cutoff` (nanoseconds).
    mutating func expire(storedAtOrBefore cutoff: Int64) {
        while self.count > 0 && self.entries[self.head].time <= cutoff {
            self.removeOldest()
        }
    }

    private mutating func removeOldest() {
        let entry = self.entries[self.head]
        let marker = UInt64(self.head + 1)
        var slot = Int(truncatingIfNeeded: entry.hash) & self.tableMask
        while self.table[slot] & 0xFFFF_FFFF != marker { slot = (slot + 1) & self.tableMask }
        // Backward-shift deletion keeps every probe chain unbroken without tombstones.
        var hole = slot
        var next = slot
        while true {
            next = (next + 1) & self.tableMask
            let value = self.table[next]
            if value == 0 { break }
            let home = Int(truncatingIfNeeded: value >> 32) & self.tableMask
            // The entry may fill the hole only if the hole lies on its probe path (between home and next).
            if (hole - home) & self.tableMask < (next - home) & self.tableMask {
                self.table[hole] = value
                hole = next
            }
        }
        self.table[hole] = 0
        self.arenaUsed -= entry.idLength
        self.head += 1
        if self.head == self.capacity { self.head = 0 }
        self.count -= 1
    }

    private func copyIntoArena(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let first = min(bytes.count, self.arenaCapacity - offset)
        (self.arena + offset).copyMemory(from: base, byteCount: first)
        if first < bytes.count {
            self.arena.copyMemory(from: base + first, byteCount: bytes.count - first)
        }
    }

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
