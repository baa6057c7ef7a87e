import ArgumentParser
import BoilerService
import Foundation
import Logging
import Metrics
import MQTT
import PostgresNIO
import Prometheus
import RingStream
import SnapshotStore
import Telemetry

/// `boilerd`: the BoilerPipeline daemon.
@main
struct Boilerd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boilerd",
        abstract: "BoilerPipeline: boiler telemetry over MQTT into an in-memory stream, hourly snapshots in PostgreSQL, and a heating controller.",
        subcommands: [Run.self, CheckConfig.self],
        defaultSubcommand: Run.self
    )
}

/// The settings shared by `run` and `check-config`. Every one can also come from the environment
/// (`BOILERD_<NAME>`) or the config file; the help of each says its default.
struct Options: ParsableArguments {
    @Option(help: "A config file of 'name = value' lines (names as the flags without '--'). Env: BOILERD_CONFIG.")
    var config: String?

    @Option(help: "The MQTT broker, mqtt://host:port or mqtts://host:port. Env: BOILERD_MQTT_URL. Default mqtt://127.0.0.1:1883.")
    var mqttURL: String?

    @Option(help: "MQTT client id; the session is kept under it. Env: BOILERD_MQTT_CLIENT_ID. Default boilerd.")
    var mqttClientID: String?

    @Option(help: "MQTT user name. Env: BOILERD_MQTT_USERNAME. The password: env BOILERD_MQTT_PASSWORD or --mqtt-password-file.")
    var mqttUsername: String?

    @Option(help: "A file holding the MQTT password. Env: BOILERD_MQTT_PASSWORD_FILE.")
    var mqttPasswordFile: String?

    @Option(help: "PEM file of the CAs to trust for mqtts://. Env: BOILERD_MQTT_CA_FILE.")
    var mqttCAFile: String?

    @Flag(help: "Start a clean MQTT session (readings published while boilerd was away are not delivered). Env: BOILERD_MQTT_CLEAN_SESSION.")
    var mqttCleanSession = false

    @Flag(name: .customLong("mqtt-tcp-nodelay"), help: "Set TCP_NODELAY on the MQTT connection: setpoints leave without Nagle's delay, at more CPU per reading received. Env: BOILERD_MQTT_TCP_NODELAY.")
    var mqttTCPNoDelay = false

    @Flag(name: .customLong("mqtt-buffered-reads"), inversion: .prefixedNo, help: "Read the MQTT socket 64 KiB at a time on the network thread (the default); with --no-mqtt-buffered-reads, as libmosquitto does, a few bytes per system call. Env: BOILERD_MQTT_BUFFERED_READS.")
    var mqttBufferedReads: Bool?

    @Flag(name: .customLong("mqtt-buffered-writes"), inversion: .prefixedNo, help: "Write to the MQTT socket through a buffer on the network thread, written out once per pass that may wait and once per receive window (the default); with --no-mqtt-buffered-writes, one system call per packet (each PUBACK), as libmosquitto does. Env: BOILERD_MQTT_BUFFERED_WRITES.")
    var mqttBufferedWrites: Bool?

    @Option(name: .customLong("mqtt-receive-window-us"), help: "The MQTT network thread wakes at most once per this many µs and handles at once what has arrived: less CPU per message, up to this much more delay. 0 = read each message as it comes. Env: BOILERD_MQTT_RECEIVE_WINDOW_US. Default 500.")
    var mqttReceiveWindowUs: Int?

    @Option(help: "Telemetry topic filter; '+' marks the boiler id. Env: BOILERD_TELEMETRY_FILTER. Default boilers/+/telemetry.")
    var telemetryFilter: String?

    @Option(help: "Commands and snapshots go to {prefix}/{id}/setpoint and .../snapshot/hourly. Env: BOILERD_TOPIC_PREFIX. Default boilers.")
    var topicPrefix: String?

    @Flag(help: "Republish each rejected payload's reason to {prefix}/{id}/rejected. Env: BOILERD_DEAD_LETTERS.")
    var deadLetters = false

    @Option(help: "PostgreSQL, postgres://user@host:port/database. Env: BOILERD_DATABASE_URL (required). The password: env BOILERD_DATABASE_PASSWORD or --database-password-file.")
    var databaseURL: String?

    @Option(help: "A file holding the PostgreSQL password. Env: BOILERD_DATABASE_PASSWORD_FILE.")
    var databasePasswordFile: String?

