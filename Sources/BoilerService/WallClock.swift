#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The wall clock: injected everywhere so that tests can replace it. Read in nanoseconds where precision matters
/// (the time a reading is stored in the stream), in milliseconds everywhere else.
public struct WallClock: Sendable {
    private let readNanoseconds: @Sendable () -> Int64

    /// A clock that reads milliseconds since 1970 (UTC), as tests drive it.
    public init(_ readMilliseconds: @escaping @Sendable () -> Int64) {
        self.readNanoseconds = { readMilliseconds() &* 1_000_000 }
    }

    private init(readingNanoseconds: @escaping @Sendable () -> Int64) {
        self.readNanoseconds = readingNanoseconds
    }

    /// A clock that reads nanoseconds since 1970 (UTC).
    public static func nanoseconds(_ read: @escaping @Sendable () -> Int64) -> WallClock {
        WallClock(readingNanoseconds: read)
    }

    /// Now, in milliseconds since 1970 (UTC).
    public func nowMs() -> Int64 { Self.milliseconds(self.readNanoseconds()) }

    /// Now, in nanoseconds since 1970 (UTC).
    public func nowNs() -> Int64 { self.readNanoseconds() }

    /// Nanoseconds to whole milliseconds, rounding down (also before 1970).
    public static func milliseconds(_ nanoseconds: Int64) -> Int64 {
        let (quotient, remainder) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000)
        return remainder < 0 ? quotient - 1 : quotient
    }

    /// The system's real-time clock.
    public static let system = WallClock.nanoseconds({
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    })
}
