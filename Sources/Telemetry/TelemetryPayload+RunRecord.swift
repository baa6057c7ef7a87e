/// A run of consecutive readings of one batch as one stream message (`boiler.{id}.telemetry` when the pipeline
/// stores a message per payload, not per reading): their shared fields once, then the values as arrays.
///
/// Layout, version 2, little-endian: byte 0 version (2), byte 1 flags (bit 0 return_c, 1 room_c, 2 outdoor_c,
/// 3 burner_pct present), byte 2 boot length, bytes 3-7 zero, 8 first ts_ms (Int64), 16 first seq (UInt64),
/// 24 period_ms (Int64), 32 count (UInt64), 40-71 boot (zero-padded), 72 water_c (count Float64s),
/// then one array of count Float64s per optional field present, in bit order.
/// Reading `i` of the run has seq `first + i` and ts_ms `first + i * period`.
extension TelemetryPayload {
    /// Bytes of a run record before its arrays.
    static let runRecordHeaderSize = 72

    /// The size of the record of `count` readings of this payload.
    public func runRecordSize(count: Int) -> Int {
        Self.runRecordHeaderSize + 8 * count * (1 + self.recordFlags.nonzeroBitCount)
    }

    /// Writes readings `range` of this payload as one run record into `buffer` (at least `runRecordSize(count:)`
    /// bytes) and returns its length.
    public func writeRunRecord(_ range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let flags = self.recordFlags
        // The boot's 32 bytes are zeroed first, so the padding is too.
        for offset in stride(from: 40, to: 72, by: 8) { buffer.storeBytes(of: 0 as UInt64, toByteOffset: offset, as: UInt64.self) }
        _ = TelemetryReading.writeRecordHeader(boot: self.boot, flags: flags, version: 2, bootOffset: 40, into: buffer)
        let period = self.periodMs ?? 0
        buffer.storeBytes(of: (self.firstTimestampMs + Int64(range.lowerBound) * period).littleEndian, toByteOffset: 8, as: Int64.self)
        buffer.storeBytes(of: (self.firstSeq + UInt64(range.lowerBound)).littleEndian, toByteOffset: 16, as: UInt64.self)
        buffer.storeBytes(of: period.littleEndian, toByteOffset: 24, as: Int64.self)
        buffer.storeBytes(of: UInt64(range.count).littleEndian, toByteOffset: 32, as: UInt64.self)
        var offset = Self.runRecordHeaderSize
        self.water.withUnsafeBufferPointer { water in
            for index in range {
                buffer.storeBytes(of: water[index].bitPattern.littleEndian, toByteOffset: offset, as: UInt64.self)
                offset += 8
            }
        }
        for field in OptionalField.allCases where flags & (1 << UInt8(field.rawValue)) != 0 {
            let series = self.optionals[field.rawValue]
            for index in range {
                buffer.storeBytes(of: (series.value(at: index) ?? 0).bitPattern.littleEndian, toByteOffset: offset, as: UInt64.self)
                offset += 8
            }
        }
        return offset
    }
}

extension TelemetryReading {
    /// The readings of a stream message on `boiler.{id}.telemetry`: one for a reading's record (version 1), all
    /// of a run record (version 2), in order; nil when the bytes are neither.
    public static func readings(record: UnsafeRawBufferPointer) -> [TelemetryReading]? {
        if let reading = TelemetryReading(record: record) { return [reading] }
        guard let run = RunRecord(record) else { return nil }
        return (0..<run.count).map(run.reading)
    }

    /// The newest reading of a stream message on `boiler.{id}.telemetry` (the last of a run record); nil when the
    /// bytes are not a record.
    public init?(lastOf record: UnsafeRawBufferPointer) {
        if let reading = TelemetryReading(record: record) {
            self = reading
        } else if let run = RunRecord(record) {
            self = run.reading(run.count - 1)
        } else {
            return nil
        }
    }
}

/// A version-2 record, checked.
struct RunRecord {
    let bytes: UnsafeRawBufferPointer
    let flags: UInt8
    let boot: BootID
    let count: Int

    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= TelemetryPayload.runRecordHeaderSize + 8, bytes.load(fromByteOffset: 0, as: UInt8.self) == 2
        else { return nil }
        let flags = bytes.load(fromByteOffset: 1, as: UInt8.self)
        let bootLength = Int(bytes.load(fromByteOffset: 2, as: UInt8.self))
        let count = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 32, as: UInt64.self))
        let arrays = 1 + flags.nonzeroBitCount
        guard flags < 16, (1...BootID.maximumLength).contains(bootLength), count >= 1,
            count <= UInt64(TelemetryDecoder.maximumBatchReadings),
            bytes.count == TelemetryPayload.runRecordHeaderSize + 8 * Int(count) * arrays,
            let boot = BootID(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[40..<40 + bootLength]), as: UTF8.self))
        else { return nil }
        self.bytes = bytes
        self.flags = flags
        self.boot = boot
        self.count = Int(count)
    }

    func reading(_ index: Int) -> TelemetryReading {
        func double(_ array: Int) -> Double {
            let offset = TelemetryPayload.runRecordHeaderSize + 8 * (array * self.count + index)
            return Double(bitPattern: UInt64(littleEndian: self.bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
        }
        // The optional fields' arrays follow water's, in bit order, only for those present: field `bit`'s is
        // preceded by water's and one per lower bit set.
        func optional(_ bit: Int) -> Double? {
            let mask = UInt8(1) << UInt8(bit)
            return self.flags & mask != 0 ? double(1 + (self.flags & (mask - 1)).nonzeroBitCount) : nil
        }
        let first = Int64(littleEndian: self.bytes.loadUnaligned(fromByteOffset: 8, as: Int64.self))
        let period = Int64(littleEndian: self.bytes.loadUnaligned(fromByteOffset: 24, as: Int64.self))
        return TelemetryReading(
            boot: self.boot,
            seq: UInt64(littleEndian: self.bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self)) &+ UInt64(index),
            timestampMs: first &+ Int64(index) &* period,
            waterC: double(0),
            returnC: optional(0),
            roomC: optional(1),
            outdoorC: optional(2),
            burnerPct: optional(3)
        )
    }
}
