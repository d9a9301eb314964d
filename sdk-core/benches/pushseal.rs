//! PushSeal against the floor of its primitives and against the libraries a
//! user would pick instead, for 256-byte and 2 KB notifications, in one run.
//!
//! Groups (`<group>/<function>/<padded size>`):
//!
//! - `floor`: X25519 key generation, one X25519 Diffie-Hellman, the per-message
//!   HKDF-SHA256 work of HPKE mode auth, ChaCha20Poly1305 over the padded size,
//!   and the two sums the ratios use: `seal` (key generation, two DH, KDF,
//!   AEAD) and `open` (two DH, KDF, AEAD), each run as one function.
//! - `pushseal`: `Sender::seal` to a bare envelope and to an APNs request,
//!   with and without the sender's static DH cache; `DeviceKeyring::open` of
//!   the envelope and of the APNs `userInfo`, including the replay check
//!   against an empty in-memory store; and the byte-level `envelope` calls.
//! - `hpke_crate`: the `hpke` crate, mode auth, same suite, same sizes, in place.
//! - `crypto_box`: a libsodium-style sealed box (anonymous, one DH, XSalsa20Poly1305).
//!
//! `bench/run.sh` runs this several times, pools the samples and prints the
//! ratios; see BENCHMARKS.md.

use std::hint::black_box;
use std::time::Duration;

use chacha20poly1305::{AeadInOut, ChaCha20Poly1305, KeyInit, Nonce, Tag};
use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use hkdf::{Hkdf, HkdfExtract};
use hpke::aead::{AeadTag, ChaCha20Poly1305 as HpkeChaCha};
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use pushseal::envelope::{self, Envelope, HEADER_LEN, INFO};
use pushseal::{
    ApnsOptions, DeviceKeyring, MemoryReplayStore, Message, Payload, Sealed, Sender, SenderSecretKey, Target, padding,
    unix_now,
};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

/// The padded sizes measured.
const SIZES: [usize; 2] = [256, 2048];

/// A message whose plaintext pads to exactly `padded` bytes.
fn message_for(padded: usize) -> Message {
    let fill = match padded {
        256 => 60,
        _ => 1800,
    };
    let body: String = "Your lab results from Tuesday are ready to view. ".chars().cycle().take(fill).collect();
    Message::new("Lab results", body).with_data("ref", "lab-7731")
}

/// 32 random bytes.
fn random32() -> [u8; 32] {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("randomness");
    b
}

// ---------------------------------------------------------------------------
// The floor: the primitives PushSeal is made of, called directly, with every
// per-message constant (labels, psk_id_hash, info_hash) computed beforehand.

const KEM_SUITE: &[u8] = b"KEM\x00\x20";
const HPKE_SUITE: &[u8] = b"HPKE\x00\x20\x00\x01\x00\x03";

/// `mode || psk_id_hash || info_hash` of mode auth with PushSeal's info: a constant.
fn key_schedule_context() -> [u8; 65] {
    let hash = |label: &[u8], data: &[u8]| -> [u8; 32] {
        let mut e = HkdfExtract::<Sha256>::new(Some(b""));
        for part in [b"HPKE-v1".as_slice(), HPKE_SUITE, label, data] {
            e.input_ikm(part);
        }
        e.finalize().0.into()
    };
    let mut ksc = [0u8; 65];
    ksc[0] = 2;
    ksc[1..33].copy_from_slice(&hash(b"psk_id_hash", b""));
    ksc[33..].copy_from_slice(&hash(b"info_hash", INFO));
    ksc
}

