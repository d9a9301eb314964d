//! PushSeal: end-to-end encryption for mobile push notifications.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod envelope;
pub mod error;
pub mod hpke;
pub mod keys;

pub use error::{Error, ErrorKind, Result};
pub use keys::{DevicePublicKey, DeviceSecretKey, KeyId, SenderPublicKey, SenderSecretKey};
