import Synchronization

/// An in-memory, ring-buffered message stream with NATS JetStream's publish semantics.
///
/// Messages are published on literal subjects (`boiler.b0001.telemetry`) that one of the stream's subject filters
/// covers, and each gets the next stream sequence. Storage is allocated when the stream is made; publishing a
/// payload allocates nothing. Publish options deduplicate by message ID within `duplicateWindow` and check
/// expectations (last sequence, last subject sequence, last message ID, stream name), failing with JetStream's
/// error codes and texts.
///
/// Two promises go beyond JetStream: a subject's last sequence survives the eviction of its messages, so
/// `expectedLastSubjectSequence: 0` still means "never published" after the ring wraps; and a consumer that the
/// ring lapped is told which sequences it lost (``StreamGap``) instead of silently skipping them.
///
/// One writer publishes, any number of threads read; all access goes through one lock, taken once per call.
/// The stream reads no clock: every call that depends on time takes `now`.
public final class RingStream: Sendable {
    /// The stream's configuration, as given.
    public let configuration: Configuration
    private let core: Mutex<StreamCore>
    /// Written at the end of every critical section and read at the start of the next. The mutex already
    /// orders them; this makes the order visible to the thread sanitizer, which cannot see the hand-off inside
    /// the mutex's contended path (a futex in an uninstrumented library). On x86 both are plain moves.
    private let handoff = Atomic<UInt64>(0)
    /// Tells this stream's subject handles from another's.
    @usableFromInline let identity = UInt64.random(in: 1 ... .max)
    /// Lets a publish hash its message ID and start the dedup index's loads before it takes the lock.
    let dedupLocator: DedupTable.BucketLocator

    /// Runs `body` with exclusive access to the stream's state.
    @inline(__always)
    func withCore<Result, Failure: Error>(
        _ body: (inout StreamCore) throws(Failure) -> sending Result
    ) throws(Failure) -> sending Result {
        try self.core.withLock { core throws(Failure) -> sending Result in
            let generation = self.handoff.load(ordering: .acquiring)
            defer { self.handoff.store(generation &+ 1, ordering: .releasing) }
            return try body(&core)
        }
    }

    /// The stream's name.
    public var name: String { self.configuration.name }

    /// Makes a stream, allocating all of its storage. Throws 10052 when the configuration is invalid.
    public init(configuration: Configuration) throws(StreamError) {
        let filters = try configuration.validated()
        self.configuration = configuration
        let core = StreamCore(configuration: configuration, filters: filters)
        self.dedupLocator = core.dedup.locator
        self.core = Mutex(core)
    }

    /// Publishes `payload` on `subject` at `now`.
    ///
    /// - Returns: the ack: the new sequence, or for a duplicate message ID the original's with `duplicate`.
    /// - Throws: ``StreamError``: 10071, 10070, 10060 for failed expectations, 10077 when a limit refuses it under
    ///   discard `new`, 10054 for an oversized payload, 90001/90002 for a subject that is invalid or outside the
    ///   stream. A failed publish stores nothing.
    public func publish(
        subject: String,
        payload: UnsafeRawBufferPointer,
        options: borrowing PublishOptions = .none,
        now: StreamInstant
    ) throws(StreamError) -> PublishAck {
        let idProbe = self.probe(options)
        return try self.withCore { core throws(StreamError) in
            try core.publish(subject: subject, payload: payload, options: options, now: now, idProbe: idProbe)
        }
    }

    /// The publish's message ID hashed and split, its index buckets and series entry starting to load. Done
    /// before the lock: a prefetch does not wait, so the cache misses overlap taking the lock and the publish.
    @inline(__always)
    func probe(_ options: borrowing PublishOptions) -> DedupTable.Probe? {
        options.messageID?.withUnsafeBytes { self.dedupLocator.probe($0) }
    }

    /// Publishes `payload` on `subject` at `now`; see ``publish(subject:payload:options:now:)-(_,UnsafeRawBufferPointer,_,_)``.
    public func publish(
        subject: String,
        payload: [UInt8],
        options: borrowing PublishOptions = .none,
        now: StreamInstant
    ) throws(StreamError) -> PublishAck {
        let result = payload.withUnsafeBytes { bytes in
            Result { () throws(StreamError) in
                try self.publish(subject: subject, payload: bytes, options: options, now: now)
            }
        }
        return try result.get()
    }

    /// Removes messages older than `maxAge` and forgets message IDs past the duplicate window, as of `now`.
    /// Publishing does this too; call it on a timer when the stream may go quiet.
    public func expire(now: StreamInstant) {
        self.withCore { $0.expire(now: now.nanosecondsSinceEpoch) }
    }

