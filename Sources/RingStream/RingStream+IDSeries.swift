extension RingStream {
    /// Message IDs `{prefix}{n}` for a run of publishes, such as the ingestion path's `{boiler}:{boot}:{seq}` for a
    /// batch of readings: publishing with a series and a number is publishing with the message ID
    /// `prefix + String(number)`, with the same dedup, acks and errors, for less work per message.
    ///
    /// What a publish with an ID spends on the ID itself is mostly the caller writing it and the stream reading it
    /// back: copying it, finding where its trailing number starts, parsing the number, and hashing the prefix. The
    /// series does the prefix's part once: the stream writes each ID straight into its own buffer and hashes it
    /// from the prefix's hash and the number. Either form finds the other's IDs: a retry may come either way.
    ///
    /// Made by ``RingStream/messageIDSeries(prefix:)``. A series of another stream still publishes correctly, only
    /// without the saving (a stream's hashes are its own).
    public struct MessageIDSeries: Sendable {
        /// The IDs' common beginning.
        public let prefix: MessageID
        /// The stream that made the series.
        let stream: UInt64
        /// The prefix's key, length and hash as the dedup table splits an ID `prefix + digits`; `nil` when such IDs
        /// do not split there (a prefix that ends in a digit, or longer than the series table tracks).
        let split: IDSeriesTable.Split?

        /// Writes the ID for `number` to `destination` (room for `MessageID.maximumLength` bytes, 8-byte aligned)
        /// and returns its length.
        @inline(__always)
        func write(_ number: UInt64, to destination: UnsafeMutableRawPointer) -> Int {
            let prefixLength = self.prefix.copyBytes(to: destination)
            let length = prefixLength + MessageID.decimalLength(number)
            MessageID.writeDecimal(
                number,
                endingAt: length,
                in: UnsafeMutableRawBufferPointer(start: destination, count: MessageID.maximumLength)
            )
            return length
        }

        /// The probe of the ID for `number`, whose `length` bytes `write` has put at `bytes`: made from the
        /// prefix's split when the series is this stream's (`isOwn`) and the number splits as a counter (at most 19
        /// digits), else from the bytes; either way the very hash and split that `BucketLocator.probe` gives them.
        @inline(__always)
        func probe(
            _ number: UInt64,
            bytes: UnsafeMutableRawPointer,
            length: Int,
            locator: DedupTable.BucketLocator,
            isOwn: Bool
        ) -> DedupTable.Probe {
            guard isOwn, var split = self.split, number <= IDSeriesTable.largestNumber else {
                return locator.probe(UnsafeRawBufferPointer(start: bytes, count: length))
            }
            split.number = number
            let probe = DedupTable.Probe(hash: locator.hash(split), split: split)
            locator.prefetch(probe.hash)
            locator.series.prefetch(split)
            return probe
        }
    }

    /// The series of message IDs `prefix + String(n)`; `nil` when the prefix leaves no room for a 20-digit number
    /// within ``MessageID/maximumLength``.
    public func messageIDSeries(prefix: MessageID) -> MessageIDSeries? {
        guard prefix.count <= MessageID.maximumLength - 20 else { return nil }
        var sample = prefix
        sample.append(byte: UInt8(ascii: "1"))
        let split = sample.withUnsafeBytes { self.dedupLocator.series.split($0) }
        return MessageIDSeries(prefix: prefix, stream: self.identity, split: split?.length == prefix.count ? split : nil)
    }
}

extension RingStream {
    /// Publishes `payload` on the handle's subject at `now` with the message ID `series.prefix + String(number)`,
    /// taking the lock for this one publish: the same as publishing with that ID in ``PublishOptions/messageID``
    /// and `expectedLastSubjectSequence` (if any) in the same options, for less work per message (see
    /// ``MessageIDSeries``). Throws 10071 when the subject's last sequence is not the one expected (after the
    /// dedup, as always), 90006 for a handle of another stream.
    public func publish(
        subject: SubjectHandle,
        payload: UnsafeRawBufferPointer,
        messageID series: borrowing MessageIDSeries,
        number: UInt64,
        expectedLastSubjectSequence: UInt64? = nil,
        now: StreamInstant
    ) throws(StreamError) -> PublishAck {
        try self.checkOwned(subject)
        let seriesIsOwn = series.stream == self.identity
        return try self.withCore { core throws(StreamError) in
            try core.publish(
                subjectID: subject.id, newName: "", payload: payload, series: series, number: number,
                seriesIsOwn: seriesIsOwn, expectedLastSubjectSequence: expectedLastSubjectSequence, now: now
            )
        }
    }

