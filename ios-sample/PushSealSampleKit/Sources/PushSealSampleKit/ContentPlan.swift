/// What the extension puts into `UNMutableNotificationContent` for a
/// notification that opened, decided without UserNotifications so it can be
/// tested anywhere. The extension copies it field by field.
public struct ContentPlan: Equatable, Sendable {
    /// The sound to play.
    public enum Sound: Equatable, Sendable {
        /// `UNNotificationSound.default`.
        case systemDefault
        /// `UNNotificationSound(named:)` with a sound file in the app bundle.
        case named(String)
    }

    /// `title`; nil: the library's fallback title (`Fallback.title`).
    public let title: String?
    /// `body`.
    public let body: String
    /// `threadIdentifier`; empty for none.
    public let threadIdentifier: String
    /// `categoryIdentifier`; empty for none.
    public let categoryIdentifier: String
    /// `badge`; nil leaves the badge alone.
    public let badge: Int?
    /// `sound`; nil keeps the payload's (none, for PushSeal's fallback alert).
    public let sound: Sound?

    /// The plan for an opened notification's fields.
    public init(title: String, body: String, threadId: String?, category: String?, badge: Int64?, sound: String?) {
        self.title = title.isEmpty ? nil : title
        self.body = body
        self.threadIdentifier = threadId ?? ""
        self.categoryIdentifier = category ?? ""
        self.badge = badge.map { Int(clamping: $0) }
        if let sound, !sound.isEmpty {
            self.sound = sound == "default" ? .systemDefault : .named(sound)
        } else {
            self.sound = nil
        }
    }
}