/// The per-message HKDF-SHA256 work of HPKE mode auth: `ExtractAndExpand` of
/// the two DH values with the 96-byte KEM context, then the key schedule's
/// `secret` extract and its `key`, `base_nonce` and `exp` expands.
fn floor_kdf(dh: &[u8; 64], kem_context: &[u8; 96], ksc: &[u8; 65]) -> ([u8; 32], [u8; 12], [u8; 32]) {
    let mut e = HkdfExtract::<Sha256>::new(Some(b""));
    for part in [b"HPKE-v1".as_slice(), KEM_SUITE, b"eae_prk", dh] {
        e.input_ikm(part);
    }
    let (_, eae) = e.finalize();
    let mut shared = [0u8; 32];
    eae.expand_multi_info(&[&32u16.to_be_bytes(), b"HPKE-v1", KEM_SUITE, b"shared_secret", kem_context], &mut shared)
        .expect("hkdf");
    let mut e = HkdfExtract::<Sha256>::new(Some(&shared));
    for part in [b"HPKE-v1".as_slice(), HPKE_SUITE, b"secret"] {
        e.input_ikm(part);
    }
    let (_, secret): (_, Hkdf<Sha256>) = e.finalize();
    let (mut key, mut nonce, mut exp) = ([0u8; 32], [0u8; 12], [0u8; 32]);
    secret.expand_multi_info(&[&32u16.to_be_bytes(), b"HPKE-v1", HPKE_SUITE, b"key", ksc], &mut key).expect("hkdf");
    secret
        .expand_multi_info(&[&12u16.to_be_bytes(), b"HPKE-v1", HPKE_SUITE, b"base_nonce", ksc], &mut nonce)
        .expect("hkdf");
    secret.expand_multi_info(&[&32u16.to_be_bytes(), b"HPKE-v1", HPKE_SUITE, b"exp", ksc], &mut exp).expect("hkdf");
    (key, nonce, exp)
}

/// The floor of a seal: one key generation, two DH, the KDF, the AEAD in place.
struct FloorSeal {
    sk_s: StaticSecret,
    pk_s: PublicKey,
    pk_r: PublicKey,
    ksc: [u8; 65],
}

impl FloorSeal {
    fn run(&self, header: &[u8; HEADER_LEN], buf: &mut [u8]) -> ([u8; 32], Tag) {
        let sk_e = StaticSecret::from(random32());
        let pk_e = PublicKey::from(&sk_e);
        let mut dh = [0u8; 64];
        dh[..32].copy_from_slice(sk_e.diffie_hellman(&self.pk_r).as_bytes());
        dh[32..].copy_from_slice(self.sk_s.diffie_hellman(&self.pk_r).as_bytes());
        let mut ctx = [0u8; 96];
        ctx[..32].copy_from_slice(pk_e.as_bytes());
        ctx[32..64].copy_from_slice(self.pk_r.as_bytes());
        ctx[64..].copy_from_slice(self.pk_s.as_bytes());
        let (key, nonce, _exp) = floor_kdf(&dh, &ctx, &self.ksc);
        let cipher = ChaCha20Poly1305::new(&key.into());
        (pk_e.to_bytes(), cipher.encrypt_inout_detached(&Nonce::from(nonce), header, buf.into()).expect("aead"))
    }
}

/// The floor of an open: two DH, the KDF, the AEAD in place.
struct FloorOpen {
    sk_r: StaticSecret,
    pk_r: PublicKey,
    pk_s: PublicKey,
    ksc: [u8; 65],
}

impl FloorOpen {
    fn run(&self, enc: &[u8; 32], header: &[u8; HEADER_LEN], buf: &mut [u8], tag: &Tag) -> bool {
        let pk_e = PublicKey::from(*enc);
        let mut dh = [0u8; 64];
        dh[..32].copy_from_slice(self.sk_r.diffie_hellman(&pk_e).as_bytes());
        dh[32..].copy_from_slice(self.sk_r.diffie_hellman(&self.pk_s).as_bytes());
        let mut ctx = [0u8; 96];
        ctx[..32].copy_from_slice(enc);
        ctx[32..64].copy_from_slice(self.pk_r.as_bytes());
        ctx[64..].copy_from_slice(self.pk_s.as_bytes());
        let (key, nonce, _exp) = floor_kdf(&dh, &ctx, &self.ksc);
        let cipher = ChaCha20Poly1305::new(&key.into());
        cipher.decrypt_inout_detached(&Nonce::from(nonce), header, buf.into(), tag).is_ok()
    }
}