    @Option(help: "Address the HTTP API binds. Env: BOILERD_HTTP_HOST. Default 127.0.0.1.")
    var httpHost: String?

    @Option(help: "Port of the HTTP API. Env: BOILERD_HTTP_PORT. Default 8080.")
    var httpPort: Int?

    @Option(help: "A file holding the API token; with a token every /v1 request needs 'Authorization: Bearer'. Env: BOILERD_API_TOKEN (the token) or BOILERD_API_TOKEN_FILE.")
    var apiTokenFile: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical. Env: BOILERD_LOG_LEVEL. Default info.")
    var logLevel: String?

    @Option(help: "Telemetry stream: most messages kept. Env: BOILERD_STREAM_MAX_MESSAGES. Default 2000000.")
    var streamMaxMessages: Int?

    @Option(help: "Telemetry stream: most bytes kept. Env: BOILERD_STREAM_MAX_BYTES. Default 268435456.")
    var streamMaxBytes: Int?

    @Option(help: "Telemetry stream: most message IDs remembered for dedup (about 110 bytes each); past it IDs are forgotten before their 2-minute window ends, and counted. Env: BOILERD_STREAM_MAX_DUPLICATE_IDS. Default 2097152.")
    var streamMaxDuplicateIDs: Int?

    @Flag(name: .customLong("stream-prefault"), help: "Make the streams' preallocated storage resident at start (about 1.1 GB with the defaults), so memory is flat from the start and a machine without it fails at start rather than later. Env: BOILERD_STREAM_PREFAULT.")
    var streamPrefault = false

    @Option(help: "How late a reading may be and still count, ms. Env: BOILERD_ALLOWED_LATENESS_MS. Default 5000.")
    var allowedLatenessMs: Int64?

    @Option(help: "Fleet silence before the wall clock advances event time, ms. Env: BOILERD_IDLE_ALLOWANCE_MS. Default 60000.")
    var idleAllowanceMs: Int64?

    @Option(help: "Readings dated further ahead of the wall clock are refused, ms. Env: BOILERD_MAX_FUTURE_SKEW_MS. Default 300000.")
    var maxFutureSkewMs: Int64?

    @Option(help: "How often open windows are checkpointed, ms. Env: BOILERD_CHECKPOINT_INTERVAL_MS. Default 5000.")
    var checkpointIntervalMs: Int64?

    @Option(help: "Event time between controller ticks, ms. Env: BOILERD_CONTROL_TICK_MS. Default 60000.")
    var controlTickMs: Int64?

    @Option(help: "What one telemetry stream message holds: 'message' (an MQTT message's new readings as one run record, a third to a quarter of the ingestion work per reading in batches; re-sent readings are told apart per reading all the same; the default) or 'reading' (one reading each). Env: BOILERD_STREAM_STORAGE.")
    var streamStorage: String?

    @Option(help: "Per-boiler limit on readings per second (a burst of 10 s is allowed); messages over it are refused as 'rate-limited'. 0 = no limit. Env: BOILERD_RATE_LIMIT_READINGS_PER_SECOND. Default 0.")
    var rateLimitReadingsPerSecond: Int?

