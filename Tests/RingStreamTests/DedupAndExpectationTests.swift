import RingStream
import Testing

@Suite("Deduplication by message ID")
struct DedupTests {
    @Test("a duplicate within the window is not stored and its ack names the original")
    func duplicate() throws {
        let stream = try makeStream()
        let first = try stream.publish("boiler.b1.telemetry", "a", id: "b1:7f3a:1", at: 0)
        try stream.publish("boiler.b1.telemetry", "b", id: "b1:7f3a:2", at: 1)
        let again = try stream.publish("boiler.b1.telemetry", "a", id: "b1:7f3a:1", at: 119)
        #expect(again == PublishAck(stream: "TELEMETRY", sequence: first.sequence, duplicate: true))
        #expect(stream.info().messages == 2)
        #expect(stream.info().duplicatesDropped == 1)
    }

    @Test("an ID is forgotten once the window has passed")
    func windowExpiry() throws {
        let stream = try makeStream { $0.duplicateWindow = .seconds(120) }
        try stream.publish("boiler.b1.telemetry", "a", id: "x", at: 0)
        #expect(try stream.publish("boiler.b1.telemetry", "a", id: "x", at: 119).duplicate)
        let later = try stream.publish("boiler.b1.telemetry", "a", id: "x", at: 120)
        #expect(!later.duplicate)
        #expect(later.sequence == 2)
    }

    @Test("expire(now:) forgets IDs without a publish")
    func expireWithoutPublish() throws {
        let stream = try makeStream { $0.duplicateWindow = .seconds(10) }
        try stream.publish("boiler.b1.telemetry", "a", id: "x", at: 0)
        #expect(stream.info().duplicateIDs == 1)
        stream.expire(now: .seconds(10))
        #expect(stream.info().duplicateIDs == 0)
    }

    @Test("dedup is checked before expectations, so an idempotent retry succeeds")
    func dedupBeforeExpectations() throws {
        let stream = try makeStream()
        let options = PublishOptions(messageID: "b1:7f3a:1", expectedLastSubjectSequence: 0)
        let first = try stream.publish("boiler.b1.telemetry", "a", options: options)
        // The expectation no longer holds (the subject's last sequence is now 1), but this is the same publish.
        let retry = try stream.publish("boiler.b1.telemetry", "a", options: options)
        #expect(retry.duplicate)
        #expect(retry.sequence == first.sequence)
    }

    @Test("a duplicate is found after its message was evicted from the ring")
    func duplicateAfterEviction() throws {
        let stream = try makeStream { $0.maxMessages = 2 }
        try stream.publish("boiler.b1.telemetry", "a", id: "one")
        try stream.publish("boiler.b1.telemetry", "b", id: "two")
        try stream.publish("boiler.b1.telemetry", "c", id: "three")
        let again = try stream.publish("boiler.b1.telemetry", "a", id: "one")
        #expect(again == PublishAck(stream: "TELEMETRY", sequence: 1, duplicate: true))
    }

    @Test("when more IDs arrive than maxDuplicateIDs, the oldest are forgotten early and counted")
    func forgottenEarly() throws {
        let stream = try makeStream { $0.maxDuplicateIDs = 3 }
        for index in 1...5 {
            try stream.publish("boiler.b1.telemetry", "x", id: MessageID("id-\(index)"))
        }
        let info = stream.info()
        #expect(info.duplicateIDs == 3)
        #expect(info.duplicateIDsForgottenEarly == 2)
        #expect(!(try stream.publish("boiler.b1.telemetry", "x", id: "id-1").duplicate))
        #expect(try stream.publish("boiler.b1.telemetry", "x", id: "id-5").duplicate)
    }

    @Test("many IDs through a small table: every live ID found, every forgotten one gone")
    func tableChurn() throws {
        let stream = try makeStream { $0.maxDuplicateIDs = 64; $0.maxMessages = 100 }
        for index in 0..<5000 {
            let id = MessageID("boiler-\(index % 997):boot:\(index)")
            #expect(!(try stream.publish("boiler.b1.telemetry", "x", id: id).duplicate))
            if index >= 63 {
                let recent = MessageID("boiler-\((index - 63) % 997):boot:\(index - 63)")
                #expect(try stream.publish("boiler.b1.telemetry", "x", id: recent).duplicate)
            }
        }
    }

    @Test("message IDs are limited to 128 bytes and built without Strings")
    func messageIDs() {
        #expect(MessageID(String(repeating: "a", count: 128)) != nil)
        #expect(MessageID(String(repeating: "a", count: 129)) == nil)
        #expect(MessageID(String()) == nil)
        var built = MessageID()
        built.append(byte: UInt8(ascii: "b"))
        built.append(decimal: 0)
        built.append(byte: UInt8(ascii: ":"))
        built.append(decimal: UInt64.max)
        #expect(built.description == "b0:18446744073709551615")
        #expect(built == MessageID("b0:18446744073709551615"))
        // Every number below 10,000 (each pair of digits), and each side of every power of ten.
        var values = Array(UInt64(0)..<10_000)
        var power: UInt64 = 10
        while true {
            values += [power - 1, power, power + 1]
            guard power <= UInt64.max / 10 else { break }
            power *= 10
        }
        for value in values {
            var id = MessageID()
            id.append(decimal: value)
            #expect(id.description == String(value), "\(value)")
        }
    }

