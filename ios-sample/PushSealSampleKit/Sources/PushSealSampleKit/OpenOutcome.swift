/// What the Notification Service Extension does with a payload that did not open.
///
/// An extension must always hand iOS a notification, and without Apple's
/// filtering entitlement it cannot hide one: every outcome of a PushSeal push
/// therefore delivers the app's own `FallbackText`, never the alert in the
/// payload, which nothing authenticates (SPEC.md section 7.5). The outcomes
/// differ in what the app does next.
public enum OpenOutcome: Equatable, Sendable {
    /// Deliver the fallback, record the reason, and have the app register its
    /// current public key again: the payload was sealed to a key this device
    /// no longer holds (a rotation the sender missed, or a reinstall).
    case reRegister(reason: PushSealErrorKind)
    /// Deliver the fallback and record the reason.
    case showFallback(reason: PushSealErrorKind)
    /// Show nothing new and record the reason: a replay of a notification
    /// already shown (the extension delivers `FallbackText`), or a push that is
    /// not PushSeal's at all (delivered as it came).
    case drop(reason: PushSealErrorKind)

    /// The outcome for an error of this kind.
    public init(error kind: PushSealErrorKind) {
        switch kind {
        case .unknownRecipientKey:
            self = .reRegister(reason: kind)
        case .replayed, .notPushSeal:
            self = .drop(reason: kind)
        case .invalidEncoding, .truncated, .unsupportedVersion, .invalidKeyLength, .untrustedSender,
             .zeroSharedSecret, .tampered, .malformedPadding, .malformed, .expired, .notYetValid,
             .payloadTooLarge, .invalidNotification, .invalidReceipt, .invalidKeyring, .storage, .randomness, .internal, .unknown:
            self = .showFallback(reason: kind)
        }
    }

    /// The kind of error that led here.
    public var reason: PushSealErrorKind {
        switch self {
        case .reRegister(let reason), .showFallback(let reason), .drop(let reason):
            return reason
        }
    }

    /// Whether the app must register its current public key again.
    public var needsRegistration: Bool {
        if case .reRegister = self { return true }
        return false
    }
}

/// The generic text shown when a payload does not open: it says that
/// something arrived and nothing else (no name, no clinic, no topic). The
/// sample sender's APNs fallback title is the same words.
public enum FallbackText {
    /// The fallback title.
    public static let title = "New message"
    /// The fallback body.
    public static let body = "Open the app to read it."
}
