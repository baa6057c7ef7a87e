extension HourlyAccumulator {
    /// The accumulator as a JSON checkpoint (stored in `window_checkpoints`), exact: doubles are written in
    /// their shortest round-trip form, so `init(checkpoint:)` restores the same state bit for bit.
    public func checkpoint() -> [UInt8] {
        var writer = JSONWriter()
        writer.field("v", Int64(1))
        writer.field("hour_start_ms", self.hourStartMs)
        writer.field("period_ms", self.periodMs)
        writer.field("samples", self.samples)
        writer.field("sum", self.sum)
        writer.field("min", self.samples > 0 ? self.min : nil)
        writer.field("max", self.samples > 0 ? self.max : nil)
        writer.field("mean", self.mean)
        writer.field("m2", self.m2)
        writer.field("first_ts_ms", self.samples > 0 ? self.firstTimestampMs : nil)
        writer.field("last_ts_ms", self.samples > 0 ? self.lastTimestampMs : nil)
        writer.field("max_gap_ms", self.maxGapMs)
        writer.field("duplicates", self.duplicates)
        writer.field("out_of_order", self.outOfOrder)
        writer.field("current_boot", self.currentBoot?.rawValue ?? "")
        var boots = JSONWriter()
        for (boot, seq) in self.highestSeqByBoot.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            boots.field(boot.rawValue, seq)
        }
        writer.rawField("highest_seq", boots.finish())
        return writer.finish()
    }

    /// Restores an accumulator from `checkpoint()`'s output; a damaged checkpoint is a rejection, not a crash.
    public init(checkpoint bytes: [UInt8]) throws(TelemetryRejection) {
        let object = try JSONObjectReader(bytes)
        try object.requireVersion1()
        let time = 0...TelemetryDecoder.maximumTimestampMs
        let count = 0...Int64.max
        let hourStart = try object.integer("hour_start_ms", in: time)
        guard hourStart % hourMs == 0 else {
            throw TelemetryRejection(.valueOutOfRange, "hour_start_ms \(hourStart) is not a whole hour")
        }
        self.init(hourStartMs: hourStart, periodMs: try object.integer("period_ms", in: TelemetryDecoder.periodRange))
        self.samples = UInt64(try object.integer("samples", in: count))
        self.sum = try object.double("sum")
        self.mean = try object.double("mean")
        self.m2 = try object.double("m2")
        self.min = try object.optionalDouble("min") ?? .infinity
        self.max = try object.optionalDouble("max") ?? -.infinity
        self.firstTimestampMs = try object.optionalInteger("first_ts_ms", in: time) ?? .max
        self.lastTimestampMs = try object.optionalInteger("last_ts_ms", in: time) ?? .min
        self.maxGapMs = try object.integer("max_gap_ms", in: count)
        self.duplicates = UInt64(try object.integer("duplicates", in: count))
        self.outOfOrder = UInt64(try object.integer("out_of_order", in: count))
        let seqs = try JSONObjectReader(try object.raw("highest_seq"))
        var boots: [BootID: UInt64] = [:]
        for name in seqs.fields.keys {
            guard let boot = BootID(name) else {
                throw TelemetryRejection(.invalidBoot, "checkpoint boot '\(name.prefix(64))' is not a boot id")
            }
            boots[boot] = UInt64(try seqs.integer(name, in: 0...Int64(TelemetryDecoder.maximumSeq)))
        }
        let current = BootID(try object.string("current_boot"))
        self.currentBoot = current
        self.currentBootHighestSeq = current.flatMap { boots.removeValue(forKey: $0) } ?? 0
        self.earlierBoots = boots
    }
}
