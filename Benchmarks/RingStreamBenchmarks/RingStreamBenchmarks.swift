import Benchmark
import RingStream

/// The stream's hot paths at the sizes the pipeline uses: a ring of 1M messages, 1,000 literal subjects,
/// a message ID and an expectation on every publish.
let benchmarks: @Sendable () -> Void = {
    let subjectCount = 1000
    let subjects = (0..<subjectCount).map { "boiler.b\(String(1000 + $0)).telemetry" }
    let payload = [UInt8](repeating: 0x2A, count: 32)
    /// Simulated time per publish: the 2-minute window then holds ~1M IDs, as many as the table keeps.
    let tick: Int64 = 120_000_000_000 / 1_000_000

    func makeStream() -> RingStream {
        let configuration = RingStream.Configuration(
            name: "TELEMETRY",
            subjects: ["boiler.*.telemetry"],
            maxMessages: 1 << 20,
            maxBytes: 64 << 20,
            maxDuplicateIDs: 1 << 21
        )
        guard let stream = try? RingStream(configuration: configuration) else {
            fatalError("benchmark stream configuration is invalid")
        }
        return stream
    }

    /// Publishes `count` messages round-robin over the subjects, with message ID and expected subject sequence.
    final class Publisher {
        let stream: RingStream
        let subjects: [String]
        var lastPerSubject: [UInt64]
        var counter: UInt64 = 0
        var now: Int64 = 1_764_165_600_000_000_000
        let tick: Int64

        init(stream: RingStream, subjects: [String], tick: Int64) {
            self.stream = stream
            self.subjects = subjects
            self.lastPerSubject = Array(repeating: 0, count: subjects.count)
            self.tick = tick
        }

        /// The subjects' handles, for publishing by handle; resolved once every subject has a message.
        lazy var handles: [RingStream.SubjectHandle] = self.subjects.compactMap { self.stream.handle(subject: $0) }

        /// Publishes `count` messages, one lock each, round-robin over the subjects: each with the message ID
        /// `{subject}:{counter}` and the subject's last sequence as the expectation, as the snapshotter and the
        /// controller publish (`withID: false` drops the ID).
        ///
        /// The loop keeps the publisher's state in locals and lends `lastPerSubject` once: this class's stored
        /// properties are checked for exclusive access at run time on each use (`swift_beginAccess`, about 50
        /// instructions, twice per publish when the loop called a method per message), a cost of this harness
        /// and not of the stream. Each message still gets its own ID, built as a caller builds it.
        func publish(count: Int, _ payload: UnsafeRawBufferPointer, withID: Bool = true, byHandle: Bool = false) {
            let stream = self.stream
            let subjects = self.subjects
            let handles = byHandle ? self.handles : []
            var counter = self.counter
            var now = self.now
            let tick = self.tick
            self.lastPerSubject.withUnsafeMutableBufferPointer { last in
                for _ in 0..<count {
                    let index = Int(counter % UInt64(subjects.count))
                    var options = PublishOptions(expectedLastSubjectSequence: last[index])
                    if withID { options.messageID = Publisher.messageID(index: index, counter: counter) }
                    counter += 1
                    now += tick
                    let time = StreamInstant(nanosecondsSinceEpoch: now)
                    do {
                        let ack =
                            byHandle
                            ? try stream.publish(subject: handles[index], payload: payload, options: options, now: time)
                            : try stream.publish(subject: subjects[index], payload: payload, options: options, now: time)
                        last[index] = ack.sequence
                    } catch {
                        fatalError("benchmark publish failed: \(error)")
                    }
                }
            }
            self.counter = counter
            self.now = now
        }

        /// `{subject}:{counter}`, as the snapshotter and controller publish.
        @inline(__always)
        static func messageID(index: Int, counter: UInt64) -> MessageID {
            var id = MessageID()
            id.append(decimal: UInt64(index))
            id.append(byte: UInt8(ascii: ":"))
            id.append(decimal: counter)
            return id
        }

        /// Publishes `batches` batches of ten under one lock each, as the ingestion path does for a batch payload
        /// of ten readings; with `announce`, their message IDs are announced first, as the ingestion path also
        /// does. Each batch's IDs and options are made before its lock is taken; state in locals as above.
        func publishBatchesOfTen(_ batches: Int, _ payload: UnsafeRawBufferPointer, announce: Bool) {
            let stream = self.stream
            let subjects = self.subjects
            var counter = self.counter
            var now = self.now
            let tick = self.tick
            var batch = [(index: Int, options: PublishOptions, now: StreamInstant)](
                repeating: (0, PublishOptions(), StreamInstant(nanosecondsSinceEpoch: 0)),
                count: 10
            )
            self.lastPerSubject.withUnsafeMutableBufferPointer { last in
                for _ in 0..<batches {
                    for slot in 0..<10 {
                        let index = Int(counter % UInt64(subjects.count))
                        let options = PublishOptions(
                            messageID: Publisher.messageID(index: index, counter: counter),
                            expectedLastSubjectSequence: last[index]
                        )
                        counter += 1
                        now += tick
                        batch[slot] = (index, options, StreamInstant(nanosecondsSinceEpoch: now))
                    }
                    do {
                        try stream.withPublisher { publisher throws(StreamError) in
                            if announce {
                                for slot in 0..<10 {
                                    if let id = batch[slot].options.messageID { publisher.announce(messageID: id) }
                                }
                            }
                            for slot in 0..<10 {
                                let index = batch[slot].index
                                let ack = try publisher.publish(
                                    subject: subjects[index], payload: payload, options: batch[slot].options, now: batch[slot].now
                                )
                                last[index] = ack.sequence
                            }
                        }
                    } catch {
                        fatalError("benchmark publish failed: \(error)")
                    }
                }
            }
            self.counter = counter
            self.now = now
        }
    }

    /// The same publishes as `publish` (IDs `{index}:{counter}`, the subject's last sequence expected), with
    /// each ID given as its subject's series and the counter: one lock each, or `perLock` in a `Publisher`
    /// (then by handle). State in locals, as in `Publisher.publish`.
    func publishSeries(
        _ publisher: Publisher,
        _ series: [RingStream.MessageIDSeries],
        count: Int,
        _ payload: UnsafeRawBufferPointer,
        byHandle: Bool,
        perLock: Int = 1
    ) {
        let stream = publisher.stream
        let subjects = publisher.subjects
        let handles = byHandle ? publisher.handles : []
        var counter = publisher.counter
        var now = publisher.now
        let tick = publisher.tick
        publisher.lastPerSubject.withUnsafeMutableBufferPointer { last in
            do {
                if perLock > 1 {
                    for _ in 0..<(count / perLock) {
                        try stream.withPublisher { publisher throws(StreamError) in
                            for _ in 0..<perLock {
                                let index = Int(counter % UInt64(subjects.count))
                                now += tick
                                let time = StreamInstant(nanosecondsSinceEpoch: now)
                                last[index] = try publisher.publish(
                                    subject: handles[index], payload: payload, messageID: series[index], number: counter,
                                    expectedLastSubjectSequence: last[index], now: time
                                ).sequence
                                counter += 1
                            }
                        }
                    }
                } else {
                    for _ in 0..<count {
                        let index = Int(counter % UInt64(subjects.count))
                        now += tick
                        let time = StreamInstant(nanosecondsSinceEpoch: now)
                        let ack =
                            byHandle
                            ? try stream.publish(
                                subject: handles[index], payload: payload, messageID: series[index], number: counter,
                                expectedLastSubjectSequence: last[index], now: time
                            )
                            : try stream.publish(
                                subject: subjects[index], payload: payload, messageID: series[index], number: counter,
                                expectedLastSubjectSequence: last[index], now: time
                            )
                        last[index] = ack.sequence
                        counter += 1
                    }
                }
            } catch {
                fatalError("benchmark publish failed: \(error)")
            }
        }
        publisher.counter = counter
        publisher.now = now
    }

    /// Throughput in millions per second, wall time, and mallocs (which must stay 0 on these paths).
    let standard = Benchmark.Configuration(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        scalingFactor: .mega,
        maxDuration: .seconds(20),
        maxIterations: 10
    )

    /// Measures `lookup` over the subjects in turn, summing what it returns so the work is not optimised away.
    func lookUpRoundRobin<Key>(_ benchmark: Benchmark, _ keys: [Key], _ lookup: (Key) -> UInt64) {
        precondition(keys.count == subjectCount, "a key per subject")
        var sum: UInt64 = 0
        var index = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            sum &+= lookup(keys[index])
            index += 1
            if index == subjectCount { index = 0 }
        }
        benchmark.stopMeasurement()
        blackHole(sum)
    }

    /// Fixtures are built on first use, outside the measured region, and only for the benchmarks that run.
    final class Fixtures {
        let make: () -> Publisher
        let payload: [UInt8]
        lazy var warmPublisher: Publisher = {
            // Steady state: the ring and the dedup table are full and evicting before measuring starts.
            let publisher = self.make()
            self.payload.withUnsafeBytes { bytes in
                publisher.publish(count: 3 << 20, bytes)
            }
            return publisher
        }()
        lazy var filledStream: RingStream = {
            let publisher = self.make()
            self.payload.withUnsafeBytes { bytes in
                publisher.publish(count: 1 << 20, bytes)
            }
            return publisher.stream
        }()
        /// Each subject's message ID series, `{index}:`, for the warm publisher's stream: numbered by its counter,
        /// their IDs are the very IDs that `Publisher.publish` spells out, so either publish finds the other's.
        lazy var series: [RingStream.MessageIDSeries] = {
            let stream = self.warmPublisher.stream
            return (0..<self.warmPublisher.subjects.count).compactMap { index in
                var prefix = MessageID()
                prefix.append(decimal: UInt64(index))
                prefix.append(byte: UInt8(ascii: ":"))
                return stream.messageIDSeries(prefix: prefix)
            }
        }()
        init(payload: [UInt8], make: @escaping () -> Publisher) {
            self.payload = payload
            self.make = make
        }
    }
    let fixtures = Fixtures(payload: payload) { Publisher(stream: makeStream(), subjects: subjects, tick: tick) }

    Benchmark(
        "RingStream publish, 32 B, 1000 subjects, message ID + expected subject sequence",
        configuration: .init(
            metrics: [.throughput, .wallClock, .mallocCountTotal, .peakMemoryResident],
            scalingFactor: .mega,
            maxDuration: .seconds(20),
            maxIterations: 10
        )
    ) { benchmark in
        let publisher = fixtures.warmPublisher
        payload.withUnsafeBytes { bytes in
            benchmark.startMeasurement()
            publisher.publish(count: benchmark.scaledIterations.count, bytes)
            benchmark.stopMeasurement()
        }
    }

    Benchmark(
        "RingStream publish by subject handle, 32 B, 1000 subjects, message ID + expected subject sequence",
        configuration: standard
    ) { benchmark in
        let publisher = fixtures.warmPublisher
        precondition(publisher.handles.count == subjectCount, "every subject has a handle after the warm-up")
        payload.withUnsafeBytes { bytes in
            benchmark.startMeasurement()
            publisher.publish(count: benchmark.scaledIterations.count, bytes, byHandle: true)
            benchmark.stopMeasurement()
        }
    }

    // The same publishes with each ID given as its subject's `MessageIDSeries` and a number.
    let seriesCases = [
        ("", false, 1), (" by subject handle", true, 1), (" in batches of 10 under one lock, by subject handle", true, 10),
    ]
    for (label, byHandle, perLock) in seriesCases {
        Benchmark(
            "RingStream publish with a message ID series\(label), 32 B, 1000 subjects, message ID + expected subject sequence",
            configuration: standard
        ) { benchmark in
            let publisher = fixtures.warmPublisher
            let series = fixtures.series
            precondition(series.count == subjectCount, "every subject has a series")
            precondition(!byHandle || publisher.handles.count == subjectCount, "every subject has a handle")
            payload.withUnsafeBytes { bytes in
                benchmark.startMeasurement()
                let count = benchmark.scaledIterations.count
                publishSeries(publisher, series, count: count, bytes, byHandle: byHandle, perLock: perLock)
                benchmark.stopMeasurement()
            }
        }
    }

    Benchmark(
        "RingStream publish without message ID (reference: the same publish less the dedup), 32 B, 1000 subjects, expected subject sequence",
        configuration: standard
    ) { benchmark in
        let publisher = fixtures.warmPublisher
        payload.withUnsafeBytes { bytes in
            benchmark.startMeasurement()
            publisher.publish(count: benchmark.scaledIterations.count, bytes, withID: false)
            benchmark.stopMeasurement()
        }
    }

    // The same batches with and without announcing their IDs first, side by side in one run.
    for announce in [false, true] {
        Benchmark(
            "RingStream publish in batches of 10 under one lock\(announce ? ", IDs announced first" : ""), 32 B, 1000 subjects, message ID + expected subject sequence",
            configuration: standard
        ) { benchmark in
            let publisher = fixtures.warmPublisher
            let batches = benchmark.scaledIterations.count / 10
            payload.withUnsafeBytes { bytes in
                benchmark.startMeasurement()
                publisher.publishBatchesOfTen(batches, bytes, announce: announce)
                benchmark.stopMeasurement()
            }
        }
    }

    Benchmark(
        "RingStream last message by literal subject",
        configuration: standard
    ) { benchmark in
        let stream = fixtures.filledStream
        lookUpRoundRobin(benchmark, subjects) { (try? stream.withLastMessage(subject: $0) { $0.sequence }) ?? 0 }
    }

    Benchmark(
        "RingStream last sequence by literal subject",
        configuration: standard
    ) { benchmark in
        let stream = fixtures.filledStream
        lookUpRoundRobin(benchmark, subjects) { stream.lastSequence(subject: $0) }
    }

    Benchmark(
        "RingStream last message by subject handle",
        configuration: standard
    ) { benchmark in
        let stream = fixtures.filledStream
        let handles = subjects.compactMap { stream.handle(subject: $0) }
        lookUpRoundRobin(benchmark, handles) { (try? stream.withLastMessage(subject: $0) { $0.sequence }) ?? 0 }
    }

    Benchmark(
        "RingStream last sequence by subject handle",
        configuration: standard
    ) { benchmark in
        let stream = fixtures.filledStream
        let handles = subjects.compactMap { stream.handle(subject: $0) }
        lookUpRoundRobin(benchmark, handles) { (try? stream.lastSequence(subject: $0)) ?? 0 }
    }

    /// Measures reading through a consumer with `filter` in batches of 256, starting over when it is done.
    func readInBatches(_ benchmark: Benchmark, _ stream: RingStream, filter: String) throws {
        let configuration = StreamConsumer.Configuration(filterSubjects: [filter])
        var consumer = try stream.makeConsumer(configuration)
        var bytes = 0
        var read = 0
        let wanted = benchmark.scaledIterations.count
        benchmark.startMeasurement()
        while read < wanted {
            let result = stream.fetch(&consumer, maxMessages: 256) { bytes &+= $0.payload.count }
            read += result.delivered
            if result.delivered == 0 { consumer = try stream.makeConsumer(configuration) }
        }
        benchmark.stopMeasurement()
        blackHole(bytes)
    }

    Benchmark(
        "RingStream consumer read of one literal subject of 1000, batches of 256",
        configuration: standard
    ) { benchmark in
        // What the API's `/v1/stream/messages?subject=` does: about 1,049 of the ring's 1M messages are this
        // subject's, and a fetch follows them instead of reading the whole ring.
        try readInBatches(benchmark, fixtures.filledStream, filter: subjects[500])
    }

    Benchmark(
        "RingStream consumer read, batches of 256, wildcard filter",
        configuration: standard
    ) { benchmark in
        try readInBatches(benchmark, fixtures.filledStream, filter: "boiler.*.telemetry")
    }
}
