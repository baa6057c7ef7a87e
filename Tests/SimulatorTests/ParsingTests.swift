import ArgumentParser
@testable import boiler_sim
import Testing

/// The command line's durations and fault specs: what parses, and the one-line errors for what does not.
struct ParsingTests {
    @Test func durations() {
        #expect(SimDuration.parseMs("500ms") == 500)
        #expect(SimDuration.parseMs("30s") == 30_000)
        #expect(SimDuration.parseMs("15m") == 900_000)
        #expect(SimDuration.parseMs("2h") == 7_200_000)
        #expect(SimDuration.parseMs("1h30m") == 5_400_000)
        #expect(SimDuration.parseMs("1d") == 86_400_000)
        #expect(SimDuration.parseSignedMs("-1500ms") == -1_500)
        #expect(SimDuration.parseSignedMs("+2s") == 2_000)
        for bad in ["", "10", "h", "2x", "1h30", "99999999999999999999s", "-2s"] {
            #expect(SimDuration.parseMs(bad) == nil, "\(bad)")
        }
    }

    @Test func faultSpecs() throws {
        let plan = try FaultPlan(parsing: "duplicate=0.01,reorder=0.001,drop=0.001,malformed=0.0005,skew=+2s@b0003,disconnect=30s@15m")
        #expect(plan.duplicate == 0.01 && plan.reorder == 0.001 && plan.drop == 0.001 && plan.malformed == 0.0005)
        #expect(plan.skewMs == ["b0003": 2_000])
        #expect(plan.disconnects == [FaultPlan.Disconnect(atMs: 900_000, lengthMs: 30_000)])
        #expect(try FaultPlan(parsing: "") == FaultPlan())
        let cases: [(String, String)] = [
            ("duplicate=2", "fault 'duplicate' needs a rate between 0 and 1, got '2'"),
            ("drop", "fault 'drop' is not name=value"),
            ("burst=1", "unknown fault 'burst' (known: duplicate, reorder, drop, malformed, skew, disconnect)"),
            ("skew=2s", "fault 'skew' needs ±DURATION@BOILER_ID (e.g. +2s@b0003), got '2s'"),
            ("disconnect=0s@1m", "fault 'disconnect' needs DURATION@OFFSET (e.g. 30s@15m), got '0s@1m'"),
        ]
        for (spec, message) in cases {
            #expect(throws: SimulatorError.self) { try FaultPlan(parsing: spec) }
            do {
                _ = try FaultPlan(parsing: spec)
            } catch {
                #expect(error.description == message)
            }
        }
    }

    @Test func theCommandLineIsValidatedWithOneLineNamingTheOption() throws {
        #expect(throws: (any Error).self) { try BoilerSim.parse(["--batch", "1001"]) }
        #expect(throws: (any Error).self) { try BoilerSim.parse(["--accel", "fast"]) }
        #expect(throws: (any Error).self) { try BoilerSim.parse(["--duration", "10"]) }
        #expect(throws: (any Error).self) { try BoilerSim.parse(["--start", "yesterday"]) }
        #expect(throws: (any Error).self) { try BoilerSim.parse(["--id-prefix", "b/"]) }
        let command = try BoilerSim.parse(["--accel", "max", "--start", "2026-11-26T10:00:00Z", "--duration", "2h"])
        #expect(try command.accelValue() == nil)
        #expect(try command.startMs(nowMs: 0, durationMs: 0) == 1_795_687_200_000)
        let defaults = try BoilerSim.parse([])
        // Default start: the hour that begins `duration` (1 h) before now.
        #expect(try defaults.startMs(nowMs: 1_795_690_000_000, durationMs: 3_600_000) == 1_795_683_600_000)
        #expect(defaults.boilers == 10 && defaults.periodMs == 10 && defaults.batch == 1 && defaults.qos == 1)
    }
}
