//! PushSeal for Swift, Kotlin and Python: the UniFFI surface over the
//! `pushseal` crate (sdk-core).
//!
//! This crate only adapts types: every rule (parsing, acceptance order,
//! sealing, replay protection) lives in `pushseal`. Exported signatures use
//! owned types (`String`, `Vec<u8>`, `HashMap`), every function that looks at
//! caller input returns `Result<_, PushSealError>`, and nothing here panics.
//!
//! Names as the foreign languages see them: Kotlin package `org.pushseal`
//! (`DeviceKeyring.fromBytes`, `keyring.openApns(...)`,
//! `PushSealException.Tampered`, `e.kind()`), Swift module `PushSeal`
//! (`DeviceKeyring.fromBytes(bytes:)`, `error.kind == .tampered`), Python
//! package `pushseal` (`DeviceKeyring.from_bytes`, `PushSealError.Tampered`,
//! `e.kind()`).
//!
//! Platform types at the boundary: points in time are `SystemTime` (Swift
//! `Date`, Kotlin `java.time.Instant`, Python `datetime` in UTC), spans are
//! `Duration` (Swift `TimeInterval`, Kotlin `java.time.Duration`, Python
//! `timedelta`), and no exported signature has an unsigned integer, whose
//! Kotlin types (`UInt`, `ULong`) Java cannot call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pushseal::Payload as CorePayload;

uniffi::setup_scaffolding!();

#[cfg(feature = "server")]
mod audit;
mod secret;
#[cfg(feature = "server")]
pub use audit::*;
pub use secret::{SecretBytes, SecretText};

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// The kind of a [`PushSealError`]: the core's error kinds (SPEC.md, section
/// 9) plus `Internal`. Switch on it, not on the reason's text.
///
/// Each variant's doc is its stable name; the bindings' metadata carries
/// these docs into the shipped library, so they stay short (see the core's
/// `ErrorKind` for what each means).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ErrorKind {
    /// `not_pushseal`
    NotPushSeal,
    /// `unsupported_version`
    UnsupportedVersion,
    /// `truncated`
    Truncated,
    /// `malformed`
    Malformed,
    /// `invalid_encoding`
    InvalidEncoding,
    /// `invalid_key_length`
    InvalidKeyLength,
    /// `zero_shared_secret`
    ZeroSharedSecret,
    /// `unknown_recipient_key`: register the device's current public key again.
    UnknownRecipientKey,
    /// `untrusted_sender`
    UntrustedSender,
    /// `tampered`
    Tampered,
    /// `malformed_padding`
    MalformedPadding,
    /// `expired`
    Expired,
    /// `not_yet_valid`
    NotYetValid,
    /// `replayed`
    Replayed,
    /// `payload_too_large`
    PayloadTooLarge,
    /// `invalid_notification`
    InvalidNotification,
    /// `invalid_keyring`
    InvalidKeyring,
    /// `storage`
    Storage,
    /// `randomness`
    Randomness,
    /// `invalid_receipt`
    InvalidReceipt,
    /// `internal`: not one of PushSeal's kinds.
    Internal,
}

impl ErrorKind {
    fn from_core(kind: pushseal::ErrorKind) -> Self {
        use pushseal::ErrorKind as K;
        match kind {
            K::NotPushSeal => Self::NotPushSeal,
            K::UnsupportedVersion => Self::UnsupportedVersion,
            K::Truncated => Self::Truncated,
            K::Malformed => Self::Malformed,
            K::InvalidEncoding => Self::InvalidEncoding,
            K::InvalidKeyLength => Self::InvalidKeyLength,
            K::ZeroSharedSecret => Self::ZeroSharedSecret,
            K::UnknownRecipientKey => Self::UnknownRecipientKey,
            K::UntrustedSender => Self::UntrustedSender,
            K::Tampered => Self::Tampered,
            K::MalformedPadding => Self::MalformedPadding,
            K::Expired => Self::Expired,
            K::NotYetValid => Self::NotYetValid,
            K::Replayed => Self::Replayed,
            K::PayloadTooLarge => Self::PayloadTooLarge,
            K::InvalidNotification => Self::InvalidNotification,
            K::InvalidKeyring => Self::InvalidKeyring,
            K::Storage => Self::Storage,
            K::Randomness => Self::Randomness,
            K::InvalidReceipt => Self::InvalidReceipt,
            _ => Self::Internal,
        }
    }

    fn core(self) -> Option<pushseal::ErrorKind> {
        pushseal::ErrorKind::ALL.into_iter().find(|k| Self::from_core(*k) == self)
    }
}

#[uniffi::export]
impl ErrorKind {
    /// The kind's stable snake_case name, as SPEC.md, the test vectors and
    /// batch results spell it (`"tampered"`, `"internal"`).
    pub fn spec_name(&self) -> String {
        self.core().map_or("internal", pushseal::ErrorKind::name).to_owned()
    }
}

/// Every error of PushSeal, one variant per [`ErrorKind`] (same names).
///
/// Kotlin: `PushSealException.Tampered` etc., `e.kind()`, `e.reason`.
/// Swift: an `Error`; `error.kind` (`.tampered`) and `error.reason`.
/// Python: `PushSealError.Tampered`, a subclass of `PushSealError`; `e.kind()`.
///
/// `reason` is one line for logs and people; it never holds plaintext or key
/// bytes. Match on the kind, not on the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum PushSealError {
    /// The payload does not carry a PushSeal envelope (`not_pushseal`).
    #[error("{reason}")]
    NotPushSeal {
        /// What is wrong, in one line.
        reason: String,
    },
    /// Text that should be base64url or hex is not, or is not canonical (`invalid_encoding`).
    #[error("{reason}")]
    InvalidEncoding {
        /// What is wrong, in one line.
        reason: String,
    },
    /// The input ends before a field it must contain (`truncated`).
    #[error("{reason}")]
    Truncated {
        /// What is wrong, in one line.
        reason: String,
    },
    /// The envelope's version is not 1 (`unsupported_version`).
    #[error("{reason}")]
    UnsupportedVersion {
        /// What is wrong, in one line.
        reason: String,
    },
    /// A key has the wrong length (`invalid_key_length`).
    #[error("{reason}")]
    InvalidKeyLength {
        /// What is wrong, in one line.
        reason: String,
    },
    /// The envelope is sealed to a key this keyring does not hold: register the
    /// device's current public key again (`unknown_recipient_key`).
    #[error("{reason}")]
    UnknownRecipientKey {
        /// What is wrong, in one line.
        reason: String,
    },
    /// The envelope names a sender the device does not trust (`untrusted_sender`).
    #[error("{reason}")]
    UntrustedSender {
        /// What is wrong, in one line.
        reason: String,
    },
    /// A low-order public key gave the all-zero shared secret (`zero_shared_secret`).
    #[error("{reason}")]
    ZeroSharedSecret {
        /// What is wrong, in one line.
        reason: String,
    },
    /// Authentication failed: altered or forged (`tampered`).
    #[error("{reason}")]
    Tampered {
        /// What is wrong, in one line.
        reason: String,
    },
    /// The decrypted plaintext is not validly padded (`malformed_padding`).
    #[error("{reason}")]
    MalformedPadding {
        /// What is wrong, in one line.
        reason: String,
    },
    /// A part of the input is not well formed (`malformed`).
    #[error("{reason}")]
    Malformed {
        /// What is wrong, in one line.
        reason: String,
    },
    /// The notification has expired (`expired`).
    #[error("{reason}")]
    Expired {
        /// What is wrong, in one line.
        reason: String,
    },
    /// The notification claims to be sent in the future (`not_yet_valid`).
    #[error("{reason}")]
    NotYetValid {
        /// What is wrong, in one line.
        reason: String,
    },
    /// This message id was already accepted (`replayed`).
    #[error("{reason}")]
    Replayed {
        /// What is wrong, in one line.
        reason: String,
    },
    /// The notification does not fit the padding buckets or the gateway's limit (`payload_too_large`).
    #[error("{reason}")]
    PayloadTooLarge {
        /// What is wrong, in one line.
        reason: String,
    },
    /// A message or option given to the sender is not valid (`invalid_notification`).
    #[error("{reason}")]
    InvalidNotification {
        /// What is wrong, in one line.
        reason: String,
    },
    /// Stored keyring bytes could not be read (`invalid_keyring`).
    #[error("{reason}")]
    InvalidKeyring {
        /// What is wrong, in one line.
        reason: String,
    },
    /// The replay store or the key storage failed (`storage`). Foreign
    /// `KeyStorage` implementations throw this one.
    #[error("{reason}")]
    Storage {
        /// What is wrong, in one line.
        reason: String,
    },
    /// The operating system's random number generator failed (`randomness`).
    #[error("{reason}")]
    Randomness {
        /// What is wrong, in one line.
        reason: String,
    },
    /// A delivery receipt matches no recorded notification (`invalid_receipt`).
    #[error("{reason}")]
    InvalidReceipt {
        /// What is wrong, in one line.
        reason: String,
    },
    /// Not one of PushSeal's kinds: foreign code threw something else, or a
    /// lock was found in an unexpected state.
    #[error("{reason}")]
    Internal {
        /// What is wrong, in one line.
        reason: String,
    },
}

