// The ingestion worker and a load generator, for deploy/bench/ingest.sh (a benchmark, not a test).
//
//   IngestBench worker  URL COUNT QOS        ingest until COUNT readings are stored; print one JSON line of figures
//                                             (env RECEIVE_WINDOW_US: the MQTT client's receive window, default 0;
//                                             env BUFFERED_READS=0: libmosquitto's unbuffered socket reads;
//                                             BUFFERED_WRITES=0: its unbuffered writes;
//                                             STREAM_STORAGE=message: a stream message per MQTT message)
//   IngestBench publish URL BOILERS RATE SECONDS BATCH QOS
//                                             publish RATE messages/s (BATCH readings each) over BOILERS boilers
import BoilerService
import Foundation
import HeatingControl
import Logging
import MQTT
import PostgresNIO
import RingStream
import SnapshotStore
import Telemetry

/// `STREAM_STORAGE` (`reading`, the default, or `message`): what one stream message holds.
let storage: IngestPipeline.Storage = {
    let text = ProcessInfo.processInfo.environment["STREAM_STORAGE"] ?? "reading"
    guard let storage = IngestPipeline.Storage(rawValue: text) else { fail("STREAM_STORAGE must be reading or message, got '\(text)'") }
    return storage
}()

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}

func peakRSSMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

@inline(never)
func blackHoleBytes(_ bytes: [UInt8]) {
    if bytes.count == 1 { print("") }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("IngestBench: \(message)\n".utf8))
    exit(2)
}

/// The messages `publish` sends and `pipeline` feeds: round robin over BOILERS boilers, BATCH readings each, in
/// the telemetry schema, each boiler's `seq` and event time running on from its last message.
struct Traffic {
    let topics: [String]
    let batch: Int
    let startMs = Int64(Date().timeIntervalSince1970 * 1000)
    var sequence: [Int]
    let values: String

    init(boilers: Int, batch: Int) {
        self.topics = (0..<boilers).map { "boilers/b\(String(100_000 + $0))/telemetry" }
        self.batch = batch
        self.sequence = [Int](repeating: 0, count: boilers)
        self.values = (0..<batch).map { _ in "61.25" }.joined(separator: ",")
    }

    /// Message `index`'s topic and payload.
    mutating func message(_ index: Int) -> (topic: String, payload: String) {
        let boiler = index % self.topics.count
        let seq = self.sequence[boiler]
        self.sequence[boiler] += self.batch
        let ts = self.startMs + Int64(seq) * 10
        let payload =
            self.batch == 1
            ? #"{"v":1,"boot":"bench","seq":\#(seq),"ts_ms":\#(ts),"water_c":61.25}"#
            : #"{"v":1,"boot":"bench","seq":\#(seq),"ts_ms":\#(ts),"period_ms":10,"water_c":[\#(self.values)]}"#
        return (self.topics[boiler], payload)
    }
}

