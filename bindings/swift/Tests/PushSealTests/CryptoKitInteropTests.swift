#if canImport(CryptoKit)
import CryptoKit
import Foundation
import PushSeal
import XCTest

/// The envelope of SPEC.md section 4 made and opened with Apple's own HPKE
/// (CryptoKit, iOS 17 and macOS 14), not with PushSeal: a standard HPKE
/// library and the spec are enough to interoperate with the bindings. Mirrors
/// what SpecInteropTest.kt (Kotlin, over the JDK) and test_spec_interop.py
/// (Python, over `cryptography`) check with their own HPKE.
final class CryptoKitInteropTests: XCTestCase {
    private let info = Data("pushseal envelope v1".utf8)
    private let headerLength = 49

    private func hex(_ text: String) throws -> Data {
        let digits = Array(text.utf8)
        XCTAssertEqual(digits.count % 2, 0, text)
        var out = Data(capacity: digits.count / 2)
        for i in stride(from: 0, to: digits.count - 1, by: 2) {
            out.append(try XCTUnwrap(UInt8(String(decoding: digits[i...i + 1], as: UTF8.self), radix: 16), text))
        }
        return out
    }

    private func base64url(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private func fromBase64url(_ text: String) throws -> Data {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard += "=" }
        return try XCTUnwrap(Data(base64Encoded: standard), text)
    }

    /// SPEC.md section 4.1: `0x01 || recipient key id || sender key id || enc`,
    /// then `ct = Seal(aad = that header, padded plaintext)` in mode auth.
    @available(iOS 17.0, macOS 14.0, *)
    private func seal(_ padded: Data, to recipient: Data, _ recipientKeyId: Data, from senderSecret: Data,
                      _ senderKeyId: Data) throws -> Data {
        var sender = try HPKE.Sender(
            recipientKey: try Curve25519.KeyAgreement.PublicKey(rawRepresentation: recipient),
            ciphersuite: .Curve25519_SHA256_ChachaPoly,
            info: info,
            authenticatedBy: try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: senderSecret)
        )
        let header = Data([0x01]) + recipientKeyId + senderKeyId + sender.encapsulatedKey
        XCTAssertEqual(header.count, headerLength)
        return header + (try sender.seal(padded, authenticating: header))
    }

    /// SPEC.md section 4.2, steps 6 to 8: the padded plaintext.
    @available(iOS 17.0, macOS 14.0, *)
    private func open(_ envelope: Data, with recipientSecret: Data, from senderPublic: Data) throws -> Data {
        let bytes = [UInt8](envelope)
        XCTAssertGreaterThan(bytes.count, headerLength + 16)
        guard bytes.count > headerLength + 16 else { return Data() }
        var recipient = try HPKE.Recipient(
            privateKey: try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: recipientSecret),
            ciphersuite: .Curve25519_SHA256_ChachaPoly,
            info: info,
            encapsulatedKey: Data(bytes[17..<headerLength]),
            authenticatedBy: try Curve25519.KeyAgreement.PublicKey(rawRepresentation: senderPublic)
        )
        return try recipient.open(Data(bytes[headerLength...]), authenticating: Data(bytes[0..<headerLength]))
    }

    /// SPEC.md section 6: the plaintext before its `0x80 0x00*` padding.
    private func unpad(_ padded: Data) throws -> Data {
        let bytes = [UInt8](padded)
        let end = try XCTUnwrap(bytes.lastIndex(where: { $0 != 0 }))
        XCTAssertEqual(bytes[end], 0x80)
        return Data(bytes[0..<end])
    }

    func testCryptoKitSealsWhatTheBindingsOpen() throws {
        guard #available(iOS 17.0, macOS 14.0, *) else { throw XCTSkip("CryptoKit's HPKE needs iOS 17 or macOS 14") }
        let vectors = try Vectors.load("positive.json")
        XCTAssertEqual(vectors.count, Vectors.positive)
        for v in vectors {
            let name = Vectors.string(v, "name")
            let header = Vectors.object(v, "header")
            let envelope = try seal(
                try hex(Vectors.string(v, "padded_plaintext")),
                to: try hex(Vectors.string(Vectors.object(v, "recipient"), "public_key")),
                try hex(Vectors.string(header, "recipient_key_id")),
                from: try hex(Vectors.string(Vectors.object(v, "sender"), "secret_key")),
                try hex(Vectors.string(header, "sender_key_id"))
            )
            let serialized = Vectors.string(Vectors.object(v, "keyring"), "serialized")
            let keyring = try DeviceKeyring.fromBytes(bytes: Data(serialized.utf8))
            let opened = try keyring.open(
                payload: .envelope(envelope: base64url(envelope)), replay: .inMemory(), now: Vectors.date(v["now"]))
            XCTAssertEqual(opened, Vectors.notification(Vectors.object(v, "expected")), name)
        }
    }

    func testCryptoKitOpensEveryVectorsEnvelope() throws {
        guard #available(iOS 17.0, macOS 14.0, *) else { throw XCTSkip("CryptoKit's HPKE needs iOS 17 or macOS 14") }
        for v in try Vectors.load("positive.json") {
            let name = Vectors.string(v, "name")
            let envelope = try fromBase64url(Vectors.string(v, "envelope_base64url"))
            let padded = try open(
                envelope,
                with: try hex(Vectors.string(Vectors.object(v, "recipient"), "secret_key")),
                from: try hex(Vectors.string(Vectors.object(v, "sender"), "public_key"))
            )
            XCTAssertEqual(padded, try hex(Vectors.string(v, "padded_plaintext")), name)
            XCTAssertEqual(String(decoding: try unpad(padded), as: UTF8.self), Vectors.string(v, "plaintext"), name)

            var tampered = [UInt8](envelope)
            tampered[tampered.count - 1] ^= 0x01
            XCTAssertThrowsError(
                try open(
                    Data(tampered),
                    with: try hex(Vectors.string(Vectors.object(v, "recipient"), "secret_key")),
                    from: try hex(Vectors.string(Vectors.object(v, "sender"), "public_key"))
                ),
                name
            )
        }
    }

    func testCryptoKitOpensWhatTheBindingsSeal() throws {
        guard #available(iOS 17.0, macOS 14.0, *) else { throw XCTSkip("CryptoKit's HPKE needs iOS 17 or macOS 14") }
        let sender = try Sender.generate()
        let device = try DeviceKeyring.generate()
        try device.trustSender(publicKey: sender.publicKey())
        // The device's secret key, from the keyring's storage form (SPEC.md section 8.2).
        let stored = try XCTUnwrap(try JSONSerialization.jsonObject(with: try device.toBytes()) as? [String: Any])
        let deviceSecret = try fromBase64url(try XCTUnwrap(stored["current"] as? String))

        let message = Message(title: "Lab results", body: "Your results from Tuesday are ready.", data: ["ref": "lab-7731"])
        let envelope = try fromBase64url(try sender.sealEnvelope(to: device.publicKey(), message: message).envelope)
        let plaintext = try unpad(try open(envelope, with: deviceSecret, from: try fromBase64url(sender.publicKey())))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: plaintext) as? [String: Any])
        XCTAssertEqual(json["title"] as? String, message.title)
        XCTAssertEqual(json["body"] as? String, message.body)
        XCTAssertEqual(json["data"] as? [String: String], message.data)
    }
}
#endif
