import Foundation

/// Turns the `userInfo` of a push (`UNNotificationRequest.content.userInfo`)
/// into the JSON text the PushSeal library opens (`keyring.open(payload: .apns(userInfoJson:), replay:)`).
///
/// Only top-level entries with string keys and JSON values are kept, so
/// `JSONSerialization` never meets an object it cannot write. The envelope is
/// checked to be present and of a size APNs can carry before anything else
/// runs, so the extension does no work for a push that is not PushSeal's.
public enum UserInfoPayload {
    /// The key that holds the envelope.
    public static let key = "pushseal"
    /// The longest envelope text accepted: APNs delivers at most 4096 bytes of payload.
    public static let maxEnvelopeBytes = 4096

    /// Why a `userInfo` was not turned into JSON.
    public enum Failure: Error, Equatable, Sendable {
        /// No `"pushseal"` string: not a PushSeal push.
        case notPushSeal
        /// The envelope is longer than APNs can carry.
        case tooLarge
        /// The dictionary could not be written as JSON.
        case notJSON

        /// The error kind of this failure: the app asks the library what to do
        /// about it (`ErrorKind.deviceAction()`) by this kind's stable name.
        public var kind: PushSealErrorKind {
            switch self {
            case .notPushSeal: return .notPushSeal
            case .tooLarge: return .payloadTooLarge
            case .notJSON: return .notPushSeal
            }
        }
    }

    /// The JSON text of `userInfo`, keys sorted.
    public static func json(from userInfo: [AnyHashable: Any]) throws -> String {
        var object: [String: Any] = [:]
        for (entryKey, value) in userInfo {
            guard let name = entryKey.base as? String else { continue }
            guard JSONSerialization.isValidJSONObject([name: value]) else { continue }
            object[name] = value
        }
        guard let envelope = object[Self.key] as? String else { throw Failure.notPushSeal }
        guard envelope.utf8.count <= maxEnvelopeBytes else { throw Failure.tooLarge }
        guard JSONSerialization.isValidJSONObject(object),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
              let text = String(data: data, encoding: .utf8)
        else { throw Failure.notJSON }
        return text
    }
}
