/// All open windows of one worker as one compact binary value, so that a checkpoint flush is one small write:
/// about 75 bytes per boiler.
///
/// Layout: "BPC2", count (UInt32, little-endian); per window: boiler id (length byte + bytes); hour start, period
/// and samples as LEB128 varints; sum, min, max, mean, m2 as little-endian bit patterns (so a round trip is
/// exact); first and last timestamps as zig-zag varints relative to the hour's start; max gap, duplicates and
/// out-of-order as varints; a byte flagging that the first boot is the current one, the boot count (byte), and per
/// boot its id (length byte + bytes) and highest seq (varint).
public enum CheckpointSet {
    static let magic: [UInt8] = Array("BPC2".utf8)

    /// Encodes windows into one value.
    public static func encode(_ windows: [(boilerID: BoilerID, accumulator: HourlyAccumulator)]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(8 + windows.count * 96)
        out.append(contentsOf: Self.magic)
        Self.append(UInt32(truncatingIfNeeded: windows.count), to: &out)
        for (boilerID, accumulator) in windows {
            Self.append(text: boilerID.rawValue, to: &out)
            // Integers as LEB128 varints (timestamps relative to the hour's start, zig-zag for sign); doubles raw.
            Self.appendVarint(UInt64(bitPattern: accumulator.hourStartMs), to: &out)
            Self.appendVarint(UInt64(bitPattern: accumulator.periodMs), to: &out)
            Self.appendVarint(accumulator.samples, to: &out)
            Self.append(accumulator.sum.bitPattern, to: &out)
            Self.append(accumulator.min.bitPattern, to: &out)
            Self.append(accumulator.max.bitPattern, to: &out)
            Self.append(accumulator.mean.bitPattern, to: &out)
            Self.append(accumulator.m2.bitPattern, to: &out)
            Self.appendVarint(Self.zigzag(accumulator.firstTimestampMs &- accumulator.hourStartMs), to: &out)
            Self.appendVarint(Self.zigzag(accumulator.lastTimestampMs &- accumulator.hourStartMs), to: &out)
            Self.appendVarint(UInt64(bitPattern: accumulator.maxGapMs), to: &out)
            Self.appendVarint(accumulator.duplicates, to: &out)
            Self.appendVarint(accumulator.outOfOrder, to: &out)
            // The current boot first (flagged), then earlier boots in a stable order; no temporary arrays in the
            // common case of one boot.
            let earlier = accumulator.earlierBoots
            let bootCount = min(earlier.count + (accumulator.currentBoot == nil ? 0 : 1), 255)
            out.append(accumulator.currentBoot == nil ? 0 : 1)
            out.append(UInt8(bootCount))
            var written = 0
            if let current = accumulator.currentBoot {
                Self.append(text: current.rawValue, to: &out)
                Self.appendVarint(accumulator.currentBootHighestSeq, to: &out)
                written += 1
            }
            if !earlier.isEmpty {
                for (boot, seq) in earlier.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where written < bootCount {
                    Self.append(text: boot.rawValue, to: &out)
                    Self.appendVarint(seq, to: &out)
                    written += 1
                }
            }
        }
        return out
    }

    /// Decodes `encode`'s output; damaged input is a rejection, never a crash.
    public static func decode(_ bytes: [UInt8]) throws(TelemetryRejection) -> [(boilerID: BoilerID, accumulator: HourlyAccumulator)] {
        var reader = Reader(bytes: bytes)
        guard Array(try reader.bytes(4)) == Self.magic else { throw reader.damaged("unknown format") }
        let count = Int(try reader.uint32())
        guard count <= bytes.count / 40 + 1 else { throw reader.damaged("window count \(count) exceeds the data") }
        var result: [(boilerID: BoilerID, accumulator: HourlyAccumulator)] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            let idText = try reader.text()
            guard let boilerID = BoilerID(idText) else { throw reader.damaged("invalid boiler id") }
            let hourStart = Int64(bitPattern: try reader.varint())
            let period = Int64(bitPattern: try reader.varint())
            guard hourStart % hourMs == 0, (1...3_600_000).contains(period) else {
                throw reader.damaged("invalid hour or period")
            }
            var accumulator = HourlyAccumulator(hourStartMs: hourStart, periodMs: period)
            accumulator.samples = try reader.varint()
            accumulator.sum = Double(bitPattern: try reader.uint64())
            accumulator.min = Double(bitPattern: try reader.uint64())
            accumulator.max = Double(bitPattern: try reader.uint64())
            accumulator.mean = Double(bitPattern: try reader.uint64())
            accumulator.m2 = Double(bitPattern: try reader.uint64())
            accumulator.firstTimestampMs = hourStart &+ Self.unzigzag(try reader.varint())
            accumulator.lastTimestampMs = hourStart &+ Self.unzigzag(try reader.varint())
            accumulator.maxGapMs = Int64(bitPattern: try reader.varint())
            accumulator.duplicates = try reader.varint()
            accumulator.outOfOrder = try reader.varint()
            let hasCurrent = try reader.byte() == 1
            let bootCount = Int(try reader.byte())
            for index in 0..<bootCount {
                guard let boot = BootID(try reader.text()) else { throw reader.damaged("invalid boot id") }
                let seq = try reader.varint()
                if index == 0 && hasCurrent {
                    accumulator.currentBoot = boot
                    accumulator.currentBootHighestSeq = seq
                } else {
                    accumulator.earlierBoots[boot] = seq
                }
            }
            result.append((boilerID, accumulator))
        }
        guard reader.offset == bytes.count else { throw reader.damaged("trailing bytes") }
        return result
    }

    private static func append(_ value: UInt64, to out: inout [UInt8]) {
        var rest = value
        for _ in 0..<8 {
            out.append(UInt8(truncatingIfNeeded: rest))
            rest >>= 8
        }
    }

    private static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }
    static func unzigzag(_ value: UInt64) -> Int64 { Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1) }

    private static func append(_ value: UInt32, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func append(text: String, to out: inout [UInt8]) {
        // Ids are at most 64 bytes (validated), so the length fits a byte.
        var text = text
        text.withUTF8 { bytes in
            let count = min(bytes.count, 255)
            out.append(UInt8(count))
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[..<count]))
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        func damaged(_ what: String) -> TelemetryRejection {
            TelemetryRejection(.malformedJSON, "damaged checkpoint set at byte \(self.offset): \(what)")
        }

        mutating func bytes(_ count: Int) throws(TelemetryRejection) -> ArraySlice<UInt8> {
            guard count >= 0, self.offset + count <= self.bytes.count else { throw self.damaged("truncated") }
            defer { self.offset += count }
            return self.bytes[self.offset..<self.offset + count]
        }

        mutating func byte() throws(TelemetryRejection) -> UInt8 {
            try self.bytes(1).first ?? 0
        }

        mutating func uint64() throws(TelemetryRejection) -> UInt64 {
            try self.bytes(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }

        mutating func varint() throws(TelemetryRejection) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let byte = try self.byte()
                guard shift < 64 else { throw self.damaged("varint too long") }
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }

        mutating func uint32() throws(TelemetryRejection) -> UInt32 {
            try self.bytes(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func text() throws(TelemetryRejection) -> String {
            let length = Int(try self.byte())
            return String(decoding: try self.bytes(length), as: UTF8.self)
        }
    }
}
