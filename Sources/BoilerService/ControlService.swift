import HeatingControl
import Logging
import MQTT
import RingStream
import ServiceLifecycle
import SnapshotStore
import Synchronization
import Telemetry

/// The heating controller as a `Service`: every control tick of event time (default 60 s), for every boiler
/// seen, it reads the boiler's last reading from the telemetry stream (last by subject, O(1)) and its last
/// closed snapshot from the windows' memory, lets the `ControlPolicy` decide, and then:
/// 1. publishes the decision on `boiler.{id}.setpoint` in the decision stream, expecting the subject's last
///    sequence to be this controller's previous decision, so a second controller racing on the same boiler is
///    refused with 10071 and sends nothing;
/// 2. when trusted and a command is due, publishes the command on `{topicPrefix}/{id}/setpoint` (`boilers/{id}/setpoint`) (QoS 1, retained);
/// 3. records every decision in `controller_decisions` (one statement per tick; a re-run tick records nothing
///    twice). Once an hour of wall time, rows older than the retention (in event time, before the tick) are
///    pruned.
public final class ControlService: Service, Sendable {
    public struct Configuration: Sendable {
        /// Event time between ticks. Default 60 s.
        public var tickIntervalMs: Int64
        /// How long a command stays valid. Default 5 minutes.
        public var commandValidityMs: Int64
        /// How long decisions are kept. Default 30 days.
        public var retentionMs: Int64
        /// How often the service looks whether a tick is due (wall time). Default 1 s.
        public var pollInterval: Duration
        /// Commands go to `{topicPrefix}/{id}/setpoint`. Default "boilers".
        public var topicPrefix: String

        public init(
            tickIntervalMs: Int64 = 60_000,
            commandValidityMs: Int64 = 300_000,
            retentionMs: Int64 = 30 * 24 * 3_600_000,
            pollInterval: Duration = .seconds(1),
            topicPrefix: String = "boilers"
        ) {
            self.topicPrefix = topicPrefix
            self.tickIntervalMs = tickIntervalMs
            self.commandValidityMs = commandValidityMs
            self.retentionMs = retentionMs
            self.pollInterval = pollInterval
        }
    }

    /// What this controller remembers per boiler.
    struct BoilerState {
        var setpointC: Double?
        var lastCommandAtMs: Int64?
        /// The decision stream's sequence of this controller's previous decision for the boiler (0: none).
        var lastDecisionSequence: UInt64 = 0
        /// `boiler.{id}.setpoint`, made once.
        var decisionSubject: String? = nil
    }

    struct State {
        var boilers: [BoilerID: BoilerState] = [:]
        var lastTickMs: Int64? = nil
        var lastPruneMs: Int64 = .min
        var decisions: [String: UInt64] = [:]
        var refused: UInt64 = 0
        var commands: UInt64 = 0
        /// Each boiler's latest decision (for the API).
        var lastDecisions: [BoilerID: Decision] = [:]
    }

    public let configuration: Configuration
    let policy: any ControlPolicy
    let telemetry: RingStream
    let decisions: RingStream
    let pipeline: IngestPipeline
    let store: SnapshotStore?
    let mqtt: MQTTClient?
    let clock: WallClock
    let logger: Logger
    let state = Mutex(State())

