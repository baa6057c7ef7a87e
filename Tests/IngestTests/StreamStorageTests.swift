import BoilerService
import Foundation
import Logging
import RingStream
import Synchronization
import Telemetry
import TestSupport
import Testing

/// Stream storage `message` (a stream message per MQTT message's new readings) against the default `reading`
/// (a stream message per reading): the same readings stored once each, the same counts, the same hourly windows,
/// whatever the faults. Fed straight to the pipeline, as the MQTT network thread hands it payloads.
@Suite("Stream storage")
struct StreamStorageTests {
    /// 2025-11-26T14:00:00Z.
    static let hour0: Int64 = 1_764_165_600_000

    final class Clock: Sendable {
        let ms = Mutex<Int64>(StreamStorageTests.hour0 + 600_000)
        var wallClock: WallClock { WallClock { self.ms.withLock { $0 } } }
    }

    static func pipeline(_ storage: IngestPipeline.Storage, clock: Clock, stream: RingStream.Configuration? = nil) throws -> IngestPipeline {
        var logger = Logger(label: "stream-storage-test")
        logger.logLevel = .critical
        let configuration =
            stream ?? RingStream.Configuration(name: "TELEMETRY", subjects: ["boiler.*.telemetry"], maxMessages: 500_000, maxBytes: 256 << 20)
        return IngestPipeline(stream: try RingStream(configuration: configuration), clock: clock.wallClock, logger: logger, storage: storage)
    }

    static func handle(_ pipeline: IngestPipeline, boiler: String, _ payload: String) {
        var topic = "boilers/\(boiler)/telemetry"
        var payload = payload
        topic.withUTF8 { topicBytes in payload.withUTF8 { pipeline.handle(topic: topicBytes, payload: $0) } }
    }

    /// A payload of `count` readings of `boot` from `seq` (single-reading form when `single`), 10 ms apart.
    static func payload(boot: String, seq: Int, count: Int, single: Bool = false, room: Bool = false) -> String {
        let ts = Self.hour0 + Int64(seq) * 10
        if single {
            return #"{"v":1,"boot":"\#(boot)","seq":\#(seq),"ts_ms":\#(ts),"water_c":\#(50 + Double(seq % 400) / 8)}"#
        }
        let values = (seq..<(seq + count)).map { "\(50 + Double($0 % 400) / 8)" }.joined(separator: ",")
        let extra = room ? #","room_c":20.5,"burner_pct":[\#((seq..<(seq + count)).map { "\($0 % 100)" }.joined(separator: ","))]"# : ""
        return #"{"v":1,"boot":"\#(boot)","seq":\#(seq),"ts_ms":\#(ts),"period_ms":10,"water_c":[\#(values)]\#(extra)}"#
    }

    /// Every reading in the stream, per boiler, in stream order; and the number of stream messages.
    static func contents(_ pipeline: IngestPipeline) throws -> (readings: [String: [TelemetryReading]], messages: Int) {
        var consumer = try pipeline.stream.makeConsumer(.init(filterSubjects: ["boiler.*.telemetry"]))
        let messages = pipeline.stream.fetch(&consumer, maxMessages: 1_000_000).messages
        var readings: [String: [TelemetryReading]] = [:]
        for message in messages {
            let boiler = String(message.subject.split(separator: ".")[1])
            let decoded = message.payload.withUnsafeBytes { TelemetryReading.readings(record: $0) }
            #expect(decoded != nil, "message \(message.sequence) is no telemetry record")
            readings[boiler, default: []] += decoded ?? []
        }
        return (readings, messages.count)
    }

