//! Version 2 keys (SPEC.md section 12.2): the device's X-Wing key, the
//! sender's Ed25519 signing key, their text forms and key ids, and the
//! registration text a device sends, carrying both of its public keys
//! (section 12.3).
//!
//! As in version 1, a key's role is its type: [`DeviceSecretKeyV2`] /
//! [`DevicePublicKeyV2`] (X-Wing) and [`SenderSigningKey`] /
//! [`SenderVerifyingKey`] (Ed25519) cannot be passed for one another.
//! Secret keys zeroize on drop, print as `[redacted]` in `Debug`, have no
//! `Display`, and are not `Clone`.
//!
//! ```
//! use pushseal::{DeviceKeyring, Registration, SenderSigningKey, SenderVerifyingKey};
//!
//! let device = DeviceKeyring::generate()?;
//! let registration = device.registration().to_string();   // sent to the server
//! assert_eq!(registration.len(), 1691);
//! let parsed: Registration = registration.parse()?;        // on the server
//! assert!(parsed.v2().is_some());
//!
//! let signer = SenderSigningKey::generate()?;
//! let text = signer.verifying_key().to_string();           // what devices pin
//! let pinned: SenderVerifyingKey = text.parse()?;
//! assert_eq!(pinned.key_id(), signer.key_id());
//! # Ok::<(), pushseal::Error>(())
//! ```

use core::fmt;
use core::str::FromStr;

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::encoding::{decode_base64_exact, encode_base64};
use crate::error::{Error, Result};
use crate::keys::{DevicePublicKey, KEY_ID_LEN, KeyId, trim_key_text};
use crate::xwing;

/// The prefix of a device v2 public key's text.
pub const DEVICE_PUBLIC_PREFIX: &str = "pushseal-device-v2:";
/// The prefix of a device v2 secret key's text.
pub const DEVICE_SECRET_PREFIX: &str = "pushseal-device-secret-v2:";
/// The prefix of a sender v2 (Ed25519) public key's text.
pub const SENDER_PUBLIC_PREFIX: &str = "pushseal-sender-v2:";
/// The prefix of a sender v2 (Ed25519) secret key's text.
pub const SENDER_SECRET_PREFIX: &str = "pushseal-sender-secret-v2:";
/// The prefix of a registration text carrying both device public keys.
pub const REGISTRATION_PREFIX: &str = "pushseal-registration-v2:";
/// The length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// The key id label of a device v2 public key.
const DEVICE_KEY_ID_LABEL: &[u8] = b"pushseal-v2 device key id";
/// The key id label of a sender v2 public key.
const SENDER_KEY_ID_LABEL: &[u8] = b"pushseal-v2 sender key id";

/// `SHA-256(label || public_key)[0..8]`.
fn key_id(label: &[u8], public_key: &[u8]) -> KeyId {
    let digest = Sha256::new().chain_update(label).chain_update(public_key).finalize();
    let mut id = [0u8; KEY_ID_LEN];
    id.copy_from_slice(&digest[..KEY_ID_LEN]);
    KeyId::from_bytes(id)
}

/// `prefix || body` with key-text white space around it: the body, or
/// [`Error::InvalidEncoding`] saying which prefix was expected.
fn strip<'a>(text: &'a str, prefix: &str, missing: &'static str) -> Result<&'a str> {
    trim_key_text(text).strip_prefix(prefix).ok_or(Error::InvalidEncoding(missing))
}

/// A device's version 2 public key: X-Wing, 1,216 bytes, checked when read
/// (FIPS 203 section 7.2). Its text form is `pushseal-device-v2:` and 1,622
/// characters of base64url.
#[derive(Clone, PartialEq, Eq)]
pub struct DevicePublicKeyV2 {
    key: xwing::PublicKey,
    id: KeyId,
}

impl DevicePublicKeyV2 {
    /// A key from its 1,216 bytes; one whose ML-KEM part fails the key check
    /// is [`Error::InvalidEncoding`].
    pub fn from_bytes(bytes: &[u8; xwing::PUBLIC_KEY_LEN]) -> Result<Self> {
        Ok(Self::from_checked(xwing::PublicKey::from_bytes(bytes)?))
    }

