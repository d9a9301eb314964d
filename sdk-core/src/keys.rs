//! Device and sender keys: X25519 key pairs, their text forms and key ids.
//!
//! A key's role is part of its type, so a device key cannot be passed where a
//! sender key belongs: [`DeviceSecretKey`] / [`DevicePublicKey`] and
//! [`SenderSecretKey`] / [`SenderPublicKey`] are the same X25519 keys under
//! two roles. Secret keys zeroize on drop, print as `[redacted]` in `Debug`,
//! have no `Display`, and are not `Clone`.
//!
//! ```
//! use pushseal::{DeviceSecretKey, DevicePublicKey};
//!
//! let device = DeviceSecretKey::generate()?;
//! let text = device.public_key().to_base64();
//! assert_eq!(text.len(), 43);
//! let parsed: DevicePublicKey = text.parse()?;
//! assert_eq!(parsed.key_id(), device.key_id());
//! # Ok::<(), pushseal::Error>(())
//! ```

use core::fmt;
use core::marker::PhantomData;
use core::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use x25519_dalek::{PublicKey as XPublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::encoding::{decode_base64_exact, encode_base64, hex_text_form};
use crate::error::{Error, Result};

/// Length of an X25519 key, public or secret.
pub const KEY_LEN: usize = 32;
/// Length of a [`KeyId`].
pub const KEY_ID_LEN: usize = 8;
/// Domain separation label of the key id hash.
const KEY_ID_LABEL: &[u8] = b"pushseal-v1 key id";
/// The prefix of a secret key's text form.
pub const SECRET_KEY_PREFIX: &str = "pushseal-secret-key-v1:";

/// The white space a key text may have around it, and nothing else: space,
/// tab, line feed and carriage return (SPEC.md section 3.1). Other characters
/// Unicode calls white space (a no-break space, a vertical tab, a form feed)
/// make the text invalid. The one rule for every text a user pastes: key
/// texts, token keys, receipts and audit anchors are all read with it.
pub const KEY_TEXT_WHITE_SPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// `text` without leading and trailing space, tab, line feed and carriage
/// return, and nothing else (SPEC.md section 3.1): how every pasted text (a
/// key, a token key, a receipt, an audit anchor) is trimmed.
pub fn trim_key_text(text: &str) -> &str {
    text.trim_matches(KEY_TEXT_WHITE_SPACE)
}

/// The short public name of a key: `SHA-256("pushseal-v1 key id" || public_key)[0..8]`.
///
/// Its text form is 16 lowercase hex digits. Key ids let a device pick the
/// right key and a sender be recognised without trying every key; they are
/// not secret and prove nothing on their own (the HPKE tag does).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl KeyId {
    /// The key id of a raw X25519 public key.
    pub fn of(public_key: &[u8; KEY_LEN]) -> Self {
        let digest = Sha256::new().chain_update(KEY_ID_LABEL).chain_update(public_key).finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        Self(id)
    }

    /// A key id from its 8 bytes (as found in an envelope header).
    pub const fn from_bytes(bytes: [u8; KEY_ID_LEN]) -> Self {
        Self(bytes)
    }

    /// The 8 bytes of the key id.
    pub const fn to_bytes(self) -> [u8; KEY_ID_LEN] {
        self.0
    }
}

hex_text_form!(KeyId, KEY_ID_LEN, "a key id: 16 lowercase hex digits");

/// The role a key plays: [`role::Device`] or [`role::Sender`].
pub trait Role: role::Sealed + 'static {
    /// The role's name in messages: "device" or "sender".
    const NAME: &'static str;
}

/// The two key roles.
pub mod role {
    /// A device's key: notifications are sealed *to* it.
    #[derive(Debug)]
    pub enum Device {}
    /// A sender's key: notifications are sealed *by* it (HPKE mode auth).
    #[derive(Debug)]
    pub enum Sender {}

    /// Keeps the set of roles closed.
    pub trait Sealed {}
    impl Sealed for Device {}
    impl Sealed for Sender {}
    impl super::Role for Device {
        const NAME: &'static str = "device";
    }
    impl super::Role for Sender {
        const NAME: &'static str = "sender";
    }
}

/// An X25519 public key in a role. Its text form is 43 characters of
/// base64url without padding.
pub struct PublicKey<R: Role> {
    key: XPublicKey,
    id: KeyId,
    role: PhantomData<R>,
}

/// A device's public key: what the device registers with the sender.
pub type DevicePublicKey = PublicKey<role::Device>;
/// A sender's public key: what a device trusts.
pub type SenderPublicKey = PublicKey<role::Sender>;

