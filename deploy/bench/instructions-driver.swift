// Driver for deploy/bench/instructions.sh (a benchmark, not a test): one RingStream operation repeated N times
// after a warm-up, so that the difference of two runs' instruction counts (valgrind lackey) divided by the
// difference of their N is the instructions of one operation. Unlike time, an instruction count does not move
// with the other tenants of a shared machine. The stream is small (16K messages, 16K IDs) so that valgrind runs
// in seconds; the count of instructions does not depend on the tables' size, their cache misses do.
//
//   instructions-driver OPERATION N
//     read-by-name     withLastMessage(subject: String) over 1,000 subjects in turn
//     read-by-handle   the same by SubjectHandle
//     sequence-by-name lastSequence(subject: String) over 1,000 subjects in turn
//     sequence-by-handle the same by SubjectHandle
//     publish          publish(subject: String) with a message ID `{i}:{n}` and expectedLastSubjectSequence
//     publish-without-id the same without the message ID (what the dedup and the ID's making cost)
//     publish-batch    10 per withPublisher by handle, IDs `{i}:{boot}:{seq}` spelled out in PublishOptions
//     publish-series   the same with a MessageIDSeries `{i}:{boot}:` per batch, as the ingestion worker publishes
//     fetch-literal    a consumer of one subject of 1,000, batches of 256 (per delivered message)
import RingStream

#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
guard arguments.count == 3, let count = Int(arguments[2]), count >= 0 else {
    print("usage: instructions-driver OPERATION N")
    exit(2)
}
let operation = arguments[1]
let subjects = (0..<1000).map { "boiler.b\(String(1000 + $0)).telemetry" }
let payload = [UInt8](repeating: 0x2A, count: 32)
let configuration = RingStream.Configuration(
    name: "TELEMETRY", subjects: ["boiler.*.telemetry"], maxMessages: 1 << 14, maxBytes: 1 << 20, maxDuplicateIDs: 1 << 14
)
guard let stream = try? RingStream(configuration: configuration) else { fatalError("driver configuration is invalid") }
var last = [UInt64](repeating: 0, count: subjects.count)
var counter: UInt64 = 0
var now: Int64 = 1_764_165_600_000_000_000

func publishSingles(_ n: Int, withID: Bool = true) throws {
    try payload.withUnsafeBytes { bytes in
        for _ in 0..<n {
            let index = Int(counter % 1000)
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
            last[index] = try stream.publish(subject: subjects[index], payload: bytes, options: options, now: StreamInstant(nanosecondsSinceEpoch: now)).sequence
        }
    }
}

/// `{index}:{boot}:`, the part of the ingestion worker's IDs `{boiler}:{boot}:{seq}` before the `seq`.
func bootPrefix(index: Int) -> MessageID {
    var prefix = MessageID()
    prefix.append(decimal: UInt64(index))
    prefix.append(byte: UInt8(ascii: ":"))
    prefix.append("5f3a9c1e")
    prefix.append(byte: UInt8(ascii: ":"))
    return prefix
}

try publishSingles(40_000)
let handles = subjects.compactMap { stream.handle(subject: $0) }
var sum: UInt64 = 0
switch operation {
case "read-by-name":
    for n in 0..<count { sum &+= (try? stream.withLastMessage(subject: subjects[n % 1000]) { $0.sequence }) ?? 0 }
case "read-by-handle":
    for n in 0..<count { sum &+= (try? stream.withLastMessage(subject: handles[n % 1000]) { $0.sequence }) ?? 0 }
case "sequence-by-name":
    for n in 0..<count { sum &+= stream.lastSequence(subject: subjects[n % 1000]) }
case "sequence-by-handle":
    for n in 0..<count { sum &+= (try? stream.lastSequence(subject: handles[n % 1000])) ?? 0 }
case "publish":
    try publishSingles(count)
case "publish-without-id":
    try publishSingles(count, withID: false)
case "publish-batch":
    try payload.withUnsafeBytes { bytes in
        for _ in 0..<(count / 10) {
            try stream.withPublisher { publisher throws(StreamError) in
                for _ in 0..<10 {
                    let index = Int(counter % 1000)
                    var id = bootPrefix(index: index)
                    id.append(decimal: counter)
                    counter += 1
                    now += 120_000
                    let time = StreamInstant(nanosecondsSinceEpoch: now)
                    sum &+= try publisher.publish(subject: handles[index], payload: bytes, options: PublishOptions(messageID: id), now: time).sequence
                }
            }
        }
    }
case "publish-series":
    try payload.withUnsafeBytes { bytes in
        for _ in 0..<(count / 10) {
            let index = Int(counter % 1000)
            let prefix = bootPrefix(index: index)
            guard let series = stream.messageIDSeries(prefix: prefix) else { fatalError("no series for \(prefix)") }
            try stream.withPublisher { publisher throws(StreamError) in
                for _ in 0..<10 {
                    now += 120_000
                    let time = StreamInstant(nanosecondsSinceEpoch: now)
                    sum &+= try publisher.publish(subject: handles[index], payload: bytes, messageID: series, number: counter, now: time).sequence
                    counter += 1
                }
            }
        }
    }
case "fetch-literal":
    let consumerConfiguration = StreamConsumer.Configuration(filterSubjects: [subjects[500]])
    var consumer = try stream.makeConsumer(consumerConfiguration)
    var read = 0
    while read < count {
        let result = stream.fetch(&consumer, maxMessages: 256) { sum &+= UInt64($0.payload.count) }
        read += result.delivered
        if result.delivered == 0 { consumer = try stream.makeConsumer(consumerConfiguration) }
    }
default:
    print("unknown operation \(operation)")
    exit(2)
}
print(sum)
