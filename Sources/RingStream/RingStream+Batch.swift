import Synchronization

extension RingStream {
    /// Publishes under one lock acquisition: the ingestion path receives readings in batches (one MQTT message
    /// may carry many), and taking the lock once per batch rather than per reading halves the cost of a
    /// publish on machines where atomic operations are slow.
    ///
    /// The ``Publisher`` is valid only inside `body`; readers wait while `body` runs, so keep it to publishing.
    @inlinable
    public func withPublisher<Result: Sendable>(
        _ body: (inout Publisher) throws(StreamError) -> Result
    ) throws(StreamError) -> Result {
        // Generic code is not specialised across modules; the locking is done by a non-generic function.
        var result: Result?
        try self.publishBatch { (publisher: inout Publisher) throws(StreamError) in result = try body(&publisher) }
        guard let result else { throw StreamError(code: .noMessageFound, description: "the batch produced no result") }
        return result
    }

    @usableFromInline
    func publishBatch(_ body: (inout Publisher) throws(StreamError) -> Void) throws(StreamError) {
        let outcome: StreamError? = self.withCore { core in
            withUnsafeMutablePointer(to: &core) { pointer in
                var publisher = Publisher(core: pointer, identity: self.identity)
                do throws(StreamError) {
                    try body(&publisher)
                    return nil
                } catch {
                    return error
                }
            }
        }
        if let outcome { throw outcome }
    }

    /// Publishes within ``RingStream/withPublisher(_:)``, with the same semantics as ``RingStream/publish(subject:payload:options:now:)-(_,UnsafeRawBufferPointer,_,_)``.
    public struct Publisher: ~Copyable {
        let core: UnsafeMutablePointer<StreamCore>
        /// The stream's identity, which its subject handles carry.
        let identity: UInt64

        fileprivate init(core: UnsafeMutablePointer<StreamCore>, identity: UInt64) {
            self.core = core
            self.identity = identity
        }

        /// Publishes `payload` on `subject` at `now`; a failure stores nothing and leaves the batch usable.
        public mutating func publish(
            subject: String,
            payload: UnsafeRawBufferPointer,
            options: borrowing PublishOptions = .none,
            now: StreamInstant
        ) throws(StreamError) -> PublishAck {
            try self.core.pointee.publish(subject: subject, payload: payload, options: options, now: now)
        }

        /// Publishes `payload` on the handle's subject at `now`, without hashing or comparing the subject's name.
        /// Throws 90006 for a handle of another stream.
        public mutating func publish(
            subject: SubjectHandle,
            payload: UnsafeRawBufferPointer,
            options: borrowing PublishOptions = .none,
            now: StreamInstant
        ) throws(StreamError) -> PublishAck {
            guard subject.stream == self.identity else { throw .foreignHandle(stream: self.core.pointee.name) }
            return try self.core.pointee.publish(subjectID: subject.id, newName: "", payload: payload, options: options, now: now)
        }

        /// How many IDs to announce ahead of their publishes: announce a long batch in chunks of this. Each
        /// announced ID has two cache lines on their way, and a core has room for only so many (10 to 16
        /// outstanding misses on current x86 cores); more would wait for room.
        public static let announceCapacity = 8

        /// Announces a message ID that this batch is about to publish: a hint, which changes no outcome.
        ///
        /// The dedup index is large, and looking an ID up in it is a cache miss. Announce a batch's IDs (up to
        /// ``announceCapacity``) before publishing them: their index reads start at once, together, so that
        /// their misses overlap each other and the publishes before them instead of being paid one after another.
        ///
        /// Only IDs that do not end in a growing counter gain from it. A new ID such as `{producer}:{n}`, whose
        /// `n` is above every `n` remembered for its prefix, is known to be new without reading the index, and
        /// its index write waits until its line has arrived; announcing it only adds a hash and a copy.
        public mutating func announce(messageID: borrowing MessageID) {
            self.core.pointee.announce(messageID: messageID)
        }
    }
}
