// swift-tools-version:6.1
// The stream's tests under the thread sanitizer, on their own (run by .ci/run). `RingStream` and its tests are the
// root package's own folders, linked here, so the sanitized build compiles the stream alone rather than every
// dependency of the root package (PostgresNIO, Hummingbird: about 11 minutes of CI on a 2-core machine).
// The two targets' settings must match the root Package.swift's.
//
//   swift test --package-path .ci/tsan --sanitize=thread

import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "RingStreamThreadSanitizer",
    platforms: [.macOS(.v15)],
    targets: [
        .target(
            name: "RingStream",
            swiftSettings: swiftSettings + [.enableExperimentalFeature("BuiltinModule")]
        ),
        .testTarget(
            name: "RingStreamTests",
            dependencies: ["RingStream"],
            swiftSettings: swiftSettings
        ),
    ]
)
