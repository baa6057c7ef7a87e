/// Subject → subject ID, an open-addressing table over the subjects' UTF-8 bytes with the stream's seeded hash.
///
/// The publish path looks a subject up on every message; Swift's `Dictionary<String, _>` spends most of a
/// publish's budget in SipHash, so this table hashes a word at a time and compares bytes. It grows (and
/// allocates) only when a new subject is added.
struct SubjectTable: ~Copyable {
    /// Slots: 0 = empty, else (low 32 bits of the hash) << 32 | (subject ID + 1).
    private var slots: UnsafeMutablePointer<UInt64>
    private var mask: Int
    private(set) var count = 0
    /// Every subject's bytes, back to back; `spans[id]` locates subject `id`. Raw storage rather than arrays,
    /// so a lookup touches no reference counts (atomic, and costly on the publish path).
    private var bytes: UnsafeMutableRawPointer
    private var bytesUsed = 0
    private var bytesCapacity = 4096
    private var spans: UnsafeMutablePointer<Span>
    private var spansCapacity = 256
    let seed: UInt64

    struct Span {
        var offset: Int
        var length: Int
        var hash: UInt64
    }

    init(seed: UInt64) {
        self.seed = seed
        self.mask = 255
        self.slots = .allocate(capacity: 256)
        self.slots.initialize(repeating: 0, count: 256)
        self.bytes = .allocate(byteCount: self.bytesCapacity, alignment: 8)
        self.spans = .allocate(capacity: self.spansCapacity)
    }

    deinit {
        self.slots.deallocate()
        self.bytes.deallocate()
        self.spans.deallocate()
    }

    /// The ID of `subject`, if it was added. Inlined, as its callers hold the stream's lock: called out of line
    /// on the locked state, Swift copied the table's fields to the stack to pass it.
    @inline(__always)
    func find(_ subject: String) -> UInt32? {
        if let found = subject.utf8.withContiguousStorageIfAvailable({ self.find(UnsafeRawBufferPointer($0)) }) {
            return found
        }
        var copy = subject
        copy.makeContiguousUTF8()
        return copy.utf8.withContiguousStorageIfAvailable { self.find(UnsafeRawBufferPointer($0)) } ?? nil
    }

    @inline(__always)
    func find(_ subject: UnsafeRawBufferPointer) -> UInt32? {
        let hash = seededHash(subject, seed: self.seed)
        let tag = hash & 0xFFFF_FFFF
        var slot = Int(truncatingIfNeeded: hash) & self.mask
        while true {
            let value = self.slots[slot]
            if value == 0 { return nil }
            if value >> 32 == tag {
                let id = Int(value & 0xFFFF_FFFF) - 1
                let span = self.spans[id]
                if span.hash == hash && span.length == subject.count
                    && bytesEqual(UnsafeRawBufferPointer(start: self.bytes + span.offset, count: span.length), subject)
                {
                    return UInt32(id)
                }
            }
            slot = (slot + 1) & self.mask
        }
    }

    /// The UTF-8 bytes of subject `id`, valid until the next `add`.
    @inline(__always)
    func bytes(of id: UInt32) -> UnsafeRawBufferPointer {
        let span = self.spans[Int(id)]
        return UnsafeRawBufferPointer(start: self.bytes + span.offset, count: span.length)
    }

    /// Adds `subject` (which must not be present) as the next ID, and returns it.
    mutating func add(_ subject: String) -> UInt32 {
        let id = self.count
        let utf8 = Array(subject.utf8)
        if self.bytesUsed + utf8.count > self.bytesCapacity {
            let capacity = max(self.bytesCapacity * 2, self.bytesUsed + utf8.count)
            let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
            grown.copyMemory(from: self.bytes, byteCount: self.bytesUsed)
            self.bytes.deallocate()
            self.bytes = grown
            self.bytesCapacity = capacity
        }
        if id == self.spansCapacity {
            let grown = UnsafeMutablePointer<Span>.allocate(capacity: self.spansCapacity * 2)
            grown.moveInitialize(from: self.spans, count: id)
            self.spans.deallocate()
            self.spans = grown
            self.spansCapacity *= 2
        }
        let offset = self.bytesUsed
        utf8.withUnsafeBytes { (self.bytes + offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        self.bytesUsed += utf8.count
        let hash = seededHash(UnsafeRawBufferPointer(start: self.bytes + offset, count: utf8.count), seed: self.seed)
        (self.spans + id).initialize(to: Span(offset: offset, length: utf8.count, hash: hash))
        self.count += 1
        if self.count * 2 > self.mask + 1 { self.grow() }
        self.place(id: id, hash: hash)
        return UInt32(id)
    }

    private mutating func place(id: Int, hash: UInt64) {
        var slot = Int(truncatingIfNeeded: hash) & self.mask
        while self.slots[slot] != 0 { slot = (slot + 1) & self.mask }
        self.slots[slot] = (hash & 0xFFFF_FFFF) << 32 | UInt64(id + 1)
    }

    private mutating func grow() {
        let size = (self.mask + 1) * 2
        self.slots.deallocate()
        self.slots = .allocate(capacity: size)
        self.slots.initialize(repeating: 0, count: size)
        self.mask = size - 1
        for id in 0..<self.count - 1 { self.place(id: id, hash: self.spans[id].hash) }
    }
}
