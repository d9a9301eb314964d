import PushSeal
import PushSealSampleKit

extension PushSealError {
    /// The error's kind, as the platform-free logic knows it. The switch is
    /// exhaustive on purpose: a new error in the library fails the build here
    /// until it is given its outcome.
    var kind: PushSealErrorKind {
        switch self {
        case .NotPushSeal: return .notPushSeal
        case .InvalidEncoding: return .invalidEncoding
        case .Truncated: return .truncated
        case .UnsupportedVersion: return .unsupportedVersion
        case .InvalidKeyLength: return .invalidKeyLength
        case .UnknownRecipientKey: return .unknownRecipientKey
        case .UntrustedSender: return .untrustedSender
        case .ZeroSharedSecret: return .zeroSharedSecret
        case .Tampered: return .tampered
        case .MalformedPadding: return .malformedPadding
        case .Malformed: return .malformed
        case .Expired: return .expired
        case .NotYetValid: return .notYetValid
        case .Replayed: return .replayed
        case .PayloadTooLarge: return .payloadTooLarge
        case .InvalidNotification: return .invalidNotification
        case .InvalidReceipt: return .invalidReceipt
        case .InvalidKeyring: return .invalidKeyring
        case .Storage: return .storage
        case .Randomness: return .randomness
        case .Internal: return .internal
        }
    }
}

extension PushSealErrorKind {
    /// The kind of any error thrown while opening: PushSeal's own, or `.internal`.
    init(_ error: any Error) {
        if let error = error as? PushSealError {
            self = error.kind
        } else if let error = error as? UserInfoPayload.Failure {
            self = error.kind
        } else {
            self = .internal
        }
    }
}
