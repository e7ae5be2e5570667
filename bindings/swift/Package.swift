// swift-tools-version:5.10
// PunchCore for iOS (and macOS): uniffi's generated Swift over the Rust
// library (target PunchCore), and the platform adapters an app plugs into
// it (target PunchCorePlatform: Secure Enclave keys, App Attest, URLSession,
// clock, Keychain, CoreLocation, BGTaskScheduler). Generated and
// hand-written code are separate targets so regenerating never touches the
// adapters. Not compiled on the project's Linux build machines (no Swift
// there): see README.md for what has and has not been compiled.
import PackageDescription

// Must match IPHONEOS_DEPLOYMENT_TARGET / MACOSX_DEPLOYMENT_TARGET in
// build-xcframework.sh: the static library is built for these versions.
let package = Package(
    name: "PunchCore",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "PunchCore", targets: ["PunchCore", "PunchCorePlatform"]),
    ],
    targets: [
        // A static punchcoreFFI.framework per platform (libpunchcore.a, punchcoreFFI.h,
        // Modules/module.modulemap), made by build-xcframework.sh.
        // A release consumes it by URL instead: see release-xcframework.sh.
        .binaryTarget(name: "punchcoreFFI", path: "punchcoreFFI.xcframework"),
        // PunchCore.swift is generated (scripts/gen-bindings.sh); PunchCore+Async.swift is
        // hand-written. The privacy manifest ships here, with the library that
        // makes the required-reason calls (SQLite's file timestamps, boot time).
        .target(
            name: "PunchCore",
            dependencies: ["punchcoreFFI"],
            path: "Sources/PunchCore",
            resources: [.copy("PrivacyInfo.xcprivacy")]
        ),
        // Hand-written platform adapters, reviewed against Apple's documentation.
        .target(
            name: "PunchCorePlatform",
            dependencies: ["PunchCore"],
            path: "Sources/PunchCorePlatform"
        ),
    ]
)
