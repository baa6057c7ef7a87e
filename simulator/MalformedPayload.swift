import Telemetry

/// The broken payloads the `malformed` fault sends, one class after another, each with the rejection reason the
/// pipeline must give it (checked against the real decoder in the simulator's tests).
enum MalformedPayload {
    static let kinds: [(RejectionReason, @Sendable (String, Int64, Int64) -> String)] = [
        (.malformedJSON, { boot, seq, ts in #"{"v":1,"boot":"\#(boot)","seq":\#(seq),"ts_ms":\#(ts),"water_c":"# }),
        (.missingField, { boot, seq, _ in #"{"v":1,"boot":"\#(boot)","seq":\#(seq),"water_c":50.5}"# }),
        (.wrongType, { boot, seq, ts in #"{"v":1,"boot":"\#(boot)","seq":\#(seq),"ts_ms":\#(ts),"water_c":"hot"}"# }),
        (.waterOutOfRange, { boot, seq, ts in #"{"v":1,"boot":"\#(boot)","seq":\#(seq),"ts_ms":\#(ts),"water_c":999}"# }),
        (.unknownField, { boot, seq, ts in #"{"v":1,"boot":"\#(boot)","seq":\#(seq),"ts_ms":\#(ts),"water_c":50.5,"colour":"red"}"# }),
        (.unsupportedVersion, { boot, seq, ts in #"{"v":2,"boot":"\#(boot)","seq":\#(seq),"ts_ms":\#(ts),"water_c":50.5}"# }),
    ]

    /// The `number`th malformed payload (the classes take turns).
    static func make(number: UInt64, boot: String, seq: Int64, timestampMs: Int64) -> (reason: RejectionReason, bytes: [UInt8]) {
        let (reason, text) = Self.kinds[Int(number % UInt64(Self.kinds.count))]
        return (reason, Array(text(boot, seq, timestampMs).utf8))
    }
}
