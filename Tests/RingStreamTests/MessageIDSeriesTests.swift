import RingStream
import Testing

/// A publish with a `MessageIDSeries` and a number must be exactly a publish with the ID `prefix + String(number)`:
/// same acks, same dedup across both forms, same last message ID.
@Suite("Message ID series")
struct MessageIDSeriesTests {
    static func id(_ prefix: String, _ number: UInt64) -> MessageID? { MessageID(prefix + String(number)) }

    /// A prefix of every kind the stream treats differently: tracked by the series table, empty, ending in a digit
    /// (its IDs do not split at the prefix's end), longer than the table tracks, and longer than a `MessageID`
    /// keeps inline.
    static let prefixes = [
        "b1:7f3a:", "b2:7f3a:", "", "x", "p9", "q:07", String(repeating: "long", count: 10) + ":",
        String(repeating: "spilled-", count: 12) + ":",
    ]

    /// The four ways to publish with a series: one lock per publish or in a `Publisher`, by name or by handle.
    enum Form: CaseIterable {
        case lockByName, lockByHandle, publisherByName, publisherByHandle
    }

    /// Publishes with `series` and `number` in the given form; a `nil` handle falls back to the name.
    static func publish(
        _ stream: RingStream,
        _ form: Form,
        subject: String,
        handle: RingStream.SubjectHandle?,
        payload: [UInt8],
        series: RingStream.MessageIDSeries,
        number: UInt64,
        expectedLastSubjectSequence: UInt64?,
        now: StreamInstant
    ) -> Result<PublishAck, StreamError> {
        payload.withUnsafeBytes { bytes in
            Result { () throws(StreamError) -> PublishAck in
                switch (form, handle) {
                case (.lockByHandle, let handle?):
                    return try stream.publish(
                        subject: handle, payload: bytes, messageID: series, number: number,
                        expectedLastSubjectSequence: expectedLastSubjectSequence, now: now
                    )
                case (.lockByName, _), (.lockByHandle, nil):
                    return try stream.publish(
                        subject: subject, payload: bytes, messageID: series, number: number,
                        expectedLastSubjectSequence: expectedLastSubjectSequence, now: now
                    )
                case (.publisherByHandle, let handle?):
                    return try stream.withPublisher { (publisher: inout RingStream.Publisher) throws(StreamError) in
                        try publisher.publish(
                            subject: handle, payload: bytes, messageID: series, number: number,
                            expectedLastSubjectSequence: expectedLastSubjectSequence, now: now
                        )
                    }
                case (.publisherByName, _), (.publisherByHandle, nil):
                    return try stream.withPublisher { (publisher: inout RingStream.Publisher) throws(StreamError) in
                        try publisher.publish(
                            subject: subject, payload: bytes, messageID: series, number: number,
                            expectedLastSubjectSequence: expectedLastSubjectSequence, now: now
                        )
                    }
                }
            }
        }
    }

