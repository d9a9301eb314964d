//! What the criterion benchmarks (`benches/pushseal.rs`) and the instruction
//! counter (`examples/bench_ops.rs`) both run: the inputs, the floor, the peers.
//!
//! # The floor
//!
//! The least work one message needs, starting from the keys' bytes and
//! keeping nothing between messages, with the primitives PushSeal uses,
//! called directly:
//!
//! - seal: one X25519 key generation, two X25519 (the recipient's point is
//!   decoded once for both), the per-message HKDF-SHA256 of HPKE mode auth,
//!   ChaCha20Poly1305 over the padded plaintext, in place;
//! - open: two X25519, the same HKDF work, ChaCha20Poly1305.
//!
//! The version 2 floor ([`FloorV2`]), from the keys as a sender and a device
//! hold them (the device's X-Wing public key parsed, as a registration is;
//! the device's X-Wing seed, which x-wing's `decapsulate` expands each time;
//! the sender's Ed25519 seed and the decoded public key a device pins):
//!
//! - seal: 64 random bytes, X-Wing `Encap`, the key schedule of HPKE mode
//!   base (the `secret` extract, the `key`, `base_nonce` and `exp`
//!   expands), ChaCha20Poly1305 over the padded plaintext in place, Ed25519
//!   `sign` of the transcript (SPEC.md section 12.5, given in parts);
//! - open: Ed25519 `verify_strict` of the transcript, X-Wing `Decap`, the
//!   same key schedule, ChaCha20Poly1305.
//!
//! X25519 is computed the fastest way this machine has: through the point's
//! Edwards form and the vectorized scalar multiplication (see
//! `pushseal::hpke::PreparedKey`). The `*_ladder` variants use the Montgomery
//! ladder of x25519-dalek instead, for reference. Every per-message constant
//! (labels, `psk_id_hash`, `info_hash`) is computed beforehand.

#![allow(dead_code)]

use chacha20poly1305::{AeadInOut, ChaCha20Poly1305, KeyInit, Nonce, Tag};
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::montgomery::MontgomeryPoint;
use ed25519_dalek::ed25519::signature::MultipartSigner as _;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use hkdf::{Hkdf, HkdfExtract};
use hpke::aead::{AeadTag, ChaCha20Poly1305 as HpkeChaCha};
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use pushseal::envelope::{self, Envelope, HEADER_LEN, INFO};
use pushseal::envelope_v2;
use pushseal::{DeviceSecretKey, DeviceSecretKeyV2, Message, SenderSecretKey, SenderSigningKey};
use sha2::Sha256;
use x_wing::KeyExport as _;
use x_wing::kem::common::array::Array;
use x25519_dalek::{PublicKey, StaticSecret};

/// The padded sizes measured: the smallest bucket and the largest.
pub const SIZES: [usize; 2] = [256, 2048];

/// A message whose plaintext pads to exactly `padded` bytes (256 or 2048).
pub fn message_for(padded: usize) -> Message {
    let fill = if padded <= 256 { 60 } else { 1800 };
    let body: String = "Your lab results from Tuesday are ready to view. ".chars().cycle().take(fill).collect();
    Message::new("Lab results", body).with_data("ref", "lab-7731")
}

/// 32 bytes from the operating system.
pub fn random32() -> [u8; 32] {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("randomness");
    b
}

const KEM_SUITE: &[u8] = b"KEM\x00\x20";
const HPKE_SUITE: &[u8] = b"HPKE\x00\x20\x00\x01\x00\x03";

/// `mode || psk_id_hash || info_hash` of mode auth with PushSeal's info: a constant.
pub fn key_schedule_context() -> [u8; 65] {
    key_schedule_context_in(HPKE_SUITE, 2, INFO)
}

/// `mode || psk_id_hash || info_hash` for `suite_id`, `mode` and `info` (no PSK).
pub fn key_schedule_context_in(suite_id: &[u8], mode: u8, info: &[u8]) -> [u8; 65] {
    let hash = |label: &[u8], data: &[u8]| -> [u8; 32] {
        let mut e = HkdfExtract::<Sha256>::new(Some(b""));
        for part in [b"HPKE-v1".as_slice(), suite_id, label, data] {
            e.input_ikm(part);
        }
        e.finalize().0.into()
    };
    let mut ksc = [0u8; 65];
    ksc[0] = mode;
    ksc[1..33].copy_from_slice(&hash(b"psk_id_hash", b""));
    ksc[33..].copy_from_slice(&hash(b"info_hash", info));
    ksc
}

