import Foundation
import PushSeal
import XCTest

/// Every vector in test-vectors/, through the Swift bindings (mirrors the Kotlin VectorsTest).
final class VectorsTests: XCTestCase {
    func testPositiveVectorsOpenThroughEveryPayload() throws {
        var opened = 0
        for v in try Vectors.load("positive.json") {
            let name = Vectors.string(v, "name")
            let keyringObject = Vectors.object(v, "keyring")
            let serialized = Vectors.string(keyringObject, "serialized")
            let keyring = try DeviceKeyring.fromBytes(bytes: Data(serialized.utf8))
            XCTAssertEqual(String(decoding: try keyring.toBytes(), as: UTF8.self), serialized, name)
            let current = Vectors.object(keyringObject, "current")
            XCTAssertEqual(keyring.publicKey(), Vectors.string(current, "public_key_base64url"), name)
            XCTAssertEqual(keyring.keyId(), Vectors.string(current, "key_id"), name)

            let now = Vectors.date(v["now"])
            let expected = Vectors.notification(Vectors.object(v, "expected"))
            let envelope = Vectors.string(v, "envelope_base64url")
            let apns = Vectors.string(Vectors.object(v, "apns"), "body")
            let fcm = Vectors.stringMap(Vectors.object(v, "fcm")["data"])

            XCTAssertEqual(try keyring.open(payload: .apns(userInfoJson: apns), replay: .inMemory(), now: now), expected, name)
            XCTAssertEqual(try keyring.open(payload: .fcm(data: fcm), replay: .inMemory(), now: now), expected, name)
            XCTAssertEqual(try keyring.open(payload: .envelope(envelope: envelope), replay: .inMemory(), now: now), expected, name)

            let receipt = Vectors.object(v, "receipt")
            let payloads: [Payload] = [.apns(userInfoJson: apns), .fcm(data: fcm), .envelope(envelope: envelope)]
            for payload in payloads {
                let withReceipt = try keyring.openWithReceipt(payload: payload, replay: .inMemory(), now: now)
                XCTAssertEqual(withReceipt.notification, expected, name)
                XCTAssertEqual(withReceipt.receipt, Vectors.string(receipt, "receipt_base64url"), name)
                XCTAssertTrue(
                    try verifyReceipt(receiptDigest: Vectors.string(receipt, "digest"), receipt: withReceipt.receipt),
                    name
                )
            }

            let info = try inspect(envelope: envelope)
            let header = Vectors.object(v, "header")
            XCTAssertEqual(info.recipientKeyId, Vectors.string(header, "recipient_key_id"), name)
            XCTAssertEqual(info.senderKeyId, Vectors.string(header, "sender_key_id"), name)
            XCTAssertEqual(info.paddedLen, Vectors.i64(v["padded_len"]), name)
            opened += 1
        }
        XCTAssertEqual(opened, Vectors.positive)
    }

    func testNegativeVectorsFailWithTheirKind() throws {
        var checked = 0
        for v in try Vectors.load("negative.json") {
            let name = Vectors.string(v, "name")
            let kind = Vectors.string(v, "expected_error")
            var thrown: Error?
            switch Vectors.string(v, "operation") {
            case "open":
                let keyring = try DeviceKeyring.fromBytes(bytes: Data(Vectors.string(v, "keyring").utf8))
                let now = Vectors.date(v["now"])
                XCTAssertThrowsError(try Vectors.open(keyring, Vectors.object(v, "payload"), .inMemory(), now), name) {
                    thrown = $0
                }
            case "seal":
                let sender = try Sender.fromSecretText(text: Vectors.string(Vectors.object(v, "sender"), "secret_key_text"))
                let to = Vectors.string(Vectors.object(v, "recipient"), "public_key_base64url")
                let message = Vectors.message(Vectors.object(v, "message"))
                let target = Vectors.target(Vectors.object(v, "target"))
                if v["expected_max_plaintext"] != nil {
                    XCTAssertEqual(try maxPlaintextLen(target: target), Vectors.i64(v["expected_max_plaintext"]), name)
                }
                func seal() throws {
                    switch target {
                    case .envelope: _ = try sender.sealEnvelope(to: to, message: message)
                    case .apns(let options): _ = try sender.sealApns(to: to, message: message, options: options)
                    case .fcm(let options): _ = try sender.sealFcm(to: to, message: message, options: options)
                    }
                }
                XCTAssertThrowsError(try seal(), name) { thrown = $0 }
            default:
                XCTFail("\(name): unknown operation")
            }
            XCTAssertEqual(thrown.map { Vectors.kindName($0) }, kind, name)
            checked += 1
        }
        XCTAssertEqual(checked, Vectors.negative)
    }

