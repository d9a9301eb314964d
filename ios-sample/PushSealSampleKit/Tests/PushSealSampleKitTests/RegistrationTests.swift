import Foundation
import XCTest
@testable import PushSealSampleKit

final class RegistrationTests: XCTestCase {
    private let publicKey = "q1hOaf4Ti2Yg0sCYHsUbZSg7H1Ej6WcDbOQ1cWNlJXo"
    private let keyId = "3f2a9c0d11b47e58"
    private let token: [UInt8] = [0x00, 0x0F, 0xA1, 0xFF]
    // The shape of DeviceKeyring.registration(): the version 1 key, ".", the 1,216-byte version 2 key.
    private var registrationText: String {
        "pushseal-registration-v2:\(publicKey)." + String(repeating: "Qm9", count: 540) + "Qm"
    }

    func testDeviceTokensAreLowercaseHex() {
        XCTAssertEqual(DeviceToken.hex(token), "000fa1ff")
        XCTAssertEqual(DeviceToken.hex([UInt8]()), "")
    }

    func testTheRegistrationTextIsTheJSONTheSampleSenderReads() throws {
        XCTAssertEqual(registrationText.utf8.count, 1691)
        let registration = try Registration(
            registration: registrationText, keyId: keyId, deviceToken: token, appId: "org.pushseal.sample",
            environment: .development
        )
        XCTAssertTrue(registration.hasVersion2)
        let json = String(decoding: try registration.jsonData(), as: UTF8.self)
        XCTAssertEqual(
            json,
            "{\"apns_environment\":\"development\",\"app_id\":\"org.pushseal.sample\",\"key_id\":\"\(keyId)\","
                + "\"platform\":\"ios\",\"push_token\":\"000fa1ff\",\"registration\":\"\(registrationText)\"}"
        )
        let decoded = try JSONDecoder().decode(Registration.self, from: registration.jsonData())
        XCTAssertEqual(decoded, registration)
    }

    func testAKeyringWithoutAVersion2KeyRegistersItsPublicKeyAsBefore() throws {
        let registration = try Registration(
            registration: publicKey, keyId: keyId, deviceToken: token, appId: "org.pushseal.sample", environment: .development
        )
        XCTAssertFalse(registration.hasVersion2)
        let json = String(decoding: try registration.jsonData(), as: UTF8.self)
        XCTAssertEqual(
            json,
            "{\"apns_environment\":\"development\",\"app_id\":\"org.pushseal.sample\",\"key_id\":\"\(keyId)\","
                + "\"platform\":\"ios\",\"public_key\":\"\(publicKey)\",\"push_token\":\"000fa1ff\"}"
        )
    }

    func testTheAppIdIsLeftOutWhenUnknown() throws {
        let registration = try Registration(
            registration: registrationText, keyId: keyId, deviceToken: token, appId: nil, environment: .production
        )
        let json = String(decoding: try registration.jsonData(), as: UTF8.self)
        XCTAssertFalse(json.contains("app_id"))
        XCTAssertTrue(json.contains("\"apns_environment\":\"production\""))
    }

    func testMalformedRegistrationsAreRefused() {
        func attempt(_ key: String, _ id: String, _ bytes: [UInt8], _ app: String?) -> Registration.Invalid? {
            do {
                _ = try Registration(registration: key, keyId: id, deviceToken: bytes, appId: app, environment: .production)
                return nil
            } catch {
                return error as? Registration.Invalid
            }
        }
        XCTAssertEqual(attempt(String(publicKey.dropLast()), keyId, token, nil), .registration)
        XCTAssertEqual(attempt(String(publicKey.dropLast()) + "=", keyId, token, nil), .registration)
        XCTAssertEqual(attempt(String(registrationText.dropLast()), keyId, token, nil), .registration)
        XCTAssertEqual(attempt(registrationText + "A", keyId, token, nil), .registration)
        XCTAssertEqual(
            attempt(registrationText.replacingOccurrences(of: ".", with: ":"), keyId, token, nil), .registration
        )
        XCTAssertEqual(
            attempt(registrationText.replacingOccurrences(of: "-v2:", with: "-v3:"), keyId, token, nil), .registration
        )
        // A device's version 2 public key alone is not a registration: the sender needs both keys.
        let v2Alone = "pushseal-device-v2:" + String(registrationText.split(separator: ".")[1])
        XCTAssertEqual(attempt(v2Alone, keyId, token, nil), .registration)
        XCTAssertNil(attempt(registrationText, keyId, token, nil))
        XCTAssertEqual(attempt(publicKey, keyId.uppercased(), token, nil), .keyId)
        XCTAssertEqual(attempt(publicKey, keyId, [], nil), .deviceToken)
        XCTAssertEqual(attempt(publicKey, keyId, token, "org/evil"), .appId)
        XCTAssertNil(attempt(publicKey, keyId, token, "org.pushseal.sample"))
    }

