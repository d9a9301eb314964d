//! The bodies of PushSeal's fuzz targets, one function per target, and the
//! seed inputs they start from.
//!
//! Two programs include this file: the libFuzzer binaries in `sdk-core/fuzz/`
//! (`#[path]` module, one binary per target) and the stable test
//! `tests/fuzz_regressions.rs`, which runs every seed, every saved regression
//! input and a batch of mutated seeds through the same bodies on every
//! `cargo test`. A body panics only when PushSeal breaks a rule it promises;
//! every rejection of hostile input must be a typed error.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pushseal::envelope::{self, Envelope, HEADER_LEN, MIN_LEN};
use pushseal::envelope_v2;
use pushseal::hpke::Ephemeral;
use pushseal::padding::{self, BUCKETS, MAX_PLAINTEXT_LEN};
use pushseal::replay::{ReplayStore, reachable_expiry};
use pushseal::xwing::{ESEED_LEN, Eseed};
use pushseal::{
    ApnsOptions, BareEnvelope, DeviceKeyring, DeviceSecretKey, Error, ErrorKind, FcmOptions, FileReplayStore,
    MemoryReplayStore, Message, MessageId, Payload, Sender, SenderSecretKey, Target,
};
use pushseal::{
    DevicePublicKey, DevicePublicKeyV2, DeviceSecretKeyV2, Registration, SenderSigningKey, SenderVerifyingKey,
};

/// The device clock every body uses: 2026-01-01T00:00:00Z.
pub const NOW: u64 = 1_767_225_600;
/// The fixture's device key (current), sender key, retired device key and a
/// sender the device does not trust: fixed, so seeds reach deep code.
const DEVICE: [u8; 32] = [0x11; 32];
const RETIRED: [u8; 32] = [0x22; 32];
const SENDER: [u8; 32] = [0x33; 32];
const STRANGER: [u8; 32] = [0x44; 32];
/// The version 2 fixture's keys: the device's current and retired X-Wing
/// seeds, the trusted sender's Ed25519 seed and an untrusted signer's.
const DEVICE_V2: [u8; 32] = [0x55; 32];
const RETIRED_V2: [u8; 32] = [0x66; 32];
const SIGNER: [u8; 32] = [0x77; 32];
const STRANGER_SIGNER: [u8; 32] = [0x88; 32];

/// A fuzz target's body: panics only if PushSeal breaks one of its rules.
pub type Body = fn(&[u8]);

/// Every target: its name (the binary's and the corpus folder's) and its body.
pub const TARGETS: [(&str, Body); 11] = [
    ("envelope_parse", envelope_parse),
    ("open_envelope", open_envelope),
    ("open_apns", open_apns),
    ("open_fcm", open_fcm),
    ("open_plaintext", open_plaintext),
    ("unpad", unpad),
    ("keyring", keyring),
    ("replay_file", replay_file),
    ("open_v2", open_v2),
    ("open_v2_plaintext", open_v2_plaintext),
    ("key_texts", key_texts),
];

/// The device and sender every open target uses.
struct Fixture {
    device: DeviceKeyring,
    sender_key: SenderSecretKey,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let b64 = |k: &[u8; 32]| URL_SAFE_NO_PAD.encode(k);
        let sender = SenderSecretKey::from_bytes(SENDER).public_key();
        let stored = format!(
            r#"{{"format":"pushseal-keyring-v1","current":"{}","retired":[{{"key":"{}","usable_until":{}}}],"trusted_senders":["{}"]}}"#,
            b64(&DEVICE),
            b64(&RETIRED),
            NOW + 3600,
            sender.to_base64(),
        );
        let device = DeviceKeyring::from_bytes(stored.as_bytes()).expect("the fixture keyring loads");
        Fixture { device, sender_key: SenderSecretKey::from_bytes(SENDER) }
    })
}

/// The rules every error obeys, whatever the input.
fn check_error(e: &Error) {
    let kind = e.kind();
    assert_eq!(ErrorKind::from_name(kind.name()), Some(kind));
    let text = e.to_string();
    assert!(!text.is_empty() && !text.contains('\n'), "error message is not one line: {text:?}");
}

/// Opens `payload` with the fixture at [`NOW`] and a fresh replay store, then
/// checks the result: an error is well formed; a notification is within its
/// time window and a second open of the same payload is a replay.
fn open_and_check(payload: Payload<'_>) {
    let _ = open_and_check_with(&fixture().device, payload);
}

