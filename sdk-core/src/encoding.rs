//! The two text encodings of the format (SPEC.md section 1): base64url
//! without padding, canonical only, and lowercase hex.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result};

/// Encodes bytes as base64url without padding (RFC 4648 section 5).
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes canonical base64url without padding; any other alphabet, padding
/// or non-zero trailing bits are rejected with `what` as the reason.
pub(crate) fn decode_base64(text: &str, what: &'static str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.as_bytes()).map_err(|_| Error::InvalidEncoding(what))
}

/// Decodes canonical base64url without padding into exactly `N` bytes.
pub(crate) fn decode_base64_exact<const N: usize>(text: &str, what: &'static str) -> Result<[u8; N]> {
    let mut out = [0u8; N];
    if text.len() != (N * 4).div_ceil(3) {
        return Err(Error::InvalidEncoding(what));
    }
    match URL_SAFE_NO_PAD.decode_slice(text.as_bytes(), &mut out) {
        Ok(n) if n == N => Ok(out),
        _ => Err(Error::InvalidEncoding(what)),
    }
}

/// Decodes exactly `N` bytes of lowercase hex.
pub(crate) fn decode_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
        let (hi, lo) = (pair.first().copied().and_then(nibble)?, pair.get(1).copied().and_then(nibble)?);
        *o = hi << 4 | lo;
    }
    Some(out)
}

/// Gives a public fixed-size byte string (`struct Name([u8; N])`) its text
/// form as lowercase hex: `Display`, `Debug` as `Name(hex)`, `FromStr`, and
/// serde as a hex string. `$what` names the form in errors.
macro_rules! hex_text_form {
    ($name:ident, $len:expr, $what:literal) => {
        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl core::str::FromStr for $name {
            type Err = $crate::Error;

            #[doc = concat!("Parses ", $what, ".")]
            fn from_str(s: &str) -> $crate::Result<Self> {
                $crate::encoding::decode_hex::<{ $len }>(s)
                    .map(Self)
                    .ok_or($crate::Error::InvalidEncoding(concat!("expected ", $what)))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
                let text = <&str as serde::Deserialize>::deserialize(d)?;
                text.parse().map_err(|_| <D::Error as serde::de::Error>::custom(concat!("expected ", $what)))
            }
        }
    };
}

pub(crate) use hex_text_form;
