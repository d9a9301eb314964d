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
                let sealed = try sender.sealEnvelope(to: device.publicKey(), message: message)
                XCTAssertEqual(try device.open(payload: .envelope(envelope: sealed.envelope), replay: replay).body, message.body)
            }
        }
        XCTAssertEqual(sender.cachedDevices(), 2, "the cache holds at most its capacity")
        XCTAssertEqual(try Sender.generate().cachedDevices(), 0)
        // The same key without a cache seals envelopes the same devices open.
        let uncached = try Sender.fromSecretText(text: sender.secretText())
        let sealed = try uncached.sealEnvelope(to: devices[0].publicKey(), message: message)
        XCTAssertEqual(try devices[0].open(payload: .envelope(envelope: sealed.envelope), replay: replay).title, message.title)
    }

    func testACachedSendersPushesOpenWithReceiptsOnEachDevice() throws {
        let sender = try Sender.fromSecretText(text: try Sender.generate().secretText(), cacheDevices: 8)
        let devices = try (0..<4).map { _ in try makeDevice(sender) }
        for _ in 0..<2 {
            for device in devices {
                let push = try sender.sealApns(to: device.publicKey(), message: message)
                let opened = try device.openWithReceipt(payload: .apns(userInfoJson: push.body), replay: .inMemory())
                XCTAssertEqual(opened.notification.id, push.sealed.messageId)
                XCTAssertTrue(try verifyReceipt(receiptDigest: push.sealed.receiptDigest, receipt: opened.receipt))
            }
        }
        XCTAssertEqual(sender.cachedDevices(), 4)
    }
}
