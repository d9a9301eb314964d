// PushSealError as Swift code expects an error: a kind to switch on and the
// one-line reason, as properties. Written by hand beside the generated
// PushSeal.swift: UniFFI names error cases after the Rust variants
// (`.Tampered(reason:)`), so apps switch on `error.kind` (`.tampered`) instead.

extension PushSealError {
    /// What kind of error this is (`ErrorKind`, shared with Kotlin and Python).
    public typealias Kind = ErrorKind

    /// What kind of error this is. What an app does about a payload that did
    /// not open is `kind.deviceAction()`, the core's one policy: switch on
    /// that, not on the kind.
    ///
    /// ```swift
    /// do { ... } catch let error as PushSealError {
    ///     switch error.kind.deviceAction() {
    ///     case .passThrough: handOn()                  // not a PushSeal push
    ///     case .drop: return                           // already shown
    ///     case .reregister: registerAgain(); showFallback()
    ///     case .showFallback: showFallback()
    ///     }
    /// }
    /// ```
    public var kind: ErrorKind {
        switch self {
        case .NotPushSeal: .notPushSeal
        case .InvalidEncoding: .invalidEncoding
        case .Truncated: .truncated
        case .UnsupportedVersion: .unsupportedVersion
        case .InvalidKeyLength: .invalidKeyLength
        case .UnknownRecipientKey: .unknownRecipientKey
        case .UntrustedSender: .untrustedSender
        case .ZeroSharedSecret: .zeroSharedSecret
        case .Tampered: .tampered
        case .MalformedPadding: .malformedPadding
        case .Malformed: .malformed
        case .Expired: .expired
        case .NotYetValid: .notYetValid
        case .Replayed: .replayed
        case .PayloadTooLarge: .payloadTooLarge
        case .InvalidNotification: .invalidNotification
        case .InvalidKeyring: .invalidKeyring
        case .Storage: .storage
        case .Randomness: .randomness
        case .InvalidReceipt: .invalidReceipt
        case .InvalidSignature: .invalidSignature
        case .Internal: .internal
        }
    }

    /// What went wrong, in one line for logs and people. Never plaintext or
    /// key bytes; match on `kind`, not on this text.
    public var reason: String {
        switch self {
        case .NotPushSeal(let reason), .InvalidEncoding(let reason), .Truncated(let reason),
            .UnsupportedVersion(let reason), .InvalidKeyLength(let reason), .UnknownRecipientKey(let reason),
            .UntrustedSender(let reason), .ZeroSharedSecret(let reason), .Tampered(let reason),
            .MalformedPadding(let reason), .Malformed(let reason), .Expired(let reason),
            .NotYetValid(let reason), .Replayed(let reason), .PayloadTooLarge(let reason),
            .InvalidNotification(let reason), .InvalidKeyring(let reason), .Storage(let reason),
            .Randomness(let reason), .InvalidReceipt(let reason), .InvalidSignature(let reason),
            .Internal(let reason):
            reason
        }
    }

    /// An error of `kind` with `reason`: what a `KeyStorage` written in Swift
    /// throws (`PushSealError(.storage, reason: "...")`).
    public init(_ kind: ErrorKind, reason: String) {
        switch kind {
        case .notPushSeal: self = .NotPushSeal(reason: reason)
        case .invalidEncoding: self = .InvalidEncoding(reason: reason)
        case .truncated: self = .Truncated(reason: reason)
        case .unsupportedVersion: self = .UnsupportedVersion(reason: reason)
        case .invalidKeyLength: self = .InvalidKeyLength(reason: reason)
        case .unknownRecipientKey: self = .UnknownRecipientKey(reason: reason)
        case .untrustedSender: self = .UntrustedSender(reason: reason)
        case .zeroSharedSecret: self = .ZeroSharedSecret(reason: reason)
        case .tampered: self = .Tampered(reason: reason)
        case .malformedPadding: self = .MalformedPadding(reason: reason)
        case .malformed: self = .Malformed(reason: reason)
        case .expired: self = .Expired(reason: reason)
        case .notYetValid: self = .NotYetValid(reason: reason)
        case .replayed: self = .Replayed(reason: reason)
        case .payloadTooLarge: self = .PayloadTooLarge(reason: reason)
        case .invalidNotification: self = .InvalidNotification(reason: reason)
        case .invalidKeyring: self = .InvalidKeyring(reason: reason)
        case .storage: self = .Storage(reason: reason)
        case .randomness: self = .Randomness(reason: reason)
        case .invalidReceipt: self = .InvalidReceipt(reason: reason)
        case .invalidSignature: self = .InvalidSignature(reason: reason)
        case .internal: self = .Internal(reason: reason)
        }
    }
}
