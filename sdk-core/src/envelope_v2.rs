//! The sealed envelope, version 2: X-Wing confidentiality with an
//! Ed25519-signed sender (SPEC.md sections 12.4 and 12.5).
//!
//! ```text
//! header     = 0x02 || rid || sid || enc                    1,137 bytes
//! envelope   = header || ct || sig                          ct: padded plaintext + 16, sig: 64
//! transcript = "pushseal-v2 envelope signature" || suite_id || pkR || A || header || ct
//! ```
//!
//! [`parse`] reads the layout; `open_in_place` checks the key ids, then the
//! signature, and only then decapsulates and decrypts.

use crate::error::{Error, Result};
use crate::hpke::{self, N_T};
use crate::keys::{KEY_ID_LEN, KeyId};
use crate::keys_v2::{DevicePublicKeyV2, DeviceSecretKeyV2, SIGNATURE_LEN, SenderSigningKey, SenderVerifyingKey};
use crate::xwing::{self, ENC_LEN, Eseed};

/// The version byte of envelope version 2.
pub const VERSION: u8 = 2;
/// The HPKE `info` string of envelope version 2.
pub const INFO: &[u8] = b"pushseal envelope v2";
/// The label that starts the signed transcript.
pub const SIGNATURE_LABEL: &[u8] = b"pushseal-v2 envelope signature";
/// `suite_id` of the version 2 suite: "HPKE", KEM 0x647A, KDF 0x0001, AEAD 0x0003.
pub const SUITE_ID: &[u8] = b"HPKE\x64\x7a\x00\x01\x00\x03";
/// Bytes before the ciphertext: version, two key ids and `enc`.
pub const HEADER_LEN: usize = 1 + 2 * KEY_ID_LEN + ENC_LEN;
/// The smallest envelope: a header, an empty plaintext's tag, the signature.
pub const MIN_LEN: usize = HEADER_LEN + N_T + SIGNATURE_LEN;
/// The largest envelope a device opens (3,265 bytes): the largest padding bucket.
pub const MAX_LEN: usize = MIN_LEN + crate::padding::BUCKETS[crate::padding::BUCKETS.len() - 1];
/// The length of [`MAX_LEN`] bytes in base64url (4,354 characters): a device
/// refuses a longer envelope text before decoding it (SPEC.md section 12.6).
pub const MAX_TEXT_LEN: usize = (MAX_LEN * 4).div_ceil(3);

/// What a version 2 header says in public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The key id of the device v2 key the envelope is sealed to.
    pub recipient: KeyId,
    /// The key id of the sender v2 (Ed25519) key that signed it.
    pub sender: KeyId,
}

/// Reads a version 2 envelope's layout. Refuses, in the order of SPEC.md
/// section 12.5 (steps 1 to 4): an empty input, another version, a header
/// cut short, no room for a tag and a signature.
pub fn parse(bytes: &[u8]) -> Result<Header> {
    let Some(&version) = bytes.first() else {
        return Err(Error::Truncated { what: "envelope version", needed: 1, found: 0 });
    };
    if version != VERSION {
        return Err(Error::UnsupportedVersion(version));
    }
    if bytes.len() < HEADER_LEN {
        return Err(Error::Truncated { what: "version 2 header (enc)", needed: HEADER_LEN, found: bytes.len() });
    }
    if bytes.len() < MIN_LEN {
        return Err(Error::Truncated { what: "tag and signature", needed: MIN_LEN, found: bytes.len() });
    }
    Ok(Header { recipient: id_at(bytes, 1), sender: id_at(bytes, 1 + KEY_ID_LEN) })
}

fn id_at(bytes: &[u8], start: usize) -> KeyId {
    let mut id = [0u8; KEY_ID_LEN];
    id.copy_from_slice(&bytes[start..start + KEY_ID_LEN]);
    KeyId::from_bytes(id)
}

/// `sig_label || suite_id || pkR || A || signed`, where `signed` is the
/// envelope without its signature (`header || ct`).
fn transcript(device: &DevicePublicKeyV2, sender: &SenderVerifyingKey, signed: &[u8]) -> Vec<u8> {
    let mut t = Vec::with_capacity(SIGNATURE_LABEL.len() + SUITE_ID.len() + xwing::PUBLIC_KEY_LEN + 32 + signed.len());
    t.extend_from_slice(SIGNATURE_LABEL);
    t.extend_from_slice(SUITE_ID);
    t.extend_from_slice(device.as_bytes());
    t.extend_from_slice(sender.as_bytes());
    t.extend_from_slice(signed);
    t
}

