//! Secrets at the FFI boundary: bytes and text that wipe themselves.
//!
//! The foreign languages see plain types (`SecretBytes` is Swift `Data`,
//! Kotlin `ByteArray`, Python `bytes`; `SecretText` is a string), but on the
//! Rust side every copy is zeroized before it is freed:
//!
//! - Handing a secret out, the value is written once into the buffer UniFFI
//!   passes to the foreign side (sized exactly, so it never grows and leaves
//!   no partial copy behind), and the Rust original is wiped. The foreign side
//!   copies that transfer buffer into its own type and frees it with UniFFI's
//!   generated free, which does not wipe it: that one buffer is the copy
//!   SECURITY.md lists.
//! - Taking a secret in, the transfer buffer the foreign side filled is read
//!   into a wiping buffer and then wiped itself before it is freed. That holds
//!   for secret bytes that may be absent too ([`MaybeSecretBytes`]: what a
//!   `KeyStorage` loads), which UniFFI's own `Option` would read and free
//!   unwiped.

use uniffi::{MetadataBuffer, RustBuffer};
use zeroize::{Zeroize, Zeroizing};

/// Secret bytes (a serialized keyring): Swift `Data`, Kotlin `ByteArray`,
/// Python `bytes`. Zeroized when dropped.
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Wraps bytes that already wipe themselves.
    pub fn new(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }

    /// A wiping copy of `bytes`.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(Zeroizing::new(bytes.to_vec()))
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, still wiping themselves.
    pub fn into_zeroizing(self) -> Zeroizing<Vec<u8>> {
        self.0
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBytes([redacted, {} bytes])", self.0.len())
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }
}

// SAFETY: the wire form is exactly `Vec<u8>`'s (an i32 big-endian length, then
// the bytes, in a `RustBuffer`), and so is the type metadata: the foreign code
// UniFFI generates for `Vec<u8>` reads and writes it unchanged.
unsafe impl uniffi::FfiConverter<crate::UniFfiTag> for SecretBytes {
    type FfiType = RustBuffer;

    fn lower(obj: Self) -> RustBuffer {
        let mut buf = Vec::with_capacity(4 + obj.0.len());
        Self::write(obj, &mut buf);
        RustBuffer::from_vec(buf)
    }

    fn try_lift(v: RustBuffer) -> uniffi::Result<Self> {
        lift_wiping(v, Self::try_read)
    }

    fn write(obj: Self, buf: &mut Vec<u8>) {
        // UniFFI limits sequences to i32::MAX items; no secret comes near it.
        let len = i32::try_from(obj.0.len()).unwrap_or(i32::MAX);
        buf.reserve(4 + obj.0.len());
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(&obj.0);
    }

    fn try_read(buf: &mut &[u8]) -> uniffi::Result<Self> {
        let (len, rest) = buf.split_first_chunk::<4>().ok_or_else(|| short("length"))?;
        let len = usize::try_from(i32::from_be_bytes(*len))?;
        let bytes = rest.get(..len).ok_or_else(|| short("bytes"))?;
        let out = Zeroizing::new(bytes.to_vec());
        *buf = &rest[len..];
        Ok(Self(out))
    }

    const TYPE_ID_META: MetadataBuffer = <Vec<u8> as uniffi::TypeId<crate::UniFfiTag>>::TYPE_ID_META;
}

uniffi::derive_ffi_traits!(local SecretBytes);

/// Reads a secret with `read` from the transfer buffer the foreign side
/// filled, then wipes that buffer before it is freed.
fn lift_wiping<T>(v: RustBuffer, read: fn(&mut &[u8]) -> uniffi::Result<T>) -> uniffi::Result<T> {
    let mut transfer = v.destroy_into_vec();
    let mut rest = transfer.as_slice();
    let lifted = read(&mut rest);
    let trailing = rest.len();
    transfer.zeroize();
    match lifted {
        Ok(_) if trailing != 0 => Err(uniffi::deps::anyhow::anyhow!("junk after the bytes of a secret")),
        other => other,
    }
}

fn short(what: &str) -> uniffi::deps::anyhow::Error {
    uniffi::deps::anyhow::anyhow!("a SecretBytes buffer ends before its {what}")
}

/// Secret bytes that may be absent (what a `KeyStorage` loads, an optional
/// key): Swift `Data?`, Kotlin `ByteArray?`, Python `bytes | None`. Crosses
/// as `Option<Vec<u8>>` does, and wipes its transfer buffer like
/// [`SecretBytes`].
#[derive(Debug, Default)]
pub struct MaybeSecretBytes(pub Option<SecretBytes>);

impl From<Option<SecretBytes>> for MaybeSecretBytes {
    fn from(bytes: Option<SecretBytes>) -> Self {
        Self(bytes)
    }
}

// SAFETY: the wire form is exactly `Option<Vec<u8>>`'s (a tag byte, 0 for
// none and 1 for some, then `Vec<u8>`'s form), and so is the type metadata.
unsafe impl uniffi::FfiConverter<crate::UniFfiTag> for MaybeSecretBytes {
    type FfiType = RustBuffer;

