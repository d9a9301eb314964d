//! PushSeal for Swift, Kotlin and Python: the UniFFI surface over the
//! `pushseal` crate (sdk-core).
//!
//! This crate only adapts types: every rule (parsing, acceptance order,
//! sealing, batches, what a device does about a failure, replay protection)
//! lives in `pushseal`, and the audit log's in `pushseal-audit`. Exported
//! signatures use owned types (`String`, `Vec<u8>`, `HashMap`), every
//! function that looks at caller input returns `Result<_, PushSealError>`,
//! and nothing here panics.
//!
//! Names as the foreign languages see them: Kotlin package `org.pushseal`
//! (`DeviceKeyring.fromBytes`, `keyring.open(payload, replay)`,
//! `PushSealException.Tampered`, `e.kind()`, `e.kind().deviceAction()`),
//! Swift module `PushSeal` (`DeviceKeyring.fromBytes(bytes:)`,
//! `error.kind == .tampered`, `error.kind.deviceAction()`), Python package
//! `pushseal` (`DeviceKeyring.from_bytes`, `PushSealError.Tampered`,
//! `e.kind()`, `e.kind().device_action()`).
//!
//! Two builds: the library apps ship (Swift package, Android AAR) opens
//! notifications and seals one at a time; the `server` feature (the Python
//! module) adds batches, streamed batches and the audit log, which a device
//! never needs and which would take the app's library over its size budget
//! (BENCHMARKS.md).
//!
//! Platform types at the boundary: points in time are `SystemTime` (Swift
//! `Date`, Kotlin `java.time.Instant`, Python `datetime` in UTC), spans are
//! `Duration` (Swift `TimeInterval`, Kotlin `java.time.Duration`, Python
//! `timedelta`), and no exported signature has an unsigned integer, whose
//! Kotlin types (`UInt`, `ULong`) Java cannot call.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pushseal::Payload as CorePayload;
// What a seal's target must be (with the audit log, one it can record); the
// core's `Target` is in scope either way, for `max_plaintext_len`.
#[cfg(not(feature = "server"))]
use pushseal::Target as SealTarget;
#[cfg(feature = "server")]
use pushseal::Target as _;
#[cfg(feature = "server")]
use pushseal_audit::AuditTarget as SealTarget;

uniffi::setup_scaffolding!();