/// [`open_and_check`] with the keyring `device`; returns the first open's result.
fn open_and_check_with(device: &DeviceKeyring, payload: Payload<'_>) -> pushseal::Result<()> {
    let store = MemoryReplayStore::new();
    match device.open(payload, &store, NOW) {
        Ok(n) => {
            assert!(n.sent_at <= n.expires_at);
            assert!(n.check_time(NOW).is_ok());
            assert_eq!(store.len(), 1);
            assert_eq!(device.open(payload, &store, NOW).unwrap_err(), Error::Replayed);
            Ok(())
        }
        Err(e) => {
            check_error(&e);
            assert!(store.is_empty(), "a rejected payload was recorded");
            Err(e)
        }
    }
}

/// Envelope bytes: `Envelope::parse` and `Payload::inspect`.
pub fn envelope_parse(data: &[u8]) {
    match Envelope::parse(data) {
        Ok(env) => {
            assert!(data.len() >= MIN_LEN);
            assert_eq!(env.header_bytes(), &data[..HEADER_LEN]);
            assert_eq!(env.ciphertext(), &data[HEADER_LEN..]);
            assert_eq!(env.plaintext_len() + MIN_LEN, data.len());
            let h = env.header();
            assert_eq!((h.version, &h.recipient.to_bytes()[..]), (envelope::VERSION, &data[1..9]));
            assert_eq!((&h.sender.to_bytes()[..], &h.enc[..]), (&data[9..17], &data[17..49]));
            let text = URL_SAFE_NO_PAD.encode(data);
            match Payload::Envelope(&text).inspect() {
                Ok(inspected) => assert_eq!(inspected, (*h, env.plaintext_len())),
                // A device decodes no envelope text over the largest envelope's.
                Err(e) => assert!(data.len() > envelope::MAX_LEN && e.kind() == ErrorKind::PayloadTooLarge, "{e:?}"),
            }
        }
        Err(e) => {
            check_error(&e);
            assert!(matches!(e.kind(), ErrorKind::Truncated | ErrorKind::UnsupportedVersion), "{e:?}");
        }
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Err(e) = Payload::Envelope(text).inspect()
    {
        check_error(&e);
    }
}

/// An envelope as the app's own transport hands it over: the input as text,
/// and the input as envelope bytes (in their canonical text form).
pub fn open_envelope(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        open_and_check(Payload::Envelope(text));
    }
    open_and_check(Payload::Envelope(&URL_SAFE_NO_PAD.encode(data)));
}

/// An APNs `userInfo` as JSON text.
pub fn open_apns(data: &[u8]) {
    open_and_check(Payload::ApnsJson(&String::from_utf8_lossy(data)));
}

/// The FCM data map, one `key=value` entry per line (a line without `=` is a
/// key with an empty value).
pub fn open_fcm(data: &[u8]) {
    open_and_check(Payload::FcmData(&fcm_map(data)));
}

fn fcm_map(data: &[u8]) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(data);
    text.lines().map(|l| l.split_once('=').unwrap_or((l, ""))).map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

/// A padded plaintext sealed by the trusted sender: what a compromised (or
/// buggy) sender can make the device decrypt. Everything after the HPKE tag
/// check is exercised: padding, notification JSON, time checks, replay.
pub fn open_plaintext(data: &[u8]) {
    let f = fixture();
    let env = envelope::seal(&f.sender_key, &f.device.public_key(), data).expect("sealing never fails");
    let text = URL_SAFE_NO_PAD.encode(&env);
    let store = MemoryReplayStore::new();
    match f.device.open(Payload::Envelope(&text), &store, NOW) {
        Ok(n) => {
            let inner = padding::unpad(data).expect("opened, so the padding is valid");
            assert_eq!(pushseal::Notification::decode(inner).unwrap(), n);
            assert!(n.check_time(NOW).is_ok());
        }
        // A device decodes no envelope text over the largest envelope's.
        Err(e) if env.len() > envelope::MAX_LEN => assert_eq!(e.kind(), ErrorKind::PayloadTooLarge),
        Err(e) => {
            check_error(&e);
            let allowed =
                [ErrorKind::MalformedPadding, ErrorKind::Malformed, ErrorKind::Expired, ErrorKind::NotYetValid];
            assert!(allowed.contains(&e.kind()), "a well-sealed envelope failed with {e:?}");
        }
    }
}

/// Padding removal, and padding then removal.
pub fn unpad(data: &[u8]) {
    match padding::unpad(data) {
        Ok(inner) => {
            let rest = &data[inner.len()..];
            assert_eq!(rest.first(), Some(&0x80));
            assert!(rest[1..].iter().all(|&b| b == 0));
        }
        Err(e) => assert_eq!(e, Error::MalformedPadding),
    }
    let mut buf = data.to_vec();
    match padding::pad_in_place(&mut buf, 0) {
        Ok(()) => {
            assert!(BUCKETS.contains(&buf.len()) && buf.len() > data.len());
            assert_eq!(padding::unpad(&buf).unwrap(), data);
        }
        Err(e) => assert!(data.len() > MAX_PLAINTEXT_LEN && e.kind() == ErrorKind::PayloadTooLarge),
    }
}

