/// A point in time as nanoseconds since the Unix epoch, handed to the stream by its caller.
///
/// The stream reads no clock of its own: publishing, expiry and dedup take the current time as a value,
/// so tests can run hours of stream time without sleeping.
public struct StreamInstant: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    public var nanosecondsSinceEpoch: Int64

    public init(nanosecondsSinceEpoch: Int64) {
        self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
    }

    public init(millisecondsSinceEpoch: Int64) {
        self.nanosecondsSinceEpoch = millisecondsSinceEpoch &* 1_000_000
    }

    /// Whole milliseconds since the epoch (rounded down).
    public var millisecondsSinceEpoch: Int64 { self.nanosecondsSinceEpoch / 1_000_000 }

    public static func < (lhs: StreamInstant, rhs: StreamInstant) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    public static func + (lhs: StreamInstant, rhs: Duration) -> StreamInstant {
        StreamInstant(nanosecondsSinceEpoch: lhs.nanosecondsSinceEpoch &+ rhs.nanoseconds)
    }

    public static func - (lhs: StreamInstant, rhs: Duration) -> StreamInstant {
        StreamInstant(nanosecondsSinceEpoch: lhs.nanosecondsSinceEpoch &- rhs.nanoseconds)
    }

    public var description: String { "\(self.nanosecondsSinceEpoch)ns" }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating at `Int64.max`.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        let (sum, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflow2 ? (scaled < 0 ? Int64.min : Int64.max) : sum
    }
}