fn floor(c: &mut Criterion) {
    let mut g = c.benchmark_group("floor");
    g.sampling_mode(SamplingMode::Flat);
    let (s_bytes, r_bytes) = (random32(), random32());
    let (sk_s, sk_r) = (StaticSecret::from(s_bytes), StaticSecret::from(r_bytes));
    let (pk_s, pk_r) = (PublicKey::from(&sk_s), PublicKey::from(&sk_r));
    let ksc = key_schedule_context();
    let seal = FloorSeal { sk_s: sk_s.clone(), pk_s, pk_r, ksc };
    let open = FloorOpen { sk_r: sk_r.clone(), pk_r, pk_s, ksc };
    let header = [7u8; HEADER_LEN];
    for size in SIZES {
        let id = |name: &str| BenchmarkId::new(name, size);
        g.bench_function(id("x25519_keygen"), |b| {
            b.iter(|| PublicKey::from(&StaticSecret::from(random32())));
        });
        g.bench_function(id("x25519_dh"), |b| b.iter(|| black_box(&sk_s).diffie_hellman(black_box(&pk_r))));
        let (dh, kem_context) = ([3u8; 64], [4u8; 96]);
        g.bench_function(id("hkdf_sha256"), |b| {
            b.iter(|| floor_kdf(black_box(&dh), black_box(&kem_context), &ksc));
        });
        let cipher = ChaCha20Poly1305::new(&[5u8; 32].into());
        let nonce = Nonce::from([6u8; 12]);
        let mut buf = vec![0u8; size];
        g.bench_function(id("chacha20poly1305"), |b| {
            b.iter(|| cipher.encrypt_inout_detached(&nonce, &header, buf.as_mut_slice().into()).expect("aead"));
        });

        // The floor computes what PushSeal computes: it opens a real envelope.
        let padded = vec![0x42u8; size];
        let sender_key = SenderSecretKey::from_bytes(s_bytes);
        let device_key = pushseal::DeviceSecretKey::from_bytes(r_bytes);
        let env = envelope::seal(&sender_key, &device_key.public_key(), &padded).expect("seal");
        let parsed = Envelope::parse(&env).expect("parse");
        let env_header: [u8; HEADER_LEN] = parsed.header_bytes().try_into().expect("header");
        let (ct, tag) = parsed.ciphertext().split_at(size);
        let tag = Tag::try_from(tag).expect("tag");
        let mut buf = ct.to_vec();
        assert!(open.run(&parsed.header().enc, &env_header, &mut buf, &tag), "the floor opens an envelope");
        assert_eq!(buf, padded);
        let mut buf = padded.clone();
        let (enc, tag2) = seal.run(&env_header, &mut buf);
        assert!(open.run(&enc, &env_header, &mut buf, &tag2), "the floor opens what it seals");
        assert_eq!(buf, padded);

        let mut buf = vec![0u8; size];
        g.bench_function(id("seal"), |b| b.iter(|| seal.run(&header, &mut buf)));
        let mut buf = ct.to_vec();
        g.bench_function(id("open"), |b| {
            b.iter(|| {
                buf.copy_from_slice(ct);
                open.run(&parsed.header().enc, &env_header, &mut buf, &tag)
            });
        });
    }
    g.finish();
}

// ---------------------------------------------------------------------------
// PushSeal.

fn pushseal(c: &mut Criterion) {
    let mut g = c.benchmark_group("pushseal");
    g.sampling_mode(SamplingMode::Flat);
    let sender = Sender::new(SenderSecretKey::from_bytes(random32()));
    let mut device = DeviceKeyring::generate().expect("keyring");
    device.trust_sender(sender.public_key());
    let to = device.public_key();
    let apns = Target::Apns(ApnsOptions::default());
    for size in SIZES {
        let id = |name: &str| BenchmarkId::new(name, size);
        let msg = message_for(size);
        let sealed = sender.seal(&to, &msg, &Target::Envelope).expect("seal");
        assert_eq!(Envelope::parse(&sealed.envelope).expect("parse").plaintext_len(), size, "bucket");

        g.bench_function(id("seal_envelope"), |b| b.iter(|| sender.seal(&to, &msg, &Target::Envelope)));
        g.bench_function(id("seal_apns"), |b| b.iter(|| sender.seal(&to, &msg, &apns)));

        let Sealed::Envelope(text) = sealed.payload else { panic!("an envelope") };
        let Sealed::Apns(request) = sender.seal(&to, &msg, &apns).expect("seal").payload else { panic!("apns") };
        let now = unix_now();
        g.bench_function(id("open_envelope"), |b| {
            b.iter_batched_ref(
                MemoryReplayStore::new,
                |store| device.open(Payload::Envelope(&text), store, now).expect("open"),
                BatchSize::SmallInput,
            );
        });
        g.bench_function(id("open_apns"), |b| {
            b.iter_batched_ref(
                MemoryReplayStore::new,
                |store| device.open(Payload::ApnsJson(&request.body), store, now).expect("open"),
                BatchSize::SmallInput,
            );
        });

        // The byte-level API: a padded plaintext in, envelope bytes out, and back.
        let mut padded = msg.body.as_bytes()[..size / 2].to_vec();
        padding::pad_in_place(&mut padded, 0).expect("pad");
        let sender_key = SenderSecretKey::from_bytes(random32());
        let device_key = pushseal::DeviceSecretKey::from_bytes(random32());
        let device_pk = device_key.public_key();
        g.bench_function(id("envelope_seal"), |b| b.iter(|| envelope::seal(&sender_key, &device_pk, &padded)));
        let env = envelope::seal(&sender_key, &device_pk, &padded).expect("seal");
        let sender_pk = sender_key.public_key();
        g.bench_function(id("envelope_open"), |b| {
            b.iter(|| Envelope::parse(&env).and_then(|e| e.open(&device_key, &sender_pk)).expect("open"));
        });
    }
    g.finish();
}