impl PushSealError {
    /// This error of `kind` with `reason`.
    fn new(kind: ErrorKind, reason: String) -> Self {
        match kind {
            ErrorKind::NotPushSeal => Self::NotPushSeal { reason },
            ErrorKind::InvalidEncoding => Self::InvalidEncoding { reason },
            ErrorKind::Truncated => Self::Truncated { reason },
            ErrorKind::UnsupportedVersion => Self::UnsupportedVersion { reason },
            ErrorKind::InvalidKeyLength => Self::InvalidKeyLength { reason },
            ErrorKind::UnknownRecipientKey => Self::UnknownRecipientKey { reason },
            ErrorKind::UntrustedSender => Self::UntrustedSender { reason },
            ErrorKind::ZeroSharedSecret => Self::ZeroSharedSecret { reason },
            ErrorKind::Tampered => Self::Tampered { reason },
            ErrorKind::MalformedPadding => Self::MalformedPadding { reason },
            ErrorKind::Malformed => Self::Malformed { reason },
            ErrorKind::Expired => Self::Expired { reason },
            ErrorKind::NotYetValid => Self::NotYetValid { reason },
            ErrorKind::Replayed => Self::Replayed { reason },
            ErrorKind::PayloadTooLarge => Self::PayloadTooLarge { reason },
            ErrorKind::InvalidNotification => Self::InvalidNotification { reason },
            ErrorKind::InvalidKeyring => Self::InvalidKeyring { reason },
            ErrorKind::Storage => Self::Storage { reason },
            ErrorKind::Randomness => Self::Randomness { reason },
            ErrorKind::InvalidReceipt => Self::InvalidReceipt { reason },
            ErrorKind::Internal => Self::Internal { reason },
        }
    }

    /// The stable snake_case name of this error's kind, as the core and the
    /// test vectors spell it (`"internal"` for `Internal`).
    pub fn kind_name(&self) -> String {
        self.kind().spec_name()
    }

    fn internal(reason: &str) -> Self {
        Self::Internal { reason: reason.to_owned() }
    }
}

#[uniffi::export]
impl PushSealError {
    /// What kind of error this is: switch on it (Swift has the property
    /// `error.kind` instead, in `PushSealError+Kind.swift`).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotPushSeal { .. } => ErrorKind::NotPushSeal,
            Self::InvalidEncoding { .. } => ErrorKind::InvalidEncoding,
            Self::Truncated { .. } => ErrorKind::Truncated,
            Self::UnsupportedVersion { .. } => ErrorKind::UnsupportedVersion,
            Self::InvalidKeyLength { .. } => ErrorKind::InvalidKeyLength,
            Self::UnknownRecipientKey { .. } => ErrorKind::UnknownRecipientKey,
            Self::UntrustedSender { .. } => ErrorKind::UntrustedSender,
            Self::ZeroSharedSecret { .. } => ErrorKind::ZeroSharedSecret,
            Self::Tampered { .. } => ErrorKind::Tampered,
            Self::MalformedPadding { .. } => ErrorKind::MalformedPadding,
            Self::Malformed { .. } => ErrorKind::Malformed,
            Self::Expired { .. } => ErrorKind::Expired,
            Self::NotYetValid { .. } => ErrorKind::NotYetValid,
            Self::Replayed { .. } => ErrorKind::Replayed,
            Self::PayloadTooLarge { .. } => ErrorKind::PayloadTooLarge,
            Self::InvalidNotification { .. } => ErrorKind::InvalidNotification,
            Self::InvalidKeyring { .. } => ErrorKind::InvalidKeyring,
            Self::Storage { .. } => ErrorKind::Storage,
            Self::Randomness { .. } => ErrorKind::Randomness,
            Self::InvalidReceipt { .. } => ErrorKind::InvalidReceipt,
            Self::Internal { .. } => ErrorKind::Internal,
        }
    }
}

impl From<pushseal::Error> for PushSealError {
    fn from(e: pushseal::Error) -> Self {
        // The core's messages are one line and free of secrets by design.
        Self::new(ErrorKind::from_core(e.kind()), e.to_string())
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for PushSealError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        PushSealError::Internal { reason: e.reason }
    }
}

type Result<T, E = PushSealError> = std::result::Result<T, E>;

// ---------------------------------------------------------------------------
// Time at the boundary
// ---------------------------------------------------------------------------

/// The latest time every binding's type holds (Python's `datetime` ends with
/// the year 9999): 9999-12-31T23:59:59Z.
const LATEST_UNIX_SECS: u64 = 253_402_300_799;

/// Unix seconds of a platform time. A time before 1970 is 0: the core then
/// treats every notification as sent in the future (`NotYetValid`).
fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The device's clock, or `now` when the caller gives one.
fn now_or_clock(now: Option<SystemTime>) -> u64 {
    now.map_or_else(pushseal::unix_now, unix_secs)
}

/// The platform time of unix seconds the core handed out (all of them are
/// within weeks of the device's clock; anything later than
/// [`LATEST_UNIX_SECS`] is shown as that).
fn system_time(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs.min(LATEST_UNIX_SECS))
}

/// A count from a signed foreign integer: a negative one is `Malformed`,
/// with `reason` as its text.
fn count(value: i64, reason: &'static str) -> Result<u64> {
    u64::try_from(value).map_err(|_| PushSealError::Malformed { reason: reason.to_owned() })
}

/// A foreign-visible signed integer from a size (saturating; no size the core
/// hands out comes near `i64::MAX`).
fn signed(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

// ---------------------------------------------------------------------------
// Key storage (implemented by the app)
// ---------------------------------------------------------------------------

/// Where the app keeps the keyring bytes, which are **secret** (they hold the
/// device's secret keys).
///
/// iOS: one Keychain item in an access group the app shares with its
/// Notification Service Extension, `kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`
/// (the extension must read it while the phone is locked).
/// Android: a file in `noBackupFilesDir` encrypted under an Android Keystore key.
///
/// Throw `PushSealError.Storage` on failure; anything else thrown arrives as
/// `Internal`.
#[uniffi::export(rust, foreign)]
pub trait KeyStorage: Send + Sync {
    /// The stored keyring bytes, or nothing if none were saved yet.
    fn load(&self) -> Result<Option<SecretBytes>>;
    /// Stores the keyring bytes, replacing what was there. Wipe the foreign
    /// copy after storing it (SECURITY.md, "Secrets in the bindings").
    fn save(&self, bytes: SecretBytes) -> Result<()>;
}

/// A `KeyStorage` that keeps the bytes in memory, for tests.
#[derive(Debug, Default)]
struct InMemoryKeyStorage {
    bytes: Mutex<Option<zeroize::Zeroizing<Vec<u8>>>>,
}

impl KeyStorage for InMemoryKeyStorage {
    fn load(&self) -> Result<Option<SecretBytes>> {
        Ok(lock(&self.bytes).clone().map(SecretBytes::new))
    }

    fn save(&self, bytes: SecretBytes) -> Result<()> {
        *lock(&self.bytes) = Some(zeroize::Zeroizing::new(bytes.as_slice().to_vec()));
        Ok(())
    }
}

/// A new `KeyStorage` that keeps the bytes in memory, for tests: Kotlin
/// `inMemoryKeyStorage()`, Swift `inMemoryKeyStorage()`, Python
/// `in_memory_key_storage()`.
#[uniffi::export]
pub fn in_memory_key_storage() -> Arc<dyn KeyStorage> {
    Arc::new(InMemoryKeyStorage::default())
}

/// Every value behind these locks is consistent between statements, so a
/// poisoned lock is safe to keep using.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

/// An opened notification: what the app shows.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OpenedNotification {
    /// The message id, 32 lowercase hex digits (the same on every device a batch went to).
    pub id: String,
    /// When it was sealed (the sender's clock).
    pub sent_at: SystemTime,
    /// When it expires.
    pub expires_at: SystemTime,
    /// The title.
    pub title: String,
    /// The body.
    pub body: String,
    /// App-defined data (empty when there is none).
    pub data: HashMap<String, String>,
    /// Groups notifications in the notification center.
    pub thread_id: Option<String>,
    /// The notification category (actions).
    pub category: Option<String>,
    /// The app icon badge (0 to 4294967295).
    pub badge: Option<i64>,
    /// The sound name.
    pub sound: Option<String>,
}

impl From<pushseal::Notification> for OpenedNotification {
    fn from(n: pushseal::Notification) -> Self {
        let m = n.message;
        Self {
            id: n.id.to_string(),
            sent_at: system_time(n.sent_at),
            expires_at: system_time(n.expires_at),
            title: m.title,
            body: m.body,
            data: m.data.into_iter().collect(),
            thread_id: m.thread_id,
            category: m.category,
            badge: m.badge.map(i64::from),
            sound: m.sound,
        }
    }
}

/// An opened notification and its delivery receipt.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OpenedWithReceipt {
    /// The notification.
    pub notification: OpenedNotification,
    /// The delivery receipt, 22 characters of base64url: send it to the
    /// sender's server (over the app's own API) to prove this device opened
    /// the notification. Not secret, and it reveals nothing of the content.
    pub receipt: String,
}

