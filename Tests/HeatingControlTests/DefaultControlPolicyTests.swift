import HeatingControl
import Telemetry
import Testing

/// 2025-11-26T15:00:00Z: ticks in this hour use the 14:00 snapshot.
let tick: Int64 = 1_764_169_200_000 + 60_000
let previousHour: Int64 = 1_764_165_600_000
let b1 = BoilerID("b0001")!

func snapshot(mean: Double = 60, hour: Int64 = previousHour, samples: UInt64 = 360_000) -> HourlySnapshot {
    HourlySnapshot(
        boilerID: b1, hourStartMs: hour, meanC: samples == 0 ? nil : mean, minC: mean - 2, maxC: mean + 2, stddevC: 1, samples: samples,
        expectedSamples: 360_000, duplicates: 0, lateSamples: 0, outOfOrder: 0, maxGapMs: 10,
        firstTimestampMs: hour, lastTimestampMs: hour + 3_599_990, closedAtMs: hour + 3_605_000
    )
}

func input(
    current: Double? = 60,
    readingAgeMs: Int64 = 100,
    snapshot: HourlySnapshot? = snapshot(),
    previous: Double? = nil,
    lastCommandAgoMs: Int64? = nil,
    boiler: BoilerID = b1
) -> ControlInput {
    ControlInput(
        boilerID: boiler,
        tickAtMs: tick,
        fleetEventTimeMs: tick,
        readingTimestampMs: current == nil ? nil : tick - readingAgeMs,
        readingWaterC: current,
        snapshot: snapshot,
        previousSetpointC: previous,
        lastCommandAtMs: lastCommandAgoMs.map { tick - $0 }
    )
}

@Suite struct ControlLawTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var input: ControlInput
        var reason: String
        var setpoint: Double
        var send: Bool
        var law = ControlLaw()
        var testDescription: String { self.name }
    }

    static let cases: [Case] = [
        Case(name: "inside the deadband: hold", input: input(current: 60.9), reason: "hold", setpoint: 20, send: false),
        Case(name: "exactly at the deadband: hold", input: input(current: 61), reason: "hold", setpoint: 20, send: false),
        Case(name: "hotter than the mean: lower", input: input(current: 62, previous: 20), reason: "lower", setpoint: 19.6, send: true),
        Case(name: "colder than the mean: raise", input: input(current: 58.5, previous: 20), reason: "raise", setpoint: 20.3, send: true),
        Case(name: "large delta: step-limited to 0.5", input: input(current: 70, previous: 20), reason: "step-limited", setpoint: 19.5, send: true),
        Case(name: "clamped to the minimum", input: input(current: 90, previous: 16.2), reason: "clamped", setpoint: 16, send: true),
        Case(name: "clamped to the maximum", input: input(current: 30, previous: 23.8), reason: "clamped", setpoint: 24, send: true),
        Case(name: "at the clamp already: hold", input: input(current: 80, previous: 16), reason: "hold", setpoint: 16, send: false),
        Case(name: "command too soon: interval-limited", input: input(current: 62, previous: 20, lastCommandAgoMs: 30_000), reason: "interval-limited", setpoint: 20, send: false),
        Case(name: "command after the interval", input: input(current: 62, previous: 20, lastCommandAgoMs: 60_000), reason: "lower", setpoint: 19.6, send: true),
        Case(
            name: "per-boiler override of base and envelope",
            input: input(current: 62, previous: 22),
            reason: "lower",
            setpoint: 21.6,
            send: true,
            law: ControlLaw(overrides: [b1: .init(baseSetpointC: 22, minimumSetpointC: 18, maximumSetpointC: 26)])
        ),
        Case(
            name: "override clamps to its own minimum",
            input: input(current: 90, previous: 18.3),
            reason: "clamped",
            setpoint: 18,
            send: true,
            law: ControlLaw(overrides: [b1: .init(minimumSetpointC: 18)])
        ),
    ]

    @Test(arguments: cases)
    func law(_ testCase: Case) {
        let decision = DefaultControlPolicy(law: testCase.law).decide(testCase.input)
        #expect(decision.trusted)
        #expect(decision.reason == testCase.reason)
        #expect(decision.roomSetpointC == testCase.setpoint)
        #expect(decision.sendCommand == testCase.send)
        #expect(decision.decisionID == "b0001:\(tick)")
    }
}

@Suite struct TrustGateTests {
    @Test(arguments: [
        (input(current: nil), UntrustedReason.noReading),
        (input(readingAgeMs: 2_001), .staleReading),
        (input(snapshot: nil), .noSnapshot),
        (input(snapshot: snapshot(samples: 0)), .noSnapshot),
        (input(snapshot: snapshot(hour: previousHour - hourMs)), .snapshotTooOld),
        (input(snapshot: snapshot(samples: 287_999)), .lowCoverage),
    ])
    func untrustedInputSendsNothing(_ input: ControlInput, _ reason: UntrustedReason) {
        let decision = DefaultControlPolicy().decide(input)
        #expect(!decision.trusted)
        #expect(decision.reason == reason.rawValue)
        #expect(!decision.sendCommand)
    }

    @Test func everyReasonIsReachable() {
        #expect(UntrustedReason.allCases.count == 5)
    }

    @Test func thresholdsAreInclusive() {
        #expect(DefaultControlPolicy().decide(input(readingAgeMs: 2_000)).trusted)
        #expect(DefaultControlPolicy().decide(input(snapshot: snapshot(samples: 288_000))).trusted)
    }
}

/// A target that needs no step limit is not called step-limited because setpoints are sent to 0.01 °C.
@Test func roundingToHundredthsDoesNotMakeAStepLimit() {
    // delta = 57.66 - 60 = -2.34: desired 20 + 0.468 = 20.468, sent as 20.47, well inside the 0.5 °C step.
    let decision = DefaultControlPolicy().decide(input(current: 57.66, previous: 20))
    #expect(decision.trusted && decision.sendCommand)
    #expect(decision.roomSetpointC == 20.47)
    #expect(decision.reason == "raise")
}
