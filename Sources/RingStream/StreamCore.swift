/// One stored message's bookkeeping. The sequence is implied by the slot.
struct Record {
    var subjectID: UInt32
    var isDeleted: Bool
    var payloadOffset: Int
    var payloadLength: Int
    var timestamp: Int64
    /// The next sequence on the same subject, 0 when none yet.
    var nextInSubject: UInt64
}

/// What the stream knows about one subject. It outlives the subject's messages, so the last sequence survives
/// eviction and `expectedLastSubjectSequence` keeps its meaning after the ring wraps.
struct SubjectState {
    var name: String
    /// The last sequence ever stored on this subject.
    var lastSequence: UInt64 = 0
    /// The oldest stored sequence on this subject, 0 when it has none stored.
    var firstLiveSequence: UInt64 = 0
    /// How many of its messages are stored.
    var liveCount = 0
    /// The last of its sequences removed by a stream limit (not by `maxMessagesPerSubject`), 0 when none.
    var lastEvictedSequence: UInt64 = 0
}

/// The stream's whole state, owned by the `Mutex` in `RingStream`. All storage is allocated in `init`:
/// a ring of records (a power of two of slots, addressed by `sequence & slotMask`), a payload arena used as a
/// byte ring, a scratch buffer for payloads that wrap the arena's end, and the dedup table.
///
/// Retained records form one contiguous run of sequences `headSequence..<nextSequence`. Messages removed by
/// `maxMessagesPerSubject` from the middle of that run stay as deleted records, holding their slot and bytes
/// until the head passes them; `maxMessages`/`maxBytes` count stored messages only, and the physical ring is
/// sized to leave room for such holes.
struct StreamCore: ~Copyable {
    let name: String
    let filters: [SubjectFilter]
    let maxMessages: Int
    let maxBytes: Int
    let maxAge: Int64?
    let maxPerSubject: Int?
    let maxMessageSize: Int
    let discard: RingStream.DiscardPolicy
    let duplicateWindow: Int64
    let maxSubjects: Int

    let records: UnsafeMutablePointer<Record>
    let slotCapacity: Int
    let slotMask: UInt64
    let arena: UnsafeMutableRawPointer
    let arenaCapacity: Int
    var arenaUsed = 0
    var arenaTail = 0
    let scratch: UnsafeMutableRawPointer

    var headSequence: UInt64 = 1
    var nextSequence: UInt64 = 1
    var liveMessages = 0
    var liveBytes = 0
    var lastTimestamp = Int64.min
    /// The last stored message's ID (bytes kept here, so no 128-byte value is copied per publish);
    /// `lastMessageIDLength` is -1 when that message had none.
    var lastMessageIDBytes: UnsafeMutableRawPointer
    var lastMessageIDLength = -1
    /// The ID of the publish in progress, copied here so that the dedup table reads it without a closure (a
    /// closure over the ID that used the table made Swift copy the table's 256 bytes per publish). When the
    /// message is stored, the two buffers swap: its ID becomes the last message's without a copy.
    var publishingIDBytes: UnsafeMutableRawPointer
    /// The last sequence removed by a stream limit, over all subjects.
    var lastEvictedSequence: UInt64 = 0

    var subjectIDs: SubjectTable
    var subjects: [SubjectState] = []
    var subjectsWithMessages = 0
    var dedup: DedupTable

    var messagesRemoved: UInt64 = 0
    var duplicatesDropped: UInt64 = 0

    init(configuration: RingStream.Configuration, filters: [SubjectFilter]) {
        self.name = configuration.name
        self.filters = filters
        self.maxMessages = configuration.maxMessages
        self.maxBytes = configuration.maxBytes
        self.maxAge = configuration.maxAge?.nanoseconds
        self.maxPerSubject = configuration.maxMessagesPerSubject
        self.maxMessageSize = configuration.maxMessageSize
        self.discard = configuration.discard
        self.duplicateWindow = configuration.duplicateWindow.nanoseconds
        self.maxSubjects = configuration.maxSubjects
        // Holes left by the per-subject limit need room beyond the stored messages.
        let holeFactor = configuration.maxMessagesPerSubject == nil ? 1 : 2
        var slots = 1
        while slots < configuration.maxMessages * holeFactor { slots <<= 1 }
        self.slotCapacity = slots
        self.slotMask = UInt64(slots - 1)
        self.records = .allocate(capacity: slots)
        self.records.initialize(
            repeating: Record(
                subjectID: 0,
                isDeleted: true,
                payloadOffset: 0,
                payloadLength: 0,
                timestamp: 0,
                nextInSubject: 0
            ),
            count: slots
        )
        self.arenaCapacity = configuration.maxBytes * holeFactor
        self.arena = .allocate(byteCount: self.arenaCapacity, alignment: 16)
        self.scratch = .allocate(byteCount: max(configuration.maxMessageSize, 1), alignment: 16)
        self.lastMessageIDBytes = .allocate(byteCount: MessageID.maximumLength, alignment: 8)
        self.publishingIDBytes = .allocate(byteCount: MessageID.maximumLength, alignment: 8)
        self.dedup = DedupTable(capacity: configuration.maxDuplicateIDs, seed: UInt64.random(in: .min ... .max))
        self.subjectIDs = SubjectTable(seed: UInt64.random(in: .min ... .max))
        if configuration.prefaultStorage {
            for storage in self.lazilyWrittenStorage { prefaultPages(storage) }
        }
    }

