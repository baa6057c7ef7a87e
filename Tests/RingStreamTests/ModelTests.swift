import RingStream
import Testing

/// Random operation sequences against the stream and the reference model: acks, errors, reads and gaps must
/// be identical. Each seed is a replayable case.
@Suite("Stream agrees with the reference model")
struct ModelTests {
    static let subjects = ["a.x", "a.y", "a.x.z", "b.q", "b.r", "c.n", "a..b", "a.*"]
    /// Counters of two prefixes (which the dedup table's series table tracks), a noncanonical spelling, a bare
    /// number, and IDs without a trailing number.
    static let ids = [
        "m1", "m2", "m3", "m4", "m5", "m6", "m10", "m01", "n:1", "n:2", "7", "m",
        "a-much-longer-message-id-that-uses-the-id-arena-fast",
    ]
    static let filterChoices: [[String]] = [
        [], ["a.>"], ["b.*"], ["a.x"], ["a.*", "b.q"], [">"], ["a.x", "b.q"], ["b.q", "a.x", "a.x"], ["c.n"],
    ]

    @Test("random operations", arguments: 0..<200)
    func randomOperations(seed: Int) throws {
        var tally: [String: Int] = [:]
        try Self.run(seed: seed, tally: &tally)
    }

    /// The random cases must reach every outcome, or agreement with the model proves little.
    @Test("the random operations cover every outcome")
    func coverage() throws {
        var tally: [String: Int] = [:]
        for seed in 0..<200 { try Self.run(seed: seed, tally: &tally) }
        let wanted = [
            "ack", "duplicate", "error 10071", "error 10070", "error 10060", "error 10077", "error 10054",
            "error 90001", "error 90002", "gap", "published by handle", "delivered", "removed", "forgotten early", "read hit", "read miss",
        ]
        for outcome in wanted {
            #expect(tally[outcome, default: 0] > 0, "never produced: \(outcome); tally: \(tally)")
        }
    }