/// What a sender seals.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Message {
    /// The title.
    pub title: String,
    /// The body.
    pub body: String,
    /// App-defined data.
    #[uniffi(default)]
    pub data: HashMap<String, String>,
    /// Groups notifications in the notification center.
    #[uniffi(default = None)]
    pub thread_id: Option<String>,
    /// The notification category (actions).
    #[uniffi(default = None)]
    pub category: Option<String>,
    /// The app icon badge, 0 to 4294967295.
    #[uniffi(default = None)]
    pub badge: Option<i64>,
    /// The sound name.
    #[uniffi(default = None)]
    pub sound: Option<String>,
    /// How long the notification stays valid, in whole seconds (a fraction is
    /// dropped), 1 second to 28 days; none for the default of one day.
    #[uniffi(default = None)]
    pub ttl: Option<Duration>,
}

impl Message {
    /// The core message; a TTL under one second is refused like any other
    /// out of range (the core would read 0 as "the default").
    fn to_core(&self) -> Result<pushseal::Message> {
        if self.ttl.is_some_and(|ttl| ttl.as_secs() == 0) {
            return Err(pushseal::Error::InvalidNotification("the TTL must be 1 to 2419200 seconds, not 0").into());
        }
        let mut m = pushseal::Message::new(self.title.clone(), self.body.clone());
        m.data = self.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        m.thread_id.clone_from(&self.thread_id);
        m.category.clone_from(&self.category);
        m.badge = match self.badge {
            None => None,
            Some(badge) => Some(u32::try_from(badge).map_err(|_| {
                PushSealError::from(pushseal::Error::InvalidNotification("the badge must be 0 to 4294967295"))
            })?),
        };
        m.sound.clone_from(&self.sound);
        if let Some(ttl) = self.ttl {
            m.ttl_secs = ttl.as_secs();
        }
        Ok(m)
    }
}

/// The kind of APNs push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ApnsPushType {
    /// Shown to the user, opened by the Notification Service Extension.
    Alert,
    /// Silent (`content-available`), opened by the app.
    Background,
}

/// How to deliver through APNs.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApnsOptions {
    /// Alert (the default) or background.
    #[uniffi(default = None)]
    pub push_type: Option<ApnsPushType>,
    /// Shown if the extension cannot open the envelope; generic text only
    /// (the gateway and the lock screen see it). Default "New message".
    #[uniffi(default = None)]
    pub fallback_title: Option<String>,
    /// An optional fallback body, under the same rule.
    #[uniffi(default = None)]
    pub fallback_body: Option<String>,
    /// `apns-collapse-id` (at most 64 bytes, nothing sensitive).
    #[uniffi(default = None)]
    pub collapse_id: Option<String>,
    /// `apns-topic`: the app's bundle id.
    #[uniffi(default = None)]
    pub topic: Option<String>,
}

impl ApnsOptions {
    fn to_core(&self) -> pushseal::ApnsOptions {
        let mut o = match self.push_type {
            Some(ApnsPushType::Background) => pushseal::ApnsOptions::background(),
            Some(ApnsPushType::Alert) | None => pushseal::ApnsOptions::default(),
        };
        if let Some(title) = &self.fallback_title {
            o.fallback_title.clone_from(title);
        }
        o.fallback_body.clone_from(&self.fallback_body);
        o.collapse_id.clone_from(&self.collapse_id);
        o.topic.clone_from(&self.topic);
        o
    }
}

/// How to deliver through FCM.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FcmOptions {
    /// The device's registration token, if the message should carry it.
    #[uniffi(default = None)]
    pub token: Option<String>,
    /// `android.collapse_key` (nothing sensitive).
    #[uniffi(default = None)]
    pub collapse_key: Option<String>,
    /// `android.priority`: high when none.
    #[uniffi(default = None)]
    pub priority: Option<FcmPriority>,
}

/// `android.priority` of an FCM message; the core's `FcmPriority` says when
/// to choose which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FcmPriority {
    /// `high`, the default.
    High,
    /// `normal`: for a device that will likely show nothing.
    Normal,
}

impl FcmOptions {
    fn to_core(&self) -> pushseal::FcmOptions {
        pushseal::FcmOptions {
            token: self.token.clone(),
            collapse_key: self.collapse_key.clone(),
            priority: match self.priority {
                Some(FcmPriority::Normal) => pushseal::FcmPriority::Normal,
                Some(FcmPriority::High) | None => pushseal::FcmPriority::High,
            },
        }
    }
}

/// Where a sealed notification goes.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Target {
    /// The bare envelope, for a transport of the sender's own.
    Envelope,
    /// An APNs request.
    Apns {
        /// The APNs options.
        options: ApnsOptions,
    },
    /// An FCM HTTP v1 message.
    Fcm {
        /// The FCM options.
        options: FcmOptions,
    },
}

impl Target {
    fn to_core(&self) -> pushseal::Target {
        match self {
            Target::Envelope => pushseal::Target::Envelope,
            Target::Apns { options } => pushseal::Target::Apns(options.to_core()),
            Target::Fcm { options } => pushseal::Target::Fcm(options.to_core()),
        }
    }
}

/// A notification sealed for APNs: POST `body` to `/3/device/<token>` with
/// these headers (plus the sender's own `authorization`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApnsPush {
    /// The request headers (`apns-push-type`, `apns-priority`, `apns-expiration`, ...).
    pub headers: HashMap<String, String>,
    /// The JSON body, at most 4096 bytes.
    pub body: String,
    /// The message id, 32 hex digits.
    pub message_id: String,
    /// When it expires.
    pub expires_at: SystemTime,
    /// The digest (64 hex digits) to check the device's delivery receipt
    /// against with `verify_receipt`. Not secret.
    pub receipt_digest: String,
}

/// A notification sealed for FCM (HTTP v1).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FcmPush {
    /// The `message` object as JSON text.
    pub message_json: String,
    /// The whole request body, `{"message": ...}`.
    pub request_body: String,
    /// The message id, 32 hex digits.
    pub message_id: String,
    /// When it expires.
    pub expires_at: SystemTime,
    /// The digest (64 hex digits) to check the device's delivery receipt
    /// against with `verify_receipt`. Not secret.
    pub receipt_digest: String,
}

/// A notification sealed as a bare envelope.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SealedEnvelope {
    /// The envelope's text form (base64url).
    pub envelope: String,
    /// The message id, 32 hex digits.
    pub message_id: String,
    /// When it expires.
    pub expires_at: SystemTime,
    /// The digest (64 hex digits) to check the device's delivery receipt
    /// against with `verify_receipt`. Not secret.
    pub receipt_digest: String,
}

/// One device's result in a batch: exactly one of `push` and `error_kind` is set.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApnsBatchResult {
    /// The device public key, as given.
    pub recipient: String,
    /// The sealed push.
    pub push: Option<ApnsPush>,
    /// The error kind's snake_case name (`"tampered"`, ...).
    pub error_kind: Option<String>,
    /// The error's one-line reason.
    pub error_reason: Option<String>,
}

/// One device's result in a batch: exactly one of `push` and `error_kind` is set.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FcmBatchResult {
    /// The device public key, as given.
    pub recipient: String,
    /// The sealed push.
    pub push: Option<FcmPush>,
    /// The error kind's snake_case name (`"tampered"`, ...).
    pub error_kind: Option<String>,
    /// The error's one-line reason.
    pub error_reason: Option<String>,
}

/// One device of a batch: its public key, and what may differ from device
/// to device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BatchDevice {
    /// The device public key (43 characters of base64url).
    pub public_key: String,
    /// The device's push token. Its FCM message carries it; for APNs it
    /// belongs in the request's path, which you build. A sender with an audit
    /// log that has a token key records its keyed hash.
    #[uniffi(default = None)]
    pub token: Option<String>,
    /// The device's collapse id (APNs `apns-collapse-id`, FCM
    /// `collapse_key`), replacing the batch's.
    #[uniffi(default = None)]
    pub collapse_id: Option<String>,
}

/// The public header of an envelope: what a gateway can see.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnvelopeInfo {
    /// The format version (1).
    pub version: i32,
    /// The recipient device key's id, 16 hex digits.
    pub recipient_key_id: String,
    /// The sender key's id, 16 hex digits.
    pub sender_key_id: String,
    /// The padded plaintext's length in bytes (a padding bucket).
    pub padded_len: i64,
}

/// A retired device key that still opens notifications.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RetiredKey {
    /// Its key id, 16 hex digits.
    pub key_id: String,
    /// It opens notifications until this time.
    pub usable_until: SystemTime,
}

/// A payload as the operating system hands it to the app.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Payload {
    /// The APNs `userInfo` as JSON text.
    Apns {
        /// The whole push payload as JSON text.
        user_info_json: String,
    },
    /// The FCM data map (`RemoteMessage.data`).
    Fcm {
        /// The data map.
        data: HashMap<String, String>,
    },
    /// The envelope's text form (base64url).
    Envelope {
        /// The envelope text.
        envelope: String,
    },
}

impl Payload {
    fn as_core(&self) -> CorePayload<'_> {
        match self {
            Payload::Apns { user_info_json } => CorePayload::ApnsJson(user_info_json),
            Payload::Fcm { data } => CorePayload::FcmData(data),
            Payload::Envelope { envelope } => CorePayload::Envelope(envelope),
        }
    }
}