/// The key schedule context of mode base with [`INFO`]: computed once.
fn key_schedule_context() -> &'static hpke::KeyScheduleContext {
    static CONTEXT: std::sync::OnceLock<hpke::KeyScheduleContext> = std::sync::OnceLock::new();
    CONTEXT.get_or_init(|| xwing::base_context(INFO))
}

/// Seals in place: `buf` holds [`HEADER_LEN`] bytes of room, then the padded
/// plaintext. Writes the header, encrypts the rest (`SetupBaseS` and
/// `Seal`), appends the tag and the signature; `buf` becomes the envelope.
/// Returns the sender's HPKE context (for the receipt's exporter).
pub(crate) fn seal_in_place(
    signer: &SenderSigningKey,
    device: &DevicePublicKeyV2,
    buf: &mut Vec<u8>,
    eseed: &Eseed,
) -> Result<hpke::Context> {
    let (enc, mut ctx) = xwing::setup_base_s(device.xwing(), key_schedule_context(), eseed)?;
    let header = buf.get_mut(..HEADER_LEN).expect("both callers put HEADER_LEN bytes of room for the header first");
    header[0] = VERSION;
    header[1..1 + KEY_ID_LEN].copy_from_slice(&device.key_id().to_bytes());
    header[1 + KEY_ID_LEN..1 + 2 * KEY_ID_LEN].copy_from_slice(&signer.key_id().to_bytes());
    header[1 + 2 * KEY_ID_LEN..].copy_from_slice(&enc);
    let header: [u8; HEADER_LEN] = header.try_into().expect("the slice is HEADER_LEN bytes");
    ctx.seal_in_place(&header, buf, HEADER_LEN)?;
    let signature = signer.sign(&transcript(device, &signer.verifying_key(), buf));
    buf.extend_from_slice(&signature);
    Ok(ctx)
}

/// `seal_in_place` on a buffer of its own: the envelope and the context.
#[cfg(feature = "test-vectors")]
pub fn seal_with(
    signer: &SenderSigningKey,
    device: &DevicePublicKeyV2,
    padded_plaintext: &[u8],
    eseed: &Eseed,
) -> Result<(Vec<u8>, hpke::Context)> {
    let mut out = Vec::with_capacity(MIN_LEN + padded_plaintext.len());
    out.resize(HEADER_LEN, 0);
    out.extend_from_slice(padded_plaintext);
    let ctx = seal_in_place(signer, device, &mut out, eseed)?;
    Ok((out, ctx))
}

/// Opens a version 2 envelope where it is (SPEC.md section 12.5, steps 5 to
/// 9): the key ids must name `device` and `sender`, the signature must
/// verify, and only then is `enc` decapsulated and the ciphertext decrypted
/// in place. Returns the padded plaintext (a part of `bytes`, which the
/// caller zeroizes) and the receiver's HPKE context.
pub(crate) fn open_in_place<'b>(
    bytes: &'b mut [u8],
    header: &Header,
    device: &DeviceSecretKeyV2,
    sender: &SenderVerifyingKey,
) -> Result<(&'b [u8], hpke::Context)> {
    if device.key_id() != header.recipient {
        return Err(Error::UnknownRecipientKey(header.recipient));
    }
    if sender.key_id() != header.sender {
        return Err(Error::UntrustedSender(header.sender));
    }
    let signed_len = bytes
        .len()
        .checked_sub(SIGNATURE_LEN)
        .filter(|&n| n >= HEADER_LEN + N_T)
        .ok_or(Error::Truncated { what: "tag and signature", needed: MIN_LEN, found: bytes.len() })?;
    let (signed, signature) = bytes.split_at_mut(signed_len);
    let signature: &[u8; SIGNATURE_LEN] = (&*signature).try_into().expect("the split leaves SIGNATURE_LEN bytes");
    sender.verify(&transcript(device.public_key(), sender, signed), signature)?;
    let (header_bytes, ciphertext) = signed.split_at_mut(HEADER_LEN);
    let enc: &[u8; ENC_LEN] = header_bytes[1 + 2 * KEY_ID_LEN..].try_into().expect("the header ends with enc");
    let mut ctx = xwing::setup_base_r(enc, device.xwing(), key_schedule_context())?;
    let plaintext = ctx.open_in_place(header_bytes, ciphertext)?;
    Ok((plaintext, ctx))
}

