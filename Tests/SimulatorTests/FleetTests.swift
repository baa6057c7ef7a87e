@testable import boiler_sim
import Telemetry
import Testing

/// The simulator's pure core: same seed, same bytes; payloads of the right shape; faults counted exactly; and a
/// truth that equals what an independent decoder makes of the messages actually sent.
struct FleetTests {
    /// 2026-11-26T10:00:00Z.
    static let start: Int64 = 1_795_687_200_000
    /// After every event time used here, for the decoder's future check.
    static let now: Int64 = start + 48 * hourMs

    static func configuration(
        boilers: Int = 4, periodMs: Int64 = 1_000, batch: Int = 10, durationMs: Int64 = 2 * hourMs, seed: UInt64 = 7,
        faults: String = "", keeps: Bool = true
    ) throws -> Fleet.Configuration {
        Fleet.Configuration(
            boilers: boilers, periodMs: periodMs, batch: batch, startMs: Self.start, durationMs: durationMs, seed: seed,
            keepsWhileDisconnected: keeps, faults: try FaultPlan(parsing: faults)
        )
    }

    /// Every event the fleet makes, to the end.
    static func events(_ configuration: Fleet.Configuration) -> (fleet: Fleet, events: [Fleet.Event]) {
        var fleet = Fleet(configuration: configuration)
        var events: [Fleet.Event] = []
        while fleet.next(into: &events) {}
        return (fleet, events)
    }

    @Test func theSameSeedGivesTheSameBytesAndAnotherSeedDoesNot() throws {
        let first = Self.events(try Self.configuration(faults: "duplicate=0.05,reorder=0.05,drop=0.05,malformed=0.05"))
        let again = Self.events(try Self.configuration(faults: "duplicate=0.05,reorder=0.05,drop=0.05,malformed=0.05"))
        let other = Self.events(try Self.configuration(seed: 8, faults: "duplicate=0.05,reorder=0.05,drop=0.05,malformed=0.05"))
        #expect(first.events.count > 2_000)
        #expect(first.events == again.events)
        #expect(first.fleet.boots == again.fleet.boots)
        #expect(first.events != other.events)
        #expect(first.fleet.boots != other.fleet.boots)
    }

    @Test func batchesCarryConsecutiveReadingsAPeriodApartWithSeqCountingFromZero() throws {
        let (fleet, events) = Self.events(try Self.configuration(boilers: 3, batch: 10, durationMs: 10 * 60_000))
        let decoder = TelemetryDecoder()
        var nextSeq = [UInt64](repeating: 0, count: 3)
        for case .publish(let boiler, let payload) in events {
            let decoded = try decoder.decode(payload, boilerID: BoilerID(fleet.ids[boiler])!, nowMs: Self.now)
            #expect(decoded.count == 10)
            #expect(decoded.periodMs == 1_000)
            #expect(decoded.firstSeq == nextSeq[boiler])
            #expect(decoded.firstTimestampMs == Self.start + Int64(nextSeq[boiler]) * 1_000)
            #expect(decoded.boot.rawValue == fleet.boots[boiler])
            nextSeq[boiler] += 10
            let readings = decoded.readings
            #expect(readings.allSatisfy { (10...90).contains($0.waterC) }, "\(readings.map(\.waterC))")
            #expect(readings.last?.roomC != nil && readings.last?.burnerPct != nil)
        }
        #expect(nextSeq == [600, 600, 600])
        #expect(fleet.readingsDelivered == 1_800)
    }

    @Test func singleReadingsAtTenMillisecondsUseTheSingleForm() throws {
        let (fleet, events) = Self.events(try Self.configuration(boilers: 2, periodMs: 10, batch: 1, durationMs: 1_000))
        #expect(events.count == 200)
        guard case .publish(let boiler, let payload) = events[2] else { Issue.record("not a publish"); return }
        let text = String(decoding: payload, as: UTF8.self)
        #expect(!text.contains("period_ms") && !text.contains("["), "\(text)")
        let decoded = try TelemetryDecoder().decode(payload, boilerID: BoilerID(fleet.ids[boiler])!, nowMs: Self.now)
        #expect(decoded.firstSeq == 1 && decoded.firstTimestampMs == Self.start + 10)
    }

