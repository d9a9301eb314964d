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
            XCTAssertEqual(OpenOutcome.Action(specName: name), .showFallback, name)
            assertOutcome(name, reason: .tampered, delivers: .fallback, recorded: true, registers: false)
        }
    }

    func testWhatEachActionDoes() {
        assertOutcome("reregister", reason: .invalidKeyring, delivers: .fallback, recorded: true, registers: true)
        assertOutcome("show_fallback", reason: .tampered, delivers: .fallback, recorded: true, registers: false)
        // An extension cannot hide a push: a dropped replay shows the fallback too.
        assertOutcome("drop", reason: .replayed, delivers: .fallback, recorded: true, registers: false)
        assertOutcome("pass_through", reason: .notPushSeal, delivers: .asItCame, recorded: false, registers: false)
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

    private func assertOutcome(
        _ action: String,
        reason: PushSealErrorKind,
        delivers delivery: OpenOutcome.Delivery,
        recorded: Bool,
        registers: Bool,
        line: UInt = #line
    ) {
        let outcome = OpenOutcome(action: action, reason: reason)
        XCTAssertEqual(outcome.reason, reason, action, line: line)
        XCTAssertEqual(outcome.delivery, delivery, action, line: line)
        XCTAssertEqual(outcome.isRecorded, recorded, action, line: line)
        XCTAssertEqual(outcome.needsRegistration, registers, action, line: line)
    }
}
