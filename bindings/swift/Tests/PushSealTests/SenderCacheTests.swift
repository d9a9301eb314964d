import Foundation
import PushSeal
import XCTest

/// The sender's DH cache, through the Swift bindings (mirrors the Kotlin SenderCacheTest).
final class SenderCacheTests: XCTestCase {
    private let message = Message(title: "Lab results", body: "Your results from Tuesday are ready.")

    private func makeDevice(_ sender: Sender) throws -> DeviceKeyring {
        let device = try DeviceKeyring.generate()
        try device.trustSender(publicKey: sender.publicKey())
        return device
    }

    func testACachedSendersEnvelopesOpen() throws {
        let sender = try Sender.fromSecretText(text: try Sender.generate().secretText(), cacheDevices: 2)
        let devices = try (0..<3).map { _ in try makeDevice(sender) }
        let replay = ReplayStore.inMemory()
        for _ in 0..<2 {
            for device in devices {
                let envelope = try sender.sealEnvelope(to: device.publicKey(), message: message)
                XCTAssertEqual(try device.openEnvelope(envelope: envelope, replay: replay).body, message.body)
            }
        }
        XCTAssertEqual(sender.cachedDevices(), 2, "the cache holds at most its capacity")
        XCTAssertEqual(try Sender.generate().cachedDevices(), 0)
        // The same key without a cache seals envelopes the same devices open.
        let uncached = try Sender.fromSecretText(text: sender.secretText())
        let envelope = try uncached.sealEnvelope(to: devices[0].publicKey(), message: message)
        XCTAssertEqual(try devices[0].openEnvelope(envelope: envelope, replay: replay).title, message.title)
    }

    func testACachedSendersBatchOpensOnEachDevice() throws {
        let sender = try Sender.fromSecretText(text: try Sender.generate().secretText(), cacheDevices: 8)
        let devices = try (0..<4).map { _ in try makeDevice(sender) }
        for _ in 0..<2 {
            let results = try sender.sealBatchApns(to: devices.map { BatchDevice(publicKey: $0.publicKey()) }, message: message)
            let pushes = try results.map { try XCTUnwrap($0.push) }
            XCTAssertEqual(Set(pushes.map(\.messageId)).count, 1, "one message id for the whole batch")
            for (device, push) in zip(devices, pushes) {
                let opened = try device.openWithReceipt(payload: .apns(userInfoJson: push.body), replay: .inMemory())
                XCTAssertEqual(opened.notification.id, push.messageId)
                XCTAssertTrue(try verifyReceipt(receiptDigest: push.receiptDigest, receipt: opened.receipt))
            }
        }
        XCTAssertEqual(sender.cachedDevices(), 4)
    }
}
