// MARK: - Reads

extension StreamCore {
    /// Lends the stored message `sequence` to `body`, or returns `nil` when it is not stored.
    @inline(__always)
    func withMessage<Result>(_ sequence: UInt64, _ body: (StreamMessageView) -> Result) -> Result? {
        guard self.isStored(sequence) else { return nil }
        return body(self.view(sequence))
    }

    /// A view of the stored message `sequence`; a payload that wraps the arena's end is copied to scratch.
    @inline(__always)
    func view(_ sequence: UInt64) -> StreamMessageView {
        let record = self.records[self.slot(sequence)]
        let payload: UnsafeRawBufferPointer
        let first = self.arenaCapacity - record.payloadOffset
        if record.payloadLength <= first {
            payload = UnsafeRawBufferPointer(start: self.arena + record.payloadOffset, count: record.payloadLength)
        } else {
            self.scratch.copyMemory(from: self.arena + record.payloadOffset, byteCount: first)
            (self.scratch + first).copyMemory(from: self.arena, byteCount: record.payloadLength - first)
            payload = UnsafeRawBufferPointer(start: self.scratch, count: record.payloadLength)
        }
        return StreamMessageView(
            sequence: sequence,
            subjectBytes: self.subjectIDs.bytes(of: record.subjectID),
            timestamp: StreamInstant(nanosecondsSinceEpoch: record.timestamp),
            payload: payload
        )
    }

    /// The sequence of the newest stored message whose subject matches `filter`, or `nil`.
    @inline(__always)
    func lastStoredSequence(matching filter: SubjectFilter) -> UInt64? {
        if filter.isLiteral {
            guard let id = self.subjectIDs.find(filter.text) else { return nil }
            return self.subjects[Int(id)].liveCount > 0 ? self.subjects[Int(id)].lastSequence : nil
        }
        var best: UInt64?
        for state in self.subjects where state.liveCount > 0 && filter.matches(state.name) {
            if state.lastSequence > best ?? 0 { best = state.lastSequence }
        }
        return best
    }

    /// The first retained sequence stored at or after `instant`, or `nextSequence` when none is.
    func firstSequence(atOrAfter instant: Int64) -> UInt64 {
        var low = self.headSequence
        var high = self.nextSequence
        while low < high {
            let middle = low + (high - low) / 2
            if self.records[self.slot(middle)].timestamp < instant {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }

    func info() -> StreamInfo {
        StreamInfo(
            name: self.name,
            messages: self.liveMessages,
            bytes: self.liveBytes,
            firstSequence: self.headSequence,
            lastSequence: self.nextSequence - 1,
            lastTimestamp: self.nextSequence > 1 ? StreamInstant(nanosecondsSinceEpoch: self.lastTimestamp) : nil,
            subjectsWithMessages: self.subjectsWithMessages,
            subjectsKnown: self.subjects.count,
            messagesRemoved: self.messagesRemoved,
            duplicatesDropped: self.duplicatesDropped,
            duplicateIDs: self.dedup.count,
            duplicateIDsForgottenEarly: self.dedup.forgottenEarly
        )
    }
}
