import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `boilerctl`: the command-line client of boilerd's HTTP API.
@main
struct Boilerctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boilerctl",
        abstract: "Ask boilerd about boilers, snapshots, decisions and the telemetry stream.",
        subcommands: [Boilers.self, Boiler.self, Snapshots.self, Decisions.self, Stream.self, Tail.self]
    )
}

/// `--url`, `--token`, `--json`, shared by every command.
struct Connection: ParsableArguments {
    @Option(help: "boilerd's HTTP API. Env: BOILERCTL_URL. Default http://127.0.0.1:8080.")
    var url: String?

    @Option(help: "The API token, if boilerd has one. Env: BOILERCTL_TOKEN (preferred: it keeps the token out of the process list).")
    var token: String?

    @Flag(help: "Print the API's JSON instead of a table.")
    var json = false

    /// GETs `path` (with `query`); returns the body, or throws the API's error message.
    func get(_ path: String, _ query: [String: String?] = [:]) async throws -> Data {
        let environment = ProcessInfo.processInfo.environment
        let base = self.url ?? environment["BOILERCTL_URL"] ?? "http://127.0.0.1:8080"
        guard var components = URLComponents(string: base + path) else { throw ClientError("--url '\(base)' is not a URL") }
        let items = query.compactMap { key, value in value.map { URLQueryItem(name: key, value: $0) } }
        if !items.isEmpty { components.queryItems = items.sorted { $0.name < $1.name } }
        guard let url = components.url else { throw ClientError("--url '\(base)' is not a URL") }
        var request = URLRequest(url: url)
        if let token = self.token ?? environment["BOILERCTL_TOKEN"] { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw ClientError("cannot reach boilerd at \(base): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let body = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            let message = (body?["error"] as? [String: Any])?["message"] as? String ?? String(decoding: data, as: UTF8.self)
            throw ClientError("HTTP \(status): \(message)")
        }
        return data
    }

    /// Prints the JSON as it came, or the table `render` makes of it.
    func show(_ data: Data, _ render: ([String: Any]) -> String) throws {
        if self.json {
            print(String(decoding: data, as: UTF8.self))
            return
        }
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ClientError("boilerd answered something that is not a JSON object")
        }
        print(render(object))
    }
}

struct ClientError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Boilerctl {
    struct Boilers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every boiler: water now, last hourly mean and coverage, last decision.")
        @OptionGroup var connection: Connection

        func run() async throws {
            try self.connection.show(try await self.connection.get("/v1/boilers")) { object in
                Render.boilers(object["boilers"] as? [[String: Any]] ?? [])
            }
        }
    }

    struct Boiler: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One boiler.")
        @OptionGroup var connection: Connection
        @Argument(help: "The boiler id.") var id: String

        func run() async throws {
            try self.connection.show(try await self.connection.get("/v1/boilers/\(Render.pathSegment(self.id))")) { Render.boiler($0) }
        }
    }

    struct Snapshots: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A boiler's hourly snapshots.")
        @OptionGroup var connection: Connection
        @Argument(help: "The boiler id.") var id: String
        @Option(help: "From: milliseconds since 1970 or ISO 8601 (default 7 days ago).") var from: String?
        @Option(help: "To: milliseconds since 1970 or ISO 8601 (default an hour from now).") var to: String?

        func run() async throws {
            let data = try await self.connection.get("/v1/boilers/\(Render.pathSegment(self.id))/snapshots", ["from": self.from, "to": self.to])
            try self.connection.show(data) { Render.snapshots($0["snapshots"] as? [[String: Any]] ?? []) }
        }
    }

    struct Decisions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A boiler's controller decisions.")
        @OptionGroup var connection: Connection
        @Argument(help: "The boiler id.") var id: String
        @Option(help: "From: milliseconds since 1970 or ISO 8601 (default 7 days ago).") var from: String?
        @Option(help: "To: milliseconds since 1970 or ISO 8601 (default an hour from now).") var to: String?

        func run() async throws {
            let data = try await self.connection.get("/v1/boilers/\(Render.pathSegment(self.id))/decisions", ["from": self.from, "to": self.to])
            try self.connection.show(data) { Render.decisions($0["decisions"] as? [[String: Any]] ?? []) }
        }
    }

    struct Stream: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The telemetry stream: messages, bytes, sequences, limits.")
        @OptionGroup var connection: Connection

        func run() async throws {
            try self.connection.show(try await self.connection.get("/v1/stream")) { Render.keyValues($0) }
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Messages of the telemetry stream on a subject (wildcards * and >), with gaps reported.")
        @OptionGroup var connection: Connection
        @Argument(help: "Subject filter, e.g. boiler.b0001.telemetry or boiler.*.telemetry.") var subject: String
        @Option(help: "First sequence to read (default: the last 20 messages' worth of the stream).") var fromSeq: UInt64?
        @Option(help: "Messages per request (1...1000).") var limit = 100
        @Flag(help: "Keep polling for new messages (Ctrl-C to stop).") var follow = false

        func run() async throws {
            var next = self.fromSeq
            if next == nil {
                let info = try JSONSerialization.jsonObject(with: try await self.connection.get("/v1/stream")) as? [String: Any]
                let last = (info?["last_seq"] as? NSNumber)?.uint64Value ?? 0
                next = last > 20 ? last - 19 : 1
            }
            repeat {
                let data = try await self.connection.get(
                    "/v1/stream/messages", ["subject": self.subject, "from_seq": "\(next ?? 1)", "limit": "\(self.limit)"]
                )
                let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
                if self.connection.json {
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    let lines = Render.tail(object)
                    if !lines.isEmpty { print(lines) }
                }
                let advanced = (object["next_seq"] as? NSNumber)?.uint64Value ?? (next ?? 1)
                let received = (object["messages"] as? [Any])?.count ?? 0
                next = advanced
                if self.follow && received < self.limit { try await Task.sleep(for: .seconds(1)) }
            } while self.follow
        }
    }
}
