import BoilerService
import Foundation
import MQTT
import RingStream
import Telemetry
import TestSupport
import Testing

/// The ingestion worker against the real mosquitto from deploy/local/services.sh, driven by the real
/// `mosquitto_pub` and `mosquitto_sub` clients.
@Suite(.enabled(if: TestServices.runMQTT))
struct IngestTests {
    @Test(arguments: IngestPipeline.Storage.allCases)
    func readingsLandInTheStreamWithTheirValues(storage: IngestPipeline.Storage) async throws {
        let harness = try IngestHarness(mqttURL: try TestServices.requireMQTT(), storage: storage)
        try await harness.waitUntilIngesting()
        try await harness.publish(
            boiler: "b0001",
            #"{"v":1,"boot":"7f3a","seq":1234,"ts_ms":1764165600010,"water_c":61.25,"return_c":48.5,"room_c":20.9,"outdoor_c":-3.5,"burner_pct":42}"#
        )
        #expect(try await harness.eventually { try harness.readings("b0001").count == 1 })
        #expect(
            try harness.readings("b0001")
                == [
                    TelemetryReading(
                        boot: BootID("7f3a")!, seq: 1234, timestampMs: 1_764_165_600_010, waterC: 61.25, returnC: 48.5,
                        roomC: 20.9, outdoorC: -3.5, burnerPct: 42
                    )
                ]
        )
        let open = harness.pipeline.withWindows { $0.openWindows }.filter { $0.boilerID == BoilerID("b0001") }
        #expect(open.map(\.accumulator.samples) == [1])
        try await harness.stop()
    }

    @Test func ingestsOverMQTTVersion5WithAPersistentSession() async throws {
        let harness = try IngestHarness(
            mqttURL: try TestServices.requireMQTT(),
            clientID: "ingest-v5-\(UInt32.random(in: 0...UInt32.max))",
            cleanSession: false,
            protocolVersion: .v5
        )
        try await harness.waitUntilIngesting()
        try await harness.publish(boiler: "b0005", #"{"v":1,"boot":"v5","seq":7,"ts_ms":1764165600000,"water_c":55.5}"#)
        #expect(try await harness.eventually { try harness.readings("b0005").map(\.waterC) == [55.5] })
        try await harness.stop()
    }

    /// A batch is a stream message per reading, or (storage `message`) one message holding the run.
    @Test(arguments: IngestPipeline.Storage.allCases)
    func batchesExpandIntoTheirReadings(storage: IngestPipeline.Storage) async throws {
        let harness = try IngestHarness(mqttURL: try TestServices.requireMQTT(), storage: storage)
        try await harness.waitUntilIngesting()
        try await harness.publish(
            boiler: "b0002",
            #"{"v":1,"boot":"a1","seq":10,"ts_ms":1764165600000,"period_ms":10,"water_c":[60,60.5,61],"burner_pct":[10,20,30]}"#
        )
        #expect(try await harness.eventually { try harness.readings("b0002").count == 3 })
        let readings = try harness.readings("b0002")
        #expect(readings.map(\.seq) == [10, 11, 12])
        #expect(readings.map(\.timestampMs) == [1_764_165_600_000, 1_764_165_600_010, 1_764_165_600_020])
        #expect(readings.map(\.waterC) == [60, 60.5, 61])
        #expect(readings.map(\.burnerPct) == [10, 20, 30])
        #expect(try harness.messages("b0002").count == (storage == .perReading ? 3 : 1))
        try await harness.stop()
    }

    @Test(arguments: IngestPipeline.Storage.allCases)
    func resentReadingsAreDroppedAndCounted(storage: IngestPipeline.Storage) async throws {
        let harness = try IngestHarness(mqttURL: try TestServices.requireMQTT(), storage: storage)
        try await harness.waitUntilIngesting()
        let batch = #"{"v":1,"boot":"a1","seq":0,"ts_ms":1764165600000,"period_ms":10,"water_c":[60,61]}"#
        try await harness.publish(boiler: "b0003", batch)
        // Overlaps the first batch by one reading (seq 1), then one new (seq 2).
        try await harness.publish(boiler: "b0003", #"{"v":1,"boot":"a1","seq":1,"ts_ms":1764165600010,"period_ms":10,"water_c":[61,62]}"#)
        try await harness.publish(boiler: "b0003", batch)
        #expect(try await harness.eventually { harness.pipeline.statistics.duplicates == 3 })
        #expect(try harness.readings("b0003").map(\.seq) == [0, 1, 2])
        let accumulator = harness.pipeline.withWindows { $0.openWindows }.first { $0.boilerID == BoilerID("b0003") }?.accumulator
        #expect(accumulator?.samples == 3)
        #expect(accumulator?.duplicates == 3)
        try await harness.stop()
    }

    /// Long batches are published in chunks whose IDs are announced first (`RingStream.Publisher.announce`):
    /// across the chunks' edges every reading must still be stored once, in order, and every re-sent one
    /// dropped and counted.
    @Test(arguments: IngestPipeline.Storage.allCases)
    func longBatchesStoreEveryReadingOnceAcrossChunks(storage: IngestPipeline.Storage) async throws {
        let harness = try IngestHarness(mqttURL: try TestServices.requireMQTT(), storage: storage)
        try await harness.waitUntilIngesting()
        func batch(from seq: Int, count: Int) -> String {
            let values = (seq..<(seq + count)).map { String(40 + Double($0) / 4) }.joined(separator: ",")
            return #"{"v":1,"boot":"long","seq":\#(seq),"ts_ms":\#(1_764_165_600_000 + seq * 10),"period_ms":10,"water_c":[\#(values)]}"#
        }
        try await harness.publish(boiler: "b0004", batch(from: 0, count: 40))
        // Readings 30...39 again, then 40 new ones.
        try await harness.publish(boiler: "b0004", batch(from: 30, count: 50))
        #expect(try await harness.eventually { try harness.readings("b0004").count == 80 })
        #expect(try await harness.eventually { harness.pipeline.statistics.duplicates == 10 })
        let readings = try harness.readings("b0004")
        #expect(readings.map(\.seq) == Array(0..<80).map(UInt64.init))
        #expect(readings.map(\.waterC) == (0..<80).map { 40 + Double($0) / 4 })
        let accumulator = harness.pipeline.withWindows { $0.openWindows }.first { $0.boilerID == BoilerID("b0004") }?.accumulator
        #expect(accumulator?.samples == 80)
        #expect(accumulator?.duplicates == 10)
        try await harness.stop()
    }

    @Test func everyMalformedClassIsRejectedWithItsReasonAndTheWorkerKeepsGoing() async throws {
        let harness = try IngestHarness(mqttURL: try TestServices.requireMQTT())
        try await harness.waitUntilIngesting()
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schemas/examples/telemetry")
        var expected = RejectionCounts()
        for folder in ["invalid", "refused"] {
            let path = directory.appendingPathComponent(folder).path
            for file in try FileManager.default.contentsOfDirectory(atPath: path).sorted() where file.hasSuffix(".json") {
                guard let reason = RejectionReason(rawValue: String(file.split(separator: "--").first ?? "")) else {
                    Issue.record("example \(file) does not name a reason")
                    continue
                }
                // The empty example cannot be sent with -f (mosquitto_pub refuses an empty file): send -n instead.
                if try Data(contentsOf: URL(fileURLWithPath: "\(path)/\(file)")).isEmpty {
                    let (host, port) = try harness.hostAndPort()
                    _ = try await run(["mosquitto_pub", "-h", host, "-p", port, "-q", "1", "-t", harness.topic("bad"), "-n"])
                } else {
                    try await harness.publish(boiler: "bad", file: "\(path)/\(file)")
                }
                expected.record(reason)
            }
        }
        // Bad topics and an oversized payload, too.
        try await harness.publish(boiler: "bad.id", #"{"v":1,"boot":"a","seq":0,"ts_ms":0,"water_c":50}"#)
        expected.record(.invalidBoilerID)
        try await harness.publish(boiler: String(repeating: "b", count: 65), #"{"v":1,"boot":"a","seq":0,"ts_ms":0,"water_c":50}"#)
        expected.record(.invalidBoilerID)
        let big = FileManager.default.temporaryDirectory.appendingPathComponent("big-\(harness.prefix).json")
        try Data(repeating: 0x20, count: 70_000).write(to: big)
        try await harness.publish(boiler: "bad", file: big.path)
        expected.record(.payloadTooLarge)
        // ...and the worker still ingests.
        try await harness.publish(boiler: "good", #"{"v":1,"boot":"a","seq":0,"ts_ms":1764165600000,"water_c":50}"#)

        #expect(try await harness.eventually { harness.pipeline.statistics.rejections.total == expected.total })
        #expect(try await harness.eventually { try harness.readings("good").count == 1 })
        let counted = harness.pipeline.statistics.rejections
        for reason in RejectionReason.allCases {
            #expect(counted[reason] == expected[reason], "\(reason.rawValue)")
        }
        #expect(try harness.readings("bad").isEmpty)
        try await harness.stop()
    }

    /// One boiler floods at 100x its rate (10,000 readings/s for a boiler that sends 100): with a limit of 200
    /// readings/s per boiler (burst 400) its excess is refused as `rate-limited` and counted, every reading it
    /// sent is either stored or in a refused message, and a boiler publishing beside it loses nothing.
    @Test func aFloodingBoilerIsRateLimitedAndCountedWhileOthersAreUnaffected() async throws {
        let harness = try IngestHarness(mqttURL: try TestServices.requireMQTT(), rateLimit: RateLimit(readingsPerSecond: 200, burst: 400))
        try await harness.waitUntilIngesting()
        let (host, port) = try harness.hostAndPort()
        func lines(boot: String, messages: Int, readings: Int) -> String {
            (0..<messages).map { message in
                let values = Array(repeating: "60.5", count: readings).joined(separator: ",")
                return #"{"v":1,"boot":"\#(boot)","seq":\#(message * readings),"ts_ms":\#(1_764_165_600_000 + Int64(message * readings * 10)),"period_ms":10,"water_c":[\#(values)]}"#
            }.joined(separator: "\n") + "\n"
        }
        let flood = FileManager.default.temporaryDirectory.appendingPathComponent("flood-\(harness.prefix).txt")
        let calm = FileManager.default.temporaryDirectory.appendingPathComponent("calm-\(harness.prefix).txt")
        defer {
            try? FileManager.default.removeItem(at: flood)
            try? FileManager.default.removeItem(at: calm)
        }
        try lines(boot: "f", messages: 100, readings: 100).write(to: flood, atomically: true, encoding: .utf8)
        try lines(boot: "c", messages: 10, readings: 10).write(to: calm, atomically: true, encoding: .utf8)
        func sender(_ boiler: String, _ file: URL) throws -> ChildProcess {
            try ChildProcess(["sh", "-c", "mosquitto_pub -h \(host) -p \(port) -q 1 -t \(harness.topic(boiler)) -l < \(file.path)"])
        }
        let start = ContinuousClock.now
        let flooding = try sender("flood", flood)
        let steady = try sender("calm", calm)
        #expect(await flooding.wait(timeout: .seconds(20)).status == 0)
        #expect(await steady.wait(timeout: .seconds(20)).status == 0)

        // Every reading of both boilers accounted for: stored, or in a refused message of the flood.
        #expect(try await harness.eventually {
            let refused = harness.pipeline.statistics.rejections[.rateLimited]
            return try harness.readings("flood").count + Int(refused) * 100 == 10_000 && harness.readings("calm").count == 100
        })
        let elapsed = ContinuousClock.now - start
        let stored = try harness.readings("flood").count
        let refused = harness.pipeline.statistics.rejections[.rateLimited]
        #expect(try harness.readings("calm").count == 100, "the calm boiler lost readings")
        #expect(refused > 0, "nothing was refused")
        #expect(stored + Int(refused) * 100 == 10_000, "stored \(stored), refused \(refused) messages of 100")
        // At most the burst and the rate over the time it took (and one message's rounding).
        let allowed = 400 + 200 * Double(elapsed.components.seconds) + 200 * Double(elapsed.components.attoseconds) / 1e18
        #expect(Double(stored) <= allowed + 100, "stored \(stored) of the flood in \(elapsed); allowed \(allowed)")
        #expect(harness.pipeline.statistics.rejections.total == refused, "only rate limits refused anything")
        try await harness.stop()
    }

    @Test func rejectedPayloadsGoToTheDeadLetterTopicWithTheirReason() async throws {
        let harness = try IngestHarness(mqttURL: try TestServices.requireMQTT(), deadLetters: true)
        try await harness.waitUntilIngesting()
        let boiler = "dl\(harness.prefix)"
        let (host, port) = try harness.hostAndPort()
        // The real mosquitto_sub waits for one dead letter (started first, given time to subscribe).
        let subscriber = try ChildProcess(["mosquitto_sub", "-h", host, "-p", port, "-t", "boilers/\(boiler)/rejected", "-C", "1"])
        try await Task.sleep(for: .milliseconds(500))
        try await harness.publish(boiler: boiler, #"{"v":1,"boot":"a","seq":0,"ts_ms":0,"water_c":999}"#)
        let output = await subscriber.wait(timeout: .seconds(15)).output
        #expect(output.contains(#""reason":"water-out-of-range""#), "\(output)")
        #expect(output.contains(#""topic":"\#(harness.topic(boiler))""#), "\(output)")
        try await harness.stop()
    }
}
