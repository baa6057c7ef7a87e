import BoilerService
import Foundation
import Hummingbird
import HummingbirdTesting
import Metrics
import Prometheus
import Telemetry
import Testing

/// The HTTP API through HummingbirdTesting: what each endpoint answers, and the errors for bad requests.
struct APITests {
    @Test func healthAndReadiness() async throws {
        let fixture = try APIFixture()
        let ready = Application(router: fixture.api(readiness: { ["mqtt_connected": true, "migrated": true] }).router())
        try await ready.test(.router) { client in
            let health = try await client.get("/healthz")
            #expect(health.status == 200 && health.object["status"] as? String == "alive")
            let readiness = try await client.get("/readyz")
            #expect(readiness.status == 200 && readiness.object["status"] as? String == "ready")
        }
        let notReady = Application(router: fixture.api(readiness: { ["mqtt_connected": false, "migrated": true] }).router())
        try await notReady.test(.router) { client in
            let readiness = try await client.get("/readyz")
            #expect(readiness.status == 503)
            #expect((readiness.object["checks"] as? [String: Bool]) == ["mqtt_connected": false, "migrated": true])
        }
    }

    @Test func theFleetAndOneBoiler() async throws {
        let fixture = try APIFixture()
        try await fixture.populate()
        let app = Application(router: fixture.api().router())
        try await app.test(.router) { client in
            let fleet = try await client.get("/v1/boilers")
            #expect(fleet.status == 200 && fleet.contentType.hasPrefix("application/json"))
            #expect(fleet.object["count"] as? Int == 2)
            let boilers = fleet.object["boilers"] as? [[String: Any]] ?? []
            #expect(boilers.map { $0["boiler_id"] as? String } == ["b1", "b2"])
            let b1 = try await client.get("/v1/boilers/b1").object
            #expect((b1["latest_reading"] as? [String: Any])?["water_c"] as? Double == 62)
            #expect((b1["latest_reading"] as? [String: Any])?["seq"] as? Int == 4)
            #expect((b1["last_snapshot"] as? [String: Any])?["mean_c"] as? Double == 60)
            #expect((b1["last_snapshot"] as? [String: Any])?["samples"] as? Int == 3)
            let decision = b1["last_decision"] as? [String: Any]
            #expect(decision?["trusted"] as? Bool == true && decision?["reason"] as? String == "lower")
            #expect(decision?["room_setpoint_c"] as? Double == 19.6)
            let b2 = try await client.get("/v1/boilers/b2").object
            #expect(b2["last_snapshot"] == nil)
            #expect((b2["last_decision"] as? [String: Any])?["reason"] as? String == "no-snapshot")
        }
    }

    @Test func unknownAndInvalidBoilersAreAnswered404And400() async throws {
        let fixture = try APIFixture()
        try await fixture.populate()
        let app = Application(router: fixture.api().router())
        try await app.test(.router) { client in
            let unknown = try await client.get("/v1/boilers/b9")
            #expect(unknown.status == 404 && unknown.errorCode == "not_found" && unknown.errorMessage.contains("b9"))
            for bad in ["/v1/boilers/b.1", "/v1/boilers/\(String(repeating: "x", count: 65))", "/v1/boilers/..%2F..%2Fetc%2Fpasswd", "/v1/boilers/b1'%3B%20DROP%20TABLE%20x"] {
                let answer = try await client.get(bad)
                #expect(answer.status == 400, "\(bad)")
                #expect(answer.errorCode == "bad_parameter" && answer.errorMessage.hasPrefix("id:"), "\(bad): \(answer.text)")
            }
            let route = try await client.get("/v2/nothing")
            #expect(route.status == 404 && route.errorCode == "not_found")
        }
    }

