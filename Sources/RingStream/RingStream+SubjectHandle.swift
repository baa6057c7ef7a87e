extension RingStream {
    /// A literal subject resolved once to this stream's own number for it, for callers that read the same
    /// subjects again and again (a controller reading every boiler's last reading each tick). A read by handle
    /// skips hashing and comparing the subject's bytes, and the caller keeps no `String` whose reference count
    /// each call would touch.
    ///
    /// A stream never forgets a subject (its last sequence outlives its messages), so a handle stays valid for
    /// the stream's life. A handle belongs to the stream that made it; another stream refuses it with 90006.
    public struct SubjectHandle: Hashable, Sendable {
        @usableFromInline let id: UInt32
        @usableFromInline let stream: UInt64
    }

    /// The handle of the literal `subject`, or `nil` when nothing was ever published on it (there is nothing to
    /// resolve yet; ask again after its first message).
    public func handle(subject: String) -> SubjectHandle? {
        self.withCore { core in
            core.subjectIDs.find(subject).map { SubjectHandle(id: $0, stream: self.identity) }
        }
    }

    /// Publishes `payload` on the handle's subject at `now`: the same as publishing on its name (see
    /// ``publish(subject:payload:options:now:)-(_,UnsafeRawBufferPointer,_,_)``), without hashing and comparing
    /// the name. Throws 90006 for a handle of another stream.
    public func publish(
        subject: SubjectHandle,
        payload: UnsafeRawBufferPointer,
        options: borrowing PublishOptions = .none,
        now: StreamInstant
    ) throws(StreamError) -> PublishAck {
        try self.checkOwned(subject)
        let idProbe = self.probe(options)
        return try self.withCore { core throws(StreamError) in
            try core.publish(subjectID: subject.id, newName: "", payload: payload, options: options, now: now, idProbe: idProbe)
        }
    }

    /// The last sequence ever stored on the handle's subject, even if since evicted.
    /// Throws 90006 for a handle of another stream.
    public func lastSequence(subject: SubjectHandle) throws(StreamError) -> UInt64 {
        try self.checkOwned(subject)
        return self.withCore { core in core.subjects[Int(subject.id)].lastSequence }
    }

    /// A copy of the newest stored message on the handle's subject. Throws 10037 when none is stored, 90006 for
    /// a handle of another stream.
    public func lastMessage(subject: SubjectHandle) throws(StreamError) -> StreamMessage {
        try self.withLastMessage(subject: subject) { $0.copy() }
    }

    /// Lends the newest stored message on the handle's subject to `body` without copying it; `body` runs under
    /// the stream's lock, so keep it short. Throws 10037 when none is stored, 90006 for a handle of another
    /// stream.
    @inlinable
    public func withLastMessage<Result: Sendable>(
        subject: SubjectHandle,
        _ body: (StreamMessageView) -> Result
    ) throws(StreamError) -> Result {
        var result: Result?
        try self.visitLastMessage(subject: subject) { result = body($0) }
        return try Self.found(result)
    }

    /// Calls `visit` with the newest stored message on the handle's subject, if one is stored.
    @usableFromInline
    func visitLastMessage(subject: SubjectHandle, _ visit: (StreamMessageView) -> Void) throws(StreamError) {
        try self.checkOwned(subject)
        self.withCore { core in
            let id = Int(subject.id)
            guard core.subjects[id].liveCount > 0 else { return }
            visit(core.view(core.subjects[id].lastSequence))
        }
    }

    /// Throws 90006 unless this stream made `handle`.
    func checkOwned(_ handle: SubjectHandle) throws(StreamError) {
        guard handle.stream == self.identity else { throw .foreignHandle(stream: self.name) }
    }
}
