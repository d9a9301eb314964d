//! The sealed envelope, version 1: the bytes a push carries.
//!
//! Its layout (a 49-byte header: version, recipient key id, sender key id,
//! `enc`; then the ciphertext and tag), the HPKE mode auth call that seals it
//! and the text form are SPEC.md section 4. [`Envelope::parse`] reads the
//! layout and `open_in_place` is the one way an envelope is opened.

use x25519_dalek::PublicKey as XPublicKey;

use crate::error::{Error, Result};
use crate::hpke::{self, AuthKey, Ephemeral, Mode, N_KEY, N_T};
use crate::keys::{DevicePublicKey, DeviceSecretKey, KEY_ID_LEN, KeyId, SenderPublicKey, SenderSecretKey};

/// The envelope format this library writes and reads.
pub const VERSION: u8 = 1;
/// The HPKE `info` string of envelope version 1.
pub const INFO: &[u8] = b"pushseal envelope v1";
/// Bytes before the ciphertext: version, two key ids and `enc`.
pub const HEADER_LEN: usize = 1 + 2 * KEY_ID_LEN + N_KEY;
/// The smallest possible envelope: a header and an empty plaintext's tag.
pub const MIN_LEN: usize = HEADER_LEN + N_T;
/// The largest envelope a device opens: a header, the largest padding bucket
/// and a tag (2113 bytes), the largest a sender makes (SPEC.md §4).
pub const MAX_LEN: usize = HEADER_LEN + crate::padding::BUCKETS[crate::padding::BUCKETS.len() - 1] + N_T;
/// The length of [`MAX_LEN`] bytes in base64url without padding (2818
/// characters): a longer envelope text is refused before it is decoded.
pub const MAX_TEXT_LEN: usize = (MAX_LEN * 4).div_ceil(3);

/// The public header of an envelope: what anyone who sees the envelope can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeHeader {
    /// The format version (1).
    pub version: u8,
    /// The key id of the device key the envelope is sealed to.
    pub recipient: KeyId,
    /// The key id of the sender key the envelope is sealed by.
    pub sender: KeyId,
    /// The HPKE `enc` value.
    pub enc: [u8; N_KEY],
}

/// A parsed envelope borrowing its bytes: the header and the ciphertext.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    header: EnvelopeHeader,
    bytes: &'a [u8],
}

impl<'a> Envelope<'a> {
    /// Parses the byte layout. Rejects, in this order: an empty input, an
    /// unknown version, a header cut short, a ciphertext shorter than its tag.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let Some((&version, rest)) = bytes.split_first() else {
            return Err(Error::Truncated { what: "envelope version", needed: 1, found: 0 });
        };
        if version != VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let header = EnvelopeHeader {
            version,
            recipient: KeyId::from_bytes(take(bytes, 1, "recipient key id")?),
            sender: KeyId::from_bytes(take(bytes, 1 + KEY_ID_LEN, "sender key id")?),
            enc: take(bytes, 1 + 2 * KEY_ID_LEN, "enc")?,
        };
        if rest.len() + 1 < MIN_LEN {
            return Err(Error::Truncated { what: "ciphertext tag", needed: MIN_LEN, found: bytes.len() });
        }
        Ok(Self { header, bytes })
    }

    /// The public header.
    pub fn header(&self) -> &EnvelopeHeader {
        &self.header
    }

    /// The header bytes: the AEAD's associated data.
    #[cfg(feature = "test-vectors")]
    pub fn header_bytes(&self) -> &'a [u8] {
        &self.bytes[..HEADER_LEN]
    }

    /// The ciphertext with its tag.
    pub fn ciphertext(&self) -> &'a [u8] {
        &self.bytes[HEADER_LEN..]
    }

    /// The length of the padded plaintext inside.
    pub fn plaintext_len(&self) -> usize {
        self.ciphertext().len() - N_T
    }

    /// Opens a copy of the envelope with the device key and the sender key
    /// it names (HPKE `OpenAuth`), returning the padded plaintext: the one
    /// open path, `open_in_place`, on a buffer of its own.
    #[cfg(feature = "test-vectors")]
    pub fn open(&self, device: &DeviceSecretKey, sender: &SenderPublicKey) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let mut buf = zeroize::Zeroizing::new(self.bytes.to_vec());
        let len = open_in_place(&mut buf, &self.header, device, sender)?.0.len();
        buf.drain(..HEADER_LEN);
        buf.truncate(len);
        Ok(buf)
    }
}

