import Foundation
import XCTest
@testable import PushSealSampleKit

final class FailureLogTests: XCTestCase {
    func testRecordsRoundTrip() {
        let records = [
            FailureRecord(at: 10, kind: .tampered, action: .showFallback),
            FailureRecord(at: 11, outcome: OpenOutcome(action: "reregister", reason: .unknownRecipientKey)),
        ]
        let data = FailureLog.encode(records)
        XCTAssertEqual(
            String(decoding: data, as: UTF8.self),
            "[{\"action\":\"show_fallback\",\"at\":10,\"kind\":\"tampered\"},"
                + "{\"action\":\"reregister\",\"at\":11,\"kind\":\"unknown_recipient_key\"}]"
        )
        XCTAssertEqual(FailureLog.decode(data), records)
    }

    func testAppendKeepsOnlyTheNewest() {
        var data: Data? = nil
        for i in 0..<(FailureLog.capacity + 5) {
            data = FailureLog.append(FailureRecord(at: Int64(i), kind: .replayed, action: .drop), to: data)
        }
        let records = FailureLog.decode(data)
        XCTAssertEqual(records.count, FailureLog.capacity)
        XCTAssertEqual(records.first?.at, 5)
        XCTAssertEqual(records.last?.at, Int64(FailureLog.capacity + 4))
    }

    func testAMissingOrDamagedLogReadsAsEmptyAndUnknownNamesSurvive() {
        XCTAssertEqual(FailureLog.decode(nil), [])
        XCTAssertEqual(FailureLog.decode(Data("not json".utf8)), [])
        let future = Data("[{\"action\":\"a_future_action\",\"at\":5,\"kind\":\"a_future_kind\"}]".utf8)
        XCTAssertEqual(FailureLog.decode(future), [FailureRecord(at: 5, kind: .unknown, action: .showFallback)])
        // A record without an action (an older log) never asks for a registration.
        let older = Data("[{\"at\":6,\"kind\":\"unknown_recipient_key\"}]".utf8)
        XCTAssertEqual(FailureLog.decode(older), [FailureRecord(at: 6, kind: .unknownRecipientKey, action: .showFallback)])
    }
}

final class ContentPlanTests: XCTestCase {
    func testAnOpenedNotificationsFieldsAreCopied() {
        let plan = ContentPlan(
            title: "Appointment", body: "Tomorrow 10:00", threadId: "visits", category: "appointment", badge: 2, sound: "default"
        )
        XCTAssertEqual(plan.title, "Appointment")
        XCTAssertEqual(plan.body, "Tomorrow 10:00")
        XCTAssertEqual(plan.threadIdentifier, "visits")
        XCTAssertEqual(plan.categoryIdentifier, "appointment")
        XCTAssertEqual(plan.badge, 2)
        XCTAssertEqual(plan.sound, .systemDefault)
    }

    func testMissingFieldsKeepTheDefaults() {
        let plan = ContentPlan(title: "", body: "Body", threadId: nil, category: nil, badge: nil, sound: nil)
        XCTAssertNil(plan.title, "the library's fallback title")
        XCTAssertEqual(plan.threadIdentifier, "")
        XCTAssertEqual(plan.categoryIdentifier, "")
        XCTAssertNil(plan.badge)
        XCTAssertNil(plan.sound)
        XCTAssertEqual(ContentPlan(title: "t", body: "b", threadId: nil, category: nil, badge: nil, sound: "chime.caf").sound, .named("chime.caf"))
        XCTAssertNil(ContentPlan(title: "t", body: "b", threadId: nil, category: nil, badge: nil, sound: "").sound)
    }
}