    /// The storage written only as messages arrive (the records and the dedup index are written by `init`).
    var lazilyWrittenStorage: [UnsafeMutableRawBufferPointer] {
        [
            UnsafeMutableRawBufferPointer(start: self.arena, count: self.arenaCapacity),
            UnsafeMutableRawBufferPointer(start: self.scratch, count: max(self.maxMessageSize, 1)),
        ] + self.dedup.lazilyWrittenStorage
    }

    deinit {
        self.records.deallocate()
        self.arena.deallocate()
        self.scratch.deallocate()
        self.lastMessageIDBytes.deallocate()
        self.publishingIDBytes.deallocate()
    }

    /// The last stored message's ID as text, for error messages ("" when it had none).
    var lastMessageIDText: String {
        guard self.lastMessageIDLength > 0 else { return "" }
        return String(
            decoding: UnsafeRawBufferPointer(start: self.lastMessageIDBytes, count: self.lastMessageIDLength),
            as: UTF8.self
        )
    }

    func lastMessageIDEquals(_ id: borrowing MessageID) -> Bool {
        guard self.lastMessageIDLength == id.count else { return false }
        return id.withUnsafeBytes { bytesEqual(UnsafeRawBufferPointer(start: self.lastMessageIDBytes, count: self.lastMessageIDLength), $0) }
    }

    @inline(__always)
    func slot(_ sequence: UInt64) -> Int { Int(truncatingIfNeeded: sequence & self.slotMask) }

    /// Whether `sequence` names a stored (not removed) message.
    func isStored(_ sequence: UInt64) -> Bool {
        sequence >= self.headSequence && sequence < self.nextSequence && !self.records[self.slot(sequence)].isDeleted
    }
}

// MARK: - Publishing

extension StreamCore {
    /// Publishes on the subject named `name`: its ID when it is known, else checked and added if the publish
    /// succeeds. The name is borrowed all the way down: wrapping it in a value that owns it (an enum with a
    /// name or a handle) cost an atomic retain and release of the name's storage per publish.
    @inline(__always)
    mutating func publish(
        subject name: String,
        payload: UnsafeRawBufferPointer,
        options: borrowing PublishOptions,
        now requested: StreamInstant,
        idProbe knownProbe: DedupTable.Probe? = nil
    ) throws(StreamError) -> PublishAck {
        let knownID = try self.resolve(subject: name)
        return try self.publish(subjectID: knownID, newName: name, payload: payload, options: options, now: requested, idProbe: knownProbe)
    }

    /// The ID of the subject named `name`, or `nil` for a new subject that may be added (a valid literal that the
    /// stream's filters cover, with room in the subject table); throws for one that may not.
    @inline(__always)
    func resolve(subject name: String) throws(StreamError) -> UInt32? {
        if let knownID = self.subjectIDs.find(name) { return knownID }
        try Subject.validateLiteral(name)
        guard self.filters.contains(where: { $0.matches(name) }) else {
            throw .subjectNotInStream(name, stream: self.name)
        }
        guard self.subjects.count < self.maxSubjects else { throw .subjectLimitReached(self.maxSubjects) }
        return nil
    }

