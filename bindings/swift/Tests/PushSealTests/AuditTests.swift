import Foundation
import PushSeal
import XCTest

/// The sender's audit log, its DH cache and the envelope batch, through the Swift bindings
/// (mirrors the Kotlin AuditTest).
final class AuditTests: XCTestCase {
    private let message = Message(title: "Lab results", body: "Your results from Tuesday are ready.")

    private func makeDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString, isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    private func auditedSender(_ log: AuditLog) throws -> Sender {
        try Sender.fromSecretText(text: try Sender.generate().secretText(), auditLog: log)
    }

    private func makeDevice(_ sender: Sender) throws -> DeviceKeyring {
        let device = try DeviceKeyring.generate()
        try device.trustSender(publicKey: sender.publicKey())
        return device
    }

    private func text(_ log: AuditLog) throws -> String {
        try String(contentsOfFile: log.path(), encoding: .utf8)
    }

    private func lines(_ log: AuditLog) throws -> [String] {
        try text(log).split(separator: "\n").map(String.init)
    }

    private func records(_ log: AuditLog) throws -> [[String: Any]] {
        try lines(log).map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    private func assertKind<T>(
        _ kind: String, _ expression: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try expression(), file: file, line: line) {
            XCTAssertEqual(Vectors.kindKey($0), Vectors.kindKey(kind), file: file, line: line)
        }
    }

    func testEverySealWritesOneSealedRecordAndTokensOnlyAsKeyedHashes() throws {
        let dir = try makeDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = try AuditLog.open(
            path: dir.appendingPathComponent("audit.jsonl").path, tokenKey: Data(repeating: 7, count: 32))
        let sender = try auditedSender(log)
        let devices = try (0..<2).map { _ in try makeDevice(sender) }
        let to = devices.map { $0.publicKey() }

        let apns = try sender.sealApns(to: to[0], message: message)
        let fcm = try sender.sealFcm(to: to[1], message: message, options: FcmOptions(token: "fcm-token"))
        let detailed = try sender.sealEnvelopeDetailed(to: to[0], message: message)
        _ = try sender.sealEnvelope(to: to[1], message: message)
        let batch = try sender.sealBatchEnvelope(to: [to[0], "not a public key", to[1]], message: message)
        XCTAssertEqual(batch[1].errorKind, "invalid_encoding")
        _ = try sender.sealBatchApns(to: to, message: message)
        _ = try sender.sealBatchFcm(to: to, message: message)

        let records = try self.records(log)
        XCTAssertEqual(records.count, 10, "one sealed record per notification handed out, none for the bad key")
        XCTAssertTrue(records.allSatisfy { Vectors.string($0, "type") == "sealed" })
        XCTAssertEqual(records.map { Vectors.u64($0["seq"]) }, (0..<10).map { UInt64($0) })
        XCTAssertEqual(records.prefix(4).map { Vectors.string($0, "platform") }, ["apns", "fcm", "envelope", "envelope"])
        XCTAssertEqual(
            records.prefix(3).map { Vectors.string($0, "message_id") },
            [apns.messageId, fcm.messageId, detailed.messageId])
        XCTAssertEqual(Vectors.string(records[0], "receipt_digest"), apns.receiptDigest)
        XCTAssertEqual(Vectors.string(records[1], "sender"), sender.keyId())
        XCTAssertEqual(Vectors.string(records[1], "recipient"), devices[1].keyId())
        XCTAssertEqual(Vectors.string(records[1], "token_hmac").count, 64)
        XCTAssertEqual(records.indices.filter { records[$0]["token_hmac"] != nil }, [1])
        let text = try self.text(log)
        XCTAssertFalse(text.contains("Tuesday") || text.contains("Lab results") || text.contains("fcm-token"))

        let report = try verifyAuditLog(path: log.path())
        XCTAssertTrue(report.intact)
        XCTAssertNil(report.firstBreak)
        XCTAssertNil(report.tornTail)
        XCTAssertEqual(report.records, 10)
        XCTAssertEqual(report.sealed, 10)
        XCTAssertEqual(report.delivered, 0)
        XCTAssertEqual(report.senders, [sender.keyId()])
        XCTAssertEqual(report.recipients, devices.map { $0.keyId() }.sorted())
        XCTAssertEqual(report.head, "9:" + Vectors.string(records[9], "hash"))
    }

    func testWithoutATokenKeyNoTokenIsRecordedAndAKeyMustBe32Bytes() throws {
        let dir = try makeDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("audit.jsonl").path
        let log = try AuditLog.open(path: path)
        let sender = try auditedSender(log)
        _ = try sender.sealFcm(to: try makeDevice(sender).publicKey(), message: message, options: FcmOptions(token: "fcm-token"))
        XCTAssertFalse(try text(log).contains("token"))
        assertKind("invalid_key_length", try AuditLog.open(path: path, tokenKey: Data(count: 31)))
    }