#[cfg(feature = "server")]
mod audit;
#[cfg(feature = "server")]
mod batch;
#[cfg(feature = "server")]
mod delivery;
mod secret;
mod v2;
#[cfg(feature = "server")]
pub use audit::*;
#[cfg(feature = "server")]
pub use batch::*;
#[cfg(feature = "server")]
pub use delivery::*;
pub use secret::{MaybeSecretBytes, MaybeSecretText, SecretBytes, SecretText};
pub use v2::Pq;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Declares [`ErrorKind`], [`PushSealError`] and every mapping between them
/// and the core's kinds from one table: each kind once, with its doc (kept
/// short: the bindings' metadata carries it into the shipped library). Every
/// kind but `Internal` has a core kind of the same name.
macro_rules! error_kinds {
    ($($(#[doc = $doc:literal])+ $kind:ident,)+) => {
        /// The kind of a [`PushSealError`]: the core's error kinds (SPEC.md,
        /// section 9) plus `Internal`. Switch on it, not on the reason's
        /// text; `device_action` says what an app does about it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum ErrorKind {
            $($(#[doc = $doc])+ $kind,)+
            /// Not one of PushSeal's kinds (`internal`): foreign code threw
            /// something else, or the library failed in a way it never should.
            Internal,
        }

        impl ErrorKind {
            fn from_core(kind: pushseal::ErrorKind) -> Self {
                match kind {
                    $(pushseal::ErrorKind::$kind => Self::$kind,)+
                    _ => Self::Internal,
                }
            }

            fn core(self) -> Option<pushseal::ErrorKind> {
                match self {
                    $(Self::$kind => Some(pushseal::ErrorKind::$kind),)+
                    Self::Internal => None,
                }
            }
        }

        /// Every error of PushSeal, one variant per [`ErrorKind`] (same names).
        ///
        /// Kotlin: `PushSealException.Tampered` etc., `e.kind()`, `e.reason`.
        /// Swift: an `Error`; `error.kind` (`.tampered`) and `error.reason`.
        /// Python: `PushSealError.Tampered`, a subclass of `PushSealError`; `e.kind()`.
        ///
        /// `reason` is one line for logs and people; it never holds plaintext
        /// or key bytes. Match on the kind, not on the text.
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
        pub enum PushSealError {
            $(
                $(#[doc = $doc])+
                #[error("{reason}")]
                $kind {
                    /// What is wrong, in one line.
                    reason: String,
                },
            )+
            /// Not one of PushSeal's kinds (`internal`).
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
                    $(ErrorKind::$kind => Self::$kind { reason },)+
                    ErrorKind::Internal => Self::Internal { reason },
                }
            }

            /// The one-line reason.
            fn reason(&self) -> &str {
                match self {
                    $(Self::$kind { reason })|+ | Self::Internal { reason } => reason,
                }
            }
        }

        #[uniffi::export]
        impl PushSealError {
            /// What kind of error this is: switch on it (Swift has the
            /// property `error.kind` instead, in `PushSealError+Kind.swift`).
            pub fn kind(&self) -> ErrorKind {
                match self {
                    $(Self::$kind { .. } => ErrorKind::$kind,)+
                    Self::Internal { .. } => ErrorKind::Internal,
                }
            }
        }
    };
}

error_kinds! {
    /// The payload does not carry a PushSeal envelope (`not_pushseal`).
    NotPushSeal,
    /// The envelope's version is not 1 or 2, or one this device refuses (`unsupported_version`).
    UnsupportedVersion,
    /// The input ends before a field it must contain (`truncated`).
    Truncated,
    /// A part of the input is not well formed (`malformed`).
    Malformed,
    /// Text that should be base64url or hex is not, or is not canonical (`invalid_encoding`).
    InvalidEncoding,
    /// A key has the wrong length (`invalid_key_length`).
    InvalidKeyLength,
    /// A low-order public key gave the all-zero shared secret (`zero_shared_secret`).
    ZeroSharedSecret,
    /// Sealed to a key this keyring does not hold: register again (`unknown_recipient_key`).
    UnknownRecipientKey,
    /// The envelope names a sender the device does not trust (`untrusted_sender`).
    UntrustedSender,
    /// Authentication failed: altered or forged (`tampered`).
    Tampered,
    /// The decrypted plaintext is not validly padded (`malformed_padding`).
    MalformedPadding,
    /// The notification has expired (`expired`).
    Expired,
    /// The notification claims to be sent in the future (`not_yet_valid`).
    NotYetValid,
    /// This message id was already accepted (`replayed`).
    Replayed,
    /// Too large for the padding buckets, the gateway or a device (`payload_too_large`).
    PayloadTooLarge,
    /// A message or option given to the sender is not valid (`invalid_notification`).
    InvalidNotification,
    /// Stored keyring bytes could not be read (`invalid_keyring`).
    InvalidKeyring,
    /// The replay store or the key storage failed (`storage`).
    Storage,
    /// The operating system's random number generator failed (`randomness`).
    Randomness,
    /// A delivery receipt matches no recorded notification (`invalid_receipt`).
    InvalidReceipt,
    /// A version 2 envelope's sender signature does not verify (`invalid_signature`).
    InvalidSignature,
}

#[uniffi::export]
impl ErrorKind {
    /// The kind's stable snake_case name, as SPEC.md and the test vectors
    /// spell it (`"tampered"`, `"internal"`).
    pub fn spec_name(&self) -> String {
        self.core().map_or("internal", pushseal::ErrorKind::name).to_owned()
    }

    /// What an app does when opening a payload fails with this kind: the
    /// core's one policy (`pushseal::ErrorKind::device_action`), which every
    /// binding and sample follows. `Internal`, which is no core kind, shows
    /// the fallback, as the core does for every kind an open never returns.
    pub fn device_action(&self) -> DeviceAction {
        self.core().map_or(DeviceAction::ShowFallback, |kind| DeviceAction::from_core(kind.device_action()))
    }
}

/// What an app does when a payload does not open (`ErrorKind.device_action`).
/// Whatever the action, it never shows the alert text that came with the
/// payload, nor the error's reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum DeviceAction {
    /// Not a PushSeal push: hand it on as it came.
    PassThrough,
    /// Show the app's generic fallback ("New message") and record the kind.
    ShowFallback,
    /// Show the fallback, record the kind, and register the device's current
    /// public key with its sender again.
    Reregister,
    /// Show nothing new and record the kind (a replay).
    Drop,
}

impl DeviceAction {
    fn from_core(action: pushseal::DeviceAction) -> Self {
        match action {
            pushseal::DeviceAction::PassThrough => Self::PassThrough,
            pushseal::DeviceAction::Reregister => Self::Reregister,
            pushseal::DeviceAction::Drop => Self::Drop,
            // ShowFallback, and any action a later core adds: failing safe.
            _ => Self::ShowFallback,
        }
    }
}

#[uniffi::export]
impl DeviceAction {
    /// The action's stable snake_case name (`"show_fallback"`), the core's.
    pub fn spec_name(&self) -> String {
        let core = match self {
            Self::PassThrough => pushseal::DeviceAction::PassThrough,
            Self::ShowFallback => pushseal::DeviceAction::ShowFallback,
            Self::Reregister => pushseal::DeviceAction::Reregister,
            Self::Drop => pushseal::DeviceAction::Drop,
        };
        core.name().to_owned()
    }
}

impl PushSealError {
    /// The stable snake_case name of this error's kind, as the core and the
    /// test vectors spell it (`"internal"` for `Internal`).
    pub fn kind_name(&self) -> String {
        self.kind().spec_name()
    }

    #[cfg(feature = "server")]
    fn internal(reason: &str) -> Self {
        Self::Internal { reason: reason.to_owned() }
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
/// Throw `PushSealError.Storage` on failure (`InvalidKeyring` for bytes that
/// can no longer be read); the caller gets what was thrown, and anything that
/// is not a `PushSealError` arrives as `Internal`.
#[uniffi::export(rust, foreign)]
pub trait KeyStorage: Send + Sync {
    /// The stored keyring bytes, or nothing if none were saved yet.
    fn load(&self) -> Result<MaybeSecretBytes>;
    /// Stores the keyring bytes, replacing what was there. Wipe the foreign
    /// copy after storing it (SECURITY.md, "Secrets in the bindings").
    fn save(&self, bytes: SecretBytes) -> Result<()>;
    /// Deletes the stored bytes and whatever protects them (a Keystore key):
    /// only `load_or_recreate_keyring` calls it, for a keyring that can never
    /// be read again.
    fn delete(&self) -> Result<()>;
}

/// A foreign [`KeyStorage`] as the core's `KeyringStore`. The core sees a
/// failure as `Storage`; the foreign error itself is kept, so that the caller
/// gets exactly what the storage threw.
struct StorageAdapter<'a> {
    storage: &'a dyn KeyStorage,
    thrown: RefCell<Option<PushSealError>>,
}

impl<'a> StorageAdapter<'a> {
    fn new(storage: &'a dyn KeyStorage) -> Self {
        Self { storage, thrown: RefCell::new(None) }
    }

    fn keep(&self, e: PushSealError) -> pushseal::Error {
        // The one kind the core acts on (`load_or_recreate`); every other
        // failure of the storage is the core's `Storage`.
        let core = if e.kind() == ErrorKind::InvalidKeyring {
            pushseal::Error::InvalidKeyring("the key storage cannot read its keyring again")
        } else {
            pushseal::Error::Storage(e.reason().to_owned())
        };
        *self.thrown.borrow_mut() = Some(e);
        core
    }

    /// The foreign error behind `e` if the storage threw it, else `e`.
    fn error(&self, e: pushseal::Error) -> PushSealError {
        self.thrown.take().unwrap_or_else(|| e.into())
    }
}

impl pushseal::KeyringStore for StorageAdapter<'_> {
    fn load(&self) -> pushseal::Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
        match self.storage.load() {
            Ok(bytes) => Ok(bytes.0.map(SecretBytes::into_zeroizing)),
            Err(e) => Err(self.keep(e)),
        }
    }

    fn save(&self, bytes: &[u8]) -> pushseal::Result<()> {
        self.storage.save(SecretBytes::from_slice(bytes)).map_err(|e| self.keep(e))
    }

    fn delete(&self) -> pushseal::Result<()> {
        self.storage.delete().map_err(|e| self.keep(e))
    }
}

