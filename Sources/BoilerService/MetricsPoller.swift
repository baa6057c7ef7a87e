import Metrics
import MQTT
import RingStream
import ServiceLifecycle
import Synchronization
import Telemetry

/// Reports the pipeline's state as swift-metrics instruments, once per `interval`: counters grow by what the
/// statistics added since the last poll, gauges are set. Polling keeps metrics off the per-reading hot path.
public final class MetricsPoller: Service, Sendable {
    struct Instruments: Sendable {
        let messages: Counter
        let ingested: Counter
        let duplicates: Counter
        let late: Counter
        let rejected: [RejectionReason: Counter]
        let commands: Counter
        let streamMessages: Gauge
        let streamBytes: Gauge
        let streamFirst: Gauge
        let streamLast: Gauge
        let windowsOpen: Gauge
        let boilers: Gauge
        let mqttConnected: Gauge
        let lag: Gauge
        let dedupIDs: Gauge
        let dedupForgottenEarly: Counter
        let ledgerForgottenEarly: Counter
    }

    struct Last {
        var messages: UInt64 = 0
        var ingested: UInt64 = 0
        var duplicates: UInt64 = 0
        var late: UInt64 = 0
        var rejected: [RejectionReason: UInt64] = [:]
        var decisions: [String: UInt64] = [:]
        var commands: UInt64 = 0
        var dedupForgottenEarly: UInt64 = 0
        var ledgerForgottenEarly: UInt64 = 0
    }

    let pipeline: IngestPipeline
    let telemetry: RingStream
    let controller: ControlService?
    let mqtt: MQTTClient?
    let clock: WallClock
    let interval: Duration
    let instruments: Instruments
    let last = Mutex(Last())
    let factory: (any MetricsFactory)?
    /// `boiler_decisions_total{trusted,reason}`, made as outcomes appear.
    let decisionCounters = Mutex<[String: Counter]>([:])

    func decisionCounter(_ outcome: String) -> Counter {
        self.decisionCounters.withLock { counters in
            if let existing = counters[outcome] { return existing }
            let trusted = outcome == "trusted"
            let dimensions = [("trusted", trusted ? "true" : "false"), ("reason", trusted ? "any" : outcome)]
            let made = makeCounter("boiler_decisions_total", dimensions: dimensions, factory: self.factory)
            counters[outcome] = made
            return made
        }
    }

    public init(
        pipeline: IngestPipeline,
        telemetry: RingStream,
        controller: ControlService?,
        mqtt: MQTTClient?,
        clock: WallClock = .system,
        interval: Duration = .seconds(1),
        factory: (any MetricsFactory)? = nil
    ) {
        self.pipeline = pipeline
        self.telemetry = telemetry
        self.controller = controller
        self.mqtt = mqtt
        self.clock = clock
        self.interval = interval
        func counter(_ label: String, _ dimensions: [(String, String)] = []) -> Counter {
            makeCounter(label, dimensions: dimensions, factory: factory)
        }
        func gauge(_ label: String) -> Gauge { makeGauge(label, factory: factory) }
        self.factory = factory
        self.instruments = Instruments(
            messages: counter("boiler_mqtt_messages_total"),
            ingested: counter("boiler_readings_ingested_total"),
            duplicates: counter("boiler_readings_duplicate_total"),
            late: counter("boiler_readings_late_total"),
            rejected: Dictionary(uniqueKeysWithValues: RejectionReason.allCases.map { ($0, counter("boiler_payloads_rejected_total", [("reason", $0.rawValue)])) }),
            commands: counter("boiler_setpoint_commands_total"),
            streamMessages: gauge("boiler_stream_messages"),
            streamBytes: gauge("boiler_stream_bytes"),
            streamFirst: gauge("boiler_stream_first_seq"),
            streamLast: gauge("boiler_stream_last_seq"),
            windowsOpen: gauge("boiler_windows_open"),
            boilers: gauge("boiler_boilers_known"),
            mqttConnected: gauge("boiler_mqtt_connected"),
            lag: gauge("boiler_ingest_lag_seconds"),
            dedupIDs: gauge("boiler_stream_duplicate_ids"),
            dedupForgottenEarly: counter("boiler_stream_duplicate_ids_forgotten_early_total"),
            ledgerForgottenEarly: counter("boiler_ledger_readings_forgotten_early_total")
        )
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            self.poll()
            await sleepUnlessShuttingDown(self.interval)
        }
    }

    /// One round.
    public func poll() {
        let statistics = self.pipeline.statistics
        let control = self.controller?.statistics
        let instruments = self.instruments
        let decisionCounters = (control?.decisions ?? [:]).map { (self.decisionCounter($0.key), $0.key, $0.value) }
        let info = self.telemetry.info()
        self.last.withLock { last in
            func grow(_ counter: Counter, _ previous: inout UInt64, _ now: UInt64) {
                if now > previous { counter.increment(by: Int64(clamping: now - previous)) }
                previous = now
            }
            grow(instruments.messages, &last.messages, statistics.messages)
            grow(instruments.ingested, &last.ingested, statistics.readingsIngested)
            grow(instruments.duplicates, &last.duplicates, statistics.duplicates)
            grow(instruments.late, &last.late, statistics.lateReadings)
            for (reason, counter) in instruments.rejected {
                grow(counter, &last.rejected[reason, default: 0], statistics.rejections[reason])
            }
            for (counter, outcome, count) in decisionCounters {
                grow(counter, &last.decisions[outcome, default: 0], count)
            }
            if let control { grow(instruments.commands, &last.commands, control.commands) }
            // IDs dropped before their duplicate window ended: the effective window is shorter than configured.
            grow(instruments.dedupForgottenEarly, &last.dedupForgottenEarly, info.duplicateIDsForgottenEarly)
            // With a stream message per MQTT message: readings whose re-send the ledger would no longer catch.
            grow(instruments.ledgerForgottenEarly, &last.ledgerForgottenEarly, statistics.readingsForgottenEarly)
        }
        instruments.dedupIDs.record(info.duplicateIDs)
        instruments.streamMessages.record(info.messages)
        instruments.streamBytes.record(info.bytes)
        instruments.streamFirst.record(Int64(clamping: info.firstSequence))
        instruments.streamLast.record(Int64(clamping: info.lastSequence))
        let (open, boilers, eventTime) = self.pipeline.withWindows { windows in
            (windows.openWindowCount, windows.boilerCount, windows.fleetWatermarkMs.map { $0 + windows.configuration.allowedLatenessMs })
        }
        instruments.windowsOpen.record(open)
        instruments.boilers.record(boilers)
        instruments.mqttConnected.record(self.mqtt?.isConnected == true ? 1 : 0)
        if let eventTime { instruments.lag.record(Double(self.clock.nowMs() - eventTime) / 1_000) }
    }
}
