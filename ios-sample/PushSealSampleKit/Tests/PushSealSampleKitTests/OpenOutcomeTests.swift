import Foundation
import XCTest
@testable import PushSealSampleKit

/// The kit follows the action the library chose (`ErrorKind.deviceAction()`),
/// by its stable name: these tests check the names and what each action makes
/// the extension and the app do, whatever the kind.
final class OpenOutcomeTests: XCTestCase {
    func testActionNamesMatchTheCore() throws {
        // Exactly the four actions test-vectors/error-kinds.json gives the core's kinds.
        let core = Set(try Self.coreErrorKinds().map(\.action))
        XCTAssertEqual(Set(OpenOutcome.Action.allCases.map(\.rawValue)), core)
        XCTAssertEqual(core.count, 4)
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

    func testKindNamesMatchTheCore() throws {
        // Every kind of test-vectors/error-kinds.json; the kit adds only the
        // bindings' `internal` and its own `unknown`.
        let core = try Self.coreErrorKinds().map(\.kind)
        XCTAssertEqual(core.count, 21)
        for name in core {
            XCTAssertNotEqual(PushSealErrorKind(wireName: name), .unknown, name)
            XCTAssertEqual(PushSealErrorKind(wireName: name).wireName, name)
        }
        XCTAssertEqual(Set(PushSealErrorKind.allCases.map(\.wireName)).subtracting(core), ["internal", "unknown"])
        XCTAssertEqual(PushSealErrorKind(wireName: "a_future_kind"), .unknown)
        XCTAssertEqual(PushSealErrorKind(wireName: "Tampered"), .unknown)
    }

    /// The kinds and actions of test-vectors/error-kinds.json, found from
    /// this file: ios-sample/PushSealSampleKit/Tests/PushSealSampleKitTests/.
    private static func coreErrorKinds() throws -> [(kind: String, action: String)] {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // PushSealSampleKitTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // PushSealSampleKit
            .deletingLastPathComponent()  // ios-sample
            .deletingLastPathComponent()  // repository root
            .appendingPathComponent("test-vectors/error-kinds.json")
        let file = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let vectors = try XCTUnwrap(file["vectors"] as? [[String: Any]])
        return try vectors.map { (try XCTUnwrap($0["kind"] as? String), try XCTUnwrap($0["device_action"] as? String)) }
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
