import Foundation
import Telemetry
import Testing

/// A seeded random-mutation run over the decoders: 1,000,000 mutated payloads, each of which must give a typed
/// result (a payload or a `TelemetryRejection`) and never crash. Replay a failure with its seed.
@Suite struct DecoderFuzzTests {
    static let seeds: [String] = [
        #"{"v":1,"boot":"7f3a","seq":1234,"ts_ms":1764165600010,"water_c":61.25}"#,
        #"{"v":1,"boot":"7f3a","seq":1230,"ts_ms":1764165600000,"period_ms":10,"water_c":[61.2,61.3,61.25],"room_c":[20,20,20],"outdoor_c":-3}"#,
        #"{"v":1,"b\u006fot":"x","seq":1e3,"ts_ms":1.7e12,"water_c":-0.0,"burner_pct":100}"#,
    ]
    static let tokens: [[UInt8]] = [
        "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "-", ".", "e", "E+", "0", "9", "NaN", "Infinity",
        "null", "true", "1e400", "1e-400", "99999999999999999999999", "\u{0}", "\u{1F525}", " ",
    ].map { Array($0.utf8) }

    static func mutate(_ input: [UInt8], using generator: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<6, using: &generator) {
            case 0 where !bytes.isEmpty: bytes[position] = UInt8.random(in: 0...255, using: &generator)
            case 1 where !bytes.isEmpty: bytes.remove(at: position)
            case 2: bytes.insert(contentsOf: tokens.randomElement(using: &generator) ?? [], at: position)
            case 3 where !bytes.isEmpty: bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
            case 4: bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...8, using: &generator)))
            default:
                let end = min(bytes.count, position + Int.random(in: 1...16, using: &generator))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            }
        }
        return bytes
    }

    @Test func oneMillionMutatedPayloadsGiveOnlyTypedResults() {
        var generator = SeededGenerator(seed: 20_261_126)
        let decoder = TelemetryDecoder()
        let seeds = Self.seeds.map { Array($0.utf8) }
        var payload = TelemetryPayload()
        var accepted = 0
        var counts = RejectionCounts()
        for _ in 0..<1_000_000 {
            let bytes = Self.mutate(seeds.randomElement(using: &generator) ?? [], using: &generator)
            do {
                try bytes.withUnsafeBufferPointer { buffer throws(TelemetryRejection) in
                    try decoder.decode(buffer, boilerID: b1, into: &payload, nowMs: exampleNowMs)
                }
                accepted += 1
                // Whatever got through must satisfy the schema's ranges.
                for index in 0..<payload.count where !TelemetryDecoder.waterRange.contains(payload[index].waterC) {
                    Issue.record("accepted an out-of-range water temperature from \(String(decoding: bytes, as: UTF8.self))")
                }
            } catch {
                counts.record(error.reason)
                #expect(!error.detail.isEmpty)
            }
        }
        #expect(accepted + Int(counts.total) == 1_000_000)
        // The mutations reach deep: most reasons are hit, and some mutants stay valid.
        #expect(accepted > 1_000)
        #expect(RejectionReason.allCases.filter { counts[$0] > 0 }.count >= 12)
    }

    @Test func snapshotAndSetpointDecodersSurviveMutations() {
        var generator = SeededGenerator(seed: 99)
        let seeds = [
            SetpointCommand(decisionID: "b1:1", roomSetpointC: 20.5, issuedAtMs: 1, validUntilMs: 2, reason: "ok").encoded(),
            HourlyAccumulator(hourStartMs: hour0).snapshot(boilerID: b1, closedAtMs: hour0 + 3_700_000).encoded(),
            HourlyAccumulator(hourStartMs: hour0).checkpoint(),
        ]
        for _ in 0..<100_000 {
            let bytes = Self.mutate(seeds.randomElement(using: &generator) ?? [], using: &generator)
            _ = try? SetpointCommand(decoding: bytes)
            _ = try? HourlySnapshot(decoding: bytes)
            _ = try? HourlyAccumulator(checkpoint: bytes)
        }
    }

    /// The libFuzzer corpus (Tests/Fuzz/corpus, grown by deploy/local/fuzz.sh) replayed through the decoders the
    /// fuzzer drives, as it does: the first byte picks the decoder. Every input gives a typed result.
    @Test func theFuzzCorpusGivesOnlyTypedResults() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(files.count >= 60)
        let decoder = TelemetryDecoder()
        var payload = TelemetryPayload()
        var decoded = 0
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(file)))
            guard let selector = bytes.first else { continue }
            let input = Array(bytes.dropFirst())
            switch selector % 4 {
            case 0:
                do {
                    try input.withUnsafeBufferPointer { buffer throws(TelemetryRejection) in
                        try decoder.decode(buffer, boilerID: b1, into: &payload, nowMs: exampleNowMs)
                    }
                    decoded += 1
                    for index in 0..<payload.count {
                        #expect(TelemetryDecoder.waterRange.contains(payload[index].waterC), "\(file)")
                    }
                } catch {
                    #expect(!error.detail.isEmpty, "\(file)")
                }
            case 1: _ = try? SetpointCommand(decoding: input)
            case 2: _ = try? HourlySnapshot(decoding: input)
            default: _ = try? HourlyAccumulator(checkpoint: input)
            }
        }
        #expect(decoded > 0, "no corpus input decoded as telemetry")
    }
}