/// Opens an envelope where it is, with the device key and the sender key its
/// header names (the caller picks them by the header's key ids; this checks
/// that they match before any cryptography): `OpenAuth`, decrypting the
/// ciphertext in place. Returns the padded plaintext (a part of `bytes`) and
/// the receiver's HPKE context (for the receipt's exporter). `header` is what
/// [`Envelope::parse`] read from `bytes`, so the envelope is parsed once.
/// `bytes` then holds plaintext: the caller zeroizes it.
pub(crate) fn open_in_place<'b>(
    bytes: &'b mut [u8],
    header: &EnvelopeHeader,
    device: &DeviceSecretKey,
    sender: &SenderPublicKey,
) -> Result<(&'b [u8], hpke::Context)> {
    if device.key_id() != header.recipient {
        return Err(Error::UnknownRecipientKey(header.recipient));
    }
    if sender.key_id() != header.sender {
        return Err(Error::UntrustedSender(header.sender));
    }
    let mut ctx = open_context(header, device, sender)?;
    if bytes.len() < MIN_LEN {
        return Err(Error::Truncated { what: "ciphertext tag", needed: MIN_LEN, found: bytes.len() });
    }
    let (aad, ciphertext) = bytes.split_at_mut(HEADER_LEN);
    let plaintext = ctx.open_in_place(aad, ciphertext)?;
    Ok((plaintext, ctx))
}

/// The `N` bytes at `start`, or the truncation error naming `what`.
fn take<const N: usize>(bytes: &[u8], start: usize, what: &'static str) -> Result<[u8; N]> {
    bytes.get(start..start + N).and_then(|s| s.try_into().ok()).ok_or(Error::Truncated {
        what,
        needed: start + N,
        found: bytes.len(),
    })
}

/// The HPKE receiver context of an envelope: `SetupAuthR(enc, skR, info, pkS)`.
fn open_context(header: &EnvelopeHeader, device: &DeviceSecretKey, sender: &SenderPublicKey) -> Result<hpke::Context> {
    let pk_r = device.public_key();
    let shared = hpke::decap(&header.enc, device.x25519(), pk_r.x25519(), Some(sender.x25519()))?;
    hpke::key_schedule_with(key_schedule_context(), shared.as_ref(), b"")
}

/// The key schedule context of mode auth with [`INFO`]: computed once.
fn key_schedule_context() -> &'static hpke::KeyScheduleContext {
    static CONTEXT: std::sync::OnceLock<hpke::KeyScheduleContext> = std::sync::OnceLock::new();
    CONTEXT.get_or_init(|| hpke::KeyScheduleContext::new(Mode::Auth, INFO, b""))
}

/// The header of an envelope from `sender` to `device` with `enc`.
fn header(device: &DevicePublicKey, sender: KeyId, enc: &[u8; N_KEY]) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[0] = VERSION;
    header[1..1 + KEY_ID_LEN].copy_from_slice(&device.key_id().to_bytes());
    header[1 + KEY_ID_LEN..1 + 2 * KEY_ID_LEN].copy_from_slice(&sender.to_bytes());
    header[1 + 2 * KEY_ID_LEN..].copy_from_slice(enc);
    header
}

/// The DH value `DH(skS, pkR)` between a sender and a device, when the sender
/// has it from a cache; `None` (or a value for another device) computes it.
pub(crate) type StaticDh<'a> = Option<&'a hpke::StaticDh>;

/// Seals a padded plaintext from `sender` to `device`: `SealAuth(pkR, info,
/// aad, pt, skS)` with a fresh ephemeral key. One allocation, encrypted in place.
#[cfg(feature = "test-vectors")]
pub fn seal(sender: &SenderSecretKey, device: &DevicePublicKey, padded_plaintext: &[u8]) -> Result<Vec<u8>> {
    seal_with(sender, device, padded_plaintext, &Ephemeral::generate()?, None).map(|(env, _)| env)
}

/// [`seal`] with the ephemeral key and the static DH given; returns the
/// envelope and the sender's HPKE context (for the secret exporter).
#[cfg(feature = "test-vectors")]
pub(crate) fn seal_with(
    sender: &SenderSecretKey,
    device: &DevicePublicKey,
    padded_plaintext: &[u8],
    eph: &Ephemeral,
    static_dh: StaticDh<'_>,
) -> Result<(Vec<u8>, hpke::Context)> {
    let mut out = Vec::with_capacity(HEADER_LEN + padded_plaintext.len() + N_T);
    out.resize(HEADER_LEN, 0);
    out.extend_from_slice(padded_plaintext);
    let ctx = seal_in_place(sender, device, &mut out, eph, static_dh)?;
    Ok((out, ctx))
}