impl<R: Role> PublicKey<R> {
    /// A public key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self { key: XPublicKey::from(bytes), id: KeyId::of(&bytes), role: PhantomData }
    }

    /// A public key from a byte slice, which must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let bytes: [u8; KEY_LEN] =
            bytes.try_into().map_err(|_| Error::InvalidKeyLength { expected: KEY_LEN, found: bytes.len() })?;
        Ok(Self::from_bytes(bytes))
    }

    /// The 32 bytes of the key.
    pub fn to_bytes(self) -> [u8; KEY_LEN] {
        self.key.to_bytes()
    }

    /// The 32 bytes of the key, borrowed.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        self.key.as_bytes()
    }

    /// The key's text form: base64url without padding, 43 characters.
    pub fn to_base64(self) -> String {
        encode_base64(self.key.as_bytes())
    }

    /// The key's [`KeyId`].
    pub fn key_id(&self) -> KeyId {
        self.id
    }

    pub(crate) fn x25519(&self) -> &XPublicKey {
        &self.key
    }
}

impl<R: Role> Clone for PublicKey<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R: Role> Copy for PublicKey<R> {}
impl<R: Role> PartialEq for PublicKey<R> {
    fn eq(&self, other: &Self) -> bool {
        self.key.as_bytes() == other.key.as_bytes()
    }
}
impl<R: Role> Eq for PublicKey<R> {}

impl<R: Role> fmt::Debug for PublicKey<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey<{}>({}, id {})", R::NAME, self.to_base64(), self.id)
    }
}

impl<R: Role> fmt::Display for PublicKey<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl<R: Role> FromStr for PublicKey<R> {
    type Err = Error;

    /// Parses the text form: exactly 43 characters of canonical base64url
    /// without padding, with any [`KEY_TEXT_WHITE_SPACE`] around them.
    fn from_str(s: &str) -> Result<Self> {
        decode_base64_exact::<KEY_LEN>(trim_key_text(s), "a public key is 43 characters of base64url without padding")
            .map(Self::from_bytes)
    }
}

/// An X25519 secret key in a role, kept with its public key.
///
/// Zeroized on drop; never printed; not `Clone` (move it, or export it on
/// purpose with [`SecretKey::to_secret_text`]).
pub struct SecretKey<R: Role> {
    secret: StaticSecret,
    public: PublicKey<R>,
}

/// A device's secret key: it never leaves the device.
pub type DeviceSecretKey = SecretKey<role::Device>;
/// A sender's secret key: it stays on the sender's servers.
pub type SenderSecretKey = SecretKey<role::Sender>;

impl<R: Role> SecretKey<R> {
    /// A new key from the operating system's random number generator.
    pub fn generate() -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::fill(bytes.as_mut()).map_err(|_| Error::Randomness)?;
        Ok(Self::from_bytes(*bytes))
    }

    /// A secret key from its 32 bytes. Any 32 bytes are a valid X25519 key.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let secret = StaticSecret::from(bytes);
        let public = PublicKey::from_bytes(XPublicKey::from(&secret).to_bytes());
        Self { secret, public }
    }

    /// A secret key from a byte slice, which must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let bytes: Zeroizing<[u8; KEY_LEN]> = Zeroizing::new(
            bytes.try_into().map_err(|_| Error::InvalidKeyLength { expected: KEY_LEN, found: bytes.len() })?,
        );
        Ok(Self::from_bytes(*bytes))
    }

    /// The 32 secret bytes, in a buffer that zeroizes itself on drop.
    pub fn to_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// The secret key's text form, `pushseal-secret-key-v1:` followed by 43
    /// characters of base64url: what `pushseal keygen` writes to a key file.
    pub fn to_secret_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(SECRET_KEY_PREFIX.len() + 43));
        text.push_str(SECRET_KEY_PREFIX);
        URL_SAFE_NO_PAD.encode_string(self.secret.as_bytes(), &mut text);
        text
    }

    /// Parses the text form written by [`SecretKey::to_secret_text`];
    /// surrounding [`KEY_TEXT_WHITE_SPACE`] is ignored.
    pub fn from_secret_text(text: &str) -> Result<Self> {
        let body = trim_key_text(text)
            .strip_prefix(SECRET_KEY_PREFIX)
            .ok_or(Error::InvalidEncoding("a secret key starts with \"pushseal-secret-key-v1:\""))?;
        let bytes = Zeroizing::new(decode_base64_exact::<KEY_LEN>(
            body,
            "a secret key is 43 characters of base64url after its prefix",
        )?);
        Ok(Self::from_bytes(*bytes))
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey<R> {
        self.public
    }

    /// The [`KeyId`] of the matching public key.
    pub fn key_id(&self) -> KeyId {
        self.public.id
    }

    pub(crate) fn x25519(&self) -> &StaticSecret {
        &self.secret
    }
}

