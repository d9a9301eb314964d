import Foundation
import PushSeal
import XCTest

/// Every envelope version 2 vector in test-vectors/v2.json (SPEC.md section 12), through the
/// Swift bindings (mirrors the Kotlin VectorsV2Test): positive vectors open through the same
/// `open` as version 1, to their plaintext and receipt; negative vectors fail with their kind;
/// sender vectors seal or refuse as stated; version 2 key texts are refused.
final class VectorsV2Tests: XCTestCase {
    private func section(_ name: String) throws -> [Vectors.Object] {
        try XCTUnwrap(try Vectors.loadV2()[name] as? [Vectors.Object], name)
    }

    /// The payloads a platform delivers around one envelope text (SPEC.md section 7).
    private func payloads(_ envelope: String) throws -> [Payload] {
        let userInfo: [String: Any] = ["aps": ["content-available": 1], "pushseal": envelope]
        let apns = String(decoding: try JSONSerialization.data(withJSONObject: userInfo), as: UTF8.self)
        return [.envelope(envelope: envelope), .fcm(data: ["pushseal": envelope]), .apns(userInfoJson: apns)]
    }

    /// Base64url without padding, decoded.
    private func base64url(_ text: String) -> Data? {
        var b64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        b64 += String(repeating: "=", count: (4 - b64.count % 4) % 4)
        return Data(base64Encoded: b64)
    }

    func testPositiveVectorsOpenThroughTheSameOpenAsVersion1() throws {
        let vectors = try section("positive")
        for v in vectors {
            let name = Vectors.string(v, "name")
            let keyringText = Vectors.string(v, "keyring")
            let keyring = try DeviceKeyring.fromBytes(bytes: Data(keyringText.utf8))
            // Writing the keyring back gives the same bytes.
            XCTAssertEqual(String(decoding: try keyring.toBytes(), as: UTF8.self), keyringText, name)
            XCTAssertEqual(keyring.registration(), Vectors.string(v, "registration"), name)
            XCTAssertEqual(keyring.publicKeyV2(), Vectors.string(v, "device_v2_public_text"), name)
            XCTAssertEqual(keyring.keyIdV2(), Vectors.string(v, "device_v2_key_id"), name)
            XCTAssertEqual(keyring.trustedSendersV2(), [Vectors.string(v, "sender_v2_public_text")], name)

            let plaintextData = Data(Vectors.string(v, "plaintext").utf8)
            let plaintext = try XCTUnwrap(try JSONSerialization.jsonObject(with: plaintextData) as? Vectors.Object, name)
            let expected = OpenedNotification(
                id: Vectors.string(v, "message_id"),
                sentAt: Vectors.date(v["sent_at"]),
                expiresAt: Vectors.date(plaintext["expires_at"]),
                title: Vectors.string(plaintext, "title"),
                body: Vectors.string(plaintext, "body"),
                data: [:],
                threadId: nil,
                category: nil,
                badge: nil,
                sound: nil
            )
            let now = Vectors.date(v["now"])
            let envelope = Vectors.string(v, "envelope_base64url")
            for payload in try payloads(envelope) {
                let opened = try keyring.openWithReceipt(payload: payload, replay: .inMemory(), now: now)
                XCTAssertEqual(opened.notification, expected, "\(name) \(payload)")
                XCTAssertEqual(opened.receipt, Vectors.string(v, "receipt_base64url"), name)
                XCTAssertTrue(
                    try verifyReceipt(receiptDigest: Vectors.string(v, "receipt_digest"), receipt: opened.receipt),
                    name
                )
                XCTAssertEqual(try keyring.open(payload: payload, replay: .inMemory(), now: now), expected, name)
            }

            let info = try inspect(envelope: envelope)
            XCTAssertEqual(info.version, 2, name)
            XCTAssertEqual(info.recipientKeyId, Vectors.string(v, "device_v2_key_id"), name)
            XCTAssertEqual(info.senderKeyId, Vectors.string(v, "sender_v2_key_id"), name)
            XCTAssertEqual(info.paddedLen, Vectors.i64(v["padded_len"]), name)

            // The sender's texts read back as the vector's keys.
            let sender = try Sender.fromSecretText(
                text: try Sender.generate().secretText(),
                textV2: Vectors.string(v, "sender_v2_secret_text")
            )
            XCTAssertEqual(sender.publicKeyV2(), Vectors.string(v, "sender_v2_public_text"), name)
            XCTAssertEqual(sender.keyIdV2(), Vectors.string(v, "sender_v2_key_id"), name)
            XCTAssertEqual(sender.secretTextV2(), Vectors.string(v, "sender_v2_secret_text"), name)
        }
        XCTAssertEqual(vectors.count, Vectors.v2Positive)
    }