    func testAValidReceiptIsRecordedOnceAndAnInvalidOneIsRefusedWithNothingAppended() throws {
        let dir = try makeDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = try AuditLog.open(path: dir.appendingPathComponent("audit.jsonl").path)
        let sender = try auditedSender(log)
        let device = try makeDevice(sender)
        let push = try sender.sealFcm(to: device.publicKey(), message: message, options: FcmOptions(token: "fcm-token"))
        let other = try sender.sealFcm(to: device.publicKey(), message: message)
        let fcmMessage = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(push.messageJson.utf8)) as? [String: Any])
        let data = Vectors.stringMap(fcmMessage["data"])
        let opened = try device.openWithReceipt(payload: .fcm(data: data), replay: .inMemory())

        let before = try text(log)
        // The receipt of one notification proves nothing about another.
        assertKind("invalid_receipt", try log.recordDelivery(messageId: other.messageId, receipt: opened.receipt))
        // Nothing was sealed with this id.
        assertKind(
            "invalid_receipt",
            try log.recordDelivery(messageId: String(repeating: "ab", count: 16), receipt: opened.receipt))
        assertKind("invalid_encoding", try log.recordDelivery(messageId: push.messageId, receipt: "not a receipt"))
        assertKind("invalid_encoding", try log.recordDelivery(messageId: "not an id", receipt: opened.receipt))
        XCTAssertEqual(try text(log), before, "a refused receipt appends nothing")

        let delivered = try log.recordDelivery(messageId: push.messageId, receipt: opened.receipt, now: 1_000)
        XCTAssertEqual(
            delivered, AuditDelivery(seq: 2, time: 1_000, messageId: push.messageId, recipientKeyId: device.keyId()))
        let last = try XCTUnwrap(try records(log).last)
        XCTAssertEqual(Vectors.string(last, "type"), "delivered")
        XCTAssertEqual(Vectors.string(last, "receipt"), opened.receipt)
        // Recorded again: the first record, nothing appended.
        XCTAssertEqual(try log.recordDelivery(messageId: push.messageId, receipt: opened.receipt, now: 2_000), delivered)
        XCTAssertEqual(try lines(log).count, 3)

        let report = try verifyAuditLog(path: log.path())
        XCTAssertTrue(report.intact)
        XCTAssertEqual(report.records, 3)
        XCTAssertEqual(report.sealed, 2)
        XCTAssertEqual(report.delivered, 1)
    }

    func testVerifyReportsIntactThenTheFirstTamperedLineAndCatchesACutEndWithTheAnchor() throws {
        let dir = try makeDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = try AuditLog.open(path: dir.appendingPathComponent("audit.jsonl").path)
        let sender = try auditedSender(log)
        let to = try (0..<3).map { _ in try makeDevice(sender).publicKey() }
        XCTAssertTrue(try sender.sealBatchApns(to: to, message: message).allSatisfy { $0.push != nil })
        let intact = try verifyAuditLog(path: log.path())
        XCTAssertTrue(intact.intact)
        XCTAssertEqual(intact.records, 3)
        let head = try XCTUnwrap(intact.head)
        XCTAssertTrue(try verifyAuditLog(path: log.path(), anchor: head).intact)

        let lines = try self.lines(log)
        let tampered = lines[1].replacingOccurrences(of: "\"ttl\":86400", with: "\"ttl\":60")
        XCTAssertNotEqual(tampered, lines[1])
        try ([lines[0], tampered, lines[2]].joined(separator: "\n") + "\n").write(
            toFile: log.path(), atomically: false, encoding: .utf8)
        let report = try verifyAuditLog(path: log.path(), anchor: head)
        XCTAssertFalse(report.intact)
        XCTAssertEqual(report.records, 1)
        let broken = try XCTUnwrap(report.firstBreak)
        XCTAssertEqual(broken.line, 2)
        XCTAssertEqual(broken.expectedSeq, 1)
        XCTAssertEqual(broken.kind, .hashMismatch)
        XCTAssertFalse(broken.reason.isEmpty)

        // Cutting records off the end leaves a valid chain: only the anchor tells.
        try (lines[0] + "\n").write(toFile: log.path(), atomically: false, encoding: .utf8)
        XCTAssertTrue(try verifyAuditLog(path: log.path()).intact)
        XCTAssertEqual(try verifyAuditLog(path: log.path(), anchor: head).firstBreak?.kind, .anchorMissing)

        assertKind("invalid_encoding", try verifyAuditLog(path: log.path(), anchor: "not an anchor"))
        // A deleted log is not an empty one.
        assertKind("storage", try verifyAuditLog(path: dir.appendingPathComponent("missing.jsonl").path))
    }

    func testNothingIsHandedOutWithoutItsRecord() throws {
        let dir = try makeDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("audit.jsonl").path
        // A last line that is not a record: the log refuses to append after it.
        try "not a record\n".write(toFile: path, atomically: false, encoding: .utf8)
        let sender = try auditedSender(try AuditLog.open(path: path))
        let device = try makeDevice(sender)
        assertKind("storage", try sender.sealApns(to: device.publicKey(), message: message))
        assertKind("storage", try sender.sealEnvelope(to: device.publicKey(), message: message))
        let results = try sender.sealBatchEnvelope(to: [device.publicKey()], message: message)
        XCTAssertNil(results[0].push)
        XCTAssertEqual(results[0].errorKind, "storage")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "not a record\n")
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

    func testAnEnvelopeBatchOpensOnEachDevice() throws {
        let sender = try Sender.generate()
        let devices = try (0..<4).map { _ in try makeDevice(sender) }
        let to = devices.map { $0.publicKey() }
        let results = try sender.sealBatchEnvelope(to: to, message: message)
        XCTAssertEqual(results.map(\.recipient), to)
        let pushes = try results.map { try XCTUnwrap($0.push) }
        XCTAssertEqual(Set(pushes.map(\.messageId)).count, 1, "one message id for the whole batch")
        for (device, push) in zip(devices, pushes) {
            XCTAssertEqual(try inspect(envelope: push.envelope).recipientKeyId, device.keyId())
            let opened = try device.openWithReceipt(payload: .envelope(envelope: push.envelope), replay: .inMemory())
            XCTAssertEqual(opened.notification.id, push.messageId)
            XCTAssertTrue(try verifyReceipt(receiptDigest: push.receiptDigest, receipt: opened.receipt))
        }
        assertKind("unknown_recipient_key", try devices[1].openEnvelope(envelope: pushes[0].envelope, replay: .inMemory()))
    }
}
