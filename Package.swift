// swift-tools-version:6.0
// The PushSeal Swift package: the UniFFI-generated Swift API (module `PushSeal`)
// over the native library (C module `PushSealFFI`).
//
// Apple platforms: the library comes as bindings/swift/PushSealFFI.xcframework,
// built by bindings/swift/build-xcframework.sh on a Mac with Xcode (not committed).
// Linux (tests only): the host library from `cargo build --release -p pushseal-ffi`,
// see bindings/README.md ("Swift") for the exact command.
import PackageDescription

#if os(Linux)
let ffi: Target = .systemLibrary(name: "PushSealFFI", path: "bindings/swift/linux")
#else
let ffi: Target = .binaryTarget(name: "PushSealFFI", path: "bindings/swift/PushSealFFI.xcframework")
#endif

let package = Package(
    name: "PushSeal",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "PushSeal", targets: ["PushSeal"]),
    ],
    targets: [
        ffi,
        .target(
            name: "PushSeal",
            dependencies: ["PushSealFFI"],
            path: "bindings/swift/Sources/PushSeal"
        ),
        .testTarget(
            name: "PushSealTests",
            dependencies: ["PushSeal"],
            path: "bindings/swift/Tests/PushSealTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