    public init(
        configuration: Configuration = .init(),
        policy: any ControlPolicy = DefaultControlPolicy(),
        telemetry: RingStream,
        decisions: RingStream,
        pipeline: IngestPipeline,
        store: SnapshotStore?,
        mqtt: MQTTClient?,
        clock: WallClock = .system,
        logger: Logger
    ) {
        self.configuration = configuration
        self.policy = policy
        self.telemetry = telemetry
        self.decisions = decisions
        self.pipeline = pipeline
        self.store = store
        self.mqtt = mqtt
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let due = self.dueTick() { _ = try? await self.tick(at: due) }
            await sleepUnlessShuttingDown(self.configuration.pollInterval)
        }
    }

    /// The fleet's event time: its watermark plus the allowed lateness (the lower median of the boilers' newest).
    func fleetEventTime() -> Int64? {
        self.pipeline.withWindows { windows in
            windows.fleetWatermarkMs.map { $0 + windows.configuration.allowedLatenessMs }
        }
    }

    /// The tick due now, if event time has crossed a tick boundary since the last tick.
    func dueTick() -> Int64? {
        guard let now = self.fleetEventTime() else { return nil }
        let boundary = now - ((now % self.configuration.tickIntervalMs) + self.configuration.tickIntervalMs) % self.configuration.tickIntervalMs
        return self.state.withLock { state in
            guard (state.lastTickMs ?? .min) < boundary else { return nil }
            return boundary
        }
    }

    /// Decides for every boiler seen, at event time `tickAtMs`; returns the decisions.
    @discardableResult
    public func tick(at tickAtMs: Int64) async throws -> [Decision] {
        let fleetTime = self.fleetEventTime() ?? tickAtMs
        let snapshots = self.pipeline.withWindows { $0.latestSnapshots }
        let memory = self.state.withLock { $0.boilers }
        // Every boiler seen: ingested (with its subject, made once by the pipeline), with a snapshot, or decided
        // for before.
        var boilers = self.pipeline.telemetrySubjects
        for boilerID in snapshots.keys where boilers[boilerID] == nil {
            boilers[boilerID] = "boiler.\(boilerID.rawValue).telemetry"
        }
        for boilerID in memory.keys where boilers[boilerID] == nil {
            boilers[boilerID] = "boiler.\(boilerID.rawValue).telemetry"
        }
        // Decide for every boiler first (reads only), then publish all decisions under one stream lock.
        var made: [Decision] = []
        var previousStates: [BoilerState] = []
        made.reserveCapacity(boilers.count)
        previousStates.reserveCapacity(boilers.count)
        for (boilerID, subject) in boilers {
            let reading = try? self.telemetry.withLastMessage(subject: subject) { message in
                TelemetryReading(lastOf: message.payload)
            }
            let previous = memory[boilerID] ?? BoilerState()
            let input = ControlInput(
                boilerID: boilerID,
                tickAtMs: tickAtMs,
                fleetEventTimeMs: fleetTime,
                readingTimestampMs: reading?.timestampMs,
                readingWaterC: reading?.waterC,
                snapshot: snapshots[boilerID],
                previousSetpointC: previous.setpointC,
                lastCommandAtMs: previous.lastCommandAtMs
            )
            made.append(self.policy.decide(input))
            previousStates.append(previous)
        }
        // The decision stream: this controller's previous decision must still be each boiler's last one.
        let now = StreamInstant(millisecondsSinceEpoch: self.clock.nowMs())
        var outcomes = [Result<PublishAck, StreamError>](repeating: .failure(.init(code: .noMessageFound, description: "")), count: made.count)
        var subjects = [String](repeating: "", count: made.count)
        _ = try? self.decisions.withPublisher { (publisher: inout RingStream.Publisher) throws(StreamError) -> Void in
            for index in made.indices {
                let decision = made[index]
                let subject = previousStates[index].decisionSubject ?? "boiler.\(decision.boilerID.rawValue).setpoint"
                subjects[index] = subject
                var id = MessageID()
                id.append(decision.decisionID)
                let payload = self.encode(decision)
                let options = PublishOptions(messageID: id, expectedLastSubjectSequence: previousStates[index].lastDecisionSequence)
                outcomes[index] = payload.withUnsafeBytes { bytes in
                    Result { () throws(StreamError) in
                        try publisher.publish(subject: subject, payload: bytes, options: options, now: now)
                    }
                }
            }
        }
        var commands: [(topic: String, payload: [UInt8])] = []
        var updated = memory
        for index in made.indices {
            let boilerID = made[index].boilerID
            switch outcomes[index] {
            case .success(let ack):
                var next = previousStates[index]
                next.lastDecisionSequence = ack.sequence
                next.decisionSubject = subjects[index]
                let decision = made[index]
                if decision.trusted, decision.sendCommand, !ack.duplicate, let setpoint = decision.roomSetpointC {
                    next.setpointC = setpoint
                    next.lastCommandAtMs = tickAtMs
                    let command = SetpointCommand(
                        decisionID: decision.decisionID,
                        roomSetpointC: setpoint,
                        issuedAtMs: tickAtMs,
                        validUntilMs: tickAtMs + self.configuration.commandValidityMs,
                        reason: "\(decision.reason): water \(decision.currentC ?? 0) °C vs hourly mean \(decision.hourlyMeanC ?? 0) °C"
                    )
                    commands.append(("\(self.configuration.topicPrefix)/\(boilerID.rawValue)/setpoint", command.encoded()))
                } else {
                    made[index].sendCommand = false
                }
                updated[boilerID] = next
            case .failure(let error):
                // Another controller decided for this boiler since our last decision: send nothing.
                made[index].sendCommand = false
                self.state.withLock { $0.refused &+= 1 }
                self.logger.warning(
                    "decision refused by the decision stream; another controller is active for this boiler",
                    metadata: ["boiler.id": "\(boilerID)", "stream.error": "\(error.code.rawValue) \(error.description)"]
                )
            }
        }
        for command in commands {
            do {
                try self.mqtt?.publishNow(command.topic, payload: command.payload, qos: .atLeastOnce, retain: true)
            } catch {
                self.logger.error("setpoint command not sent", metadata: ["mqtt.topic": "\(command.topic)", "error": "\(error)"])
            }
        }
        self.state.withLock { state in
            state.boilers = updated
            state.lastTickMs = max(state.lastTickMs ?? .min, tickAtMs)
            state.commands &+= UInt64(commands.count)
            for decision in made {
                state.decisions[decision.trusted ? "trusted" : decision.reason, default: 0] &+= 1
                state.lastDecisions[decision.boilerID] = decision
            }
        }
        if let store = self.store {
            let rows = made.map { decision in
                DecisionRow(
                    decisionID: decision.decisionID, boilerID: decision.boilerID.rawValue, tickAtMs: decision.tickAtMs,
                    trusted: decision.trusted, reason: decision.reason, currentC: decision.currentC,
                    hourlyMeanC: decision.hourlyMeanC, deltaC: decision.deltaC, roomSetpointC: decision.roomSetpointC,
                    published: decision.sendCommand
                )
            }
            try await store.recordDecisions(rows)
            let now = self.clock.nowMs()
            let prune = self.state.withLock { state -> Bool in
                guard state.lastPruneMs == .min || now - state.lastPruneMs >= 3_600_000 else { return false }
                state.lastPruneMs = now
                return true
            }
            // Retention counts in event time, like the ticks: replayed history is not pruned as it is written.
            if prune { try await store.pruneDecisions(olderThan: self.configuration.retentionMs, nowMs: tickAtMs) }
        }
        return made
    }

    func encode(_ decision: Decision) -> [UInt8] {
        var writer = JSONWriter()
        writer.field("v", Int64(1))
        writer.field("decision_id", decision.decisionID)
        writer.field("tick_at_ms", decision.tickAtMs)
        writer.field("trusted", decision.trusted ? "true" : "false")
        writer.field("reason", decision.reason)
        writer.field("current_c", decision.currentC)
        writer.field("hourly_mean_c", decision.hourlyMeanC)
        writer.field("delta_c", decision.deltaC)
        writer.field("room_setpoint_c", decision.roomSetpointC)
        writer.field("send_command", decision.sendCommand ? "true" : "false")
        return writer.finish()
    }

    /// Decisions by outcome (`trusted`, or the untrusted reason), commands sent, and decisions refused by the stream.
    public var statistics: (decisions: [String: UInt64], commands: UInt64, refused: UInt64) {
        self.state.withLock { ($0.decisions, $0.commands, $0.refused) }
    }

    /// Each boiler's latest decision.
    public var lastDecisions: [BoilerID: Decision] { self.state.withLock { $0.lastDecisions } }
}
