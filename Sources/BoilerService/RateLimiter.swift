import Telemetry

/// A per-boiler limit on readings: a token bucket for each boiler, refilled at `readingsPerSecond` up to `burst`.
/// A message whose readings do not fit is refused whole (reason `rate-limited`) and takes no tokens, so a flooding
/// boiler is held to its rate while every other boiler is unaffected.
///
/// Off by default: a boiler that reconnects sends what it buffered offline as fast as it can, and a limit below
/// that catch-up rate refuses real readings (they are counted, and the hour's coverage shows them missing).
public struct RateLimit: Sendable, Hashable {
    public var readingsPerSecond: Double
    public var burst: Double

    /// `burst` defaults to 10 seconds at the rate.
    public init(readingsPerSecond: Double, burst: Double? = nil) {
        self.readingsPerSecond = readingsPerSecond
        self.burst = burst ?? readingsPerSecond * 10
    }
}

/// The buckets of the boilers heard from, in the ingestion pipeline's state.
struct RateLimiter {
    struct Bucket {
        var tokens: Double
        var updatedMs: Int64
    }

    let limit: RateLimit
    private var buckets: [BoilerID: Bucket] = [:]

    init(limit: RateLimit) {
        self.limit = limit
    }

    /// Takes `readings` tokens from `boilerID`'s bucket, or refuses without taking any.
    mutating func admit(_ boilerID: BoilerID, readings: Int, nowMs: Int64) throws(TelemetryRejection) {
        var bucket = self.buckets[boilerID] ?? Bucket(tokens: self.limit.burst, updatedMs: nowMs)
        let elapsedMs = Double(max(nowMs - bucket.updatedMs, 0))
        bucket.tokens = min(self.limit.burst, bucket.tokens + elapsedMs / 1_000 * self.limit.readingsPerSecond)
        bucket.updatedMs = nowMs
        let admitted = Double(readings) <= bucket.tokens
        if admitted { bucket.tokens -= Double(readings) }
        self.buckets[boilerID] = bucket
        guard admitted else {
            throw TelemetryRejection(
                .rateLimited,
                "boiler \(boilerID.rawValue) is over its limit of \(self.limit.readingsPerSecond) readings/s "
                    + "(burst \(self.limit.burst)); \(readings) readings refused"
            )
        }
    }
}
