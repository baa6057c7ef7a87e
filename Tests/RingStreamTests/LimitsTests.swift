import RingStream
import Testing

@Suite("Limits and discard policies")
struct LimitsTests {
    @Test("discard old: maxMessages evicts the oldest")
    func maxMessagesOld() throws {
        let stream = try makeStream { $0.maxMessages = 3 }
        for index in 1...5 { try stream.publish("boiler.b1.telemetry", "m\(index)") }
        #expect(stream.allPayloads() == ["m3", "m4", "m5"])
        let info = stream.info()
        #expect(info.firstSequence == 3)
        #expect(info.lastSequence == 5)
        #expect(info.messagesRemoved == 2)
        #expect(throws: StreamError.self) { try stream.message(sequence: 2) }
    }

    @Test("discard old: maxBytes evicts the oldest until the new payload fits")
    func maxBytesOld() throws {
        let stream = try makeStream { $0.maxBytes = 10; $0.maxMessageSize = 10 }
        try stream.publish("boiler.b1.telemetry", "aaaa")
        try stream.publish("boiler.b1.telemetry", "bbbb")
        try stream.publish("boiler.b1.telemetry", "cccccc")
        #expect(stream.allPayloads() == ["bbbb", "cccccc"])
        #expect(stream.info().bytes == 10)
    }

    @Test("discard new: each limit refuses with 10077 and its own text, storing nothing")
    func discardNew() throws {
        let messages = try makeStream { $0.discard = .new; $0.maxMessages = 2 }
        try messages.publish("boiler.b1.telemetry", "a")
        try messages.publish("boiler.b1.telemetry", "b")
        let full = streamError { try messages.publish("boiler.b1.telemetry", "c") }
        #expect(full == StreamError(code: .storeFailed, description: "maximum messages exceeded"))
        #expect(full?.code.rawValue == 10077)
        #expect(messages.allPayloads() == ["a", "b"])

        let bytes = try makeStream { $0.discard = .new; $0.maxBytes = 5; $0.maxMessageSize = 5 }
        try bytes.publish("boiler.b1.telemetry", "abc")
        let tooMany = streamError { try bytes.publish("boiler.b1.telemetry", "def") }
        #expect(tooMany == StreamError(code: .storeFailed, description: "maximum bytes exceeded"))
        #expect(bytes.info().bytes == 3)

        let perSubject = try makeStream { $0.discard = .new; $0.maxMessagesPerSubject = 1 }
        try perSubject.publish("boiler.b1.setpoint", "a")
        try perSubject.publish("boiler.b2.setpoint", "a")
        let error = streamError { try perSubject.publish("boiler.b1.setpoint", "b") }
        #expect(error == StreamError(code: .storeFailed, description: "maximum messages per subject exceeded"))
    }

    @Test("maxMessagesPerSubject with discard old keeps the newest N of each subject")
    func perSubjectOld() throws {
        let stream = try makeStream { $0.maxMessagesPerSubject = 2 }
        for index in 1...4 {
            try stream.publish("boiler.b1.setpoint", "b1-\(index)")
            try stream.publish("boiler.b2.setpoint", "b2-\(index)")
        }
        #expect(stream.allPayloads() == ["b1-3", "b2-3", "b1-4", "b2-4"])
        #expect(try stream.subjects() == ["boiler.b1.setpoint": 2, "boiler.b2.setpoint": 2])
        #expect(stream.info().messages == 4)
        #expect(try stream.lastMessage(subject: "boiler.b1.setpoint").payload == Array("b1-4".utf8))
    }

    @Test("maxAge removes old messages on publish and on expire(now:)")
    func maxAge() throws {
        let stream = try makeStream { $0.maxAge = .seconds(60) }
        try stream.publish("boiler.b1.telemetry", "old", at: 0)
        try stream.publish("boiler.b1.telemetry", "mid", at: 30)
        try stream.publish("boiler.b1.telemetry", "new", at: 60)
        #expect(stream.allPayloads() == ["mid", "new"])
        stream.expire(now: .seconds(95))
        #expect(stream.allPayloads() == ["new"])
        stream.expire(now: .seconds(1000))
        #expect(stream.info().messages == 0)
        #expect(stream.info().firstSequence == 4)
    }

    @Test("payloads that wrap the arena's end read back intact")
    func arenaWrap() throws {
        let stream = try makeStream { $0.maxBytes = 100; $0.maxMessageSize = 30; $0.maxMessages = 1000 }
        var generator = SeededGenerator(seed: 7)
        var expected: [[UInt8]] = []
        for _ in 0..<500 {
            let payload = (0..<Int.random(in: 0...30, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try stream.publish(subject: "boiler.b1.telemetry", payload: payload, now: .seconds(0))
            expected.append(payload)
            var consumer = try stream.makeConsumer(.init(deliverPolicy: .last))
            let last = stream.fetch(&consumer, maxMessages: 1).messages
            #expect(last.map(\.payload) == [payload])
        }
        var consumer = try stream.makeConsumer(.init())
        let stored = stream.fetch(&consumer, maxMessages: 1000).messages.map(\.payload)
        #expect(stored == Array(expected.suffix(stored.count)))
        #expect(stored.reduce(0) { $0 + $1.count } <= 100)
    }
}

@Suite("Reads by sequence and by subject")
struct ReadTests {
    @Test("message by sequence: the copy, or 10037 when it is not stored")
    func bySequence() throws {
        let stream = try makeStream()
        try stream.publish("boiler.b1.telemetry", "hello", at: 5)
        let message = try stream.message(sequence: 1)
        #expect(message == StreamMessage(sequence: 1, subject: "boiler.b1.telemetry", timestamp: .seconds(5), payload: Array("hello".utf8)))
        for missing: UInt64 in [0, 2, 99] {
            let error = streamError { _ = try stream.message(sequence: missing) }
            #expect(error == StreamError(code: .noMessageFound, description: "no message found"))
        }
    }

    @Test("last by literal subject and by wildcard")
    func lastBySubject() throws {
        let stream = try makeStream()
        try stream.publish("boiler.b1.telemetry", "b1-1")
        try stream.publish("boiler.b2.telemetry", "b2-1")
        try stream.publish("boiler.b1.telemetry", "b1-2")
        try stream.publish("boiler.b2.setpoint", "s")
        #expect(try stream.lastMessage(subject: "boiler.b1.telemetry").sequence == 3)
        #expect(try stream.lastMessage(subject: "boiler.*.telemetry").sequence == 3)
        #expect(try stream.lastMessage(subject: "boiler.>").sequence == 4)
        #expect(try stream.lastMessage(subject: "boiler.b2.*").payload == Array("s".utf8))
        #expect(throws: StreamError.self) { try stream.lastMessage(subject: "boiler.b3.telemetry") }
        let bad = streamError { _ = try stream.lastMessage(subject: "boiler..x") }
        #expect(bad?.code == .invalidFilter)
        let value = try stream.withLastMessage(subject: "boiler.b2.telemetry") { $0.payload.count }
        #expect(value == 4)
    }

    @Test("subjects(matching:) counts stored messages per subject")
    func subjectCounts() throws {
        let stream = try makeStream()
        try stream.publish("boiler.b1.telemetry", "a")
        try stream.publish("boiler.b1.telemetry", "b")
        try stream.publish("boiler.b2.setpoint", "c")
        #expect(try stream.subjects(matching: "boiler.*.telemetry") == ["boiler.b1.telemetry": 2])
        #expect(try stream.subjects().count == 2)
    }
}