    /// Publishes on subject `knownID` (a handle that the caller has checked belongs to this stream, or a name
    /// already looked up), or when it is `nil` on the new subject `newName`, already checked.
    ///
    /// `@_transparent`, not `@inline(__always)`: under the latter it stayed a call of its own from
    /// `RingStream.publish(subject:payload:options:now:)` (seen in callgrind), which passed the ID's probe on
    /// through the stack and cost about 37 instructions per publish, with or without an ID.
    @_transparent
    mutating func publish(
        subjectID knownID: UInt32?,
        newName: String,
        payload: UnsafeRawBufferPointer,
        options: borrowing PublishOptions,
        now requested: StreamInstant,
        idProbe knownProbe: DedupTable.Probe? = nil
    ) throws(StreamError) -> PublishAck {
        // The ID's index buckets start loading first (unless the caller hashed the ID and started them before
        // taking the lock), so that their cache misses overlap the work up to the lookup.
        let idLength = options.messageID?.copyBytes(to: self.publishingIDBytes)
        var idProbe = DedupTable.Probe(hash: 0, split: nil)
        if let knownProbe {
            idProbe = knownProbe
        } else if let idLength {
            idProbe = self.dedup.locator.probe(UnsafeRawBufferPointer(start: self.publishingIDBytes, count: idLength))
        }
        return try self.publish(
            subjectID: knownID, newName: newName, payload: payload, options: options, now: requested,
            idLength: idLength, idProbe: idProbe
        )
    }

    /// Publishes the message whose ID, if it has one (`idLength` bytes), is in `publishingIDBytes` and probed as
    /// `idProbe`, checking `options`' expectations (`PublishOptions` or `SeriesExpectations`; for the former, its
    /// `messageID` is not read). (The ID's probe passed in from the two ways of making it, `options.messageID` and
    /// `RingStream.MessageIDSeries`, costs about 20 instructions per publish; one function that made either was
    /// slower still for the series, whose lending cost more.)
    mutating func publish<Expectations: PublishExpectations & ~Copyable>(
        subjectID knownID: UInt32?,
        newName: String,
        payload: UnsafeRawBufferPointer,
        options: borrowing Expectations,
        now requested: StreamInstant,
        idLength: Int?,
        idProbe: DedupTable.Probe
    ) throws(StreamError) -> PublishAck {
        // Stored timestamps never go backwards, so time-based reads can search them.
        let now = max(requested.nanosecondsSinceEpoch, self.lastTimestamp)
        guard payload.count <= self.maxMessageSize else { throw .messageTooLarge }

        self.expire(now: now)

        // Dedup comes before expectations, so an idempotent retry of an accepted publish succeeds.
        if let idLength {
            let id = UnsafeRawBufferPointer(start: self.publishingIDBytes, count: idLength)
            if let original = self.dedup.lookup(id, probe: idProbe) {
                self.duplicatesDropped += 1
                return PublishAck(stream: self.name, sequence: original, duplicate: true)
            }
        }

        if let expected = options.expectedStream, expected != self.name { throw .streamNotMatch }
        if let expected = options.expectedLastSequence, expected != self.nextSequence - 1 {
            throw .wrongLastSequence(self.nextSequence - 1)
        }
        var subjectLast: UInt64 = 0
        if let knownID { subjectLast = self.subjects[Int(knownID)].lastSequence }
        if let expected = options.expectedLastSubjectSequence, expected != subjectLast {
            throw .wrongLastSequence(subjectLast)
        }
        if let matches = options.expectedLastMessageID.map({ self.lastMessageIDEquals($0) }), !matches {
            throw .wrongLastMessageID(self.lastMessageIDText)
        }

        try self.makeRoom(for: payload.count, subjectID: knownID)

        let subjectID = knownID ?? self.addSubject(newName)
        let sequence = self.store(payload, subjectID: subjectID, now: now)
        if let idLength {
            let id = UnsafeRawBufferPointer(start: self.publishingIDBytes, count: idLength)
            self.dedup.insert(id, probe: idProbe, sequence: sequence, time: now)
            (self.lastMessageIDBytes, self.publishingIDBytes) = (self.publishingIDBytes, self.lastMessageIDBytes)
            self.lastMessageIDLength = idLength
        } else {
            self.lastMessageIDLength = -1
        }
        return PublishAck(stream: self.name, sequence: sequence, duplicate: false)
    }

    /// See `Publisher.announce(messageID:)`.
    mutating func announce(messageID: borrowing MessageID) {
        let length = messageID.copyBytes(to: self.publishingIDBytes)
        self.dedup.prefetch(self.dedup.hash(UnsafeRawBufferPointer(start: self.publishingIDBytes, count: length)))
    }