// ---------------------------------------------------------------------------
// Replay store
// ---------------------------------------------------------------------------

/// Remembers the ids of accepted notifications until they expire, so that
/// none opens twice. Use one file shared by everything on the device that
/// opens notifications (on iOS, in the App Group container).
#[derive(uniffi::Object)]
pub struct ReplayStore {
    inner: Arc<dyn pushseal::ReplayStore>,
}

impl std::fmt::Debug for ReplayStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayStore").finish_non_exhaustive()
    }
}

#[uniffi::export]
impl ReplayStore {
    /// The store in this file, created if missing (safe to share between
    /// processes: every check locks the file, waiting for the lock at most
    /// 2 seconds, then failing with `Storage`).
    #[uniffi::constructor]
    pub fn open(path: String) -> Result<Arc<Self>> {
        Self::open_with_lock_timeout(path, pushseal::DEFAULT_LOCK_TIMEOUT)
    }

    /// `open`, waiting at most `lock_timeout` for the lock another process
    /// holds before failing with `Storage` (nothing recorded). An iOS
    /// Notification Service Extension keeps it well inside its time budget
    /// (ios-sample/README.md).
    #[uniffi::constructor]
    pub fn open_with_lock_timeout(path: String, lock_timeout: std::time::Duration) -> Result<Arc<Self>> {
        let store = pushseal::FileReplayStore::open(path)?.with_lock_timeout(lock_timeout);
        Ok(Arc::new(Self { inner: Arc::new(store) }))
    }

    /// A store in memory, for tests and for processes that never restart.
    #[uniffi::constructor]
    pub fn in_memory() -> Arc<Self> {
        Arc::new(Self { inner: Arc::new(pushseal::MemoryReplayStore::new()) })
    }
}

// ---------------------------------------------------------------------------
// Device keyring
// ---------------------------------------------------------------------------

/// The device's keys and the senders it trusts; opens notifications.
///
/// Its bytes (`to_bytes`, `save`) are **secret**. Safe to share between threads.
#[derive(uniffi::Object)]
pub struct DeviceKeyring {
    inner: Mutex<pushseal::DeviceKeyring>,
}

impl std::fmt::Debug for DeviceKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        lock(&self.inner).fmt(f)
    }
}

impl DeviceKeyring {
    fn wrap(inner: pushseal::DeviceKeyring) -> Arc<Self> {
        Arc::new(Self { inner: Mutex::new(inner) })
    }

    fn open_core(&self, payload: CorePayload<'_>, replay: &ReplayStore, now: u64) -> Result<OpenedNotification> {
        Ok(lock(&self.inner).open(payload, &*replay.inner, now)?.into())
    }
}

#[uniffi::export]
impl DeviceKeyring {
    /// A keyring with a new random device key and no trusted senders.
    #[uniffi::constructor]
    pub fn generate() -> Result<Arc<Self>> {
        Ok(Self::wrap(pushseal::DeviceKeyring::generate()?))
    }

    /// A keyring from the bytes of `to_bytes`.
    #[uniffi::constructor]
    pub fn from_bytes(bytes: SecretBytes) -> Result<Arc<Self>> {
        Ok(Self::wrap(pushseal::DeviceKeyring::from_bytes(bytes.as_slice())?))
    }

    /// The keyring in `storage`; if there is none yet, a new one, saved there
    /// first. Retired keys past their deadline are dropped, and the keyring
    /// saved back without them, so that no dead secret key stays in storage.
    #[uniffi::constructor]
    pub fn load_or_create(storage: Arc<dyn KeyStorage>) -> Result<Arc<Self>> {
        match storage.load()? {
            Some(bytes) => {
                let keyring = Self::from_bytes(bytes)?;
                let pruned = {
                    let mut inner = lock(&keyring.inner);
                    let before = inner.retired_keys().len();
                    inner.prune(pushseal::unix_now());
                    inner.retired_keys().len() != before
                };
                if pruned {
                    keyring.save(storage)?;
                }
                Ok(keyring)
            }
            None => {
                let keyring = Self::generate()?;
                keyring.save(storage)?;
                Ok(keyring)
            }
        }
    }

    /// Writes the keyring to `storage`.
    pub fn save(&self, storage: Arc<dyn KeyStorage>) -> Result<()> {
        let bytes = lock(&self.inner).to_bytes()?;
        storage.save(SecretBytes::new(bytes))
    }

    /// The keyring's bytes. **Secret**: they hold the device's secret keys.
    /// Wipe the copy you get once it is stored (SECURITY.md, "Secrets in the
    /// bindings").
    pub fn to_bytes(&self) -> Result<SecretBytes> {
        Ok(SecretBytes::new(lock(&self.inner).to_bytes()?))
    }

    /// The current public key (43 characters of base64url): what the device
    /// registers with its sender.
    pub fn public_key(&self) -> String {
        lock(&self.inner).public_key().to_base64()
    }

    /// The current key's id (16 hex digits).
    pub fn key_id(&self) -> String {
        lock(&self.inner).key_id().to_string()
    }

    /// Makes a new current key; the old one keeps opening notifications for
    /// `keep_old_for` (whole seconds) from `now` (none for the device's
    /// clock). Save the keyring and register the new public key afterwards.
    #[uniffi::method(default(now = None))]
    pub fn rotate(&self, keep_old_for: Duration, now: Option<SystemTime>) -> Result<()> {
        Ok(lock(&self.inner).rotate(now_or_clock(now), keep_old_for.as_secs())?)
    }

    /// Drops retired keys past their deadline at `now` (none for the device's clock).
    #[uniffi::method(default(now = None))]
    pub fn prune(&self, now: Option<SystemTime>) {
        lock(&self.inner).prune(now_or_clock(now));
    }

    /// The retired keys that still open notifications.
    pub fn retired_keys(&self) -> Vec<RetiredKey> {
        lock(&self.inner)
            .retired_keys()
            .into_iter()
            .map(|(id, usable_until)| RetiredKey { key_id: id.to_string(), usable_until: system_time(usable_until) })
            .collect()
    }

    /// Trusts the sender with this public key (43 characters of base64url).
    /// A low-order key, with which nothing could ever open, is refused
    /// (`ZeroSharedSecret`).
    pub fn trust_sender(&self, public_key: String) -> Result<()> {
        let key: pushseal::SenderPublicKey = public_key.parse()?;
        Ok(lock(&self.inner).trust_sender(key)?)
    }

    /// Stops trusting the sender with this key id (16 hex digits); returns
    /// whether it was trusted.
    pub fn remove_sender(&self, key_id: String) -> Result<bool> {
        let id: pushseal::KeyId = key_id.parse()?;
        Ok(lock(&self.inner).remove_sender(id))
    }

    /// The trusted senders' public keys (base64url).
    pub fn trusted_senders(&self) -> Vec<String> {
        lock(&self.inner).trusted_senders().iter().map(|k| k.to_base64()).collect()
    }

    /// Opens an APNs `userInfo` (the whole payload as JSON text) now.
    pub fn open_apns(&self, user_info_json: String, replay: Arc<ReplayStore>) -> Result<OpenedNotification> {
        self.open_core(CorePayload::ApnsJson(&user_info_json), &replay, pushseal::unix_now())
    }

    /// Opens an FCM data map (`RemoteMessage.data`) now.
    pub fn open_fcm(&self, data: HashMap<String, String>, replay: Arc<ReplayStore>) -> Result<OpenedNotification> {
        self.open_core(CorePayload::FcmData(&data), &replay, pushseal::unix_now())
    }

    /// Opens a bare envelope (base64url text) now.
    pub fn open_envelope(&self, envelope: String, replay: Arc<ReplayStore>) -> Result<OpenedNotification> {
        self.open_core(CorePayload::Envelope(&envelope), &replay, pushseal::unix_now())
    }

    /// Opens any payload at `now` (none for the device's clock).
    #[uniffi::method(default(now = None))]
    pub fn open(
        &self,
        payload: Payload,
        replay: Arc<ReplayStore>,
        now: Option<SystemTime>,
    ) -> Result<OpenedNotification> {
        self.open_core(payload.as_core(), &replay, now_or_clock(now))
    }

    /// Opens any payload at `now` (none for the device's clock), also
    /// returning the delivery receipt for the sender's server.
    #[uniffi::method(default(now = None))]
    pub fn open_with_receipt(
        &self,
        payload: Payload,
        replay: Arc<ReplayStore>,
        now: Option<SystemTime>,
    ) -> Result<OpenedWithReceipt> {
        let now = now_or_clock(now);
        let (n, receipt) = lock(&self.inner).open_with_receipt(payload.as_core(), &*replay.inner, now)?;
        Ok(OpenedWithReceipt { notification: n.into(), receipt: receipt.to_string() })
    }
}

// ---------------------------------------------------------------------------
// Sender
// ---------------------------------------------------------------------------

/// The server's side: seals messages to device public keys. Safe to share
/// between threads.
#[derive(uniffi::Object)]
pub struct Sender {
    inner: pushseal::Sender,
    /// Where every seal is recorded first (server builds only).
    #[cfg(feature = "server")]
    audit_log: Option<Arc<AuditLog>>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the secret text: the core's key prints as redacted.
        f.debug_struct("Sender").field("inner", &self.inner).finish()
    }
}