/// `open_in_place` on a copy: the padded plaintext. For tests and vectors.
#[cfg(feature = "test-vectors")]
pub fn open(
    bytes: &[u8],
    device: &DeviceSecretKeyV2,
    sender: &SenderVerifyingKey,
) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    let header = parse(bytes)?;
    let mut buf = zeroize::Zeroizing::new(bytes.to_vec());
    let len = open_in_place(&mut buf, &header, device, sender)?.0.len();
    buf.drain(..HEADER_LEN);
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> (SenderSigningKey, DeviceSecretKeyV2) {
        (SenderSigningKey::from_seed(&[1; 32]), DeviceSecretKeyV2::from_seed(&[2; 32]))
    }

    fn seal(s: &SenderSigningKey, d: &DeviceSecretKeyV2, pt: &[u8]) -> Vec<u8> {
        seal_with(s, d.public_key(), pt, &Eseed::generate().unwrap()).unwrap().0
    }

    #[test]
    fn sizes_are_the_spec_s() {
        assert_eq!((HEADER_LEN, MIN_LEN, MAX_LEN, MAX_TEXT_LEN), (1137, 1217, 3265, 4354));
        assert_eq!(SIGNATURE_LABEL.len(), 30);
    }

    #[test]
    fn seal_then_open_round_trips() {
        let (s, d) = keys();
        let env = seal(&s, &d, b"hello");
        assert_eq!(env.len(), MIN_LEN + 5);
        let header = parse(&env).unwrap();
        assert_eq!(header, Header { recipient: d.key_id(), sender: s.key_id() });
        assert_eq!(open(&env, &d, &s.verifying_key()).unwrap().as_slice(), b"hello");
    }

    #[test]
    fn every_truncation_and_every_bit_flip_is_refused() {
        let (s, d) = keys();
        let env = seal(&s, &d, b"hi");
        for len in (0..env.len()).step_by(7).chain(env.len() - 70..env.len()) {
            assert!(open(&env[..len], &d, &s.verifying_key()).is_err(), "truncated to {len}");
        }
        for i in (0..env.len() * 8).step_by(5) {
            let mut bad = env.clone();
            bad[i / 8] ^= 1 << (i % 8);
            let err = open(&bad, &d, &s.verifying_key()).unwrap_err();
            // A flipped id names another key; anything else fails the signature.
            let expected = match i / 8 {
                0 => crate::ErrorKind::UnsupportedVersion,
                1..=8 => crate::ErrorKind::UnknownRecipientKey,
                9..=16 => crate::ErrorKind::UntrustedSender,
                _ => crate::ErrorKind::InvalidSignature,
            };
            assert_eq!(err.kind(), expected, "bit {i}");
        }
    }

    #[test]
    fn another_trusted_sender_cannot_claim_an_envelope() {
        let (s, d) = keys();
        let env = seal(&s, &d, b"from s");
        let mallory = SenderSigningKey::from_seed(&[9; 32]);
        // Mallory puts her own id in the header and signs again: the AEAD,
        // which binds the header, refuses it.
        let mut claimed = env[..env.len() - SIGNATURE_LEN].to_vec();
        claimed[1 + KEY_ID_LEN..1 + 2 * KEY_ID_LEN].copy_from_slice(&mallory.key_id().to_bytes());
        let sig = mallory.sign(&transcript(d.public_key(), &mallory.verifying_key(), &claimed));
        claimed.extend_from_slice(&sig);
        assert_eq!(open(&claimed, &d, &mallory.verifying_key()).unwrap_err(), Error::Tampered);
        // Keeping s's id and signing with her key fails the signature.
        let mut resigned = env[..env.len() - SIGNATURE_LEN].to_vec();
        let sig = mallory.sign(&transcript(d.public_key(), &s.verifying_key(), &resigned));
        resigned.extend_from_slice(&sig);
        assert_eq!(open(&resigned, &d, &s.verifying_key()).unwrap_err().kind(), crate::ErrorKind::InvalidSignature);
    }

    #[test]
    fn a_stolen_device_key_cannot_forge_a_sender() {
        // Whoever holds the device's secret key can build a valid HPKE
        // ciphertext to it, but without the sender's key, no signature.
        let (s, d) = keys();
        let forger = SenderSigningKey::from_seed(&[7; 32]);
        let mut env = seal(&forger, &d, b"forged");
        env[1 + KEY_ID_LEN..1 + 2 * KEY_ID_LEN].copy_from_slice(&s.key_id().to_bytes());
        assert_eq!(open(&env, &d, &s.verifying_key()).unwrap_err().kind(), crate::ErrorKind::InvalidSignature);
    }
}
