import Telemetry

/// The default policy: the trust gate of `TrustPolicy`, then the law of `ControlLaw` (see its documentation).
public struct DefaultControlPolicy: ControlPolicy {
    public var law: ControlLaw
    public var trust: TrustPolicy

    public init(law: ControlLaw = .init(), trust: TrustPolicy = .init()) {
        self.law = law
        self.trust = trust
    }

    /// Why the input cannot be trusted, or nil when it can.
    public func untrustedReason(_ input: ControlInput) -> UntrustedReason? {
        guard let timestamp = input.readingTimestampMs, input.readingWaterC != nil else { return .noReading }
        if input.fleetEventTimeMs - timestamp > self.trust.maximumReadingAgeMs { return .staleReading }
        guard let snapshot = input.snapshot, snapshot.meanC != nil else { return .noSnapshot }
        if snapshot.hourStartMs != hourStart(of: input.tickAtMs) - hourMs { return .snapshotTooOld }
        if snapshot.coverage < self.trust.minimumCoverage { return .lowCoverage }
        return nil
    }

    public func decide(_ input: ControlInput) -> Decision {
        if let reason = self.untrustedReason(input) {
            return Decision(
                boilerID: input.boilerID, tickAtMs: input.tickAtMs, trusted: false, reason: reason.rawValue,
                currentC: input.readingWaterC, hourlyMeanC: input.snapshot?.meanC,
                roomSetpointC: input.previousSetpointC
            )
        }
        let current = input.readingWaterC ?? 0
        let mean = input.snapshot?.meanC ?? 0
        let delta = current - mean
        let envelope = self.law.envelope(for: input.boilerID)
        let previous = input.previousSetpointC ?? envelope.base
        func decision(_ reason: String, _ setpoint: Double, send: Bool) -> Decision {
            Decision(
                boilerID: input.boilerID, tickAtMs: input.tickAtMs, trusted: true, reason: reason, currentC: current,
                hourlyMeanC: mean, deltaC: delta, roomSetpointC: setpoint, sendCommand: send
            )
        }
        guard abs(delta) > self.law.deadbandC else { return decision("hold", previous, send: false) }
        let desired = envelope.base - self.law.gain * delta
        let clamped = min(max(desired, envelope.minimum), envelope.maximum)
        let step = min(max(clamped - previous, -self.law.maximumStepC), self.law.maximumStepC)
        // Setpoints are sent to 0.01 °C; the reason compares what is sent with the rounded clamp.
        let target = ((previous + step) * 100).rounded() / 100
        let clampedSent = (clamped * 100).rounded() / 100
        guard target != previous else { return decision("hold", previous, send: false) }
        if let last = input.lastCommandAtMs, input.tickAtMs - last < self.law.minimumCommandIntervalMs {
            return decision("interval-limited", previous, send: false)
        }
        let reason =
            clamped != desired && target == clampedSent ? "clamped"
            : target != clampedSent ? "step-limited"
            : target < previous ? "lower" : "raise"
        return decision(reason, target, send: true)
    }
}
