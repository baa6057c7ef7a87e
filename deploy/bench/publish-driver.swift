// Standalone driver of RingStreamBenchmarks' publish loop, compiled together with a revision's
// Sources/RingStream by deploy/bench/publish-ab.sh (a benchmark, not a test): 1,000 subjects, a message ID and
// an expected subject sequence on every publish, a ring of 1M messages and about 1M IDs in the dedup window.
// Prints ns per publish: single (`RingStream.publish`), in batches of 10 under one lock, the same with the
// batch's IDs announced first, and single without a message ID (the expectation kept).
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

func next(withID: Bool = true) -> (Int, PublishOptions, StreamInstant) {
    let index = Int(counter % UInt64(subjects.count))
    var options = PublishOptions(expectedLastSubjectSequence: last[index])
    if withID {
        var id = MessageID()
        id.append(decimal: UInt64(index))
        id.append(byte: UInt8(ascii: ":"))
        id.append(decimal: counter)
        options.messageID = id
    }
    counter += 1
    now += 120_000
    return (index, options, StreamInstant(nanosecondsSinceEpoch: now))
}

/// Publishes `count` messages: one at a time with `batch` 1, else `batch` per lock, their IDs announced first
/// with `announce` (filled before the lock, as the ingestion path and the benchmark do); `withID: false` drops
/// the message ID (single publishes only).
func publish(_ count: Int, batch: Int, announce: Bool = false, withID: Bool = true) {
    var pending = [(Int, PublishOptions, StreamInstant)](repeating: (0, PublishOptions(), StreamInstant(nanosecondsSinceEpoch: 0)), count: batch)
    payload.withUnsafeBytes { bytes in
        for _ in 0..<(count / batch) {
            do {
                if batch == 1 {
                    // One at a time as the benchmark publishes: the stream's own publish, which takes the lock.
                    let (index, options, time) = next(withID: withID)
                    last[index] = try stream.publish(subject: subjects[index], payload: bytes, options: options, now: time).sequence
                    continue
                }
                for slot in 0..<batch { pending[slot] = next() }
                try stream.withPublisher { publisher throws(StreamError) in
                    if announce {
                        for slot in 0..<batch { if let id = pending[slot].1.messageID { publisher.announce(messageID: id) } }
                    }
                    for slot in 0..<batch {
                        let (index, options, time) = pending[slot]
                        last[index] = try publisher.publish(subject: subjects[index], payload: bytes, options: options, now: time).sequence
                    }
                }
            } catch {
                fatalError("publish failed: \(error)")
            }
        }
    }
}

/// The fastest of 16 rounds of 64Ki publishes: on a shared machine, the other tenants' noise only ever adds time.
func nanosecondsPerPublish(batch: Int, announce: Bool = false, withID: Bool = true) -> Double {
    var best = Double.infinity
    for _ in 0..<16 {
        let start = DispatchTime.now().uptimeNanoseconds
        publish(1 << 16, batch: batch, announce: announce, withID: withID)
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / Double(1 << 16))
    }
    return best
}

// Steady state first: the ring and the dedup window full, evicting.
publish(3 << 20, batch: 1)
let single = nanosecondsPerPublish(batch: 1)
let batched = nanosecondsPerPublish(batch: 10)
let announced = nanosecondsPerPublish(batch: 10, announce: true)
let withoutID = nanosecondsPerPublish(batch: 1, withID: false)
print(String(format: "%.0f %.0f %.0f %.0f", single, batched, announced, withoutID))
