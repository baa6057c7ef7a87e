// swift-tools-version:6.1
// BoilerPipeline: boiler telemetry over MQTT into a JetStream-like in-memory stream,
// hourly snapshots in PostgreSQL, and a heating controller that acts only on trusted data.

import PackageDescription

/// One settings array for every target (CONVENTIONS.md row 1).
let swiftSettings: [SwiftSetting] = [
    // https://github.com/apple/swift-evolution/blob/main/proposals/0335-existential-any.md
    .enableUpcomingFeature("ExistentialAny"),
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0444-member-import-visibility.md
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "BoilerPipeline",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RingStream", targets: ["RingStream"]),
        .library(name: "Telemetry", targets: ["Telemetry"]),
        .library(name: "MQTT", targets: ["MQTT"]),
        .library(name: "SnapshotStore", targets: ["SnapshotStore"]),
        .library(name: "HeatingControl", targets: ["HeatingControl"]),
        .library(name: "BoilerService", targets: ["BoilerService"]),
        .executable(name: "boiler-sim", targets: ["boiler-sim"]),
        .executable(name: "boilerd", targets: ["boilerd"]),
        .executable(name: "boilerctl", targets: ["boilerctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // Without its default traits (swift-configuration support, full Foundation): neither is used here.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // The in-memory stream engine: standard library and Synchronization only. The compiler's `Builtin`
        // module gives it the CPU's prefetch instruction (MemoryHints.swift), which Swift has no public spelling
        // of. .ci/tsan/Package.swift repeats this target and its tests' for the thread sanitizer: keep them alike.
        .target(
            name: "RingStream",
            swiftSettings: swiftSettings + [.enableExperimentalFeature("BuiltinModule")]
        ),
        .testTarget(
            name: "RingStreamTests",
            dependencies: ["RingStream"],
            swiftSettings: swiftSettings
        ),
        // Domain values and pure logic: payload codecs, validation, hourly windows. No I/O, no clock.
        .target(
            name: "Telemetry",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TelemetryTests",
            dependencies: ["Telemetry", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        // libmosquitto (Debian's libmosquitto-dev), found through pkg-config.
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),
        // libmosquitto's socket reads, buffered on its network thread: one system call per 64 KiB instead of
        // four or five per message (a definition of `read`; see its source).
        .target(name: "CSocketReadBuffer"),
        // A safe Swift MQTT client over libmosquitto.
        .target(
            name: "MQTT",
            dependencies: [
                "CMosquitto",
                "CSocketReadBuffer",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The control law, trust gate and safety envelope: pure.
        .target(
            name: "HeatingControl",
            dependencies: ["Telemetry"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HeatingControlTests",
            dependencies: ["HeatingControl", "Telemetry"],
            swiftSettings: swiftSettings
        ),
        // PostgreSQL: migrations (schemas/sql, embedded), snapshots, checkpoints, decisions.
        .target(
            name: "SnapshotStore",
            dependencies: [
                "Telemetry",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [
                .embedInCode("Migrations/001_initial.sql"),
                .embedInCode("Migrations/002_checkpoint_sets.sql"),
                .embedInCode("Migrations/003_written_at.sql"),
                .embedInCode("Migrations/004_late_increments.sql"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SnapshotStoreTests",
            dependencies: [
                "SnapshotStore",
                "Telemetry",
                "TestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Wiring: the services (ingestion so far) that boilerd runs in one ServiceGroup.
        .target(
            name: "BoilerService",
            dependencies: [
                "RingStream",
                "Telemetry",
                "MQTT",
                "SnapshotStore",
                "HeatingControl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The daemon: settings from flags, environment and config file; logging and Prometheus wired here.
        .executableTarget(
            name: "boilerd",
            dependencies: [
                "BoilerService",
                "RingStream",
                "MQTT",
                "SnapshotStore",
                "Telemetry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The command-line client of the HTTP API.
        .executableTarget(
            name: "boilerctl",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),
        // The HTTP API with HummingbirdTesting, boilerd's settings, and boilerctl's formatting.
        .testTarget(
            name: "APITests",
            dependencies: [
                "BoilerService",
                "boilerd",
                "boilerctl",
                "HeatingControl",
                "MQTT",
                "RingStream",
                "SnapshotStore",
                "Telemetry",
                "TestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // Tests that need the real mosquitto started by deploy/local/services.sh.
        .testTarget(
            name: "IngestTests",
            dependencies: [
                "BoilerService",
                "CSocketReadBuffer",
                "HeatingControl",
                "SnapshotStore",
                "TestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                "MQTT",
                "RingStream",
                "Telemetry",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The boiler fleet simulator: thermal model, faults, ground truth, closed loop over MQTT.
        .executableTarget(
            name: "boiler-sim",
            dependencies: [
                "MQTT",
                "Telemetry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "simulator",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SimulatorTests",
            dependencies: ["boiler-sim", "Telemetry", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),
        // Checks that the services started by deploy/local/services.sh are really there.
        .testTarget(
            name: "ServiceTests",
            dependencies: ["TestSupport"],
            swiftSettings: swiftSettings
        ),
        // How tests find the services (and skip or fail without them), and a process runner.
        .target(
            name: "TestSupport",
            dependencies: [
                "BoilerService",
                "SnapshotStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