    func testReplaySequencesRunAgainstOneStore() throws {
        let sequences = try Vectors.load("replay-sequences.json")
        var steps = 0
        for v in sequences {
            let keyring = try DeviceKeyring.fromBytes(bytes: Data(Vectors.string(v, "keyring").utf8))
            let replay = ReplayStore.inMemory()
            for step in v["steps"] as? [Vectors.Object] ?? [] {
                let what = "\(Vectors.string(v, "name")): \(Vectors.string(step, "description"))"
                let now = Vectors.date(step["now"])
                let payload = Vectors.object(step, "payload")
                if step["expected"] != nil {
                    let expected = Vectors.notification(Vectors.object(step, "expected"))
                    XCTAssertEqual(try Vectors.open(keyring, payload, replay, now), expected, what)
                } else {
                    XCTAssertThrowsError(try Vectors.open(keyring, payload, replay, now), what) {
                        XCTAssertEqual(Vectors.kindName($0), Vectors.string(step, "expected_error"), what)
                    }
                }
                steps += 1
            }
        }
        XCTAssertEqual(sequences.count, Vectors.sequences)
        XCTAssertEqual(steps, Vectors.steps)
    }

    func testKeyTextsReadAsStated() throws {
        // SPEC.md section 3.1: a public key text through trustSender, a secret key text through Sender,
        // a receipt text (the same white space rule) through verifyReceipt against its digest.
        let vectors = try Vectors.load("key-texts.json")
        for v in vectors {
            let name = Vectors.string(v, "name")
            let text = Vectors.string(v, "text")
            let role = Vectors.string(v, "role")
            func read() throws -> String {
                switch role {
                case "public":
                    let keyring = try DeviceKeyring.generate()
                    try keyring.trustSender(publicKey: text)
                    return keyring.trustedSenders().first ?? ""
                case "secret":
                    return try Sender.fromSecretText(text: text).publicKey()
                case "receipt":
                    let digest = Vectors.string(v, "receipt_digest")
                    return String(try verifyReceipt(receiptDigest: digest, receipt: text))
                default:
                    XCTFail("\(name): unknown role \(role)")
                    return ""
                }
            }
            if let expected = Vectors.optString(v, "expected_public_key") {
                XCTAssertEqual(try read(), expected, name)
            } else if Vectors.optString(v, "expected_receipt") != nil {
                // The text is that receipt: it matches the digest made from it.
                XCTAssertEqual(try read(), "true", name)
            } else {
                XCTAssertThrowsError(try read(), name) {
                    XCTAssertEqual(Vectors.kindName($0), Vectors.string(v, "expected_error"), name)
                }
            }
        }
        XCTAssertEqual(vectors.count, Vectors.keyTexts)
    }

    func testErrorKindsTakeTheDeviceActionStated() throws {
        // SPEC.md section 9: every core kind and its device action; the bindings add .internal alone.
        let vectors = try Vectors.load("error-kinds.json")
        let byName = Dictionary(uniqueKeysWithValues: ErrorKind.allCases.map { ($0.specName(), $0) })
        for v in vectors {
            let name = Vectors.string(v, "kind")
            let kind = try XCTUnwrap(byName[name], "\(name): no such ErrorKind in the bindings")
            XCTAssertEqual(kind.deviceAction().specName(), Vectors.string(v, "device_action"), name)
        }
        XCTAssertEqual(Set(byName.keys).subtracting(vectors.map { Vectors.string($0, "kind") }), ["internal"])
        XCTAssertEqual(Set(DeviceAction.allCases.map { $0.specName() }), Set(vectors.map { Vectors.string($0, "device_action") }))
        XCTAssertEqual(vectors.count, Vectors.errorKinds)
    }
}
