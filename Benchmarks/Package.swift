// swift-tools-version:6.1
// Benchmarks for BoilerPipeline, kept out of the main package so its users never build package-benchmark.
// Run: cd Benchmarks && swift package benchmark

import PackageDescription

/// SwiftPM names a path dependency after its folder, so the main package's identity is whatever the clone is
/// called (`main`, `boilerpipeline`, ...).
let mainPackage = Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init) ?? "main"

let package = Package(
    name: "BoilerPipelineBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "RingStreamBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RingStream", package: mainPackage),
            ],
            path: "RingStreamBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "TelemetryBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Telemetry", package: mainPackage),
                .product(name: "RingStream", package: mainPackage),
            ],
            path: "TelemetryBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Not a package-benchmark suite: the worker and load generator that deploy/bench/ingest.sh drives.
        .executableTarget(
            name: "IngestBench",
            dependencies: [
                .product(name: "BoilerService", package: mainPackage),
                .product(name: "SnapshotStore", package: mainPackage),
                .product(name: "HeatingControl", package: mainPackage),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "MQTT", package: mainPackage),
                .product(name: "RingStream", package: mainPackage),
                .product(name: "Telemetry", package: mainPackage),
            ],
            path: "IngestBench"
        ),
    ],
    swiftLanguageModes: [.v6]
)