    fn lower(obj: Self) -> RustBuffer {
        let mut buf = Vec::with_capacity(1 + 4 + obj.0.as_ref().map_or(0, |b| b.0.len()));
        Self::write(obj, &mut buf);
        RustBuffer::from_vec(buf)
    }

    fn try_lift(v: RustBuffer) -> uniffi::Result<Self> {
        lift_wiping(v, Self::try_read)
    }

    fn write(obj: Self, buf: &mut Vec<u8>) {
        match obj.0 {
            None => buf.push(0),
            Some(bytes) => {
                buf.reserve(1 + 4 + bytes.0.len());
                buf.push(1);
                <SecretBytes as uniffi::FfiConverter<crate::UniFfiTag>>::write(bytes, buf);
            }
        }
    }

    fn try_read(buf: &mut &[u8]) -> uniffi::Result<Self> {
        let (tag, rest) = buf.split_first().ok_or_else(|| short("tag"))?;
        *buf = rest;
        match tag {
            0 => Ok(Self(None)),
            1 => Ok(Self(Some(<SecretBytes as uniffi::FfiConverter<crate::UniFfiTag>>::try_read(buf)?))),
            _ => Err(uniffi::deps::anyhow::anyhow!("unexpected tag byte for a MaybeSecretBytes")),
        }
    }

    const TYPE_ID_META: MetadataBuffer = <Option<Vec<u8>> as uniffi::TypeId<crate::UniFfiTag>>::TYPE_ID_META;
}

uniffi::derive_ffi_traits!(local MaybeSecretBytes);

/// Secret text (a sender's secret key text): a string in every language.
/// Zeroized when dropped.
pub struct SecretText(Zeroizing<String>);

impl SecretText {
    /// Wraps text that already wipes itself.
    pub fn new(text: Zeroizing<String>) -> Self {
        Self(text)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText([redacted])")
    }
}

impl From<String> for SecretText {
    fn from(text: String) -> Self {
        Self(Zeroizing::new(text))
    }
}

// A `String` lowers by handing its own allocation to UniFFI, and lifts by
// taking the transfer buffer's: moving the text in and out copies nothing.
uniffi::custom_type!(SecretText, String, {
    lower: |text| std::mem::take(&mut *{ text }.0),
    try_lift: |text| Ok(SecretText::from(text)),
});

/// Secret text that may be absent (a sender's version 2 secret key text):
/// Swift `String?`, Kotlin `String?`, Python `str | None`. Crosses as
/// `Option<String>` does, written once into an exactly sized transfer
/// buffer and wiped, and wipes the transfer buffer it is read from, like
/// [`MaybeSecretBytes`] (UniFFI's own `Option` would copy the text through
/// buffers it frees unwiped).
#[derive(Debug, Default)]
pub struct MaybeSecretText(pub Option<SecretText>);

impl From<Option<SecretText>> for MaybeSecretText {
    fn from(text: Option<SecretText>) -> Self {
        Self(text)
    }
}

// SAFETY: the wire form is exactly `Option<String>`'s (a tag byte, 0 for
// none and 1 for some, then an i32 big-endian length and the UTF-8 bytes),
// and so is the type metadata.
unsafe impl uniffi::FfiConverter<crate::UniFfiTag> for MaybeSecretText {
    type FfiType = RustBuffer;

    fn lower(obj: Self) -> RustBuffer {
        let mut buf = Vec::with_capacity(1 + 4 + obj.0.as_ref().map_or(0, |t| t.0.len()));
        Self::write(obj, &mut buf);
        RustBuffer::from_vec(buf)
    }

    fn try_lift(v: RustBuffer) -> uniffi::Result<Self> {
        lift_wiping(v, Self::try_read)
    }

    fn write(obj: Self, buf: &mut Vec<u8>) {
        match obj.0 {
            None => buf.push(0),
            Some(text) => {
                // UniFFI limits strings to i32::MAX bytes; no secret comes near it.
                let len = i32::try_from(text.0.len()).unwrap_or(i32::MAX);
                buf.reserve(1 + 4 + text.0.len());
                buf.push(1);
                buf.extend_from_slice(&len.to_be_bytes());
                buf.extend_from_slice(text.0.as_bytes());
            }
        }
    }

    fn try_read(buf: &mut &[u8]) -> uniffi::Result<Self> {
        let (tag, rest) = buf.split_first().ok_or_else(|| short("tag"))?;
        *buf = rest;
        match tag {
            0 => Ok(Self(None)),
            1 => {
                let (len, rest) = buf.split_first_chunk::<4>().ok_or_else(|| short("length"))?;
                let len = usize::try_from(i32::from_be_bytes(*len))?;
                let bytes = rest.get(..len).ok_or_else(|| short("text"))?;
                let text = std::str::from_utf8(bytes)?;
                let out = SecretText(Zeroizing::new(text.to_owned()));
                *buf = &rest[len..];
                Ok(Self(Some(out)))
            }
            _ => Err(uniffi::deps::anyhow::anyhow!("unexpected tag byte for a MaybeSecretText")),
        }
    }

    const TYPE_ID_META: MetadataBuffer = <Option<String> as uniffi::TypeId<crate::UniFfiTag>>::TYPE_ID_META;
}

uniffi::derive_ffi_traits!(local MaybeSecretText);