/// The worker's stream: 1M messages, 128 MiB; the dedup table's size is boilerd's `stream-max-duplicate-ids`
/// default, 2^21, unless MAX_DUPLICATE_IDS says.
func makeTelemetryStream() -> RingStream {
    do {
        return try RingStream(
            configuration: .init(
                name: "TELEMETRY", subjects: ["boiler.*.telemetry"], maxMessages: 1 << 20, maxBytes: 128 << 20,
                maxDuplicateIDs: Int(ProcessInfo.processInfo.environment["MAX_DUPLICATE_IDS"] ?? "") ?? 1 << 21
            )
        )
    } catch {
        fail("stream: \(error)")
    }
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else { fail("usage: IngestBench worker URL COUNT QOS | publish URL BOILERS RATE SECONDS BATCH QOS") }
let url = arguments[2]
var logger = Logger(label: "ingest-bench")
logger.logLevel = .error

switch arguments[1] {
case "worker":
    guard arguments.count == 5, let expected = UInt64(arguments[3]), let qos = MQTTClient.QoS(rawValue: Int32(arguments[4]) ?? -1)
    else { fail("usage: IngestBench worker URL COUNT QOS") }
    let stream = makeTelemetryStream()
    let layout = TopicLayout.default
    // The MQTT client's receive window, µs (several workers with different windows can run side by side).
    let receiveWindowMicroseconds = Int(ProcessInfo.processInfo.environment["RECEIVE_WINDOW_US"] ?? "0") ?? 0
    let service: IngestService
    do {
        service = try IngestService(
            configuration: .init(
                mqtt: .init(
                    url: url,
                    clientID: "ingest-bench-worker-\(receiveWindowMicroseconds)",
                    cleanSession: false,
                    tcpNoDelay: ProcessInfo.processInfo.environment["TCP_NODELAY"] == "1",
                    receiveWindow: .microseconds(receiveWindowMicroseconds),
                    bufferedReads: ProcessInfo.processInfo.environment["BUFFERED_READS"] != "0",
                    bufferedWrites: ProcessInfo.processInfo.environment["BUFFERED_WRITES"] != "0"
                ),
                subscriptionQoS: qos
            ),
            logger: logger
        ) { _ in IngestPipeline(layout: layout, decoder: TelemetryDecoder(configuration: .init(maximumFutureSkewMs: .max / 4)), stream: stream, logger: logger, storage: storage) }
        try await service.client.connect()
        try await service.client.subscribe(layout.filter, qos: qos)
    } catch {
        fail("connect: \(error)")
    }
    print("ready")
    fflush(nil)
    // Wait for the first message, then measure until COUNT readings have been stored (or 60 s of silence).
    while service.pipeline.statistics.messages == 0 { try await Task.sleep(for: .milliseconds(1)) }
    let cpuStart = cpuSeconds()
    let wallStart = ContinuousClock.now
    var last = service.pipeline.statistics
    var lastChange = ContinuousClock.now
    while true {
        let statistics = service.pipeline.statistics
        let done = statistics.readingsIngested + statistics.duplicates + statistics.rejections.total
        if done >= expected { break }
        if statistics != last {
            last = statistics
            lastChange = .now
        } else if ContinuousClock.now - lastChange > .seconds(20) {
            break
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    let elapsed = ContinuousClock.now - wallStart
    let cpu = cpuSeconds() - cpuStart
    let statistics = service.pipeline.statistics
    service.client.disconnect()
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print(
        #"{"messages":\#(statistics.messages),"readings":\#(statistics.readingsIngested),"duplicates":\#(statistics.duplicates),"rejected":\#(statistics.rejections.total),"seconds":\#(seconds),"cpu_seconds":\#(cpu),"peak_rss_mb":\#(peakRSSMegabytes()),"stream_messages":\#(stream.info().messages)}"#
    )

case "publish":
    guard arguments.count == 8, let boilers = Int(arguments[3]), let rate = Double(arguments[4]),
        let duration = Double(arguments[5]), let batch = Int(arguments[6]),
        let qos = MQTTClient.QoS(rawValue: Int32(arguments[7]) ?? -1), boilers > 0, rate > 0, batch > 0
    else { fail("usage: IngestBench publish URL BOILERS RATE SECONDS BATCH QOS") }
    let client: MQTTClient
    do {
        client = try MQTTClient(
            configuration: .init(url: url, clientID: "ingest-bench-publisher-\(getpid())", maximumInflightMessages: 1_000),
            logger: logger
        ) { _ in }
        try await client.connect()
    } catch {
        fail("connect: \(error)")
    }
    let total = Int(rate * duration)
    let start = ContinuousClock.now
    var traffic = Traffic(boilers: boilers, batch: batch)
    for index in 0..<total {
        // Pace: message `index` is due at start + index / rate.
        let due = start + .nanoseconds(Int64(Double(index) / rate * 1e9))
        let now = ContinuousClock.now
        if due > now { try await Task.sleep(until: due, clock: .continuous) }
        // libmosquitto walks its whole outgoing queue on every QoS 1 publish: keep the backlog short.
        while qos != .atMostOnce && UInt64(index) &- client.messagesPublished > 2_000 {
            try await Task.sleep(for: .microseconds(200))
        }
        let (topic, payload) = traffic.message(index)
        do {
            try client.publishNow(topic, payload: Array(payload.utf8), qos: qos)
        } catch {
            fail("publish: \(error)")
        }
    }
    let sent = ContinuousClock.now - start
    // Wait until the broker has acknowledged every message (QoS 1) before disconnecting.
    let drainDeadline = ContinuousClock.now + .seconds(60)
    while client.messagesPublished < UInt64(total) && ContinuousClock.now < drainDeadline {
        try await Task.sleep(for: .milliseconds(20))
    }
    try await Task.sleep(for: .milliseconds(200))
    client.disconnect()
    let elapsed = ContinuousClock.now - start
    let sentSeconds = Double(sent.components.seconds) + Double(sent.components.attoseconds) / 1e18
    print(#"{"published":\#(total),"acknowledged":\#(client.messagesPublished),"send_seconds":\#(sentSeconds),"seconds":\#(Double(elapsed.components.seconds))}"#)

case "bare":
    // The MQTT client alone (handler counts and returns): the floor under the worker's cost.
    guard arguments.count == 5, let expected = UInt64(arguments[3]), let qos = MQTTClient.QoS(rawValue: Int32(arguments[4]) ?? -1)
    else { fail("usage: IngestBench bare URL COUNT QOS") }
    let client: MQTTClient
    do {
        client = try MQTTClient(configuration: .init(url: url, clientID: "ingest-bench-bare", cleanSession: false), logger: logger) { _ in }
        try await client.connect()
        try await client.subscribe("boilers/+/telemetry", qos: qos)
    } catch {
        fail("connect: \(error)")
    }
    print("ready")
    fflush(nil)
    while client.messagesReceived == 0 { try await Task.sleep(for: .milliseconds(1)) }
    let cpuStart = cpuSeconds()
    var last = client.messagesReceived
    var lastChange = ContinuousClock.now
    while client.messagesReceived < expected {
        if client.messagesReceived != last {
            last = client.messagesReceived
            lastChange = .now
        } else if ContinuousClock.now - lastChange > .seconds(20) {
            break
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    let cpu = cpuSeconds() - cpuStart
    client.disconnect()
    print(#"{"messages":\#(client.messagesReceived),"readings":0,"duplicates":0,"rejected":0,"seconds":0,"cpu_seconds":\#(cpu),"peak_rss_mb":\#(peakRSSMegabytes()),"stream_messages":0}"#)

case "checkpoints":
    // Side by side, alternating: a SELECT 1 round trip, and one flush of 1,000 boilers' checkpoints.
    guard arguments.count == 4, let rounds = Int(arguments[3]) else { fail("usage: IngestBench checkpoints DATABASE_URL ROUNDS") }
    let configuration: PostgresClient.Configuration
    do { configuration = try SnapshotStore.configuration(url: url) } catch { fail("\(error)") }
    let client = PostgresClient(configuration: configuration)
    let clientTask = Task { await client.run() }
    let store = SnapshotStore(client: client, logger: logger)
    do {
        try await store.migrate()
        let hour: Int64 = 1_764_165_600_000
        var windows = HourlyWindows()
        let decoder = TelemetryDecoder(configuration: .init(maximumFutureSkewMs: .max / 4))
        for index in 0..<1_000 {
            let id = BoilerID("b\(100_000 + index)") ?? { fail("id") }()
            let json = #"{"v":1,"boot":"a","seq":0,"ts_ms":\#(hour),"period_ms":10,"water_c":[60,61,62,63,64,65,66,67,68,69]}"#
            _ = windows.add(try decoder.decode(Array(json.utf8), boilerID: id, nowMs: 0), wallMs: hour)
        }
        let open = windows.openWindows
        func time(_ body: () async throws -> Void) async rethrows -> Double {
            let start = ContinuousClock.now
            try await body()
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
        }
        var selects: [Double] = []
        var flushes: [Double] = []
        var sets: [Double] = []
        for round in 0..<(rounds + 5) {
            let select = try await time { try await client.query("SELECT 1", logger: logger) }
            let flush = try await time { try await store.saveCheckpoints(open) }
            let set = try await time { try await store.saveCheckpointSet(owner: "bench", open) }
            if round >= 5 {  // the first rounds warm the pool and the plan cache
                selects.append(select)
                flushes.append(flush)
                sets.append(set)
            }
        }
        func percentile(_ values: [Double], _ p: Double) -> Double {
            let sorted = values.sorted()
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        }
        let selectP50 = percentile(selects, 0.5)
        let flushP50 = percentile(flushes, 0.5)
        let setP50 = percentile(sets, 0.5)
        var encodes: [Double] = []
        for _ in 0..<50 { encodes.append(await time { blackHoleBytes(CheckpointSet.encode(open)) }) }
        print(#"{"checkpoint_set_encode_p50_us":\#(Int(percentile(encodes, 0.5)))}"#)
        print(
            #"{"checkpoint_set_p50_us":\#(Int(setP50)),"checkpoint_set_p90_us":\#(Int(percentile(sets, 0.9))),"set_ratio_p50":\#((setP50 / selectP50 * 100).rounded() / 100),"set_bytes":\#(CheckpointSet.encode(open).count)}"#
        )
        print(
            #"{"rounds":\#(rounds),"select1_p50_us":\#(Int(selectP50)),"select1_p90_us":\#(Int(percentile(selects, 0.9))),"flush1000_p50_us":\#(Int(flushP50)),"flush1000_p90_us":\#(Int(percentile(flushes, 0.9))),"ratio_p50":\#((flushP50 / selectP50 * 100).rounded() / 100)}"#
        )
    } catch {
        fail("checkpoints: \(String(reflecting: error))")
    }
    clientTask.cancel()

case "pipeline":
    // The ingestion path without MQTT: IngestPipeline.handle on MESSAGES payloads as `publish` makes them (round
    // robin over BOILERS, BATCH readings each), for instruction counts (valgrind) of decode, dedup, store and
    // windows together. Prints what was ingested. With `dry`, only the payloads are made.
    // With `dry`, the payloads are made and not handled: what the harness itself costs.
    guard arguments.count == 5 || (arguments.count == 6 && arguments[5] == "dry"),
        let boilers = Int(arguments[2]), let batch = Int(arguments[3]), let messages = Int(arguments[4]),
        boilers > 0, batch > 0, messages >= 0
    else { fail("usage: IngestBench pipeline BOILERS BATCH MESSAGES [dry]") }
    let dry = arguments.count == 6
    let stream = makeTelemetryStream()
    let pipeline = IngestPipeline(
        decoder: TelemetryDecoder(configuration: .init(maximumFutureSkewMs: .max / 4)), stream: stream, logger: logger, storage: storage
    )
    var traffic = Traffic(boilers: boilers, batch: batch)
    for index in 0..<messages {
        var (topic, payload) = traffic.message(index)
        if dry { continue }
        topic.withUTF8 { t in payload.withUTF8 { pipeline.handle(topic: t, payload: $0) } }
    }
    let statistics = pipeline.statistics
    print(#"{"messages":\#(statistics.messages),"readings":\#(statistics.readingsIngested),"duplicates":\#(statistics.duplicates),"rejected":\#(statistics.rejections.total)}"#)

case "control":
    // One controller tick for N boilers (stream reads, decisions, decision stream), CPU per tick; no I/O.
    guard arguments.count == 4, let boilers = Int(arguments[2]), let ticks = Int(arguments[3]) else {
        fail("usage: IngestBench control BOILERS TICKS")
    }
    let hour: Int64 = 1_764_165_600_000
    do {
        let telemetry = try RingStream(configuration: .init(name: "T", subjects: ["boiler.*.telemetry"], maxMessages: 1 << 20, maxBytes: 128 << 20, maxSubjects: boilers * 2))
        let decisions = try RingStream(configuration: .init(name: "D", subjects: ["boiler.*.setpoint"], maxMessages: 1 << 20, maxBytes: 256 << 20, maxSubjects: boilers * 2))
        let pipeline = IngestPipeline(decoder: TelemetryDecoder(configuration: .init(maximumFutureSkewMs: .max / 4)), stream: telemetry, logger: logger)
        for index in 0..<boilers {
            var topic = "boilers/b\(100_000 + index)/telemetry"
            for (seq, ts, value) in [(0, hour, 60.0), (1, hour + hourMs + 6_000, 61.0 + Double(index % 5))] {
                var payload = #"{"v":1,"boot":"a","seq":\#(seq),"ts_ms":\#(ts),"water_c":\#(value)}"#
                topic.withUTF8 { t in payload.withUTF8 { pipeline.handle(topic: t, payload: $0) } }
            }
        }
        _ = pipeline.withWindows { windows in
            windows.advance(wallMs: hour)
            return windows.drainClosed()
        }
        let controller = ControlService(
            policy: DefaultControlPolicy(trust: TrustPolicy(maximumReadingAgeMs: .max / 4, minimumCoverage: 0)),
            telemetry: telemetry, decisions: decisions, pipeline: pipeline, store: nil, mqtt: nil, logger: logger
        )
        var samples: [Double] = []
        var commands = 0
        for tick in 0..<(ticks + 2) {
            let start = cpuSeconds()
            let made = try await controller.tick(at: hour + hourMs + 60_000 * Int64(tick + 1))
            let cpu = cpuSeconds() - start
            commands += made.filter(\.sendCommand).count
            if tick >= 2 { samples.append(cpu * 1_000) }  // the first ticks warm caches and dictionaries
        }
        samples.sort()
        print(#"{"boilers":\#(boilers),"ticks":\#(ticks),"cpu_ms_p50":\#(samples[samples.count / 2]),"cpu_ms_max":\#(samples.last ?? 0),"commands":\#(commands)}"#)
    } catch {
        fail("control: \(error)")
    }

default:
    fail("unknown command \(arguments[1])")
}
