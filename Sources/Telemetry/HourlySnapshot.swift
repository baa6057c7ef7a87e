/// One closed boiler-hour: the row written to `hourly_snapshots` and the event on
/// `boilers/{id}/snapshot/hourly` (`schemas/hourly-snapshot.schema.json`).
public struct HourlySnapshot: Hashable, Sendable {
    /// The boiler.
    public var boilerID: BoilerID
    /// The hour's start, ms since 1970 (UTC), a whole hour.
    public var hourStartMs: Int64
    /// Mean water temperature, °C; nil when no reading came.
    public var meanC: Double?
    /// Lowest water temperature, °C; nil when no reading came.
    public var minC: Double?
    /// Highest water temperature, °C; nil when no reading came.
    public var maxC: Double?
    /// Sample standard deviation, °C; nil under two readings.
    public var stddevC: Double?
    /// Distinct readings folded in.
    public var samples: UInt64
    /// 3,600,000 ms / the boiler's period.
    public var expectedSamples: UInt64
    /// Re-sent readings seen and not counted again.
    public var duplicates: UInt64
    /// Readings that arrived after the hour closed.
    public var lateSamples: UInt64
    /// Readings older than one already seen (folded in; `maxGapMs` is measured in arrival order).
    public var outOfOrder: UInt64
    /// The longest gap between consecutive readings, ms; nil under two readings.
    public var maxGapMs: Int64?
    /// The earliest reading's event time.
    public var firstTimestampMs: Int64?
    /// The latest reading's event time.
    public var lastTimestampMs: Int64?
    /// When the window closed, wall clock, ms since 1970.
    public var closedAtMs: Int64
    /// 0 for the row as closed.
    public var revision: UInt64

    public init(
        boilerID: BoilerID, hourStartMs: Int64, meanC: Double?, minC: Double?, maxC: Double?, stddevC: Double?,
        samples: UInt64, expectedSamples: UInt64, duplicates: UInt64, lateSamples: UInt64, outOfOrder: UInt64,
        maxGapMs: Int64?, firstTimestampMs: Int64?, lastTimestampMs: Int64?, closedAtMs: Int64, revision: UInt64 = 0
    ) {
        self.boilerID = boilerID
        self.hourStartMs = hourStartMs
        self.meanC = meanC
        self.minC = minC
        self.maxC = maxC
        self.stddevC = stddevC
        self.samples = samples
        self.expectedSamples = expectedSamples
        self.duplicates = duplicates
        self.lateSamples = lateSamples
        self.outOfOrder = outOfOrder
        self.maxGapMs = maxGapMs
        self.firstTimestampMs = firstTimestampMs
        self.lastTimestampMs = lastTimestampMs
        self.closedAtMs = closedAtMs
        self.revision = revision
    }

    /// samples / expectedSamples.
    public var coverage: Double { self.expectedSamples == 0 ? 0 : Double(self.samples) / Double(self.expectedSamples) }

    /// The snapshot as its JSON event payload.
    public func encoded() -> [UInt8] {
        var writer = JSONWriter()
        writer.field("v", Int64(1))
        writer.field("boiler_id", self.boilerID.rawValue)
        writer.field("hour_start_ms", self.hourStartMs)
        writer.field("mean_c", self.meanC)
        writer.field("min_c", self.minC)
        writer.field("max_c", self.maxC)
        writer.field("stddev_c", self.stddevC)
        writer.field("samples", self.samples)
        writer.field("expected_samples", self.expectedSamples)
        writer.field("coverage", self.coverage)
        writer.field("duplicates", self.duplicates)
        writer.field("late_samples", self.lateSamples)
        writer.field("out_of_order", self.outOfOrder)
        writer.field("max_gap_ms", self.maxGapMs)
        writer.field("first_ts_ms", self.firstTimestampMs)
        writer.field("last_ts_ms", self.lastTimestampMs)
        writer.field("closed_at_ms", self.closedAtMs)
        writer.field("revision", self.revision)
        return writer.finish()
    }

    private static let fieldNames: Set<String> = [
        "v", "boiler_id", "hour_start_ms", "mean_c", "min_c", "max_c", "stddev_c", "samples", "expected_samples",
        "coverage", "duplicates", "late_samples", "out_of_order", "max_gap_ms", "first_ts_ms", "last_ts_ms",
        "closed_at_ms", "revision",
    ]

    /// Decodes and validates a snapshot event.
    public init(decoding bytes: [UInt8]) throws(TelemetryRejection) {
        let object = try JSONObjectReader(bytes, maximumBytes: 8_192)
        try object.requireOnly(Self.fieldNames)
        for name in Self.fieldNames where object.fields[name] == nil {
            throw TelemetryRejection(.missingField, "required field '\(name)' is missing")
        }
        try object.requireVersion1()
        let idText = try object.string("boiler_id")
        guard let boilerID = BoilerID(idText) else {
            throw TelemetryRejection(.invalidBoilerID, "boiler_id '\(idText.prefix(80))' is not [A-Za-z0-9_-]{1,64}")
        }
        let time = 0...TelemetryDecoder.maximumTimestampMs
        let count = 0...Int64(TelemetryDecoder.maximumSeq)
        let hourStart = try object.integer("hour_start_ms", in: time)
        guard hourStart % hourMs == 0 else {
            throw TelemetryRejection(.valueOutOfRange, "hour_start_ms \(hourStart) is not a whole hour")
        }
        _ = try object.double("coverage", in: 0...Double.greatestFiniteMagnitude)
        self.init(
            boilerID: boilerID,
            hourStartMs: hourStart,
            meanC: try object.optionalDouble("mean_c"),
            minC: try object.optionalDouble("min_c"),
            maxC: try object.optionalDouble("max_c"),
            stddevC: try object.optionalDouble("stddev_c"),
            samples: UInt64(try object.integer("samples", in: count)),
            expectedSamples: UInt64(try object.integer("expected_samples", in: 1...Int64.max)),
            duplicates: UInt64(try object.integer("duplicates", in: count)),
            lateSamples: UInt64(try object.integer("late_samples", in: count)),
            outOfOrder: UInt64(try object.integer("out_of_order", in: count)),
            maxGapMs: try object.optionalInteger("max_gap_ms", in: 0...Int64.max),
            firstTimestampMs: try object.optionalInteger("first_ts_ms", in: 0...Int64.max),
            lastTimestampMs: try object.optionalInteger("last_ts_ms", in: 0...Int64.max),
            closedAtMs: try object.integer("closed_at_ms", in: time),
            revision: UInt64(try object.integer("revision", in: count))
        )
    }
}

/// One hour in milliseconds.
public let hourMs: Int64 = 3_600_000

/// The start of the hour that contains `timestampMs` (UTC; also right for times before 1970).
@inlinable
public func hourStart(of timestampMs: Int64) -> Int64 {
    let remainder = timestampMs % 3_600_000
    return timestampMs - (remainder < 0 ? remainder + 3_600_000 : remainder)
}
