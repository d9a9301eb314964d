//! Delivery receipts: a short value that only the recipient device can
//! compute, and only after it has opened the notification.
//!
//! The receipt is the envelope's HPKE secret export (RFC 9180 section 5.3)
//! and the sender keeps only its digest; both are defined in SPEC.md section
//! 10.1. The device gets the receipt from
//! [`crate::DeviceKeyring::open_with_receipt`] and sends it to the sender's
//! server over the app's own API (its text form is 22 characters of
//! base64url). The sender keeps [`crate::Sealed::receipt_digest`] (the audit
//! log writes it) and checks a receipt later with [`verify_receipt`]: no
//! per-message secret is kept, and the stored digest cannot be turned back
//! into a receipt.
//!
//! ```
//! use pushseal::{DeviceKeyring, MemoryReplayStore, Message, Payload, Sender, SenderSecretKey};
//!
//! let sender = Sender::new(SenderSecretKey::generate()?);
//! let mut device = DeviceKeyring::generate()?;
//! device.trust_sender(sender.public_key())?;
//! let sealed = sender.seal_envelope(&device.public_key(), &Message::new("Refill due", "Tap to review."))?;
//!
//! // On the device: open, and send `receipt.to_string()` back to the server.
//! let replay = MemoryReplayStore::new();
//! let (_n, receipt) = device.open_with_receipt(Payload::Envelope(&sealed.payload), &replay, pushseal::unix_now())?;
//!
//! // On the server: check it against the digest kept at sealing time.
//! let received: pushseal::Receipt = receipt.to_string().parse()?;
//! assert!(pushseal::verify_receipt(&sealed.receipt_digest, &received));
//! # Ok::<(), pushseal::Error>(())
//! ```

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::encoding::{decode_base64_exact, encode_base64, hex_text_form};
use crate::error::{Error, Result};
use crate::hpke;
use crate::notification::MessageId;

/// The length of a receipt, in bytes.
pub const RECEIPT_LEN: usize = 16;
/// The start of the exporter context of a receipt; the message id follows it.
pub const RECEIPT_LABEL: &[u8] = b"pushseal receipt v1";
/// The same for a version 2 envelope (SPEC.md section 12.7); same length.
pub const RECEIPT_LABEL_V2: &[u8] = b"pushseal receipt v2";
/// The domain separation label of a receipt digest.
pub const RECEIPT_DIGEST_LABEL: &[u8] = b"pushseal receipt digest v1";

/// A delivery receipt: proof that the recipient device opened one notification.
/// Its text form ([`fmt::Display`], [`FromStr`]) is 22 characters of base64url
/// without padding.
///
/// `==` compares in time independent of the bytes: a receipt is a secret
/// until it is sent, so no comparison may tell where two first differ.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Receipt([u8; RECEIPT_LEN]);

impl PartialEq for Receipt {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.0, &other.0)
    }
}

impl Eq for Receipt {}

impl Receipt {
    /// The receipt of the notification `id` from the HPKE context of its
    /// envelope (either end's: both derive the same value).
    pub(crate) fn export(ctx: &hpke::Context, id: &MessageId) -> Result<Self> {
        let mut exporter_context = [0u8; RECEIPT_LABEL.len() + 16];
        let (label, rest) = exporter_context.split_at_mut(RECEIPT_LABEL.len());
        label.copy_from_slice(match ctx.suite() {
            hpke::Suite::X25519 => RECEIPT_LABEL,
            hpke::Suite::XWing => RECEIPT_LABEL_V2,
        });
        rest.copy_from_slice(id.as_bytes());
        let mut out = [0u8; RECEIPT_LEN];
        ctx.export(&exporter_context, &mut out)?;
        Ok(Self(out))
    }

