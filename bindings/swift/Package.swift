// swift-tools-version:5.9
// PunchCore for iOS (and macOS): uniffi's generated Swift over the Rust
// library, shipped as an XCFramework built on a Mac by build-xcframework.sh.
// Not compiled on the project's Linux build machines (no Swift there):
// see README.md for what has and has not been compiled.
import PackageDescription

let package = Package(
    name: "PunchCore",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "PunchCore", targets: ["PunchCore"]),
    ],
    targets: [
        // libpunchcore.a per platform + punchcoreFFI.h + module.modulemap.
        .binaryTarget(name: "punchcoreFFI", path: "punchcoreFFI.xcframework"),
        // PunchCore.swift is generated (scripts/gen-bindings.sh); PunchCore+Async.swift is hand-written.
        .target(name: "PunchCore", dependencies: ["punchcoreFFI"], path: "Sources/PunchCore"),
    ]
)