    /// A copy of the stored message `sequence`; throws 10037 when it is not stored (never was, evicted, deleted).
    public func message(sequence: UInt64) throws(StreamError) -> StreamMessage {
        guard let message = self.withCore({ $0.withMessage(sequence) { $0.copy() } }) else {
            throw .noMessageFound
        }
        return message
    }

    /// A copy of the newest stored message on a subject (literal: O(1); a wildcard filter scans the subjects).
    /// Throws 10037 when none is stored, 90005 for a malformed filter.
    public func lastMessage(subject: String) throws(StreamError) -> StreamMessage {
        try self.withLastMessage(subject: subject) { $0.copy() }
    }

    /// Lends the newest stored message on a subject to `body` without copying it; `body` runs under the
    /// stream's lock, so keep it short. Throws 10037 when none is stored.
    @inlinable
    public func withLastMessage<Result: Sendable>(
        subject: String,
        _ body: (StreamMessageView) -> Result
    ) throws(StreamError) -> Result {
        // Generic code is not specialised across modules; the work is done by a non-generic visitor, which
        // borrows the name (wrapped in a value that owned it, it cost an atomic retain and release per read).
        var result: Result?
        try self.visitLastMessage(subject: subject) { result = body($0) }
        return try Self.found(result)
    }

    /// What a last-message read's body returned, or 10037 when there was no message to call it with.
    @inlinable
    static func found<Result>(_ result: consuming Result?) throws(StreamError) -> Result {
        guard let result else { throw StreamError(code: .noMessageFound, description: "no message found") }
        return result
    }

    /// Calls `visit` with the newest stored message on a subject; throws 10037 when none is stored.
    @usableFromInline
    func visitLastMessage(subject: String, _ visit: (StreamMessageView) -> Void) throws(StreamError) {
        // A literal subject is one hash lookup; only wildcards (or unknown subjects, to report a malformed
        // filter properly) pay for parsing.
        let literal: Bool? = self.withCore { core in
            guard let id = core.subjectIDs.find(subject) else { return nil }
            // Fields, not the whole state: copying it would retain and release the subject's name.
            guard core.subjects[Int(id)].liveCount > 0 else { return false }
            visit(core.view(core.subjects[Int(id)].lastSequence))
            return true
        }
        if let literal {
            guard literal else { throw .noMessageFound }
            return
        }
        let filter = try SubjectFilter(subject)
        let found: Bool = self.withCore { core in
            guard let sequence = core.lastStoredSequence(matching: filter) else { return false }
            visit(core.view(sequence))
            return true
        }
        guard found else { throw .noMessageFound }
    }

    /// The last sequence ever stored on the literal `subject`, 0 when nothing was, even if since evicted.
    public func lastSequence(subject: String) -> UInt64 {
        self.withCore { core in
            guard let id = core.subjectIDs.find(subject) else { return 0 }
            return core.subjects[Int(id)].lastSequence
        }
    }

    /// The stream's counts and sequences now.
    public func info() -> StreamInfo {
        self.withCore { $0.info() }
    }

    /// The number of stored messages per subject that matches `filter` (subjects with none are left out).
    public func subjects(matching filter: String = ">") throws(StreamError) -> [String: Int] {
        let parsed = try SubjectFilter(filter)
        return self.withCore { core in
            var counts: [String: Int] = [:]
            for state in core.subjects where state.liveCount > 0 && parsed.matches(state.name) {
                counts[state.name] = state.liveCount
            }
            return counts
        }
    }

    /// A pull consumer positioned by its deliver policy. Throws 90005 for a malformed filter.
    public func makeConsumer(_ configuration: StreamConsumer.Configuration) throws(StreamError) -> StreamConsumer {
        try self.withCore { core throws(StreamError) in try core.makeConsumer(configuration) }
    }

    /// Hands up to `maxMessages` of the consumer's next messages to `body`, in sequence order, and advances it.
    ///
    /// If the ring evicted messages the consumer had not read and its filter matches at least one of them, the
    /// result's `gaps` names the lost range; the messages delivered come after it. `body` runs under the
    /// stream's lock and its payload pointers are valid only inside it.
    @discardableResult
    public func fetch(
        _ consumer: inout StreamConsumer,
        maxMessages: Int,
        _ body: (StreamMessageView) -> Void
    ) -> FetchResult {
        var local = consumer
        let result = self.withCore { core in core.fetch(&local, maxMessages: maxMessages, body) }
        consumer = local
        return result
    }

    /// Copies up to `maxMessages` of the consumer's next messages; see ``fetch(_:maxMessages:_:)``.
    public func fetch(_ consumer: inout StreamConsumer, maxMessages: Int) -> (messages: [StreamMessage], gaps: [StreamGap]) {
        var messages: [StreamMessage] = []
        let result = self.fetch(&consumer, maxMessages: maxMessages) { messages.append($0.copy()) }
        return (messages, result.gaps)
    }
}