    /// Everything resolved and checked, or the first problem, naming the setting.
    func resolve(environment: [String: String]) throws(Settings.Problem) -> (BoilerApplication.Configuration, Logger.Level) {
        let settings = try Settings(environment: environment, configFile: self.config)
        let mqttURL = settings.string("mqtt-url", flag: self.mqttURL) ?? "mqtt://127.0.0.1:1883"
        var mqtt = MQTTClient.Configuration(
            url: mqttURL,
            clientID: settings.string("mqtt-client-id", flag: self.mqttClientID) ?? "boilerd",
            username: settings.string("mqtt-username", flag: self.mqttUsername),
            password: try settings.secret("mqtt-password", fileFlag: self.mqttPasswordFile),
            cleanSession: try settings.bool("mqtt-clean-session", flag: self.mqttCleanSession, default: false),
            tls: settings.string("mqtt-ca-file", flag: self.mqttCAFile).map { MQTTClient.TLS(caFile: $0) },
            tcpNoDelay: try settings.bool("mqtt-tcp-nodelay", flag: self.mqttTCPNoDelay, default: false),
            receiveWindow: .microseconds(
                try settings.integer("mqtt-receive-window-us", flag: self.mqttReceiveWindowUs, default: 500, range: 0...1_000_000)
            ),
            bufferedReads: try settings.bool("mqtt-buffered-reads", flag: self.mqttBufferedReads, default: true),
            bufferedWrites: try settings.bool("mqtt-buffered-writes", flag: self.mqttBufferedWrites, default: true)
        )
        do {
            _ = try mqtt.endpoint()
        } catch {
            throw Settings.Problem(setting: "mqtt-url", message: "\(error.message)")
        }
        if mqtt.clientID.isEmpty || mqtt.clientID.utf8.count > 128 {
            throw Settings.Problem(setting: "mqtt-client-id", message: "must be 1 to 128 characters")
        }
        mqtt.reconnectDelayMaximumSeconds = 10
        guard let databaseURL = settings.string("database-url", flag: self.databaseURL) else {
            throw Settings.Problem(setting: "database-url", message: "is required (postgres://user@host:port/database)")
        }
        let database: PostgresClient.Configuration
        do {
            database = try SnapshotStore.configuration(url: databaseURL, password: try settings.secret("database-password", fileFlag: self.databasePasswordFile))
        } catch let problem as Settings.Problem {
            throw problem
        } catch {
            throw Settings.Problem(setting: "database-url", message: "\(error)")
        }
        let filter = settings.string("telemetry-filter", flag: self.telemetryFilter) ?? "boilers/+/telemetry"
        do {
            _ = try TopicLayout(filter: filter)
        } catch {
            throw Settings.Problem(setting: "telemetry-filter", message: "\(error)")
        }
        let prefix = settings.string("topic-prefix", flag: self.topicPrefix) ?? "boilers"
        guard !prefix.isEmpty, !prefix.contains("+"), !prefix.contains("#") else {
            throw Settings.Problem(setting: "topic-prefix", message: "must be a topic without wildcards, got '\(prefix)'")
        }
        let levelText = settings.string("log-level", flag: self.logLevel) ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else {
            throw Settings.Problem(setting: "log-level", message: "must be trace, debug, info, notice, warning, error or critical, got '\(levelText)'")
        }
        var apiToken = environment["BOILERD_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if apiToken == nil { apiToken = try settings.secret("api-token", fileFlag: self.apiTokenFile) }
        let stream = RingStreamLimits(
            maxMessages: try settings.integer("stream-max-messages", flag: self.streamMaxMessages, default: 2_000_000, range: 1_000...1_000_000_000),
            maxBytes: try settings.integer("stream-max-bytes", flag: self.streamMaxBytes, default: 256 << 20, range: 1 << 20...1 << 40),
            maxDuplicateIDs: try settings.integer(
                "stream-max-duplicate-ids", flag: self.streamMaxDuplicateIDs, default: 1 << 21, range: 1_000...1 << 30
            )
        )
        var configuration = BoilerApplication.Configuration(
            mqtt: mqtt,
            database: database,
            telemetryFilter: filter,
            topicPrefix: prefix,
            deadLetters: try settings.bool("dead-letters", flag: self.deadLetters, default: false),
            httpHost: settings.string("http-host", flag: self.httpHost) ?? "127.0.0.1",
            httpPort: try settings.integer("http-port", flag: self.httpPort, default: 8080, range: 0...65_535),
            api: .init(apiToken: apiToken)
        )
        configuration.stream.maxMessages = stream.maxMessages
        configuration.stream.maxBytes = stream.maxBytes
        configuration.stream.maxDuplicateIDs = stream.maxDuplicateIDs
        configuration.stream.prefaultStorage = try settings.bool("stream-prefault", flag: self.streamPrefault, default: false)
        configuration.windows.allowedLatenessMs = try settings.integer("allowed-lateness-ms", flag: self.allowedLatenessMs, default: 5_000, range: 0...3_600_000)
        configuration.windows.idleAllowanceMs = try settings.integer("idle-allowance-ms", flag: self.idleAllowanceMs, default: 60_000, range: 0...86_400_000)
        configuration.decoder.maximumFutureSkewMs = try settings.integer("max-future-skew-ms", flag: self.maxFutureSkewMs, default: 300_000, range: 0...Int64.max / 4)
        configuration.snapshots.checkpointIntervalMs = try settings.integer("checkpoint-interval-ms", flag: self.checkpointIntervalMs, default: 5_000, range: 100...3_600_000)
        configuration.control.tickIntervalMs = try settings.integer("control-tick-ms", flag: self.controlTickMs, default: 60_000, range: 1_000...3_600_000)
        let rate = try settings.integer("rate-limit-readings-per-second", flag: self.rateLimitReadingsPerSecond, default: 0, range: 0...100_000_000)
        configuration.rateLimit = rate > 0 ? RateLimit(readingsPerSecond: Double(rate)) : nil
        let storage = settings.string("stream-storage", flag: self.streamStorage) ?? IngestPipeline.Storage.perMessage.rawValue
        guard let storage = IngestPipeline.Storage(rawValue: storage) else {
            throw Settings.Problem(setting: "stream-storage", message: "must be reading or message, got '\(storage)'")
        }
        configuration.storage = storage
        return (configuration, level)
    }
}

struct RingStreamLimits {
    var maxMessages: Int
    var maxBytes: Int
    var maxDuplicateIDs: Int
}


extension Boilerd {
    /// `boilerd run`: runs until SIGTERM or SIGINT.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the pipeline: ingestion, snapshots, controller and HTTP API.")

