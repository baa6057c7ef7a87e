import RingStream
import Testing

/// A small deterministic generator (SplitMix64) so every random test can be replayed from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension StreamInstant {
    static func seconds(_ value: Int64) -> StreamInstant { StreamInstant(nanosecondsSinceEpoch: value * 1_000_000_000) }
}

extension RingStream {
    /// Publishes a UTF-8 string payload; for readable tests.
    @discardableResult
    func publish(
        _ subject: String,
        _ text: String,
        id: MessageID? = nil,
        options: PublishOptions = .none,
        at seconds: Int64 = 0
    ) throws(StreamError) -> PublishAck {
        var options = options
        if let id { options.messageID = id }
        return try self.publish(subject: subject, payload: Array(text.utf8), options: options, now: .seconds(seconds))
    }

    /// The payloads of every message a fresh `all` consumer reads, as strings.
    func allPayloads() -> [String] {
        guard var consumer = try? self.makeConsumer(.init()) else { return [] }
        return self.fetch(&consumer, maxMessages: Int.max).messages.map { String(decoding: $0.payload, as: UTF8.self) }
    }
}

func makeStream(_ configure: (inout RingStream.Configuration) -> Void = { _ in }) throws -> RingStream {
    var configuration = RingStream.Configuration(
        name: "TELEMETRY",
        subjects: ["boiler.>"],
        maxMessages: 1000,
        maxBytes: 1 << 16,
        maxMessageSize: 1024,
        maxDuplicateIDs: 1000
    )
    configure(&configuration)
    return try RingStream(configuration: configuration)
}

/// Runs `body` and returns the StreamError it threw, or nil.
func streamError(_ body: () throws -> Void) -> StreamError? {
    do {
        try body()
        return nil
    } catch let error as StreamError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

/// A publish's outcome, comparable between the stream and the model.
enum Outcome: Equatable {
    case ack(PublishAck)
    case failed(StreamError.Code)
}
