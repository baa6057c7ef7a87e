import Foundation
import Telemetry
import Testing

@Suite struct TelemetryDecoderTests {
    let decoder = TelemetryDecoder()

    @Test func singleReadingCarriesEveryField() throws {
        let payload = try self.decoder.decode(
            #"{"v":1,"boot":"7f3a","seq":1234,"ts_ms":1764165600010,"water_c":61.25,"return_c":48.5,"burner_pct":42}"#
        )
        #expect(payload.boilerID == b1)
        #expect(payload.count == 1)
        #expect(payload.periodMs == nil)
        #expect(
            payload[0]
                == TelemetryReading(
                    boot: BootID("7f3a")!, seq: 1234, timestampMs: 1_764_165_600_010, waterC: 61.25, returnC: 48.5,
                    burnerPct: 42
                )
        )
    }

    @Test func batchExpandsSeqAndTimeAndOptionalSeries() throws {
        let payload = try self.decoder.decode(
            #"{"v":1,"boot":"b","seq":10,"ts_ms":1000,"period_ms":10,"water_c":[60,60.5,61],"outdoor_c":-4,"room_c":[20,20.1,20.2]}"#
        )
        #expect(payload.readings.map(\.seq) == [10, 11, 12])
        #expect(payload.readings.map(\.timestampMs) == [1000, 1010, 1020])
        #expect(payload.readings.map(\.waterC) == [60, 60.5, 61])
        #expect(payload.readings.map(\.outdoorC) == [-4, -4, -4])
        #expect(payload.readings.map(\.roomC) == [20, 20.1, 20.2])
        #expect(payload.readings.map(\.returnC) == [nil, nil, nil])
        #expect(payload.lastTimestampMs == 1020)
    }

    @Test func numbersConvertExactlyLikeTheStandardLibrary() throws {
        var generator = SeededGenerator(seed: 7)
        var texts = ["0", "-0.0", "150", "-20", "1e2", "1.5E+1", "0.1", "0.30000000000000004", "61.250000000000000001",
                     "12345678901234567890e-18", "1.00000000000000011102230246251565404236316680908203125",
                     "99.99999999999999999999", "4.9406564584124654e-324"]
        for _ in 0..<2_000 {
            let value = Double.random(in: -20...150, using: &generator)
            texts.append("\(value)")
            texts.append(String(format: "%.3f", value))
        }
        for text in texts {
            let payload = try self.decoder.decode(#"{"v":1,"boot":"b","seq":0,"ts_ms":0,"water_c":\#(text)}"#)
            #expect(payload[0].waterC == Double(text), "\(text)")
        }
    }

    /// Short decimals (up to 15 digits, no exponent) take a fast path in arrays and single values alike; each must
    /// come out bit for bit as the standard library reads it, the sign of zero included, and the numbers just past
    /// its reach (16 digits, an exponent) must too.
    @Test func shortDecimalsConvertBitForBitLikeTheStandardLibrary() throws {
        var generator = SeededGenerator(seed: 11)
        var texts = ["0", "-0", "-0.0", "0.0", "0.000000000000001", "-0.00000000000001", "149.999999999999",
                     "61.2345678901234", "61.23456789012345", "-19.9999999999999", "100", "1E1", "2e-1", "0.1e1"]
        for _ in 0..<3_000 {
            let integer = Int.random(in: 0...149, using: &generator)
            let fraction = String((0..<Int.random(in: 0...13, using: &generator)).map { _ in
                Character(String(Int.random(in: 0...9, using: &generator)))
            })
            let sign = integer < 20 && Bool.random(using: &generator) ? "-" : ""
            texts.append(fraction.isEmpty ? "\(sign)\(integer)" : "\(sign)\(integer).\(fraction)")
        }
        for chunk in stride(from: 0, to: texts.count, by: 100) {
            let batch = Array(texts[chunk..<min(chunk + 100, texts.count)])
            let payload = try self.decoder.decode(
                #"{"v":1,"boot":"b","seq":0,"ts_ms":0,"period_ms":10,"water_c":[ \#(batch.joined(separator: " , "))]}"#
            )
            #expect(payload.count == batch.count)
            for (index, text) in batch.enumerated() {
                #expect(payload[index].waterC.bitPattern == Double(text)?.bitPattern, "\(text) in a batch")
            }
        }
        for text in texts.prefix(300) {
            let payload = try self.decoder.decode(#"{"v":1,"boot":"b","seq":0,"ts_ms":0,"water_c": \#(text)}"#)
            #expect(payload[0].waterC.bitPattern == Double(text)?.bitPattern, "\(text)")
        }
    }

    /// What the fast path does not read, the full reader still rejects, with the same reason wherever it stands.
    @Test func malformedNumbersInBatchesAreRejectedAsBefore() {
        let cases: [(String, RejectionReason)] = [
            ("01.5", .malformedJSON), ("-01", .malformedJSON), ("1.", .malformedJSON), ("-", .malformedJSON),
            (".5", .malformedJSON), ("1.5e", .malformedJSON), ("1.5e+", .malformedJSON), ("--1", .malformedJSON),
            ("1.2.3", .malformedJSON), ("-Infinity", .notFinite), ("NaN", .notFinite), ("1e400", .notFinite),
            ("151", .waterOutOfRange), ("-20.0000000000001", .waterOutOfRange), ("\"61\"", .wrongType),
        ]
        for (text, reason) in cases {
            for body in ["[\(text)]", "[61.5,\(text)]", "[61.5, \(text) ,62]"] {
                let json = #"{"v":1,"boot":"b","seq":0,"ts_ms":0,"period_ms":10,"water_c":\#(body)}"#
                #expect(throws: TelemetryRejection.self, "\(body)") { try self.decoder.decode(json) }
                do {
                    _ = try self.decoder.decode(json)
                } catch {
                    #expect(error.reason == reason, "\(body): \(error.detail)")
                }
            }
        }
    }

    @Test func everyRejectionNamesItsField() {
        let cases: [(String, RejectionReason, String)] = [
            (#"{"v":1,"boot":"b","seq":0,"ts_ms":0,"water_c":"hot"}"#, .wrongType, "water_c"),
            (#"{"v":1,"boot":"b","seq":-3,"ts_ms":0,"water_c":50}"#, .invalidSeq, "seq"),
            (#"{"v":1,"boot":"b","seq":0,"ts_ms":0,"water_c":151}"#, .waterOutOfRange, "water_c"),
            (#"{"v":1,"boot":"b","seq":0,"ts_ms":0,"water_c":50,"colour":"red"}"#, .unknownField, "colour"),
            (#"{"v":1,"boot":"b","seq":0,"ts_ms":0}"#, .missingField, "water_c"),
            (#"{"v":1,"boot":"b","seq":0,"ts_ms":0,"period_ms":10,"water_c":[1,2],"room_c":[1]}"#,
             .arrayLengthMismatch, "room_c"),
        ]
        for (text, reason, field) in cases {
            let error = rejection { () throws(TelemetryRejection) in _ = try self.decoder.decode(text) }
            #expect(error?.reason == reason, "\(text)")
            #expect(error?.detail.contains(field) == true, "\(error?.description ?? "accepted") should name \(field)")
        }
    }

    /// Keys are matched by length first; every near miss of a field's name (one byte changed, one added, one
    /// dropped) must still be refused as unknown, and a name spelled with escapes must still be that field.
    @Test func keysMatchFieldNamesExactly() throws {
        let names = ["v", "boot", "seq", "ts_ms", "period_ms", "water_c", "return_c", "room_c", "outdoor_c", "burner_pct"]
        var nearMisses: Set<String> = []
        for name in names {
            let bytes = Array(name.utf8)
            for index in bytes.indices {
                for replacement in [UInt8(ascii: "x"), UInt8(ascii: "p"), UInt8(ascii: "_")] where bytes[index] != replacement {
                    var changed = bytes
                    changed[index] = replacement
                    nearMisses.insert(String(decoding: changed, as: UTF8.self))
                }
            }
            nearMisses.insert(name + "s")
            nearMisses.insert(String(name.dropLast()))
            nearMisses.insert("p" + name.dropFirst())
        }
        nearMisses.subtract(names)
        nearMisses.remove("")
        for key in nearMisses.sorted() {
            let text = #"{"v":1,"boot":"b","seq":0,"ts_ms":0,"water_c":50,"\#(key)":1}"#
            let error = rejection { () throws(TelemetryRejection) in _ = try self.decoder.decode(text) }
            #expect(error?.reason == .unknownField, "\(key)")
        }

        func escaped(_ key: String) -> String {
            let first = key.utf8.first ?? 0
            return "\\u00" + String(first, radix: 16) + key.dropFirst()
        }
        let fields = [("v", "1"), ("boot", #""b""#), ("seq", "7"), ("ts_ms", "1000"), ("water_c", "50"),
                      ("return_c", "40"), ("room_c", "20"), ("outdoor_c", "5"), ("burner_pct", "10")]
        let single = "{" + fields.map { #""\#(escaped($0.0))":\#($0.1)"# }.joined(separator: ",") + "}"
        #expect(
            try self.decoder.decode(single)[0]
                == TelemetryReading(
                    boot: BootID("b")!, seq: 7, timestampMs: 1000, waterC: 50, returnC: 40, roomC: 20, outdoorC: 5,
                    burnerPct: 10
                )
        )
        let batch = #"{"v":1,"boot":"b","seq":7,"ts_ms":1000,"\#(escaped("period_ms"))":10,"water_c":[50,51]}"#
        #expect(try self.decoder.decode(batch).readings.map(\.timestampMs) == [1000, 1010])
    }

    @Test func wallClockCheckUsesTheNewestReadingAndIsConfigurable() throws {
        let now: Int64 = 10_000_000
        let batch = #"{"v":1,"boot":"b","seq":0,"ts_ms":10299000,"period_ms":1000,"water_c":[50,50,50]}"#
        // Newest reading 10,301,000: 301 s ahead; the default allows 300 s.
        #expect(
            rejection { () throws(TelemetryRejection) in _ = try self.decoder.decode(batch, nowMs: now) }?.reason
                == .timestampInFuture
        )
        let lenient = TelemetryDecoder(configuration: .init(maximumFutureSkewMs: 302_000))
        #expect(try lenient.decode(batch, nowMs: now).count == 3)
    }

    @Test func oversizedPayloadIsRefusedBeforeParsing() {
        let big = "{" + String(repeating: " ", count: 70_000) + "}"
        let error = rejection { () throws(TelemetryRejection) in _ = try self.decoder.decode(big) }
        #expect(error?.reason == .payloadTooLarge)
    }

    @Test func payloadIsReusedWithoutLeakingFieldsFromThePreviousOne() throws {
        var payload = TelemetryPayload()
        let first = Array(#"{"v":1,"boot":"a","seq":0,"ts_ms":0,"water_c":50,"room_c":21}"#.utf8)
        let second = Array(#"{"v":1,"boot":"a","seq":1,"ts_ms":10,"water_c":51}"#.utf8)
        for bytes in [first, second] {
            try bytes.withUnsafeBufferPointer { buffer throws(TelemetryRejection) in
                try self.decoder.decode(buffer, boilerID: b1, into: &payload, nowMs: exampleNowMs)
            }
        }
        #expect(payload.count == 1)
        #expect(payload[0].roomC == nil)
        #expect(payload[0].waterC == 51)
    }

    @Test func rejectionsAreCountedByReason() {
        var counts = RejectionCounts()
        for text in ["{", "[]", #"{"v":2}"#, "{"] {
            if let error = rejection({ () throws(TelemetryRejection) in _ = try self.decoder.decode(text) }) {
                counts.record(error.reason)
            }
        }
        #expect(counts[.malformedJSON] == 2)
        #expect(counts[.wrongType] == 1)
        #expect(counts.total == 4)
    }
}

@Suite struct TopicLayoutTests {
    @Test func defaultLayoutTakesTheIdFromTheSecondSegment() throws {
        #expect(try TopicLayout.default.boilerID(in: "boilers/b0001/telemetry") == b1)
    }

    @Test func partitionedLayoutNamesTheIdPosition() throws {
        let layout = try TopicLayout(filter: "part/+/+/telemetry", idPosition: 2)
        #expect(try layout.boilerID(in: "part/7/b0002/telemetry") == b2)
        #expect(layout.topic(for: b2, fill: "3") == "part/3/b0002/telemetry")
    }

    @Test func topicsThatDoNotMatchOrCarryBadIdsAreRejected() {
        let cases: [(String, RejectionReason)] = [
            ("boilers/b1/status", .topicMismatch),
            ("boilers/b1/telemetry/extra", .topicMismatch),
            ("boilers/telemetry", .topicMismatch),
            ("other/b1/telemetry", .topicMismatch),
            ("boilers//telemetry", .invalidBoilerID),
            ("boilers/b 1/telemetry", .invalidBoilerID),
            ("boilers/'; DROP TABLE x;--/telemetry", .invalidBoilerID),
            ("boilers/\(String(repeating: "x", count: 65))/telemetry", .invalidBoilerID),
        ]
        for (topic, reason) in cases {
            let error = rejection { () throws(TelemetryRejection) in _ = try TopicLayout.default.boilerID(in: topic) }
            #expect(error?.reason == reason, "\(topic)")
        }
        #expect(BoilerID(String(repeating: "x", count: 64)) != nil)
    }

    @Test func unusableFiltersAreConfigurationErrors() {
        #expect(throws: TopicLayoutError.self) { try TopicLayout(filter: "boilers/#") }
        #expect(throws: TopicLayoutError.self) { try TopicLayout(filter: "boilers/x/telemetry") }
        #expect(throws: TopicLayoutError.self) { try TopicLayout(filter: "part/+/+/telemetry", idPosition: 3) }
        #expect(throws: TopicLayoutError.self) { try TopicLayout(filter: "a//+") }
    }
}