    func testTheSenderResponseDecodes() throws {
        let json = "{\"registered\":\"\(keyId)\",\"sender_key_id\":\"b7576e8bdf817f27\",\"sender_public_key\":\"\(publicKey)\"}"
        let response = try JSONDecoder().decode(RegistrationResponse.self, from: Data(json.utf8))
        XCTAssertEqual(response.registered, keyId)
        XCTAssertEqual(response.senderKeyId, "b7576e8bdf817f27")
        XCTAssertEqual(response.senderPublicKey, publicKey)
        XCTAssertNil(response.senderPublicKeyV2)

        let senderV2 = "pushseal-sender-v2:" + String(repeating: "A", count: 43)
        let withV2 = "{\"registered\":\"\(keyId)\",\"sender_key_id\":\"b7576e8bdf817f27\",\"sender_key_id_v2\":"
            + "\"0123456789abcdef\",\"sender_public_key\":\"\(publicKey)\",\"sender_public_key_v2\":\"\(senderV2)\","
            + "\"version\":2}"
        let answer = try JSONDecoder().decode(RegistrationResponse.self, from: Data(withV2.utf8))
        XCTAssertEqual(answer.senderPublicKeyV2, senderV2)
        XCTAssertEqual(answer.senderKeyIdV2, "0123456789abcdef")
    }

    func testRegistrationIsDueOnFirstRunRotationNewTokenAndAnUnknownKeyReport() {
        let last = RegistrationState(keyId: keyId, pushToken: "token-1", registeredAt: 1_000)
        XCTAssertNil(RegistrationPolicy.reasonToRegister(last: nil, currentKeyId: keyId, pushToken: nil, failures: []))
        XCTAssertEqual(
            RegistrationPolicy.reasonToRegister(last: nil, currentKeyId: keyId, pushToken: "token-1", failures: []),
            .neverRegistered
        )
        XCTAssertNil(RegistrationPolicy.reasonToRegister(last: last, currentKeyId: keyId, pushToken: "token-1", failures: []))
        XCTAssertEqual(
            RegistrationPolicy.reasonToRegister(last: last, currentKeyId: "0000000000000000", pushToken: "token-1", failures: []),
            .keyRotated
        )
        XCTAssertEqual(
            RegistrationPolicy.reasonToRegister(last: last, currentKeyId: keyId, pushToken: "token-2", failures: []),
            .tokenChanged
        )
        let before = FailureRecord(at: 999, kind: .unknownRecipientKey, action: .reregister)
        let after = FailureRecord(at: 1_001, kind: .unknownRecipientKey, action: .reregister)
        let tampered = FailureRecord(at: 1_002, kind: .tampered, action: .showFallback)
        XCTAssertNil(
            RegistrationPolicy.reasonToRegister(last: last, currentKeyId: keyId, pushToken: "token-1", failures: [before, tampered])
        )
        XCTAssertEqual(
            RegistrationPolicy.reasonToRegister(
                last: last, currentKeyId: keyId, pushToken: "token-1", failures: [before, after, tampered]
            ),
            .reregisterReported
        )
    }

    func testAnAppThatRegisteredBeforeVersion2RegistersItsVersion2Key() throws {
        let before = RegistrationState(keyId: keyId, pushToken: "token-1", registeredAt: 1_000)
        XCTAssertEqual(
            RegistrationPolicy.reasonToRegister(
                last: before, currentKeyId: keyId, pushToken: "token-1", failures: [], currentHasVersion2: true
            ),
            .versionTwoKeyAdded
        )
        XCTAssertNil(RegistrationPolicy.reasonToRegister(last: before, currentKeyId: keyId, pushToken: "token-1", failures: []))
        let both = RegistrationState(keyId: keyId, pushToken: "token-1", registeredAt: 1_000, hasVersion2: true)
        XCTAssertNil(
            RegistrationPolicy.reasonToRegister(
                last: both, currentKeyId: keyId, pushToken: "token-1", failures: [], currentHasVersion2: true
            )
        )
        // A state saved before version 2 has no hasVersion2 member, and reads as without.
        let old = "{\"keyId\":\"\(keyId)\",\"pushToken\":\"token-1\",\"registeredAt\":1000}"
        let decoded = try JSONDecoder().decode(RegistrationState.self, from: Data(old.utf8))
        XCTAssertEqual(
            RegistrationPolicy.reasonToRegister(
                last: decoded, currentKeyId: keyId, pushToken: "token-1", failures: [], currentHasVersion2: true
            ),
            .versionTwoKeyAdded
        )
    }

    func testTheRecordedActionDecidesNotTheKind() {
        let last = RegistrationState(keyId: keyId, pushToken: "token-1", registeredAt: 1_000)
        let asked = FailureRecord(at: 1_001, kind: .invalidKeyring, action: .reregister)
        let notAsked = FailureRecord(at: 1_001, kind: .unknownRecipientKey, action: .showFallback)
        XCTAssertEqual(
            RegistrationPolicy.reasonToRegister(last: last, currentKeyId: keyId, pushToken: "token-1", failures: [asked]),
            .reregisterReported
        )
        XCTAssertNil(RegistrationPolicy.reasonToRegister(last: last, currentKeyId: keyId, pushToken: "token-1", failures: [notAsked]))
    }
}