/// A serialized keyring: it loads or is rejected with `InvalidKeyring`; what
/// loads serializes to a fixed point and never prints its secrets.
pub fn keyring(data: &[u8]) {
    match DeviceKeyring::from_bytes(data) {
        Ok(k) => {
            let bytes = k.to_bytes().unwrap();
            let again = DeviceKeyring::from_bytes(&bytes).unwrap();
            assert_eq!(*again.to_bytes().unwrap(), *bytes);
            assert_eq!(again.key_id(), k.key_id());
            assert_eq!(again.retired_keys(), k.retired_keys());
            assert_eq!(again.trusted_senders(), k.trusted_senders());
            // Version 2: the same keys, senders and policy; the registration
            // carries both current keys and reads back as itself.
            assert_eq!(again.public_key_v2(), k.public_key_v2());
            assert_eq!(again.retired_keys_v2(), k.retired_keys_v2());
            assert_eq!(again.trusted_senders_v2(), k.trusted_senders_v2());
            assert_eq!(again.accepts_v1(), k.accepts_v1());
            let registration = k.registration();
            assert_eq!(registration.v1(), &k.public_key());
            assert_eq!(registration.v2(), k.public_key_v2());
            assert_eq!(registration.to_string().parse::<Registration>().unwrap(), registration);
            let stored: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            let debug = format!("{k:?}");
            let mut secrets = vec![stored["current"].as_str().unwrap()];
            secrets.extend(stored["current_v2"].as_str());
            for list in ["retired", "retired_v2"] {
                secrets.extend(stored[list].as_array().into_iter().flatten().filter_map(|r| r["key"].as_str()));
            }
            for secret in secrets {
                assert!(!debug.contains(secret), "Debug shows a secret key");
            }
        }
        Err(e) => {
            check_error(&e);
            assert_eq!(e.kind(), ErrorKind::InvalidKeyring);
        }
    }
}

/// Runs `f` with this thread's scratch folder for replay files. Each thread
/// has its own (tests run in parallel), removed when the thread ends.
fn with_replay_dir<T>(f: impl FnOnce(&Path) -> T) -> T {
    thread_local! {
        static DIR: tempfile::TempDir = tempfile::Builder::new()
            .prefix("pushseal-fuzz-replay-")
            .tempdir()
            .expect("a temporary folder");
    }
    DIR.with(|dir| f(dir.path()))
}

/// A replay file's record: a message id and its `expires_at`.
type ReplayRecord = ([u8; 16], u64);

/// The records of a replay file, parsed independently of the library: the
/// floor and the whole records (a torn tail is ignored), or nothing if the
/// header is not `PSREPLY1` (a damaged file).
fn parse_replay_file(bytes: &[u8]) -> Option<(u64, Vec<ReplayRecord>)> {
    if bytes.len() < 16 || &bytes[..8] != b"PSREPLY1" {
        return None;
    }
    let floor = u64::from_le_bytes(bytes[8..16].try_into().unwrap());
    let records = bytes[16..]
        .chunks_exact(24)
        .map(|r| (r[..16].try_into().unwrap(), u64::from_le_bytes(r[16..].try_into().unwrap())))
        .collect();
    Some((floor, records))
}

/// A replay store file: the first byte picks the capacity (0 to 7), the rest
/// is the file. It must load without panicking; a file without a header fails
/// closed (the first call reports it, and the floor becomes the reachable
/// bound); otherwise it must reject every id it holds (with its expiry
/// lowered to the reachable bound), accept a new id once, stay within its
/// bound and stay well formed.
pub fn replay_file(data: &[u8]) {
    let (capacity, contents) = match data.split_first() {
        Some((&c, rest)) => (usize::from(c % 8), rest),
        None => (0, data),
    };
    let path = with_replay_dir(|dir| dir.join("replay.bin"));
    std::fs::write(&path, contents).unwrap();
    let store = FileReplayStore::open_with_capacity(&path, capacity).unwrap();
    let reach = reachable_expiry(0);
    let (floor, records) = match parse_replay_file(contents) {
        Some((floor, records)) => {
            assert_eq!(store.len().unwrap(), records.len());
            (floor.min(reach), records.into_iter().map(|(id, exp)| (id, exp.min(reach))).collect())
        }
        None => {
            let first = store.check_and_record(&[0x5a; 16], reach, 0);
            assert!(matches!(first, Err(Error::Storage(_))), "a damaged file gave {first:?}");
            (reach, Vec::new())
        }
    };
    for (id, exp) in &records {
        assert_eq!(store.check_and_record(id, *exp, 0), Err(Error::Replayed));
    }
    let mut fresh = [0xa5u8; 16];
    while records.iter().any(|(id, _)| *id == fresh) {
        fresh[0] = fresh[0].wrapping_add(1);
    }
    let exp = floor.saturating_add(1).min(reach);
    let first = store.check_and_record(&fresh, exp, 0);
    if floor == reach {
        assert_eq!(first, Err(Error::Replayed));
    } else {
        assert_eq!(first, Ok(()));
        assert!(store.len().unwrap() <= capacity);
        let after = std::fs::read(&path).unwrap();
        assert!(after.starts_with(b"PSREPLY1") && (after.len() - 16).is_multiple_of(24), "rewritten file is malformed");
    }
    assert_eq!(store.check_and_record(&fresh, exp, 0), Err(Error::Replayed));
    for (id, exp) in &records {
        assert_eq!(store.check_and_record(id, *exp, 0), Err(Error::Replayed));
    }
}

