// Standalone driver of RingStreamBenchmarks' publish loop, compiled together with a revision's
// Sources/RingStream by deploy/bench/publish-ab.sh (a benchmark, not a test): 1,000 subjects, a message ID and
// an expected subject sequence on every publish, a ring of 1M messages and about 1M IDs in the dedup window.
// Prints ns per publish, single and in batches of 10 under one lock.
import Foundation

let subjects = (0..<1000).map { "boiler.b\(String(1000 + $0)).telemetry" }
let payload = [UInt8](repeating: 0x2A, count: 32)
let configuration = RingStream.Configuration(
    name: "TELEMETRY", subjects: ["boiler.*.telemetry"], maxMessages: 1 << 20, maxBytes: 64 << 20, maxDuplicateIDs: 1 << 21
)
guard let stream = try? RingStream(configuration: configuration) else { fatalError("driver configuration is invalid") }
var last = [UInt64](repeating: 0, count: subjects.count)
var counter: UInt64 = 0
/// 2 minutes over 1M publishes: the duplicate window holds about 1M IDs.
var now: Int64 = 1_764_165_600_000_000_000

func next() -> (Int, PublishOptions, StreamInstant) {
    let index = Int(counter % UInt64(subjects.count))
    var id = MessageID()
    id.append(decimal: UInt64(index))
    id.append(byte: UInt8(ascii: ":"))
    id.append(decimal: counter)
    counter += 1
    now += 120_000
    return (index, PublishOptions(messageID: id, expectedLastSubjectSequence: last[index]), StreamInstant(nanosecondsSinceEpoch: now))
}

func publish(_ count: Int, batch: Int) {
    payload.withUnsafeBytes { bytes in
        for _ in 0..<(count / batch) {
            do {
                try stream.withPublisher { publisher throws(StreamError) in
                    for _ in 0..<batch {
                        let (index, options, time) = next()
                        last[index] = try publisher.publish(subject: subjects[index], payload: bytes, options: options, now: time).sequence
                    }
                }
            } catch {
                fatalError("publish failed: \(error)")
            }
        }
    }
}

func nanosecondsPerPublish(_ count: Int, batch: Int) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    publish(count, batch: batch)
    return Double(DispatchTime.now().uptimeNanoseconds - start) / Double(count)
}

// Steady state first: the ring and the dedup window full, evicting.
publish(3 << 20, batch: 1)
let single = nanosecondsPerPublish(1 << 20, batch: 1)
let batched = nanosecondsPerPublish(1 << 20, batch: 10)
print(String(format: "%.0f %.0f", single, batched))
