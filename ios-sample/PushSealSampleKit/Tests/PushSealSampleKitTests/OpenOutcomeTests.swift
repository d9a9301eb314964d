import XCTest
@testable import PushSealSampleKit

/// The kit follows the action the library chose (`ErrorKind.deviceAction()`),
/// by its stable name: these tests check the names and what each action makes
/// the extension and the app do, whatever the kind.
final class OpenOutcomeTests: XCTestCase {
    func testActionNamesMatchTheCore() {
        let core = ["pass_through", "show_fallback", "reregister", "drop"]
        XCTAssertEqual(OpenOutcome.Action.allCases.map(\.rawValue), core)
        for name in core {
            XCTAssertEqual(OpenOutcome.Action(specName: name).rawValue, name)
        }
    }

    func testAnUnknownActionNameFailsSafeToTheFallback() {
        for name in ["a_future_action", "", "Drop", "pass-through", "reregister "] {
            let outcome = OpenOutcome(action: name, reason: .tampered)
            XCTAssertEqual(outcome.action, .showFallback, name)
            XCTAssertEqual(outcome.delivery, .fallback, name)
            XCTAssertTrue(outcome.isRecorded, name)
            XCTAssertFalse(outcome.needsRegistration, name)
        }
    }

    func testReregisterDeliversTheFallbackRecordsAndAsksForRegistration() {
        let outcome = OpenOutcome(action: "reregister", reason: .invalidKeyring)
        XCTAssertEqual(outcome.delivery, .fallback)
        XCTAssertTrue(outcome.isRecorded)
        XCTAssertTrue(outcome.needsRegistration)
        XCTAssertEqual(outcome.reason, .invalidKeyring)
    }

    func testShowFallbackAndDropDeliverTheFallbackAndRecordOnly() {
        // An extension cannot hide a push: a dropped replay shows the fallback too.
        for name in ["show_fallback", "drop"] {
            let outcome = OpenOutcome(action: name, reason: .replayed)
            XCTAssertEqual(outcome.delivery, .fallback, name)
            XCTAssertTrue(outcome.isRecorded, name)
            XCTAssertFalse(outcome.needsRegistration, name)
        }
    }

    func testPassThroughDeliversThePushAsItCameAndRecordsNothing() {
        let outcome = OpenOutcome(action: "pass_through", reason: .notPushSeal)
        XCTAssertEqual(outcome.delivery, .asItCame)
        XCTAssertFalse(outcome.isRecorded)
        XCTAssertFalse(outcome.needsRegistration)
    }

    func testTheActionDecidesNotTheKind() {
        // The kit keeps the kind for the record only: the same kind under
        // another action does what the action says.
        XCTAssertTrue(OpenOutcome(action: "reregister", reason: .tampered).needsRegistration)
        XCTAssertFalse(OpenOutcome(action: "show_fallback", reason: .unknownRecipientKey).needsRegistration)
        XCTAssertEqual(OpenOutcome(action: "show_fallback", reason: .notPushSeal).delivery, .fallback)
    }

    func testKindNamesMatchTheCore() {
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
