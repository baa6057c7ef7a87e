/// Why a telemetry payload was refused. A closed set, so every reason can be counted and alerted on.
///
/// The raw values are the labels used in metrics and logs (`rejected{reason="water-out-of-range"}`).
public enum RejectionReason: String, CaseIterable, Sendable, Hashable {
    /// The payload is larger than the configured maximum (64 KiB by default).
    case payloadTooLarge = "payload-too-large"
    /// The payload is not well-formed JSON (RFC 8259), or repeats a key.
    case malformedJSON = "malformed-json"
    /// `v` is not a version this decoder knows.
    case unsupportedVersion = "unsupported-version"
    /// A required field is absent.
    case missingField = "missing-field"
    /// A field that the schema does not define.
    case unknownField = "unknown-field"
    /// A field has the wrong JSON type (a string where a number belongs, a fraction where an integer belongs).
    case wrongType = "wrong-type"
    /// `NaN`, `Infinity`, or a number too large to be a finite double.
    case notFinite = "not-finite"
    /// `water_c` is outside [-20, 150] °C.
    case waterOutOfRange = "water-out-of-range"
    /// Another numeric field is outside the range its schema allows.
    case valueOutOfRange = "value-out-of-range"
    /// `seq` is not an unsigned integer up to 2^53 - 1.
    case invalidSeq = "invalid-seq"
    /// `ts_ms` is not an integer number of milliseconds between 1970 and 9999.
    case invalidTimestamp = "invalid-timestamp"
    /// `boot` is not `[A-Za-z0-9_-]{1,32}`.
    case invalidBoot = "invalid-boot"
    /// The boiler id taken from the topic is not `[A-Za-z0-9_-]{1,64}`.
    case invalidBoilerID = "invalid-boiler-id"
    /// The topic does not match the configured telemetry filter.
    case topicMismatch = "topic-mismatch"
    /// A batch's arrays have different lengths.
    case arrayLengthMismatch = "array-length-mismatch"
    /// A batch carries more than 1,000 readings.
    case batchTooLarge = "batch-too-large"
    /// A batch carries no readings.
    case emptyBatch = "empty-batch"
    /// A reading's `ts_ms` is further ahead of the wall clock than allowed (5 minutes by default).
    case timestampInFuture = "timestamp-in-future"
    /// The boiler sends more readings than its configured rate allows (refused by the ingestion worker, not the
    /// decoder; off unless configured).
    case rateLimited = "rate-limited"
}

/// A refused payload: the reason (for counting) and a sentence a person can act on (for logs and dead letters).
public struct TelemetryRejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem it is.
    public var reason: RejectionReason
    /// What exactly was wrong, naming the field and the offending value or byte offset.
    public var detail: String

    public init(_ reason: RejectionReason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(self.reason.rawValue): \(self.detail)" }
}

/// Counts of rejected payloads by reason. Every reason is present from the start (at zero), so counting
/// never inserts and never allocates.
public struct RejectionCounts: Sendable, Hashable {
    private var counts: [RejectionReason: UInt64]

    public init() {
        self.counts = Dictionary(uniqueKeysWithValues: RejectionReason.allCases.map { ($0, 0) })
    }

    /// Counts one rejection.
    public mutating func record(_ reason: RejectionReason) {
        self.counts[reason, default: 0] &+= 1
    }

    /// How many payloads were rejected for `reason`.
    public subscript(reason: RejectionReason) -> UInt64 { self.counts[reason] ?? 0 }

    /// All rejections, whatever the reason.
    public var total: UInt64 { self.counts.values.reduce(0, &+) }
}
