//! PushSeal: end-to-end encryption for mobile push notifications.
//!
//! A sender seals each notification on its server to a key that exists only
//! on the recipient's device (HPKE, RFC 9180, mode auth), so Apple's APNs and
//! Google's FCM carry ciphertext only; the app opens it after delivery and
//! shows the real text. The format is SPEC.md; the threat model SECURITY.md.
//!
//! **A sender** (a server) needs a [`Sender`] made from its
//! [`SenderSecretKey`], each device's [`DevicePublicKey`] (sent by the app
//! when it registers), and a [`Message`]. [`Sender::seal_for_apns`],
//! [`Sender::seal_for_fcm`] and [`Sender::seal_envelope`] return a [`Sealed`]
//! holding that platform's payload, the message id and the receipt digest;
//! [`Sender::seal_batch`] seals to many devices ([`BatchDevice`]: each with
//! its own token and collapse id).
//!
//! **A device** (the app and its extension) needs a [`DeviceKeyring`] (its
//! keys and the senders it trusts, loaded with
//! [`DeviceKeyring::load_or_create`] from a [`KeyringStore`]) and a
//! [`ReplayStore`] ([`FileReplayStore`] in a directory the app and its
//! extension share). [`DeviceKeyring::open`] takes the [`Payload`] the
//! operating system delivered and returns the [`Notification`] to show; on
//! an [`Error`], [`ErrorKind::device_action`] says what to show instead.
//!
//! ```
//! use pushseal::{ApnsOptions, DeviceKeyring, FileReplayStore, Message, Payload, Sender, SenderSecretKey};
//!
//! // On the phone, once: a keyring, and the sender it trusts.
//! let sender = Sender::new(SenderSecretKey::generate()?);
//! let mut device = DeviceKeyring::generate()?;
//! device.trust_sender(sender.public_key())?;
//!
//! // On the server: seal for APNs to the device's registered public key.
//! let msg = Message::new("Appointment", "Tomorrow 10:00 with Dr. Rivera");
//! let sealed = sender.seal_for_apns(&device.public_key(), &msg, &ApnsOptions::default())?;
//!
//! // In the Notification Service Extension: open the userInfo.
//! # let dir = std::env::temp_dir().join(format!("pushseal-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let replay = FileReplayStore::open(dir.join("replay.db"))?;
//! let notification = device.open(Payload::ApnsJson(&sealed.payload.body), &replay, pushseal::unix_now())?;
//! assert_eq!(notification.message.body, "Tomorrow 10:00 with Dr. Rivera");
//! # Ok::<(), pushseal::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// Declares a function public with the `test-vectors` feature and
/// crate-private without it: one body, two visibilities. For the
/// deterministic sealing entry points, which a product must not reach.
macro_rules! pub_with_test_vectors {
    ($(#[$meta:meta])* fn $($rest:tt)*) => {
        #[cfg(feature = "test-vectors")]
        $(#[$meta])* pub fn $($rest)*
        #[cfg(not(feature = "test-vectors"))]
        $(#[$meta])* pub(crate) fn $($rest)*
    };
}

/// Declares a module public with the `test-vectors` feature and private
/// without it: the vector generator, the benches and the crate's own tests
/// reach the internals (HPKE, the envelope's bytes, padding) that way, and
/// nothing else does. Not a stable API.
macro_rules! internal_mod {
    ($($(#[$meta:meta])* $name:ident;)*) => {$(
        #[cfg(feature = "test-vectors")]
        $(#[$meta])* pub mod $name;
        #[cfg(not(feature = "test-vectors"))]
        $(#[$meta])* mod $name;
    )*};
}

mod encoding;
internal_mod! {
    envelope;
    envelope_v2;
    error;
    hpke;
    keyring;
    keys;
    keys_v2;
    notification;
    padding;
    platform;
    receipt;
    replay;
    sender;
    xwing;
}
// Public for the audit log crate (pushseal-audit), which shares the replay
// store's file lock and atomic write; hidden: not a stable API.
#[doc(hidden)]
pub mod shared_file;

pub use envelope::EnvelopeHeader;
pub use error::{DeviceAction, Error, ErrorKind, Result};
pub use keyring::{DeviceKeyring, KeyringStore};
pub use keys::{DevicePublicKey, DeviceSecretKey, KeyId, SenderPublicKey, SenderSecretKey};
pub use keys_v2::{DevicePublicKeyV2, DeviceSecretKeyV2, Registration, SenderSigningKey, SenderVerifyingKey};
pub use notification::{CLOCK_SKEW_SECS, MAX_TTL_SECS, Message, MessageId, Notification, unix_now};
pub use platform::apns::{ApnsOptions, ApnsPushType, ApnsRequest};
pub use platform::fcm::{FcmMessage, FcmOptions, FcmPriority};
pub use platform::{BareEnvelope, EnvelopeSummary, GATEWAY_LIMIT, Payload, Target};
pub use receipt::{Receipt, ReceiptDigest, verify_receipt};
pub use replay::{DEFAULT_LOCK_TIMEOUT, DEFAULT_REPLAY_CAPACITY, FileReplayStore, MemoryReplayStore, ReplayStore};
pub use sender::{BATCH_WINDOW, BatchDevice, BatchResult, Pq, Recipient, Sealed, Sender};

/// The device's strict JSON reading of a platform payload (SPEC.md section
/// 7.4), for the `pushseal` command, which reads its own input forms around a
/// payload by the same rules. Hidden: not a stable API.
#[doc(hidden)]
pub use platform::parse_payload_json;
