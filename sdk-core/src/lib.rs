//! PushSeal: end-to-end encryption for mobile push notifications.
//!
//! A sender seals each notification on its server to a key that exists only
//! on the recipient's device (HPKE, RFC 9180, mode auth), so Apple's APNs and
//! Google's FCM carry ciphertext only; the app opens it after delivery and
//! shows the real text.
//!
//! ```
//! use pushseal::{ApnsOptions, DeviceKeyring, FileReplayStore, Message, Sender, SenderSecretKey};
//!
//! // On the phone, once: a keyring, and the sender it trusts.
//! let sender = Sender::new(SenderSecretKey::generate()?);
//! let mut device = DeviceKeyring::generate()?;
//! device.trust_sender(sender.public_key())?;
//!
//! // On the server: seal for APNs to the device's registered public key.
//! let msg = Message::new("Appointment", "Tomorrow 10:00 with Dr. Rivera");
//! let request = sender.seal_for_apns(&device.public_key(), &msg, &ApnsOptions::default())?;
//!
//! // In the Notification Service Extension: open the userInfo.
//! # let dir = std::env::temp_dir().join(format!("pushseal-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let replay = FileReplayStore::open(dir.join("replay.db"))?;
//! let notification = device.open_apns(&request.body, &replay)?;
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

mod encoding;
pub mod envelope;
pub mod error;
pub mod hpke;
pub mod keyring;
pub mod keys;
pub mod notification;
pub mod padding;
pub mod platform;
pub mod receipt;
pub mod replay;
pub mod sender;
// Public for the audit log crate (pushseal-audit) only, and hidden: not a
// stable API (see its docs).
#[doc(hidden)]
pub mod shared_file;

pub use error::{Error, ErrorKind, Result};
pub use keyring::{DeviceKeyring, Payload};
pub use keys::{DevicePublicKey, DeviceSecretKey, KeyId, SenderPublicKey, SenderSecretKey};
pub use notification::{Message, MessageId, Notification, unix_now};
pub use platform::apns::{ApnsOptions, ApnsPushType, ApnsRequest};
pub use platform::fcm::{FcmMessage, FcmOptions, FcmPriority};
pub use platform::{Target, max_plaintext_len};
pub use receipt::{Receipt, ReceiptDigest, verify_receipt};
pub use replay::{
    CLOCK_SKEW_SECS, DEFAULT_LOCK_TIMEOUT, DEFAULT_REPLAY_CAPACITY, FileReplayStore, MemoryReplayStore, ReplayStore,
    reachable_expiry,
};
pub use sender::{BATCH_WINDOW, BatchDevice, BatchResult, Sealed, SealedNotification, Sender};