    /// Decodes every message as the pipeline would, dropping re-sent readings by `{id}:{boot}:{seq}`, and
    /// recomputes the truth and the fault counts from what was actually sent.
    @Test func faultsAreCountedExactlyAndTheTruthIsWhatWasDelivered() throws {
        let configuration = try Self.configuration(
            boilers: 5, faults: "duplicate=0.03,reorder=0.02,drop=0.02,malformed=0.02,skew=+2s@b0003,skew=-1500ms@b0001"
        )
        let (fleet, events) = Self.events(configuration)
        let decoder = TelemetryDecoder()
        var seen = Set<String>()
        var duplicateReadings: UInt64 = 0
        var duplicateMessages: UInt64 = 0
        var rejected: [String: UInt64] = [:]
        var inversions: UInt64 = 0
        var lastSeq = [Int64](repeating: -1, count: 5)
        var sums: [String: (count: UInt64, sum: Int64, min: Int64, max: Int64)] = [:]
        for case .publish(let boiler, let payload) in events {
            let id = fleet.ids[boiler]
            let decoded: TelemetryPayload
            do {
                decoded = try decoder.decode(payload, boilerID: BoilerID(id)!, nowMs: Self.now)
            } catch {
                rejected[error.reason.rawValue, default: 0] += 1
                continue
            }
            var fresh = false
            for reading in decoded.readings {
                guard seen.insert("\(id):\(reading.boot):\(reading.seq)").inserted else {
                    duplicateReadings += 1
                    continue
                }
                fresh = true
                let key = "\(id)@\(hourStart(of: reading.timestampMs))"
                let centi = Int64((reading.waterC * 100).rounded())
                #expect(Double(centi) / 100 == reading.waterC, "the sent text is the truth's value")
                let old = sums[key] ?? (0, 0, .max, .min)
                sums[key] = (old.count + 1, old.sum + centi, min(old.min, centi), max(old.max, centi))
            }
            if !fresh { duplicateMessages += 1 }
            // A message sent after a later one of its boiler (its re-sent copy is a duplicate, not an inversion).
            let firstSeq = Int64(decoded.firstSeq)
            if fresh && firstSeq < lastSeq[boiler] { inversions += 1 }
            lastSeq[boiler] = max(lastSeq[boiler], firstSeq)
            // The skewed boilers' clocks.
            if id == "b0003" { #expect((decoded.firstTimestampMs - Self.start) % 1_000 == 2_000 % 1_000 && decoded.firstTimestampMs >= Self.start + 2_000) }
        }
        let faults = fleet.faults
        #expect(faults.duplicateMessages > 10 && faults.droppedMessages > 10 && faults.reorderedMessages > 10 && faults.malformedMessages > 10)
        #expect(duplicateMessages == faults.duplicateMessages)
        #expect(duplicateReadings == faults.duplicateReadings)
        #expect(rejected == faults.malformedByReason, "the real decoder gives each malformed payload its intended reason")
        #expect(inversions == faults.reorderedMessages)
        #expect(faults.skewedBoilers == 2)
        let generated = UInt64(5 * 2 * 3_600)
        #expect(fleet.readingsGenerated == generated)
        #expect(fleet.readingsDelivered == generated - faults.droppedReadings)

        // The truth's complete hours equal the recomputation; the skewed boilers' edge readings fall outside.
        let lines = fleet.truth.lines(ids: fleet.ids, fromMs: Self.start, toMs: Self.start + 2 * hourMs)
        #expect(lines.count == 10)
        for line in lines {
            let sum = try #require(sums["\(line.boilerID)@\(line.hourStartMs)"])
            #expect(line.hour.samples == sum.count)
            #expect(line.hour.sumCenti == sum.sum)
            #expect(line.hour.minCenti == sum.min && line.hour.maxCenti == sum.max)
            #expect(line.hour.meanC == Double(sum.sum) / Double(sum.count) / 100)
        }
        let delivered = sums.values.reduce(0) { $0 + $1.count }
        #expect(delivered == fleet.readingsDelivered)
        #expect(sums["b0003@\(Self.start + 2 * hourMs)"]?.count == 2, "b0003's clock is 2 s ahead: 2 readings past the end")
        #expect(sums["b0001@\(Self.start - hourMs)"]?.count == 2, "b0001's clock is 1.5 s behind: 2 readings before the start")
    }

    @Test func aDisconnectAtQoS1KeepsTheReadingsAndAtQoS0LosesAndCountsThem() throws {
        let kept = Self.events(try Self.configuration(boilers: 2, durationMs: hourMs, faults: "disconnect=30s@15m"))
        #expect(kept.events.filter { $0 == .disconnect }.count == 1 && kept.events.filter { $0 == .reconnect }.count == 1)
        #expect(kept.fleet.readingsDelivered == kept.fleet.readingsGenerated)
        let disconnectAt = try #require(kept.events.firstIndex(of: .disconnect))
        let reconnectAt = try #require(kept.events.firstIndex(of: .reconnect))
        // 30 s of 10-reading messages at 1 s: 3 periods for each of 2 boilers between the two.
        #expect(reconnectAt - disconnectAt - 1 == 6)

        let lost = Self.events(try Self.configuration(boilers: 2, durationMs: hourMs, faults: "disconnect=30s@15m", keeps: false))
        #expect(lost.fleet.faults.lostOfflineReadings == 2 * 30)
        #expect(lost.fleet.readingsDelivered == lost.fleet.readingsGenerated - 60)
        let lines = lost.fleet.truth.lines(ids: lost.fleet.ids, fromMs: Self.start, toMs: Self.start + hourMs)
        #expect(lines.map(\.hour.samples) == [3_570, 3_570])
    }

    @Test func theTruthLineIsTheDocumentedJSON() {
        var hour = GroundTruth.Hour()
        for centi in [6_125, 6_150, 5_990] as [Int64] { hour.add(centi) }
        hour.duplicates = 2
        let line = GroundTruth.Line(boilerID: "b0001", hourStartMs: Self.start, hour: hour)
        #expect(
            String(decoding: line.encoded(), as: UTF8.self)
                == #"{"boiler_id":"b0001","hour_start":"2026-11-26T10:00:00Z","hour_start_ms":1795687200000,"samples":3,"mean_c":60.88333333333333,"min_c":59.9,"max_c":61.5,"duplicates":2}"#
        )
        #expect(iso8601(0) == "1970-01-01T00:00:00Z")
        #expect(iso8601(951_782_400_000) == "2000-02-29T00:00:00Z")
        #expect(iso8601(-1_000) == "1969-12-31T23:59:59Z")
    }

