// swift-tools-version:6.0
// The platform-free logic of the iOS sample: no UIKit, no UserNotifications, no
// Security and no PushSeal binary, so `swift test` runs it on macOS and Linux alike.
import PackageDescription

let package = Package(
    name: "PushSealSampleKit",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "PushSealSampleKit", targets: ["PushSealSampleKit"]),
    ],
    targets: [
        .target(name: "PushSealSampleKit"),
        .testTarget(name: "PushSealSampleKitTests", dependencies: ["PushSealSampleKit"]),
    ]
)