/// [`seal_with`] on a buffer that holds `HEADER_LEN` bytes of room for the
/// header, then the padded plaintext: writes the header, encrypts the rest in
/// place and appends the tag, so that the buffer becomes the envelope. A
/// buffer with capacity for the tag (16 bytes) is never reallocated.
pub(crate) fn seal_in_place(
    sender: &SenderSecretKey,
    device: &DevicePublicKey,
    buf: &mut Vec<u8>,
    eph: &Ephemeral,
    static_dh: StaticDh<'_>,
) -> Result<hpke::Context> {
    let pk_r: &XPublicKey = device.x25519();
    let pk_s = sender.public_key();
    let shared = match static_dh.filter(|cached| cached.recipient() == device.as_bytes()) {
        Some(cached) => hpke::encap_with_cached(eph, cached, pk_s.x25519())?.0,
        None => hpke::encap(eph, pk_r, Some(AuthKey { sk: sender.x25519(), pk: pk_s.x25519() }))?.0,
    };
    let mut ctx = hpke::key_schedule_with(key_schedule_context(), shared.as_ref(), b"")?;
    let header = header(device, sender.key_id(), &eph.enc());
    buf.get_mut(..HEADER_LEN)
        .expect("both callers put HEADER_LEN bytes of room for the header first")
        .copy_from_slice(&header);
    ctx.seal_in_place(&header, buf, HEADER_LEN)?;
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> (SenderSecretKey, DeviceSecretKey) {
        (SenderSecretKey::from_bytes([1; 32]), DeviceSecretKey::from_bytes([2; 32]))
    }

    #[test]
    fn seal_then_open_round_trips() {
        let (s, d) = keys();
        let env = seal(&s, &d.public_key(), b"hello").unwrap();
        assert_eq!(env.len(), HEADER_LEN + 5 + N_T);
        let parsed = Envelope::parse(&env).unwrap();
        assert_eq!(parsed.header().recipient, d.key_id());
        assert_eq!(parsed.header().sender, s.key_id());
        assert_eq!(parsed.open(&d, &s.public_key()).unwrap().as_slice(), b"hello");
    }

    #[test]
    fn every_truncation_and_bit_flip_is_rejected() {
        let (s, d) = keys();
        let env = seal(&s, &d.public_key(), b"hello").unwrap();
        for len in 0..env.len() {
            let r = Envelope::parse(&env[..len]).and_then(|e| e.open(&d, &s.public_key()));
            assert!(r.is_err(), "truncated to {len}");
        }
        for i in 0..env.len() * 8 {
            let mut bad = env.clone();
            bad[i / 8] ^= 1 << (i % 8);
            let r = Envelope::parse(&bad).and_then(|e| e.open(&d, &s.public_key()));
            assert!(r.is_err(), "bit {i}");
        }
    }

    #[test]
    fn wrong_version_and_wrong_keys_are_typed() {
        let (s, d) = keys();
        let mut env = seal(&s, &d.public_key(), b"x").unwrap();
        let other = DeviceSecretKey::from_bytes([3; 32]);
        let e = Envelope::parse(&env).unwrap();
        assert_eq!(e.open(&other, &s.public_key()).unwrap_err().kind(), crate::ErrorKind::UnknownRecipientKey);
        let forger = SenderSecretKey::from_bytes([4; 32]);
        assert_eq!(e.open(&d, &forger.public_key()).unwrap_err().kind(), crate::ErrorKind::UntrustedSender);
        env[0] = 2;
        assert_eq!(Envelope::parse(&env).unwrap_err(), Error::UnsupportedVersion(2));
    }

    #[test]
    fn low_order_enc_gives_zero_shared_secret() {
        let (s, d) = keys();
        let mut env = seal(&s, &d.public_key(), b"x").unwrap();
        env[17..49].copy_from_slice(&[0u8; 32]);
        let e = Envelope::parse(&env).unwrap();
        assert_eq!(e.open(&d, &s.public_key()).unwrap_err(), Error::ZeroSharedSecret);
    }
}
