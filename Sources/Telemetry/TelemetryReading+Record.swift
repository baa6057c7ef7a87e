/// The reading as stored in the stream (`boiler.{id}.telemetry`): a fixed little-endian record, so the ingest
/// path writes it without allocating and readers decode it without parsing.
///
/// Layout, version 1: byte 0 version (1), byte 1 flags (bit 0 return_c, 1 room_c, 2 outdoor_c, 3 burner_pct
/// present), byte 2 boot length, bytes 3-7 zero, 8 ts_ms (Int64), 16 seq (UInt64), 24 water_c, 32 return_c,
/// 40 room_c, 48 outdoor_c, 56 burner_pct (Float64, 0 when absent), 64... boot (1-32 bytes).
extension TelemetryReading {
    /// The largest record: 64 fixed bytes and a 32-byte boot id.
    public static let maximumRecordSize = 96

    /// Writes the record into `buffer` (at least `maximumRecordSize` bytes) and returns its length.
    public func writeRecord(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var flags: UInt8 = 0
        if self.returnC != nil { flags |= 1 }
        if self.roomC != nil { flags |= 2 }
        if self.outdoorC != nil { flags |= 4 }
        if self.burnerPct != nil { flags |= 8 }
        let bootLength = Self.writeRecordHeader(boot: self.boot, flags: flags, into: buffer)
        buffer.storeBytes(of: self.timestampMs.littleEndian, toByteOffset: 8, as: Int64.self)
        buffer.storeBytes(of: self.seq.littleEndian, toByteOffset: 16, as: UInt64.self)
        buffer.storeBytes(of: self.waterC.bitPattern.littleEndian, toByteOffset: 24, as: UInt64.self)
        buffer.storeBytes(of: (self.returnC ?? 0).bitPattern.littleEndian, toByteOffset: 32, as: UInt64.self)
        buffer.storeBytes(of: (self.roomC ?? 0).bitPattern.littleEndian, toByteOffset: 40, as: UInt64.self)
        buffer.storeBytes(of: (self.outdoorC ?? 0).bitPattern.littleEndian, toByteOffset: 48, as: UInt64.self)
        buffer.storeBytes(of: (self.burnerPct ?? 0).bitPattern.littleEndian, toByteOffset: 56, as: UInt64.self)
        return 64 + bootLength
    }

    /// Writes a record's version, flags and boot id (at `bootOffset`); returns the boot id's length.
    static func writeRecordHeader(
        boot: BootID,
        flags: UInt8,
        version: UInt64 = 1,
        bootOffset: Int = 64,
        into buffer: UnsafeMutableRawBufferPointer
    ) -> Int {
        var boot = boot.rawValue
        let bootLength = boot.withUTF8 { bytes in
            let count = min(bytes.count, BootID.maximumLength)
            if let source = bytes.baseAddress, let base = buffer.baseAddress {
                (base + bootOffset).copyMemory(from: source, byteCount: count)
            }
            return count
        }
        buffer.storeBytes(of: (version | UInt64(flags) << 8 | UInt64(bootLength) << 16).littleEndian, toByteOffset: 0, as: UInt64.self)
        return bootLength
    }

    /// Reads a record written by `writeRecord`; nil when the bytes are not a version-1 record.
    public init?(record: UnsafeRawBufferPointer) {
        guard record.count >= 65, record.load(fromByteOffset: 0, as: UInt8.self) == 1 else { return nil }
        let flags = record.load(fromByteOffset: 1, as: UInt8.self)
        let bootLength = Int(record.load(fromByteOffset: 2, as: UInt8.self))
        guard (1...BootID.maximumLength).contains(bootLength), record.count == 64 + bootLength,
            let boot = BootID(String(decoding: UnsafeRawBufferPointer(rebasing: record[64...]), as: UTF8.self))
        else { return nil }
        func double(_ offset: Int) -> Double {
            Double(bitPattern: UInt64(littleEndian: record.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
        }
        func optional(_ index: Int) -> Double? { flags & (1 << UInt8(index)) != 0 ? double(32 + index * 8) : nil }
        self.init(
            boot: boot,
            seq: UInt64(littleEndian: record.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
            timestampMs: Int64(littleEndian: record.loadUnaligned(fromByteOffset: 8, as: Int64.self)),
            waterC: double(24),
            returnC: optional(0),
            roomC: optional(1),
            outdoorC: optional(2),
            burnerPct: optional(3)
        )
    }

    /// The record as bytes; for tests and tools.
    public var record: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.maximumRecordSize) { buffer, count in
            count = self.writeRecord(into: UnsafeMutableRawBufferPointer(buffer))
        }
    }
}

extension TelemetryPayload {
    /// What every reading's record of one payload shares: its flags and boot id, written once by
    /// `prepareRecords(into:)`.
    public struct RecordTemplate: Sendable {
        let flags: UInt8
        let bootLength: Int
    }

    /// A record's flags: bit `field.rawValue` set for each optional field the payload carries.
    var recordFlags: UInt8 {
        var flags: UInt8 = 0
        for field in OptionalField.allCases where self.optionals[field.rawValue].present { flags |= 1 << UInt8(field.rawValue) }
        return flags
    }

    /// Writes into `buffer` (at least `TelemetryReading.maximumRecordSize` bytes) the parts of a record that every
    /// reading of this payload shares (version, flags, boot id), for `writeRecord(_:template:into:)`.
    public func prepareRecords(into buffer: UnsafeMutableRawBufferPointer) -> RecordTemplate {
        let flags = self.recordFlags
        let bootLength = TelemetryReading.writeRecordHeader(boot: self.boot, flags: flags, into: buffer)
        return RecordTemplate(flags: flags, bootLength: bootLength)
    }

    /// Writes reading `index`'s own fields into `buffer`, which `prepareRecords(into:)` prepared for this payload,
    /// and returns the record's length: the same bytes as `self[index].writeRecord(into:)`, without making the
    /// reading (a copy of the boot id per reading, and its reference count).
    @inline(__always)
    public func writeRecord(_ index: Int, template: RecordTemplate, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        buffer.storeBytes(of: (self.firstTimestampMs + Int64(index) * (self.periodMs ?? 0)).littleEndian, toByteOffset: 8, as: Int64.self)
        buffer.storeBytes(of: (self.firstSeq + UInt64(index)).littleEndian, toByteOffset: 16, as: UInt64.self)
        buffer.storeBytes(of: self.water[index].bitPattern.littleEndian, toByteOffset: 24, as: UInt64.self)
        if template.flags == 0 {
            for offset in stride(from: 32, to: 64, by: 8) { buffer.storeBytes(of: 0 as UInt64, toByteOffset: offset, as: UInt64.self) }
        } else {
            for field in OptionalField.allCases {
                let value = self.optionals[field.rawValue].value(at: index) ?? 0
                buffer.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: 32 + 8 * field.rawValue, as: UInt64.self)
            }
        }
        return 64 + template.bootLength
    }
}