    /// Applies the limits for one more message of `size` bytes on `subjectID`, evicting (discard `old`) or
    /// refusing (discard `new`). Refusing changes nothing. Inlined, as `store` and the dedup `insert` are: the publish
    /// has two specialisations (see `PublishExpectations`), and with two callers Swift stopped inlining these three,
    /// 50 to 80 instructions more per publish.
    @inline(__always)
    private mutating func makeRoom(for size: Int, subjectID: UInt32?) throws(StreamError) {
        if let perSubject = self.maxPerSubject, let id = subjectID, self.subjects[Int(id)].liveCount >= perSubject {
            guard self.discard == .old else { throw .maximumMessagesPerSubject }
            while self.subjects[Int(id)].liveCount >= perSubject {
                self.remove(self.subjects[Int(id)].firstLiveSequence, byStreamLimit: false)
            }
        }
        if self.discard == .new {
            if self.liveMessages + 1 > self.maxMessages { throw .maximumMessages }
            if self.liveBytes + size > self.maxBytes { throw .maximumBytes }
            // Only holes can stand in the way now; the head is always a stored message, so a full physical
            // ring means stored messages would have to go.
            if Int(self.nextSequence - self.headSequence) + 1 > self.slotCapacity { throw .maximumMessages }
            if self.arenaUsed + size > self.arenaCapacity { throw .maximumBytes }
            return
        }
        while self.liveMessages + 1 > self.maxMessages || self.liveBytes + size > self.maxBytes
            || Int(self.nextSequence - self.headSequence) + 1 > self.slotCapacity
            || self.arenaUsed + size > self.arenaCapacity
        {
            self.remove(self.headSequence, byStreamLimit: true)
        }
    }

    private mutating func addSubject(_ subject: String) -> UInt32 {
        self.subjects.append(SubjectState(name: subject))
        return self.subjectIDs.add(subject)
    }

    /// Stores `payload` as the next message on `subjectID`; inlined (see `makeRoom`).
    @inline(__always)
    private mutating func store(_ payload: UnsafeRawBufferPointer, subjectID: UInt32, now: Int64) -> UInt64 {
        let sequence = self.nextSequence
        let offset = self.arenaTail
        if let base = payload.baseAddress, payload.count > 0 {
            let first = min(payload.count, self.arenaCapacity - offset)
            copyBytes(from: base, to: self.arena + offset, count: first)
            if first < payload.count {
                copyBytes(from: base + first, to: self.arena, count: payload.count - first)
            }
        }
        self.arenaTail = offset + payload.count
        if self.arenaTail >= self.arenaCapacity { self.arenaTail -= self.arenaCapacity }
        self.arenaUsed += payload.count
        self.records[self.slot(sequence)] = Record(
            subjectID: subjectID,
            isDeleted: false,
            payloadOffset: offset,
            payloadLength: payload.count,
            timestamp: now,
            nextInSubject: 0
        )
        let index = Int(subjectID)
        if self.subjects[index].liveCount > 0 {
            self.records[self.slot(self.subjects[index].lastSequence)].nextInSubject = sequence
        } else {
            self.subjects[index].firstLiveSequence = sequence
            self.subjectsWithMessages += 1
        }
        self.subjects[index].lastSequence = sequence
        self.subjects[index].liveCount += 1
        self.liveMessages += 1
        self.liveBytes += payload.count
        self.lastTimestamp = now
        self.nextSequence = sequence + 1
        return sequence
    }

    /// Removes the stored message `sequence`, which must be the oldest of its subject. At the head, the record
    /// is dropped together with any holes behind it; elsewhere it becomes a hole.
    private mutating func remove(_ sequence: UInt64, byStreamLimit: Bool) {
        let slot = self.slot(sequence)
        let record = self.records[slot]
        let index = Int(record.subjectID)
        self.subjects[index].firstLiveSequence = record.nextInSubject
        self.subjects[index].liveCount -= 1
        if self.subjects[index].liveCount == 0 { self.subjectsWithMessages -= 1 }
        if byStreamLimit {
            self.subjects[index].lastEvictedSequence = sequence
            self.lastEvictedSequence = sequence
        }
        self.records[slot].isDeleted = true
        self.liveMessages -= 1
        self.liveBytes -= record.payloadLength
        self.messagesRemoved += 1
        while self.headSequence < self.nextSequence && self.records[self.slot(self.headSequence)].isDeleted {
            self.arenaUsed -= self.records[self.slot(self.headSequence)].payloadLength
            self.headSequence += 1
        }
    }

    /// Removes messages older than `maxAge` and forgets message IDs older than the duplicate window.
    mutating func expire(now: Int64) {
        if self.duplicateWindow < Int64.max {
            self.dedup.expire(storedAtOrBefore: now &- self.duplicateWindow)
        }
        guard let maxAge = self.maxAge else { return }
        let cutoff = now &- maxAge
        while self.headSequence < self.nextSequence && self.records[self.slot(self.headSequence)].timestamp <= cutoff {
            self.remove(self.headSequence, byStreamLimit: true)
        }
    }
}

// The core is only ever reached through the `Mutex` in `RingStream`, which serialises all access; its raw
// pointers are what make it non-Sendable by default.
extension StreamCore: @unchecked Sendable {}
