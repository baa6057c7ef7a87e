/// Writes telemetry payloads (schemas/telemetry-*.schema.json) straight into bytes, numbers in fixed point: a
/// water temperature of 6125 hundredths is sent as `61.25`, which every JSON reader turns into the same double as
/// `6125 / 100`, the value the truth keeps.
struct PayloadWriter {
    private(set) var bytes: [UInt8] = []

    init() {
        self.bytes.reserveCapacity(512)
    }

    mutating func reset() {
        self.bytes.removeAll(keepingCapacity: true)
    }

    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
    }

    mutating func append(_ text: String) {
        self.bytes.append(contentsOf: text.utf8)
    }

    /// An integer, without going through String.
    mutating func append(integer value: Int64) {
        if value < 0 { self.bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) { self.bytes.append(buffer[index]) }
        }
    }

    /// A fixed-point number `value / 10^decimals`, e.g. (6125, 2) → `61.25`, (-5, 1) → `-0.5`.
    mutating func append(fixed value: Int64, decimals: Int) {
        guard decimals > 0 else { return self.append(integer: value) }
        var scale: Int64 = 1
        for _ in 0..<decimals { scale *= 10 }
        if value < 0 { self.bytes.append(UInt8(ascii: "-")) }
        let magnitude = Int64(value.magnitude)
        self.append(integer: magnitude / scale)
        self.bytes.append(UInt8(ascii: "."))
        var fraction = magnitude % scale
        var digitScale = scale / 10
        for _ in 0..<decimals {
            self.bytes.append(UInt8(ascii: "0") + UInt8(fraction / digitScale))
            fraction %= digitScale
            digitScale = Swift.max(digitScale / 10, 1)
        }
    }

    /// One reading, or a batch of readings `periodMs` apart (the other sensors as of the last one).
    mutating func telemetry(boot: String, seq: Int64, firstMs: Int64, periodMs: Int64, samples: ArraySlice<BoilerModel.Sample>, singleForm: Bool) {
        guard let last = samples.last else { return }
        self.append(#"{"v":1,"boot":""#)
        self.append(boot)
        self.append(#"","seq":"#)
        self.append(integer: seq)
        self.append(#","ts_ms":"#)
        self.append(integer: firstMs)
        if singleForm {
            self.append(#","water_c":"#)
            self.append(fixed: last.waterCenti, decimals: 2)
        } else {
            self.append(#","period_ms":"#)
            self.append(integer: periodMs)
            self.append(#","water_c":["#)
            var first = true
            for sample in samples {
                if !first { self.bytes.append(UInt8(ascii: ",")) }
                first = false
                self.append(fixed: sample.waterCenti, decimals: 2)
            }
            self.append("]")
        }
        self.append(#","room_c":"#)
        self.append(fixed: last.roomCenti, decimals: 2)
        self.append(#","outdoor_c":"#)
        self.append(fixed: last.outdoorDeci, decimals: 1)
        self.append(#","burner_pct":"#)
        self.append(integer: last.burnerPct)
        self.append("}")
    }
}
