import Foundation
import PushSeal
import XCTest

/// What Swift code sees beyond the generated API: `error.kind` to switch on
/// (lowerCamelCase cases, `@unknown default`-friendly), `error.reason`, an
/// initializer for `KeyStorage` implementations, platform time types, FCM's
/// priority, and the replay store opened in a shared folder.
final class SwiftAPITests: XCTestCase {
    func testAnErrorSwitchesOnItsKindAndCarriesItsReason() throws {
        let sender = try Sender.generate()
        let device = try DeviceKeyring.generate()
        try device.trustSender(publicKey: sender.publicKey())
        let push = try sender.sealFcm(
            to: device.publicKey(), message: Message(title: "Lab results", body: "Ready."),
            options: FcmOptions(priority: .normal))
        XCTAssertTrue(push.messageJson.contains(#""priority":"normal""#), push.messageJson)
        let message = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(push.messageJson.utf8)) as? [String: Any])
        let data = try XCTUnwrap(message["data"] as? [String: String])

        let replay = ReplayStore.inMemory()
        let opened = try device.open(payload: .fcm(data: data), replay: replay)
        XCTAssertEqual(opened.expiresAt.timeIntervalSince(opened.sentAt), 86_400)
        XCTAssertEqual(opened.expiresAt, push.sealed.expiresAt)

        XCTAssertThrowsError(try device.open(payload: .fcm(data: data), replay: replay)) { thrown in
            guard let error = thrown as? PushSealError else { return XCTFail("\(thrown)") }
            let action: String
            switch error.kind.deviceAction() {
            case .passThrough: action = "not ours"
            case .showFallback: action = "show the fallback"
            case .reregister: action = "register again"
            case .drop: action = "drop"
            }
            XCTAssertEqual(action, "drop")
            XCTAssertEqual(error.kind, PushSealError.Kind.replayed)
            XCTAssertTrue(error.reason.contains("replayed"), error.reason)
        }
        XCTAssertThrowsError(
            try device.open(payload: .fcm(data: data), replay: .inMemory(), now: opened.expiresAt.addingTimeInterval(3600))
        ) { XCTAssertEqual(($0 as? PushSealError)?.kind, .expired) }
    }

    func testEveryKindMakesAnErrorOfThatKindWithItsSpecName() {
        var names = Set<String>()
        for kind in ErrorKind.allCases {
            let error = PushSealError(kind, reason: "why")
            XCTAssertEqual(error.kind, kind)
            XCTAssertEqual(error.reason, "why")
            let name = kind.specName()
            XCTAssertTrue(name.allSatisfy { $0.isLowercase || $0 == "_" }, name)
            names.insert(name)
        }
        XCTAssertEqual(names.count, ErrorKind.allCases.count)
        XCTAssertEqual(ErrorKind.allCases.count, 21)
        XCTAssertEqual(PushSealError(.storage, reason: "locked"), PushSealError.Storage(reason: "locked"))
    }

    func testCountsAreSignedAndNegativeOnesAreRefused() throws {
        let text = try Sender.generate().secretText()
        XCTAssertThrowsError(try Sender.fromSecretText(text: text, cacheDevices: -1)) {
            XCTAssertEqual(($0 as? PushSealError)?.kind, .malformed)
        }
        XCTAssertThrowsError(
            try Sender.generate().sealEnvelope(
                to: DeviceKeyring.generate().publicKey(), message: Message(title: "t", body: "b", badge: -1))
        ) { XCTAssertEqual(($0 as? PushSealError)?.kind, .invalidNotification) }
    }

    func testAReplayStoreInADirectoryIsOneStoreForEveryoneWhoOpensIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sender = try Sender.generate()
        let device = try DeviceKeyring.generate()
        try device.trustSender(publicKey: sender.publicKey())
        let sealed = try sender.sealEnvelope(to: device.publicKey(), message: Message(title: "t", body: "b"))
        let envelope = Payload.envelope(envelope: sealed.envelope)

        XCTAssertEqual(try device.open(payload: envelope, replay: ReplayStore.open(inDirectory: directory)).body, "b")
        let file = directory.appendingPathComponent("PushSeal/pushseal-replay.db").path
        XCTAssertTrue(FileManager.default.fileExists(atPath: file), file)
        // A second store on the same folder (the extension's next run) remembers it.
        XCTAssertThrowsError(try device.open(payload: envelope, replay: ReplayStore.open(inDirectory: directory))) {
            XCTAssertEqual(($0 as? PushSealError)?.kind, .replayed)
        }
        // A folder that cannot be made is a storage error.
        let blocked = directory.appendingPathComponent("file")
        XCTAssertTrue(FileManager.default.createFile(atPath: blocked.path, contents: Data()))
        XCTAssertThrowsError(try ReplayStore.open(inDirectory: blocked)) {
            XCTAssertEqual(($0 as? PushSealError)?.kind, .storage)
        }
    }

    /// Mirrors the Kotlin LibraryTest's fallback check and the core's payload rules.
    func testAUserInfoOpensAsItCameAndTheFallbackIsTheCoresText() throws {
        XCTAssertEqual(fallbackText(), FallbackText(title: Fallback.title, body: Fallback.body))

        let sender = try Sender.generate()
        let device = try DeviceKeyring.generate()
        try device.trustSender(publicKey: sender.publicKey())
        let push = try sender.sealApns(to: device.publicKey(), message: Message(title: "Lab results", body: "Ready."))
        var userInfo = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(push.body.utf8)) as? [AnyHashable: Any])
        userInfo[42] = "a key that is not a string: left out"
        let opened = try device.open(payload: .apns(userInfo: userInfo), replay: ReplayStore.inMemory())
        XCTAssertEqual(opened.title, "Lab results")

        // Not PushSeal's, and an envelope over the core's cap: the core's kinds.
        XCTAssertThrowsError(try device.open(payload: .apns(userInfo: ["aps": [:]]), replay: ReplayStore.inMemory())) {
            XCTAssertEqual(($0 as? PushSealError)?.kind, .notPushSeal)
        }
        let huge: [AnyHashable: Any] = ["pushseal": String(repeating: "A", count: 5000)]
        XCTAssertThrowsError(try device.open(payload: .apns(userInfo: huge), replay: ReplayStore.inMemory())) {
            XCTAssertEqual(($0 as? PushSealError)?.kind.deviceAction(), .showFallback)
        }
    }
}
