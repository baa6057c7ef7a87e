import Foundation
import Telemetry
import Testing

/// A small deterministic generator (SplitMix64) so every random test can be replayed from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// 2025-11-27T00:00:00Z: a wall clock after every example's event time.
let exampleNowMs: Int64 = 1_764_201_600_000
/// 2025-11-26T14:00:00Z, a whole hour.
let hour0: Int64 = 1_764_165_600_000

let b1 = BoilerID("b0001")!
let b2 = BoilerID("b0002")!

/// The repository's root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

extension TelemetryDecoder {
    /// Decodes a JSON text for boiler b0001 at `exampleNowMs`.
    func decode(_ text: String, boilerID: BoilerID = b1, nowMs: Int64 = exampleNowMs) throws(TelemetryRejection)
        -> TelemetryPayload
    {
        try self.decode(Array(text.utf8), boilerID: boilerID, nowMs: nowMs)
    }
}

/// The rejection `body` throws, or nil when it succeeds.
func rejection(_ body: () throws(TelemetryRejection) -> Void) -> TelemetryRejection? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

/// A payload of `values` for `boilerID`, one reading every `periodMs` from `firstMs`, built as JSON and decoded
/// (so tests go through the real decoder).
func batch(
    _ boilerID: BoilerID = b1,
    boot: String = "boot1",
    seq: UInt64 = 0,
    firstMs: Int64,
    periodMs: Int64 = 10,
    values: [Double]
) throws -> TelemetryPayload {
    let json = """
        {"v":1,"boot":"\(boot)","seq":\(seq),"ts_ms":\(firstMs),"period_ms":\(periodMs),\
        "water_c":[\(values.map { "\($0)" }.joined(separator: ","))]}
        """
    return try TelemetryDecoder().decode(Array(json.utf8), boilerID: boilerID, nowMs: .max / 2)
}
