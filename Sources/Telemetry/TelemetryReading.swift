/// One water-temperature reading from one boiler, as decoded from its telemetry payload.
///
/// The boiler id is not repeated here: it comes from the topic, and the decoded payload carries it once.
public struct TelemetryReading: Hashable, Sendable {
    /// The boiler's power cycle; `seq` counts from 0 within it.
    public var boot: BootID
    /// The reading's number within `boot`.
    public var seq: UInt64
    /// Event time: when the boiler took the reading, in milliseconds since 1970 (UTC).
    public var timestampMs: Int64
    /// Water temperature, °C, within [-20, 150].
    public var waterC: Double
    /// Return-water temperature, °C, when sent.
    public var returnC: Double?
    /// Room temperature, °C, when sent.
    public var roomC: Double?
    /// Outdoor temperature, °C, when sent.
    public var outdoorC: Double?
    /// Burner modulation, percent, when sent.
    public var burnerPct: Double?

    public init(
        boot: BootID,
        seq: UInt64,
        timestampMs: Int64,
        waterC: Double,
        returnC: Double? = nil,
        roomC: Double? = nil,
        outdoorC: Double? = nil,
        burnerPct: Double? = nil
    ) {
        self.boot = boot
        self.seq = seq
        self.timestampMs = timestampMs
        self.waterC = waterC
        self.returnC = returnC
        self.roomC = roomC
        self.outdoorC = outdoorC
        self.burnerPct = burnerPct
    }
}

/// A decoded telemetry payload: one reading, or a batch of readings `periodMs` apart.
///
/// Reused across payloads by `TelemetryDecoder.decode(_:boilerID:into:nowMs:)`: its arrays keep their capacity,
/// so decoding allocates nothing once they have grown to the largest batch seen.
public struct TelemetryPayload: Sendable {
    /// Which optional field a series holds.
    enum OptionalField: Int, CaseIterable {
        case returnC, roomC, outdoorC, burnerPct
    }

    /// An optional field: absent, one value for every reading, or one value per reading.
    struct Series: Sendable {
        var present = false
        var isArray = false
        var values: [Double] = []

        func value(at index: Int) -> Double? {
            guard self.present else { return nil }
            return self.isArray ? self.values[index] : self.values[0]
        }

        mutating func reset() {
            self.present = false
            self.isArray = false
            self.values.removeAll(keepingCapacity: true)
        }
    }

    /// The boiler the payload came from (from the topic).
    public internal(set) var boilerID: BoilerID
    /// The boiler's boot id.
    public internal(set) var boot: BootID
    /// The first reading's `seq`; reading `i` has `firstSeq + i`.
    public internal(set) var firstSeq: UInt64 = 0
    /// The first reading's event time; reading `i` is `firstTimestampMs + i * periodMs`.
    public internal(set) var firstTimestampMs: Int64 = 0
    /// The spacing of a batch's readings; nil for a single-reading payload.
    public internal(set) var periodMs: Int64? = nil
    /// Water temperatures, one per reading.
    public internal(set) var water: [Double] = []
    var optionals = [Series](repeating: Series(), count: OptionalField.allCases.count)

    /// An empty payload, to be filled by the decoder.
    public init() {
        self.boilerID = BoilerID(unchecked: "unknown")
        self.boot = BootID(unchecked: "unknown")
    }

    /// How many readings the payload carries.
    public var count: Int { self.water.count }

    /// The event time of the last reading.
    public var lastTimestampMs: Int64 { self.firstTimestampMs + Int64(max(self.count - 1, 0)) * (self.periodMs ?? 0) }

    /// Reading `index` (0..<count).
    public subscript(index: Int) -> TelemetryReading {
        TelemetryReading(
            boot: self.boot,
            seq: self.firstSeq + UInt64(index),
            timestampMs: self.firstTimestampMs + Int64(index) * (self.periodMs ?? 0),
            waterC: self.water[index],
            returnC: self.optionals[OptionalField.returnC.rawValue].value(at: index),
            roomC: self.optionals[OptionalField.roomC.rawValue].value(at: index),
            outdoorC: self.optionals[OptionalField.outdoorC.rawValue].value(at: index),
            burnerPct: self.optionals[OptionalField.burnerPct.rawValue].value(at: index)
        )
    }

    /// All readings, in order.
    public var readings: [TelemetryReading] { (0..<self.count).map { self[$0] } }

    mutating func reset() {
        self.periodMs = nil
        self.water.removeAll(keepingCapacity: true)
        // A series is filled only after it is marked present, so one not present is already empty.
        for index in self.optionals.indices where self.optionals[index].present { self.optionals[index].reset() }
    }
}
