import Logging
import RingStream
import Synchronization
import Telemetry

/// What happens to one MQTT telemetry message: topic → boiler id, decode and validate, publish into the stream on
/// `boiler.{id}.telemetry`, and fold the new readings into the hourly windows. With `storage` `.perMessage` (the
/// default) the message's new readings are one stream message (a run record, with the ID `{id}:{boot}:{seq}` of
/// its first reading), and a `ReadingLedger` drops re-sent readings whatever batch they come in; with
/// `.perReading`, each reading is a stream message with its own ID, and the stream's dedup window drops re-sent ones.
///
/// Called on the MQTT network thread. One lock for the pipeline's state and one for the stream per message;
/// no allocation per message in steady state (the subject string of each boiler is made once).
public final class IngestPipeline: Sendable {
    /// Where rejected payloads are reported.
    public typealias DeadLetterSink = @Sendable (_ topic: String, _ payload: [UInt8]) -> Void

    /// Counts since start.
    public struct Statistics: Sendable, Hashable {
        /// MQTT messages handled.
        public var messages: UInt64 = 0
        /// Readings stored in the stream and folded into windows.
        public var readingsIngested: UInt64 = 0
        /// Readings the stream's dedup dropped as re-sent.
        public var duplicates: UInt64 = 0
        /// Readings for hours already closed (stored in the stream, counted late, not folded in).
        public var lateReadings: UInt64 = 0
        /// Messages rejected, by reason.
        public var rejections = RejectionCounts()
        /// Readings the stream refused (a limit under discard `new`, too many subjects), by stream error code.
        public var streamRefusals: [Int: UInt64] = [:]
        /// With storage `.perMessage`: readings the ledger forgot before their retention ended, because a boiler
        /// had too many runs (a re-send of those would be stored again).
        public var readingsForgottenEarly: UInt64 = 0
    }

    struct State {
        var payload = TelemetryPayload()
        var windows: HourlyWindows
        var subjects: [BoilerID: String] = [:]
        var handles: [BoilerID: RingStream.SubjectHandle] = [:]
        var duplicateFlags: [Bool] = []
        /// With `storage` `.perMessage`: which readings were stored.
        var ledger: ReadingLedger
        var statistics = Statistics()
        /// Per-boiler rate limits, when configured.
        var limiter: RateLimiter?
        /// Per reason: when it was last logged, and how many since.
        var rejectionLog: [RejectionReason: (lastMs: Int64, suppressed: UInt64)] = [:]
    }

    /// What one stream message holds.
    public enum Storage: String, Sendable, CaseIterable {
        /// One reading (a version-1 record): the stream's sequence counts readings, and its dedup sees every
        /// reading's ID.
        case perReading = "reading"
        /// The new readings of one MQTT message (a version-2 run record; a single reading keeps its version-1
        /// record), with the ID of its first reading; a `ReadingLedger` tells re-sent readings from new ones,
        /// in whatever batches they come back. The default: in batches, a third to a quarter of the ingestion
        /// work per reading, and one dedup ID per message.
        case perMessage = "message"
    }

    public let layout: TopicLayout
    public let decoder: TelemetryDecoder
    public let storage: Storage
    public let stream: RingStream
    let clock: WallClock
    let logger: Logger
    let rejectionLogIntervalMs: Int64
    let deadLetter: DeadLetterSink?
    let state: Mutex<State>

    public init(
        layout: TopicLayout = .default,
        decoder: TelemetryDecoder = TelemetryDecoder(),
        windows: HourlyWindows.Configuration = .init(),
        stream: RingStream,
        clock: WallClock = .system,
        logger: Logger,
        rejectionLogIntervalMs: Int64 = 10_000,
        deadLetter: DeadLetterSink? = nil,
        rateLimit: RateLimit? = nil,
        storage: Storage = .perMessage,
        ledger: ReadingLedger.Configuration = .init()
    ) {
        self.layout = layout
        self.decoder = decoder
        self.storage = storage
        self.stream = stream
        self.clock = clock
        self.logger = logger
        self.rejectionLogIntervalMs = rejectionLogIntervalMs
        self.deadLetter = deadLetter
        self.state = Mutex(
            State(
                windows: HourlyWindows(configuration: windows),
                ledger: ReadingLedger(configuration: ledger),
                limiter: rateLimit.map(RateLimiter.init)
            )
        )
    }

