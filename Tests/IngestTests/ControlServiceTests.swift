import BoilerService
import Foundation
import HeatingControl
import Logging
import MQTT
import PostgresNIO
import RingStream
import SnapshotStore
import Synchronization
import Telemetry
import TestSupport
import Testing

/// The controller with a real mosquitto and a real PostgreSQL: commands seen by `mosquitto_sub`, decision rows
/// in `controller_decisions`, and a second controller refused by the decision stream.
@Suite(.enabled(if: TestServices.runMQTT || TestServices.runPostgres))
struct ControlServiceTests {
    /// 2025-11-26T14:00:00Z.
    static let hour0: Int64 = 1_764_165_600_000

    struct Fixture {
        let prefix = "c\(UInt32.random(in: 0...UInt32.max))"
        let telemetry: RingStream
        let decisions: RingStream
        let pipeline: IngestPipeline
        let store: SnapshotStore
        let client: PostgresClient
        let clientTask: Task<Void, Never>
        let mqtt: MQTTClient
        let logger: Logger

        init() async throws {
            var logger = Logger(label: "control-test")
            logger.logLevel = .error
            self.logger = logger
            let configuration = try await TestServices.makeDatabase(logger: logger)
            let client = PostgresClient(configuration: configuration)
            self.client = client
            self.clientTask = Task { await client.run() }
            self.store = SnapshotStore(client: client, logger: logger)
            try await self.store.migrate()
            self.telemetry = try RingStream(configuration: .init(name: "TELEMETRY", subjects: ["boiler.*.telemetry"], maxMessages: 100_000, maxBytes: 16 << 20))
            self.decisions = try RingStream(configuration: .init(name: "DECISIONS", subjects: ["boiler.*.setpoint"], maxMessages: 10_000, maxBytes: 4 << 20))
            self.pipeline = IngestPipeline(
                decoder: TelemetryDecoder(configuration: .init(maximumFutureSkewMs: .max / 4)),
                stream: self.telemetry,
                logger: logger
            )
            self.mqtt = try MQTTClient(configuration: .init(url: try TestServices.requireMQTT(), clientID: "control-\(self.prefix)"), logger: logger) { _ in }
            try await self.mqtt.connect()
        }

        func boiler(_ name: String) -> String { "\(self.prefix)\(name)" }

        func feed(_ boiler: String, seq: Int, firstMs: Int64, values: [Double]) {
            feedBatch(self.pipeline, boiler: boiler, seq: seq, firstMs: firstMs, values: values)
        }

        func controller(mqtt: MQTTClient?) -> ControlService {
            ControlService(
                policy: DefaultControlPolicy(trust: TrustPolicy(minimumCoverage: 0)),
                telemetry: self.telemetry,
                decisions: self.decisions,
                pipeline: self.pipeline,
                store: self.store,
                mqtt: mqtt,
                logger: self.logger
            )
        }

        func stop() {
            self.mqtt.disconnect()
            self.clientTask.cancel()
        }
    }

    /// The retained command on `boilers/{id}/setpoint`, read with the real mosquitto_sub ("" if none in 3 s).
    func retainedCommand(_ boiler: String) async throws -> String {
        let url = try TestServices.requireMQTT()
        let subscriber = try ChildProcess(["mosquitto_sub", "-L", "\(url)/boilers/\(boiler)/setpoint", "-C", "1"])
        return await subscriber.wait(timeout: .seconds(3)).output
    }

    @Test func aBoilerRunningHotterThanItsHourGetsALowerSetpointOnce() async throws {
        let fixture = try await Fixture()
        defer { fixture.stop() }
        let hot = fixture.boiler("hot")
        let cold = fixture.boiler("nosnap")
        // hour0 at 60 °C closes; then the boiler runs at 62 °C (delta +2 °C: target 20 - 0.2 * 2 = 19.6).
        fixture.feed(hot, seq: 0, firstMs: Self.hour0, values: [60, 60, 60])
        fixture.feed(hot, seq: 3, firstMs: Self.hour0 + hourMs + 59_000, values: [62, 62])
        fixture.feed(cold, seq: 0, firstMs: Self.hour0 + hourMs + 59_500, values: [61])
        _ = fixture.pipeline.withWindows { $0.drainClosed() }  // makes hour0 the boiler's latest snapshot
        let controller = fixture.controller(mqtt: fixture.mqtt)
        let tick = Self.hour0 + hourMs + 60_000
        let decisions = try await controller.tick(at: tick)
        let firstRows = try await fixture.store.decisions(boilerID: hot, fromMs: tick, toMs: tick + 1)
        #expect(firstRows.count == 1, "after the first tick: \(firstRows)")

        let hotDecision = try #require(decisions.first { $0.boilerID.rawValue == hot })
        #expect(hotDecision.trusted && hotDecision.reason == "lower" && hotDecision.roomSetpointC == 19.6)
        let coldDecision = try #require(decisions.first { $0.boilerID.rawValue == cold })
        #expect(!coldDecision.trusted && coldDecision.reason == "no-snapshot" && !coldDecision.sendCommand)

        let command = try await self.retainedCommand(hot)
        let decoded = try SetpointCommand(decoding: Array(command.trimmingCharacters(in: .whitespacesAndNewlines).utf8))
        #expect(decoded.roomSetpointC == 19.6)
        #expect(decoded.decisionID == hotDecision.decisionID)
        #expect(decoded.validUntilMs == tick + 300_000)
        #expect(try await self.retainedCommand(cold).isEmpty)

        // Re-running the tick records nothing twice and sends nothing new.
        let again = try await controller.tick(at: tick)
        #expect(again.allSatisfy { !$0.sendCommand })
        let rows = try await fixture.store.decisions(boilerID: hot, fromMs: tick, toMs: tick + 1)
        #expect(rows.count == 1)
        #expect(rows.first?.trusted == true, "\(rows)")
        #expect(rows.first?.published == true, "\(rows)")
        #expect(rows.first?.roomSetpointC == 19.6, "\(rows)")
        let coldRows = try await fixture.store.decisions(boilerID: cold, fromMs: tick, toMs: tick + 1)
        #expect(coldRows.map(\.reason) == ["no-snapshot"])
        #expect(coldRows.first?.published == false)
    }

    @Test func aSecondControllerRacingOnTheSameBoilerIsRefusedAndSendsNothing() async throws {
        let fixture = try await Fixture()
        defer { fixture.stop() }
        let boiler = fixture.boiler("race")
        fixture.feed(boiler, seq: 0, firstMs: Self.hour0, values: [60, 60])
        fixture.feed(boiler, seq: 2, firstMs: Self.hour0 + hourMs + 59_000, values: [63])
        _ = fixture.pipeline.withWindows { $0.drainClosed() }
        let first = fixture.controller(mqtt: nil)
        let second = fixture.controller(mqtt: fixture.mqtt)
        let tick = Self.hour0 + hourMs + 60_000
        let firstDecisions = try await first.tick(at: tick)
        #expect(firstDecisions.first?.sendCommand == true)
        let secondDecisions = try await second.tick(at: tick + 60_000)
        #expect(secondDecisions.allSatisfy { !$0.sendCommand })
        #expect(second.statistics.refused == 1)
        #expect(try await self.retainedCommand(boiler).isEmpty)
    }
}