    /// Random traffic from four boilers, with exact re-sends, re-sends cut at other boundaries, held-back
    /// (reordered) messages, single readings, optional fields and a restart, fed to both pipelines.
    @Test("both storages store the same readings once, count the same and fold the same windows", arguments: [1, 2, 3] as [UInt64])
    func twins(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let clock = Clock()
        let perReading = try Self.pipeline(.perReading, clock: clock)
        let perMessage = try Self.pipeline(.perMessage, clock: clock)
        var next = [Int](repeating: 0, count: 4)
        var boots = ["a", "a", "a", "a"]
        var sent: [(boiler: String, payload: String)] = []
        var held: [(boiler: String, payload: String)] = []
        var unique: [String: Set<String>] = [:]
        func send(_ boiler: String, _ payload: String) {
            Self.handle(perReading, boiler: boiler, payload)
            Self.handle(perMessage, boiler: boiler, payload)
            sent.append((boiler, payload))
        }
        for _ in 0..<2_000 {
            let index = Int.random(in: 0..<4, using: &random)
            let boiler = "b\(index)"
            let roll = Int.random(in: 0..<100, using: &random)
            switch roll {
            case 0..<8 where !sent.isEmpty:
                // An earlier message, exactly as it was.
                let message = sent[Int.random(in: 0..<sent.count, using: &random)]
                send(message.boiler, message.payload)
            case 8..<16 where next[index] > 0:
                // Readings sent before, cut at other boundaries, running past the newest into new ones.
                let from = Int.random(in: max(0, next[index] - 60)..<next[index], using: &random)
                let count = Int.random(in: 1...40, using: &random)
                send(boiler, Self.payload(boot: boots[index], seq: from, count: count))
                for seq in from..<(from + count) { unique[boiler, default: []].insert("\(boots[index]):\(seq)") }
                next[index] = max(next[index], from + count)
            case 16..<20:
                // Held back, sent later (out of order), and a gap meanwhile.
                let count = Int.random(in: 1...20, using: &random)
                held.append((boiler, Self.payload(boot: boots[index], seq: next[index], count: count)))
                for seq in next[index]..<(next[index] + count) { unique[boiler, default: []].insert("\(boots[index]):\(seq)") }
                next[index] += count
            case 20..<24 where !held.isEmpty:
                let message = held.removeFirst()
                send(message.boiler, message.payload)
            case 24 where index == 3 && boots[3] == "a":
                // A restart: seq counts from 0 again under a new boot.
                boots[3] = "b"
                next[3] = 0
            default:
                let single = Int.random(in: 0..<4, using: &random) == 0
                let count = single ? 1 : Int.random(in: 1...50, using: &random)
                send(boiler, Self.payload(boot: boots[index], seq: next[index], count: count, single: single, room: roll % 2 == 0))
                for seq in next[index]..<(next[index] + count) { unique[boiler, default: []].insert("\(boots[index]):\(seq)") }
                next[index] += count
            }
        }
        for message in held { send(message.boiler, message.payload) }

        let one = perReading.statistics
        let other = perMessage.statistics
        #expect(one == other)
        #expect(one.rejections.total == 0)
        let expectedReadings = unique.values.reduce(0) { $0 + $1.count }
        #expect(one.readingsIngested == UInt64(expectedReadings))
        #expect(one.duplicates > 1_000)
        let (readings, messages) = try Self.contents(perReading)
        let (runs, runMessages) = try Self.contents(perMessage)
        #expect(readings == runs)
        for (boiler, stored) in runs {
            let keys = stored.map { "\($0.boot):\($0.seq)" }
            #expect(Set(keys) == unique[boiler] && keys.count == unique[boiler]?.count, "\(boiler): every reading stored once")
        }
        #expect(messages == expectedReadings)
        #expect(runMessages < messages / 5)
        let windows = perReading.withWindows { $0.openWindows }.sorted { $0.boilerID.rawValue < $1.boilerID.rawValue }
        let runWindows = perMessage.withWindows { $0.openWindows }.sorted { $0.boilerID.rawValue < $1.boilerID.rawValue }
        #expect(windows.map(\.boilerID) == runWindows.map(\.boilerID))
        #expect(windows.map(\.accumulator) == runWindows.map(\.accumulator))
        #expect(windows.count == 4)
    }

    /// A run the stream refuses is not remembered as stored: sent again once there is room, it is stored, not
    /// called a duplicate.
    @Test("a refused run is stored when sent again later, not taken for a duplicate")
    func refusedRunsAreNotRemembered() throws {
        let clock = Clock()
        let stream = RingStream.Configuration(
            name: "TELEMETRY", subjects: ["boiler.*.telemetry"], maxMessages: 2, maxBytes: 1 << 20, maxAge: .seconds(1), discard: .new
        )
        let pipeline = try Self.pipeline(.perMessage, clock: clock, stream: stream)
        for seq in [0, 10, 20] { Self.handle(pipeline, boiler: "b1", Self.payload(boot: "a", seq: seq, count: 10)) }
        #expect(pipeline.statistics.streamRefusals == [StreamError.Code.storeFailed.rawValue: 10])
        #expect(pipeline.statistics.readingsIngested == 20)
        clock.ms.withLock { $0 += 2_000 }
        Self.handle(pipeline, boiler: "b1", Self.payload(boot: "a", seq: 20, count: 10))
        let statistics = pipeline.statistics
        #expect(statistics.readingsIngested == 30)
        #expect(statistics.duplicates == 0)
        #expect(try Self.contents(pipeline).readings["b1"]?.map(\.seq) == Array(20..<30).map(UInt64.init))
        // And now it is stored, a re-send is a duplicate.
        Self.handle(pipeline, boiler: "b1", Self.payload(boot: "a", seq: 25, count: 10))
        #expect(pipeline.statistics.duplicates == 5)
        #expect(pipeline.statistics.readingsIngested == 35)
    }
}
