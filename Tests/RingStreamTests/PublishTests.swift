import RingStream
import Testing

@Suite("Publishing: sequences, subjects, acks")
struct PublishTests {
    @Test("sequences count up from 1 and the ack names the stream")
    func sequences() throws {
        let stream = try makeStream()
        let first = try stream.publish("boiler.b1.telemetry", "a")
        let second = try stream.publish("boiler.b2.telemetry", "b")
        #expect(first == PublishAck(stream: "TELEMETRY", sequence: 1, duplicate: false))
        #expect(second.sequence == 2)
        let info = stream.info()
        #expect(info.messages == 2)
        #expect(info.bytes == 2)
        #expect(info.firstSequence == 1)
        #expect(info.lastSequence == 2)
        #expect(info.subjectsWithMessages == 2)
    }

    @Test("an empty stream reports first = last + 1, as JetStream does")
    func emptyInfo() throws {
        let info = try makeStream().info()
        #expect(info.firstSequence == 1)
        #expect(info.lastSequence == 0)
        #expect(info.lastTimestamp == nil)
    }

    @Test(
        "invalid subjects are refused with a reason and nothing is stored",
        arguments: ["", "boiler..x", "boiler.*.telemetry", "boiler.>", "boiler.a b", "boiler.", ".boiler"]
    )
    func invalidSubject(subject: String) throws {
        let stream = try makeStream()
        let error = streamError { try stream.publish(subject, "x") }
        #expect(error?.code == .invalidSubject)
        #expect(error?.description.contains("invalid subject") == true)
        #expect(stream.info().lastSequence == 0)
    }

    @Test("a subject no filter covers is refused, naming subject and stream")
    func uncoveredSubject() throws {
        let stream = try makeStream()
        let error = streamError { try stream.publish("furnace.f1.telemetry", "x") }
        #expect(error?.code == .subjectNotInStream)
        #expect(error?.description == "subject \"furnace.f1.telemetry\" is not covered by any subject filter of stream TELEMETRY")
        #expect(stream.info().messages == 0)
    }

    @Test("payloads over maxMessageSize get 10054")
    func oversized() throws {
        let stream = try makeStream { $0.maxMessageSize = 4 }
        try stream.publish("boiler.b1.telemetry", "1234")
        let error = streamError { try stream.publish("boiler.b1.telemetry", "12345") }
        #expect(error == StreamError(code: .messageTooLarge, description: "message size exceeds maximum allowed"))
        #expect(error?.code.rawValue == 10054)
        #expect(stream.info().messages == 1)
    }

    @Test("timestamps never go backwards, even when the caller's clock does")
    func monotonicTimestamps() throws {
        let stream = try makeStream()
        try stream.publish("boiler.b1.telemetry", "a", at: 100)
        try stream.publish("boiler.b1.telemetry", "b", at: 50)
        #expect(try stream.message(sequence: 2).timestamp == .seconds(100))
    }

    @Test("the subject table is bounded by maxSubjects")
    func subjectLimit() throws {
        let stream = try makeStream { $0.maxSubjects = 2 }
        try stream.publish("boiler.b1.telemetry", "a")
        try stream.publish("boiler.b2.telemetry", "a")
        let error = streamError { try stream.publish("boiler.b3.telemetry", "a") }
        #expect(error?.code == .subjectLimitReached)
        try stream.publish("boiler.b1.telemetry", "still fine")
        #expect(stream.info().subjectsKnown == 2)
    }

    @Test(
        "invalid configurations are refused with 10052 and the reason",
        arguments: [
            ("", ["a.>"], "name"),
            ("S", [], "subjects"),
            ("S", ["a..b"], "invalid subject filter"),
            ("S.x", ["a"], "name"),
        ] as [(String, [String], String)]
    )
    func invalidConfiguration(name: String, subjects: [String], reason: String) {
        #expect(throws: StreamError.self) { try RingStream(configuration: .init(name: name, subjects: subjects)) }
        do {
            _ = try RingStream(configuration: .init(name: name, subjects: subjects))
        } catch let caught {
            #expect(caught.code.rawValue == 10052)
            #expect(caught.description.contains(reason))
        }
    }

    @Test("limits out of range are refused")
    func invalidLimits() {
        for configure in [
            { (c: inout RingStream.Configuration) in c.maxMessages = 0 },
            { (c: inout RingStream.Configuration) in c.maxBytes = 0 },
            { (c: inout RingStream.Configuration) in c.maxMessageSize = c.maxBytes + 1 },
            { (c: inout RingStream.Configuration) in c.maxAge = .zero },
            { (c: inout RingStream.Configuration) in c.maxMessagesPerSubject = 0 },
            { (c: inout RingStream.Configuration) in c.maxDuplicateIDs = 0 },
            { (c: inout RingStream.Configuration) in c.maxSubjects = 0 },
        ] {
            #expect(throws: StreamError.self) { try makeStream(configure) }
        }
    }
}

@Suite("Publishing a batch under one lock")
struct BatchPublishTests {
    @Test("withPublisher gives the same acks and errors as single publishes, and a failure spoils nothing")
    func batch() throws {
        let stream = try makeStream()
        let payload: [UInt8] = [1, 2, 3]
        let acks = try payload.withUnsafeBytes { bytes throws(StreamError) in
            try stream.withPublisher { publisher throws(StreamError) in
                var acks: [PublishAck] = []
                acks.append(try publisher.publish(subject: "boiler.b1.telemetry", payload: bytes, options: .init(messageID: "a"), now: .seconds(1)))
                acks.append(try publisher.publish(subject: "boiler.b1.telemetry", payload: bytes, options: .init(messageID: "a"), now: .seconds(1)))
                do {
                    _ = try publisher.publish(subject: "boiler.b1.telemetry", payload: bytes, options: .init(expectedLastSequence: 7), now: .seconds(1))
                    Issue.record("the expectation should have failed")
                } catch let error as StreamError {
                    #expect(error.code == .wrongLastSequence)
                } catch {
                    Issue.record("unexpected error \(error)")
                }
                acks.append(try publisher.publish(subject: "boiler.b2.telemetry", payload: bytes, now: .seconds(2)))
                return acks
            }
        }
        #expect(acks.map { $0.sequence } == [1, 1, 2])
        #expect(acks.map { $0.duplicate } == [false, true, false])
        #expect(stream.info().messages == 2)
    }
}
