//! The envelope built from its parts: HPKE's `AuthEncap` and key schedule
//! written out a second time on top of X25519 and HKDF (RFC 9180 sections 4,
//! 4.1 and 5.1), checked against `pushseal::hpke`, and a sealer that can
//! break one rule at a time for the negative vectors.

use hkdf::Hkdf;
use pushseal::envelope::{HEADER_LEN, INFO, VERSION};
use pushseal::hpke::{self, AuthKey, Ephemeral, Mode};
use pushseal::{DevicePublicKey, KeyId, SenderSecretKey};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

use crate::{Error, Result, ensure};

const KEM_SUITE_ID: &[u8] = b"KEM\x00\x20";
const HPKE_SUITE_ID: &[u8] = b"HPKE\x00\x20\x00\x01\x00\x03";

fn labeled_extract(suite_id: &[u8], salt: &[u8], label: &[u8], ikm: &[u8]) -> [u8; 32] {
    let input = [b"HPKE-v1".as_slice(), suite_id, label, ikm].concat();
    Hkdf::<Sha256>::extract(Some(salt), &input).0.into()
}

fn labeled_expand(suite_id: &[u8], prk: &[u8; 32], label: &[u8], info: &[u8], len: u16) -> Result<Vec<u8>> {
    let hk = Hkdf::<Sha256>::from_prk(prk).map_err(|_| Error::new("HKDF PRK length"))?;
    let labeled_info = [&len.to_be_bytes()[..], b"HPKE-v1", suite_id, label, info].concat();
    let mut out = vec![0u8; usize::from(len)];
    hk.expand(&labeled_info, &mut out).map_err(|_| Error::new("HKDF output length"))?;
    Ok(out)
}

/// Every intermediate of one mode-auth envelope.
#[derive(Clone)]
pub struct AuthValues {
    pub sk_e: [u8; 32],
    pub enc: [u8; 32],
    pub dh_e: [u8; 32],
    pub dh_s: [u8; 32],
    pub kem_context: Vec<u8>,
    pub shared_secret: Vec<u8>,
    pub key_schedule_context: Vec<u8>,
    pub secret: [u8; 32],
    pub key: Vec<u8>,
    pub base_nonce: Vec<u8>,
    pub exporter_secret: Vec<u8>,
    pub header: Vec<u8>,
    /// `ct`: the ciphertext followed by its 16-byte tag.
    pub ct: Vec<u8>,
}

impl AuthValues {
    /// The envelope: `header || ct`.
    pub fn envelope(&self) -> Vec<u8> {
        [self.header.as_slice(), &self.ct].concat()
    }
}

/// Seals `padded` from `sender` to `device` with the ephemeral key of `ikm_e`,
/// computing every value twice (here and in `pushseal::hpke`) and failing if
/// the two disagree.
pub fn auth_seal(
    sender: &SenderSecretKey,
    device: &DevicePublicKey,
    ikm_e: &[u8],
    padded: &[u8],
) -> Result<AuthValues> {
    let sk_s = StaticSecret::from(*sender.to_bytes());
    let pk_s = PublicKey::from(&sk_s);
    let pk_r = PublicKey::from(device.to_bytes());
    let (sk_e, pk_e) = hpke::derive_key_pair(ikm_e)?;
    let enc = pk_e.to_bytes();

    // AuthEncap (section 4.1).
    let dh_e = sk_e.diffie_hellman(&pk_r).to_bytes();
    let dh_s = sk_s.diffie_hellman(&pk_r).to_bytes();
    let kem_context = [&enc[..], pk_r.as_bytes(), pk_s.as_bytes()].concat();
    let eae_prk = labeled_extract(KEM_SUITE_ID, b"", b"eae_prk", &[dh_e, dh_s].concat());
    let shared_secret = labeled_expand(KEM_SUITE_ID, &eae_prk, b"shared_secret", &kem_context, 32)?;

    // KeySchedule (section 5.1), mode auth, no psk.
    let psk_id_hash = labeled_extract(HPKE_SUITE_ID, b"", b"psk_id_hash", b"");
    let info_hash = labeled_extract(HPKE_SUITE_ID, b"", b"info_hash", INFO);
    let key_schedule_context = [&[Mode::Auth as u8][..], &psk_id_hash, &info_hash].concat();
    let secret = labeled_extract(HPKE_SUITE_ID, &shared_secret, b"secret", b"");
    let key = labeled_expand(HPKE_SUITE_ID, &secret, b"key", &key_schedule_context, 32)?;
    let base_nonce = labeled_expand(HPKE_SUITE_ID, &secret, b"base_nonce", &key_schedule_context, 12)?;
    let exporter_secret = labeled_expand(HPKE_SUITE_ID, &secret, b"exp", &key_schedule_context, 32)?;

    // The same through pushseal::hpke.
    let eph = Ephemeral::derive(ikm_e)?;
    let (ss, lib_enc) = hpke::encap(&eph, &pk_r, Some(AuthKey { sk: &sk_s, pk: &pk_s }))?;
    ensure(lib_enc == enc, || "enc differs from pushseal::hpke".into())?;
    ensure(ss.as_slice() == shared_secret.as_slice(), || "shared_secret differs from pushseal::hpke".into())?;
    let mut ctx = hpke::key_schedule(Mode::Auth, ss.as_ref(), INFO, b"", b"")?;
    let (lib_key, lib_nonce, lib_exp) = ctx.debug_values();
    ensure(lib_key[..] == key[..] && lib_nonce[..] == base_nonce[..] && lib_exp[..] == exporter_secret[..], || {
        "key schedule differs from pushseal::hpke".into()
    })?;

    let header = header(device.key_id(), sender.key_id(), &enc);
    let ct = ctx.seal(&header, padded)?;
    Ok(AuthValues {
        sk_e: sk_e.to_bytes(),
        enc,
        dh_e,
        dh_s,
        kem_context,
        shared_secret,
        key_schedule_context,
        secret,
        key,
        base_nonce,
        exporter_secret,
        header,
        ct,
    })
}