// ---------------------------------------------------------------------------
// The peers: the hpke crate in mode auth, and a sealed box.

type Kem = X25519HkdfSha256;

fn hpke_crate(c: &mut Criterion) {
    let mut g = c.benchmark_group("hpke_crate");
    g.sampling_mode(SamplingMode::Flat);
    let (sk_s, pk_s) = <Kem as hpke::Kem>::derive_keypair(&random32());
    let (sk_r, pk_r) = <Kem as hpke::Kem>::derive_keypair(&random32());
    let aad = [7u8; HEADER_LEN];
    let mode_s = OpModeS::Auth((sk_s, pk_s.clone()));
    let mode_r = OpModeR::Auth(pk_s);
    for size in SIZES {
        let id = |name: &str| BenchmarkId::new(name, size);
        let mut buf = vec![0x42u8; size];
        g.bench_function(id("seal"), |b| {
            b.iter(|| {
                hpke::single_shot_seal_inout_detached::<HpkeChaCha, HkdfSha256, Kem>(
                    &mode_s,
                    &pk_r,
                    INFO,
                    buf.as_mut_slice().into(),
                    &aad,
                )
                .expect("seal")
            });
        });
        let mut sealed = vec![0x42u8; size];
        let (enc, tag) = hpke::single_shot_seal_inout_detached::<HpkeChaCha, HkdfSha256, Kem>(
            &mode_s,
            &pk_r,
            INFO,
            sealed.as_mut_slice().into(),
            &aad,
        )
        .expect("seal");
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&enc.to_bytes()).expect("enc");
        let tag = AeadTag::<HpkeChaCha>::from_bytes(&tag.to_bytes()).expect("tag");
        let mut buf = sealed.clone();
        g.bench_function(id("open"), |b| {
            b.iter(|| {
                buf.copy_from_slice(&sealed);
                hpke::single_shot_open_inout_detached::<HpkeChaCha, HkdfSha256, Kem>(
                    &mode_r,
                    &sk_r,
                    &enc,
                    INFO,
                    buf.as_mut_slice().into(),
                    &aad,
                    &tag,
                )
                .expect("open")
            });
        });
    }
    g.finish();
}

fn sealed_box(c: &mut Criterion) {
    let mut g = c.benchmark_group("crypto_box");
    g.sampling_mode(SamplingMode::Flat);
    let sk = crypto_box::SecretKey::from(random32());
    let pk = sk.public_key();
    let mut rng = crypto_box::aead::OsRng;
    for size in SIZES {
        let id = |name: &str| BenchmarkId::new(name, size);
        let pt = vec![0x42u8; size];
        g.bench_function(id("seal"), |b| b.iter(|| pk.seal(&mut rng, &pt).expect("seal")));
        let ct = pk.seal(&mut rng, &pt).expect("seal");
        g.bench_function(id("open"), |b| b.iter(|| sk.unseal(&ct).expect("open")));
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(40)
        .without_plots()
        .configure_from_args()
}

criterion_group! { name = benches; config = config(); targets = floor, pushseal, hpke_crate, sealed_box }
criterion_main!(benches);
