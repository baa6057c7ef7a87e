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
    }
}