    /// Closed loop: a commanded room setpoint holds until it expires, and the room follows it.
    @Test func aCommandedSetpointSteersTheRoomUntilItExpires() throws {
        let configuration = try Self.configuration(boilers: 1, batch: 60, durationMs: 3 * hourMs)
        let free = Fleet(configuration: configuration)
        var steered = Fleet(configuration: configuration)
        steered.command(boiler: 0, setpointC: 23, validUntilMs: Self.start + 2 * hourMs)
        #expect(steered.setpoint(boiler: 0) == 23 && free.setpoint(boiler: 0) == 20)
        var rooms: [[Double]] = [[], []]
        for (index, fleet) in [(0, free), (1, steered)] {
            var fleet = fleet
            var events: [Fleet.Event] = []
            while fleet.next(into: &events) {
                for case .publish(_, let payload) in events {
                    let decoded = try TelemetryDecoder().decode(payload, boilerID: BoilerID(fleet.ids[0])!, nowMs: Self.now)
                    rooms[index].append(try #require(decoded[decoded.count - 1].roomC))
                }
                events.removeAll()
            }
            // After `validUntil`, the boiler's own setpoint again.
            #expect(fleet.setpoint(boiler: 0) == 20)
        }
        // Second hour (minutes 60...119): the steered room is near 23 °C, the free one near 20 °C.
        let free2 = rooms[0][60..<120].reduce(0, +) / 60, steered2 = rooms[1][60..<120].reduce(0, +) / 60
        #expect(abs(free2 - 20) < 1, "free room \(free2)")
        #expect(abs(steered2 - 23) < 1, "steered room \(steered2)")
    }
}
