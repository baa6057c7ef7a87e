import Foundation
import Logging
import MQTT
import Synchronization
import Telemetry

/// Runs a `Fleet` against a real broker: paces event time against the wall clock (`accel`), publishes what the
/// fleet makes with flow control (at most `maximumInFlight` messages not yet acknowledged), applies the setpoint
/// commands it receives (closed loop), carries out the disconnect fault, reports progress, and at the end writes
/// the ground truth.
final class SimulatorRunner {
    struct Options: Sendable {
        var mqtt: MQTTClient.Configuration
        var qos: MQTTClient.QoS = .atLeastOnce
        /// Event time per wall time; nil: as fast as the broker takes it.
        var accel: Double? = 1
        /// `{topicPrefix}/{id}/telemetry`, `.../status`, `.../setpoint`.
        var topicPrefix = "boilers"
        var maximumInFlight = 1_000
        var truthPath: String? = nil
        /// Progress every this many seconds; on a terminal the line is rewritten in place.
        var progressInterval: Double = 5
        var terminal = false
        /// One MQTT connection per boiler, each with its last will on `{topicPrefix}/{id}/status` (and `{id}` in
        /// the user name replaced by the boiler's id); else one connection for the fleet.
        var connectionPerBoiler = false
    }

    /// A command as received, applied at the next message period.
    struct Received: Sendable {
        var boiler: Int
        var command: SetpointCommand
    }

    let options: Options
    var fleet: Fleet
    let logger: Logger
    private let telemetryTopics: [String]
    private let indexByID: [String: Int]
    /// Commands handed over by the MQTT network thread.
    final class Inbox: Sendable {
        let received = Mutex<[Received]>([])
        let refused = Atomic<UInt64>(0)
    }

    private let inbox = Inbox()
    /// One connection for the fleet, or one per boiler; and the messages each has sent.
    private var clients: [MQTTClient] = []
    private var sent: [UInt64] = []
    private var offlineBuffer: [(Int, [UInt8])] = []
    private var offline = false
    /// Decision ids applied, per boiler index, in order (each once).
    private(set) var applied: [[String]]
    private var appliedIDs: Set<String> = []

    init(fleet: Fleet, options: Options, logger: Logger) {
        self.fleet = fleet
        self.options = options
        self.logger = logger
        self.telemetryTopics = fleet.ids.map { "\(options.topicPrefix)/\($0)/telemetry" }
        self.indexByID = Dictionary(uniqueKeysWithValues: fleet.ids.enumerated().map { ($1, $0) })
        self.applied = Array(repeating: [], count: fleet.ids.count)
    }

    /// Runs the whole simulation; returns the summary.
    func run() async throws -> Summary {
        let wallStart = ContinuousClock.now
        try await self.connect()
        try self.publishStatus("online")
        var events: [Fleet.Event] = []
        var lastProgress = ContinuousClock.now
        let tickMs = Double(self.fleet.configuration.periodMs) * Double(self.fleet.configuration.batch)
        while true {
            self.applyCommands()
            events.removeAll(keepingCapacity: true)
            guard self.fleet.next(into: &events) else { break }
            for event in events {
                switch event {
                case .publish(let boiler, let payload): try await self.send(boiler: boiler, payload: payload)
                case .disconnect: await self.goOffline()
                case .reconnect: try await self.comeBack()
                }
            }
            if let accel = self.options.accel {
                // Where the wall clock should be after this period; sleep off any lead over 2 ms.
                let due = wallStart + .milliseconds(Int64(Double(self.fleet.ticks) * tickMs / accel))
                let lead = due - ContinuousClock.now
                if lead > .milliseconds(2) { try await Task.sleep(for: lead) }
            }
            if (ContinuousClock.now - lastProgress) >= .seconds(self.options.progressInterval) {
                lastProgress = ContinuousClock.now
                self.report(elapsed: ContinuousClock.now - wallStart, final: false)
            }
        }
        if self.offline { try await self.comeBack() }
        try self.publishStatus("offline")
        try await self.drainAll(timeout: .seconds(60))
        // Commands that arrive while draining still count as applied.
        self.applyCommands()
        self.disconnect()
        let elapsed = ContinuousClock.now - wallStart
        self.report(elapsed: elapsed, final: true)
        let summary = self.summary(elapsed: elapsed)
        if let path = self.options.truthPath { try self.writeTruth(to: path, summary: summary) }
        return summary
    }

    // MARK: MQTT

    /// The connection that carries `boiler`'s messages.
    private func connection(for boiler: Int) -> Int { self.options.connectionPerBoiler ? boiler : 0 }

