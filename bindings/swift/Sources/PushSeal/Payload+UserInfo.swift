// A push as iOS hands it to the app, made into the payload the library opens,
// and the fallback text shown when it does not open: the core decides what is
// PushSeal's, how large it may be, and what the fallback says.
import Foundation

extension Payload {
    /// The payload of a push as iOS delivers it
    /// (`UNNotificationRequest.content.userInfo`), for `open(payload:replay:)`.
    ///
    /// The dictionary is written as JSON text: every top-level entry with a
    /// string key and a value JSON can carry, which is every entry APNs
    /// delivers. Nothing is decided here: a push with no `"pushseal"` string
    /// fails the open with `.notPushSeal` (its action: pass it through), an
    /// envelope over the core's size cap with its own kind, before any key is
    /// used.
    ///
    /// ```swift
    /// let opened = try keyring.open(payload: .apns(userInfo: request.content.userInfo), replay: replay)
    /// ```
    public static func apns(userInfo: [AnyHashable: Any]) -> Payload {
        var object: [String: Any] = [:]
        for (key, value) in userInfo {
            guard let name = key.base as? String, JSONSerialization.isValidJSONObject([name: value]) else { continue }
            object[name] = value
        }
        // Every entry was checked above; "{}" (not PushSeal's) if writing fails all the same.
        let json = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
            .flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
        return .apns(userInfoJson: json)
    }
}

/// The text to show when an open fails with `.showFallback` or `.reregister`:
/// the core's words (`fallbackText()`), kept here as constants so that an
/// extension that cannot load the library shows the same text (the tests check
/// that they are the core's). Never show any part of the payload instead.
public enum Fallback {
    /// "New message": the sender's APNs fallback title too.
    public static let title = "New message"
    /// The body under `title`.
    public static let body = "Open the app to read it."
}
