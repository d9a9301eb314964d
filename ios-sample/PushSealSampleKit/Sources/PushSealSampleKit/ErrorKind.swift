/// Why a payload did not open: one case per PushSeal error kind, with the
/// stable snake_case name the core library, SPEC.md and the test vectors use.
///
/// The app maps each `PushSealError` to one of these by its kind's stable name
/// (`error.kind.specName()`, in `Shared/ErrorKind+Outcome.swift`), next to
/// the action the library chose for it (`OpenOutcome`); everything after that
/// point is plain Swift, tested by `swift test`. Only the kind and the action
/// are ever recorded, never an error's message or the payload: they say what
/// happened without carrying any part of a notification.
public enum PushSealErrorKind: String, CaseIterable, Codable, Sendable {
    case notPushSeal = "not_pushseal"
    case invalidEncoding = "invalid_encoding"
    case truncated = "truncated"
    case unsupportedVersion = "unsupported_version"
    case invalidKeyLength = "invalid_key_length"
    case unknownRecipientKey = "unknown_recipient_key"
    case untrustedSender = "untrusted_sender"
    case zeroSharedSecret = "zero_shared_secret"
    case tampered = "tampered"
    case malformedPadding = "malformed_padding"
    case malformed = "malformed"
    case expired = "expired"
    case notYetValid = "not_yet_valid"
    case replayed = "replayed"
    case payloadTooLarge = "payload_too_large"
    case invalidNotification = "invalid_notification"
    case invalidReceipt = "invalid_receipt"
    case invalidSignature = "invalid_signature"
    case invalidKeyring = "invalid_keyring"
    case storage = "storage"
    case randomness = "randomness"
    case `internal` = "internal"
    /// A kind this version of the app does not know (a newer library's).
    case unknown = "unknown"

    /// The kind with this snake_case name; `.unknown` for a name this app does not know.
    public init(wireName: String) {
        self = PushSealErrorKind(rawValue: wireName) ?? .unknown
    }

    /// The stable snake_case name.
    public var wireName: String { rawValue }
}
