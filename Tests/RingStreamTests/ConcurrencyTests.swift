import RingStream
import Testing

@Suite("One writer, concurrent readers")
struct ConcurrencyTests {
    /// Run under `swift test --sanitize=thread` too: readers and the writer must not race.
    @Test("readers see a consistent, gap-reported, in-order stream while one writer publishes")
    func concurrentReaders() async throws {
        let stream = try makeStream { $0.maxMessages = 512; $0.maxBytes = 1 << 14 }
        let total = 20_000
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for index in 0..<total {
                    var id = MessageID()
                    id.append(decimal: UInt64(index))
                    let payload = withUnsafeBytes(of: UInt64(index + 1).littleEndian) { Array($0) }
                    _ = try? stream.publish(
                        subject: "boiler.b\(index % 16).telemetry",
                        payload: payload,
                        options: .init(messageID: id),
                        now: StreamInstant(nanosecondsSinceEpoch: Int64(index))
                    )
                }
            }
            for reader in 0..<3 {
                group.addTask {
                    var consumer = try! stream.makeConsumer(
                        .init(filterSubjects: reader == 0 ? [] : ["boiler.*.telemetry"], deliverPolicy: .byStartSequence(1))
                    )
                    var expectedNext: UInt64 = 1
                    var accounted: UInt64 = 0
                    while accounted < UInt64(total) {
                        var batch: [(sequence: UInt64, value: UInt64)] = []
                        let result = stream.fetch(&consumer, maxMessages: 64) { message in
                            batch.append((message.sequence, message.payload.loadUnaligned(as: UInt64.self)))
                        }
                        // Gaps come before the messages delivered with them.
                        for gap in result.gaps {
                            #expect(gap.first == expectedNext)
                            expectedNext = gap.last + 1
                        }
                        for (sequence, value) in batch {
                            #expect(value == sequence)
                            #expect(sequence == expectedNext)
                            expectedNext = sequence + 1
                        }
                        accounted = expectedNext - 1
                        if result.delivered == 0 { await Task.yield() }
                        _ = try? stream.lastMessage(subject: "boiler.b3.telemetry")
                        _ = stream.info()
                    }
                    #expect(accounted == UInt64(total))
                }
            }
        }
    }
}
