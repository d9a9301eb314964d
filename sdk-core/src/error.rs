//! The one error type of the crate.
//!
//! Every variant's message is one line that a person can act on, and none of
//! them ever contains plaintext, key bytes or anything else secret: key ids and
//! sizes are the only values they carry.

use core::fmt;

use crate::keys::KeyId;

/// Everything that can go wrong in PushSeal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The payload does not carry a PushSeal envelope at all.
    #[error("not a PushSeal payload: {0}")]
    NotPushSeal(&'static str),
    /// The envelope's version byte names a format this library does not know.
    #[error("unsupported envelope version {0} (this library reads versions 1 and 2)")]
    UnsupportedVersion(u8),
    /// A version 1 envelope reached a device that refuses version 1
    /// (`accept_v1(false)`, SPEC.md section 12.8). Its kind is
    /// [`ErrorKind::UnsupportedVersion`].
    #[error("unsupported envelope version 1: this device accepts version 2 only")]
    VersionOneRefused,
    /// A sender that requires version 2 was given a registration without a
    /// version 2 key (SPEC.md section 12.3). Its kind is
    /// [`ErrorKind::UnsupportedVersion`].
    #[error("the device registered no version 2 key and the sender requires version 2: have it register again")]
    NoVersionTwoKey,
    /// The input ends before a field it must contain.
    #[error("truncated input: {what} needs {needed} bytes, found {found}")]
    Truncated {
        /// The part that was cut short.
        what: &'static str,
        /// Bytes the part needs.
        needed: usize,
        /// Bytes that were there.
        found: usize,
    },
    /// The input has the right pieces but one of them is not well formed.
    #[error("malformed input: {0}")]
    Malformed(&'static str),
    /// Text that should be base64url (no padding) or hex is not, or is not in
    /// its one canonical form.
    #[error("invalid encoding: {0}")]
    InvalidEncoding(&'static str),
    /// A key has the wrong length.
    #[error("invalid key length: expected {expected} bytes, found {found}")]
    InvalidKeyLength {
        /// The length a key of this kind has.
        expected: usize,
        /// The length that was given.
        found: usize,
    },
    /// X25519 gave the all-zero shared secret: the peer's public key is a
    /// low-order point (RFC 9180, section 7.1.4).
    #[error("invalid public key: low-order point gives an all-zero shared secret")]
    ZeroSharedSecret,
    /// The envelope is sealed to a device key that this keyring does not hold
    /// (or no longer holds): the app should register its current public key again.
    #[error("unknown recipient key id {0}: register the device's current public key again")]
    UnknownRecipientKey(KeyId),
    /// The envelope names a sender that the device does not trust.
    #[error("untrusted sender key id {0}")]
    UntrustedSender(KeyId),
    /// Authentication failed: the envelope was altered, or it was not sealed
    /// by the sender it names to the key it names.
    #[error("authentication failed: the envelope was tampered with or forged")]
    Tampered,
    /// A version 2 envelope's signature does not verify with the trusted
    /// sender key its header names: it was altered or forged (SPEC.md
    /// section 12.5, step 7).
    #[error("invalid signature: the envelope is not signed by sender key id {0}")]
    InvalidSignature(KeyId),
    /// The decrypted plaintext does not end in valid PushSeal padding.
    #[error("malformed padding in the decrypted plaintext")]
    MalformedPadding,
    /// The notification is past its expiry time (plus the allowed clock skew).
    #[error("notification expired at {expires_at}, now is {now} (unix seconds)")]
    Expired {
        /// When it expired, in unix seconds.
        expires_at: u64,
        /// The device's clock, in unix seconds.
        now: u64,
    },
    /// The notification claims to be sent in the future, beyond the allowed clock skew.
    #[error("notification sent at {sent_at} is in the future, now is {now} (unix seconds)")]
    NotYetValid {
        /// When it claims to be sent, in unix seconds.
        sent_at: u64,
        /// The device's clock, in unix seconds.
        now: u64,
    },
    /// This message id was already accepted once (or is too old for the
    /// replay store to tell).
    #[error("replayed notification: this message id was already accepted")]
    Replayed,
    /// The notification is too large for the largest padding bucket, or its
    /// platform payload would exceed the gateway's 4096-byte limit.
    #[error("notification too large: it encodes to {size} bytes, the most that fits is {max_plaintext} bytes")]
    PayloadTooLarge {
        /// The encoded notification's size (its plaintext JSON), in bytes.
        size: usize,
        /// The largest encoded notification that fits with these options.
        max_plaintext: usize,
    },
    /// A device was given an envelope text longer than any sender makes
    /// (2,818 characters, SPEC.md section 4.3): refused before it is
    /// decoded. Its kind is [`ErrorKind::PayloadTooLarge`].
    #[error("envelope too large: {size} characters of text, a device opens at most {max}")]
    EnvelopeTooLarge {
        /// The envelope text's length, in bytes.
        size: usize,
        /// The most a device decodes: 2,818.
        max: usize,
    },
    /// A notification or option given to the sender is not valid.
    #[error("invalid notification: {0}")]
    InvalidNotification(&'static str),
    /// Stored key material could not be read.
    #[error("invalid keyring: {0}")]
    InvalidKeyring(&'static str),
    /// The replay store or key storage failed to read or write.
    #[error("storage error: {0}")]
    Storage(String),
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Randomness,
    /// A delivery receipt does not match any notification the sender's audit
    /// log recorded.
    #[error("invalid delivery receipt: {0}")]
    InvalidReceipt(&'static str),
}

/// The kind of an [`Error`], without its details: stable names that test
/// vectors, bindings and apps can match on (SPEC.md section 9).
///
/// Who meets which kind:
/// - **a device opening a payload**: `not_pushseal`, `invalid_encoding`,
///   `truncated`, `unsupported_version`, `unknown_recipient_key`,
///   `untrusted_sender`, `zero_shared_secret`, `tampered`, `invalid_signature`,
///   `malformed_padding`, `malformed`, `expired`, `not_yet_valid`,
///   `replayed`, `payload_too_large` (an envelope text over the cap); what
///   the app does about each is [`ErrorKind::device_action`];
/// - **a sender**: `payload_too_large`, `invalid_notification`,
///   `invalid_receipt`;
/// - **either, with keys and storage**: `invalid_encoding` and
///   `invalid_key_length` (key text and bytes), `zero_shared_secret` (a
///   trusted or registered low-order key), `invalid_keyring`, `storage`,
///   `randomness`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// See [`Error::NotPushSeal`].
    NotPushSeal,
    /// See [`Error::UnsupportedVersion`].
    UnsupportedVersion,
    /// See [`Error::Truncated`].
    Truncated,
    /// See [`Error::Malformed`].
    Malformed,
    /// See [`Error::InvalidEncoding`].
    InvalidEncoding,
    /// See [`Error::InvalidKeyLength`].
    InvalidKeyLength,
    /// See [`Error::ZeroSharedSecret`].
    ZeroSharedSecret,
    /// See [`Error::UnknownRecipientKey`].
    UnknownRecipientKey,
    /// See [`Error::UntrustedSender`].
    UntrustedSender,
    /// See [`Error::Tampered`].
    Tampered,
    /// See [`Error::MalformedPadding`].
    MalformedPadding,
    /// See [`Error::Expired`].
    Expired,
    /// See [`Error::NotYetValid`].
    NotYetValid,
    /// See [`Error::Replayed`].
    Replayed,
    /// See [`Error::PayloadTooLarge`] (a sender's) and [`Error::EnvelopeTooLarge`] (a device's).
    PayloadTooLarge,
    /// See [`Error::InvalidNotification`].
    InvalidNotification,
    /// See [`Error::InvalidKeyring`].
    InvalidKeyring,
    /// See [`Error::Storage`].
    Storage,
    /// See [`Error::Randomness`].
    Randomness,
    /// See [`Error::InvalidReceipt`].
    InvalidReceipt,
    /// See [`Error::InvalidSignature`].
    InvalidSignature,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 21] = [
        Self::NotPushSeal,
        Self::UnsupportedVersion,
        Self::Truncated,
        Self::Malformed,
        Self::InvalidEncoding,
        Self::InvalidKeyLength,
        Self::ZeroSharedSecret,
        Self::UnknownRecipientKey,
        Self::UntrustedSender,
        Self::Tampered,
        Self::MalformedPadding,
        Self::Expired,
        Self::NotYetValid,
        Self::Replayed,
        Self::PayloadTooLarge,
        Self::InvalidNotification,
        Self::InvalidKeyring,
        Self::Storage,
        Self::Randomness,
        Self::InvalidReceipt,
        Self::InvalidSignature,
    ];

    /// The stable snake_case name used in `SPEC.md` and in `test-vectors/`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::NotPushSeal => "not_pushseal",
            Self::UnsupportedVersion => "unsupported_version",
            Self::Truncated => "truncated",
            Self::Malformed => "malformed",
            Self::InvalidEncoding => "invalid_encoding",
            Self::InvalidKeyLength => "invalid_key_length",
            Self::ZeroSharedSecret => "zero_shared_secret",
            Self::UnknownRecipientKey => "unknown_recipient_key",
            Self::UntrustedSender => "untrusted_sender",
            Self::Tampered => "tampered",
            Self::MalformedPadding => "malformed_padding",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::Replayed => "replayed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::InvalidNotification => "invalid_notification",
            Self::InvalidKeyring => "invalid_keyring",
            Self::Storage => "storage",
            Self::Randomness => "randomness",
            Self::InvalidReceipt => "invalid_receipt",
            Self::InvalidSignature => "invalid_signature",
        }
    }

    /// The kind with this stable name, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// What an app does when a payload does not open: [`ErrorKind::device_action`].
///
/// Whatever the action, the app never shows the alert text that came with
/// the payload, which nothing authenticates (SPEC.md section 7.5), nor any
/// part of the payload or of the error's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeviceAction {
    /// The push is not PushSeal's at all (another part of the app, or another
    /// SDK, sent it): hand it on as it came.
    PassThrough,
    /// Show the app's own generic fallback ("New message", nothing else) and
    /// record the kind: the payload was damaged, forged, stale, or sealed by
    /// a sender the device does not trust.
    ShowFallback,
    /// Show the generic fallback, record the kind, and register the device's
    /// current public key with its sender again: the payload was sealed to a
    /// key this device no longer holds (a rotation the sender missed, a
    /// reinstall), or the stored keyring cannot be read (a new keyring must
    /// be made and registered).
    Reregister,
    /// Show nothing new and record the kind: the notification was already
    /// shown once (a replay).
    Drop,
}

impl DeviceAction {
    /// The action's stable snake_case name (`"show_fallback"`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::PassThrough => "pass_through",
            Self::ShowFallback => "show_fallback",
            Self::Reregister => "reregister",
            Self::Drop => "drop",
        }
    }
}

