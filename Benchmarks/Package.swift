// swift-tools-version:6.1
// Benchmarks for BoilerPipeline, kept out of the main package so its users never build package-benchmark.
// Run: cd Benchmarks && swift package benchmark

import PackageDescription

let package = Package(
    name: "BoilerPipelineBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../"),
        .package(url: "https://github.com/ordo-one/package-benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "RingStreamBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                "RingStream",
            ],
            path: "RingStreamBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
