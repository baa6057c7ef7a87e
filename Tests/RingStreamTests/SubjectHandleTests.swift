import RingStream
import Testing

@Suite("Subject handles")
struct SubjectHandleTests {
    @Test("a subject has a handle from its first message on, and reads by handle agree with reads by name")
    func readsAgree() throws {
        let stream = try makeStream()
        #expect(stream.handle(subject: "boiler.b1.telemetry") == nil)
        try stream.publish("boiler.b1.telemetry", "60.0")
        try stream.publish("boiler.b2.telemetry", "61.0")
        try stream.publish("boiler.b1.telemetry", "62.5")
        let handle = try #require(stream.handle(subject: "boiler.b1.telemetry"))
        #expect(stream.handle(subject: "boiler.b1.telemetry") == handle)
        #expect(stream.handle(subject: "boiler.b2.telemetry") != handle)
        #expect(try stream.lastSequence(subject: handle) == 3)
        let message = try stream.lastMessage(subject: handle)
        #expect(message == (try stream.lastMessage(subject: "boiler.b1.telemetry")))
        #expect(message.subject == "boiler.b1.telemetry" && String(decoding: message.payload, as: UTF8.self) == "62.5")
        let viewed = try stream.withLastMessage(subject: handle) { ($0.sequence, $0.payload.count) }
        #expect(viewed == (3, 4))
        // A handle is resolved once and follows the subject's new messages.
        try stream.publish("boiler.b1.telemetry", "63.0")
        #expect(try stream.lastSequence(subject: handle) == 4)
        #expect(try stream.withLastMessage(subject: handle) { String(decoding: $0.payload, as: UTF8.self) } == "63.0")
    }

    @Test("after its messages are evicted, the handle still gives the subject's last sequence, and no message")
    func afterEviction() throws {
        let stream = try makeStream { $0.maxMessages = 2 }
        try stream.publish("boiler.b1.telemetry", "60.0")
        let handle = try #require(stream.handle(subject: "boiler.b1.telemetry"))
        try stream.publish("boiler.b2.telemetry", "61.0")
        try stream.publish("boiler.b2.telemetry", "62.0")
        #expect(try stream.lastSequence(subject: handle) == 1)
        let error = streamError { _ = try stream.lastMessage(subject: handle) }
        #expect(error == StreamError(code: .noMessageFound, description: "no message found"))
    }

    @Test("a handle made by another stream is refused with 90006, even for a subject both streams have")
    func foreignHandle() throws {
        let one = try makeStream()
        let other = try makeStream()
        try one.publish("boiler.b1.telemetry", "60.0")
        try other.publish("boiler.b1.telemetry", "70.0")
        let handle = try #require(one.handle(subject: "boiler.b1.telemetry"))
        let refused = StreamError(
            code: .foreignHandle,
            description: "the subject handle was made by another stream than TELEMETRY; resolve it with this stream's handle(subject:)"
        )
        #expect(streamError { _ = try other.lastSequence(subject: handle) } == refused)
        #expect(streamError { _ = try other.lastMessage(subject: handle) } == refused)
        #expect(refused.code.rawValue == 90006)
        // Publishing on another stream's handle stores nothing there, one at a time or in a batch.
        let payload: [UInt8] = Array("71.0".utf8)
        #expect(streamError { _ = try payload.withUnsafeBytes { try other.publish(subject: handle, payload: $0, now: .seconds(1)) } } == refused)
        #expect(
            streamError {
                _ = try payload.withUnsafeBytes { bytes in
                    try other.withPublisher { (publisher: inout RingStream.Publisher) throws(StreamError) in
                        try publisher.publish(subject: handle, payload: bytes, now: .seconds(1))
                    }
                }
            } == refused
        )
        #expect(other.info().messages == 1 && one.info().messages == 1)
    }

    @Test("a publish by handle is a publish on its subject: sequences, expectations and dedup as by name")
    func publishByHandle() throws {
        let stream = try makeStream()
        try stream.publish("boiler.b1.telemetry", "60.0", id: "b1:1")
        let handle = try #require(stream.handle(subject: "boiler.b1.telemetry"))
        func publish(_ text: String, _ options: PublishOptions) throws -> PublishAck {
            try Array(text.utf8).withUnsafeBytes { bytes in
                try stream.publish(subject: handle, payload: bytes, options: options, now: .seconds(2))
            }
        }
        let ack = try publish("61.0", PublishOptions(messageID: "b1:2", expectedLastSubjectSequence: 1))
        #expect(ack == PublishAck(stream: "TELEMETRY", sequence: 2, duplicate: false))
        #expect(try publish("61.0", PublishOptions(messageID: "b1:2")) == PublishAck(stream: "TELEMETRY", sequence: 2, duplicate: true))
        #expect(streamError { _ = try publish("62.0", PublishOptions(expectedLastSubjectSequence: 1)) }?.description == "wrong last sequence: 2")
        let batched = try Array("63.0".utf8).withUnsafeBytes { bytes in
            try stream.withPublisher { (publisher: inout RingStream.Publisher) throws(StreamError) in
                try publisher.publish(subject: handle, payload: bytes, options: PublishOptions(messageID: "b1:3"), now: .seconds(3))
            }
        }
        #expect(batched.sequence == 3)
        let last = try stream.lastMessage(subject: "boiler.b1.telemetry")
        #expect(last.sequence == 3 && last.subject == "boiler.b1.telemetry" && String(decoding: last.payload, as: UTF8.self) == "63.0")
        #expect(stream.info().messages == 3)
    }
}