    /// A key from a byte slice, which must be exactly 1,216 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let bytes: &[u8; xwing::PUBLIC_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| Error::InvalidKeyLength { expected: xwing::PUBLIC_KEY_LEN, found: bytes.len() })?;
        Self::from_bytes(bytes)
    }

    fn from_checked(key: xwing::PublicKey) -> Self {
        let id = key_id(DEVICE_KEY_ID_LABEL, key.as_bytes());
        Self { key, id }
    }

    /// The 1,216 bytes.
    pub fn as_bytes(&self) -> &[u8; xwing::PUBLIC_KEY_LEN] {
        self.key.as_bytes()
    }

    /// `SHA-256("pushseal-v2 device key id" || pk)[0..8]`.
    pub fn key_id(&self) -> KeyId {
        self.id
    }

    pub(crate) fn xwing(&self) -> &xwing::PublicKey {
        &self.key
    }
}

impl fmt::Debug for DevicePublicKeyV2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DevicePublicKeyV2(id {})", self.id)
    }
}

impl fmt::Display for DevicePublicKeyV2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(DEVICE_PUBLIC_PREFIX)?;
        f.write_str(&encode_base64(self.as_bytes()))
    }
}

impl FromStr for DevicePublicKeyV2 {
    type Err = Error;

    /// Parses `pushseal-device-v2:` and 1,622 characters of canonical
    /// base64url, with key-text white space around them.
    fn from_str(s: &str) -> Result<Self> {
        let body = strip(s, DEVICE_PUBLIC_PREFIX, "a device v2 public key starts with \"pushseal-device-v2:\"")?;
        let bytes = decode_base64_exact::<{ xwing::PUBLIC_KEY_LEN }>(
            body,
            "a device v2 public key is 1622 characters of base64url after its prefix",
        )?;
        Self::from_bytes(&bytes)
    }
}

/// A device's version 2 secret key: the 32-byte X-Wing seed. Zeroized on
/// drop; never printed; not `Clone`.
pub struct DeviceSecretKeyV2 {
    key: xwing::SecretKey,
    public: DevicePublicKeyV2,
}

impl DeviceSecretKeyV2 {
    /// A new key from the operating system's random number generator.
    pub fn generate() -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; xwing::SEED_LEN]);
        getrandom::fill(seed.as_mut()).map_err(|_| Error::Randomness)?;
        Ok(Self::from_seed(&seed))
    }

    /// The key with this seed. Any 32 bytes are a valid seed.
    pub fn from_seed(seed: &[u8; xwing::SEED_LEN]) -> Self {
        let key = xwing::SecretKey::from_seed(seed);
        let public = DevicePublicKeyV2::from_checked(key.public_key().clone());
        Self { key, public }
    }

    /// The seed, in a buffer that zeroizes itself. **Secret.**
    pub fn to_seed(&self) -> Zeroizing<[u8; xwing::SEED_LEN]> {
        self.key.seed()
    }

    /// `pushseal-device-secret-v2:` and 43 characters of base64url. **Secret.**
    pub fn to_secret_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(DEVICE_SECRET_PREFIX.len() + 43));
        text.push_str(DEVICE_SECRET_PREFIX);
        text.push_str(&Zeroizing::new(encode_base64(self.to_seed().as_ref())));
        text
    }

    /// Parses [`Self::to_secret_text`]'s form, with key-text white space around it.
    pub fn from_secret_text(text: &str) -> Result<Self> {
        let body =
            strip(text, DEVICE_SECRET_PREFIX, "a device v2 secret key starts with \"pushseal-device-secret-v2:\"")?;
        let seed = Zeroizing::new(decode_base64_exact::<{ xwing::SEED_LEN }>(
            body,
            "a device v2 secret key is 43 characters of base64url after its prefix",
        )?);
        Ok(Self::from_seed(&seed))
    }

    /// The matching public key.
    pub fn public_key(&self) -> &DevicePublicKeyV2 {
        &self.public
    }

    /// The public key's [`KeyId`].
    pub fn key_id(&self) -> KeyId {
        self.public.id
    }

    pub(crate) fn xwing(&self) -> &xwing::SecretKey {
        &self.key
    }
}

impl fmt::Debug for DeviceSecretKeyV2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceSecretKeyV2([redacted], id {})", self.public.id)
    }
}

/// A sender's version 2 public key: Ed25519, what a device pins. Its text
/// form is `pushseal-sender-v2:` and 43 characters of base64url. A key that
/// is not a canonical point encoding, or is of small order (it would verify
/// forged signatures), is refused when read (SPEC.md section 12.1).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SenderVerifyingKey {
    key: VerifyingKey,
    id: KeyId,
}

