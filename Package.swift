// swift-tools-version:6.0
// The PushSeal Swift package: the UniFFI-generated Swift API (module `PushSeal`)
// over the native library (C module `PushSealFFI`).
//
// Apple platforms, added by URL: the library is the release's
// PushSealFFI.xcframework.zip, pinned by its checksum below; the release script
// (bindings/swift/release.sh) builds the zip, its checksum and the generated
// Swift sources from one build and writes the two constants, so the binary
// always matches the committed PushSeal.swift.
// Apple platforms, developing in a checkout: PUSHSEAL_LOCAL_XCFRAMEWORK=1 (or
// no release pinned yet) uses bindings/swift/PushSealFFI.xcframework, built by
// bindings/swift/build-xcframework.sh on a Mac with Xcode (not committed).
// Linux (tests only): the host library from `cargo build --release -p pushseal-ffi`,
// see bindings/README.md ("Swift") for the exact command.
import PackageDescription

/// The released XCFramework (release.sh writes both lines).
let releaseURL = ""
let releaseChecksum = ""

#if os(Linux)
let ffi: Target = .systemLibrary(name: "PushSealFFI", path: "bindings/swift/linux")
// The privacy manifest is Apple's (App Store uploads); Linux builds leave it out.
let privacyManifest: [Resource] = []
#else
let useLocal = Context.environment["PUSHSEAL_LOCAL_XCFRAMEWORK"] != nil || releaseChecksum.isEmpty
let ffi: Target = useLocal
    ? .binaryTarget(name: "PushSealFFI", path: "bindings/swift/PushSealFFI.xcframework")
    : .binaryTarget(name: "PushSealFFI", url: releaseURL, checksum: releaseChecksum)
let privacyManifest: [Resource] = [.copy("PrivacyInfo.xcprivacy")]
#endif

let package = Package(
    name: "PushSeal",
    platforms: [.iOS(.v15), .macOS(.v12), .macCatalyst(.v15), .visionOS(.v1)],
    products: [
        .library(name: "PushSeal", targets: ["PushSeal"]),
    ],
    targets: [
        ffi,
        .target(
            name: "PushSeal",
            dependencies: ["PushSealFFI"],
            path: "bindings/swift/Sources/PushSeal",
            exclude: privacyManifest.isEmpty ? ["PrivacyInfo.xcprivacy"] : [],
            resources: privacyManifest
        ),
        .testTarget(
            name: "PushSealTests",
            dependencies: ["PushSeal"],
            path: "bindings/swift/Tests/PushSealTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
