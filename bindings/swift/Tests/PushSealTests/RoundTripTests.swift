import Foundation
import PushSeal
import XCTest

/// A sender and a device, both through the Swift bindings (mirrors the Kotlin RoundTripTest).
final class RoundTripTests: XCTestCase {
    private let message = Message(
        title: "Lab results",
        body: "Your results from Tuesday are ready.",
        data: ["screen": "results", "id": "42"],
        threadId: "labs",
        badge: 3
    )

    private func makeDevice(_ sender: Sender) throws -> DeviceKeyring {
        let device = try DeviceKeyring.generate()
        try device.trustSender(publicKey: sender.publicKey())
        return device
    }

    private func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    private func assertKind<T>(
        _ kind: String, _ expression: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try expression(), file: file, line: line) {
            XCTAssertEqual(Vectors.kindName($0), kind, file: file, line: line)
        }
    }

    func testEachPayloadTypeOpensOnceThroughOneOpen() throws {
        let sender = try Sender.generate()
        let device = try makeDevice(sender)
        let replay = ReplayStore.inMemory()

        let apns = try sender.sealApns(to: device.publicKey(), message: message, options: ApnsOptions(collapseId: "labs"))
        XCTAssertEqual(apns.headers["apns-push-type"], "alert")
        XCTAssertEqual(apns.headers["apns-collapse-id"], "labs")
        XCTAssertFalse(apns.body.contains("Tuesday"), "the APNs body carries ciphertext only")
        let fcm = try sender.sealFcm(to: device.publicKey(), message: message, options: FcmOptions(token: "fcm-token"))
        let fcmMessage = try json(fcm.messageJson)
        XCTAssertEqual(fcmMessage["token"] as? String, "fcm-token")
        XCTAssertNotNil(try json(fcm.requestBody)["message"] as? [String: Any])
        let envelope = try sender.sealEnvelope(to: device.publicKey(), message: message)
        XCTAssertEqual(try inspect(envelope: envelope.envelope).recipientKeyId, device.keyId())
        XCTAssertEqual(try inspect(envelope: envelope.envelope).senderKeyId, sender.keyId())

        let payloads: [(Payload, Sealed)] = [
            (.apns(userInfoJson: apns.body), apns.sealed),
            (.fcm(data: Vectors.stringMap(fcmMessage["data"])), fcm.sealed),
            (.envelope(envelope: envelope.envelope), envelope.sealed),
        ]
        for (payload, sealed) in payloads {
            XCTAssertEqual(sealed.recipientKeyId, device.keyId())
            let opened = try device.open(payload: payload, replay: replay)
            XCTAssertEqual(opened.title, message.title)
            XCTAssertEqual(opened.body, message.body)
            XCTAssertEqual(opened.data, message.data)
            XCTAssertEqual(opened.threadId, "labs")
            XCTAssertEqual(opened.badge, 3)
            XCTAssertEqual(opened.id, sealed.messageId)
            XCTAssertEqual(opened.sentAt, sealed.sentAt)
            XCTAssertEqual(opened.expiresAt, sealed.expiresAt)
            XCTAssertThrowsError(try device.open(payload: payload, replay: replay)) {
                XCTAssertEqual(($0 as? PushSealError)?.kind.deviceAction(), .drop)
            }
        }
    }

    func testDeviceActionsAreTheCores() throws {
        // Every core kind's action is checked against test-vectors/error-kinds.json
        // (VectorsTests); .internal, the bindings' own, fails safe.
        XCTAssertEqual(ErrorKind.internal.deviceAction(), .showFallback)
        // Through an open: a push that is not PushSeal's passes through.
        XCTAssertThrowsError(try DeviceKeyring.generate().open(payload: .apns(userInfoJson: "{}"), replay: .inMemory())) {
            XCTAssertEqual(($0 as? PushSealError)?.kind.deviceAction(), .passThrough)
        }
    }

    func testReceiptsMatchTheSendersDigest() throws {
        let sender = try Sender.generate()
        let device = try makeDevice(sender)
        let push = try sender.sealApns(to: device.publicKey(), message: message)
        let opened = try device.openWithReceipt(payload: .apns(userInfoJson: push.body), replay: .inMemory())
        XCTAssertEqual(opened.notification.id, push.sealed.messageId)
        XCTAssertTrue(try verifyReceipt(receiptDigest: push.sealed.receiptDigest, receipt: opened.receipt))
        let other = try sender.sealApns(to: device.publicKey(), message: message)
        XCTAssertFalse(try verifyReceipt(receiptDigest: other.sealed.receiptDigest, receipt: opened.receipt))
        assertKind("invalid_encoding", try verifyReceipt(receiptDigest: push.sealed.receiptDigest, receipt: "not a receipt"))
    }

    func testRotationTrustAndReplayFile() throws {
        let sender = try Sender.fromSecretText(text: try Sender.generate().secretText())
        let device = try DeviceKeyring.generate()
        let envelope = Payload.envelope(envelope: try sender.sealEnvelope(to: device.publicKey(), message: message).envelope)
        assertKind("untrusted_sender", try device.open(payload: envelope, replay: .inMemory()))
        try device.trustSender(publicKey: sender.publicKey())
        XCTAssertEqual(device.trustedSenders(), [sender.publicKey()])

        let oldId = device.keyId()
        try device.rotate(keepOldFor: 3600)
        XCTAssertEqual(device.retiredKeys().map(\.keyId), [oldId])
        XCTAssertNotEqual(device.keyId(), oldId)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString, isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("replay.db").path
        XCTAssertEqual(try device.open(payload: envelope, replay: ReplayStore.open(path: path)).body, message.body)
        assertKind("replayed", try device.open(payload: envelope, replay: ReplayStore.open(path: path)))

        XCTAssertTrue(try device.removeSender(keyId: sender.keyId()))
        XCTAssertFalse(try device.removeSender(keyId: sender.keyId()))
        assertKind("invalid_encoding", try device.trustSender(publicKey: "too short"))
        // u = 0, a low-order point.
        assertKind("zero_shared_secret", try device.trustSender(publicKey: String(repeating: "A", count: 43)))
        assertKind("invalid_keyring", try DeviceKeyring.fromBytes(bytes: Data("{}".utf8)))
    }
}
