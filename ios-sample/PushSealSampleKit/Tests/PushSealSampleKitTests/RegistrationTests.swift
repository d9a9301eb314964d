import Foundation
import XCTest
@testable import PushSealSampleKit

final class RegistrationTests: XCTestCase {
    private let publicKey = "q1hOaf4Ti2Yg0sCYHsUbZSg7H1Ej6WcDbOQ1cWNlJXo"
    private let keyId = "3f2a9c0d11b47e58"
    private let token: [UInt8] = [0x00, 0x0F, 0xA1, 0xFF]

    func testDeviceTokensAreLowercaseHex() {
        XCTAssertEqual(DeviceToken.hex(token), "000fa1ff")
        XCTAssertEqual(DeviceToken.hex([UInt8]()), "")
    }

    func testTheRegistrationIsTheJSONTheSampleSenderReads() throws {
        let registration = try Registration(
            publicKey: publicKey, keyId: keyId, deviceToken: token, appId: "org.pushseal.sample", environment: .development
        )
        let json = String(decoding: try registration.jsonData(), as: UTF8.self)
        XCTAssertEqual(
            json,
            "{\"apns_environment\":\"development\",\"app_id\":\"org.pushseal.sample\",\"key_id\":\"\(keyId)\","
                + "\"platform\":\"ios\",\"public_key\":\"\(publicKey)\",\"push_token\":\"000fa1ff\"}"
        )
        let decoded = try JSONDecoder().decode(Registration.self, from: registration.jsonData())
        XCTAssertEqual(decoded, registration)
    }

    func testTheAppIdIsLeftOutWhenUnknown() throws {
        let registration = try Registration(
            publicKey: publicKey, keyId: keyId, deviceToken: token, appId: nil, environment: .production
        )
        let json = String(decoding: try registration.jsonData(), as: UTF8.self)
        XCTAssertFalse(json.contains("app_id"))
        XCTAssertTrue(json.contains("\"apns_environment\":\"production\""))
    }

    func testMalformedRegistrationsAreRefused() {
        func attempt(_ key: String, _ id: String, _ bytes: [UInt8], _ app: String?) -> Registration.Invalid? {
            do {
                _ = try Registration(publicKey: key, keyId: id, deviceToken: bytes, appId: app, environment: .production)
                return nil
            } catch {
                return error as? Registration.Invalid
            }
        }
        XCTAssertEqual(attempt(String(publicKey.dropLast()), keyId, token, nil), .publicKey)
        XCTAssertEqual(attempt(String(publicKey.dropLast()) + "=", keyId, token, nil), .publicKey)
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