    /// With stream storage `message`, a message that holds a run lists all its readings; a single reading's
    /// message still has `reading`. The boiler's latest reading is the run's last.
    @Test func streamMessagesListTheReadingsOfARun() async throws {
        let fixture = try APIFixture(storage: .perMessage)
        fixture.feed("b1", seq: 7, firstMs: APIFixture.hour0, values: [60, 60.5, 61])
        fixture.feed("b1", seq: 10, firstMs: APIFixture.hour0 + 30, values: [62])
        // Re-sent readings 8 to 10 and a new one: only seq 11 is stored, as a run of one.
        fixture.feed("b1", seq: 8, firstMs: APIFixture.hour0 + 10, values: [60.5, 61, 62, 63])
        let app = Application(router: fixture.api().router())
        try await app.test(.router) { client in
            let page = try await client.get("/v1/stream/messages?subject=boiler.b1.telemetry&from_seq=1").object
            let messages = page["messages"] as? [[String: Any]] ?? []
            #expect(messages.map { $0["seq"] as? Int } == [1, 2, 3])
            let run = messages.first?["readings"] as? [[String: Any]] ?? []
            #expect(run.map { $0["seq"] as? Int } == [7, 8, 9])
            #expect(run.map { $0["water_c"] as? Double } == [60, 60.5, 61])
            #expect(run.map { $0["ts_ms"] as? Int64 } == [0, 10, 20].map { APIFixture.hour0 + $0 })
            #expect(messages.first?["reading"] == nil)
            #expect((messages[1]["reading"] as? [String: Any])?["seq"] as? Int == 10 && messages[1]["readings"] == nil)
            #expect((messages[2]["reading"] as? [String: Any])?["water_c"] as? Double == 63)
            let boiler = try await client.get("/v1/boilers/b1").object
            #expect((boiler["latest_reading"] as? [String: Any])?["seq"] as? Int == 11)
        }
        #expect(fixture.pipeline.statistics.duplicates == 3)
    }

    @Test func streamMessagesReportTheEvictedRangeAsAGap() async throws {
        let storedAtNs: Int64 = 1_764_165_600_123_456_789
        let fixture = try APIFixture(maxMessages: 10, clock: .nanoseconds({ storedAtNs }))
        for seq in 0..<25 { fixture.feed("b1", seq: seq, firstMs: APIFixture.hour0 + Int64(seq) * 10, values: [50 + Double(seq)]) }
        let registry = PrometheusCollectorRegistry()
        let app = Application(router: fixture.api(metricsFactory: PrometheusMetricsFactory(registry: registry)).router())
        try await app.test(.router) { client in
            let info = try await client.get("/v1/stream").object
            #expect(info["messages"] as? Int == 10 && info["first_seq"] as? Int == 16 && info["last_seq"] as? Int == 25)
            let page = try await client.get("/v1/stream/messages?subject=boiler.b1.telemetry&from_seq=1&limit=5").object
            let gaps = page["gaps"] as? [[String: Any]] ?? []
            #expect(gaps.count == 1 && gaps.first?["first_seq"] as? Int == 1 && gaps.first?["last_seq"] as? Int == 15)
            let messages = page["messages"] as? [[String: Any]] ?? []
            #expect(messages.map { $0["seq"] as? Int } == [16, 17, 18, 19, 20])
            #expect((messages.first?["reading"] as? [String: Any])?["water_c"] as? Double == 65)
            // The store time to the nanosecond (publish-to-stream latency is read from it), and in milliseconds.
            #expect(messages.first?["stored_at_ns"] as? Int == Int(storedAtNs))
            #expect(messages.first?["stored_at_ms"] as? Int == Int(storedAtNs / 1_000_000))
            #expect(page["next_seq"] as? Int == 21)
            #expect(registry.emitToString().contains("boiler_stream_consumer_gaps_total 1\n"))
            let bad: [(String, String)] = [
                ("/v1/stream/messages?subject=boiler..x", "subject:"),
                ("/v1/stream/messages?from_seq=0", "from_seq:"),
                ("/v1/stream/messages?limit=0", "limit:"),
                ("/v1/stream/messages?limit=5000", "limit:"),
                ("/v1/stream/messages?subject=\(String(repeating: "a", count: 300))", "subject:"),
            ]
            for (uri, prefix) in bad {
                let answer = try await client.get(uri)
                #expect(answer.status == 400 && answer.errorCode == "bad_parameter" && answer.errorMessage.hasPrefix(prefix), "\(uri): \(answer.text)")
            }
        }
    }