impl<R: Role> fmt::Debug for SecretKey<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey<{}>([redacted], id {})", R::NAME, self.public.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_key_text_round_trips_and_is_43_chars() {
        let sk = DeviceSecretKey::generate().unwrap();
        let text = sk.public_key().to_base64();
        assert_eq!(text.len(), 43);
        let pk: DevicePublicKey = text.parse().unwrap();
        assert_eq!(pk, sk.public_key());
        assert_eq!(pk.key_id(), sk.key_id());
    }

    #[test]
    fn non_canonical_base64_is_rejected() {
        let pk = DevicePublicKey::from_bytes([0x42; 32]);
        let text = pk.to_base64();
        // The last character carries 2 unused bits; setting one is non-canonical.
        let last = text.as_bytes()[42];
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet.iter().position(|&c| c == last).unwrap();
        let mut bad = text.clone().into_bytes();
        bad[42] = alphabet[idx ^ 1];
        let bad = String::from_utf8(bad).unwrap();
        assert_eq!(bad.parse::<DevicePublicKey>().unwrap_err().kind(), crate::ErrorKind::InvalidEncoding);
        for bad in [format!("{text}="), text.replace('-', "+"), text[..42].to_string(), String::new()] {
            if bad != text {
                assert!(bad.parse::<DevicePublicKey>().is_err(), "{bad}");
            }
        }
    }

    #[test]
    fn wrong_length_is_a_typed_error() {
        assert_eq!(
            DevicePublicKey::from_slice(&[1; 31]).unwrap_err(),
            Error::InvalidKeyLength { expected: 32, found: 31 }
        );
        assert_eq!(SenderSecretKey::from_slice(&[1; 33]).unwrap_err().kind(), crate::ErrorKind::InvalidKeyLength);
    }

    #[test]
    fn only_ascii_space_tab_lf_and_cr_are_trimmed() {
        let sk = SenderSecretKey::from_bytes([7; 32]);
        let (public, secret) = (sk.public_key().to_base64(), sk.to_secret_text());
        for ws in [" ", "\t", "\n", "\r\n", " \t\r\n "] {
            assert_eq!(format!("{ws}{public}{ws}").parse::<SenderPublicKey>().unwrap(), sk.public_key());
            let back = SenderSecretKey::from_secret_text(&format!("{ws}{}{ws}", secret.as_str())).unwrap();
            assert_eq!(back.public_key(), sk.public_key());
        }
        // No-break space, vertical tab, form feed, next line, the byte order mark, ideographic space.
        for ws in ["\u{a0}", "\u{b}", "\u{c}", "\u{85}", "\u{feff}", "\u{3000}"] {
            for text in [format!("{public}{ws}"), format!("{ws}{public}")] {
                assert_eq!(text.parse::<SenderPublicKey>().unwrap_err().kind(), crate::ErrorKind::InvalidEncoding);
            }
            let text = format!("{}{ws}", secret.as_str());
            assert_eq!(SenderSecretKey::from_secret_text(&text).unwrap_err().kind(), crate::ErrorKind::InvalidEncoding);
        }
    }

    #[test]
    fn key_text_of_any_wrong_length_is_invalid_encoding_not_invalid_key_length() {
        // 44 characters of canonical base64url decode to 33 bytes, 42 to 31:
        // both are text of the wrong form (SPEC.md section 9).
        use base64::Engine as _;
        let encode = |n: usize| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(vec![0x42; n]);
        for n in [0, 31, 33, 48] {
            let text = encode(n);
            assert_eq!(text.parse::<DevicePublicKey>().unwrap_err().kind(), crate::ErrorKind::InvalidEncoding, "{n}");
            let secret = format!("{SECRET_KEY_PREFIX}{text}");
            assert_eq!(
                DeviceSecretKey::from_secret_text(&secret).unwrap_err().kind(),
                crate::ErrorKind::InvalidEncoding
            );
        }
    }

    #[test]
    fn key_id_is_the_documented_hash() {
        // SHA-256("pushseal-v1 key id" || 32 x 0x00)[0..8], computed independently.
        let id = KeyId::of(&[0u8; 32]);
        let expected = Sha256::digest([KEY_ID_LABEL, &[0u8; 32][..]].concat());
        assert_eq!(id.to_bytes(), expected[..8]);
        assert_eq!(id.to_string().len(), 16);
        assert_eq!(id.to_string().parse::<KeyId>().unwrap(), id);
        assert!("ABCDEF0123456789".parse::<KeyId>().is_err());
    }

    #[test]
    fn secret_text_round_trips_and_debug_redacts() {
        let sk = SenderSecretKey::generate().unwrap();
        let text = sk.to_secret_text();
        let back = SenderSecretKey::from_secret_text(&format!("{}\n", text.as_str())).unwrap();
        assert_eq!(back.public_key(), sk.public_key());
        let debug = format!("{sk:?}");
        assert!(debug.contains("[redacted]"));
        assert!(!debug.contains(&text[SECRET_KEY_PREFIX.len()..]));
        assert!(SenderSecretKey::from_secret_text("nope").is_err());
    }
}