    /// A client for the whole fleet (`id` nil), or for one boiler, with its own last will on its status topic.
    private func makeClient(id: String?) throws -> MQTTClient {
        var configuration = self.options.mqtt
        let prefix = self.options.topicPrefix
        if let id {
            configuration.clientID += "-\(id)"
            configuration.username = configuration.username?.replacingOccurrences(of: "{id}", with: id)
            configuration.will = MQTTClient.Will(topic: "\(prefix)/\(id)/status", payload: Array("offline".utf8))
        }
        return try MQTTClient(configuration: configuration, logger: self.logger) { [inbox, indexByID = self.indexByID] message in
            // On the network thread: `{prefix}/{id}/setpoint` for one of our boilers.
            let topic = message.topicString
            let parts = topic.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count >= 3, parts[parts.count - 1] == "setpoint",
                parts[..<(parts.count - 2)].joined(separator: "/") == prefix,
                let boiler = indexByID[String(parts[parts.count - 2])]
            else { return }
            do {
                let command = try SetpointCommand(decoding: Array(message.payload))
                inbox.received.withLock { $0.append(Received(boiler: boiler, command: command)) }
            } catch {
                inbox.refused.wrappingAdd(1, ordering: .relaxed)
            }
        }
    }

    private func connect() async throws {
        let prefix = self.options.topicPrefix
        if self.options.connectionPerBoiler {
            self.clients = try self.fleet.ids.map { try self.makeClient(id: $0) }
            for (index, client) in self.clients.enumerated() {
                try await client.connect()
                try await client.subscribe("\(prefix)/\(self.fleet.ids[index])/setpoint", qos: .atLeastOnce)
            }
        } else {
            let client = try self.makeClient(id: nil)
            try await client.connect()
            try await client.subscribe("\(prefix)/+/setpoint", qos: .atLeastOnce)
            self.clients = [client]
        }
        self.sent = Array(repeating: 0, count: self.clients.count)
    }

    private func disconnect() {
        for client in self.clients { client.disconnect() }
        self.clients = []
    }

    private func publish(boiler: Int, _ topic: String, _ payload: [UInt8], retain: Bool = false) throws {
        let connection = self.connection(for: boiler)
        guard connection < self.clients.count else { throw SimulatorError("not connected") }
        try self.clients[connection].publishNow(topic, payload: payload, qos: self.options.qos, retain: retain)
        self.sent[connection] += 1
    }

    /// Publishes every boiler's retained status.
    private func publishStatus(_ status: String) throws {
        for (boiler, id) in self.fleet.ids.enumerated() {
            try self.publish(boiler: boiler, "\(self.options.topicPrefix)/\(id)/status", Array(status.utf8), retain: true)
        }
    }

    /// Sends one telemetry message, waiting while too many are unacknowledged; kept for later while offline.
    private func send(boiler: Int, payload: [UInt8]) async throws {
        if self.offline {
            self.offlineBuffer.append((boiler, payload))
            return
        }
        let connection = self.connection(for: boiler)
        try await self.drain(connection, to: self.options.maximumInFlight, timeout: .seconds(120))
        try self.publish(boiler: boiler, self.telemetryTopics[boiler], payload)
    }

    /// Waits until at most `limit` messages of `connection` are unacknowledged.
    private func drain(_ connection: Int, to limit: Int, timeout: Duration) async throws {
        guard connection < self.clients.count else { return }
        let client = self.clients[connection]
        let deadline = ContinuousClock.now + timeout
        while self.sent[connection] &- client.messagesPublished > UInt64(limit) {
            guard ContinuousClock.now < deadline else {
                throw SimulatorError(
                    "the broker acknowledged nothing for \(timeout); \(self.sent[connection] &- client.messagesPublished) messages unacknowledged"
                )
            }
            try await Task.sleep(for: .microseconds(200))
        }
    }

    /// Waits until every connection's messages are acknowledged.
    private func drainAll(timeout: Duration) async throws {
        for connection in self.clients.indices { try await self.drain(connection, to: 0, timeout: timeout) }
    }

    /// The disconnect fault: let what is in flight be acknowledged (so nothing sent is lost), then close.
    private func goOffline() async {
        try? await self.drainAll(timeout: .seconds(30))
        self.disconnect()
        self.offline = true
        self.logger.info("disconnected (fault)", metadata: ["sim.event_time": "\(iso8601(self.fleet.eventTimeMs))"])
    }

    private func comeBack() async throws {
        self.offline = false
        try await self.connect()
        let buffered = self.offlineBuffer
        self.offlineBuffer.removeAll()
        self.logger.info("reconnected (fault)", metadata: ["sim.buffered": "\(buffered.count)"])
        for (boiler, payload) in buffered { try await self.send(boiler: boiler, payload: payload) }
    }

    // MARK: Closed loop

    private func applyCommands() {
        let received = self.inbox.received.withLock { inbox -> [Received] in
            defer { inbox.removeAll() }
            return inbox
        }
        let startMs = self.fleet.configuration.startMs
        for entry in received where entry.command.issuedAtMs >= startMs {
            // A retained command is delivered again on every reconnection: apply each decision once.
            guard self.appliedIDs.insert(entry.command.decisionID).inserted else { continue }
            self.fleet.command(boiler: entry.boiler, setpointC: entry.command.roomSetpointC, validUntilMs: entry.command.validUntilMs)
            self.applied[entry.boiler].append(entry.command.decisionID)
        }
    }

    // MARK: Reporting

