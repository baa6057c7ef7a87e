import RingStream
import Testing

@Suite("Consumers: filters, deliver policies, batches, gaps")
struct ConsumerTests {
    func sample() throws -> RingStream {
        let stream = try makeStream()
        try stream.publish("boiler.b1.telemetry", "t1", at: 10)
        try stream.publish("boiler.b2.telemetry", "t2", at: 20)
        try stream.publish("boiler.b1.setpoint", "s1", at: 30)
        try stream.publish("boiler.b1.telemetry", "t3", at: 40)
        try stream.publish("boiler.b2.setpoint", "s2", at: 50)
        return stream
    }

    func read(_ stream: RingStream, _ filters: [String] = [], _ policy: DeliverPolicy) throws -> [String] {
        var consumer = try stream.makeConsumer(.init(filterSubjects: filters, deliverPolicy: policy))
        return stream.fetch(&consumer, maxMessages: 100).messages.map { String(decoding: $0.payload, as: UTF8.self) }
    }

    @Test("deliver policies")
    func policies() throws {
        let stream = try self.sample()
        #expect(try self.read(stream, [], .all) == ["t1", "t2", "s1", "t3", "s2"])
        #expect(try self.read(stream, ["boiler.*.telemetry"], .all) == ["t1", "t2", "t3"])
        #expect(try self.read(stream, ["boiler.b1.>", "boiler.b2.setpoint"], .all) == ["t1", "s1", "t3", "s2"])
        #expect(try self.read(stream, [], .last) == ["s2"])
        #expect(try self.read(stream, ["boiler.*.telemetry"], .last) == ["t3"])
        #expect(try self.read(stream, [], .new) == [])
        #expect(try self.read(stream, [], .byStartSequence(4)) == ["t3", "s2"])
        #expect(try self.read(stream, [], .byStartTime(.seconds(25))) == ["s1", "t3", "s2"])
        #expect(try self.read(stream, ["boiler.*.telemetry"], .lastPerSubject) == ["t2", "t3"])
        #expect(try self.read(stream, [], .lastPerSubject) == ["t2", "s1", "t3", "s2"])
    }

    @Test("new: only what comes after; lastPerSubject continues with new messages")
    func continues() throws {
        let stream = try self.sample()
        var fresh = try stream.makeConsumer(.init(deliverPolicy: .new))
        var perSubject = try stream.makeConsumer(.init(filterSubjects: ["boiler.*.setpoint"], deliverPolicy: .lastPerSubject))
        try stream.publish("boiler.b1.setpoint", "s3")
        #expect(stream.fetch(&fresh, maxMessages: 10).messages.map(\.sequence) == [6])
        #expect(stream.fetch(&perSubject, maxMessages: 10).messages.map(\.sequence) == [3, 5, 6])
    }

    @Test("batches: a consumer reads in order, batch by batch, and waits at the end")
    func batches() throws {
        let stream = try makeStream()
        for index in 0..<1000 { try stream.publish("boiler.b\(index % 7).telemetry", "\(index)") }
        var consumer = try stream.makeConsumer(.init(filterSubjects: ["boiler.*.telemetry"]))
        var seen: [UInt64] = []
        while true {
            let result = stream.fetch(&consumer, maxMessages: 256) { seen.append($0.sequence) }
            #expect(result.gaps.isEmpty)
            if result.delivered == 0 { break }
        }
        #expect(seen == Array(1...1000))
        try stream.publish("boiler.b1.telemetry", "late")
        #expect(stream.fetch(&consumer, maxMessages: 256).messages.map(\.sequence) == [1001])
        #expect(consumer.delivered == 1001)
    }

    @Test("a consumer lapped by eviction gets the lost range, once, then continues")
    func gap() throws {
        let stream = try makeStream { $0.maxMessages = 10 }
        var consumer = try stream.makeConsumer(.init())
        for index in 1...5 { try stream.publish("boiler.b1.telemetry", "\(index)") }
        #expect(stream.fetch(&consumer, maxMessages: 2).messages.map(\.sequence) == [1, 2])
        for index in 6...25 { try stream.publish("boiler.b1.telemetry", "\(index)") }
        let (messages, gaps) = stream.fetch(&consumer, maxMessages: 3)
        #expect(gaps == [StreamGap(first: 3, last: 15)])
        #expect(messages.map(\.sequence) == [16, 17, 18])
        let next = stream.fetch(&consumer, maxMessages: 100)
        #expect(next.gaps.isEmpty)
        #expect(next.messages.first?.sequence == 19)
        #expect(consumer.gapsReported == 1)
    }

    @Test("a filtered consumer is not told of a gap when nothing it matches was lost")
    func noFalseGap() throws {
        let stream = try makeStream { $0.maxMessages = 4 }
        try stream.publish("boiler.b1.setpoint", "s")
        var consumer = try stream.makeConsumer(.init(filterSubjects: ["boiler.b1.setpoint"], deliverPolicy: .new))
        for _ in 0..<10 { try stream.publish("boiler.b2.telemetry", "t") }
        let (messages, gaps) = stream.fetch(&consumer, maxMessages: 10)
        #expect(gaps.isEmpty)
        #expect(messages.isEmpty)
        for _ in 0..<2 { try stream.publish("boiler.b1.setpoint", "s") }
        for _ in 0..<10 { try stream.publish("boiler.b2.telemetry", "t") }
        #expect(stream.fetch(&consumer, maxMessages: 10).gaps == [StreamGap(first: 12, last: 19)])
    }

    @Test("starting by sequence before the ring's head reports the evicted part")
    func startBeforeHead() throws {
        let stream = try makeStream { $0.maxMessages = 3 }
        for index in 1...6 { try stream.publish("boiler.b1.telemetry", "\(index)") }
        var consumer = try stream.makeConsumer(.init(deliverPolicy: .byStartSequence(2)))
        let (messages, gaps) = stream.fetch(&consumer, maxMessages: 10)
        #expect(gaps == [StreamGap(first: 2, last: 3)])
        #expect(messages.map(\.sequence) == [4, 5, 6])
    }

    @Test("malformed consumer filters are refused")
    func badFilter() throws {
        let stream = try makeStream()
        let error = streamError { _ = try stream.makeConsumer(.init(filterSubjects: ["boiler.>.x"])) }
        #expect(error?.code == .invalidFilter)
        #expect(error?.description.contains("'>' must be the last token") == true)
    }
}