    /// Publishes `payload` on `subject` at `now` with the message ID `series.prefix + String(number)`, taking the
    /// lock for this one publish: the same as the publish by handle above, with the subject checked (and added on
    /// its first message) as any publish by name does.
    public func publish(
        subject: String,
        payload: UnsafeRawBufferPointer,
        messageID series: borrowing MessageIDSeries,
        number: UInt64,
        expectedLastSubjectSequence: UInt64? = nil,
        now: StreamInstant
    ) throws(StreamError) -> PublishAck {
        let seriesIsOwn = series.stream == self.identity
        return try self.withCore { core throws(StreamError) in
            let knownID = try core.resolve(subject: subject)
            return try core.publish(
                subjectID: knownID, newName: subject, payload: payload, series: series, number: number,
                seriesIsOwn: seriesIsOwn, expectedLastSubjectSequence: expectedLastSubjectSequence, now: now
            )
        }
    }
}

extension RingStream.Publisher {
    /// Publishes `payload` on the handle's subject at `now` with the message ID `series.prefix + String(number)`:
    /// the same as publishing with that ID in ``PublishOptions/messageID`` and `expectedLastSubjectSequence` (if
    /// any) in the same options. Throws 10071 when the subject's last sequence is not the one expected, 90006 for
    /// a handle of another stream.
    public mutating func publish(
        subject: RingStream.SubjectHandle,
        payload: UnsafeRawBufferPointer,
        messageID series: borrowing RingStream.MessageIDSeries,
        number: UInt64,
        expectedLastSubjectSequence: UInt64? = nil,
        now: StreamInstant
    ) throws(StreamError) -> PublishAck {
        guard subject.stream == self.identity else { throw .foreignHandle(stream: self.core.pointee.name) }
        return try self.core.pointee.publish(
            subjectID: subject.id, newName: "", payload: payload, series: series, number: number,
            seriesIsOwn: series.stream == self.identity, expectedLastSubjectSequence: expectedLastSubjectSequence,
            now: now
        )
    }

    /// Publishes `payload` on `subject` at `now` with the message ID `series.prefix + String(number)`: the same as
    /// publishing with that ID in ``PublishOptions/messageID`` and `expectedLastSubjectSequence` (if any) in the
    /// same options.
    public mutating func publish(
        subject: String,
        payload: UnsafeRawBufferPointer,
        messageID series: borrowing RingStream.MessageIDSeries,
        number: UInt64,
        expectedLastSubjectSequence: UInt64? = nil,
        now: StreamInstant
    ) throws(StreamError) -> PublishAck {
        let knownID = try self.core.pointee.resolve(subject: subject)
        return try self.core.pointee.publish(
            subjectID: knownID, newName: subject, payload: payload, series: series, number: number,
            seriesIsOwn: series.stream == self.identity, expectedLastSubjectSequence: expectedLastSubjectSequence,
            now: now
        )
    }
}

extension StreamCore {
    /// Publishes with the ID `series.prefix + String(number)`, written straight into `publishingIDBytes`.
    @inline(__always)
    mutating func publish(
        subjectID knownID: UInt32?,
        newName: String,
        payload: UnsafeRawBufferPointer,
        series: borrowing RingStream.MessageIDSeries,
        number: UInt64,
        seriesIsOwn: Bool,
        expectedLastSubjectSequence: UInt64?,
        now: StreamInstant
    ) throws(StreamError) -> PublishAck {
        let idLength = series.write(number, to: self.publishingIDBytes)
        let idProbe = series.probe(
            number, bytes: self.publishingIDBytes, length: idLength, locator: self.dedup.locator, isOwn: seriesIsOwn
        )
        return try self.publish(
            subjectID: knownID, newName: newName, payload: payload,
            options: SeriesExpectations(expectedLastSubjectSequence: expectedLastSubjectSequence), now: now,
            idLength: idLength, idProbe: idProbe
        )
    }
}