/// The payload of `msg` sealed deterministically by the sender `from`.
fn seal<T: Target>(to: &DeviceSecretKey, from: [u8; 32], msg: &Message, target: &T, n: u8, now: u64) -> T::Payload {
    let sender = Sender::new(SenderSecretKey::from_bytes(from));
    let eph = Ephemeral::derive(&[n; 32]).unwrap();
    let id = MessageId::from_bytes([n; 16]);
    sender.seal_with(&to.public_key(), msg, target, id, now, &eph).unwrap().payload
}

/// The messages the seeds carry: short, full, non-ASCII, and near the largest bucket.
fn messages() -> Vec<Message> {
    vec![
        Message::new("Lab results", "Your results from Tuesday are ready."),
        Message::new("Appointment", "Tomorrow 10:00")
            .with_data("ref", "appt-22")
            .with_thread_id("care-team")
            .with_category("reminder")
            .with_badge(3)
            .with_sound("default")
            .with_ttl(600),
        Message::new("Résumé — 検査", "\u{1f48a} \"quoted\" \\ back\nslash"),
        Message::new("", "x".repeat(1900)),
    ]
}

/// The seed inputs of one target: valid inputs made with the fixture's keys
/// (so the fuzzer starts past every check), and the values of every JSON
/// file in `test-vectors/` that fit the target.
pub fn seeds(target: &str, vectors_dir: &Path) -> Vec<Vec<u8>> {
    let f = fixture();
    let device = DeviceSecretKey::from_bytes(DEVICE);
    let retired = DeviceSecretKey::from_bytes(RETIRED);
    let mut envelopes = Vec::new();
    let mut apns = Vec::new();
    let mut fcm = Vec::new();
    for (n, msg) in messages().iter().enumerate() {
        let n = n as u8;
        for (to, from, now) in [(&device, SENDER, NOW), (&retired, SENDER, NOW - 60), (&device, STRANGER, NOW)] {
            envelopes.push(seal(to, from, msg, &BareEnvelope, n, now));
        }
        apns.push(seal(&device, SENDER, msg, &ApnsOptions::default(), n + 10, NOW).body.into_bytes());
        apns.push(seal(&device, SENDER, msg, &ApnsOptions::background(), n + 20, NOW).body.into_bytes());
        let m = seal(&device, SENDER, msg, &FcmOptions::with_token("t"), n + 30, NOW);
        let json: serde_json::Value = serde_json::from_str(&m.json).unwrap();
        let data = json["data"].as_object().unwrap();
        let lines: Vec<String> = data.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap())).collect();
        fcm.push(format!("{}\ngoogle.message_id=0:1767225600", lines.join("\n")).into_bytes());
    }
    // An expired one and one from the future.
    for (now, n) in [(NOW - 200_000, 40), (NOW + 10_000, 41)] {
        envelopes.push(seal(&device, SENDER, &messages()[0], &BareEnvelope, n, now));
    }
    let raw: Vec<Vec<u8>> = envelopes.iter().map(|t| URL_SAFE_NO_PAD.decode(t).unwrap()).collect();
    let vectors = vector_values(vectors_dir);

    let mut out: Vec<Vec<u8>> = match target {
        "envelope_parse" => raw.iter().cloned().chain(vectors.bytes.iter().cloned()).collect(),
        "open_envelope" => envelopes
            .iter()
            .map(|t| t.clone().into_bytes())
            .chain(raw.iter().cloned())
            .chain(vectors.texts.iter().map(|t| t.clone().into_bytes()))
            .collect(),
        "open_apns" => apns.into_iter().chain(vectors.objects.iter().cloned()).collect(),
        "open_fcm" => fcm,
        "open_plaintext" => {
            let mut out = Vec::new();
            for (n, msg) in messages().iter().enumerate() {
                let mut pt = Vec::new();
                let text = seal(&device, SENDER, msg, &BareEnvelope, n as u8 + 50, NOW);
                let bytes = URL_SAFE_NO_PAD.decode(text).unwrap();
                let padded = Envelope::parse(&bytes).unwrap().open(&device, &f.sender_key.public_key()).unwrap();
                pt.extend_from_slice(&padded);
                out.push(pt);
            }
            out
        }
        "unpad" => {
            let mut out: Vec<Vec<u8>> = vec![b"\x80".to_vec(), b"abc\x80\0\0".to_vec(), vec![0; 8]];
            let mut long = b"{\"title\":\"x\"}".to_vec();
            padding::pad_in_place(&mut long, 0).unwrap();
            out.push(long);
            out.extend(vectors.bytes.iter().take(64).cloned());
            out
        }
        "keyring" => {
            let mut out = vec![f.device.to_bytes().unwrap().to_vec()];
            let mut bare = DeviceKeyring::from_secret_key(DeviceSecretKey::from_bytes(DEVICE));
            out.push(bare.to_bytes().unwrap().to_vec());
            bare.trust_sender(f.sender_key.public_key()).unwrap();
            bare.trust_sender(SenderSecretKey::from_bytes(STRANGER).public_key()).unwrap();
            out.push(bare.to_bytes().unwrap().to_vec());
            // Mixed versions: the version 2 fixture, the same refusing
            // version 1, and a version 1 keyring that pins a version 2 sender.
            let v2 = fixture_v2();
            out.push(v2.device.to_bytes().unwrap().to_vec());
            let mut strict = DeviceKeyring::from_bytes(&v2.device.to_bytes().unwrap()).unwrap();
            strict.accept_v1(false);
            strict.remove_sender(f.sender_key.key_id());
            out.push(strict.to_bytes().unwrap().to_vec());
            bare.trust_sender_v2(v2.signer.verifying_key());
            out.push(bare.to_bytes().unwrap().to_vec());
            out.extend(vectors.objects.iter().cloned());
            out
        }
        "replay_file" => replay_seeds(),
        "open_v2" => v2_envelope_seeds(&raw)
            .into_iter()
            .chain(vectors.bytes.iter().filter(|b| b.first() == Some(&2)).cloned())
            .collect(),
        "open_v2_plaintext" => v2_plaintext_seeds(),
        "key_texts" => key_text_seeds(),
        other => panic!("unknown fuzz target {other}"),
    };
    out.sort();
    out.dedup();
    out
}