impl SenderVerifyingKey {
    /// A key from its 32 bytes: [`Error::InvalidEncoding`] unless they are
    /// the canonical encoding of a point that is not of small order.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self> {
        if !is_canonical_point(bytes) {
            return Err(Error::InvalidEncoding("a sender v2 public key is not a canonical Ed25519 point"));
        }
        let key = VerifyingKey::from_bytes(bytes)
            .map_err(|_| Error::InvalidEncoding("a sender v2 public key is not a canonical Ed25519 point"))?;
        if key.is_weak() {
            return Err(Error::InvalidEncoding("a sender v2 public key of small order would accept forgeries"));
        }
        Ok(Self { key, id: key_id(SENDER_KEY_ID_LABEL, bytes) })
    }

    /// A key from a byte slice, which must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let bytes: &[u8; 32] =
            bytes.try_into().map_err(|_| Error::InvalidKeyLength { expected: 32, found: bytes.len() })?;
        Self::from_bytes(bytes)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    /// `SHA-256("pushseal-v2 sender key id" || A)[0..8]`.
    pub fn key_id(&self) -> KeyId {
        self.id
    }

    /// Checks `signature` on `message` by the rules of SPEC.md section 12.1:
    /// `R` canonical and not of small order, `S` below `L`, the
    /// cofactorless equation. [`Error::InvalidSignature`] otherwise.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8; SIGNATURE_LEN]) -> Result<()> {
        let mut r = [0u8; 32];
        r.copy_from_slice(&signature[..32]);
        if !is_canonical_point(&r) {
            return Err(Error::InvalidSignature(self.id));
        }
        self.key
            .verify_strict(message, &ed25519_dalek::Signature::from_bytes(signature))
            .map_err(|_| Error::InvalidSignature(self.id))
    }
}

/// Whether `bytes` decode as an Edwards point by RFC 8032 section 5.1.3
/// (`y < p`, and not `x = 0` with the sign bit set): the point decoded and
/// encoded again gives the same bytes.
fn is_canonical_point(bytes: &[u8; 32]) -> bool {
    CompressedEdwardsY(*bytes).decompress().is_some_and(|p| p.compress().as_bytes() == bytes)
}

impl fmt::Debug for SenderVerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SenderVerifyingKey({self}, id {})", self.id)
    }
}

impl fmt::Display for SenderVerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SENDER_PUBLIC_PREFIX)?;
        f.write_str(&encode_base64(self.as_bytes()))
    }
}

impl FromStr for SenderVerifyingKey {
    type Err = Error;

    /// Parses `pushseal-sender-v2:` and 43 characters of canonical
    /// base64url, with key-text white space around them.
    fn from_str(s: &str) -> Result<Self> {
        let body = strip(s, SENDER_PUBLIC_PREFIX, "a sender v2 public key starts with \"pushseal-sender-v2:\"")?;
        let bytes =
            decode_base64_exact::<32>(body, "a sender v2 public key is 43 characters of base64url after its prefix")?;
        Self::from_bytes(&bytes)
    }
}

/// A sender's version 2 secret key: the 32-byte Ed25519 seed it signs
/// envelopes with. Zeroized on drop; never printed; not `Clone`.
pub struct SenderSigningKey {
    key: SigningKey,
    public: SenderVerifyingKey,
}