/// `Context.Export(exporter_context, len)` (RFC 9180 section 5.3) from the exporter secret.
pub fn export(exporter_secret: &[u8], exporter_context: &[u8], len: u16) -> Result<Vec<u8>> {
    let prk: [u8; 32] = exporter_secret.try_into().map_err(|_| Error::new("exporter secret length"))?;
    labeled_expand(HPKE_SUITE_ID, &prk, b"sec", exporter_context, len)
}

/// The 49 header bytes.
pub fn header(recipient: KeyId, sender: KeyId, enc: &[u8; 32]) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.push(VERSION);
    h.extend_from_slice(&recipient.to_bytes());
    h.extend_from_slice(&sender.to_bytes());
    h.extend_from_slice(enc);
    h
}

/// How [`raw_seal`] departs from the envelope rules; the default departs from none.
pub struct RawOptions {
    /// HPKE mode: auth (the rule) or base.
    pub mode: Mode,
    /// HPKE `info`.
    pub info: Vec<u8>,
    /// The AEAD's associated data; `None` is the rule (the header).
    pub aad: Option<Vec<u8>>,
    /// Messages sealed and dropped before this one (the rule is 0).
    pub seq: u64,
    /// The sender key id written in the header; `None` is the sealing sender's.
    pub header_sender: Option<KeyId>,
}

impl Default for RawOptions {
    fn default() -> Self {
        Self { mode: Mode::Auth, info: INFO.to_vec(), aad: None, seq: 0, header_sender: None }
    }
}

/// Seals any bytes as an envelope with the ephemeral key of `ikm_e`,
/// following the rules except where `options` says.
pub fn raw_seal(
    sender: &SenderSecretKey,
    device: &DevicePublicKey,
    ikm_e: &[u8],
    padded: &[u8],
    options: &RawOptions,
) -> Result<Vec<u8>> {
    let sk_s = StaticSecret::from(*sender.to_bytes());
    let pk_s = PublicKey::from(&sk_s);
    let pk_r = PublicKey::from(device.to_bytes());
    let eph = Ephemeral::derive(ikm_e)?;
    let auth = matches!(options.mode, Mode::Auth).then_some(AuthKey { sk: &sk_s, pk: &pk_s });
    let (ss, enc) = hpke::encap(&eph, &pk_r, auth)?;
    let mut ctx = hpke::key_schedule(options.mode, ss.as_ref(), &options.info, b"", b"")?;
    let header = header(device.key_id(), options.header_sender.unwrap_or(sender.key_id()), &enc);
    for _ in 0..options.seq {
        ctx.seal(b"", b"")?;
    }
    let ct = ctx.seal(options.aad.as_deref().unwrap_or(&header), padded)?;
    Ok([header, ct].concat())
}