    /// A receipt from its 16 bytes.
    pub const fn from_bytes(bytes: [u8; RECEIPT_LEN]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes of the receipt.
    pub const fn to_bytes(&self) -> [u8; RECEIPT_LEN] {
        self.0
    }

    /// The digest the sender keeps: `SHA-256("pushseal receipt digest v1" || receipt)`.
    pub fn digest(&self) -> ReceiptDigest {
        ReceiptDigest(Sha256::new().chain_update(RECEIPT_DIGEST_LABEL).chain_update(self.0).finalize().into())
    }
}

impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode_base64(&self.0))
    }
}

impl fmt::Debug for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Receipt({self})")
    }
}

impl FromStr for Receipt {
    type Err = Error;

    /// Parses exactly 22 characters of canonical base64url without padding;
    /// surrounding white space is ignored.
    fn from_str(s: &str) -> Result<Self> {
        decode_base64_exact::<RECEIPT_LEN>(s.trim(), "a receipt is 22 characters of base64url without padding")
            .map(Self)
    }
}

impl Serialize for Receipt {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Receipt {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        let text = <&str>::deserialize(d)?;
        text.parse().map_err(|_| serde::de::Error::custom("a receipt is 22 characters of base64url"))
    }
}

/// What a sender keeps to check a [`Receipt`] later:
/// `SHA-256("pushseal receipt digest v1" || receipt)`. Not secret. Its text
/// form is 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReceiptDigest([u8; 32]);

impl ReceiptDigest {
    /// A digest from its 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes of the digest.
    pub const fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Whether `receipt` is the receipt this digest was made from, compared in
    /// constant time.
    pub fn verify(&self, receipt: &Receipt) -> bool {
        ct_eq(&self.0, &receipt.digest().0)
    }
}

hex_text_form!(ReceiptDigest, 32, "a receipt digest: 64 lowercase hex digits");

/// Whether `receipt` matches `digest` (see [`ReceiptDigest::verify`]): the
/// sender's check of a receipt that a device sent back.
pub fn verify_receipt(digest: &ReceiptDigest, receipt: &Receipt) -> bool {
    digest.verify(receipt)
}

/// Equality of two byte strings of one length in time independent of their contents.
pub(crate) fn ct_eq<const N: usize>(a: &[u8; N], b: &[u8; N]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    core::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_the_documented_hash_and_text_round_trips() {
        let r = Receipt::from_bytes([7; RECEIPT_LEN]);
        let expected = Sha256::digest([RECEIPT_DIGEST_LABEL, &[7; RECEIPT_LEN][..]].concat());
        assert_eq!(r.digest().to_bytes(), <[u8; 32]>::from(expected));
        let text = r.to_string();
        assert_eq!(text.len(), 22);
        assert_eq!(text.parse::<Receipt>().unwrap(), r);
        let d = r.digest();
        assert_eq!(d.to_string().len(), 64);
        assert_eq!(d.to_string().parse::<ReceiptDigest>().unwrap(), d);
        assert!(verify_receipt(&d, &r));
        assert!(!verify_receipt(&d, &Receipt::from_bytes([8; RECEIPT_LEN])));
    }

    #[test]
    fn bad_text_is_rejected() {
        let text = Receipt::from_bytes([0xff; RECEIPT_LEN]).to_string();
        for bad in [&text[..21], &format!("{text}A"), &format!("{text}=="), &text.replace('_', "/"), ""] {
            assert_eq!(bad.parse::<Receipt>().unwrap_err().kind(), crate::ErrorKind::InvalidEncoding, "{bad}");
        }
        // The last character carries 4 unused bits: a non-canonical form.
        let mut noncanonical = text.clone();
        noncanonical.replace_range(21.., "_");
        assert!(noncanonical != text && noncanonical.parse::<Receipt>().is_err());
        assert!("AB".repeat(32).parse::<ReceiptDigest>().is_err());
    }

    #[test]
    fn constant_time_compare_compares() {
        let a = [1u8; 32];
        let mut b = a;
        assert!(ct_eq(&a, &b));
        for i in 0..32 {
            b = a;
            b[i] ^= 0x80;
            assert!(!ct_eq(&a, &b));
        }
    }
}