    static func run(seed: Int, tally: inout [String: Int]) throws {
        var rng = SeededGenerator(seed: UInt64(seed) &* 0x1234_5678_9ABC_DEF1 &+ 1)
        let perSubject: Int? = Bool.random(using: &rng) ? nil : Int.random(in: 1...3, using: &rng)
        let maxBytes = Int.random(in: 8...120, using: &rng)
        let configuration = RingStream.Configuration(
            name: "S",
            subjects: ["a.>", "b.*"],
            maxMessages: Int.random(in: 1...12, using: &rng),
            maxBytes: maxBytes,
            maxAge: Bool.random(using: &rng) ? nil : .seconds(Int64.random(in: 1...30, using: &rng)),
            maxMessagesPerSubject: perSubject,
            maxMessageSize: Int.random(in: 0...maxBytes, using: &rng),
            discard: Bool.random(using: &rng) ? .old : .new,
            duplicateWindow: .seconds(Int64.random(in: 0...20, using: &rng)),
            maxDuplicateIDs: Int.random(in: 1...6, using: &rng)
        )
        let stream = try RingStream(configuration: configuration)
        var model = ReferenceModel(configuration)
        var now: Int64 = 1_000_000_000_000
        var consumers: [(StreamConsumer, ReferenceModel.Consumer)] = []

        for step in 0..<300 {
            let context = "seed \(seed) step \(step)"
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<55:
                let subject = Self.subjects.randomElement(using: &rng)!
                let payload = (0..<Int.random(in: 0...(configuration.maxMessageSize + 2), using: &rng)).map { _ in
                    UInt8.random(in: 0...255, using: &rng)
                }
                let id = Bool.random(using: &rng) ? Self.ids.randomElement(using: &rng) : nil
                let lastSeq = model.next - 1
                func maybe(_ right: UInt64) -> UInt64? {
                    switch Int.random(in: 0..<6, using: &rng) {
                    case 0: right
                    case 1: UInt64.random(in: 0...lastSeq + 1, using: &rng)
                    default: nil
                    }
                }
                let expectLast = maybe(lastSeq)
                let expectSubject = maybe(model.subjectsKnown[subject] ?? 0)
                let expectID: String? =
                    Int.random(in: 0..<8, using: &rng) == 0
                    ? (Bool.random(using: &rng) ? model.lastMessageID ?? "m1" : Self.ids.randomElement(using: &rng)) : nil
                let expectStream: String? = Int.random(in: 0..<10, using: &rng) == 0 ? (Bool.random(using: &rng) ? "S" : "T") : nil
                let options = PublishOptions(
                    messageID: id.flatMap { MessageID($0) },
                    expectedLastSequence: expectLast,
                    expectedLastSubjectSequence: expectSubject,
                    expectedLastMessageID: expectID.flatMap { MessageID($0) },
                    expectedStream: expectStream
                )
                // A third of the publishes go through a batch publisher that first announces up to 20 IDs (more
                // than it keeps), the published one among them or not: announcing must change no outcome.
                let announced: [MessageID]? =
                    Int.random(in: 0..<3, using: &rng) == 0
                    ? (0..<Int.random(in: 0...20, using: &rng)).compactMap { _ in MessageID(Self.ids.randomElement(using: &rng)!) }
                    : nil
                // Half the publishes on a subject that has a handle go by the handle: the same outcome as by name.
                let handle = Bool.random(using: &rng) ? stream.handle(subject: subject) : nil
                if handle != nil { tally["published by handle", default: 0] += 1 }
                let actual: Outcome
                do {
                    let instant = StreamInstant(nanosecondsSinceEpoch: now)
                    if let announced {
                        actual = .ack(
                            try payload.withUnsafeBytes { bytes throws(StreamError) in
                                try stream.withPublisher { publisher throws(StreamError) in
                                    for announcedID in announced { publisher.announce(messageID: announcedID) }
                                    if let handle {
                                        return try publisher.publish(subject: handle, payload: bytes, options: options, now: instant)
                                    }
                                    return try publisher.publish(subject: subject, payload: bytes, options: options, now: instant)
                                }
                            }
                        )
                    } else if let handle {
                        actual = .ack(
                            try payload.withUnsafeBytes { bytes throws(StreamError) in
                                try stream.publish(subject: handle, payload: bytes, options: options, now: instant)
                            }
                        )
                    } else {
                        actual = .ack(try stream.publish(subject: subject, payload: payload, options: options, now: instant))
                    }
                } catch let error as StreamError {
                    actual = .failed(error.code)
                } catch {
                    Issue.record("\(context): publish threw \(error), not a StreamError")
                    continue
                }
                let expected = model.publish(
                    subject: subject,
                    payload: payload,
                    id: id,
                    expectLast: expectLast,
                    expectSubject: expectSubject,
                    expectID: expectID,
                    expectStream: expectStream,
                    now: now
                )
                #expect(actual == expected, "\(context): publish \(subject)")
                switch actual {
                case .ack(let ack): tally[ack.duplicate ? "duplicate" : "ack", default: 0] += 1
                case .failed(let code): tally["error \(code)", default: 0] += 1
                }
            case 55..<65:
                // Time mostly moves forward, sometimes backwards (the stream must clamp).
                now += Int64.random(in: -2_000_000_000...12_000_000_000, using: &rng)
            case 65..<68:
                stream.expire(now: StreamInstant(nanosecondsSinceEpoch: now))
                model.expire(max(now, model.lastTimestamp))
            case 68..<75:
                let sequence = UInt64.random(in: 0...model.next, using: &rng)
                let actual = try? stream.message(sequence: sequence)
                let expected = model.message(sequence)
                #expect(actual?.payload == expected?.payload, "\(context): message \(sequence)")
                tally[actual == nil ? "read miss" : "read hit", default: 0] += 1
                #expect(actual?.subject == expected?.subject, "\(context): message \(sequence)")
                #expect(actual?.timestamp.nanosecondsSinceEpoch == expected?.timestamp, "\(context)")
            case 75..<80:
                let filter = ["a.x", "a.>", "b.*", ">", "c.n"].randomElement(using: &rng)!
                let actual = try? stream.lastMessage(subject: filter)
                #expect(actual?.sequence == model.lastStored(matching: filter)?.sequence, "\(context): last \(filter)")
                if !filter.contains("*") && !filter.contains(">") {
                    // The same reads through a subject handle, which exists once the subject has had a message.
                    let handle = stream.handle(subject: filter)
                    #expect((handle != nil) == (model.subjectsKnown[filter] != nil), "\(context): handle \(filter)")
                    if let handle {
                        #expect(try stream.lastSequence(subject: handle) == model.subjectsKnown[filter], "\(context)")
                        let byHandle = try? stream.lastMessage(subject: handle)
                        #expect(byHandle?.sequence == actual?.sequence && byHandle?.payload == actual?.payload, "\(context)")
                    }
                }
            case 80..<85:
                let filters = Self.filterChoices.randomElement(using: &rng)!
                let policy: DeliverPolicy =
                    switch Int.random(in: 0..<6, using: &rng) {
                    case 0: .all
                    case 1: .last
                    case 2: .new
                    case 3: .byStartSequence(UInt64.random(in: 0...model.next, using: &rng))
                    case 4: .byStartTime(StreamInstant(nanosecondsSinceEpoch: now - Int64.random(in: 0...20_000_000_000, using: &rng)))
                    default: .lastPerSubject
                    }
                let consumer = try stream.makeConsumer(.init(filterSubjects: filters, deliverPolicy: policy))
                consumers.append((consumer, model.makeConsumer(filters: filters, policy: policy)))
            case 85..<97 where !consumers.isEmpty:
                let index = Int.random(in: 0..<consumers.count, using: &rng)
                let batch = Int.random(in: 1...5, using: &rng)
                var (consumer, modelConsumer) = consumers[index]
                let (messages, gaps) = stream.fetch(&consumer, maxMessages: batch)
                let expected = model.fetch(&modelConsumer, max: batch)
                #expect(messages.map(\.sequence) == expected.messages, "\(context): fetch")
                #expect(gaps == expected.gaps, "\(context): gaps")
                tally["gap", default: 0] += gaps.count
                tally["delivered", default: 0] += messages.count
                consumers[index] = (consumer, modelConsumer)
            default:
                let info = stream.info()
                let stored = model.stored
                #expect(info.messages == stored.count, "\(context): info")
                #expect(info.bytes == stored.reduce(0) { $0 + $1.payload.count }, "\(context): info")
                #expect(info.firstSequence == model.head, "\(context): info")
                #expect(info.lastSequence == model.next - 1, "\(context): info")
                #expect(info.duplicatesDropped == model.duplicatesDropped, "\(context): info")
                #expect(info.duplicateIDs == model.dedup.count, "\(context): info")
                #expect(info.duplicateIDsForgottenEarly == model.forgottenEarly, "\(context): info")
                #expect(info.messagesRemoved == model.removedCount, "\(context): info")
                #expect(info.subjectsKnown == model.subjectsKnown.count, "\(context): info")
                tally["removed", default: 0] += Int(info.messagesRemoved)
                tally["forgotten early", default: 0] += Int(info.duplicateIDsForgottenEarly)
            }
        }
    }
}