    @Test("random publishes with series and subject expectations agree with the same spelled out, on a twin stream, ack for ack and error for error")
    func agreesWithSpelledOutIDs() throws {
        let configure: (inout RingStream.Configuration) -> Void = {
            $0.maxMessages = 300
            $0.maxDuplicateIDs = 200
            $0.duplicateWindow = .seconds(30)
        }
        let withSeries = try makeStream(configure)
        let spelledOut = try makeStream(configure)
        let other = try makeStream()
        var random = SeededGenerator(seed: 0x1D5E_0001)
        let payload: [UInt8] = Array("21.5".utf8)
        var duplicates = 0
        var refused = 0
        var forms: [Form: Int] = [:]
        for step in 0..<8_000 {
            let prefix = Self.prefixes[Int(random.next() % UInt64(Self.prefixes.count))]
            let number: UInt64 =
                switch random.next() % 8 {
                case 0: UInt64.max - random.next() % 3  // 20 digits: not a counter the table splits off
                case 1: 9_999_999_999_999_999_999 - random.next() % 2  // the largest that splits, and one below
                default: random.next() % 400  // small: retries within the window
                }
            guard let spelled = Self.id(prefix, number) else {
                Issue.record("the ID \(prefix)\(number) is valid")
                continue
            }
            let subject = "boiler.b\(random.next() % 5).telemetry"
            // A series made by another stream, now and then: still correct, only without the shortcut.
            let maker = random.next() % 10 == 0 ? other : withSeries
            let prefixID = try #require(MessageID(prefix) ?? (prefix.isEmpty ? MessageID() : nil))
            let series = try #require(maker.messageIDSeries(prefix: prefixID))
            // By handle, once the subject has one (resolved before the publish's lock).
            let form = Form.allCases[Int(random.next() % 4)]
            forms[form, default: 0] += 1
            let handle = withSeries.handle(subject: subject)
            // No expectation, the right last sequence of the subject, or a wrong one.
            let last = spelledOut.lastSequence(subject: subject)
            let expected: UInt64? =
                switch random.next() % 4 {
                case 0: last
                case 1: last + 1 + random.next() % 3
                default: nil
                }
            let now = StreamInstant.seconds(Int64(step / 20))
            let got = Self.publish(
                withSeries, form, subject: subject, handle: handle, payload: payload, series: series, number: number,
                expectedLastSubjectSequence: expected, now: now
            )
            let want = Result { () throws(StreamError) -> PublishAck in
                try spelledOut.publish(
                    subject: subject, payload: payload,
                    options: PublishOptions(messageID: spelled, expectedLastSubjectSequence: expected), now: now
                )
            }
            let expecting = expected.map(String.init) ?? "nothing"
            #expect(got == want, "step \(step): \(spelled), \(form), expecting \(expecting)")
            if case .success(let ack) = want, ack.duplicate { duplicates += 1 }
            if case .failure = want { refused += 1 }
        }
        #expect(duplicates > 500, "the run must retry IDs, or it tests no dedup")
        #expect(refused > 500, "the run must fail expectations, or it tests none")
        #expect(forms.count == 4 && forms.values.allSatisfy { $0 > 1_000 }, "every form publishes")
        #expect(withSeries.info().messages == spelledOut.info().messages)
        #expect(withSeries.info().lastSequence == spelledOut.info().lastSequence)
    }