fn device_key(text: &str) -> Result<pushseal::DevicePublicKey> {
    Ok(text.parse()?)
}

fn apns_push(s: pushseal::SealedNotification) -> Result<ApnsPush> {
    match s.payload {
        pushseal::Sealed::Apns(req) => Ok(ApnsPush {
            headers: req.headers.into_iter().collect(),
            body: req.body,
            message_id: s.message_id.to_string(),
            expires_at: system_time(s.expires_at),
            receipt_digest: s.receipt_digest.to_string(),
        }),
        _ => Err(PushSealError::internal("sealed for another platform")),
    }
}

fn fcm_push(s: pushseal::SealedNotification) -> Result<FcmPush> {
    match s.payload {
        pushseal::Sealed::Fcm(m) => Ok(FcmPush {
            request_body: m.request_body(),
            message_json: m.json,
            message_id: s.message_id.to_string(),
            expires_at: system_time(s.expires_at),
            receipt_digest: s.receipt_digest.to_string(),
        }),
        _ => Err(PushSealError::internal("sealed for another platform")),
    }
}

fn envelope_push(s: pushseal::SealedNotification) -> Result<SealedEnvelope> {
    match s.payload {
        pushseal::Sealed::Envelope(text) => Ok(SealedEnvelope {
            envelope: text,
            message_id: s.message_id.to_string(),
            expires_at: system_time(s.expires_at),
            receipt_digest: s.receipt_digest.to_string(),
        }),
        _ => Err(PushSealError::internal("sealed for another platform")),
    }
}

impl Sender {
    fn new(key: pushseal::SenderSecretKey, cache_devices: u64) -> Self {
        // The core keeps no cache for a capacity of 0.
        let capacity = usize::try_from(cache_devices).unwrap_or(usize::MAX);
        Self {
            inner: pushseal::Sender::with_cache(key, capacity),
            #[cfg(feature = "server")]
            audit_log: None,
        }
    }

    /// A sender from its secret key text; the text is erased once read.
    fn from_text(text: SecretText, cache_devices: i64) -> Result<Self> {
        let cache_devices = count(cache_devices, "cache_devices must not be negative")?;
        Ok(Self::new(pushseal::SenderSecretKey::from_secret_text(text.as_str())?, cache_devices))
    }

    /// Seals to one device; with an audit log, only once its record is written.
    fn seal_one(&self, to: &str, message: &Message, target: &pushseal::Target) -> Result<pushseal::SealedNotification> {
        let (to, message) = (device_key(to)?, message.to_core()?);
        #[cfg(feature = "server")]
        if let Some(log) = &self.audit_log {
            return log.seal(&self.inner, &to, &message, target);
        }
        Ok(self.inner.seal(&to, &message, target)?)
    }

    /// Seals to many devices, handing each device's result to `each` in the
    /// order of `to` as soon as it exists (with an audit log, once its
    /// record is durable). A key that does not parse fails alone; a token in
    /// the batch's options is refused (each device's token goes in its
    /// `BatchDevice`). If `each` fails or a chunk cannot be recorded, the
    /// batch stops with that error.
    fn batch(
        &self,
        to: Vec<BatchDevice>,
        message: &Message,
        target: &pushseal::Target,
        mut each: impl FnMut(String, Result<pushseal::SealedNotification>) -> Result<()>,
    ) -> Result<()> {
        if let pushseal::Target::Fcm(pushseal::FcmOptions { token: Some(_), .. }) = target {
            return Err(PushSealError::InvalidNotification {
                reason: "a batch takes each device's token in its BatchDevice, not in the options".into(),
            });
        }
        let message = match message.to_core() {
            Ok(message) => message,
            // As the core reports an invalid message in a batch: each device gets the error.
            Err(e) => {
                for device in to {
                    each(device.public_key, Err(e.clone()))?;
                }
                return Ok(());
            }
        };
        // The keys as given, in order, and the devices whose key parsed with
        // their place among them.
        let mut given = Vec::with_capacity(to.len());
        let mut places = Vec::with_capacity(to.len());
        let mut devices = Vec::with_capacity(to.len());
        let mut unparsed = std::collections::VecDeque::new();
        for (place, device) in to.into_iter().enumerate() {
            match device_key(&device.public_key) {
                Ok(key) => {
                    places.push(place);
                    devices.push(pushseal::BatchDevice { key, token: device.token, collapse_id: device.collapse_id });
                }
                Err(e) => unparsed.push_back((place, e)),
            }
            given.push(Some(device.public_key));
        }
        let mut emit = |place: usize, result: Result<pushseal::SealedNotification>| {
            let recipient = given.get_mut(place).and_then(Option::take).unwrap_or_default();
            each(recipient, result)
        };
        let mut emit_unparsed_before = |place: usize, emit: &mut dyn FnMut(usize, Result<_>) -> Result<()>| {
            while unparsed.front().is_some_and(|(p, _)| *p < place) {
                if let Some((p, e)) = unparsed.pop_front() {
                    emit(p, Err(e))?;
                }
            }
            Ok::<(), PushSealError>(())
        };
        let mut failure = None;
        let mut on_result = |r: pushseal::BatchResult| -> pushseal::Result<()> {
            let place = places.get(r.index).copied().unwrap_or(usize::MAX);
            let step = emit_unparsed_before(place, &mut emit).and_then(|()| emit(place, r.sealed.map_err(Into::into)));
            step.map_err(|e| {
                failure = Some(e);
                pushseal::Error::Storage("the batch was stopped".into())
            })
        };
        #[cfg(feature = "server")]
        let outcome = match &self.audit_log {
            Some(log) => log.core().seal_batch_each(&self.inner, devices, &message, target, &mut on_result),
            None => {
                self.inner.seal_batch_chunked(devices, &message, target, |c| c.drain(..).try_for_each(&mut on_result))
            }
        };
        #[cfg(not(feature = "server"))]
        let outcome =
            self.inner.seal_batch_chunked(devices, &message, target, |c| c.drain(..).try_for_each(&mut on_result));
        if let Some(e) = failure {
            return Err(e);
        }
        outcome?;
        emit_unparsed_before(usize::MAX, &mut emit)
    }
}

/// The server build's extra constructor: a sender that records every seal.
#[cfg(feature = "server")]
#[uniffi::export]
impl Sender {
    /// `from_secret_text`, with an audit log: every seal (batches too) first
    /// appends the notification's `sealed` record to `audit_log` and fails
    /// with `Storage`, handing nothing out, if it cannot (in a batch, that
    /// device gets `storage` and no push); each record is synced to disk.
    #[uniffi::constructor(default(cache_devices = 0))]
    pub fn with_audit_log(text: SecretText, audit_log: Arc<AuditLog>, cache_devices: i64) -> Result<Arc<Self>> {
        Ok(Arc::new(Self { audit_log: Some(audit_log), ..Self::from_text(text, cache_devices)? }))
    }
}

fn split<T>(r: Result<T>) -> (Option<T>, Option<String>, Option<String>) {
    match r {
        Ok(v) => (Some(v), None, None),
        Err(e) => (None, Some(e.kind_name()), Some(e.to_string())),
    }
}

#[uniffi::export]
impl Sender {
    /// A sender with a new random key and no cache. Keep its `secret_text` safe.
    #[uniffi::constructor]
    pub fn generate() -> Result<Arc<Self>> {
        Ok(Arc::new(Self::new(pushseal::SenderSecretKey::generate()?, 0)))
    }

    /// A sender from its secret key text (`pushseal-secret-key-v1:...`).
    ///
    /// `cache_devices`: how many devices to remember the Diffie-Hellman value
    /// with (it is the same for every message to a device). Use it in a server
    /// that lives long and seals to the same devices again and again: a seal
    /// to a remembered device then takes about 0.57x the time (one X25519
    /// operation instead of two). The values are as secret as the key; each
    /// is erased when it is evicted (roughly the device sealed to least
    /// recently first) and when the sender is dropped. About 350 bytes a
    /// device. 0, the default: no cache, right for a short-lived process or
    /// one that rarely seals to the same device twice. Negative: `Malformed`.
    #[uniffi::constructor(default(cache_devices = 0))]
    pub fn from_secret_text(text: SecretText, cache_devices: i64) -> Result<Arc<Self>> {
        Ok(Arc::new(Self::from_text(text, cache_devices)?))
    }

    /// The public key devices trust (43 characters of base64url).
    pub fn public_key(&self) -> String {
        self.inner.public_key().to_base64()
    }

    /// The sender key's id (16 hex digits).
    pub fn key_id(&self) -> String {
        self.inner.key_id().to_string()
    }

    /// The secret key as text. **Secret**: store it like a password, and wipe
    /// the copy you get once it is stored (SECURITY.md, "Secrets in the
    /// bindings"). Made afresh from the key at each call: the sender keeps no
    /// text copy.
    pub fn secret_text(&self) -> SecretText {
        SecretText::new(self.inner.secret_text())
    }

    /// How many devices the DH cache remembers now (0 without a cache).
    pub fn cached_devices(&self) -> i64 {
        signed(self.inner.cached_devices())
    }