    /// Handles one message. Never throws and never stops: a bad message is counted, logged (rate-limited) and,
    /// if configured, sent to the dead-letter topic.
    public func handle(topic: UnsafeBufferPointer<UInt8>, payload: UnsafeBufferPointer<UInt8>) {
        let nowNs = self.clock.nowNs()
        let nowMs = WallClock.milliseconds(nowNs)
        let rejected: (BoilerID?, TelemetryRejection)? = self.state.withLock { state in
            state.statistics.messages &+= 1
            // The topic is parsed once; a decode failure keeps the id for the dead-letter topic.
            var boilerID: BoilerID? = nil
            do throws(TelemetryRejection) {
                let id = try self.layout.boilerID(in: topic)
                boilerID = id
                try self.decoder.decode(payload, boilerID: id, into: &state.payload, nowMs: nowMs)
                try state.limiter?.admit(id, readings: state.payload.count, nowMs: nowMs)
                self.ingest(&state, boilerID: id, nowNs: nowNs, nowMs: nowMs)
                return nil
            } catch {
                state.statistics.rejections.record(error.reason)
                return (boilerID, error)
            }
        }
        if let (boilerID, rejection) = rejected {
            self.report(rejection, topic: topic, payload: payload, boilerID: boilerID, nowMs: nowMs)
        }
    }

    private func ingest(_ state: inout State, boilerID: BoilerID, nowNs: Int64, nowMs: Int64) {
        // Once the stream has the subject, its handle: a publish by handle does not hash the subject again, and
        // the name is then not needed.
        let handle = state.handles[boilerID]
        let subject =
            handle != nil
            ? ""
            : state.subjects[boilerID] ?? {
                let subject = "boiler.\(boilerID.rawValue).telemetry"
                state.subjects[boilerID] = subject
                return subject
            }()
        // One copy of the payload per message (retaining its arrays once): reading it through `state` inside
        // the closures below copied it for every reading.
        let payload = state.payload
        let count = payload.count
        if state.duplicateFlags.count < count { state.duplicateFlags = Array(repeating: false, count: count) }
        var duplicates = 0
        var refusal: StreamError? = nil
        // Stored at the nanosecond, so publish-to-stream latency can be read back (deploy/bench/e2e.sh).
        let now = StreamInstant(nanosecondsSinceEpoch: nowNs)
        // The readings' IDs `{boiler}:{boot}:{seq}` as a series: the prefix is made and hashed once per message,
        // and the stream writes each reading's ID itself. Bound once here: binding it per reading copied it each
        // time, about 40 instructions per reading.
        let idPrefix = Self.messageIDPrefix(boilerID, payload.boot)
        if let series = self.stream.messageIDSeries(prefix: idPrefix) {
            switch self.storage {
            case .perReading:
                self.publishReadings(&state, payload, handle, subject, series, now, &duplicates, &refusal)
            case .perMessage:
                self.publishRuns(&state, boilerID, payload, handle, subject, series, now, nowMs, &duplicates, &refusal)
            }
        } else {
            // Cannot happen: the prefix is at most 98 bytes (a boiler id of 64, a boot id of 32, two colons) and a
            // series takes up to 108. Were it refused, the readings would be refused with it, not stored without IDs.
            let error = StreamError(
                code: .messageIDTooLong,
                description: "message ID prefix \(idPrefix) leaves no room for a sequence number"
            )
            for index in 0..<count { state.duplicateFlags[index] = true }
            state.statistics.streamRefusals[error.code.rawValue, default: 0] &+= UInt64(count)
            refusal = error
        }
        // After the lock is released (resolving takes it): nil until the subject's first message is stored.
        if handle == nil, let resolved = self.stream.handle(subject: subject) {
            state.handles[boilerID] = resolved
        }
        if duplicates > 0 {
            state.statistics.duplicates &+= UInt64(duplicates)
        }
        // Fold in each run of readings the stream stored.
        var start = 0
        while start < count {
            while start < count && state.duplicateFlags[start] {
                let stamp = payload.firstTimestampMs + Int64(start) * (payload.periodMs ?? 0)
                state.windows.recordDuplicates(boilerID: boilerID, timestampMs: stamp)
                start += 1
            }
            var end = start
            while end < count && !state.duplicateFlags[end] { end += 1 }
            if end > start {
                let outcome = state.windows.add(payload, readings: start..<end, wallMs: nowMs)
                state.statistics.readingsIngested &+= UInt64(outcome.accepted + outcome.late)
                state.statistics.lateReadings &+= UInt64(outcome.late)
            }
            start = end
        }
        if let refusal {
            self.logger.error(
                "stream refused readings",
                metadata: ["boiler.id": "\(boilerID)", "stream.error": "\(refusal.code.rawValue) \(refusal.description)"]
            )
        }
    }