    @Test("a series publish that expects the wrong subject sequence fails with 10071 and stores and remembers nothing")
    func wrongSubjectSequence() throws {
        let stream = try makeStream()
        let series = try #require(stream.messageIDSeries(prefix: "b1:7f3a:"))
        let first = try #require(try? Self.publish(
            stream, .lockByName, subject: "boiler.b1.telemetry", handle: nil, payload: [1], series: series, number: 1,
            expectedLastSubjectSequence: 0, now: .seconds(1)
        ).get())
        let handle = try #require(stream.handle(subject: "boiler.b1.telemetry"))
        for form in Form.allCases {
            let refused = Self.publish(
                stream, form, subject: "boiler.b1.telemetry", handle: handle, payload: [2], series: series, number: 2,
                expectedLastSubjectSequence: 0, now: .seconds(2)
            )
            #expect(refused == .failure(StreamError(code: .wrongLastSequence, description: "wrong last sequence: 1")), "\(form)")
        }
        #expect(stream.info().messages == 1)
        // Nothing was remembered: the same ID with the right expectation is stored; its retry is a duplicate, even
        // with an expectation that no longer holds (dedup comes first).
        let stored = try Self.publish(
            stream, .lockByHandle, subject: "boiler.b1.telemetry", handle: handle, payload: [2], series: series, number: 2,
            expectedLastSubjectSequence: first.sequence, now: .seconds(2)
        ).get()
        #expect(stored == PublishAck(stream: "TELEMETRY", sequence: 2, duplicate: false))
        let retry = Self.publish(
            stream, .lockByHandle, subject: "boiler.b1.telemetry", handle: handle, payload: [2], series: series, number: 2,
            expectedLastSubjectSequence: first.sequence, now: .seconds(3)
        )
        #expect(retry == .success(PublishAck(stream: "TELEMETRY", sequence: 2, duplicate: true)))
    }

    @Test("one lock per series publish refuses another stream's handle with 90006 and stores nothing")
    func foreignHandle() throws {
        let one = try makeStream()
        let other = try makeStream()
        try one.publish("boiler.b1.telemetry", "60.0")
        let handle = try #require(one.handle(subject: "boiler.b1.telemetry"))
        let series = try #require(other.messageIDSeries(prefix: "b1:"))
        let refused = Self.publish(
            other, .lockByHandle, subject: "boiler.b1.telemetry", handle: handle, payload: [1], series: series, number: 1,
            expectedLastSubjectSequence: nil, now: .seconds(1)
        )
        guard case .failure(let error) = refused else {
            Issue.record("another stream's handle was taken: \(refused)")
            return
        }
        #expect(error.code == .foreignHandle)
        #expect(other.info().messages == 0 && one.info().messages == 1)
    }

    @Test("a retry is a duplicate whichever form each publish took, and the last message ID is the spelled-out one")
    func retriesAcrossForms() throws {
        let stream = try makeStream()
        let series = try #require(stream.messageIDSeries(prefix: "b1:7f3a:"))
        func publishSeries(_ number: UInt64) throws -> PublishAck {
            try [UInt8](repeating: 1, count: 4).withUnsafeBytes { bytes in
                try stream.withPublisher { (publisher: inout RingStream.Publisher) throws(StreamError) -> PublishAck in
                    try publisher.publish(subject: "boiler.b1.telemetry", payload: bytes, messageID: series, number: number, now: .seconds(1))
                }
            }
        }
        let first = try publishSeries(41)
        let retry = try stream.publish("boiler.b1.telemetry", "again", id: "b1:7f3a:41", at: 1)
        #expect(retry == PublishAck(stream: "TELEMETRY", sequence: first.sequence, duplicate: true))
        let spelled = try stream.publish("boiler.b1.telemetry", "x", id: "b1:7f3a:42", at: 1)
        #expect(try publishSeries(42) == PublishAck(stream: "TELEMETRY", sequence: spelled.sequence, duplicate: true))
        let third = try publishSeries(43)
        #expect(!third.duplicate)
        // The last stored message's ID is the one the series wrote.
        let expectation = PublishOptions(expectedLastMessageID: "b1:7f3a:43")
        #expect(try stream.publish("boiler.b1.telemetry", "y", options: expectation, at: 1).sequence == third.sequence + 1)
        let wrong = streamError { try stream.publish("boiler.b1.telemetry", "z", options: PublishOptions(expectedLastMessageID: "b1:7f3a:43"), at: 1) }
        #expect(wrong?.code == .wrongLastMessageID)
    }

    @Test("a series leaves room for any number: its prefix may be 108 bytes, not 109")
    func prefixLength() throws {
        let stream = try makeStream()
        let tooLong = try #require(MessageID(String(repeating: "p", count: 109)))
        #expect(stream.messageIDSeries(prefix: tooLong) == nil)
        let longestPrefix = try #require(MessageID(String(repeating: "p", count: 108)))
        let longest = try #require(stream.messageIDSeries(prefix: longestPrefix))
        let ack = try [UInt8](repeating: 1, count: 4).withUnsafeBytes { bytes in
            try stream.withPublisher { (publisher: inout RingStream.Publisher) throws(StreamError) -> PublishAck in
                try publisher.publish(subject: "boiler.b1.telemetry", payload: bytes, messageID: longest, number: .max, now: .seconds(1))
            }
        }
        let spelled = try #require(MessageID(String(repeating: "p", count: 108) + String(UInt64.max)))
        #expect(spelled.count == MessageID.maximumLength)
        #expect(try stream.publish("boiler.b1.telemetry", "again", id: spelled, at: 1) == PublishAck(stream: "TELEMETRY", sequence: ack.sequence, duplicate: true))
    }

    @Test("a series publish checks its subject as any publish does")
    func subjectChecks() throws {
        let stream = try makeStream()
        let series = try #require(stream.messageIDSeries(prefix: "b1:"))
        let error = streamError {
            _ = try [UInt8](repeating: 1, count: 4).withUnsafeBytes { bytes in
                try stream.withPublisher { (publisher: inout RingStream.Publisher) throws(StreamError) -> PublishAck in
                    try publisher.publish(subject: "elsewhere.b1", payload: bytes, messageID: series, number: 1, now: .seconds(1))
                }
            }
        }
        #expect(error?.code == .subjectNotInStream)
        #expect(stream.info().messages == 0)
        // Nothing was remembered either: the ID can still be published.
        #expect(try !stream.publish("boiler.b1.telemetry", "x", id: "b1:1", at: 1).duplicate)
    }
}