/// Replay files written by the real store (with their capacity byte first).
fn replay_seeds() -> Vec<Vec<u8>> {
    let dir = with_replay_dir(|dir| dir.join("seeds"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = vec![vec![4], [&[4u8][..], b"PSREPLY1"].concat()];
    for (capacity, count) in [(4usize, 6u8), (7, 3), (0, 2)] {
        let path = dir.join(format!("r{capacity}"));
        let _ = std::fs::remove_file(&path);
        let store = FileReplayStore::open_with_capacity(&path, capacity).unwrap();
        for n in 0..count {
            store.check_and_record(&[n; 16], 1000 + u64::from(n), 0).unwrap();
        }
        let bytes = std::fs::read(&path).unwrap();
        out.push([&[capacity as u8][..], &bytes].concat());
        // A torn append.
        out.push([&[capacity as u8][..], &bytes, &[7u8; 10][..]].concat());
    }
    out
}

/// Values found in the test vector files.
#[derive(Default)]
struct VectorValues {
    /// Hex and base64url strings, decoded.
    bytes: Vec<Vec<u8>>,
    /// Strings that decode as base64url of at least an envelope's minimum length.
    texts: Vec<String>,
    /// JSON objects (as text), and strings holding JSON objects.
    objects: Vec<Vec<u8>>,
}

/// Walks every `*.json` file in `dir` (any schema) and collects its values.
fn vector_values(dir: &Path) -> VectorValues {
    let mut out = VectorValues::default();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    for file in files.iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        walk(&value, &mut out);
    }
    // The RFC 9180 file alone has over a thousand values: keep a sample.
    for list in [&mut out.bytes, &mut out.objects] {
        list.sort();
        list.dedup();
        list.truncate(200);
    }
    out.texts.sort();
    out.texts.dedup();
    out.texts.truncate(100);
    out
}

fn walk(value: &serde_json::Value, out: &mut VectorValues) {
    use serde_json::Value;
    match value {
        Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
        Value::Object(map) => {
            if map.contains_key("pushseal") || map.contains_key("format") {
                out.objects.push(value.to_string().into_bytes());
            }
            map.values().for_each(|v| walk(v, out));
        }
        Value::String(s) => {
            if s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                if let Ok(b) = hex_decode(s) {
                    out.bytes.push(b);
                }
            } else if let Ok(b) = URL_SAFE_NO_PAD.decode(s) {
                if b.len() >= MIN_LEN {
                    out.texts.push(s.clone());
                }
                out.bytes.push(b);
            } else if s.trim_start().starts_with('{') {
                out.objects.push(s.clone().into_bytes());
            }
        }
        _ => {}
    }
}

