// swift-tools-version:6.0
// Times one open through the Swift bindings, as bench/bindings.sh asks. A
// package of its own, so the PushSeal package apps add has no benchmark in it.
//
//   swift build -c release --package-path bench/swift -Xlinker -L<target>/release
//   .build/release/OpenBench FIXTURE_DIR N ROUNDS    prints "swift_open_ns <ns>"
import PackageDescription

let package = Package(
    name: "OpenBench",
    dependencies: [.package(name: "PushSeal", path: "../..")],
    targets: [
        .executableTarget(
            name: "OpenBench",
            dependencies: [.product(name: "PushSeal", package: "PushSeal")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