/// A `KeyStorage` that keeps the bytes in memory, for tests.
#[derive(Debug, Default)]
struct InMemoryKeyStorage {
    bytes: Mutex<Option<zeroize::Zeroizing<Vec<u8>>>>,
}

impl KeyStorage for InMemoryKeyStorage {
    fn load(&self) -> Result<MaybeSecretBytes> {
        Ok(lock(&self.bytes).clone().map(SecretBytes::new).into())
    }

    fn save(&self, bytes: SecretBytes) -> Result<()> {
        *lock(&self.bytes) = Some(bytes.into_zeroizing());
        Ok(())
    }

    fn delete(&self) -> Result<()> {
        *lock(&self.bytes) = None;
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

/// The text a device shows when an open fails with `show_fallback` or
/// `reregister`: fixed words, nothing from the payload (the core's).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FallbackText {
    /// "New message", the sender's APNs fallback title too.
    pub title: String,
    /// The body under it.
    pub body: String,
}

/// The core's fallback text. Kotlin and Swift also carry it as constants
/// (`Fallback.TITLE`, `Fallback.title`), for a device whose native
/// library cannot load, and their tests check them against this.
#[uniffi::export]
pub fn fallback_text() -> FallbackText {
    FallbackText { title: pushseal::FALLBACK_TITLE.to_owned(), body: pushseal::FALLBACK_BODY.to_owned() }
}

/// How `load_or_recreate_keyring` came by the keyring (the core's `KeyringOrigin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum KeyringOrigin {
    /// Read from the storage, as it was saved.
    Loaded,
    /// Nothing was stored (the app's first run): a new keyring, saved.
    Created,
    /// The stored keyring could never be read again: it was deleted and a
    /// new one saved. Trust the app's senders again; notifications sealed to
    /// the old keys fail with `UnknownRecipientKey`.
    Recreated,
}

#[uniffi::export]
impl KeyringOrigin {
    /// Whether to register the keyring's public key with the server: true
    /// for a new keyring, first or recreated.
    pub fn needs_registration(&self) -> bool {
        pushseal::KeyringOrigin::from(*self).needs_registration()
    }
}