fn hex_decode(s: &str) -> Result<Vec<u8>, ()> {
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok()).ok_or(())).collect()
}

/// The keyring every open target uses, for tests that check the seeds.
pub fn fixture_keyring() -> &'static DeviceKeyring {
    &fixture().device
}

/// The keyring and keys the version 2 targets use: a device holding version
/// 1 and version 2 keys (current and retired of each), trusting the version
/// 1 fixture sender and pinning one version 2 sender.
struct FixtureV2 {
    device: DeviceKeyring,
    /// The pinned sender's signing key.
    signer: SenderSigningKey,
    /// The device's version 2 keys, current then retired.
    keys: [DeviceSecretKeyV2; 2],
}

fn fixture_v2() -> &'static FixtureV2 {
    static FIXTURE: OnceLock<FixtureV2> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let b64 = |k: &[u8; 32]| URL_SAFE_NO_PAD.encode(k);
        let signer = SenderSigningKey::from_seed(&SIGNER);
        let stored = format!(
            r#"{{"format":"pushseal-keyring-v2","current":"{}","retired":[{{"key":"{}","usable_until":{}}}],"trusted_senders":["{}"],"current_v2":"{}","retired_v2":[{{"key":"{}","usable_until":{}}}],"trusted_senders_v2":["{}"],"accept_v1":true}}"#,
            b64(&DEVICE),
            b64(&RETIRED),
            NOW + 3600,
            SenderSecretKey::from_bytes(SENDER).public_key().to_base64(),
            b64(&DEVICE_V2),
            b64(&RETIRED_V2),
            NOW + 3600,
            b64(signer.verifying_key().as_bytes()),
        );
        let device = DeviceKeyring::from_bytes(stored.as_bytes()).expect("the version 2 fixture keyring loads");
        let keys = [DeviceSecretKeyV2::from_seed(&DEVICE_V2), DeviceSecretKeyV2::from_seed(&RETIRED_V2)];
        FixtureV2 { device, signer, keys }
    })
}

/// The keyring the version 2 targets use, for tests that check the seeds.
pub fn fixture_keyring_v2() -> &'static DeviceKeyring {
    &fixture_v2().device
}

/// `sig_label || suite_id || pkR || A || signed` (SPEC.md section 12.5),
/// written here from the spec, not taken from the library.
fn v2_transcript(device: &DevicePublicKeyV2, sender: &SenderVerifyingKey, signed: &[u8]) -> Vec<u8> {
    [
        b"pushseal-v2 envelope signature".as_slice(),
        b"HPKE\x64\x7a\x00\x01\x00\x03",
        device.as_bytes(),
        sender.as_bytes(),
        signed,
    ]
    .concat()
}

/// What SPEC.md section 12.5 says the fixture device must answer to the
/// version 2 envelope `data` (its first byte is 2) up to the signature
/// check: the error kind, or `None` when the signature is the trusted
/// sender's own (Ed25519 signing is deterministic, and only the holder of
/// the key can make another valid signature), so the checks after it decide.
fn expected_v2_kind(data: &[u8]) -> Option<ErrorKind> {
    let f = fixture_v2();
    if URL_SAFE_NO_PAD.encode(data).len() > envelope_v2::MAX_TEXT_LEN {
        return Some(ErrorKind::PayloadTooLarge);
    }
    if data.len() < envelope_v2::MIN_LEN {
        return Some(ErrorKind::Truncated);
    }
    let id = |at: usize| data[at..at + 8].to_vec();
    let Some(device) = f.keys.iter().find(|k| k.key_id().to_bytes().to_vec() == id(1)) else {
        return Some(ErrorKind::UnknownRecipientKey);
    };
    if f.signer.key_id().to_bytes().to_vec() != id(9) {
        return Some(ErrorKind::UntrustedSender);
    }
    let (signed, signature) = data.split_at(data.len() - 64);
    let honest = f.signer.sign(&v2_transcript(device.public_key(), &f.signer.verifying_key(), signed));
    if signature != honest { Some(ErrorKind::InvalidSignature) } else { None }
}

