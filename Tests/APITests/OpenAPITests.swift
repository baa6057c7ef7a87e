import BoilerService
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import SnapshotStore
import Telemetry
import TestSupport
import Synchronization
import Testing

/// The snapshot and decision endpoints against a real PostgreSQL, and every kind of response checked against
/// schemas/openapi.yaml by an independent validator (python-jsonschema).
@Suite(.enabled(if: TestServices.runPostgres))
struct OpenAPITests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func snapshotsAndDecisionsComeFromPostgreSQLAndEveryResponseMatchesTheDocument() async throws {
        var logger = Logger(label: "openapi-test")
        logger.logLevel = .critical
        let client = PostgresClient(configuration: try await TestServices.makeDatabase(logger: logger))
        let clientTask = Task { await client.run() }
        defer { clientTask.cancel() }
        let store = SnapshotStore(client: client, logger: logger)
        try await store.migrate()
        // Stream storage `message`, so that the stream's messages include a run's `readings` and a single `reading`.
        let fixture = try APIFixture(store: store, storage: .perMessage)
        try await fixture.populate()
        let hour0 = APIFixture.hour0
        let recorder = Recorder()
        let record = recorder.record
        let registry: @Sendable () -> [UInt8] = { Array("# TYPE x counter\nx 1\n".utf8) }
        let app = Application(router: fixture.api(token: "t0ken", readiness: { ["migrated": true] }, metrics: registry).router())
        try await app.test(.router) { client in
            let snapshots = try await client.get("/v1/boilers/b1/snapshots?from=\(hour0)&to=2025-11-26T15:00:00Z", token: "t0ken")
            #expect(snapshots.status == 200)
            let rows = snapshots.object["snapshots"] as? [[String: Any]] ?? []
            #expect(rows.count == 1 && rows.first?["mean_c"] as? Double == 60 && rows.first?["hour_start_ms"] as? Int64 == hour0)
            record("/v1/boilers/{id}/snapshots", snapshots)
            let empty = try await client.get("/v1/boilers/b1/snapshots?from=0&to=1000", token: "t0ken")
            #expect(empty.status == 200 && (empty.object["snapshots"] as? [Any])?.isEmpty == true)
            let decisions = try await client.get("/v1/boilers/b1/decisions?from=0", token: "t0ken")
            let decisionRows = decisions.object["decisions"] as? [[String: Any]] ?? []
            #expect(decisionRows.count == 1 && decisionRows.first?["reason"] as? String == "lower" && decisionRows.first?["published"] as? Bool == true)
            record("/v1/boilers/{id}/decisions", decisions)
            let unknown = try await client.get("/v1/boilers/zz9/decisions", token: "t0ken")
            #expect(unknown.status == 404)
            record("/v1/boilers/{id}/decisions", unknown)
            let badFrom = try await client.get("/v1/boilers/b1/snapshots?from=yesterday", token: "t0ken")
            #expect(badFrom.status == 400 && badFrom.errorMessage.hasPrefix("from:"))
            record("/v1/boilers/{id}/snapshots", badFrom)
            let reversed = try await client.get("/v1/boilers/b1/snapshots?from=2000&to=1000", token: "t0ken")
            #expect(reversed.status == 400)
            let badLimit = try await client.get("/v1/boilers/b1/decisions?limit=100000", token: "t0ken")
            #expect(badLimit.status == 400 && badLimit.errorMessage.hasPrefix("limit:"))
            for (path, uri) in [
                ("/healthz", "/healthz"), ("/readyz", "/readyz"), ("/metrics", "/metrics"), ("/v1/boilers", "/v1/boilers"),
                ("/v1/boilers/{id}", "/v1/boilers/b1"), ("/v1/boilers/{id}", "/v1/boilers/b2"), ("/v1/boilers/{id}", "/v1/boilers/nope"),
                ("/v1/boilers/{id}", "/v1/boilers/b.1"), ("/v1/stream", "/v1/stream"),
                ("/v1/stream/messages", "/v1/stream/messages?subject=boiler.*.telemetry&limit=3"),
                ("/v1/stream/messages", "/v1/stream/messages?from_seq=x"),
            ] {
                record(path, try await client.get(uri, token: "t0ken"))
            }
            record("/v1/boilers", try await client.get("/v1/boilers"))
        }
        let recorded = recorder.answers.withLock { $0 }.map { path, answer -> [String: Any] in
            let body: Any = answer.contentType.hasPrefix("application/json") ? (answer.json ?? answer.text) : answer.text
            return ["path": path, "method": "get", "status": answer.status, "content_type": answer.contentType, "body": body]
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-\(UInt32.random(in: 0...UInt32.max)).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try JSONSerialization.data(withJSONObject: recorded).write(to: file)
        let result = try await run([
            "python3", Self.repository.appendingPathComponent("schemas/check-openapi.py").path, file.path,
            Self.repository.appendingPathComponent("schemas/openapi.yaml").path,
        ])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("\(recorded.count) responses checked, 0 failures"), "\(result.output)")
    }
}

/// The responses a test saw, by documented path.
final class Recorder: Sendable {
    let answers = Mutex<[(String, Answer)]>([])

    @Sendable func record(_ path: String, _ answer: Answer) {
        self.answers.withLock { $0.append((path, answer)) }
    }
}
