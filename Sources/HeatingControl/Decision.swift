import Telemetry

/// Why a decision was not trusted: a closed set, recorded with the decision.
public enum UntrustedReason: String, CaseIterable, Sendable, Hashable {
    /// No reading of the boiler is in the stream.
    case noReading = "no-reading"
    /// The last reading is older than the trust policy allows.
    case staleReading = "stale-reading"
    /// No closed hourly snapshot of the boiler is known.
    case noSnapshot = "no-snapshot"
    /// The last snapshot is not of the previous hour.
    case snapshotTooOld = "snapshot-too-old"
    /// The last snapshot's coverage is below the threshold.
    case lowCoverage = "low-coverage"
}

/// What the controller knows about one boiler at one tick.
public struct ControlInput: Sendable, Hashable {
    public var boilerID: BoilerID
    /// The tick, in event time (ms since 1970).
    public var tickAtMs: Int64
    /// The fleet's event time (its newest readings), against which freshness is judged.
    public var fleetEventTimeMs: Int64
    /// The boiler's last reading: its event time and water temperature.
    public var readingTimestampMs: Int64?
    public var readingWaterC: Double?
    /// The boiler's last closed hourly snapshot.
    public var snapshot: HourlySnapshot?
    /// The room setpoint last commanded, and when (event time), if any.
    public var previousSetpointC: Double?
    public var lastCommandAtMs: Int64?

    public init(
        boilerID: BoilerID,
        tickAtMs: Int64,
        fleetEventTimeMs: Int64,
        readingTimestampMs: Int64? = nil,
        readingWaterC: Double? = nil,
        snapshot: HourlySnapshot? = nil,
        previousSetpointC: Double? = nil,
        lastCommandAtMs: Int64? = nil
    ) {
        self.boilerID = boilerID
        self.tickAtMs = tickAtMs
        self.fleetEventTimeMs = fleetEventTimeMs
        self.readingTimestampMs = readingTimestampMs
        self.readingWaterC = readingWaterC
        self.snapshot = snapshot
        self.previousSetpointC = previousSetpointC
        self.lastCommandAtMs = lastCommandAtMs
    }
}

/// One decision: trusted or not, the numbers it used, and whether a new command goes out.
public struct Decision: Sendable, Hashable {
    /// `{boiler}:{tick_ms}`: unique per boiler and tick, so a re-run tick records the same decision.
    public var decisionID: String
    public var boilerID: BoilerID
    public var tickAtMs: Int64
    /// False when the data could not be trusted; then nothing is sent.
    public var trusted: Bool
    /// For an untrusted decision, the `UntrustedReason`; otherwise what the law did: `hold`, `lower`, `raise`,
    /// `clamped`, `step-limited`, `interval-limited`.
    public var reason: String
    public var currentC: Double?
    public var hourlyMeanC: Double?
    public var deltaC: Double?
    /// The room setpoint the boiler should hold after this decision (the previous one when holding).
    public var roomSetpointC: Double?
    /// Whether a new command is to be sent.
    public var sendCommand: Bool

    public init(
        boilerID: BoilerID, tickAtMs: Int64, trusted: Bool, reason: String, currentC: Double? = nil,
        hourlyMeanC: Double? = nil, deltaC: Double? = nil, roomSetpointC: Double? = nil, sendCommand: Bool = false
    ) {
        self.decisionID = "\(boilerID.rawValue):\(tickAtMs)"
        self.boilerID = boilerID
        self.tickAtMs = tickAtMs
        self.trusted = trusted
        self.reason = reason
        self.currentC = currentC
        self.hourlyMeanC = hourlyMeanC
        self.deltaC = deltaC
        self.roomSetpointC = roomSetpointC
        self.sendCommand = sendCommand
    }
}

/// A control policy: the trust gate and the law. `DefaultControlPolicy` is one; another can be plugged in.
public protocol ControlPolicy: Sendable {
    func decide(_ input: ControlInput) -> Decision
}
