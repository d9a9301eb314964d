import Foundation
import PushSeal
import XCTest

/// Envelope version 2 through the Swift bindings: a device registers both keys and pins its
/// sender's Ed25519 key; the sender's policy picks the version; one `open` takes both.
/// Mirrors the Kotlin EnvelopeV2Test.
final class EnvelopeV2Tests: XCTestCase {
    private let message = Message(title: "Lab results", body: "Your results from Tuesday are ready.", data: ["id": "42"])

    private func kind(_ error: Error) -> ErrorKind? {
        (error as? PushSealError)?.kind
    }

    func testARegisteredDeviceGetsVersion2ThroughEveryPlatformAndOneOpen() throws {
        let sender = try Sender.generate()
        XCTAssertEqual(sender.pq(), .prefer)
        let device = try DeviceKeyring.generate()
        try device.trustSender(publicKey: sender.publicKey())
        try device.trustSenderV2(publicKey: try XCTUnwrap(sender.publicKeyV2()))
        let registration = device.registration()
        XCTAssertTrue(registration.hasPrefix("pushseal-registration-v2:\(device.publicKey())."), registration)
        let v2Body = try XCTUnwrap(device.publicKeyV2()).dropFirst("pushseal-device-v2:".count)
        XCTAssertTrue(registration.hasSuffix(String(v2Body)))
        let replay = ReplayStore.inMemory()

        let apns = try sender.sealApns(to: registration, message: message)
        XCTAssertEqual(apns.sealed.version, 2)
        XCTAssertEqual(apns.sealed.recipientKeyId, device.keyIdV2())
        XCTAssertEqual(try device.open(payload: .apns(userInfoJson: apns.body), replay: replay).body, message.body)

        let fcm = try sender.sealFcm(to: registration, message: message, options: FcmOptions(token: "fcm-token"))
        let fcmMessage = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(fcm.messageJson.utf8)) as? [String: Any])
        let data = Vectors.stringMap(fcmMessage["data"])
        let opened = try device.openWithReceipt(payload: .fcm(data: data), replay: replay)
        XCTAssertEqual(opened.notification.data, message.data)
        XCTAssertTrue(try verifyReceipt(receiptDigest: fcm.sealed.receiptDigest, receipt: opened.receipt))
        let info = try inspectPayload(payload: .fcm(data: data))
        XCTAssertEqual(info.version, 2)
        XCTAssertEqual(info.senderKeyId, sender.keyIdV2())

        // Sealed to the version 1 key alone: version 1, through the same open.
        let v1 = try sender.sealEnvelope(to: device.publicKey(), message: message)
        XCTAssertEqual(v1.sealed.version, 1)
        XCTAssertEqual(try device.open(payload: .envelope(envelope: v1.envelope), replay: replay).title, message.title)
        XCTAssertThrowsError(try device.open(payload: .envelope(envelope: v1.envelope), replay: replay)) {
            XCTAssertEqual(self.kind($0), .replayed)
        }
    }

    func testADeviceThatRefusesVersion1KeepsSayingSo() throws {
        let sender = try Sender.generate()
        let storage = inMemoryKeyStorage()
        let device = try DeviceKeyring.loadOrCreate(storage: storage)
        try device.trustSender(publicKey: sender.publicKey())
        XCTAssertTrue(device.acceptsV1())
        device.acceptV1(accept: false)
        try device.save(storage: storage)
        let loaded = try DeviceKeyring.loadOrCreate(storage: storage)
        XCTAssertFalse(loaded.acceptsV1())
        let v1 = try sender.sealEnvelope(to: loaded.publicKey(), message: message)
        XCTAssertThrowsError(try loaded.open(payload: .envelope(envelope: v1.envelope), replay: .inMemory())) {
            XCTAssertEqual(self.kind($0), .unsupportedVersion)
            XCTAssertEqual(self.kind($0)?.deviceAction(), .showFallback)
        }
    }

    func testTheSendersPolicyAndItsKeysTravelAsTexts() throws {
        let generated = try Sender.generate()
        let device = try DeviceKeyring.generate()
        let strict = try Sender.fromSecretText(text: generated.secretText(), textV2: generated.secretTextV2(), pq: .require)
        XCTAssertEqual(strict.publicKeyV2(), generated.publicKeyV2())
        XCTAssertEqual(strict.pq(), .require)
        XCTAssertEqual(try strict.sealEnvelope(to: device.registration(), message: message).sealed.version, 2)
        XCTAssertThrowsError(try strict.sealEnvelope(to: device.publicKey(), message: message)) {
            XCTAssertEqual(self.kind($0), .unsupportedVersion)
        }

        let off = try Sender.fromSecretText(text: generated.secretText(), textV2: generated.secretTextV2(), pq: .off)
        XCTAssertEqual(try off.sealEnvelope(to: device.registration(), message: message).sealed.version, 1)

        // A sender stored before version 2: its one text, version 1 only.
        let v1Only = try Sender.fromSecretText(text: generated.secretText())
        XCTAssertNil(v1Only.publicKeyV2())
        XCTAssertNil(v1Only.secretTextV2())
        XCTAssertEqual(try v1Only.sealEnvelope(to: device.registration(), message: message).sealed.version, 1)
        XCTAssertThrowsError(try Sender.fromSecretText(text: generated.secretText(), pq: .require)) {
            XCTAssertEqual(self.kind($0), .invalidNotification)
        }
        XCTAssertThrowsError(try device.trustSenderV2(publicKey: generated.publicKey())) {
            XCTAssertEqual(self.kind($0), .invalidEncoding)
        }
    }

    func testRotationRetiresBothVersionsAtOnce() throws {
        let device = try DeviceKeyring.generate()
        let old = try XCTUnwrap(device.keyIdV2())
        try device.rotate(keepOldFor: 3600)
        XCTAssertEqual(device.retiredKeysV2().map { $0.keyId }, [old])
        XCTAssertEqual(device.retiredKeys().first?.usableUntil, device.retiredKeysV2().first?.usableUntil)
    }
}
