// libFuzzer target for every decoder of outside bytes in `Telemetry`: telemetry payloads (the MQTT input),
// setpoint commands, hourly snapshots and window checkpoints. Built and run by deploy/local/fuzz.sh; not part of
// the package (libFuzzer needs -sanitize=fuzzer, which SwiftPM does not take for one target).
//
// The first byte picks the decoder; the rest is its input. A crash, a trap (overflow, out-of-bounds) or an
// accepted payload outside the schema's ranges is a finding.

let boiler = BoilerID("b0001")!
let decoder = TelemetryDecoder()
let nowMs: Int64 = 1_764_201_600_000
var payload = TelemetryPayload()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: data + 1, count: size - 1)
    switch data[0] % 4 {
    case 0:
        do {
            try decoder.decode(input, boilerID: boiler, into: &payload, nowMs: nowMs)
            for index in 0..<payload.count {
                let reading = payload[index]
                guard TelemetryDecoder.waterRange.contains(reading.waterC) else {
                    fatalError("accepted an out-of-range water temperature \(reading.waterC)")
                }
            }
        } catch {
            guard !error.detail.isEmpty else { fatalError("a rejection without detail: \(error.reason)") }
        }
    case 1:
        _ = try? SetpointCommand(decoding: Array(input))
    case 2:
        _ = try? HourlySnapshot(decoding: Array(input))
    default:
        _ = try? HourlyAccumulator(checkpoint: Array(input))
    }
    return 0
}
