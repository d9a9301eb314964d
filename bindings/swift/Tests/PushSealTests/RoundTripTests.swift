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

    func testApnsAndFcmAndEnvelopeOpenOnceEach() throws {
        let sender = try Sender.generate()
        let device = try makeDevice(sender)
        let replay = ReplayStore.inMemory()

        let apns = try sender.sealApns(to: device.publicKey(), message: message, options: ApnsOptions(collapseId: "labs"))
        XCTAssertEqual(apns.headers["apns-push-type"], "alert")
        XCTAssertEqual(apns.headers["apns-collapse-id"], "labs")
        XCTAssertFalse(apns.body.contains("Tuesday"), "the APNs body carries ciphertext only")
        let opened = try device.openApns(userInfoJson: apns.body, replay: replay)
        XCTAssertEqual(opened.title, message.title)
        XCTAssertEqual(opened.body, message.body)
        XCTAssertEqual(opened.data, message.data)
        XCTAssertEqual(opened.threadId, "labs")
        XCTAssertEqual(opened.badge, 3)
        XCTAssertEqual(opened.id, apns.messageId)
        XCTAssertEqual(opened.expiresAt, apns.expiresAt)
        assertKind("replayed", try device.openApns(userInfoJson: apns.body, replay: replay))

        let fcm = try sender.sealFcm(to: device.publicKey(), message: message, options: FcmOptions(token: "fcm-token"))
        let fcmMessage = try json(fcm.messageJson)
        XCTAssertEqual(fcmMessage["token"] as? String, "fcm-token")
        XCTAssertNotNil(try json(fcm.requestBody)["message"] as? [String: Any])
        let data = Vectors.stringMap(fcmMessage["data"])
        XCTAssertEqual(try device.openFcm(data: data, replay: replay).body, message.body)

        let envelope = try sender.sealEnvelope(to: device.publicKey(), message: message)
        XCTAssertEqual(try inspect(envelope: envelope).recipientKeyId, device.keyId())
        XCTAssertEqual(try inspect(envelope: envelope).senderKeyId, sender.keyId())
        XCTAssertEqual(try device.openEnvelope(envelope: envelope, replay: replay).title, message.title)
    }

    func testReceiptsMatchTheSendersDigest() throws {
        let sender = try Sender.generate()
        let device = try makeDevice(sender)
        let push = try sender.sealApns(to: device.publicKey(), message: message)
        let opened = try device.openWithReceipt(payload: .apns(userInfoJson: push.body), replay: .inMemory())
        XCTAssertEqual(opened.notification.id, push.messageId)
        XCTAssertTrue(try verifyReceipt(receiptDigest: push.receiptDigest, receipt: opened.receipt))
        let other = try sender.sealApns(to: device.publicKey(), message: message)
        XCTAssertFalse(try verifyReceipt(receiptDigest: other.receiptDigest, receipt: opened.receipt))
        assertKind("invalid_encoding", try verifyReceipt(receiptDigest: push.receiptDigest, receipt: "not a receipt"))
    }

    func testBatchGivesOneResultPerDeviceInOrder() throws {
        let sender = try Sender.generate()
        let devices = try (0..<5).map { _ in try makeDevice(sender) }
        var to = devices.map { $0.publicKey() }
        to.insert("not a public key", at: 2)
        let batch = to.enumerated().map { BatchDevice(publicKey: $0.element, token: "token-\($0.offset)") }
        let results = try sender.sealBatchFcm(to: batch, message: message, options: FcmOptions(collapseKey: "labs"))
        XCTAssertEqual(results.map(\.recipient), to)
        XCTAssertNil(results[2].push)
        XCTAssertEqual(results[2].errorKind, "invalid_encoding")
        XCTAssertNotNil(results[2].errorReason)
        let pushes = results.compactMap(\.push)
        XCTAssertEqual(pushes.count, 5)
        XCTAssertEqual(Set(pushes.map(\.messageId)).count, 1, "one message id for the whole batch")
        for (device, push) in zip(devices, pushes) {
            let data = Vectors.stringMap(try json(push.messageJson)["data"])
            let token = try XCTUnwrap(try json(push.messageJson)["token"] as? String)
            XCTAssertEqual(token, "token-\(try XCTUnwrap(to.firstIndex(of: device.publicKey())))", "each device its own token")
            XCTAssertEqual(try device.openFcm(data: data, replay: .inMemory()).body, message.body)
        }
        let data0 = Vectors.stringMap(try json(pushes[0].messageJson)["data"])
        assertKind("unknown_recipient_key", try devices[1].openFcm(data: data0, replay: .inMemory()))

        let apns = try sender.sealBatchApns(to: devices.map { BatchDevice(publicKey: $0.publicKey()) }, message: message)
        XCTAssertTrue(apns.allSatisfy { $0.push != nil && $0.errorKind == nil })
        // The same batch streamed: one result per device, in order, as each is sealed.
        let stream = try sender.streamBatchFcm(to: batch, message: message)
        var streamed: [FcmBatchResult] = []
        while let result = try stream.next() {
            streamed.append(result)
        }
        XCTAssertEqual(streamed.map(\.recipient), to)
        XCTAssertEqual(streamed.map { $0.push == nil }, results.map { $0.push == nil })
        let body = try XCTUnwrap(apns[4].push).body
        XCTAssertEqual(try devices[4].openApns(userInfoJson: body, replay: .inMemory()).title, message.title)
    }

    func testRotationTrustAndReplayFile() throws {
        let sender = try Sender.fromSecretText(text: try Sender.generate().secretText())
        let device = try DeviceKeyring.generate()
        let envelope = try sender.sealEnvelope(to: device.publicKey(), message: message)
        assertKind("untrusted_sender", try device.openEnvelope(envelope: envelope, replay: .inMemory()))
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
        XCTAssertEqual(try device.openEnvelope(envelope: envelope, replay: ReplayStore.open(path: path)).body, message.body)
        assertKind("replayed", try device.openEnvelope(envelope: envelope, replay: ReplayStore.open(path: path)))

        XCTAssertTrue(try device.removeSender(keyId: sender.keyId()))
        XCTAssertFalse(try device.removeSender(keyId: sender.keyId()))
        assertKind("invalid_encoding", try device.trustSender(publicKey: "too short"))
        // u = 0, a low-order point.
        assertKind("zero_shared_secret", try device.trustSender(publicKey: String(repeating: "A", count: 43)))
        assertKind("invalid_keyring", try DeviceKeyring.fromBytes(bytes: Data("{}".utf8)))
    }
}