impl SenderSigningKey {
    /// A new key from the operating system's random number generator.
    pub fn generate() -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|_| Error::Randomness)?;
        Ok(Self::from_seed(&seed))
    }

    /// The key with this seed (RFC 8032 section 5.1.5). Any 32 bytes are a seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let key = SigningKey::from_bytes(seed);
        let public = SenderVerifyingKey {
            key: key.verifying_key(),
            id: key_id(SENDER_KEY_ID_LABEL, key.verifying_key().as_bytes()),
        };
        Self { key, public }
    }

    /// The seed, in a buffer that zeroizes itself. **Secret.**
    pub fn to_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.key.to_bytes())
    }

    /// `pushseal-sender-secret-v2:` and 43 characters of base64url. **Secret.**
    pub fn to_secret_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(SENDER_SECRET_PREFIX.len() + 43));
        text.push_str(SENDER_SECRET_PREFIX);
        text.push_str(&Zeroizing::new(encode_base64(self.to_seed().as_ref())));
        text
    }

    /// Parses [`Self::to_secret_text`]'s form, with key-text white space around it.
    pub fn from_secret_text(text: &str) -> Result<Self> {
        let body =
            strip(text, SENDER_SECRET_PREFIX, "a sender v2 secret key starts with \"pushseal-sender-secret-v2:\"")?;
        let seed = Zeroizing::new(decode_base64_exact::<32>(
            body,
            "a sender v2 secret key is 43 characters of base64url after its prefix",
        )?);
        Ok(Self::from_seed(&seed))
    }

    /// The matching public key: what devices pin.
    pub fn verifying_key(&self) -> SenderVerifyingKey {
        self.public
    }

    /// The public key's [`KeyId`].
    pub fn key_id(&self) -> KeyId {
        self.public.id
    }

    pub_with_test_vectors! {
    /// `Ed25519.Sign(seed, message)` (RFC 8032 section 5.1.6). Public only
    /// with the `test-vectors` feature: the fuzz targets sign what they
    /// expect a device to accept.
    fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.key.sign(message).to_bytes()
    }
    }
}

impl fmt::Debug for SenderSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SenderSigningKey([redacted], id {})", self.public.id)
    }
}

/// What a device registers with its senders (SPEC.md section 12.3): its
/// version 1 public key and, when it has one, its version 2 public key.
///
/// Its text is `pushseal-registration-v2:`, the version 1 key (43
/// characters), `.`, the version 2 key (1,622 characters): 1,691 in all. A
/// version 1 public key text alone (43 characters) also reads as a
/// registration, of a device that opens version 1 only.
#[derive(Clone, PartialEq, Eq)]
pub struct Registration {
    v1: DevicePublicKey,
    v2: Option<DevicePublicKeyV2>,
}

impl Registration {
    /// A device with both keys.
    pub fn new(v1: DevicePublicKey, v2: DevicePublicKeyV2) -> Self {
        Self { v1, v2: Some(v2) }
    }

    /// A device that opens version 1 only.
    pub fn v1_only(v1: DevicePublicKey) -> Self {
        Self { v1, v2: None }
    }

    /// The version 1 public key.
    pub fn v1(&self) -> &DevicePublicKey {
        &self.v1
    }

    /// The version 2 public key, if the device registered one.
    pub fn v2(&self) -> Option<&DevicePublicKeyV2> {
        self.v2.as_ref()
    }
}

impl From<DevicePublicKey> for Registration {
    fn from(v1: DevicePublicKey) -> Self {
        Self::v1_only(v1)
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration").field("v1", &self.v1.key_id()).field("v2", &self.v2).finish()
    }
}

impl fmt::Display for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.v2 {
            Some(v2) => {
                write!(f, "{REGISTRATION_PREFIX}{}.{}", self.v1.to_base64(), encode_base64(v2.as_bytes()))
            }
            None => f.write_str(&self.v1.to_base64()),
        }
    }
}

impl FromStr for Registration {
    type Err = Error;