/// The key schedule's per-message HKDF-SHA256 work (RFC 9180 section 5.1,
/// no PSK): the `secret` extract with `shared_secret` as salt, then the
/// `key`, `base_nonce` and `exp` expands.
pub fn floor_key_schedule(shared: &[u8; 32], suite_id: &[u8], ksc: &[u8; 65]) -> ([u8; 32], [u8; 12], [u8; 32]) {
    let mut e = HkdfExtract::<Sha256>::new(Some(shared));
    for part in [b"HPKE-v1".as_slice(), suite_id, b"secret"] {
        e.input_ikm(part);
    }
    let (_, secret): (_, Hkdf<Sha256>) = e.finalize();
    let (mut key, mut nonce, mut exp) = ([0u8; 32], [0u8; 12], [0u8; 32]);
    secret.expand_multi_info(&[&32u16.to_be_bytes(), b"HPKE-v1", suite_id, b"key", ksc], &mut key).expect("hkdf");
    secret
        .expand_multi_info(&[&12u16.to_be_bytes(), b"HPKE-v1", suite_id, b"base_nonce", ksc], &mut nonce)
        .expect("hkdf");
    secret.expand_multi_info(&[&32u16.to_be_bytes(), b"HPKE-v1", suite_id, b"exp", ksc], &mut exp).expect("hkdf");
    (key, nonce, exp)
}

/// The per-message HKDF-SHA256 work of HPKE mode auth: `ExtractAndExpand` of
/// the two DH values with the 96-byte KEM context, then the key schedule's
/// `secret` extract and its `key`, `base_nonce` and `exp` expands.
pub fn floor_kdf(dh: &[u8; 64], kem_context: &[u8; 96], ksc: &[u8; 65]) -> ([u8; 32], [u8; 12], [u8; 32]) {
    let mut e = HkdfExtract::<Sha256>::new(Some(b""));
    for part in [b"HPKE-v1".as_slice(), KEM_SUITE, b"eae_prk", dh] {
        e.input_ikm(part);
    }
    let (_, eae) = e.finalize();
    let mut shared = [0u8; 32];
    eae.expand_multi_info(&[&32u16.to_be_bytes(), b"HPKE-v1", KEM_SUITE, b"shared_secret", kem_context], &mut shared)
        .expect("hkdf");
    floor_key_schedule(&shared, HPKE_SUITE, ksc)
}

/// X25519 key generation: a random scalar and its public key.
pub fn x25519_keygen() -> ([u8; 32], [u8; 32]) {
    let sk = random32();
    (sk, PublicKey::from(&StaticSecret::from(sk)).to_bytes())
}

/// The Edwards form of an honest public key (the floor's inputs are all honest).
pub fn to_edwards(u: &[u8; 32]) -> EdwardsPoint {
    MontgomeryPoint(*u).to_edwards(0).expect("a point on the curve")
}

/// X25519 with a decoded point: `[clamp(sk)] P`, mapped back to its u-coordinate.
pub fn mul(sk: &[u8; 32], point: &EdwardsPoint) -> [u8; 32] {
    point.mul_clamped(*sk).to_montgomery().to_bytes()
}

/// X25519 from the bytes, the fastest way here (the Edwards route).
pub fn x25519(sk: &[u8; 32], u: &[u8; 32]) -> [u8; 32] {
    mul(sk, &to_edwards(u))
}

/// X25519 from the bytes with the Montgomery ladder (x25519-dalek).
pub fn x25519_ladder(sk: &[u8; 32], u: &[u8; 32]) -> [u8; 32] {
    StaticSecret::from(*sk).diffie_hellman(&PublicKey::from(*u)).to_bytes()
}

/// The keys and constants of the floor.
pub struct Floor {
    pub sk_s: [u8; 32],
    pub pk_s: [u8; 32],
    pub sk_r: [u8; 32],
    pub pk_r: [u8; 32],
    pub ksc: [u8; 65],
}

impl Floor {
    pub fn new(sk_s: [u8; 32], sk_r: [u8; 32]) -> Self {
        let pk = |sk: &[u8; 32]| PublicKey::from(&StaticSecret::from(*sk)).to_bytes();
        Self { pk_s: pk(&sk_s), pk_r: pk(&sk_r), sk_s, sk_r, ksc: key_schedule_context() }
    }

    fn kdf_and_key(&self, dh_e: [u8; 32], dh_s: [u8; 32], enc: &[u8; 32]) -> (ChaCha20Poly1305, Nonce) {
        let mut dh = [0u8; 64];
        dh[..32].copy_from_slice(&dh_e);
        dh[32..].copy_from_slice(&dh_s);
        let mut ctx = [0u8; 96];
        ctx[..32].copy_from_slice(enc);
        ctx[32..64].copy_from_slice(&self.pk_r);
        ctx[64..].copy_from_slice(&self.pk_s);
        let (key, nonce, _exp) = floor_kdf(&dh, &ctx, &self.ksc);
        (ChaCha20Poly1305::new(&key.into()), Nonce::from(nonce))
    }