    /// One stream message per reading, all under one lock; sets each reading's flag (true: not stored).
    private func publishReadings(
        _ state: inout State,
        _ payload: TelemetryPayload,
        _ handle: RingStream.SubjectHandle?,
        _ subject: String,
        _ series: RingStream.MessageIDSeries,
        _ now: StreamInstant,
        _ duplicates: inout Int,
        _ refusal: inout StreamError?
    ) {
        withUnsafeTemporaryAllocation(byteCount: TelemetryReading.maximumRecordSize, alignment: 8) { record in
            // What the readings' records share (flags, boot id) is written once.
            let template = payload.prepareRecords(into: record)
            // The closure throws nothing: each refusal is handled per reading inside.
            _ = try? self.stream.withPublisher { (publisher: inout RingStream.Publisher) throws(StreamError) in
                // Not announced: the IDs end in the growing `seq`, so the stream knows a new one is new without
                // reading its dedup index, and writes the index once the line has arrived (see `announce`).
                for index in 0..<payload.count {
                    let seq = payload.firstSeq + UInt64(index)
                    let length = payload.writeRecord(index, template: template, into: record)
                    do throws(StreamError) {
                        let bytes = UnsafeRawBufferPointer(rebasing: record[0..<length])
                        let ack = try publisher.publish(handle, subject, bytes, series, number: seq, now: now)
                        state.duplicateFlags[index] = ack.duplicate
                        if ack.duplicate { duplicates += 1 }
                    } catch {
                        // Not stored: treated like a duplicate for the windows, counted as a refusal.
                        state.duplicateFlags[index] = true
                        state.statistics.streamRefusals[error.code.rawValue, default: 0] &+= 1
                        refusal = error
                    }
                }
            }
        }
    }

    /// One stream message per run of new readings (the whole payload when nothing of it was stored before), its
    /// ID that of the run's first reading; the ledger tells which readings were stored before. Sets each
    /// reading's flag (true: not stored).
    private func publishRuns(
        _ state: inout State,
        _ boilerID: BoilerID,
        _ payload: TelemetryPayload,
        _ handle: RingStream.SubjectHandle?,
        _ subject: String,
        _ series: RingStream.MessageIDSeries,
        _ now: StreamInstant,
        _ nowMs: Int64,
        _ duplicates: inout Int,
        _ refusal: inout StreamError?
    ) {
        let count = payload.count
        for index in 0..<count { state.duplicateFlags[index] = false }
        duplicates += state.ledger.markStored(
            boilerID: boilerID,
            boot: payload.boot,
            firstSeq: payload.firstSeq,
            count: count,
            nowMs: nowMs,
            in: &state.duplicateFlags
        )
        // A single reading keeps its reading record, so readers see what they would without runs.
        let size = payload.periodMs == nil ? TelemetryReading.maximumRecordSize : payload.runRecordSize(count: count)
        withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { record in
            _ = try? self.stream.withPublisher { (publisher: inout RingStream.Publisher) throws(StreamError) in
                var start = 0
                while start < count {
                    if state.duplicateFlags[start] {
                        start += 1
                        continue
                    }
                    var end = start + 1
                    while end < count && !state.duplicateFlags[end] { end += 1 }
                    let length =
                        payload.periodMs == nil
                        ? payload.writeRecord(start, template: payload.prepareRecords(into: record), into: record)
                        : payload.writeRunRecord(start..<end, into: record)
                    let first = payload.firstSeq + UInt64(start)
                    do throws(StreamError) {
                        let bytes = UnsafeRawBufferPointer(rebasing: record[0..<length])
                        let ack = try publisher.publish(handle, subject, bytes, series, number: first, now: now)
                        if ack.duplicate {
                            for index in start..<end { state.duplicateFlags[index] = true }
                            duplicates += end - start
                        } else {
                            state.ledger.record(boilerID: boilerID, boot: payload.boot, firstSeq: first, count: end - start, nowMs: nowMs)
                        }
                    } catch {
                        // Not stored: treated like duplicates for the windows, counted as refusals.
                        for index in start..<end { state.duplicateFlags[index] = true }
                        state.statistics.streamRefusals[error.code.rawValue, default: 0] &+= UInt64(end - start)
                        refusal = error
                    }
                    start = end
                }
            }
        }
    }

