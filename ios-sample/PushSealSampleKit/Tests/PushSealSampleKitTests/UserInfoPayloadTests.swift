import Foundation
import XCTest
@testable import PushSealSampleKit

final class UserInfoPayloadTests: XCTestCase {
    private let envelope = "AQ" + String(repeating: "x", count: 400)

    private func object(_ json: String) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(json.utf8))
        return try XCTUnwrap(value as? [String: Any])
    }

    func testAPushSealUserInfoBecomesJSON() throws {
        let userInfo: [AnyHashable: Any] = [
            "aps": ["alert": ["title": "New message"], "mutable-content": 1],
            "pushseal": envelope,
        ]
        let json = try UserInfoPayload.json(from: userInfo)
        let parsed = try object(json)
        XCTAssertEqual(parsed["pushseal"] as? String, envelope)
        XCTAssertNotNil(parsed["aps"] as? [String: Any])
        XCTAssertTrue(json.hasPrefix("{\"aps\""), "keys are sorted")
    }

    func testNonStringKeysAndNonJSONValuesAreLeftOut() throws {
        let userInfo: [AnyHashable: Any] = [
            "pushseal": envelope,
            42: "a number key",
            "when": Date(timeIntervalSince1970: 0),
        ]
        let parsed = try object(UserInfoPayload.json(from: userInfo))
        XCTAssertEqual(Set(parsed.keys), ["pushseal"])
    }

    func testAPushWithoutAnEnvelopeIsNotPushSeal() {
        XCTAssertThrowsError(try UserInfoPayload.json(from: ["aps": ["alert": "hi"]])) { error in
            XCTAssertEqual(error as? UserInfoPayload.Failure, .notPushSeal)
            XCTAssertEqual((error as? UserInfoPayload.Failure)?.kind, .notPushSeal)
        }
        XCTAssertThrowsError(try UserInfoPayload.json(from: ["pushseal": 7])) { error in
            XCTAssertEqual(error as? UserInfoPayload.Failure, .notPushSeal)
        }
        XCTAssertThrowsError(try UserInfoPayload.json(from: [:])) { error in
            XCTAssertEqual(error as? UserInfoPayload.Failure, .notPushSeal)
        }
    }

    func testAnEnvelopeLongerThanAPNsCarriesIsRefused() throws {
        let long = String(repeating: "A", count: UserInfoPayload.maxEnvelopeBytes + 1)
        XCTAssertThrowsError(try UserInfoPayload.json(from: ["pushseal": long])) { error in
            XCTAssertEqual(error as? UserInfoPayload.Failure, .tooLarge)
            XCTAssertEqual((error as? UserInfoPayload.Failure)?.kind, .payloadTooLarge)
        }
        let limit = String(repeating: "A", count: UserInfoPayload.maxEnvelopeBytes)
        XCTAssertEqual(try object(UserInfoPayload.json(from: ["pushseal": limit]))["pushseal"] as? String, limit)
    }
}