        @OptionGroup var options: Options

        func run() async throws {
            let (configuration, level) = try resolveOrExit(self.options)
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            let registry = PrometheusCollectorRegistry()
            let factory = PrometheusMetricsFactory(registry: registry)
            MetricsSystem.bootstrap(factory)
            let logger = Logger(label: "boilerd")
            let application: BoilerApplication
            do {
                application = try BoilerApplication(
                    configuration: configuration, logger: logger, metricsFactory: factory,
                    metricsExposition: { registry.emitToBuffer() }
                )
            } catch {
                FileHandle.standardError.write(Data("boilerd: cannot start: \(error)\n".utf8))
                throw ExitCode(2)
            }
            logger.info(
                "boilerd starting",
                metadata: [
                    "mqtt.url": "\(configuration.mqtt.url)", "mqtt.filter": "\(configuration.telemetryFilter)",
                    "http": "\(configuration.httpHost):\(configuration.httpPort)",
                    "postgres": "\(configuration.database.host ?? "?"):\(configuration.database.port ?? 5432)/\(configuration.database.database ?? "")",
                    "api.token": "\(configuration.api.apiToken == nil ? "off" : "on")",
                ]
            )
            try await application.run()
            logger.info("boilerd stopped")
        }
    }

    /// `boilerd check-config`: resolves and checks the settings, prints them (secrets hidden), and exits.
    struct CheckConfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the settings (flags, environment, config file) and print them, secrets hidden.")

        @OptionGroup var options: Options

        func run() async throws {
            let (configuration, level) = try resolveOrExit(self.options)
            print("mqtt-url = \(configuration.mqtt.url)")
            print("mqtt-client-id = \(configuration.mqtt.clientID)")
            print("mqtt-username = \(configuration.mqtt.username ?? "")")
            print("mqtt-password = \(configuration.mqtt.password == nil ? "(none)" : "(set)")")
            print("mqtt-tcp-nodelay = \(configuration.mqtt.tcpNoDelay)")
            print("mqtt-buffered-reads = \(configuration.mqtt.bufferedReads)")
            print("mqtt-buffered-writes = \(configuration.mqtt.bufferedWrites)")
            print("mqtt-receive-window-us = \(configuration.mqtt.receiveWindow.components.attoseconds / 1_000_000_000_000 + configuration.mqtt.receiveWindow.components.seconds * 1_000_000)")
            print("telemetry-filter = \(configuration.telemetryFilter)")
            print("topic-prefix = \(configuration.topicPrefix)")
            print("database = \(configuration.database.host ?? ""):\(configuration.database.port ?? 5432)/\(configuration.database.database ?? "") as \(configuration.database.username)")
            print("database-password = \(configuration.database.password == nil ? "(none)" : "(set)")")
            print("http = \(configuration.httpHost):\(configuration.httpPort)")
            print("api-token = \(configuration.api.apiToken == nil ? "(none)" : "(set)")")
            print("log-level = \(level)")
            print("stream-storage = \(configuration.storage.rawValue)")
            print("rate-limit-readings-per-second = \(configuration.rateLimit.map { "\(Int($0.readingsPerSecond))" } ?? "0 (no limit)")")
        }
    }
}

/// The resolved settings, or one line on standard error naming the setting and exit status 2.
func resolveOrExit(_ options: Options) throws -> (BoilerApplication.Configuration, Logger.Level) {
    do {
        return try options.resolve(environment: ProcessInfo.processInfo.environment)
    } catch {
        FileHandle.standardError.write(Data("\(error.description)\n".utf8))
        throw ExitCode(2)
    }
}
