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

    @Test("random publishes with series agree with the same IDs spelled out, on a twin stream, ack for ack")
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
        for step in 0..<6_000 {
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
            // By handle, once the subject has one (resolved before the publisher's lock, which it takes).
            let handle = random.next() % 2 == 0 ? withSeries.handle(subject: subject) : nil
            let now = StreamInstant.seconds(Int64(step / 20))
            let got: PublishAck = try payload.withUnsafeBytes { bytes in
                try withSeries.withPublisher { (publisher: inout RingStream.Publisher) throws(StreamError) -> PublishAck in
                    if let handle {
                        return try publisher.publish(subject: handle, payload: bytes, messageID: series, number: number, now: now)
                    }
                    return try publisher.publish(subject: subject, payload: bytes, messageID: series, number: number, now: now)
                }
            }
            let expected = try spelledOut.publish(
                subject: subject, payload: payload, options: PublishOptions(messageID: spelled), now: now
            )
            #expect(got == expected, "step \(step): \(spelled)")
            if expected.duplicate { duplicates += 1 }
        }
        #expect(duplicates > 500, "the run must retry IDs, or it tests no dedup")
        #expect(withSeries.info().messages == spelledOut.info().messages)
        #expect(withSeries.info().lastSequence == spelledOut.info().lastSequence)
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
