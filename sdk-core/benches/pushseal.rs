//! PushSeal against the floor of its primitives and against the libraries a
//! user would pick instead, for 256-byte and 2 KB notifications, in one run.
//!
//! Benchmarks are named `<group>/<function>/<padded size>`:
//!
//! - `floor`: X25519 key generation, one X25519 (the Edwards route PushSeal
//!   uses, and the Montgomery ladder), the per-message HKDF-SHA256 work of
//!   HPKE mode auth, ChaCha20Poly1305 over the padded size; and the sums the
//!   ratios use, each run as one function: `seal` (key generation, two X25519,
//!   KDF, AEAD) and `open` (two X25519, KDF, AEAD), plus their `_ladder`
//!   variants. See `common/mod.rs` for the exact definition.
//! - `pushseal`: `Sender::seal` to a bare envelope and to an APNs request,
//!   without and with the sender's static-DH cache (sealing to the same
//!   device again); `DeviceKeyring::open` of the envelope and of the APNs
//!   `userInfo`, including the replay check against an in-memory store; the
//!   byte-level `envelope::seal` and `Envelope::open`.
//! - `hpke_crate`: the `hpke` crate, mode auth, same suite and sizes, in place.
//! - `crypto_box`: a libsodium-style sealed box (anonymous: one DH, XSalsa20Poly1305).
//!
//! `bench/run.sh` runs this several times, pools the samples and prints the
//! ratios from low percentiles; see BENCHMARKS.md.

mod common;

use std::hint::black_box;
use std::time::Duration;

use chacha20poly1305::{AeadInOut, ChaCha20Poly1305, KeyInit, Nonce};
use common::{Floor, FloorInput, HpkeCrate, SIZES, message_for, random32};
use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use pushseal::envelope::{self, Envelope, HEADER_LEN};
use pushseal::{
    ApnsOptions, BareEnvelope, DeviceKeyring, DeviceSecretKey, MemoryReplayStore, Payload, Sender, SenderSecretKey,
    padding, unix_now,
};

fn floor(c: &mut Criterion) {
    let mut g = c.benchmark_group("floor");
    g.sampling_mode(SamplingMode::Flat);
    let floor = Floor::new(random32(), random32());
    let header = [7u8; HEADER_LEN];
    for size in SIZES {
        let id = |name: &str| BenchmarkId::new(name, size);
        g.bench_function(id("x25519_keygen"), |b| b.iter(common::x25519_keygen));
        g.bench_function(id("x25519"), |b| b.iter(|| common::x25519(black_box(&floor.sk_s), black_box(&floor.pk_r))));
        g.bench_function(id("x25519_ladder"), |b| {
            b.iter(|| common::x25519_ladder(black_box(&floor.sk_s), black_box(&floor.pk_r)));
        });
        let (dh, kem_context) = ([3u8; 64], [4u8; 96]);
        g.bench_function(id("hkdf_sha256"), |b| {
            b.iter(|| common::floor_kdf(black_box(&dh), black_box(&kem_context), &floor.ksc));
        });
        let cipher = ChaCha20Poly1305::new(&[5u8; 32].into());
        let nonce = Nonce::from([6u8; 12]);
        let mut buf = vec![0u8; size];
        g.bench_function(id("chacha20poly1305"), |b| {
            b.iter(|| cipher.encrypt_inout_detached(&nonce, &header, buf.as_mut_slice().into()).expect("aead"));
        });

        let input = FloorInput::new(&floor, size);
        let mut buf = vec![0u8; size];
        g.bench_function(id("seal"), |b| b.iter(|| floor.seal(&header, &mut buf)));
        g.bench_function(id("seal_ladder"), |b| b.iter(|| floor.seal_ladder(&header, &mut buf)));
        g.bench_function(id("open"), |b| {
            b.iter(|| {
                buf.copy_from_slice(&input.ct);
                floor.open(&input.enc, &input.header, &mut buf, &input.tag)
            });
        });
        g.bench_function(id("open_ladder"), |b| {
            b.iter(|| {
                buf.copy_from_slice(&input.ct);
                floor.open_ladder(&input.enc, &input.header, &mut buf, &input.tag)
            });
        });
    }
    g.finish();
}

fn pushseal(c: &mut Criterion) {
    let mut g = c.benchmark_group("pushseal");
    g.sampling_mode(SamplingMode::Flat);
    let sender_key = random32();
    let sender = Sender::new(SenderSecretKey::from_bytes(sender_key));
    let cached = Sender::with_cache(SenderSecretKey::from_bytes(sender_key), 1024);
    let mut device = DeviceKeyring::generate().expect("keyring");
    device.trust_sender(sender.public_key()).expect("trust");
    let to = device.public_key();
    let apns = ApnsOptions::default();
    for size in SIZES {
        let id = |name: &str| BenchmarkId::new(name, size);
        let msg = message_for(size);
        let sealed = sender.seal(&to, &msg, &BareEnvelope).expect("seal");
        assert_eq!(Envelope::parse(&sealed.envelope).expect("parse").plaintext_len(), size, "bucket");

        g.bench_function(id("seal_envelope"), |b| b.iter(|| sender.seal(&to, &msg, &BareEnvelope)));
        g.bench_function(id("seal_apns"), |b| b.iter(|| sender.seal(&to, &msg, &apns)));
        g.bench_function(id("seal_envelope_cached"), |b| b.iter(|| cached.seal(&to, &msg, &BareEnvelope)));
        g.bench_function(id("seal_apns_cached"), |b| b.iter(|| cached.seal(&to, &msg, &apns)));

        let text = sealed.payload;
        let request = sender.seal(&to, &msg, &apns).expect("seal").payload;
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
        let mut padded = vec![b'x'; size / 2];
        padding::pad_in_place(&mut padded, 0).expect("pad");
        let sender_key = SenderSecretKey::from_bytes(random32());
        let device_key = DeviceSecretKey::from_bytes(random32());
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

fn hpke_crate(c: &mut Criterion) {
    let mut g = c.benchmark_group("hpke_crate");
    g.sampling_mode(SamplingMode::Flat);
    let peer = HpkeCrate::new();
    let aad = [7u8; HEADER_LEN];
    for size in SIZES {
        let id = |name: &str| BenchmarkId::new(name, size);
        let mut buf = vec![0x42u8; size];
        g.bench_function(id("seal"), |b| b.iter(|| peer.seal(&aad, &mut buf)));
        let mut sealed = vec![0x42u8; size];
        let info = peer.seal(&aad, &mut sealed);
        g.bench_function(id("open"), |b| {
            b.iter(|| {
                buf.copy_from_slice(&sealed);
                assert!(peer.open(&info, &aad, &mut buf));
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
