import Benchmark
import Foundation
import RingStream
import Telemetry

/// The telemetry hot paths: decoding payloads (hand-written decoder beside Foundation's JSONDecoder, in one run),
/// folding readings into hourly windows, and the seed's question "what was last hour's mean": an O(1) snapshot
/// lookup beside re-reading the hour's 360,000 readings from the stream.
let benchmarks: @Sendable () -> Void = {
    let boilerID = BoilerID("b0001") ?? { fatalError("benchmark boiler id is invalid") }()
    let hourStart: Int64 = 1_764_165_600_000
    let now: Int64 = 1_764_201_600_000

    /// 1,000 distinct payloads of each shape, as a boiler would send them.
    let batches: [[UInt8]] = (0..<1_000).map { index in
        let values = (0..<10).map { String(format: "%.2f", 60 + Double(($0 * 7 + index) % 400) / 100) }
        return Array(
            #"{"v":1,"boot":"7f3a","seq":\#(index * 10),"ts_ms":\#(hourStart + Int64(index) * 100),"period_ms":10,"water_c":[\#(values.joined(separator: ","))]}"#
                .utf8
        )
    }
    let singles: [[UInt8]] = (0..<1_000).map { index in
        Array(
            #"{"v":1,"boot":"7f3a","seq":\#(index),"ts_ms":\#(hourStart + Int64(index) * 10),"water_c":\#(String(format: "%.2f", 60 + Double(index % 400) / 100))}"#
                .utf8
        )
    }

    let perReading = Benchmark.Configuration(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        scalingFactor: .mega,
        maxDuration: .seconds(15),
        maxIterations: 10
    )
    let slow = Benchmark.Configuration(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(15),
        maxIterations: 10
    )

    /// Decodes `payloads` in turn until `readings` readings have been decoded.
    func decodeLoop(_ benchmark: Benchmark, _ payloads: [[UInt8]], readingsPerPayload: Int) {
        let decoder = TelemetryDecoder()
        var payload = TelemetryPayload()
        var sum = 0.0
        let count = benchmark.scaledIterations.count / readingsPerPayload
        benchmark.startMeasurement()
        for index in 0..<count {
            payloads[index % payloads.count].withUnsafeBufferPointer { bytes in
                do {
                    try decoder.decode(bytes, boilerID: boilerID, into: &payload, nowMs: now)
                } catch {
                    fatalError("benchmark payload rejected: \(error)")
                }
            }
            sum += payload.water[0]
        }
        benchmark.stopMeasurement()
        blackHole(sum)
    }

    Benchmark("Decode batch payloads of 10 readings, hand-written decoder (per reading)", configuration: perReading) {
        decodeLoop($0, batches, readingsPerPayload: 10)
    }

    Benchmark("Decode single-reading payloads, hand-written decoder (per payload)", configuration: perReading) {
        decodeLoop($0, singles, readingsPerPayload: 1)
    }

    struct BatchDTO: Decodable {
        var v: Int
        var boot: String
        var seq: UInt64
        var ts_ms: Int64
        var period_ms: Int64
        var water_c: [Double]
    }

    struct ReadingDTO: Decodable {
        var v: Int
        var boot: String
        var seq: UInt64
        var ts_ms: Int64
        var water_c: Double
    }

    let batchData = batches.map { Data($0) }
    let singleData = singles.map { Data($0) }

    Benchmark("Decode batch payloads of 10 readings, Foundation JSONDecoder (per reading)", configuration: slow) {
        benchmark in
        let decoder = JSONDecoder()
        var sum = 0.0
        benchmark.startMeasurement()
        for index in 0..<(benchmark.scaledIterations.count / 10) {
            sum += (try? decoder.decode(BatchDTO.self, from: batchData[index % batchData.count]))?.water_c[0] ?? 0
        }
        benchmark.stopMeasurement()
        blackHole(sum)
    }

    Benchmark("Decode single-reading payloads, Foundation JSONDecoder (per payload)", configuration: slow) {
        benchmark in
        let decoder = JSONDecoder()
        var sum = 0.0
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            sum += (try? decoder.decode(ReadingDTO.self, from: singleData[index % singleData.count]))?.water_c ?? 0
        }
        benchmark.stopMeasurement()
        blackHole(sum)
    }

    Benchmark("HourlyAccumulator.add (per reading)", configuration: perReading) { benchmark in
        let boot = BootID("7f3a") ?? { fatalError("benchmark boot id is invalid") }()
        var accumulator = HourlyAccumulator(hourStartMs: hourStart)
        var value = 60.0
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            value += index & 1 == 0 ? 0.01 : -0.0099
            accumulator.add(timestampMs: hourStart + Int64(index % 360_000) * 10, waterC: value, boot: boot, seq: UInt64(index))
        }
        benchmark.stopMeasurement()
        blackHole(accumulator)
    }

    Benchmark("HourlyWindows.add, decoded batches of 10, 1,000 boilers (per reading)", configuration: perReading) {
        benchmark in
        // Decoded payloads for 1,000 boilers, 10 readings each, replayed with advancing time.
        let decoder = TelemetryDecoder()
        let payloads: [TelemetryPayload] = (0..<1_000).map { index in
            let id = BoilerID("b\(String(10_000 + index))") ?? boilerID
            return (try? decoder.decode(batches[index], boilerID: id, nowMs: now)) ?? TelemetryPayload()
        }
        var windows = HourlyWindows()
        for payload in payloads { _ = windows.add(payload, wallMs: now) }
        var accepted = 0
        benchmark.startMeasurement()
        for index in 0..<(benchmark.scaledIterations.count / 10) {
            accepted &+= windows.add(payloads[index % payloads.count], wallMs: now).accepted
        }
        benchmark.stopMeasurement()
        blackHole(accepted)
    }

    // The seed's problem: the controller wants last hour's mean for a boiler.
    final class HourFixture {
        let stream: RingStream
        var windows = HourlyWindows()
        let ids: [BoilerID]

        init(boilerID: BoilerID, hourStart: Int64) {
            let configuration = RingStream.Configuration(
                name: "TELEMETRY",
                subjects: ["boiler.*.telemetry"],
                maxMessages: 400_000,
                maxBytes: 64 << 20
            )
            guard let stream = try? RingStream(configuration: configuration) else { fatalError("bad stream") }
            self.stream = stream
            // One hour of one boiler in the stream (8-byte payload: the water temperature)...
            for index in 0..<360_000 {
                var value = 60 + Double(index % 500) / 100
                _ = withUnsafeBytes(of: &value) { bytes in
                    try? stream.publish(
                        subject: "boiler.b0001.telemetry",
                        payload: bytes,
                        now: StreamInstant(millisecondsSinceEpoch: hourStart + Int64(index) * 10)
                    )
                }
            }
            // ... and the same hour's snapshots for 1,000 boilers, closed.
            self.ids = (0..<1_000).map { BoilerID("b\(String(10_000 + $0))") ?? boilerID }
            let decoder = TelemetryDecoder()
            for id in self.ids {
                let text = #"{"v":1,"boot":"a","seq":0,"ts_ms":\#(hourStart),"period_ms":10,"water_c":[60,61]}"#
                if let payload = try? decoder.decode(Array(text.utf8), boilerID: id, nowMs: .max / 2) {
                    _ = self.windows.add(payload, wallMs: hourStart)
                }
                let next = #"{"v":1,"boot":"a","seq":2,"ts_ms":\#(hourStart + 3_606_000),"water_c":60}"#
                if let payload = try? decoder.decode(Array(next.utf8), boilerID: id, nowMs: .max / 2) {
                    _ = self.windows.add(payload, wallMs: hourStart)
                }
            }
            _ = self.windows.drainClosed()
        }
    }
    nonisolated(unsafe) var hourFixture: HourFixture? = nil
    func fixture() -> HourFixture {
        if let hourFixture { return hourFixture }
        let made = HourFixture(boilerID: boilerID, hourStart: hourStart)
        hourFixture = made
        return made
    }

    Benchmark(
        "Last hour's mean: snapshot lookup, 1,000 boilers (per lookup)",
        configuration: perReading
    ) { benchmark in
        let hour = fixture()
        var sum = 0.0
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            sum += hour.windows.latestSnapshots[hour.ids[index % hour.ids.count]]?.meanC ?? 0
        }
        benchmark.stopMeasurement()
        blackHole(sum)
    }

    Benchmark(
        "Last hour's mean: re-reading the hour's 360,000 readings from the stream (per hour)",
        configuration: .init(metrics: [.throughput, .wallClock], scalingFactor: .one, maxDuration: .seconds(15), maxIterations: 10)
    ) { benchmark in
        let hour = fixture()
        var sum = 0.0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            guard var consumer = try? hour.stream.makeConsumer(.init(filterSubjects: ["boiler.b0001.telemetry"])) else {
                fatalError("consumer")
            }
            var total = 0.0
            var count = 0
            while true {
                let result = hour.stream.fetch(&consumer, maxMessages: 1_024) { message in
                    total += message.payload.loadUnaligned(as: Double.self)
                    count += 1
                }
                if result.delivered == 0 { break }
            }
            sum += total / Double(max(count, 1))
        }
        benchmark.stopMeasurement()
        blackHole(sum)
    }
}