    func testNegativeVectorsFailWithTheirKind() throws {
        let vectors = try section("negative")
        for v in vectors {
            let name = Vectors.string(v, "name")
            let keyring = try DeviceKeyring.fromBytes(bytes: Data(Vectors.string(v, "keyring").utf8))
            let payload = Payload.envelope(envelope: Vectors.string(v, "envelope_base64url"))
            XCTAssertThrowsError(try keyring.open(payload: payload, replay: .inMemory(), now: Vectors.date(v["now"])), name) {
                XCTAssertEqual(Vectors.kindName($0), Vectors.string(v, "error_kind"), name)
            }
        }
        XCTAssertEqual(vectors.count, Vectors.v2Negative)
    }

    func testSenderVectorsSealOrRefuseAsStated() throws {
        let vectors = try section("sender")
        let device = try DeviceKeyring.generate()
        let sender = try Sender.generate()
        try device.trustSenderV2(publicKey: try XCTUnwrap(sender.publicKeyV2()))
        // A notification's JSON with an empty body: the filler makes it exactly the vector's length.
        let empty = #"{"id":"00000000000000000000000000000000","sent_at":1767225600,"expires_at":1767312000,"title":"t","body":""}"#.utf8.count
        for v in vectors {
            let name = Vectors.string(v, "name")
            if Vectors.string(v, "pq") == "require" {
                let generated = try Sender.generate()
                let strict = try Sender.fromSecretText(
                    text: try generated.secretText(),
                    textV2: generated.secretTextV2(),
                    pq: .require
                )
                XCTAssertThrowsError(
                    try strict.sealEnvelope(to: Vectors.string(v, "registration"), message: Message(title: "t", body: "b")),
                    name
                ) {
                    XCTAssertEqual(Vectors.kindName($0), Vectors.string(v, "error_kind"), name)
                }
                continue
            }
            let filler = Int(Vectors.i64(v["plaintext_len"])) - empty
            let message = Message(title: "t", body: String(repeating: "x", count: filler))
            let to = device.registration()
            let target = Vectors.string(v, "target")
            func seal() throws -> Sealed {
                switch target {
                case "apns":
                    return try sender.sealApns(to: to, message: message).sealed
                case "fcm":
                    return try sender.sealFcm(to: to, message: message).sealed
                default:
                    let sealed = try sender.sealEnvelope(to: to, message: message)
                    XCTAssertEqual(Int64(base64url(sealed.envelope)?.count ?? -1), Vectors.i64(v["envelope_len"]), name)
                    _ = try device.open(payload: .envelope(envelope: sealed.envelope), replay: .inMemory())
                    return sealed.sealed
                }
            }
            if v["error_kind"] == nil || v["error_kind"] is NSNull {
                XCTAssertEqual(try seal().version, 2, name)
            } else {
                XCTAssertThrowsError(try seal(), name) {
                    XCTAssertEqual(Vectors.kindName($0), Vectors.string(v, "error_kind"), name)
                }
            }
        }
        XCTAssertEqual(vectors.count, Vectors.v2Sender)
    }

    func testVersion2KeyTextsAreRefused() throws {
        let vectors = try section("key_texts")
        let keyring = try DeviceKeyring.generate()
        var read = 0
        for v in vectors {
            let name = Vectors.string(v, "name")
            let text = Vectors.string(v, "text")
            let kind = Vectors.string(v, "kind")
            func attempt() throws {
                switch kind {
                case "sender_v2_public":
                    try keyring.trustSenderV2(publicKey: text)
                case "device_v2_public":
                    // A device's version 2 key reaches a sender inside its registration.
                    let body = text.hasPrefix("pushseal-device-v2:") ? String(text.dropFirst("pushseal-device-v2:".count)) : text
                    let registration = "pushseal-registration-v2:\(keyring.publicKey()).\(body)"
                    _ = try Sender.generate().sealEnvelope(to: registration, message: Message(title: "t", body: "b"))
                case "sender_v2_secret":
                    _ = try Sender.fromSecretText(text: try Sender.generate().secretText(), textV2: text)
                default:
                    XCTFail("\(name): unknown kind \(kind)")
                }
            }
            // The bindings read a device's version 2 secret key only inside keyring bytes.
            if kind == "device_v2_secret" { continue }
            XCTAssertThrowsError(try attempt(), name) {
                XCTAssertEqual(Vectors.kindName($0), Vectors.string(v, "error_kind"), name)
            }
            read += 1
        }
        XCTAssertEqual(vectors.count, Vectors.v2KeyTexts)
        XCTAssertEqual(read, Vectors.v2KeyTexts - 1)
        XCTAssertTrue(keyring.trustedSendersV2().isEmpty)
    }
}
