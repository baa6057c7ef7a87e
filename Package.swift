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
    ],
    dependencies: [],
    targets: [
        // The in-memory stream engine: standard library and Synchronization only.
        .target(
            name: "RingStream",
            swiftSettings: swiftSettings
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
            dependencies: ["Telemetry"],
            swiftSettings: swiftSettings
        ),
        // Checks that the services started by deploy/local/services.sh are really there.
        .testTarget(
            name: "ServiceTests",
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
