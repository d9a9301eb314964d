import XCTest
@testable import PushSealSampleKit

final class OpenOutcomeTests: XCTestCase {
    func testUnknownRecipientKeyAsksForRegistration() {
        XCTAssertEqual(OpenOutcome(error: .unknownRecipientKey), .reRegister(reason: .unknownRecipientKey))
        XCTAssertTrue(PushSealErrorKind.unknownRecipientKey.outcome.needsRegistration)
    }

    func testReplayAndForeignPushAreDropped() {
        XCTAssertEqual(PushSealErrorKind.replayed.outcome, .drop(reason: .replayed))
        XCTAssertEqual(PushSealErrorKind.notPushSeal.outcome, .drop(reason: .notPushSeal))
        XCTAssertFalse(PushSealErrorKind.replayed.outcome.needsRegistration)
    }

    func testEveryOtherKindShowsTheFallback() {
        let special: [PushSealErrorKind] = [.unknownRecipientKey, .replayed, .notPushSeal]
        let others = PushSealErrorKind.allCases.filter { !special.contains($0) }
        XCTAssertEqual(others.count, PushSealErrorKind.allCases.count - 3)
        for kind in others {
            XCTAssertEqual(kind.outcome, .showFallback(reason: kind), kind.wireName)
            XCTAssertEqual(kind.outcome.reason, kind)
        }
    }

    func testWireNamesMatchTheCore() {
        let core = [
            "not_pushseal", "unsupported_version", "truncated", "malformed", "invalid_encoding",
            "invalid_key_length", "zero_shared_secret", "unknown_recipient_key", "untrusted_sender", "tampered",
            "malformed_padding", "expired", "not_yet_valid", "replayed", "payload_too_large",
            "invalid_notification", "invalid_receipt", "invalid_keyring", "storage", "randomness",
        ]
        for name in core {
            XCTAssertNotEqual(PushSealErrorKind(wireName: name), .unknown, name)
            XCTAssertEqual(PushSealErrorKind(wireName: name).wireName, name)
        }
        XCTAssertEqual(PushSealErrorKind(wireName: "a_future_kind"), .unknown)
        XCTAssertEqual(PushSealErrorKind(wireName: "Tampered"), .unknown)
    }
}