    struct Summary: Sendable {
        var boilers: Int
        var messagesSent: UInt64
        var readingsGenerated: UInt64
        var readingsDelivered: UInt64
        var eventTimeReachedMs: Int64
        var elapsedSeconds: Double
        var faults: FaultCounts
        var setpointsApplied: Int
        var setpointsRefused: UInt64
        var applied: [String: [String]]
    }

    private func summary(elapsed: Duration) -> Summary {
        var applied: [String: [String]] = [:]
        for (index, ids) in self.applied.enumerated() where !ids.isEmpty { applied[self.fleet.ids[index]] = ids }
        return Summary(
            boilers: self.fleet.ids.count,
            messagesSent: self.fleet.messagesSent,
            readingsGenerated: self.fleet.readingsGenerated,
            readingsDelivered: self.fleet.readingsDelivered,
            eventTimeReachedMs: self.fleet.eventTimeMs,
            elapsedSeconds: elapsed.seconds,
            faults: self.fleet.faults,
            setpointsApplied: self.appliedIDs.count,
            setpointsRefused: self.inbox.refused.load(ordering: .relaxed),
            applied: applied
        )
    }

    private func report(elapsed: Duration, final: Bool) {
        let seconds = Swift.max(elapsed.seconds, 0.001)
        let faults = self.fleet.faults
        let injected = faults.duplicateMessages + faults.reorderedMessages + faults.droppedMessages + faults.malformedMessages + faults.disconnects
        let line =
            "\(final ? "done: " : "")\(Int(Double(self.fleet.readingsDelivered) / seconds)) readings/s, \(self.fleet.ids.count) boilers, "
            + "event time \(iso8601(self.fleet.eventTimeMs)), \(self.fleet.readingsDelivered) readings in \(self.fleet.messagesSent) messages, "
            + "\(injected) faults injected, \(self.appliedIDs.count) setpoints applied"
        if self.options.terminal && !final {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        } else {
            FileHandle.standardError.write(Data(((self.options.terminal ? "\r\u{1B}[K" : "") + line + "\n").utf8))
        }
    }

    private func writeTruth(to path: String, summary: Summary) throws {
        let configuration = self.fleet.configuration
        var output: [UInt8] = []
        for line in self.fleet.truth.lines(ids: self.fleet.ids, fromMs: configuration.startMs, toMs: configuration.startMs + configuration.durationMs) {
            output += line.encoded()
            output.append(UInt8(ascii: "\n"))
        }
        output += summary.encoded()
        output.append(UInt8(ascii: "\n"))
        guard FileManager.default.createFile(atPath: path, contents: Data(output)) else {
            throw SimulatorError("cannot write the truth file '\(path)'")
        }
    }
}

extension Duration {
    var seconds: Double { Double(self.components.seconds) + Double(self.components.attoseconds) * 1e-18 }
}

extension SimulatorRunner.Summary {
    /// The truth file's last line: `{"summary":true,...}` with the fault counts.
    func encoded() -> [UInt8] {
        var faults = JSONWriter()
        faults.field("duplicate_messages", self.faults.duplicateMessages)
        faults.field("duplicate_readings", self.faults.duplicateReadings)
        faults.field("reordered_messages", self.faults.reorderedMessages)
        faults.field("dropped_messages", self.faults.droppedMessages)
        faults.field("dropped_readings", self.faults.droppedReadings)
        faults.field("malformed_messages", self.faults.malformedMessages)
        var byReason = JSONWriter()
        for (reason, count) in self.faults.malformedByReason.sorted(by: { $0.key < $1.key }) { byReason.field(reason, count) }
        faults.rawField("malformed_by_reason", byReason.finish())
        faults.field("skewed_boilers", self.faults.skewedBoilers)
        faults.field("disconnects", self.faults.disconnects)
        faults.field("lost_offline_readings", self.faults.lostOfflineReadings)
        var applied = JSONWriter()
        for (boiler, ids) in self.applied.sorted(by: { $0.key < $1.key }) {
            var list: [UInt8] = [UInt8(ascii: "[")]
            for (index, id) in ids.enumerated() {
                if index > 0 { list.append(UInt8(ascii: ",")) }
                list += Array("\"\(id)\"".utf8)  // decision ids are [A-Za-z0-9_.:-]: nothing to escape
            }
            list.append(UInt8(ascii: "]"))
            applied.rawField(boiler, list)
        }
        var writer = JSONWriter()
        writer.rawField("summary", Array("true".utf8))
        writer.field("boilers", Int64(self.boilers))
        writer.field("messages_sent", self.messagesSent)
        writer.field("readings_generated", self.readingsGenerated)
        writer.field("readings_delivered", self.readingsDelivered)
        writer.field("event_time_reached", iso8601(self.eventTimeReachedMs))
        writer.field("elapsed_s", self.elapsedSeconds)
        writer.rawField("faults", faults.finish())
        writer.field("setpoints_applied", Int64(self.setpointsApplied))
        writer.field("setpoints_refused", self.setpointsRefused)
        writer.rawField("applied_decisions", applied.finish())
        return writer.finish()
    }
}