    /// Appends write the first 40 bytes in place and move to an array past them; random sequences of the three
    /// appends and of truncations (which move an ID back in place when it fits again), across that boundary and up
    /// to the 128-byte limit, must spell what a byte array says.
    @Test("message IDs built by appends and truncations equal a byte array's, inline and past 40 bytes")
    func messageIDAppendsMatchAByteModel() {
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<2_000 {
            var id = MessageID()
            var model: [UInt8] = []
            for _ in 0..<Int.random(in: 1...30, using: &rng) {
                if Int.random(in: 0..<5, using: &rng) == 0 {
                    let length = Int.random(in: 0...(model.count + 4), using: &rng)
                    id.truncate(to: length)
                    if length < model.count { model.removeLast(model.count - length) }
                    #expect(id.count == model.count)
                    #expect(id.description == String(decoding: model, as: UTF8.self))
                    continue
                }
                var appended: [UInt8]
                let accepted: Bool
                switch Int.random(in: 0..<3, using: &rng) {
                case 0:
                    appended = [UInt8.random(in: 0x21...0x7E, using: &rng)]
                    accepted = id.append(byte: appended[0])
                case 1:
                    let value = UInt64.random(in: 0...UInt64.max, using: &rng) >> UInt64.random(in: 0...63, using: &rng)
                    appended = Array(String(value).utf8)
                    accepted = id.append(decimal: value)
                default:
                    appended = (0..<Int.random(in: 0...24, using: &rng)).map { _ in UInt8.random(in: 0x21...0x7E, using: &rng) }
                    accepted = appended.withUnsafeBytes { id.append($0) }
                }
                #expect(accepted == (model.count + appended.count <= MessageID.maximumLength))
                if accepted { model += appended }
                #expect(id.count == model.count)
                #expect(id.description == String(decoding: model, as: UTF8.self))
            }
            if let expected = model.withUnsafeBytes({ MessageID(bytes: $0) }) {
                #expect(id == expected)
                #expect(id.hashValue == expected.hashValue)
            }
        }
    }
}

@Suite("Publish expectations, with JetStream's codes and texts")
struct ExpectationTests {
    @Test("expectedLastSequence: 10071 with the actual last sequence")
    func lastSequence() throws {
        let stream = try makeStream()
        try stream.publish("boiler.b1.telemetry", "a", options: .init(expectedLastSequence: 0))
        let error = streamError { try stream.publish("boiler.b1.telemetry", "b", options: .init(expectedLastSequence: 5)) }
        #expect(error == StreamError(code: .wrongLastSequence, description: "wrong last sequence: 1"))
        #expect(error?.code.rawValue == 10071)
        #expect(try stream.publish("boiler.b1.telemetry", "b", options: .init(expectedLastSequence: 1)).sequence == 2)
    }

    @Test("expectedLastSubjectSequence: 0 means never published; mismatch is 10071")
    func lastSubjectSequence() throws {
        let stream = try makeStream()
        try stream.publish("boiler.b1.hourly-snapshot", "h0", options: .init(expectedLastSubjectSequence: 0))
        try stream.publish("boiler.b2.telemetry", "t")
        let error = streamError {
            try stream.publish("boiler.b1.hourly-snapshot", "h0 again", options: .init(expectedLastSubjectSequence: 0))
        }
        #expect(error == StreamError(code: .wrongLastSequence, description: "wrong last sequence: 1"))
        let ack = try stream.publish("boiler.b1.hourly-snapshot", "h1", options: .init(expectedLastSubjectSequence: 1))
        #expect(ack.sequence == 3)
    }

    @Test("a subject's last sequence survives eviction, so expect-0 still means never published")
    func lastSubjectSequenceSurvivesEviction() throws {
        let stream = try makeStream { $0.maxMessages = 2 }
        try stream.publish("boiler.b1.hourly-snapshot", "only once", options: .init(expectedLastSubjectSequence: 0))
        for _ in 0..<10 { try stream.publish("boiler.b2.telemetry", "t") }
        #expect(throws: StreamError.self) { try stream.lastMessage(subject: "boiler.b1.hourly-snapshot") }
        #expect(stream.lastSequence(subject: "boiler.b1.hourly-snapshot") == 1)
        let error = streamError {
            try stream.publish("boiler.b1.hourly-snapshot", "twice", options: .init(expectedLastSubjectSequence: 0))
        }
        #expect(error?.description == "wrong last sequence: 1")
    }

    @Test("expectedLastMessageID: 10070 with the actual last ID")
    func lastMessageID() throws {
        let stream = try makeStream()
        try stream.publish("boiler.b1.telemetry", "a", id: "first")
        let error = streamError {
            try stream.publish("boiler.b1.telemetry", "b", options: .init(expectedLastMessageID: "other"))
        }
        #expect(error == StreamError(code: .wrongLastMessageID, description: "wrong last msg ID: first"))
        #expect(error?.code.rawValue == 10070)
        try stream.publish("boiler.b1.telemetry", "b", options: .init(messageID: "second", expectedLastMessageID: "first"))
    }

    @Test("expectedStream: 10060")
    func expectedStream() throws {
        let stream = try makeStream()
        let error = streamError { try stream.publish("boiler.b1.telemetry", "a", options: .init(expectedStream: "OTHER")) }
        #expect(error == StreamError(code: .streamNotMatch, description: "expected stream does not match"))
        #expect(error?.code.rawValue == 10060)
        #expect(try stream.publish("boiler.b1.telemetry", "a", options: .init(expectedStream: "TELEMETRY")).sequence == 1)
    }

    @Test("a failed expectation stores nothing and does not remember the message ID")
    func failureStoresNothing() throws {
        let stream = try makeStream()
        try stream.publish("boiler.b1.telemetry", "a")
        _ = streamError {
            try stream.publish("boiler.b1.telemetry", "b", options: .init(messageID: "m", expectedLastSequence: 9))
        }
        #expect(stream.info().messages == 1)
        #expect(!(try stream.publish("boiler.b1.telemetry", "b", id: "m").duplicate))
    }
}
