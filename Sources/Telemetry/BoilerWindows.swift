/// One boiler's open windows (usually one; two around an hour's end) and what it has closed.
struct BoilerWindows: Sendable {
    /// Open windows, ascending by hour.
    var open: [HourlyAccumulator] = []
    /// The newest event time seen.
    var newestTimestampMs: Int64 = .min
    /// Hours before this instant are closed: their readings are late.
    var closedThroughMs: Int64
    /// The wall clock when the boiler was last heard from.
    var lastSeenWallMs: Int64
    /// The boiler's reading period, ms.
    var periodMs: Int64
    /// Empty hours reported in a row.
    var silentHours = 0

    init(firstTimestampMs: Int64, periodMs: Int64, wallMs: Int64) {
        self.closedThroughMs = hourStart(of: firstTimestampMs)
        self.lastSeenWallMs = wallMs
        self.periodMs = periodMs
    }

    mutating func add(
        _ payload: TelemetryPayload,
        readings: Range<Int>,
        periodMs: Int64,
        wallMs: Int64,
        fleetWatermarkMs: Int64?,
        configuration: HourlyWindows.Configuration,
        closed: inout [HourlySnapshot],
        late: inout [HourlyWindows.LateKey: UInt64]
    ) -> HourlyWindows.AddOutcome {
        var outcome = HourlyWindows.AddOutcome()
        self.lastSeenWallMs = wallMs
        self.periodMs = periodMs
        let step = payload.periodMs ?? 0
        var index = readings.lowerBound
        let count = readings.upperBound
        while index < count {
            let timestamp = payload.firstTimestampMs + Int64(index) * step
            let hour = hourStart(of: timestamp)
            // Readings are evenly spaced: every reading up to the hour's end goes to the same window.
            let runEnd = step == 0 ? count : Swift.min(count, index + Int((hour + hourMs - timestamp + step - 1) / step))
            if timestamp < self.closedThroughMs {
                late[HourlyWindows.LateKey(boilerID: payload.boilerID, hourStartMs: hour), default: 0] += UInt64(runEnd - index)
                outcome.late += runEnd - index
                index = runEnd
                continue
            }
            let window = self.windowIndex(hour: hour, periodMs: periodMs)
            let boot = payload.boot
            let firstSeq = payload.firstSeq
            payload.water.withUnsafeBufferPointer { water in
                self.open[window].add(
                    run: UnsafeBufferPointer(rebasing: water[index..<runEnd]),
                    firstTimestampMs: payload.firstTimestampMs + Int64(index) * step,
                    stepMs: step,
                    boot: boot,
                    firstSeq: firstSeq + UInt64(index)
                )
            }
            let last = payload.firstTimestampMs + Int64(runEnd - 1) * step
            if last > self.newestTimestampMs { self.newestTimestampMs = last }
            outcome.accepted += runEnd - index
            index = runEnd
        }
        self.silentHours = 0
        var limit = self.newestTimestampMs - configuration.allowedLatenessMs
        if let fleet = fleetWatermarkMs { limit = Swift.min(limit, fleet + configuration.maximumLeadMs) }
        self.close(boilerID: payload.boilerID, through: limit, wallMs: wallMs, configuration: configuration, closed: &closed)
        return outcome
    }

    /// The index of the open window for `hour`, opening one if needed.
    private mutating func windowIndex(hour: Int64, periodMs: Int64) -> Int {
        if let last = self.open.last, last.hourStartMs == hour { return self.open.count - 1 }
        if let found = self.open.firstIndex(where: { $0.hourStartMs == hour }) { return found }
        let position = self.open.firstIndex(where: { $0.hourStartMs > hour }) ?? self.open.count
        self.open.insert(HourlyAccumulator(hourStartMs: hour, periodMs: periodMs), at: position)
        return position
    }

    mutating func recordDuplicates(hourStartMs: Int64, count: UInt64) {
        if let index = self.open.firstIndex(where: { $0.hourStartMs == hourStartMs }) {
            self.open[index].recordDuplicate(count: count)
        }
    }

    /// Hours before `end` are closed (already written): drop any window for them and count their readings late.
    mutating func markClosed(through end: Int64) {
        guard end > self.closedThroughMs else { return }
        self.closedThroughMs = end
        self.open.removeAll { $0.hourEndMs <= end }
    }

    mutating func restore(_ accumulator: HourlyAccumulator) {
        if let index = self.open.firstIndex(where: { $0.hourStartMs == accumulator.hourStartMs }) {
            var merged = accumulator
            merged.merge(self.open[index])
            self.open[index] = merged
        } else {
            let position = self.open.firstIndex(where: { $0.hourStartMs > accumulator.hourStartMs }) ?? self.open.count
            self.open.insert(accumulator, at: position)
        }
        self.closedThroughMs = Swift.min(self.closedThroughMs, accumulator.hourStartMs)
        if accumulator.samples > 0 { self.newestTimestampMs = Swift.max(self.newestTimestampMs, accumulator.lastTimestampMs) }
    }

    /// Closes every hour that ends at or before `limit`, in order, with an empty snapshot for an hour that had no
    /// window (up to `silentHoursReported` in a row, then skipping ahead).
    mutating func close(
        boilerID: BoilerID,
        through limit: Int64,
        wallMs: Int64,
        configuration: HourlyWindows.Configuration,
        closed: inout [HourlySnapshot]
    ) {
        while self.closedThroughMs + hourMs <= limit || (self.open.first.map { $0.hourEndMs <= limit } ?? false) {
            let hour = self.closedThroughMs
            if let first = self.open.first, first.hourStartMs <= hour {
                closed.append(first.snapshot(boilerID: boilerID, closedAtMs: wallMs))
                self.open.removeFirst()
                self.closedThroughMs = Swift.max(hour, first.hourEndMs)
                if first.samples > 0 { self.silentHours = 0 }
                continue
            }
            if self.silentHours < configuration.silentHoursReported {
                let empty = HourlyAccumulator(hourStartMs: hour, periodMs: self.periodMs)
                closed.append(empty.snapshot(boilerID: boilerID, closedAtMs: wallMs))
                self.silentHours += 1
                self.closedThroughMs = hour + hourMs
            } else {
                // Silent too long: skip to the next open window, or to the hour the limit is in.
                let target = Swift.min(self.open.first?.hourStartMs ?? .max, hourStart(of: limit))
                self.closedThroughMs = Swift.max(target, hour + hourMs)
            }
        }
    }

    /// Nothing open and silent for longer than the fleet reports: the boiler can be dropped.
    func isForgettable(_ configuration: HourlyWindows.Configuration) -> Bool {
        self.open.isEmpty && self.silentHours >= configuration.silentHoursReported
    }
}
