import Telemetry

/// What the simulator actually delivered, per boiler and hour of event time: the answer the pipeline's snapshot
/// rows must equal. Values are kept in hundredths of a degree, so the sum is exact and the mean is one division.
struct GroundTruth: Sendable {
    struct Hour: Sendable, Hashable {
        /// Readings delivered (each once, however many times it was sent).
        var samples: UInt64 = 0
        /// Their sum, min and max, hundredths of °C.
        var sumCenti: Int64 = 0
        var minCenti: Int64 = .max
        var maxCenti: Int64 = .min
        /// Readings sent again (the pipeline must drop and count them).
        var duplicates: UInt64 = 0

        var meanC: Double? { self.samples == 0 ? nil : Double(self.sumCenti) / Double(self.samples) / 100 }
    }

    /// One line of the truth file.
    struct Line: Sendable, Hashable {
        var boilerID: String
        var hourStartMs: Int64
        var hour: Hour
    }

    /// Per boiler (by index), per hour start.
    private(set) var hours: [[Int64: Hour]]

    init(boilers: Int) {
        self.hours = Array(repeating: [:], count: boilers)
    }

    /// Records one delivered reading.
    mutating func deliver(boiler: Int, timestampMs: Int64, waterCenti: Int64) {
        let start = hourStart(of: timestampMs)
        self.hours[boiler][start, default: Hour()].add(waterCenti)
    }

    /// Records one reading sent again.
    mutating func duplicate(boiler: Int, timestampMs: Int64) {
        self.hours[boiler][hourStart(of: timestampMs), default: Hour()].duplicates += 1
    }

    /// The lines for the complete hours `[fromMs, toMs)` (whole hours only), by boiler then hour.
    func lines(ids: [String], fromMs: Int64, toMs: Int64) -> [Line] {
        var lines: [Line] = []
        for (index, id) in ids.enumerated() {
            var start = hourStart(of: fromMs) == fromMs ? fromMs : hourStart(of: fromMs) + hourMs
            while start + hourMs <= toMs {
                lines.append(Line(boilerID: id, hourStartMs: start, hour: self.hours[index][start] ?? Hour()))
                start += hourMs
            }
        }
        return lines
    }
}

extension GroundTruth.Hour {
    mutating func add(_ centi: Int64) {
        self.samples += 1
        self.sumCenti += centi
        self.minCenti = Swift.min(self.minCenti, centi)
        self.maxCenti = Swift.max(self.maxCenti, centi)
    }
}

extension GroundTruth.Line {
    /// `{"boiler_id","hour_start","samples","mean_c","min_c","max_c","duplicates"}`; hour_start is ISO 8601 UTC and
    /// `hour_start_ms` the same instant in milliseconds.
    func encoded() -> [UInt8] {
        var writer = JSONWriter()
        writer.field("boiler_id", self.boilerID)
        writer.field("hour_start", iso8601(self.hourStartMs))
        writer.field("hour_start_ms", self.hourStartMs)
        writer.field("samples", self.hour.samples)
        writer.field("mean_c", self.hour.meanC)
        writer.field("min_c", self.hour.samples == 0 ? nil : Double(self.hour.minCenti) / 100)
        writer.field("max_c", self.hour.samples == 0 ? nil : Double(self.hour.maxCenti) / 100)
        writer.field("duplicates", self.hour.duplicates)
        return writer.finish()
    }
}

/// `2026-11-26T14:00:00Z` for a whole-second UTC time in milliseconds (proleptic Gregorian calendar).
func iso8601(_ ms: Int64) -> String {
    let seconds = ms >= 0 ? ms / 1_000 : (ms - 999) / 1_000
    var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondOfDay = seconds - days * 86_400
    // Howard Hinnant's civil_from_days.
    days += 719_468
    let era = (days >= 0 ? days : days - 146_096) / 146_097
    let dayOfEra = days - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(year)-\(two(month))-\(two(day))T\(two(secondOfDay / 3_600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))Z"
}
