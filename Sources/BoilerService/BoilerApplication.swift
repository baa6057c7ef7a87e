import HeatingControl
import Hummingbird
import Logging
import Metrics
import MQTT
import PostgresNIO
import RingStream
import ServiceLifecycle
import SnapshotStore
import UnixSignals
import Telemetry

/// Everything boilerd runs, wired: the PostgreSQL client, the streams, the snapshotter, the controller, MQTT
/// ingestion and the HTTP API, as services of one `ServiceGroup` in dependency order. Graceful shutdown runs in
/// reverse: the HTTP server stops, ingestion unsubscribes, the controller stops, the snapshotter checkpoints and
/// writes what is pending, and the PostgreSQL client closes last.
public final class BoilerApplication: Sendable {
    /// All of boilerd's settings.
    public struct Configuration: Sendable {
        /// The broker connection of the ingestion worker (and of commands and snapshot announcements).
        public var mqtt: MQTTClient.Configuration
        /// The telemetry topic filter, with the id position (default `boilers/+/telemetry`).
        public var telemetryFilter: String
        /// Commands and snapshot announcements go to `{topicPrefix}/{id}/...`. Default `boilers`.
        public var topicPrefix: String
        /// Republish rejected payloads' reasons to `{topicPrefix}/{id}/rejected`.
        public var deadLetters: Bool
        public var database: PostgresClient.Configuration
        /// Where the HTTP API listens. Default 127.0.0.1:8080.
        public var httpHost: String
        public var httpPort: Int
        public var api: BoilerAPI.Configuration
        /// The telemetry stream's limits (name `TELEMETRY`, subjects `boiler.*.telemetry`). Its
        /// `prefaultStorage` applies to the decision and snapshot streams too.
        public var stream: RingStream.Configuration
        public var decoder: TelemetryDecoder.Configuration
        public var windows: HourlyWindows.Configuration
        /// Per-boiler limit on readings; none by default (see ``RateLimit``).
        public var rateLimit: RateLimit?
        /// What one telemetry stream message holds: an MQTT message's new readings (the default) or a reading.
        public var storage: IngestPipeline.Storage = .perMessage
        public var snapshots: SnapshotService.Configuration
        public var control: ControlService.Configuration
        public var policy: DefaultControlPolicy
        /// How long graceful shutdown may take before the remaining services are cancelled. Default 9 s.
        public var shutdownGrace: Duration

        public init(
            mqtt: MQTTClient.Configuration,
            database: PostgresClient.Configuration,
            telemetryFilter: String = "boilers/+/telemetry",
            topicPrefix: String = "boilers",
            deadLetters: Bool = false,
            httpHost: String = "127.0.0.1",
            httpPort: Int = 8080,
            api: BoilerAPI.Configuration = .init(),
            stream: RingStream.Configuration = RingStream.Configuration(
                name: "TELEMETRY", subjects: ["boiler.*.telemetry"], maxMessages: 2_000_000, maxBytes: 256 << 20
            ),
            decoder: TelemetryDecoder.Configuration = .init(),
            windows: HourlyWindows.Configuration = .init(),
            rateLimit: RateLimit? = nil,
            snapshots: SnapshotService.Configuration = .init(),
            control: ControlService.Configuration = .init(),
            policy: DefaultControlPolicy = .init(),
            shutdownGrace: Duration = .seconds(9)
        ) {
            self.mqtt = mqtt
            self.database = database
            self.telemetryFilter = telemetryFilter
            self.topicPrefix = topicPrefix
            self.deadLetters = deadLetters
            self.httpHost = httpHost
            self.httpPort = httpPort
            self.api = api
            self.stream = stream
            self.decoder = decoder
            self.windows = windows
            self.rateLimit = rateLimit
            self.snapshots = snapshots
            self.control = control
            self.policy = policy
            self.shutdownGrace = shutdownGrace
        }
    }

    public let configuration: Configuration
    public let postgres: PostgresClient
    public let store: SnapshotStore
    public let telemetry: RingStream
    public let decisions: RingStream
    public let snapshotStream: RingStream
    public let ingest: IngestService
    public let snapshotter: SnapshotService
    public let controller: ControlService
    public let database: DatabaseService
    public let metrics: MetricsPoller
    public let gate = StartupGate()
    public let api: BoilerAPI
    let logger: Logger