impl ErrorKind {
    /// What an app does when opening a payload fails with this kind: the one
    /// policy every sample and binding follows.
    ///
    /// `unknown_recipient_key` and `invalid_keyring` ask to register again,
    /// `replayed` drops, `not_pushseal` passes the push through, and every
    /// other kind shows the app's generic fallback (kinds an open never
    /// returns, such as the sender's, included: failing safe).
    pub const fn device_action(self) -> DeviceAction {
        match self {
            Self::UnknownRecipientKey | Self::InvalidKeyring => DeviceAction::Reregister,
            Self::Replayed => DeviceAction::Drop,
            Self::NotPushSeal => DeviceAction::PassThrough,
            Self::UnsupportedVersion
            | Self::Truncated
            | Self::Malformed
            | Self::InvalidEncoding
            | Self::InvalidKeyLength
            | Self::ZeroSharedSecret
            | Self::UntrustedSender
            | Self::Tampered
            | Self::MalformedPadding
            | Self::Expired
            | Self::NotYetValid
            | Self::PayloadTooLarge
            | Self::InvalidNotification
            | Self::Storage
            | Self::Randomness
            | Self::InvalidReceipt
            | Self::InvalidSignature => DeviceAction::ShowFallback,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Error {
    /// The kind of this error, for matching without the details.
    pub const fn kind(&self) -> ErrorKind {
        match self {
            Self::NotPushSeal(_) => ErrorKind::NotPushSeal,
            Self::UnsupportedVersion(_) | Self::VersionOneRefused | Self::NoVersionTwoKey => {
                ErrorKind::UnsupportedVersion
            }
            Self::Truncated { .. } => ErrorKind::Truncated,
            Self::Malformed(_) => ErrorKind::Malformed,
            Self::InvalidEncoding(_) => ErrorKind::InvalidEncoding,
            Self::InvalidKeyLength { .. } => ErrorKind::InvalidKeyLength,
            Self::ZeroSharedSecret => ErrorKind::ZeroSharedSecret,
            Self::UnknownRecipientKey(_) => ErrorKind::UnknownRecipientKey,
            Self::UntrustedSender(_) => ErrorKind::UntrustedSender,
            Self::Tampered => ErrorKind::Tampered,
            Self::InvalidSignature(_) => ErrorKind::InvalidSignature,
            Self::MalformedPadding => ErrorKind::MalformedPadding,
            Self::Expired { .. } => ErrorKind::Expired,
            Self::NotYetValid { .. } => ErrorKind::NotYetValid,
            Self::Replayed => ErrorKind::Replayed,
            Self::PayloadTooLarge { .. } | Self::EnvelopeTooLarge { .. } => ErrorKind::PayloadTooLarge,
            Self::InvalidNotification(_) => ErrorKind::InvalidNotification,
            Self::InvalidKeyring(_) => ErrorKind::InvalidKeyring,
            Self::Storage(_) => ErrorKind::Storage,
            Self::Randomness => ErrorKind::Randomness,
            Self::InvalidReceipt(_) => ErrorKind::InvalidReceipt,
        }
    }
}

/// The result type of the crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip_and_are_unique() {
        let mut names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(k.name()), Some(k));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorKind::ALL.len());
        assert_eq!(ErrorKind::from_name("nope"), None);
    }

    #[test]
    fn device_actions_ask_to_register_drop_or_pass_only_where_they_must() {
        let by_action = |action| {
            let mut kinds: Vec<&str> =
                ErrorKind::ALL.into_iter().filter(|k| k.device_action() == action).map(ErrorKind::name).collect();
            kinds.sort_unstable();
            kinds
        };
        assert_eq!(by_action(DeviceAction::Reregister), ["invalid_keyring", "unknown_recipient_key"]);
        assert_eq!(by_action(DeviceAction::Drop), ["replayed"]);
        assert_eq!(by_action(DeviceAction::PassThrough), ["not_pushseal"]);
        assert_eq!(by_action(DeviceAction::ShowFallback).len(), ErrorKind::ALL.len() - 4);
    }
}