    /// Seals `buf` in place with `header` as associated data; returns `enc` and the tag.
    pub fn seal(&self, header: &[u8; HEADER_LEN], buf: &mut [u8]) -> ([u8; 32], Tag) {
        let (sk_e, enc) = x25519_keygen();
        let pk_r = to_edwards(&self.pk_r);
        let (dh_e, dh_s) = (mul(&sk_e, &pk_r), mul(&self.sk_s, &pk_r));
        let (cipher, nonce) = self.kdf_and_key(dh_e, dh_s, &enc);
        (enc, cipher.encrypt_inout_detached(&nonce, header, buf.into()).expect("aead"))
    }

    /// [`Floor::seal`] with the Montgomery ladder.
    pub fn seal_ladder(&self, header: &[u8; HEADER_LEN], buf: &mut [u8]) -> ([u8; 32], Tag) {
        let (sk_e, enc) = x25519_keygen();
        let (dh_e, dh_s) = (x25519_ladder(&sk_e, &self.pk_r), x25519_ladder(&self.sk_s, &self.pk_r));
        let (cipher, nonce) = self.kdf_and_key(dh_e, dh_s, &enc);
        (enc, cipher.encrypt_inout_detached(&nonce, header, buf.into()).expect("aead"))
    }

    /// Opens `buf` in place; false if the tag does not verify.
    pub fn open(&self, enc: &[u8; 32], header: &[u8; HEADER_LEN], buf: &mut [u8], tag: &Tag) -> bool {
        let (dh_e, dh_s) = (x25519(&self.sk_r, enc), x25519(&self.sk_r, &self.pk_s));
        let (cipher, nonce) = self.kdf_and_key(dh_e, dh_s, enc);
        cipher.decrypt_inout_detached(&nonce, header, buf.into(), tag).is_ok()
    }

    /// [`Floor::open`] with the Montgomery ladder.
    pub fn open_ladder(&self, enc: &[u8; 32], header: &[u8; HEADER_LEN], buf: &mut [u8], tag: &Tag) -> bool {
        let (dh_e, dh_s) = (x25519_ladder(&self.sk_r, enc), x25519_ladder(&self.sk_r, &self.pk_s));
        let (cipher, nonce) = self.kdf_and_key(dh_e, dh_s, enc);
        cipher.decrypt_inout_detached(&nonce, header, buf.into(), tag).is_ok()
    }
}

/// A real envelope of `size` padded bytes from the floor's sender to its
/// device, split for the floor's `open`: (enc, header, ciphertext, tag, plaintext).
/// Panics unless the floor opens it to the same plaintext: the floor does
/// PushSeal's work, not less.
pub struct FloorInput {
    pub enc: [u8; 32],
    pub header: [u8; HEADER_LEN],
    pub ct: Vec<u8>,
    pub tag: Tag,
}

impl FloorInput {
    pub fn new(floor: &Floor, size: usize) -> Self {
        let padded: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let sender = SenderSecretKey::from_bytes(floor.sk_s);
        let device = DeviceSecretKey::from_bytes(floor.sk_r);
        let env = envelope::seal(&sender, &device.public_key(), &padded).expect("seal");
        let parsed = Envelope::parse(&env).expect("parse");
        let header: [u8; HEADER_LEN] = parsed.header_bytes().try_into().expect("header");
        let (ct, tag) = parsed.ciphertext().split_at(size);
        let input = Self { enc: parsed.header().enc, header, ct: ct.to_vec(), tag: Tag::try_from(tag).expect("tag") };
        for open in [Floor::open, Floor::open_ladder] {
            let mut buf = input.ct.clone();
            assert!(open(floor, &input.enc, &input.header, &mut buf, &input.tag), "the floor opens an envelope");
            assert_eq!(buf, padded);
        }
        for seal in [Floor::seal, Floor::seal_ladder] {
            let mut buf = padded.clone();
            let (enc, tag) = seal(floor, &header, &mut buf);
            assert!(floor.open(&enc, &header, &mut buf, &tag), "the floor opens what it seals");
            assert_eq!(buf, padded);
        }
        input
    }
}

/// The key schedule context of envelope version 2: mode base, the X-Wing
/// suite, version 2's info. A constant.
pub fn key_schedule_context_v2() -> [u8; 65] {
    key_schedule_context_in(envelope_v2::SUITE_ID, 0, envelope_v2::INFO)
}