/// Envelope bytes opened by a device with keys of both versions: a version
/// 2 envelope must meet SPEC.md section 12.5's checks in their order (a
/// truncated `enc`, a signature of the wrong length, a header naming a
/// version 1 key or an unknown signer each get their kind, and nothing but
/// the trusted sender's own signature gets past `invalid_signature`); its
/// header and summary match its bytes; a version 1 envelope opens as on a
/// version 1 device.
pub fn open_v2(data: &[u8]) {
    let f = fixture_v2();
    let text = URL_SAFE_NO_PAD.encode(data);
    if let Ok(header) = envelope_v2::parse(data) {
        assert!(data.len() >= envelope_v2::MIN_LEN && data[0] == envelope_v2::VERSION);
        assert_eq!((&header.recipient.to_bytes()[..], &header.sender.to_bytes()[..]), (&data[1..9], &data[9..17]));
        if text.len() <= envelope_v2::MAX_TEXT_LEN {
            let summary = Payload::Envelope(&text).summary().unwrap();
            assert_eq!((summary.version, summary.recipient, summary.sender), (2, header.recipient, header.sender));
            assert_eq!((summary.envelope_len, summary.padded_len), (data.len(), data.len() - envelope_v2::MIN_LEN));
        }
    }
    let result = open_and_check_with(&f.device, Payload::Envelope(&text));
    if data.first() != Some(&envelope_v2::VERSION) {
        return;
    }
    match (expected_v2_kind(data), result) {
        (Some(kind), Err(e)) => assert_eq!(e.kind(), kind, "{e:?}"),
        (Some(kind), Ok(())) => panic!("a version 2 envelope opened where SPEC.md says {}", kind.name()),
        (None, Ok(())) => {}
        (None, Err(e)) => {
            let allowed = [
                ErrorKind::Tampered,
                ErrorKind::MalformedPadding,
                ErrorKind::Malformed,
                ErrorKind::Expired,
                ErrorKind::NotYetValid,
            ];
            assert!(allowed.contains(&e.kind()), "a validly signed envelope failed with {e:?}");
        }
    }
}

/// A padded plaintext sealed as version 2 by the pinned sender to the
/// device's current version 2 key: what a compromised (or buggy) version 2
/// sender can make the device decrypt. As [`open_plaintext`], past the
/// signature, the decapsulation and the AEAD.
pub fn open_v2_plaintext(data: &[u8]) {
    let f = fixture_v2();
    let eseed = Eseed::from_bytes([0x5a; ESEED_LEN]);
    let (env, _) =
        envelope_v2::seal_with(&f.signer, f.keys[0].public_key(), data, &eseed).expect("sealing never fails");
    let text = URL_SAFE_NO_PAD.encode(&env);
    let store = MemoryReplayStore::new();
    match f.device.open(Payload::Envelope(&text), &store, NOW) {
        Ok(n) => {
            let inner = padding::unpad(data).expect("opened, so the padding is valid");
            assert_eq!(pushseal::Notification::decode(inner).unwrap(), n);
            assert!(n.check_time(NOW).is_ok());
        }
        Err(e) if env.len() > envelope_v2::MAX_LEN => assert_eq!(e.kind(), ErrorKind::PayloadTooLarge),
        Err(e) => {
            check_error(&e);
            let allowed =
                [ErrorKind::MalformedPadding, ErrorKind::Malformed, ErrorKind::Expired, ErrorKind::NotYetValid];
            assert!(allowed.contains(&e.kind()), "a well-sealed version 2 envelope failed with {e:?}");
        }
    }
}

