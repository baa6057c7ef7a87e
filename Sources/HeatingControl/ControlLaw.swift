import Telemetry

/// The default control law's parameters, per fleet, with per-boiler overrides of the setpoint envelope.
///
/// `delta = current - hourly_mean`. Inside the deadband the setpoint holds. Outside it the target is
/// `base - gain * delta`, clamped to `[minimum, maximum]`, moved at most `maximumStep` from the previous setpoint,
/// and a new command goes to a boiler at most once per `minimumCommandInterval`.
public struct ControlLaw: Sendable, Hashable {
    /// Per-boiler changes to the envelope (nil keeps the fleet's value).
    public struct Override: Sendable, Hashable {
        public var baseSetpointC: Double?
        public var minimumSetpointC: Double?
        public var maximumSetpointC: Double?

        public init(baseSetpointC: Double? = nil, minimumSetpointC: Double? = nil, maximumSetpointC: Double? = nil) {
            self.baseSetpointC = baseSetpointC
            self.minimumSetpointC = minimumSetpointC
            self.maximumSetpointC = maximumSetpointC
        }
    }

    /// No change while |delta| is at most this, °C. Default 1.0.
    public var deadbandC: Double
    /// °C of room setpoint per °C of delta. Default 0.2.
    public var gain: Double
    /// The room setpoint with no correction, °C. Default 20.
    public var baseSetpointC: Double
    /// The envelope, °C. Default [16, 24].
    public var minimumSetpointC: Double
    public var maximumSetpointC: Double
    /// The largest change per decision, °C. Default 0.5.
    public var maximumStepC: Double
    /// The shortest time between two commands to one boiler, ms. Default 60 s.
    public var minimumCommandIntervalMs: Int64
    /// Per-boiler overrides.
    public var overrides: [BoilerID: Override]

    public init(
        deadbandC: Double = 1.0,
        gain: Double = 0.2,
        baseSetpointC: Double = 20,
        minimumSetpointC: Double = 16,
        maximumSetpointC: Double = 24,
        maximumStepC: Double = 0.5,
        minimumCommandIntervalMs: Int64 = 60_000,
        overrides: [BoilerID: Override] = [:]
    ) {
        self.deadbandC = deadbandC
        self.gain = gain
        self.baseSetpointC = baseSetpointC
        self.minimumSetpointC = minimumSetpointC
        self.maximumSetpointC = maximumSetpointC
        self.maximumStepC = maximumStepC
        self.minimumCommandIntervalMs = minimumCommandIntervalMs
        self.overrides = overrides
    }

    /// The envelope for one boiler: base, minimum, maximum.
    public func envelope(for boilerID: BoilerID) -> (base: Double, minimum: Double, maximum: Double) {
        let override = self.overrides[boilerID]
        return (
            override?.baseSetpointC ?? self.baseSetpointC,
            override?.minimumSetpointC ?? self.minimumSetpointC,
            override?.maximumSetpointC ?? self.maximumSetpointC
        )
    }
}

/// When data is trusted enough to act on.
public struct TrustPolicy: Sendable, Hashable {
    /// The current reading may be at most this much older than the fleet's event time, ms. Default 2 s.
    public var maximumReadingAgeMs: Int64
    /// The reference snapshot's coverage must be at least this. Default 0.8.
    public var minimumCoverage: Double

    public init(maximumReadingAgeMs: Int64 = 2_000, minimumCoverage: Double = 0.8) {
        self.maximumReadingAgeMs = maximumReadingAgeMs
        self.minimumCoverage = minimumCoverage
    }
}