    @Test func withATokenEveryV1RequestNeedsIt() async throws {
        let fixture = try APIFixture()
        try await fixture.populate()
        let app = Application(router: fixture.api(token: "s3cret-token").router())
        try await app.test(.router) { client in
            let none = try await client.get("/v1/boilers")
            #expect(none.status == 401 && none.errorCode == "unauthorized")
            let wrong = try await client.get("/v1/boilers", token: "s3cret-tokem")
            #expect(wrong.status == 401 && wrong.errorCode == "unauthorized")
            #expect(!wrong.text.contains("s3cret"), "the token is not echoed")
            #expect(try await client.get("/v1/stream/messages", token: "nope").status == 401)
            #expect(try await client.get("/v1/boilers", token: "s3cret-token").status == 200)
            #expect(try await client.get("/healthz").status == 200)
            #expect(try await client.get("/").status == 200)
        }
    }

    @Test func metricsAreExposedInPrometheusFormat() async throws {
        let fixture = try APIFixture()
        try await fixture.populate()
        var topic = "boilers/b1/telemetry"
        var payload = "{not json"
        topic.withUTF8 { topicBytes in payload.withUTF8 { fixture.pipeline.handle(topic: topicBytes, payload: $0) } }
        let registry = PrometheusCollectorRegistry()
        let poller = MetricsPoller(
            pipeline: fixture.pipeline, telemetry: fixture.telemetry, controller: fixture.controller, mqtt: nil,
            factory: PrometheusMetricsFactory(registry: registry)
        )
        poller.poll()
        let app = Application(router: fixture.api(metrics: { registry.emitToBuffer() }).router())
        try await app.test(.router) { client in
            let metrics = try await client.get("/metrics")
            #expect(metrics.status == 200 && metrics.contentType.hasPrefix("text/plain"))
            let lines = Set(metrics.text.split(separator: "\n").map(String.init))
            #expect(lines.contains("boiler_readings_ingested_total 6"))
            #expect(lines.contains(#"boiler_payloads_rejected_total{reason="malformed-json"} 1"#))
            // Six readings in three MQTT messages: three stream messages, each with one ID (stream storage `message`).
            #expect(lines.contains("boiler_stream_last_seq 3.0"))
            #expect(lines.contains("boiler_stream_duplicate_ids 3.0"))
            #expect(lines.contains("boiler_stream_duplicate_ids_forgotten_early_total 0"))
            #expect(lines.contains("boiler_ledger_readings_forgotten_early_total 0"))
            #expect(lines.contains(#"boiler_decisions_total{trusted="true",reason="any"} 1"#))
            #expect(lines.contains(#"boiler_decisions_total{trusted="false",reason="no-snapshot"} 1"#))
            #expect(lines.contains("boiler_windows_open 2.0"))
        }
    }

    @Test func theDashboardIsOneSelfContainedPage() async throws {
        let fixture = try APIFixture()
        let app = Application(router: fixture.api().router())
        try await app.test(.router) { client in
            let page = try await client.get("/")
            #expect(page.status == 200 && page.contentType.hasPrefix("text/html"))
            #expect(page.text.contains("/v1/boilers") && page.text.contains("<svg"))
            // No external assets: nothing is loaded from another origin (the SVG namespace is a name, not a load).
            let text = page.text.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
            #expect(!text.contains("http://") && !text.contains("https://") && !text.contains("src=") && !text.contains("<link"))
        }
    }
}
