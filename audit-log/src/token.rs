//! The token policy: a `sealed` record holds a device's push token only as
//! `HMAC-SHA256(token key, token)` (SPEC.md section 10.2), and only when the
//! operator gave a [`TokenKey`]; without one, no token is recorded at all.
//! Never in clear.

use std::fmt;
use std::path::{Path, PathBuf};

use pushseal::Error;
use zeroize::Zeroizing;

use crate::record::{Hash256, TOKEN_KEY_LEN, hmac_sha256};

/// The most a token key file is read. Its text is 43 characters.
const TOKEN_KEY_FILE_LIMIT: u64 = 4096;

/// How to make a token key, for the messages that ask for one.
const MAKE_ONE: &str = "make one with: head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\\n' > token.key";

/// The operator's key for recording push tokens: 32 random bytes kept apart
/// from the log. Whoever has it can tell which records belong to a token
/// they know; without it, the token hashes reveal nothing. Its text form (a
/// token key file) is the 43 characters of base64url (no padding) of the
/// bytes. Wiped on drop; `Debug` shows nothing of it.
pub struct TokenKey(Zeroizing<[u8; TOKEN_KEY_LEN]>);

impl TokenKey {
    /// A token key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TokenKeyError> {
        let key: [u8; TOKEN_KEY_LEN] = bytes.try_into().map_err(|_| TokenKeyError::Length { found: bytes.len() })?;
        Ok(Self(Zeroizing::new(key)))
    }

    /// A token key from its text form: 43 characters of canonical base64url
    /// without padding, with only space, tab, line feed and carriage return
    /// around them.
    pub fn from_text(text: &str) -> Result<Self, TokenKeyError> {
        // SPEC.md section 3.1, as for a key: the rule of every pasted text.
        decode_base64url(pushseal::trim_pasted_text(text)).map(Self).ok_or(TokenKeyError::Encoding)
    }

    /// Reads a token key file (its text form; see [`TokenKey::from_text`]).
    pub fn read_file(path: impl AsRef<Path>) -> Result<Self, TokenKeyError> {
        use std::io::Read as _;
        let path = path.as_ref();
        let unreadable =
            |e: std::io::Error| TokenKeyError::Unreadable { path: path.to_path_buf(), reason: e.to_string() };
        let mut bytes = Zeroizing::new(Vec::with_capacity(64));
        std::fs::File::open(path)
            .and_then(|file| file.take(TOKEN_KEY_FILE_LIMIT).read_to_end(&mut bytes))
            .map_err(unreadable)?;
        Self::from_text(std::str::from_utf8(&bytes).map_err(|_| TokenKeyError::Encoding)?)
    }

    /// `HMAC-SHA256(key, token)`: what a `sealed` record holds for `token`.
    pub fn hmac(&self, token: &str) -> Hash256 {
        hmac_sha256(self.0.as_ref(), token.as_bytes())
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey([redacted])")
    }
}

/// Why a token key cannot be used. Each message says what a token key is
/// and how to make one; none quotes the key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenKeyError {
    /// The key is not 32 bytes.
    Length {
        /// How many bytes it has.
        found: usize,
    },
    /// The key text is not 43 characters of canonical base64url (white space
    /// around them aside).
    Encoding,
    /// The key file cannot be read.
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why, as the system says it.
        reason: String,
    },
}

impl fmt::Display for TokenKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length { found } => {
                write!(f, "a token key is {TOKEN_KEY_LEN} random bytes, not {found}; {MAKE_ONE}")
            }
            Self::Encoding => write!(
                f,
                "a token key is 43 characters of base64url (32 bytes, no padding), with only space, tab or line \
                 endings around them; {MAKE_ONE}"
            ),
            Self::Unreadable { path, reason } => write!(f, "cannot read token key file {}: {reason}", path.display()),
        }
    }
}

impl std::error::Error for TokenKeyError {}

/// The core's error kinds, for callers that report those: a wrong length is
/// [`Error::InvalidKeyLength`], a wrong text [`Error::InvalidEncoding`], an
/// unreadable file [`Error::Storage`].
impl From<TokenKeyError> for Error {
    fn from(e: TokenKeyError) -> Self {
        match e {
            TokenKeyError::Length { found } => Error::InvalidKeyLength { expected: TOKEN_KEY_LEN, found },
            TokenKeyError::Encoding => {
                Error::InvalidEncoding("a token key is 43 characters of base64url (32 bytes, no padding)")
            }
            TokenKeyError::Unreadable { .. } => Error::Storage(e.to_string()),
        }
    }
}

/// The 32 bytes of 43 characters of canonical base64url (RFC 4648 section 5,
/// no padding): the last character's 2 bits beyond the bytes must be zero.
fn decode_base64url(text: &str) -> Option<Zeroizing<[u8; TOKEN_KEY_LEN]>> {
    if text.len() != (TOKEN_KEY_LEN * 4).div_ceil(3) {
        return None;
    }
    let mut out = Zeroizing::new([0u8; TOKEN_KEY_LEN]);
    let (mut acc, mut bits, mut n) = (0u32, 0u32, 0usize);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = acc << 6 | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            n += 1;
            acc &= (1 << bits) - 1;
        }
    }
    (n == TOKEN_KEY_LEN && acc == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_text_is_canonical_base64url_with_key_white_space_around() {
        // SPEC.md section 10.2's example key: 31 bytes 00, then 01.
        let mut bytes = [0u8; 32];
        bytes[31] = 1;
        let text = "A".repeat(42) + "E";
        let key = TokenKey::from_text(&format!(" \t{text}\r\n")).unwrap();
        assert_eq!(key.hmac("t"), TokenKey::from_bytes(&bytes).unwrap().hmac("t"));
        let all = "_".repeat(42) + "8";
        assert_eq!(TokenKey::from_text(&all).unwrap().hmac("t"), TokenKey::from_bytes(&[0xff; 32]).unwrap().hmac("t"));
        for bad in [
            "A".repeat(42) + "B",
            "A".repeat(42) + "E=",
            "A".repeat(42),
            "A".repeat(43) + "A",
            "A".repeat(42) + "+",
            format!("{text}\u{a0}"),
            format!("\u{b}{text}"),
        ] {
            assert_eq!(TokenKey::from_text(&bad).unwrap_err(), TokenKeyError::Encoding, "{bad:?}");
        }
    }

    #[test]
    fn errors_say_what_a_token_key_is_and_never_show_it() {
        let e = TokenKey::from_bytes(&[7; 31]).unwrap_err();
        assert_eq!(e, TokenKeyError::Length { found: 31 });
        assert!(e.to_string().contains("32 random bytes, not 31; make one with"), "{e}");
        assert_eq!(Error::from(e).kind(), pushseal::ErrorKind::InvalidKeyLength);
        let e = TokenKey::from_text("not a key").unwrap_err();
        assert!(e.to_string().starts_with("a token key is 43 characters of base64url"), "{e}");
        assert_eq!(Error::from(e).kind(), pushseal::ErrorKind::InvalidEncoding);
        let e = TokenKey::read_file("/nonexistent/token.key").unwrap_err();
        assert!(e.to_string().starts_with("cannot read token key file /nonexistent/token.key: "), "{e}");
        assert_eq!(Error::from(e).kind(), pushseal::ErrorKind::Storage);
        let key = TokenKey::from_bytes(&[0x41; 32]).unwrap();
        assert_eq!(format!("{key:?}"), "TokenKey([redacted])");
    }
}