/// The floor of envelope version 2: its primitives called directly on the
/// keys as a sender and a device hold them (see the module's documentation).
pub struct FloorV2 {
    /// The sender's Ed25519 key (the seed; `sign` expands it each time, as
    /// ed25519-dalek's `SigningKey` does in PushSeal).
    pub signing: SigningKey,
    /// The same key's public half, decoded, as a device pins it.
    pub verifying: VerifyingKey,
    /// The device's X-Wing key: the seed, from which x-wing's `decapsulate`
    /// expands the ML-KEM key each time, as the keyring's key does.
    pub dk: x_wing::DecapsulationKey,
    /// The device's X-Wing public key, parsed once (as a registration is).
    pub ek: x_wing::EncapsulationKey,
    /// Its 1,216 bytes, for the transcript.
    pub pk_r: Box<[u8; XWING_PUBLIC_KEY_LEN]>,
    /// The header's first bytes: version, recipient key id, sender key id.
    pub ids: [u8; 1 + 16],
    pub ksc: [u8; 65],
}

/// An X-Wing public key's length.
pub const XWING_PUBLIC_KEY_LEN: usize = x_wing::ENCAPSULATION_KEY_SIZE;
/// The version 2 header's length: version, two key ids, `enc`.
pub const V2_HEADER_LEN: usize = envelope_v2::HEADER_LEN;