impl From<KeyringOrigin> for pushseal::KeyringOrigin {
    fn from(origin: KeyringOrigin) -> Self {
        match origin {
            KeyringOrigin::Loaded => Self::Loaded,
            KeyringOrigin::Created => Self::Created,
            KeyringOrigin::Recreated => Self::Recreated,
        }
    }
}

impl From<pushseal::KeyringOrigin> for KeyringOrigin {
    fn from(origin: pushseal::KeyringOrigin) -> Self {
        match origin {
            pushseal::KeyringOrigin::Loaded => Self::Loaded,
            pushseal::KeyringOrigin::Created => Self::Created,
            // The core's enum is non-exhaustive: a new way is a new keyring.
            _ => Self::Recreated,
        }
    }
}

/// The app's keyring and how `load_or_recreate_keyring` came by it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LoadedKeyring {
    /// The keyring, saved in its storage.
    pub keyring: Arc<DeviceKeyring>,
    /// Loaded, created or recreated: register again unless loaded.
    pub origin: KeyringOrigin,
}

/// The keyring in `storage`, with the way back from one that can never be
/// read again: the core's `DeviceKeyring::load_or_recreate`. What the app
/// calls at each start (never its messaging service or extension, which
/// only load: two processes making keys race each other).
///
/// Readable: that keyring (`Loaded`). Nothing stored: a new one, saved
/// (`Created`). `InvalidKeyring` (thrown by the storage, or bytes that are
/// not a keyring): `storage.delete()`, then a new keyring saved
/// (`Recreated`). Any other error is thrown as the storage threw it, and
/// nothing is deleted. Kotlin `KeyringRecovery.loadOrRecreate(storage)`,
/// Swift `KeyringRecovery.loadOrRecreate(storage:)`.
#[uniffi::export(default(now = None))]
pub fn load_or_recreate_keyring(storage: Arc<dyn KeyStorage>, now: Option<SystemTime>) -> Result<LoadedKeyring> {
    let store = StorageAdapter::new(&*storage);
    let (keyring, origin) =
        pushseal::DeviceKeyring::load_or_recreate(&store, now_or_clock(now)).map_err(|e| store.error(e))?;
    Ok(LoadedKeyring { keyring: DeviceKeyring::wrap(keyring), origin: origin.into() })
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
            fid: None,
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
    fn max_plaintext_len(&self) -> pushseal::Result<usize> {
        match self {
            Target::Envelope => pushseal::BareEnvelope.max_plaintext_len(),
            Target::Apns { options } => options.to_core().max_plaintext_len(),
            Target::Fcm { options } => options.to_core().max_plaintext_len(),
        }
    }
}

/// What every seal returns beside its platform's payload: what a sender
/// keeps to log the notification and to check its delivery receipt.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Sealed {
    /// The message id, 32 hex digits (the same for every device of a batch).
    pub message_id: String,
    /// The envelope's version: 2 (X-Wing, signed) or 1, as the sender's
    /// policy picked for the device's registration.
    pub version: i32,
    /// The recipient device key's id (of that version), 16 hex digits.
    pub recipient_key_id: String,
    /// When it was sealed.
    pub sent_at: SystemTime,
    /// When it expires.
    pub expires_at: SystemTime,
    /// The digest (64 hex digits) to check the device's delivery receipt
    /// against with `verify_receipt`. Not secret.
    pub receipt_digest: String,
}

impl Sealed {
    /// The common fields of a core result, and its payload.
    fn split<P>(s: pushseal::Sealed<P>) -> (Self, P) {
        let sealed = Self {
            message_id: s.message_id.to_string(),
            version: i32::from(s.version()),
            recipient_key_id: s.recipient.to_string(),
            sent_at: system_time(s.sent_at),
            expires_at: system_time(s.expires_at),
            receipt_digest: s.receipt_digest.to_string(),
        };
        (sealed, s.payload)
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
    /// The message id, receipt digest and times.
    pub sealed: Sealed,
}

impl From<pushseal::Sealed<pushseal::ApnsRequest>> for ApnsPush {
    fn from(s: pushseal::Sealed<pushseal::ApnsRequest>) -> Self {
        let (sealed, request) = Sealed::split(s);
        Self { headers: request.headers.into_iter().collect(), body: request.body, sealed }
    }
}

/// A notification sealed for FCM (HTTP v1).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FcmPush {
    /// The `message` object as JSON text.
    pub message_json: String,
    /// The whole request body, `{"message": ...}`.
    pub request_body: String,
    /// The message id, receipt digest and times.
    pub sealed: Sealed,
}

impl From<pushseal::Sealed<pushseal::FcmMessage>> for FcmPush {
    fn from(s: pushseal::Sealed<pushseal::FcmMessage>) -> Self {
        let (sealed, message) = Sealed::split(s);
        Self { request_body: message.request_body(), message_json: message.json, sealed }
    }
}

/// A notification sealed as a bare envelope, for a transport of the
/// sender's own.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SealedEnvelope {
    /// The envelope's text form (base64url).
    pub envelope: String,
    /// The message id, receipt digest and times.
    pub sealed: Sealed,
}

