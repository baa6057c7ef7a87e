import ArgumentParser
import Foundation
import Logging
import MQTT
import Telemetry

/// `boiler-sim`: a fleet of simulated boilers publishing telemetry over MQTT, closed-loop, with ground truth.
@main
struct BoilerSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boiler-sim",
        abstract: "Simulates a fleet of boilers publishing water temperatures over MQTT, closed-loop, with ground truth.",
        discussion: """
            Each boiler runs a thermal model (burner heats the water, the water heats the room, the room loses heat \
            to a slowly varying outdoor temperature), seeded and deterministic: the same seed gives the same readings. \
            Readings go to {topic-prefix}/{id}/telemetry; each boiler applies the room setpoints it receives on \
            {topic-prefix}/{id}/setpoint until they expire. The truth file holds, per boiler and complete hour, the \
            count, mean, min and max of the readings actually delivered, then a summary line with the faults injected.

            The MQTT password comes from the BOILER_SIM_MQTT_PASSWORD environment variable or --mqtt-password-file, \
            never from the command line.
            """
    )

    @Option(help: "The broker: mqtt://host:port or mqtts://host:port.")
    var mqttURL = "mqtt://127.0.0.1:1883"

    @Option(help: "MQTT user name (the password from BOILER_SIM_MQTT_PASSWORD or --mqtt-password-file).")
    var mqttUsername: String?

    @Option(help: "A file holding the MQTT password.")
    var mqttPasswordFile: String?

    @Option(help: "PEM file of the certificate authorities to trust, for mqtts://.")
    var mqttCAFile: String?

    @Option(help: "How many boilers (ids {id-prefix}0000, {id-prefix}0001, ...).")
    var boilers = 10

    @Option(help: "Milliseconds between two readings of one boiler.")
    var periodMs: Int64 = 10

    @Option(help: "Readings per MQTT message (1: single-reading payloads; up to 1000).")
    var batch = 1

    @Option(help: "Event time to simulate: e.g. 90s, 15m, 2h, 1h30m.")
    var duration = "1h"

    @Option(help: "Event time per wall time: a number (60: an hour per minute), or 'max' (as fast as the broker takes it).")
    var accel = "1"

    @Option(help: "Seed of every random choice: parameters, noise, boot ids, faults.")
    var seed: UInt64 = 1

    @Option(help: "Event time of the first reading: ISO 8601 UTC, or 'now' (real time, with --accel 1). Default: the hour that begins 'duration' before now.")
    var start: String?

    @Option(help: "Write the ground truth here (JSON lines).")
    var truth: String?

    @Option(help: "Faults, e.g. duplicate=0.01,reorder=0.001,drop=0.001,malformed=0.0005,skew=+2s@b0003,disconnect=30s@15m. Rates are per message; skew shifts one boiler's clock; disconnect=D@T drops the connection at event time T for D.")
    var faults = ""

    @Option(help: "QoS of telemetry: 1 (readings made while disconnected are sent later) or 0 (they are lost and counted).")
    var qos = 1

    @Option(help: "Boiler ids are this prefix and four digits.")
    var idPrefix = "b"

    @Option(help: "Topics are {topic-prefix}/{id}/telemetry, .../status, .../setpoint.")
    var topicPrefix = "boilers"

    @Option(help: "Messages sent but not yet acknowledged before the simulator waits.")
    var maxInFlight = 1_000

    @Flag(help: "One MQTT connection per boiler, each with its last will ('offline', retained) on its status topic and '{id}' in --mqtt-username replaced by its id. Default: one connection for the fleet, statuses published at start and end.")
    var connectionPerBoiler = false

    @Option(help: "Seconds between progress lines.")
    var progressInterval: Double = 5

    func validate() throws {
        guard (1...100_000).contains(self.boilers) else { throw ValidationError("--boilers must be 1...100000, got \(self.boilers)") }
        guard (1...3_600_000).contains(self.periodMs) else { throw ValidationError("--period-ms must be 1...3600000, got \(self.periodMs)") }
        guard (1...1_000).contains(self.batch) else { throw ValidationError("--batch must be 1...1000 (the payload schema's limit), got \(self.batch)") }
        guard self.qos == 0 || self.qos == 1 else { throw ValidationError("--qos must be 0 or 1, got \(self.qos)") }
        guard BoilerID(self.idPrefix + "0000") != nil, self.idPrefix.count <= 60 else {
            throw ValidationError("--id-prefix must be [A-Za-z0-9_-], at most 60 characters, got '\(self.idPrefix)'")
        }
        guard self.maxInFlight >= 1 else { throw ValidationError("--max-in-flight must be at least 1") }
        _ = try self.durationMs()
        _ = try self.accelValue()
        _ = try self.faultPlan()
        _ = try self.startMs(nowMs: 0, durationMs: 0)
    }

    func durationMs() throws -> Int64 {
        guard let ms = SimDuration.parseMs(self.duration), ms > 0 else {
            throw ValidationError("--duration must be a duration like 90s, 15m, 2h or 1h30m, got '\(self.duration)'")
        }
        return ms
    }

    func accelValue() throws -> Double? {
        if self.accel == "max" { return nil }
        guard let value = Double(self.accel), value.isFinite, value > 0 else {
            throw ValidationError("--accel must be a positive number or 'max', got '\(self.accel)'")
        }
        return value
    }

    func faultPlan() throws -> FaultPlan {
        do {
            return try FaultPlan(parsing: self.faults)
        } catch {
            throw ValidationError("--faults: \(error)")
        }
    }

    func startMs(nowMs: Int64, durationMs: Int64) throws -> Int64 {
        guard let start = self.start else { return hourStart(of: nowMs - durationMs) }
        if start == "now" { return nowMs - nowMs % 1_000 }
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: start) else {
            throw ValidationError("--start must be an ISO 8601 UTC time like 2026-11-26T14:00:00Z, got '\(start)'")
        }
        return Int64((date.timeIntervalSince1970 * 1_000).rounded())
    }

    func run() async throws {
        var logger = Logger(label: "boiler-sim")
        logger.logLevel = .warning
        let durationMs = try self.durationMs()
        let nowMs = Int64((Date().timeIntervalSince1970 * 1_000).rounded())
        let plan = try self.faultPlan()
        let configuration = Fleet.Configuration(
            boilers: self.boilers,
            periodMs: self.periodMs,
            batch: self.batch,
            startMs: try self.startMs(nowMs: nowMs, durationMs: durationMs),
            durationMs: durationMs,
            seed: self.seed,
            idPrefix: self.idPrefix,
            keepsWhileDisconnected: self.qos == 1,
            faults: plan
        )
        let fleet = Fleet(configuration: configuration)
        for id in plan.skewMs.keys where !fleet.ids.contains(id) {
            throw ValidationError("--faults: skew names '\(id)', which is not one of the simulated boilers (\(fleet.ids.first ?? "")...)")
        }
        let environment = ProcessInfo.processInfo.environment
        var password = environment["BOILER_SIM_MQTT_PASSWORD"]
        if let file = self.mqttPasswordFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("--mqtt-password-file: cannot read '\(file)'")
            }
            password = text.trimmingCharacters(in: .newlines)
        }
        let mqtt = MQTTClient.Configuration(
            url: self.mqttURL,
            clientID: "boiler-sim-\(self.idPrefix)-\(UInt32.random(in: 0...UInt32.max))",
            username: self.mqttUsername,
            password: password,
            tls: self.mqttCAFile.map { MQTTClient.TLS(caFile: $0) },
            maximumInflightMessages: UInt32(clamping: self.maxInFlight)
        )
        let options = SimulatorRunner.Options(
            mqtt: mqtt,
            qos: self.qos == 0 ? .atMostOnce : .atLeastOnce,
            accel: try self.accelValue(),
            topicPrefix: self.topicPrefix,
            maximumInFlight: self.maxInFlight,
            truthPath: self.truth,
            progressInterval: self.progressInterval,
            terminal: isatty(STDERR_FILENO) == 1,
            connectionPerBoiler: self.connectionPerBoiler
        )
        let runner = SimulatorRunner(fleet: fleet, options: options, logger: logger)
        do {
            _ = try await runner.run()
        } catch let error as MQTTError {
            throw ValidationError("MQTT (\(self.mqttURL)): \(error)")
        }
    }
}
