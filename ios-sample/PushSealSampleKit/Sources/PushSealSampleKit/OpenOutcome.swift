/// What the Notification Service Extension does with a payload that did not
/// open: the action the PushSeal library chose for the error
/// (`error.kind.deviceAction()`, the core's one failure policy), and the kind
/// of error, for the record.
///
/// The kit never decides the action itself: it only knows the four actions by
/// their stable names, the way it knows error kinds, so it builds and tests
/// without the PushSeal binary. An action name it does not know (a newer
/// library's) fails safe to `.showFallback`.
///
/// An extension must always hand iOS a notification, and without Apple's
/// filtering entitlement it cannot hide one: every outcome of a PushSeal push
/// therefore delivers the library's fallback text (`Fallback`, the core's words), never the alert in the
/// payload, which nothing authenticates (SPEC.md section 7.5). Only a push
/// that is not PushSeal's at all is delivered as it came.
public struct OpenOutcome: Equatable, Sendable {
    /// What to do about the failure, with the stable snake_case name of the
    /// library's `DeviceAction` (`DeviceAction.specName()`).
    public enum Action: String, CaseIterable, Sendable {
        /// Not a PushSeal push: deliver it as it came, record nothing.
        case passThrough = "pass_through"
        /// Deliver the fallback and record the reason.
        case showFallback = "show_fallback"
        /// Deliver the fallback, record the reason, and have the app register
        /// its current public key again.
        case reregister = "reregister"
        /// Show nothing new (the extension delivers the fallback: it cannot
        /// hide a push) and record the reason: a replay.
        case drop = "drop"

        /// The action with this stable name; `.showFallback` for a name this app does not know.
        public init(specName: String) {
            self = Action(rawValue: specName) ?? .showFallback
        }
    }

    /// What iOS is handed.
    public enum Delivery: Equatable, Sendable {
        /// The push's own content, untouched.
        case asItCame
        /// The library's fallback text (`Fallback.title`, `Fallback.body`).
        case fallback
    }

    /// What to do.
    public let action: Action
    /// The kind of error that led here.
    public let reason: PushSealErrorKind

    /// The outcome for the action the library returned, by its stable name, and the error's kind.
    public init(action specName: String, reason: PushSealErrorKind) {
        self.action = Action(specName: specName)
        self.reason = reason
    }

    /// What the extension hands iOS.
    public var delivery: Delivery {
        action == .passThrough ? .asItCame : .fallback
    }

    /// Whether the failure goes into the failure log (a push that is not
    /// PushSeal's is none of PushSeal's business).
    public var isRecorded: Bool {
        action != .passThrough
    }

    /// Whether the app must register its current public key again.
    public var needsRegistration: Bool {
        action == .reregister
    }
}