    /// Seals `message` to the device with this public key as a bare envelope
    /// (base64url text).
    pub fn seal_envelope(&self, to: String, message: Message) -> Result<String> {
        Ok(self.seal_envelope_detailed(to, message)?.envelope)
    }

    /// `seal_envelope`, also returning the message id and the receipt digest.
    pub fn seal_envelope_detailed(&self, to: String, message: Message) -> Result<SealedEnvelope> {
        envelope_push(self.seal_one(&to, &message, &pushseal::Target::Envelope)?)
    }

    /// Seals `message` to the device with this public key as an APNs request
    /// (default options when none are given).
    #[uniffi::method(default(options = None))]
    pub fn seal_apns(&self, to: String, message: Message, options: Option<ApnsOptions>) -> Result<ApnsPush> {
        let target = pushseal::Target::Apns(options.map(|o| o.to_core()).unwrap_or_default());
        apns_push(self.seal_one(&to, &message, &target)?)
    }

    /// Seals `message` to the device with this public key as an FCM message
    /// (default options when none are given).
    #[uniffi::method(default(options = None))]
    pub fn seal_fcm(&self, to: String, message: Message, options: Option<FcmOptions>) -> Result<FcmPush> {
        let target = pushseal::Target::Fcm(options.map(|o| o.to_core()).unwrap_or_default());
        fcm_push(self.seal_one(&to, &message, &target)?)
    }

    /// Seals `message` to many devices for APNs, all with the same message id;
    /// one result per device, in the order of `to`. One device's failure does
    /// not stop the others. For a large batch, `stream_batch_apns` hands each
    /// result out as soon as it exists instead of holding them all.
    ///
    /// With an audit log, fails with `Storage`, handing nothing out, if the
    /// records cannot be written.
    #[uniffi::method(default(options = None))]
    pub fn seal_batch_apns(
        &self,
        to: Vec<BatchDevice>,
        message: Message,
        options: Option<ApnsOptions>,
    ) -> Result<Vec<ApnsBatchResult>> {
        let target = pushseal::Target::Apns(options.map(|o| o.to_core()).unwrap_or_default());
        let mut all = Vec::with_capacity(to.len());
        self.batch(to, &message, &target, |recipient, r| {
            all.push(apns_batch_result(recipient, r));
            Ok(())
        })?;
        Ok(all)
    }

    /// Seals `message` to many devices for FCM, all with the same message id,
    /// each device's message with its own token (from its `BatchDevice`; a
    /// token in `options` fails with `InvalidNotification`); one result per
    /// device, in the order of `to`. One device's failure does not stop the
    /// others. For a large batch, `stream_batch_fcm` hands each result out as
    /// soon as it exists instead of holding them all.
    ///
    /// With an audit log, fails with `Storage`, handing nothing out, if the
    /// records cannot be written.
    #[uniffi::method(default(options = None))]
    pub fn seal_batch_fcm(
        &self,
        to: Vec<BatchDevice>,
        message: Message,
        options: Option<FcmOptions>,
    ) -> Result<Vec<FcmBatchResult>> {
        let target = pushseal::Target::Fcm(options.map(|o| o.to_core()).unwrap_or_default());
        let mut all = Vec::with_capacity(to.len());
        self.batch(to, &message, &target, |recipient, r| {
            all.push(fcm_batch_result(recipient, r));
            Ok(())
        })?;
        Ok(all)
    }

    /// `seal_batch_apns`, handing each device's result out as soon as it
    /// exists (with an audit log, once its record is durable): read them with
    /// the stream's `next`. Sealing runs in the background, at most a few
    /// thousand devices ahead of the reader, so memory does not grow with the
    /// batch; dropping the stream stops it.
    #[uniffi::method(default(options = None))]
    pub fn stream_batch_apns(
        self: Arc<Self>,
        to: Vec<BatchDevice>,
        message: Message,
        options: Option<ApnsOptions>,
    ) -> Result<Arc<ApnsBatchStream>> {
        let target = pushseal::Target::Apns(options.map(|o| o.to_core()).unwrap_or_default());
        Ok(Arc::new(ApnsBatchStream { inner: self.stream(to, message, target, apns_batch_result)? }))
    }

    /// `seal_batch_fcm`, handing each device's result out as soon as it
    /// exists (with an audit log, once its record is durable): read them with
    /// the stream's `next`. Sealing runs in the background, at most a few
    /// thousand devices ahead of the reader, so memory does not grow with the
    /// batch; dropping the stream stops it.
    #[uniffi::method(default(options = None))]
    pub fn stream_batch_fcm(
        self: Arc<Self>,
        to: Vec<BatchDevice>,
        message: Message,
        options: Option<FcmOptions>,
    ) -> Result<Arc<FcmBatchStream>> {
        let target = pushseal::Target::Fcm(options.map(|o| o.to_core()).unwrap_or_default());
        Ok(Arc::new(FcmBatchStream { inner: self.stream(to, message, target, fcm_batch_result)? }))
    }
}

fn apns_batch_result(recipient: String, r: Result<pushseal::SealedNotification>) -> ApnsBatchResult {
    let (push, error_kind, error_reason) = split(r.and_then(apns_push));
    ApnsBatchResult { recipient, push, error_kind, error_reason }
}

fn fcm_batch_result(recipient: String, r: Result<pushseal::SealedNotification>) -> FcmBatchResult {
    let (push, error_kind, error_reason) = split(r.and_then(fcm_push));
    FcmBatchResult { recipient, push, error_kind, error_reason }
}

impl Sender {
    /// Runs `batch` on a thread of its own, sending each result, converted,
    /// to the returned stream.
    fn stream<T: Send + 'static>(
        self: Arc<Self>,
        to: Vec<BatchDevice>,
        message: Message,
        target: pushseal::Target,
        convert: fn(String, Result<pushseal::SealedNotification>) -> T,
    ) -> Result<BatchStream<T>> {
        let (tx, rx) = std::sync::mpsc::sync_channel(pushseal::BATCH_WINDOW);
        let run = move || {
            let outcome = self.batch(to, &message, &target, |recipient, r| {
                tx.send(Ok(convert(recipient, r))).map_err(|_| PushSealError::internal("the batch's reader stopped"))
            });
            if let Err(e) = outcome {
                // Nobody to tell if the reader stopped.
                let _ = tx.send(Err(e));
            }
        };
        std::thread::Builder::new()
            .name("pushseal-batch".into())
            .spawn(run)
            .map_err(|e| PushSealError::internal(&format!("cannot start the batch's thread: {e}")))?;
        Ok(BatchStream { rx: Mutex::new(Some(rx)) })
    }
}

/// The reading end of a streamed batch.
struct BatchStream<T> {
    /// None once the batch has ended or failed.
    rx: Mutex<Option<std::sync::mpsc::Receiver<Result<T>>>>,
}

impl<T> BatchStream<T> {
    fn next(&self) -> Result<Option<T>> {
        let mut rx = lock(&self.rx);
        let Some(receiver) = rx.as_ref() else { return Ok(None) };
        match receiver.recv() {
            Ok(Ok(item)) => Ok(Some(item)),
            Ok(Err(e)) => {
                *rx = None;
                Err(e)
            }
            Err(_) => {
                *rx = None;
                Ok(None)
            }
        }
    }
}

/// A batch being sealed for APNs (`Sender.stream_batch_apns`): one result
/// per device, in the order of the devices. Safe to share between threads.
#[derive(uniffi::Object)]
pub struct ApnsBatchStream {
    inner: BatchStream<ApnsBatchResult>,
}

#[uniffi::export]
impl ApnsBatchStream {
    /// The next device's result, waiting for it to be sealed (and recorded);
    /// none once every device has had its result. Fails with the error that
    /// stopped the batch (`Storage` if the audit log cannot be written), then
    /// returns none.
    pub fn next(&self) -> Result<Option<ApnsBatchResult>> {
        self.inner.next()
    }
}

/// A batch being sealed for FCM (`Sender.stream_batch_fcm`): one result per
/// device, in the order of the devices. Safe to share between threads.
#[derive(uniffi::Object)]
pub struct FcmBatchStream {
    inner: BatchStream<FcmBatchResult>,
}

#[uniffi::export]
impl FcmBatchStream {
    /// The next device's result, waiting for it to be sealed (and recorded);
    /// none once every device has had its result. Fails with the error that
    /// stopped the batch (`Storage` if the audit log cannot be written), then
    /// returns none.
    pub fn next(&self) -> Result<Option<FcmBatchResult>> {
        self.inner.next()
    }
}

// ---------------------------------------------------------------------------
// Free functions
// ---------------------------------------------------------------------------

/// The public header of an envelope (base64url text), without decrypting anything.
#[uniffi::export]
pub fn inspect(envelope: String) -> Result<EnvelopeInfo> {
    let (header, padded_len) = CorePayload::Envelope(&envelope).inspect()?;
    Ok(EnvelopeInfo {
        version: i32::from(header.version),
        recipient_key_id: header.recipient.to_string(),
        sender_key_id: header.sender.to_string(),
        padded_len: signed(padded_len),
    })
}