    /// The part of a reading's stream message ID `{boiler}:{boot}:{seq}` before its `seq`.
    private static func messageIDPrefix(_ boilerID: BoilerID, _ boot: BootID) -> MessageID {
        var id = MessageID()
        id.append(boilerID.rawValue)
        id.append(byte: UInt8(ascii: ":"))
        id.append(boot.rawValue)
        id.append(byte: UInt8(ascii: ":"))
        return id
    }

    private func report(
        _ rejection: TelemetryRejection,
        topic: UnsafeBufferPointer<UInt8>,
        payload: UnsafeBufferPointer<UInt8>,
        boilerID: BoilerID?,
        nowMs: Int64
    ) {
        let topicText = String(decoding: topic.prefix(256), as: UTF8.self)
        let suppressed = self.state.withLock { state -> UInt64? in
            let entry = state.rejectionLog[rejection.reason] ?? (lastMs: .min, suppressed: 0)
            if entry.lastMs == .min || nowMs &- entry.lastMs >= self.rejectionLogIntervalMs {
                state.rejectionLog[rejection.reason] = (nowMs, 0)
                return entry.suppressed
            }
            state.rejectionLog[rejection.reason] = (entry.lastMs, entry.suppressed + 1)
            return nil
        }
        if let suppressed {
            self.logger.warning(
                "rejected telemetry payload",
                metadata: [
                    "mqtt.topic": "\(topicText)",
                    "telemetry.reason": "\(rejection.reason.rawValue)",
                    "telemetry.detail": "\(rejection.detail)",
                    "telemetry.suppressed_since_last_log": "\(suppressed)",
                ]
            )
        }
        if let deadLetter = self.deadLetter, let boilerID {
            var writer = JSONWriter()
            writer.field("v", Int64(1))
            writer.field("topic", topicText)
            writer.field("reason", rejection.reason.rawValue)
            writer.field("detail", rejection.detail)
            writer.field("payload_bytes", Int64(payload.count))
            writer.field("received_at_ms", nowMs)
            deadLetter("boilers/\(boilerID.rawValue)/rejected", writer.finish())
        }
    }

    /// Every boiler ingested so far, with its telemetry subject (a copy-on-write snapshot of the pipeline's cache).
    public var telemetrySubjects: [BoilerID: String] { self.state.withLock { $0.subjects } }

    /// The counts so far.
    public var statistics: Statistics {
        self.state.withLock { state in
            var statistics = state.statistics
            statistics.readingsForgottenEarly = state.ledger.forgottenEarly
            return statistics
        }
    }

    /// Runs `body` on the hourly windows under the pipeline's lock (the snapshotter closes and drains them).
    public func withWindows<Result>(_ body: (inout HourlyWindows) -> Result) -> Result {
        self.state.withLock { body(&$0.windows) }
    }
}

extension RingStream.Publisher {
    /// A series publish by the subject's handle when there is one, else by its name.
    @inline(__always)
    fileprivate mutating func publish(
        _ handle: RingStream.SubjectHandle?,
        _ subject: String,
        _ payload: UnsafeRawBufferPointer,
        _ series: RingStream.MessageIDSeries,
        number: UInt64,
        now: StreamInstant
    ) throws(StreamError) -> PublishAck {
        if let handle {
            try self.publish(subject: handle, payload: payload, messageID: series, number: number, now: now)
        } else {
            try self.publish(subject: subject, payload: payload, messageID: series, number: number, now: now)
        }
    }
}
