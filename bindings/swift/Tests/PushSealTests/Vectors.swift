import Foundation
import PushSeal
import XCTest

/// The shared test vectors in test-vectors/ (schema: test-vectors/README.md).
/// Mirrors Vectors.kt of the Kotlin tests.
enum Vectors {
    /// How many vectors the files hold (the same counts as sdk-core/tests/vectors.rs).
    static let positive = 19
    static let negative = 130
    static let sequences = 10
    static let steps = 54
    static let keyTexts = 28
    static let errorKinds = 21

    /// v2.json: its positive, negative, sender and key text vectors (the same counts as sdk-core/tests/vectors_v2.rs).
    static let v2Positive = 4
    static let v2Negative = 15
    static let v2Sender = 7
    static let v2KeyTexts = 13

    typealias Object = [String: Any]

    /// test-vectors/, found from this file: bindings/swift/Tests/PushSealTests/Vectors.swift.
    static var directory: URL {
        if let dir = ProcessInfo.processInfo.environment["PUSHSEAL_VECTORS_DIR"] {
            return URL(fileURLWithPath: dir, isDirectory: true)
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // PushSealTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // swift
            .deletingLastPathComponent()  // bindings
            .deletingLastPathComponent()  // repository root
            .appendingPathComponent("test-vectors", isDirectory: true)
    }

    /// The `vectors` array of one file, after checking the schema version.
    static func load(_ name: String) throws -> [Object] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        let file = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? Object, name)
        XCTAssertEqual(u64(file["version"]), 1, name)
        return try XCTUnwrap(file["vectors"] as? [Object], name)
    }

    /// v2.json, the envelope version 2 vectors: its one object of sections (`positive`, `negative`, `sender`, `key_texts`).
    static func loadV2() throws -> Object {
        let sections = try load("v2.json")
        XCTAssertEqual(sections.count, 1, "v2.json")
        return try XCTUnwrap(sections.first, "v2.json")
    }

    static func string(_ o: Object, _ field: String) -> String {
        o[field] as? String ?? ""
    }

    static func optString(_ o: Object, _ field: String) -> String? {
        o[field] as? String
    }

    static func object(_ o: Object, _ field: String) -> Object {
        o[field] as? Object ?? [:]
    }

    static func stringMap(_ any: Any?) -> [String: String] {
        (any as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
    }

    /// A JSON number as UInt64 (JSONSerialization gives NSNumber on Apple
    /// platforms and Int or NSNumber on Linux).
    static func u64(_ any: Any?) -> UInt64 {
        switch any {
        case let n as Int: return UInt64(n)
        case let n as UInt64: return n
        case let n as NSNumber: return n.uint64Value
        default: return UInt64.max
        }
    }

    /// A JSON number as Int64 (every number in the vectors fits).
    static func i64(_ any: Any?) -> Int64 {
        Int64(truncatingIfNeeded: u64(any))
    }

    static func optI64(_ any: Any?) -> Int64? {
        if any == nil || any is NSNull { return nil }
        return i64(any)
    }

    /// Unix seconds as the bindings' time type.
    static func date(_ any: Any?) -> Date {
        Date(timeIntervalSince1970: TimeInterval(u64(any)))
    }

    /// The vectors' snake_case name of an error's kind, from the library's `ErrorKind`.
    static func kindName(_ error: Error) -> String {
        guard let error = error as? PushSealError else { return "not a PushSealError: \(error)" }
        return error.kind.specName()
    }

    static func open(_ keyring: DeviceKeyring, _ payload: Object, _ replay: ReplayStore, _ now: Date) throws
        -> OpenedNotification
    {
        switch string(payload, "kind") {
        case "apns": return try keyring.open(payload: .apns(userInfoJson: string(payload, "value")), replay: replay, now: now)
        case "fcm": return try keyring.open(payload: .fcm(data: stringMap(payload["value"])), replay: replay, now: now)
        default: return try keyring.open(payload: .envelope(envelope: string(payload, "value")), replay: replay, now: now)
        }
    }

    static func notification(_ o: Object) -> OpenedNotification {
        OpenedNotification(
            id: string(o, "id"),
            sentAt: date(o["sent_at"]),
            expiresAt: date(o["expires_at"]),
            title: string(o, "title"),
            body: string(o, "body"),
            data: stringMap(o["data"]),
            threadId: optString(o, "thread_id"),
            category: optString(o, "category"),
            badge: optI64(o["badge"]),
            sound: optString(o, "sound")
        )
    }

    static func message(_ o: Object) -> Message {
        Message(
            title: string(o, "title"),
            body: string(o, "body"),
            data: stringMap(o["data"]),
            threadId: optString(o, "thread_id"),
            category: optString(o, "category"),
            badge: optI64(o["badge"]),
            sound: optString(o, "sound"),
            ttl: TimeInterval(u64(o["ttl_secs"]))
        )
    }

    static func target(_ o: Object) -> Target {
        let options = object(o, "options")
        switch string(o, "kind") {
        case "apns":
            return .apns(
                options: ApnsOptions(
                    pushType: string(options, "push_type") == "background" ? .background : .alert,
                    fallbackTitle: optString(options, "fallback_title"),
                    fallbackBody: optString(options, "fallback_body"),
                    collapseId: optString(options, "collapse_id"),
                    topic: optString(options, "topic")
                )
            )
        case "fcm":
            return .fcm(
                options: FcmOptions(token: optString(options, "token"), collapseKey: optString(options, "collapse_key"))
            )
        default:
            return .envelope
        }
    }
}