    /// Builds every part; nothing connects until `run()`. Throws for settings the parts refuse (a bad topic
    /// filter, stream limits, an MQTT URL).
    public init(
        configuration: Configuration,
        logger: Logger,
        metricsFactory: (any MetricsFactory)? = nil,
        metricsExposition: (@Sendable () -> [UInt8])? = nil
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.postgres = PostgresClient(configuration: configuration.database, backgroundLogger: logger)
        self.store = SnapshotStore(client: self.postgres, logger: logger)
        self.telemetry = try RingStream(configuration: configuration.stream)
        // The controller's decisions and the hourly snapshots: a message per boiler per control tick or hour, so
        // as many IDs as messages cover a 2-minute window for 100,000 boilers (the default, 2M, was sized for
        // telemetry: its index, written at start, took 64 MiB of the two).
        self.decisions = try RingStream(
            configuration: .init(
                name: "DECISIONS", subjects: ["boiler.*.setpoint"], maxMessages: 200_000, maxBytes: 64 << 20,
                maxDuplicateIDs: 200_000, prefaultStorage: configuration.stream.prefaultStorage
            )
        )
        self.snapshotStream = try RingStream(
            configuration: .init(
                name: "SNAPSHOTS", subjects: ["boiler.*.hourly-snapshot"], maxMessages: 200_000, maxBytes: 128 << 20,
                maxDuplicateIDs: 200_000, prefaultStorage: configuration.stream.prefaultStorage
            )
        )
        let layout = try TopicLayout(filter: configuration.telemetryFilter)
        let telemetry = self.telemetry
        self.ingest = try IngestService(
            configuration: .init(mqtt: configuration.mqtt, deadLetters: configuration.deadLetters),
            logger: logger
        ) { deadLetter in
            IngestPipeline(
                layout: layout,
                decoder: TelemetryDecoder(configuration: configuration.decoder),
                windows: configuration.windows,
                stream: telemetry,
                logger: logger,
                deadLetter: deadLetter,
                rateLimit: configuration.rateLimit,
                storage: configuration.storage,
                // The ledger remembers re-sendable readings as long as the stream remembers message IDs.
                ledger: .init(retentionMs: Int64(configuration.stream.duplicateWindow.components.seconds * 1_000))
            )
        }
        var snapshots = configuration.snapshots
        snapshots.topicPrefix = configuration.topicPrefix
        self.snapshotter = SnapshotService(
            configuration: snapshots, store: self.store, pipeline: self.ingest.pipeline, snapshotStream: self.snapshotStream,
            mqtt: self.ingest.client, logger: logger, metricsFactory: metricsFactory
        )
        var control = configuration.control
        control.topicPrefix = configuration.topicPrefix
        self.controller = ControlService(
            configuration: control, policy: configuration.policy, telemetry: self.telemetry, decisions: self.decisions,
            pipeline: self.ingest.pipeline, store: self.store, mqtt: self.ingest.client, logger: logger
        )
        self.database = DatabaseService(store: self.store, snapshots: self.snapshotter, gate: self.gate, logger: logger)
        self.metrics = MetricsPoller(
            pipeline: self.ingest.pipeline, telemetry: self.telemetry, controller: self.controller, mqtt: self.ingest.client,
            factory: metricsFactory
        )
        let (gate, database, mqtt, snapshotter) = (self.gate, self.database, self.ingest.client, self.snapshotter)
        self.api = BoilerAPI(
            configuration: configuration.api,
            pipeline: self.ingest.pipeline,
            telemetry: self.telemetry,
            controller: self.controller,
            store: self.store,
            readiness: {
                [
                    "mqtt_connected": mqtt.isConnected,
                    "postgres_reachable": database.isReachable,
                    "migrated": gate.isOpen,
                    "snapshots_writing": snapshotter.isReady,
                ]
            },
            metrics: metricsExposition,
            metricsFactory: metricsFactory
        )
    }

    /// The HTTP server.
    public func httpServer() -> some Service {
        Application(
            router: self.api.router(),
            configuration: .init(address: .hostname(self.configuration.httpHost, port: self.configuration.httpPort), serverName: "boilerd"),
            logger: self.logger
        )
    }

    /// The services in dependency order (shut down in reverse).
    public func services() -> [any Service] {
        [
            self.postgres,
            self.database,
            GatedService(gate: self.gate, service: self.snapshotter),
            GatedService(gate: self.gate, service: self.controller),
            self.metrics,
            GatedService(gate: self.gate, service: self.ingest),
            self.httpServer(),
        ]
    }

    /// Runs until SIGTERM or SIGINT (or `signals`), then shuts down gracefully.
    public func run(signals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        var group = ServiceGroupConfiguration(services: self.services(), logger: self.logger)
        group.gracefulShutdownSignals = signals
        group.maximumGracefulShutdownDuration = self.configuration.shutdownGrace
        try await ServiceGroup(configuration: group).run()
    }
}