/// Whether a device's delivery receipt (22 characters of base64url) matches
/// the digest the sender kept (64 hex digits). Fails only on text that is
/// not a receipt or a digest.
#[uniffi::export]
pub fn verify_receipt(receipt_digest: String, receipt: String) -> Result<bool> {
    let digest: pushseal::ReceiptDigest = receipt_digest.parse()?;
    let receipt: pushseal::Receipt = receipt.parse()?;
    Ok(pushseal::verify_receipt(&digest, &receipt))
}

/// The longest notification (its JSON plaintext, in bytes) that fits `target`.
#[uniffi::export]
pub fn max_plaintext_len(target: Target) -> Result<i64> {
    Ok(signed(pushseal::max_plaintext_len(&target.to_core())?))
}

/// The version of the native library.
#[uniffi::export]
pub fn library_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_kind_maps_to_the_variant_and_kind_of_the_same_name() {
        for core in pushseal::ErrorKind::ALL {
            let kind = ErrorKind::from_core(core);
            assert_eq!(kind.spec_name(), core.name());
            let error = PushSealError::new(kind, "why".into());
            assert_eq!(error.kind(), kind);
            assert_eq!(format!("{error:?}").split(' ').next(), Some(format!("{kind:?}").as_str()));
        }
        assert_eq!(ErrorKind::Internal.spec_name(), "internal");
        assert_eq!(PushSealError::internal("x").kind(), ErrorKind::Internal);
        let e = PushSealError::from(pushseal::Error::NotPushSeal("no key"));
        assert_eq!(e.kind_name(), "not_pushseal");
        assert!(e.to_string().contains("no key"));
    }

    #[test]
    fn times_cross_as_platform_times_and_counts_as_signed_integers() {
        assert_eq!(unix_secs(system_time(1_767_225_600)), 1_767_225_600);
        assert_eq!(unix_secs(UNIX_EPOCH - Duration::from_secs(1)), 0);
        assert_eq!(system_time(u64::MAX), system_time(LATEST_UNIX_SECS));
        let e = Sender::from_secret_text(Sender::generate().unwrap().secret_text(), -1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Malformed);
        let mut m = message();
        m.badge = Some(-1);
        assert_eq!(m.to_core().unwrap_err().kind(), ErrorKind::InvalidNotification);
        m.badge = Some(i64::from(u32::MAX));
        m.ttl = Some(Duration::from_millis(60_900));
        let core = m.to_core().unwrap();
        assert_eq!((core.badge, core.ttl_secs), (Some(u32::MAX), 60));
    }

    #[test]
    fn seal_and_open_through_the_adapted_types() {
        let sender = Sender::generate().unwrap();
        let device = DeviceKeyring::load_or_create(in_memory_key_storage()).unwrap();
        device.trust_sender(sender.public_key()).unwrap();
        let message = Message {
            title: "Refill due".into(),
            body: "Tap to review.".into(),
            data: HashMap::from([("k".into(), "v".into())]),
            thread_id: None,
            category: None,
            badge: Some(2),
            sound: None,
            ttl: Some(Duration::from_secs(60)),
        };
        let push = sender.seal_apns(device.public_key(), message.clone(), None).unwrap();
        let replay = ReplayStore::in_memory();
        let opened = device
            .open_with_receipt(Payload::Apns { user_info_json: push.body.clone() }, replay.clone(), None)
            .unwrap();
        assert_eq!(opened.notification.data, message.data);
        let lifetime = opened.notification.expires_at.duration_since(opened.notification.sent_at);
        assert_eq!(lifetime.ok(), Some(Duration::from_secs(60)));
        assert!(verify_receipt(push.receipt_digest, opened.receipt).unwrap());
        assert!(matches!(device.open_apns(push.body, replay), Err(PushSealError::Replayed { .. })));

        let normal = FcmOptions { token: None, collapse_key: None, priority: Some(FcmPriority::Normal) };
        let push = sender.seal_fcm(device.public_key(), message.clone(), Some(normal)).unwrap();
        assert!(push.message_json.starts_with(r#"{"android":{"priority":"normal","#), "{}", push.message_json);
        let results = sender.seal_batch_fcm(batch(vec![device.public_key(), "x".into()]), message, None).unwrap();
        assert!(results[0].push.is_some() && results[0].error_kind.is_none());
        assert_eq!(results[1].error_kind.as_deref(), Some("invalid_encoding"));
    }

    /// Devices of a batch with the batch's options.
    fn batch(keys: Vec<String>) -> Vec<BatchDevice> {
        keys.into_iter().map(|public_key| BatchDevice { public_key, token: None, collapse_id: None }).collect()
    }

    #[test]
    fn each_device_of_an_fcm_batch_gets_its_own_token() {
        let sender = Sender::generate().unwrap();
        let devices: Vec<_> = (0..3).map(|_| device_for(&sender)).collect();
        let to: Vec<BatchDevice> = devices
            .iter()
            .enumerate()
            .map(|(i, d)| BatchDevice {
                public_key: d.public_key(),
                token: Some(format!("token-{i}")),
                collapse_id: None,
            })
            .collect();
        let results = sender.seal_batch_fcm(to.clone(), message(), None).unwrap();
        let streamed = sender.clone().stream_batch_fcm(to.clone(), message(), None).unwrap();
        for (i, result) in results.iter().enumerate() {
            let push = result.push.as_ref().unwrap();
            assert!(push.message_json.contains(&format!("\"token\":\"token-{i}\"")), "{}", push.message_json);
            let streamed = streamed.next().unwrap().unwrap();
            assert!(streamed.push.unwrap().message_json.contains(&format!("\"token\":\"token-{i}\"")));
        }
        assert_eq!(streamed.next().unwrap(), None, "one result per device");
        // One token for the whole batch was the bug this refuses.
        let shared = FcmOptions { token: Some("one-token".into()), collapse_key: None, priority: None };
        let e = sender.seal_batch_fcm(to, message(), Some(shared)).unwrap_err();
        assert_eq!(e.kind_name(), "invalid_notification");
    }

    fn message() -> Message {
        Message {
            title: "Refill due".into(),
            body: "Tap to review.".into(),
            data: HashMap::new(),
            thread_id: None,
            category: None,
            badge: None,
            sound: None,
            ttl: None,
        }
    }

    fn device_for(sender: &Sender) -> Arc<DeviceKeyring> {
        let device = DeviceKeyring::generate().unwrap();
        device.trust_sender(sender.public_key()).unwrap();
        device
    }

    #[cfg(feature = "server")]
    fn audited(log: &Arc<AuditLog>) -> Arc<Sender> {
        Sender::with_audit_log(Sender::generate().unwrap().secret_text(), log.clone(), 0).unwrap()
    }

    #[cfg(feature = "server")]
    fn lines(log: &AuditLog) -> Vec<String> {
        std::fs::read_to_string(log.path()).unwrap().lines().map(str::to_owned).collect()
    }

    #[cfg(feature = "server")]
    #[test]
    fn an_audited_sender_records_every_seal_and_tokens_only_as_keyed_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl").to_string_lossy().into_owned();
        let log = AuditLog::open(path.clone(), Some(vec![7; 32])).unwrap();
        let sender = audited(&log);
        let devices = [device_for(&sender), device_for(&sender)];
        let to: Vec<String> = devices.iter().map(|d| d.public_key()).collect();
        let fcm = FcmOptions { token: Some("fcm-token".into()), collapse_key: None, priority: None };

        sender.seal_envelope(to[0].clone(), message()).unwrap();
        sender.seal_apns(to[0].clone(), message(), None).unwrap();
        let push = sender.seal_fcm(to[1].clone(), message(), Some(fcm.clone())).unwrap();
        let batch =
            sender.seal_batch_apns(batch(vec![to[0].clone(), "x".into(), to[1].clone()]), message(), None).unwrap();
        assert_eq!(batch[1].error_kind.as_deref(), Some("invalid_encoding"));
        let lines = lines(&log);
        assert_eq!(lines.len(), 5, "one sealed record per notification handed out");
        let tokened =
            |i: usize| BatchDevice { public_key: to[i].clone(), token: Some(format!("tok-{i}")), collapse_id: None };
        sender.seal_batch_fcm(vec![tokened(0), tokened(1)], message(), None).unwrap();
        let hmac = |line: &str| line.split("\"token_hmac\":\"").nth(1).map(|h| h[..64].to_owned());
        let all = self::lines(&log);
        let (a, b) = (hmac(&all[5]).unwrap(), hmac(&all[6]).unwrap());
        assert_ne!(a, b, "each device's record holds its own token's hash");
        assert!(!all[5].contains("tok-0") && !all[6].contains("tok-1"));
        assert!(lines.iter().all(|l| l.contains("\"type\":\"sealed\"") && !l.contains("Refill")));
        assert!(lines[2].contains(&format!("\"message_id\":\"{}\"", push.message_id)));
        assert!(lines[2].contains("\"token_hmac\"") && !lines[2].contains("fcm-token"));
        assert!(!lines[0].contains("token_hmac") && !lines[1].contains("token_hmac"));

        // Without a token key, no token is recorded at all.
        let plain = AuditLog::open(dir.path().join("plain.jsonl").to_string_lossy().into_owned(), None).unwrap();
        audited(&plain).seal_fcm(to[0].clone(), message(), Some(fcm)).unwrap();
        assert!(!self::lines(&plain)[0].contains("token"));
        let short = AuditLog::open(path.clone(), Some(vec![7; 31]));
        assert_eq!(short.unwrap_err().kind_name(), "invalid_key_length");

        let report = verify_audit_log(path, None).unwrap();
        assert!(report.intact && report.first_break.is_none() && report.torn_tail.is_none());
        assert_eq!((report.records, report.sealed, report.delivered), (7, 7, 0));
        assert_eq!(report.senders, vec![sender.key_id()]);
        assert_eq!(report.head.unwrap().split_once(':').unwrap().0, "6");
    }

    #[cfg(feature = "server")]
    #[test]
    fn deliveries_are_recorded_for_valid_receipts_only() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path().join("a.jsonl").to_string_lossy().into_owned(), None).unwrap();
        let sender = audited(&log);
        let device = device_for(&sender);
        let push = sender.seal_apns(device.public_key(), message(), None).unwrap();
        let other = sender.seal_apns(device.public_key(), message(), None).unwrap();
        let payload = Payload::Apns { user_info_json: push.body };
        let opened = device.open_with_receipt(payload, ReplayStore::in_memory(), None).unwrap();

        let before = lines(&log);
        for (id, receipt) in [(&other.message_id, &opened.receipt), (&"ab".repeat(16), &opened.receipt)] {
            let e = log.record_delivery(id.clone(), receipt.clone(), None).unwrap_err();
            assert_eq!(e.kind_name(), "invalid_receipt");
        }
        let e = log.record_delivery(push.message_id.clone(), "not a receipt".into(), None).unwrap_err();
        assert_eq!(e.kind_name(), "invalid_encoding");
        assert_eq!(lines(&log), before, "a refused receipt appends nothing");

        let delivered = log.record_delivery(push.message_id.clone(), opened.receipt.clone(), Some(1_000)).unwrap();
        assert_eq!(
            delivered,
            AuditDelivery {
                seq: 2,
                time: 1_000,
                message_id: push.message_id.clone(),
                recipient_key_id: device.key_id(),
            }
        );
        // The same delivery again: the first record, nothing appended.
        assert_eq!(log.record_delivery(push.message_id, opened.receipt, Some(2_000)).unwrap(), delivered);
        assert_eq!(lines(&log).len(), 3);
        let report = verify_audit_log(log.path(), None).unwrap();
        assert!(report.intact);
        assert_eq!((report.records, report.sealed, report.delivered), (3, 2, 1));
    }

    #[cfg(feature = "server")]
    #[test]
    fn verify_names_the_first_break_and_checks_the_anchor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl").to_string_lossy().into_owned();
        let log = AuditLog::open(path.clone(), None).unwrap();
        let sender = audited(&log);
        let to = vec![device_for(&sender).public_key(); 3];
        assert!(sender.seal_batch_fcm(batch(to), message(), None).unwrap().iter().all(|r| r.push.is_some()));
        let head = verify_audit_log(path.clone(), None).unwrap().head.unwrap();
        assert!(verify_audit_log(path.clone(), Some(head.clone())).unwrap().intact);

        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        let changed = lines[1].replacen("\"ttl\":86400", "\"ttl\":86401", 1);
        assert_ne!(changed, lines[1]);
        lines[1] = &changed;
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let report = verify_audit_log(path.clone(), Some(head.clone())).unwrap();
        assert!(!report.intact);
        assert_eq!(report.records, 1);
        let broken = report.first_break.unwrap();
        assert_eq!((broken.line, broken.expected_seq, broken.kind), (2, 1, AuditBreakKind::HashMismatch));
        assert!(!broken.reason.is_empty());

        // Records cut from the end leave a valid chain: only the anchor tells.
        std::fs::write(&path, text.lines().next().unwrap().to_owned() + "\n").unwrap();
        assert!(verify_audit_log(path.clone(), None).unwrap().intact);
        let cut = verify_audit_log(path.clone(), Some(head)).unwrap();
        assert_eq!(cut.first_break.map(|b| b.kind), Some(AuditBreakKind::AnchorMissing));

        let e = verify_audit_log(path.clone(), Some("not an anchor".into())).unwrap_err();
        assert_eq!(e.kind_name(), "invalid_encoding");
        let e = verify_audit_log(dir.path().join("none.jsonl").to_string_lossy().into_owned(), None).unwrap_err();
        assert_eq!(e.kind_name(), "storage");
    }

    #[cfg(feature = "server")]
    #[test]
    fn nothing_is_handed_out_without_its_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        // A last line that is not a record: the core refuses to append after it.
        std::fs::write(&path, "not a record\n").unwrap();
        let log = AuditLog::open(path.to_string_lossy().into_owned(), None).unwrap();
        let sender = audited(&log);
        let device = device_for(&sender);
        let e = sender.seal_apns(device.public_key(), message(), None).unwrap_err();
        assert_eq!(e.kind_name(), "storage");
        let e = sender.seal_batch_apns(batch(vec![device.public_key(), "x".into()]), message(), None).unwrap_err();
        assert_eq!(e.kind_name(), "storage", "a batch whose records cannot be written hands nothing out");
        let stream = sender.clone().stream_batch_apns(batch(vec![device.public_key()]), message(), None).unwrap();
        assert_eq!(stream.next().unwrap_err().kind_name(), "storage");
        assert_eq!(stream.next().unwrap(), None);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a record\n");
    }

    #[test]
    fn a_cached_sender_seals_what_devices_open_in_single_seals_and_batches() {
        let sender = Sender::from_secret_text(Sender::generate().unwrap().secret_text(), 2).unwrap();
        let devices: Vec<_> = (0..3).map(|_| device_for(&sender)).collect();
        for device in &devices {
            for _ in 0..2 {
                let envelope = sender.seal_envelope(device.public_key(), message()).unwrap();
                let opened = device.open_envelope(envelope, ReplayStore::in_memory()).unwrap();
                assert_eq!(opened.body, "Tap to review.");
            }
        }
        assert_eq!(sender.cached_devices(), 2, "the cache holds at most its capacity");
        assert_eq!(Sender::generate().unwrap().cached_devices(), 0);

        let to = devices.iter().map(|d| d.public_key()).collect();
        let results = sender.seal_batch_apns(batch(to), message(), None).unwrap();
        let ids: std::collections::HashSet<_> =
            results.iter().map(|r| r.push.as_ref().unwrap().message_id.clone()).collect();
        assert_eq!(ids.len(), 1, "one message id for the whole batch");
        for (device, result) in devices.iter().zip(&results) {
            let push = result.push.clone().unwrap();
            let opened = device
                .open_with_receipt(Payload::Apns { user_info_json: push.body }, ReplayStore::in_memory(), None)
                .unwrap();
            assert!(verify_receipt(push.receipt_digest, opened.receipt).unwrap());
        }
        let e = devices[1].open_apns(results[0].push.clone().unwrap().body, ReplayStore::in_memory());
        assert!(matches!(e, Err(PushSealError::UnknownRecipientKey { .. })));
    }

    #[test]
    fn the_sender_debug_form_leaves_out_the_secret() {
        let sender = Sender::generate().unwrap();
        let secret = sender.secret_text();
        let shown = format!("{sender:?}");
        assert!(!shown.contains(secret.as_str().trim_start_matches("pushseal-secret-key-v1:")));
    }

    #[test]
    fn a_ttl_of_zero_is_refused_like_any_bad_ttl() {
        let sender = Sender::generate().unwrap();
        let device = device_for(&sender);
        for ttl in [0, 2_419_201] {
            let m = Message { ttl: Some(Duration::from_secs(ttl)), ..message() };
            let e = sender.seal_envelope(device.public_key(), m.clone()).unwrap_err();
            assert_eq!(e.kind_name(), "invalid_notification", "ttl {ttl}");
            let batch = sender.seal_batch_fcm(batch(vec![device.public_key()]), m, None).unwrap();
            assert_eq!(batch[0].error_kind.as_deref(), Some("invalid_notification"), "ttl {ttl}");
        }
        for ttl in [Some(1), Some(2_419_200), None] {
            let ttl = ttl.map(Duration::from_secs);
            sender.seal_envelope(device.public_key(), Message { ttl, ..message() }).unwrap();
        }
    }

    #[test]
    fn loading_drops_retired_keys_past_their_deadline_from_storage() {
        let storage = in_memory_key_storage();
        let device = DeviceKeyring::load_or_create(storage.clone()).unwrap();
        // Two rotations long ago: the first key's deadline is long past, the
        // second's an hour from now. Saved as they were then.
        let at = |secs: u64| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        device.rotate(Duration::from_secs(60), at(1_000)).unwrap();
        device.rotate(Duration::from_secs(pushseal::unix_now() + 3_600 - 1_001), at(1_001)).unwrap();
        device.save(storage.clone()).unwrap();
        assert_eq!(DeviceKeyring::from_bytes(storage.load().unwrap().unwrap()).unwrap().retired_keys().len(), 2);
        let loaded = DeviceKeyring::load_or_create(storage.clone()).unwrap();
        assert_eq!(loaded.retired_keys().len(), 1);
        let saved = DeviceKeyring::from_bytes(storage.load().unwrap().unwrap()).unwrap();
        assert_eq!(saved.retired_keys().len(), 1, "the dead key is gone from storage too");
    }
}