impl From<pushseal::Sealed<String>> for SealedEnvelope {
    fn from(s: pushseal::Sealed<String>) -> Self {
        let (sealed, envelope) = Sealed::split(s);
        Self { envelope, sealed }
    }
}

/// The public header of an envelope: what a gateway can see.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnvelopeInfo {
    /// The format version: 1 (X25519) or 2 (X-Wing, signed).
    pub version: i32,
    /// The recipient device key's id (of its version), 16 hex digits.
    pub recipient_key_id: String,
    /// The id of the sender key that sealed (version 1) or signed
    /// (version 2) it, 16 hex digits.
    pub sender_key_id: String,
    /// The padded plaintext's length in bytes (a padding bucket).
    pub padded_len: i64,
}

impl From<pushseal::EnvelopeSummary> for EnvelopeInfo {
    fn from(s: pushseal::EnvelopeSummary) -> Self {
        Self {
            version: i32::from(s.version),
            recipient_key_id: s.recipient.to_string(),
            sender_key_id: s.sender.to_string(),
            padded_len: signed(s.padded_len),
        }
    }
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
    /// first. Retired keys past their deadline at `now` (none for the
    /// device's clock) are dropped, and the keyring saved back without them,
    /// so that no dead secret key stays in storage. What an app calls at each
    /// start, in the app and in its extension alike.
    #[uniffi::constructor(default(now = None))]
    pub fn load_or_create(storage: Arc<dyn KeyStorage>, now: Option<SystemTime>) -> Result<Arc<Self>> {
        let store = StorageAdapter::new(&*storage);
        let keyring = pushseal::DeviceKeyring::load_or_create(&store, now_or_clock(now)).map_err(|e| store.error(e))?;
        Ok(Self::wrap(keyring))
    }