impl FloorV2 {
    pub fn new(signing_seed: [u8; 32], device_seed: [u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(&signing_seed);
        let dk = x_wing::DecapsulationKey::from(device_seed);
        let ek = x_wing::Decapsulator::encapsulation_key(&dk).clone();
        let mut pk_r = Box::new([0u8; XWING_PUBLIC_KEY_LEN]);
        pk_r.copy_from_slice(&ek.to_bytes());
        let mut ids = [0u8; 17];
        ids[0] = envelope_v2::VERSION;
        ids[1..9].copy_from_slice(&DeviceSecretKeyV2::from_seed(&device_seed).key_id().to_bytes());
        ids[9..].copy_from_slice(&SenderSigningKey::from_seed(&signing_seed).key_id().to_bytes());
        Self { verifying: signing.verifying_key(), signing, dk, ek, pk_r, ids, ksc: key_schedule_context_v2() }
    }

    /// Seals in place: `buf` is [`V2_HEADER_LEN`] bytes (any), then the
    /// padded plaintext; it becomes the envelope. Fresh `eseed`, X-Wing
    /// `Encap`, the key schedule, ChaCha20Poly1305 with the header as
    /// associated data, Ed25519 over the transcript (given in parts, not
    /// copied).
    pub fn seal(&self, buf: &mut Vec<u8>) {
        let mut eseed = [0u8; 64];
        getrandom::fill(&mut eseed).expect("randomness");
        let (enc, shared) = self.ek.encapsulate_deterministic(&Array::from(eseed));
        buf[..17].copy_from_slice(&self.ids);
        buf[17..V2_HEADER_LEN].copy_from_slice(&enc);
        let (key, nonce, _exp) = floor_key_schedule(&shared.0, envelope_v2::SUITE_ID, &self.ksc);
        let (header, pt) = buf.split_at_mut(V2_HEADER_LEN);
        let tag = ChaCha20Poly1305::new(&key.into())
            .encrypt_inout_detached(&Nonce::from(nonce), header, pt.into())
            .expect("aead");
        buf.extend_from_slice(&tag);
        let signature: Signature = self.signing.multipart_sign(&[
            envelope_v2::SIGNATURE_LABEL,
            envelope_v2::SUITE_ID,
            self.pk_r.as_slice(),
            self.verifying.as_bytes(),
            buf,
        ]);
        buf.extend_from_slice(&signature.to_bytes());
    }

    /// Opens `envelope` into `buf` (the ciphertext's length): Ed25519
    /// `verify_strict` over the transcript (built in one buffer: the API
    /// takes one slice), X-Wing `Decap`, the key schedule, ChaCha20Poly1305.
    /// False if anything fails.
    pub fn open(&self, envelope: &[u8], buf: &mut [u8]) -> bool {
        let Some(signed_len) = envelope.len().checked_sub(64) else { return false };
        let (signed, signature) = envelope.split_at(signed_len);
        let mut transcript = Vec::with_capacity(
            envelope_v2::SIGNATURE_LABEL.len() + envelope_v2::SUITE_ID.len() + XWING_PUBLIC_KEY_LEN + 32 + signed_len,
        );
        for part in [
            envelope_v2::SIGNATURE_LABEL,
            envelope_v2::SUITE_ID,
            self.pk_r.as_slice(),
            self.verifying.as_bytes(),
            signed,
        ] {
            transcript.extend_from_slice(part);
        }
        let Ok(signature) = Signature::from_slice(signature) else { return false };
        if self.verifying.verify_strict(&transcript, &signature).is_err() {
            return false;
        }
        let (header, rest) = signed.split_at(V2_HEADER_LEN);
        let (ct, tag) = rest.split_at(rest.len() - 16);
        let enc = Array::try_from(&header[17..]).expect("enc");
        let shared = x_wing::Decapsulate::decapsulate(&self.dk, &enc);
        let (key, nonce, _exp) = floor_key_schedule(&shared.0, envelope_v2::SUITE_ID, &self.ksc);
        buf.copy_from_slice(ct);
        ChaCha20Poly1305::new(&key.into())
            .decrypt_inout_detached(&Nonce::from(nonce), header, buf.into(), &Tag::try_from(tag).expect("tag"))
            .is_ok()
    }
}

/// A real version 2 envelope of `size` padded bytes from the floor's sender
/// to its device, sealed by PushSeal. Panics unless the floor opens it to the
/// same plaintext and PushSeal opens what the floor seals: the floor does
/// PushSeal's version 2 cryptography, not less.
pub fn floor_input_v2(floor: &FloorV2, size: usize, signing_seed: [u8; 32], device_seed: [u8; 32]) -> Vec<u8> {
    let padded: Vec<u8> = (0..size).map(|i| i as u8).collect();
    let signer = SenderSigningKey::from_seed(&signing_seed);
    let device = DeviceSecretKeyV2::from_seed(&device_seed);
    let eseed = pushseal::xwing::Eseed::generate().expect("randomness");
    let (env, _) = envelope_v2::seal_with(&signer, device.public_key(), &padded, &eseed).expect("seal");
    let mut buf = vec![0u8; size];
    assert!(floor.open(&env, &mut buf), "the floor opens a version 2 envelope");
    assert_eq!(buf, padded);
    let mut sealed = vec![0u8; V2_HEADER_LEN];
    sealed.extend_from_slice(&padded);
    floor.seal(&mut sealed);
    let opened = envelope_v2::open(&sealed, &device, &signer.verifying_key()).expect("PushSeal opens the floor's seal");
    assert_eq!(opened.as_slice(), padded.as_slice());
    env
}

type Kem = X25519HkdfSha256;

/// The `hpke` crate in mode auth with PushSeal's suite and info, in place.
pub struct HpkeCrate {
    mode_s: OpModeS<'static, Kem>,
    mode_r: OpModeR<'static, Kem>,
    sk_r: <Kem as hpke::Kem>::PrivateKey,
    pk_r: <Kem as hpke::Kem>::PublicKey,
}

/// What [`HpkeCrate::seal`] returns besides the ciphertext in place.
pub struct HpkeSealed {
    enc: <Kem as hpke::Kem>::EncappedKey,
    tag: AeadTag<HpkeChaCha>,
}

impl HpkeCrate {
    pub fn new() -> Self {
        let (sk_s, pk_s) = <Kem as hpke::Kem>::derive_keypair(&random32());
        let (sk_r, pk_r) = <Kem as hpke::Kem>::derive_keypair(&random32());
        Self { mode_s: OpModeS::Auth((sk_s, pk_s.clone())), mode_r: OpModeR::Auth(pk_s), sk_r, pk_r }
    }

    pub fn seal(&self, aad: &[u8], buf: &mut [u8]) -> HpkeSealed {
        let (enc, tag) = hpke::single_shot_seal_inout_detached::<HpkeChaCha, HkdfSha256, Kem>(
            &self.mode_s,
            &self.pk_r,
            INFO,
            buf.into(),
            aad,
        )
        .expect("seal");
        HpkeSealed { enc, tag }
    }

    pub fn open(&self, sealed: &HpkeSealed, aad: &[u8], buf: &mut [u8]) -> bool {
        hpke::single_shot_open_inout_detached::<HpkeChaCha, HkdfSha256, Kem>(
            &self.mode_r,
            &self.sk_r,
            &sealed.enc,
            INFO,
            buf.into(),
            aad,
            &sealed.tag,
        )
        .is_ok()
    }
}

impl Clone for HpkeSealed {
    fn clone(&self) -> Self {
        Self {
            enc: <Kem as hpke::Kem>::EncappedKey::from_bytes(&self.enc.to_bytes()).expect("enc"),
            tag: AeadTag::from_bytes(&self.tag.to_bytes()).expect("tag"),
        }
    }
}
