import Foundation

/// One payload that did not open: when, the kind of error, and the action the
/// library chose for it. Nothing else is kept.
public struct FailureRecord: Codable, Equatable, Sendable {
    /// When, in unix seconds.
    public let at: Int64
    /// The kind of error.
    public let kind: PushSealErrorKind
    /// What the library said to do about it.
    public let action: OpenOutcome.Action

    public init(at: Int64, kind: PushSealErrorKind, action: OpenOutcome.Action) {
        self.at = at
        self.kind = kind
        self.action = action
    }

    /// The record of `outcome` at `at`.
    public init(at: Int64, outcome: OpenOutcome) {
        self.init(at: at, kind: outcome.reason, action: outcome.action)
    }

    enum CodingKeys: String, CodingKey {
        case at
        case kind
        case action
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        at = try container.decode(Int64.self, forKey: .at)
        kind = PushSealErrorKind(wireName: try container.decode(String.self, forKey: .kind))
        // A record written before actions were kept reads as the fallback, like an unknown action.
        action = OpenOutcome.Action(specName: try container.decodeIfPresent(String.self, forKey: .action) ?? "")
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(at, forKey: .at)
        try container.encode(kind.wireName, forKey: .kind)
        try container.encode(action.rawValue, forKey: .action)
    }
}

/// The record the extension keeps of payloads that did not open, for the
/// app's diagnostics and for `RegistrationPolicy`. A JSON array in a file of
/// the App Group container, newest last, at most `capacity` records.
public enum FailureLog {
    /// How many records are kept; older ones are dropped.
    public static let capacity = 20

    /// The records in `data`; a missing or damaged log reads as empty.
    public static func decode(_ data: Data?) -> [FailureRecord] {
        guard let data, let records = try? JSONDecoder().decode([FailureRecord].self, from: data) else { return [] }
        return Array(records.suffix(capacity))
    }

    /// The log's bytes for `records` (the newest `capacity`).
    public static func encode(_ records: [FailureRecord]) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(Array(records.suffix(capacity)))) ?? Data("[]".utf8)
    }

    /// `data` with `record` appended and the oldest records dropped beyond `capacity`.
    public static func append(_ record: FailureRecord, to data: Data?) -> Data {
        encode(decode(data) + [record])
    }
}