    /// Writes the keyring to `storage`.
    pub fn save(&self, storage: Arc<dyn KeyStorage>) -> Result<()> {
        let store = StorageAdapter::new(&*storage);
        lock(&self.inner).save(&store).map_err(|e| store.error(e))
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

    /// Opens a payload at `now` (none for the device's clock): the
    /// notification to show. On a `PushSealError`, `error.kind` (Kotlin,
    /// Python: `e.kind()`) says what to do with `device_action`.
    #[uniffi::method(default(now = None))]
    pub fn open(
        &self,
        payload: Payload,
        replay: Arc<ReplayStore>,
        now: Option<SystemTime>,
    ) -> Result<OpenedNotification> {
        Ok(lock(&self.inner).open(payload.as_core(), &*replay.inner, now_or_clock(now))?.into())
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
    /// Shared with a send in progress (server builds: `delivery.rs`).
    inner: Arc<pushseal::Sender>,
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

impl Sender {
    /// A sender with `key`, a cache for `cache_devices`, and, for version
    /// 2, `signing` and `pq` (checked together by `v2::policy`).
    fn new(
        key: pushseal::SenderSecretKey,
        cache_devices: u64,
        signing: Option<pushseal::SenderSigningKey>,
        pq: Pq,
    ) -> Self {
        // The core keeps no cache for a capacity of 0.
        let capacity = usize::try_from(cache_devices).unwrap_or(usize::MAX);
        let inner = pushseal::Sender::with_cache(key, capacity).with_pq(pq.into());
        Self {
            inner: Arc::new(match signing {
                Some(signing) => inner.with_signing_key(signing),
                None => inner,
            }),
            #[cfg(feature = "server")]
            audit_log: None,
        }
    }

    /// A sender from its secret key texts (version 2's if given) and
    /// policy; the texts are erased once read.
    fn from_text(text: SecretText, cache_devices: i64, text_v2: MaybeSecretText, pq: Option<Pq>) -> Result<Self> {
        let cache_devices = count(cache_devices, "cache_devices must not be negative")?;
        let signing = v2::signing_key(text_v2)?;
        let pq = v2::policy(signing.is_some(), pq)?;
        let key = pushseal::SenderSecretKey::from_secret_text(text.as_str())?;
        Ok(Self::new(key, cache_devices, signing, pq))
    }

    /// Seals to one device, by its registration text or its version 1
    /// public key; with an audit log, only once its record is written.
    fn seal_one<T: SealTarget>(&self, to: &str, message: &Message, target: &T) -> Result<pushseal::Sealed<T::Payload>> {
        let to: pushseal::Registration = to.parse()?;
        let message = message.to_core()?;
        #[cfg(feature = "server")]
        if let Some(log) = &self.audit_log {
            return log.seal(&self.inner, &to, &message, target);
        }
        Ok(self.inner.seal(&to, &message, target)?)
    }
}

#[uniffi::export]
impl Sender {
    /// A sender with new random keys of both versions (it seals version 2
    /// to devices that registered a version 2 key: `Pq::Prefer`) and no
    /// cache. Keep its `secret_text` and `secret_text_v2` safe.
    #[uniffi::constructor]
    pub fn generate() -> Result<Arc<Self>> {
        let signing = pushseal::SenderSigningKey::generate()?;
        Ok(Arc::new(Self::new(pushseal::SenderSecretKey::generate()?, 0, Some(signing), Pq::Prefer)))
    }

    /// A sender from its secret key text (`pushseal-secret-key-v1:...`).
    ///
    /// `cache_devices`: how many devices to remember the Diffie-Hellman value
    /// with (it is the same for every message to a device). Use it in a server
    /// that lives long and seals to the same devices again and again: a seal
    /// to a remembered device then takes one X25519 operation instead of two
    /// (BENCHMARKS.md). The values are as secret as the key; each is erased
    /// when it is evicted (roughly the device sealed to least recently first)
    /// and when the sender is dropped. 0, the default: no cache, right for a
    /// short-lived process or one that rarely seals to the same device twice.
    /// Negative: `Malformed`.
    ///
    /// `text_v2`: the version 2 signing key's text
    /// (`pushseal-sender-secret-v2:...`, from `secret_text_v2`); without it
    /// the sender seals version 1 only. `pq`: which version to seal (none
    /// for `Pq::Prefer`); `Pq::Require` without `text_v2` is
    /// `InvalidNotification`.
    #[uniffi::constructor(default(cache_devices = 0, text_v2 = None, pq = None))]
    pub fn from_secret_text(
        text: SecretText,
        cache_devices: i64,
        text_v2: MaybeSecretText,
        pq: Option<Pq>,
    ) -> Result<Arc<Self>> {
        Ok(Arc::new(Self::from_text(text, cache_devices, text_v2, pq)?))
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

    /// Seals `message` to the device with this registration (or version 1
    /// public key) as a bare envelope (base64url text), for a transport of
    /// the sender's own. The policy (`pq`) picks the version.
    pub fn seal_envelope(&self, to: String, message: Message) -> Result<SealedEnvelope> {
        Ok(self.seal_one(&to, &message, &pushseal::BareEnvelope)?.into())
    }

    /// Seals `message` to the device with this registration (or version 1
    /// public key) as an APNs request (default options when none are given).
    #[uniffi::method(default(options = None))]
    pub fn seal_apns(&self, to: String, message: Message, options: Option<ApnsOptions>) -> Result<ApnsPush> {
        let options = options.map(|o| o.to_core()).unwrap_or_default();
        Ok(self.seal_one(&to, &message, &options)?.into())
    }

    /// Seals `message` to the device with this registration (or version 1
    /// public key) as an FCM message (default options when none are given).
    #[uniffi::method(default(options = None))]
    pub fn seal_fcm(&self, to: String, message: Message, options: Option<FcmOptions>) -> Result<FcmPush> {
        let options = options.map(|o| o.to_core()).unwrap_or_default();
        Ok(self.seal_one(&to, &message, &options)?.into())
    }
}

// ---------------------------------------------------------------------------
// Free functions
// ---------------------------------------------------------------------------

/// The public header of an envelope (base64url text), without decrypting anything.
#[uniffi::export]
pub fn inspect(envelope: String) -> Result<EnvelopeInfo> {
    Ok(CorePayload::Envelope(&envelope).summary()?.into())
}

/// The public header of the envelope in a payload as the platform delivered
/// it, read by the core's rules before any key is touched: a push that is not
/// PushSeal's fails with `NotPushSeal` (its action: pass it through), one over
/// the core's size cap with `PayloadTooLarge`, a damaged one with its kind.
/// A messaging service asks this first, and loads the keyring only for a
/// payload that is PushSeal's.
#[uniffi::export]
pub fn inspect_payload(payload: Payload) -> Result<EnvelopeInfo> {
    Ok(payload.as_core().summary()?.into())
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
    Ok(signed(target.max_plaintext_len()?))
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
            assert_eq!(kind.core(), Some(core));
            assert_eq!(kind.spec_name(), core.name());
            let error = PushSealError::new(kind, "why".into());
            assert_eq!(error.kind(), kind);
            assert_eq!(error.reason(), "why");
            assert_eq!(format!("{error:?}").split(' ').next(), Some(format!("{kind:?}").as_str()));
        }
        assert_eq!(ErrorKind::Internal.spec_name(), "internal");
        assert_eq!(PushSealError::Internal { reason: "x".into() }.kind(), ErrorKind::Internal);
        let e = PushSealError::from(pushseal::Error::NotPushSeal("no key"));
        assert_eq!(e.kind_name(), "not_pushseal");
        assert!(e.to_string().contains("no key"));
    }

    #[test]
    fn every_kind_has_the_cores_device_action() {
        for core in pushseal::ErrorKind::ALL {
            let action = ErrorKind::from_core(core).device_action();
            assert_eq!(action.spec_name(), core.device_action().name(), "{core}");
        }
        assert_eq!(ErrorKind::Tampered.device_action(), DeviceAction::ShowFallback);
        assert_eq!(ErrorKind::UnknownRecipientKey.device_action(), DeviceAction::Reregister);
        assert_eq!(ErrorKind::Replayed.device_action(), DeviceAction::Drop);
        assert_eq!(ErrorKind::NotPushSeal.device_action(), DeviceAction::PassThrough);
        assert_eq!(ErrorKind::Internal.device_action(), DeviceAction::ShowFallback);
    }

    #[test]
    fn times_cross_as_platform_times_and_counts_as_signed_integers() {
        assert_eq!(unix_secs(system_time(1_767_225_600)), 1_767_225_600);
        assert_eq!(unix_secs(UNIX_EPOCH - Duration::from_secs(1)), 0);
        assert_eq!(system_time(u64::MAX), system_time(LATEST_UNIX_SECS));
        let e = Sender::from_secret_text(Sender::generate().unwrap().secret_text(), -1, MaybeSecretText(None), None)
            .unwrap_err();
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
    fn open_takes_each_payload_type_and_seals_say_what_they_sealed() {
        let sender = Sender::generate().unwrap();
        let device = DeviceKeyring::load_or_create(in_memory_key_storage(), None).unwrap();
        device.trust_sender(sender.public_key()).unwrap();
        let message = Message {
            data: HashMap::from([("k".into(), "v".into())]),
            badge: Some(2),
            ttl: Some(Duration::from_secs(60)),
            ..self::message()
        };
        let to = device.public_key();
        let apns = sender.seal_apns(to.clone(), message.clone(), None).unwrap();
        let normal = FcmOptions { token: None, collapse_key: None, priority: Some(FcmPriority::Normal) };
        let fcm = sender.seal_fcm(to.clone(), message.clone(), Some(normal)).unwrap();
        assert!(fcm.message_json.starts_with(r#"{"android":{"priority":"normal","#), "{}", fcm.message_json);
        let data: HashMap<String, String> = HashMap::from([(
            "pushseal".into(),
            fcm.message_json.split("\"pushseal\":\"").nth(1).unwrap().split('"').next().unwrap().into(),
        )]);
        let envelope = sender.seal_envelope(to, message.clone()).unwrap();
        let replay = ReplayStore::in_memory();
        for (payload, sealed) in [
            (Payload::Apns { user_info_json: apns.body.clone() }, &apns.sealed),
            (Payload::Fcm { data }, &fcm.sealed),
            (Payload::Envelope { envelope: envelope.envelope.clone() }, &envelope.sealed),
        ] {
            assert_eq!(sealed.recipient_key_id, device.key_id());
            let opened = device.open_with_receipt(payload.clone(), replay.clone(), None).unwrap();
            let n = &opened.notification;
            assert_eq!((&n.id, n.sent_at, n.expires_at), (&sealed.message_id, sealed.sent_at, sealed.expires_at));
            assert_eq!((n.body.as_str(), &n.data), ("Tap to review.", &message.data));
            assert_eq!(n.expires_at.duration_since(n.sent_at).ok(), Some(Duration::from_secs(60)));
            assert!(verify_receipt(sealed.receipt_digest.clone(), opened.receipt).unwrap());
            let again = device.open(payload, replay.clone(), None).unwrap_err();
            assert_eq!((again.kind(), again.kind().device_action()), (ErrorKind::Replayed, DeviceAction::Drop));
        }
        let e = DeviceKeyring::generate().unwrap().open(Payload::Apns { user_info_json: apns.body }, replay, None);
        assert_eq!(e.unwrap_err().kind().device_action(), DeviceAction::Reregister);
    }

    pub(crate) fn message() -> Message {
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

    pub(crate) fn device_for(sender: &Sender) -> Arc<DeviceKeyring> {
        let device = DeviceKeyring::generate().unwrap();
        device.trust_sender(sender.public_key()).unwrap();
        device
    }

    #[test]
    fn the_sender_debug_form_leaves_out_the_secret() {
        let sender = Sender::generate().unwrap();
        let secret = sender.secret_text();
        let shown = format!("{sender:?}");
        assert!(!shown.contains(secret.as_str().trim_start_matches("pushseal-secret-key-v1:")));
    }

    #[test]
    fn a_cached_sender_seals_what_devices_open() {
        let sender =
            Sender::from_secret_text(Sender::generate().unwrap().secret_text(), 2, MaybeSecretText(None), None)
                .unwrap();
        let devices: Vec<_> = (0..3).map(|_| device_for(&sender)).collect();
        for device in &devices {
            for _ in 0..2 {
                let sealed = sender.seal_envelope(device.public_key(), message()).unwrap();
                let payload = Payload::Envelope { envelope: sealed.envelope };
                assert_eq!(device.open(payload, ReplayStore::in_memory(), None).unwrap().body, "Tap to review.");
            }
        }
        assert_eq!(sender.cached_devices(), 2, "the cache holds at most its capacity");
        assert_eq!(Sender::generate().unwrap().cached_devices(), 0);
    }

    #[test]
    fn a_ttl_of_zero_is_refused_like_any_bad_ttl() {
        let sender = Sender::generate().unwrap();
        let device = device_for(&sender);
        for ttl in [0, 2_419_201] {
            let m = Message { ttl: Some(Duration::from_secs(ttl)), ..message() };
            let e = sender.seal_envelope(device.public_key(), m).unwrap_err();
            assert_eq!(e.kind_name(), "invalid_notification", "ttl {ttl}");
        }
        for ttl in [Some(1), Some(2_419_200), None] {
            let ttl = ttl.map(Duration::from_secs);
            sender.seal_envelope(device.public_key(), Message { ttl, ..message() }).unwrap();
        }
    }

    #[test]
    fn loading_drops_retired_keys_past_their_deadline_from_storage() {
        let storage = in_memory_key_storage();
        let device = DeviceKeyring::load_or_create(storage.clone(), None).unwrap();
        // Two rotations long ago: the first key's deadline is long past, the
        // second's an hour from now. Saved as they were then.
        let at = |secs: u64| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        device.rotate(Duration::from_secs(60), at(1_000)).unwrap();
        device.rotate(Duration::from_secs(pushseal::unix_now() + 3_600 - 1_001), at(1_001)).unwrap();
        device.save(storage.clone()).unwrap();
        assert_eq!(DeviceKeyring::from_bytes(storage.load().unwrap().0.unwrap()).unwrap().retired_keys().len(), 2);
        let loaded = DeviceKeyring::load_or_create(storage.clone(), None).unwrap();
        assert_eq!(loaded.retired_keys().len(), 1);
        let saved = DeviceKeyring::from_bytes(storage.load().unwrap().0.unwrap()).unwrap();
        assert_eq!(saved.retired_keys().len(), 1, "the dead key is gone from storage too");
    }

    /// A storage that throws what it was given.
    struct Failing(PushSealError);

    impl KeyStorage for Failing {
        fn load(&self) -> Result<MaybeSecretBytes> {
            Err(self.0.clone())
        }
        fn save(&self, _bytes: SecretBytes) -> Result<()> {
            Err(self.0.clone())
        }
        fn delete(&self) -> Result<()> {
            Err(self.0.clone())
        }
    }

    /// A storage whose wrapping key is gone: `load` throws `InvalidKeyring` until `delete`.
    #[derive(Default)]
    struct KeyGone {
        deleted: Mutex<bool>,
        inner: InMemoryKeyStorage,
    }

    impl KeyStorage for KeyGone {
        fn load(&self) -> Result<MaybeSecretBytes> {
            if !*lock(&self.deleted) {
                return Err(PushSealError::InvalidKeyring { reason: "the Keystore key is gone".into() });
            }
            self.inner.load()
        }
        fn save(&self, bytes: SecretBytes) -> Result<()> {
            self.inner.save(bytes)
        }
        fn delete(&self) -> Result<()> {
            *lock(&self.deleted) = true;
            self.inner.delete()
        }
    }

    #[test]
    fn load_or_recreate_recreates_only_what_the_storage_says_is_gone() {
        let storage = in_memory_key_storage();
        let created = load_or_recreate_keyring(storage.clone(), None).unwrap();
        assert_eq!(created.origin, KeyringOrigin::Created);
        assert!(created.origin.needs_registration());
        let loaded = load_or_recreate_keyring(storage, None).unwrap();
        assert_eq!((loaded.origin, loaded.keyring.key_id()), (KeyringOrigin::Loaded, created.keyring.key_id()));
        assert!(!loaded.origin.needs_registration());

        let gone = Arc::new(KeyGone::default());
        let recreated = load_or_recreate_keyring(gone.clone(), None).unwrap();
        assert_eq!(recreated.origin, KeyringOrigin::Recreated);
        assert!(*lock(&gone.deleted));
        let again = load_or_recreate_keyring(gone, None).unwrap();
        assert_eq!((again.origin, again.keyring.key_id()), (KeyringOrigin::Loaded, recreated.keyring.key_id()));

        // Storage and foreign failures of `load` are thrown as they were: nothing deleted.
        for thrown in [
            PushSealError::Storage { reason: "the Keystore is busy".into() },
            PushSealError::Internal { reason: "a foreign exception".into() },
        ] {
            let e = load_or_recreate_keyring(Arc::new(Failing(thrown.clone())), None).unwrap_err();
            assert_eq!(e, thrown);
        }
    }

    #[test]
    fn what_a_key_storage_throws_reaches_the_caller_unchanged() {
        for thrown in [
            PushSealError::InvalidKeyring { reason: "the Keystore key is gone".into() },
            PushSealError::Storage { reason: "disk full".into() },
            PushSealError::Internal { reason: "a foreign exception".into() },
        ] {
            let storage: Arc<dyn KeyStorage> = Arc::new(Failing(thrown.clone()));
            assert_eq!(DeviceKeyring::load_or_create(storage.clone(), None).unwrap_err(), thrown);
            assert_eq!(DeviceKeyring::generate().unwrap().save(storage).unwrap_err(), thrown);
        }
    }
}