    /// Parses a registration text, or a version 1 public key text alone.
    fn from_str(s: &str) -> Result<Self> {
        let text = trim_key_text(s);
        let Some(body) = text.strip_prefix(REGISTRATION_PREFIX) else {
            if text.len() == 43 {
                return text.parse().map(Self::v1_only);
            }
            return Err(Error::InvalidEncoding(
                "a registration is \"pushseal-registration-v2:\" and two keys, or a 43-character public key",
            ));
        };
        let (v1, v2) = body
            .split_once('.')
            .ok_or(Error::InvalidEncoding("a registration's two keys are separated by \".\""))?;
        let v1 = decode_base64_exact::<32>(v1, "a registration's version 1 key is 43 characters of base64url")?;
        let v2 = decode_base64_exact::<{ xwing::PUBLIC_KEY_LEN }>(
            v2,
            "a registration's version 2 key is 1622 characters of base64url",
        )?;
        Ok(Self::new(DevicePublicKey::from_bytes(v1), DevicePublicKeyV2::from_bytes(&v2)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_have_their_lengths_and_round_trip() {
        let device = DeviceSecretKeyV2::from_seed(&[1; 32]);
        let public = device.public_key().to_string();
        assert_eq!(public.len(), 1641);
        assert_eq!(public.parse::<DevicePublicKeyV2>().unwrap(), *device.public_key());
        let secret = device.to_secret_text();
        assert_eq!(secret.len(), 69);
        assert_eq!(DeviceSecretKeyV2::from_secret_text(&format!("{}\n", *secret)).unwrap().key_id(), device.key_id());
        let sender = SenderSigningKey::from_seed(&[2; 32]);
        assert_eq!(sender.verifying_key().to_string().len(), 62);
        assert_eq!(sender.to_secret_text().len(), 69);
        assert_eq!(SenderSigningKey::from_secret_text(&sender.to_secret_text()).unwrap().key_id(), sender.key_id());
    }

    #[test]
    fn one_form_is_never_read_as_another() {
        let device = DeviceSecretKeyV2::from_seed(&[1; 32]);
        let sender = SenderSigningKey::from_seed(&[2; 32]);
        assert!(SenderSigningKey::from_secret_text(&device.to_secret_text()).is_err());
        assert!(DeviceSecretKeyV2::from_secret_text(&sender.to_secret_text()).is_err());
        assert!(device.public_key().to_string().parse::<SenderVerifyingKey>().is_err());
        assert!(sender.verifying_key().to_string().parse::<DevicePublicKeyV2>().is_err());
        let v1 = crate::DeviceSecretKey::from_bytes([3; 32]).public_key().to_base64();
        assert!(v1.parse::<SenderVerifyingKey>().is_err());
        assert!(crate::DeviceSecretKey::from_secret_text(&device.to_secret_text()).is_err());
    }

    #[test]
    fn small_order_and_non_canonical_sender_keys_are_refused() {
        for hex in [
            "0100000000000000000000000000000000000000000000000000000000000000",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0000000000000000000000000000000000000000000000000000000000000080",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
            // y = p (non-canonical 0), y = p + 1 (non-canonical 1), x = 0 with the sign bit.
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "0100000000000000000000000000000000000000000000000000000000000080",
        ] {
            let bytes: [u8; 32] = hex::decode(hex).unwrap().try_into().unwrap();
            let err = SenderVerifyingKey::from_bytes(&bytes).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidEncoding, "{hex}");
        }
        // The eight small-order points are exactly the weak keys, and a real key is fine.
        SenderVerifyingKey::from_bytes(SenderSigningKey::from_seed(&[5; 32]).verifying_key().as_bytes()).unwrap();
    }

    #[test]
    fn signatures_verify_only_unchanged() {
        let sender = SenderSigningKey::from_seed(&[2; 32]);
        let sig = sender.sign(b"message");
        sender.verifying_key().verify(b"message", &sig).unwrap();
        assert!(sender.verifying_key().verify(b"messagE", &sig).is_err());
        for i in 0..64 * 8 {
            let mut bad = sig;
            bad[i / 8] ^= 1 << (i % 8);
            assert!(sender.verifying_key().verify(b"message", &bad).is_err(), "bit {i}");
        }
        let other = SenderSigningKey::from_seed(&[3; 32]);
        assert!(other.verifying_key().verify(b"message", &sig).is_err());
    }

    #[test]
    fn registration_texts_parse_exactly() {
        let v1 = crate::DeviceSecretKey::from_bytes([3; 32]).public_key();
        let v2 = DeviceSecretKeyV2::from_seed(&[4; 32]).public_key().clone();
        let reg = Registration::new(v1, v2.clone());
        let text = reg.to_string();
        assert_eq!(text.len(), 1691);
        assert_eq!(format!(" {text}\n").parse::<Registration>().unwrap(), reg);
        assert_eq!(v1.to_base64().parse::<Registration>().unwrap(), Registration::v1_only(v1));
        for bad in [
            text.replace('.', ":"),
            text[..text.len() - 1].to_string(),
            format!("{text}A"),
            text.replacen("pushseal-registration-v2:", "pushseal-registration-v3:", 1),
            v2.to_string(),
        ] {
            assert_eq!(bad.parse::<Registration>().unwrap_err().kind(), crate::ErrorKind::InvalidEncoding);
        }
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let device = DeviceSecretKeyV2::from_seed(&[0x5a; 32]);
        let sender = SenderSigningKey::from_seed(&[0x5a; 32]);
        for text in [format!("{device:?}"), format!("{sender:?}")] {
            assert!(text.contains("[redacted]"));
            assert!(!text.contains(&encode_base64(&[0x5a; 32])));
            assert!(!text.contains("5a, 5a"));
        }
    }
}