/// A key text (registration, device or sender version 2 public key, or
/// version 2 secret key), as the input's text: each parser refuses it with
/// `invalid_encoding` (or `invalid_key_length`), or reads a key whose text
/// is exactly the input without its surrounding white space (one canonical
/// form: SPEC.md sections 3.1, 12.2 and 12.3) and whose `Debug` shows no secret.
pub fn key_texts(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let canonical = pushseal::trim_pasted_text(text);
    let refused = |e: Error| {
        check_error(&e);
        assert!(matches!(e.kind(), ErrorKind::InvalidEncoding | ErrorKind::InvalidKeyLength), "{e:?}");
    };
    match text.parse::<Registration>() {
        Ok(r) => {
            assert_eq!(r.to_string(), canonical);
            assert_eq!(r.to_string().parse::<Registration>().unwrap(), r);
            if r.v2().is_none() {
                assert_eq!(Some(*r.v1()), canonical.parse::<DevicePublicKey>().ok());
            }
        }
        Err(e) => refused(e),
    }
    match text.parse::<DevicePublicKeyV2>() {
        Ok(k) => assert_eq!(k.to_string(), canonical),
        Err(e) => refused(e),
    }
    match text.parse::<SenderVerifyingKey>() {
        Ok(k) => assert_eq!(k.to_string(), canonical),
        Err(e) => refused(e),
    }
    match DeviceSecretKeyV2::from_secret_text(text) {
        Ok(k) => {
            assert_eq!(*k.to_secret_text(), canonical);
            let body = canonical.rsplit(':').next().unwrap();
            assert!(!format!("{k:?}").contains(body));
        }
        Err(e) => refused(e),
    }
    match SenderSigningKey::from_secret_text(text) {
        Ok(k) => {
            assert_eq!(*k.to_secret_text(), canonical);
            let body = canonical.rsplit(':').next().unwrap();
            assert!(!format!("{k:?}").contains(body));
        }
        Err(e) => refused(e),
    }
}

/// A sender of both versions, with the fixture's version 1 key and `signer`.
fn sender_v2(signer: [u8; 32]) -> Sender {
    Sender::new(SenderSecretKey::from_bytes(SENDER)).with_signing_key(SenderSigningKey::from_seed(&signer))
}

/// The envelope bytes of `msg` sealed as version 2 by `signer` to `to`, at `now`.
fn seal_v2(to: &DeviceSecretKeyV2, signer: [u8; 32], msg: &Message, n: u8, now: u64) -> Vec<u8> {
    let eseed = Eseed::from_bytes([n; ESEED_LEN]);
    let id = MessageId::from_bytes([n; 16]);
    let text = sender_v2(signer).seal_v2_with(to.public_key(), msg, &BareEnvelope, id, now, &eseed).unwrap().payload;
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

/// The `open_v2` seeds: valid version 2 envelopes to the current and the
/// retired key, from a stranger, expired and from the future; the hostile
/// forms of SPEC.md section 12.5 (a header naming the version 1 key, a
/// truncated `enc`, a signature a byte short or long, a signature of zeros);
/// and the version 1 envelopes `v1`.
fn v2_envelope_seeds(v1: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let f = fixture_v2();
    let [current, retired] = &f.keys;
    let mut out = Vec::new();
    for (n, msg) in messages().iter().enumerate() {
        let n = n as u8;
        out.push(seal_v2(current, SIGNER, msg, n, NOW));
        out.push(seal_v2(retired, SIGNER, msg, n + 10, NOW - 60));
        out.push(seal_v2(current, STRANGER_SIGNER, msg, n + 20, NOW));
    }
    out.push(seal_v2(current, SIGNER, &messages()[0], 40, NOW - 200_000));
    out.push(seal_v2(current, SIGNER, &messages()[0], 41, NOW + 10_000));
    let good = out[0].clone();
    let mut v1_id = good.clone();
    v1_id[1..9].copy_from_slice(&DeviceSecretKey::from_bytes(DEVICE).key_id().to_bytes());
    out.push(v1_id);
    out.push(good[..17 + 600].to_vec());
    out.push(good[..good.len() - 1].to_vec());
    out.push([&good[..], &[0]].concat());
    let mut zero_sig = good.clone();
    let len = zero_sig.len();
    zero_sig[len - 64..].fill(0);
    out.push(zero_sig);
    out.extend(v1.iter().take(4).cloned());
    out
}

/// The `open_v2_plaintext` seeds: the padded plaintexts of the seed messages.
fn v2_plaintext_seeds() -> Vec<Vec<u8>> {
    let f = fixture_v2();
    messages()
        .iter()
        .enumerate()
        .map(|(n, msg)| {
            let env = seal_v2(&f.keys[0], SIGNER, msg, n as u8 + 50, NOW);
            envelope_v2::open(&env, &f.keys[0], &f.signer.verifying_key()).unwrap().to_vec()
        })
        .collect()
}

/// The `key_texts` seeds: every kind of key text the version 2 keys have,
/// with white space around some, and a version 1 public key.
fn key_text_seeds() -> Vec<Vec<u8>> {
    let f = fixture_v2();
    let device = &f.keys[0];
    let registration = f.device.registration().to_string();
    let v1 = DeviceSecretKey::from_bytes(DEVICE).public_key().to_string();
    [
        registration.clone(),
        format!("  {registration}\n"),
        device.public_key().to_string(),
        f.signer.verifying_key().to_string(),
        device.to_secret_text().to_string(),
        f.signer.to_secret_text().to_string(),
        format!("{}\r\n", f.signer.to_secret_text().as_str()),
        v1,
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}
