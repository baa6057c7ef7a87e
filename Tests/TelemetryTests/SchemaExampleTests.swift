import Foundation
import Telemetry
import TestSupport
import Testing

/// The shared example files under schemas/examples/, checked against both the decoders and an independent JSON
/// Schema validator (python-jsonschema, via schemas/check-examples.py): the decoder accepts exactly what the
/// schema accepts, except the files under `refused/`, which the schema accepts and the receiver refuses for a
/// reason a schema cannot state.
@Suite struct SchemaExampleTests {
    struct Example: CustomStringConvertible {
        var schema: String
        var folder: String
        var name: String
        var url: URL
        var description: String { "\(self.schema)/\(self.folder)/\(self.name)" }
        /// The reason encoded in an invalid example's file name, `reason--what.json`.
        var expectedReason: String? {
            self.folder == "valid" ? nil : String(self.name.split(separator: "--").first ?? "")
        }
    }

    static func examples() throws -> [Example] {
        let root = repositoryRoot.appendingPathComponent("schemas/examples")
        let manager = FileManager.default
        var result: [Example] = []
        for schema in try manager.contentsOfDirectory(atPath: root.path).sorted() {
            for folder in ["valid", "invalid", "refused"] {
                let directory = root.appendingPathComponent(schema).appendingPathComponent(folder)
                guard let files = try? manager.contentsOfDirectory(atPath: directory.path) else { continue }
                for file in files.sorted() where file.hasSuffix(".json") {
                    result.append(
                        Example(
                            schema: schema,
                            folder: folder,
                            name: String(file.dropLast(5)),
                            url: directory.appendingPathComponent(file)
                        )
                    )
                }
            }
        }
        return result
    }

    /// Decodes an example with the decoder for its schema: nil when accepted, else the rejection.
    static func verdict(_ example: Example) throws -> TelemetryRejection? {
        let bytes = [UInt8](try Data(contentsOf: example.url))
        switch example.schema {
        case "telemetry":
            return rejection { () throws(TelemetryRejection) in
                _ = try TelemetryDecoder().decode(bytes, boilerID: b1, nowMs: exampleNowMs)
            }
        case "setpoint-command":
            return rejection { () throws(TelemetryRejection) in _ = try SetpointCommand(decoding: bytes) }
        case "hourly-snapshot":
            return rejection { () throws(TelemetryRejection) in _ = try HourlySnapshot(decoding: bytes) }
        default:
            Issue.record("no decoder for schema '\(example.schema)'")
            return nil
        }
    }

    @Test func decodersGiveEachExampleItsVerdictAndReason() throws {
        let examples = try Self.examples()
        #expect(examples.count > 60)
        for example in examples {
            let result = try Self.verdict(example)
            if let expected = example.expectedReason {
                #expect(result?.reason.rawValue == expected, "\(example): \(result?.description ?? "accepted")")
            } else {
                #expect(result == nil, "\(example): \(result?.description ?? "")")
            }
        }
    }

    @Test func decodersAgreeWithAnIndependentSchemaValidator() async throws {
        let output = try await runPython(repositoryRoot.appendingPathComponent("schemas/check-examples.py").path)
        var schemaVerdicts: [String: Bool] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            schemaVerdicts[String(parts[1])] = parts[0] == "valid"
        }
        let examples = try Self.examples()
        #expect(schemaVerdicts.count == examples.count)
        for example in examples {
            let path = "examples/\(example.schema)/\(example.folder)/\(example.name).json"
            guard let schemaAccepts = schemaVerdicts[path] else {
                Issue.record("the schema validator did not report \(path)")
                continue
            }
            let decoderAccepts = try Self.verdict(example) == nil
            if example.folder == "refused" {
                #expect(schemaAccepts && !decoderAccepts, "\(example)")
            } else {
                #expect(schemaAccepts == decoderAccepts, "\(example): schema \(schemaAccepts), decoder \(decoderAccepts)")
            }
        }
    }

    /// Runs a Python script and returns its standard output; fails the test if Python or jsonschema is missing.
    func runPython(_ script: String) async throws -> String {
        let result = try await run(["python3", script], timeout: 300)
        #expect(result.status == 0, "check-examples.py failed: is python3 with jsonschema installed?")
        return result.output
    }
}
