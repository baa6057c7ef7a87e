import Foundation
import TestSupport
import Testing

/// boilerd (the built process) with its own PostgreSQL, stopped for 60 s and started again: `/readyz` answers 503
/// naming `postgres_reachable` while it is away, ingestion goes on, the hour that closes during the outage is
/// written once PostgreSQL is back (exactly one row, nothing lost), and `/readyz` answers 200 again.
@Suite(.enabled(if: TestServices.runMQTT && TestServices.runPostgres))
struct PostgresOutageTests {
    @Test func sixtySecondsWithoutPostgresLoseAndDuplicateNoSnapshot() async throws {
        let mqttURL = try TestServices.requireMQTT()
        _ = try TestServices.requirePostgres()
        try #require(FileManager.default.isExecutableFile(atPath: BoilerdLauncher.binary), "build it first: swift build --product boilerd")
        let postgres = PrivateServices("pg-outage")
        #expect(await postgres.run("start-postgres") == 0)
        defer { postgres.stop() }
        let pgPort = try postgres.port("pg")
        let databaseURL = "postgres://boiler:boiler@127.0.0.1:\(pgPort)/boiler"
        let prefix = "pgout\(UInt32.random(in: 0...UInt32.max))"
        let launcher = try BoilerdLauncher(
            mqttURL: mqttURL, databaseURL: databaseURL, prefix: prefix,
            extra: ["BOILERD_MAX_FUTURE_SKEW_MS=100000000000000", "BOILERD_CHECKPOINT_INTERVAL_MS=1000"]
        )
        let boilerd = try launcher.start()
        defer { _ = boilerd.finish() }
        try await launcher.requireReady(boilerd)

        func readyz() async throws -> (ok: Bool, body: String) {
            let answer = try await run(["curl", "-s", "-w", "\n%{http_code}", "http://127.0.0.1:\(launcher.port)/readyz"])
            return (answer.output.hasSuffix("\n200"), answer.output)
        }
        func publish(seq: Int, firstMs: Int64, values: [Double]) async throws {
            let list = values.map { "\($0)" }.joined(separator: ",")
            let payload = #"{"v":1,"boot":"o","seq":\#(seq),"ts_ms":\#(firstMs),"period_ms":10,"water_c":[\#(list)]}"#
            #expect(try await run(["mosquitto_pub", "-L", "\(mqttURL)/\(prefix)/b1/telemetry", "-q", "1", "-m", payload]).status == 0)
        }
        func rows() async throws -> String {
            try await run(["psql", databaseURL, "-Atc", "SELECT count(*) || ' ' || coalesce(sum(samples), 0) FROM hourly_snapshots"]).output
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let hour0: Int64 = 1_764_165_600_000
        try await publish(seq: 0, firstMs: hour0, values: [60, 61, 62])

        // PostgreSQL goes away for 60 s. Within a few pings /readyz says so.
        let stopped = ContinuousClock.now
        #expect(await postgres.run("stop-postgres") == 0)
        var notReady = false
        for _ in 0..<100 where !notReady {
            notReady = try await !readyz().ok
            if !notReady { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(notReady, "/readyz stayed 200 without PostgreSQL")
        let down = try await readyz().body
        #expect(down.contains(#""postgres_reachable":false"#), "\(down)")
        // The hour closes meanwhile (b1's watermark passes it); the row cannot be written yet.
        try await publish(seq: 3, firstMs: hour0 + 3_600_000 + 6_000, values: [63])
        while ContinuousClock.now - stopped < .seconds(60) {
            try await Task.sleep(for: .seconds(5))
            let stillDown = try await !readyz().ok
            #expect(stillDown, "/readyz answered 200 while PostgreSQL was down")
        }
        #expect(await postgres.run("start-postgres") == 0)

        // Back: ready again, and the closed hour written, once, with all its readings.
        var ready = false
        let deadline = ContinuousClock.now + .seconds(90)
        while !ready && ContinuousClock.now < deadline {
            ready = try await readyz().ok
            if ready { ready = try await rows() == "1 3" }
            if !ready { try await Task.sleep(for: .milliseconds(500)) }
        }
        let (readyAfter, rowsAfter) = (try await readyz().body, try await rows())
        #expect(ready, "after PostgreSQL came back: /readyz \(readyAfter), rows \(rowsAfter)")
        try await Task.sleep(for: .seconds(2))
        #expect(try await rows() == "1 3")
        let metrics = try await run(["curl", "-s", "http://127.0.0.1:\(launcher.port)/metrics"]).output
        #expect(metrics.contains("boiler_snapshots_written_total 1\n"), "\(metrics.split(separator: "\n").filter { $0.contains("snapshot") })")
    }
}
