//! Every PushSeal test vector in `test-vectors/` (positive, negative, replay
//! sequences), checked through the public API the way any other language's
//! consumer would: from the JSON alone. The RFC 9180 file has its own test
//! (`rfc9180.rs`). The files are written by `cargo run -p pushseal-vectors`.

mod targets;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use pushseal::envelope::{Envelope, INFO};
use pushseal::hpke::{self, AuthKey, Ephemeral, Mode};
use pushseal::keys::{Role, SECRET_KEY_PREFIX, SecretKey};
use pushseal::padding;
use pushseal::receipt::RECEIPT_LABEL;
use pushseal::{
    ApnsOptions, ApnsPushType, BareEnvelope, DeviceKeyring, DevicePublicKey, DeviceSecretKey, Error, ErrorKind,
    FcmOptions, KeyId, MemoryReplayStore, Message, MessageId, Notification, Payload, Receipt, ReceiptDigest,
    ReplayStore, Sealed, Sender, SenderPublicKey, SenderSecretKey, Target, verify_receipt,
};
use serde_json::{Value, json};
use targets::AnyTarget;
use x25519_dalek::{PublicKey, StaticSecret};

/// How many vectors the files hold: a vector added or lost must show up here.
const POSITIVE: usize = 19;
const NEGATIVE: usize = 128;
const SEQUENCES: usize = 8;
const STEPS: usize = 23;
const KEY_TEXTS: usize = 22;
const ERROR_KINDS: usize = 21;

fn dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../test-vectors"))
}

fn load(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(dir().join(name)).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(file["version"], 1, "{name}");
    assert!(file["description"].is_string(), "{name}");
    file["vectors"].as_array().unwrap().clone()
}

fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap_or_else(|| panic!("{field} is not a string in {v:.200}"))
}

fn u(v: &Value, field: &str) -> u64 {
    v[field].as_u64().unwrap_or_else(|| panic!("{field} is not an integer"))
}

fn opt(v: &Value, field: &str) -> Option<String> {
    v[field].as_str().map(str::to_owned)
}

fn bytes(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(s(v, field)).unwrap()
}

fn array32(v: &Value, field: &str) -> [u8; 32] {
    bytes(v, field).try_into().unwrap()
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(v.clone()).unwrap()
}

/// Checks a key pair's every form and returns the secret key.
fn key_pair<R: Role>(v: &Value) -> SecretKey<R> {
    let sk = SecretKey::<R>::from_bytes(array32(v, "secret_key"));
    let from_text = SecretKey::<R>::from_secret_text(s(v, "secret_key_text")).unwrap();
    assert_eq!(from_text.to_bytes(), sk.to_bytes());
    assert_eq!(sk.to_secret_text().as_str(), s(v, "secret_key_text"));
    public_key(v, &sk.public_key());
    sk
}

/// Checks a public key's forms against `pk`.
fn public_key<R: Role>(v: &Value, pk: &pushseal::keys::PublicKey<R>) {
    assert_eq!(pk.to_bytes(), array32(v, "public_key"));
    assert_eq!(pk.to_base64(), s(v, "public_key_base64url"));
    assert_eq!(s(v, "public_key_base64url").parse::<pushseal::keys::PublicKey<R>>().unwrap(), *pk);
    assert_eq!(pk.key_id(), KeyId::of(&pk.to_bytes()));
    assert_eq!(pk.key_id().to_string(), s(v, "key_id"));
}

fn message(v: &Value) -> Message {
    let mut m = Message::new(s(v, "title"), s(v, "body")).with_ttl(u(v, "ttl_secs"));
    m.data = string_map(&v["data"]);
    m.thread_id = opt(v, "thread_id");
    m.category = opt(v, "category");
    m.badge = v["badge"].as_u64().map(|b| u32::try_from(b).unwrap());
    m.sound = opt(v, "sound");
    m
}

fn apns_options(v: &Value) -> ApnsOptions {
    ApnsOptions {
        push_type: match s(v, "push_type") {
            "alert" => ApnsPushType::Alert,
            "background" => ApnsPushType::Background,
            other => panic!("push_type {other}"),
        },
        fallback_title: s(v, "fallback_title").to_owned(),
        fallback_body: opt(v, "fallback_body"),
        collapse_id: opt(v, "collapse_id"),
        topic: opt(v, "topic"),
    }
}

fn fcm_options(v: &Value) -> FcmOptions {
    FcmOptions { token: opt(v, "token"), collapse_key: opt(v, "collapse_key"), ..FcmOptions::default() }
}

fn target(v: &Value) -> AnyTarget {
    match s(v, "kind") {
        "envelope" => AnyTarget::Envelope,
        "apns" => AnyTarget::Apns(apns_options(&v["options"])),
        "fcm" => AnyTarget::Fcm(fcm_options(&v["options"])),
        other => panic!("target kind {other}"),
    }
}

/// A notification in the files' form: every field, absent ones as null / {}.
fn notification_json(n: &Notification) -> Value {
    let m = &n.message;
    json!({
        "id": n.id.to_string(), "sent_at": n.sent_at, "expires_at": n.expires_at,
        "title": m.title, "body": m.body, "data": m.data, "thread_id": m.thread_id,
        "category": m.category, "badge": m.badge, "sound": m.sound,
    })
}

/// Opens a payload as the vector gives it.
fn open(
    keyring: &DeviceKeyring,
    payload: &Value,
    replay: &dyn ReplayStore,
    now: u64,
) -> pushseal::Result<Notification> {
    match s(payload, "kind") {
        "envelope" => keyring.open(Payload::Envelope(s(payload, "value")), replay, now),
        "apns" => keyring.open(Payload::ApnsJson(s(payload, "value")), replay, now),
        "fcm" => {
            let map: HashMap<String, String> = serde_json::from_value(payload["value"].clone()).unwrap();
            keyring.open(Payload::FcmData(&map), replay, now)
        }
        other => panic!("payload kind {other}"),
    }
}

fn keyring(serialized: &str) -> DeviceKeyring {
    let keyring = DeviceKeyring::from_bytes(serialized.as_bytes()).unwrap();
    assert_eq!(keyring.to_bytes().unwrap().as_slice(), serialized.as_bytes(), "the keyring writes its bytes back");
    keyring
}

fn check_positive(v: &Value) {
    let name = s(v, "name");
    // Keys and keyring.
    let sender_sk: SenderSecretKey = key_pair(&v["sender"]);
    let device_sk: DeviceSecretKey = key_pair(&v["recipient"]);
    let kr = &v["keyring"];
    let device = keyring(s(kr, "serialized"));
    let current: DeviceSecretKey = key_pair(&kr["current"]);
    assert_eq!(device.key_id(), current.key_id());
    let retired: Vec<(KeyId, u64)> = kr["retired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (key_pair::<pushseal::keys::role::Device>(r).key_id(), u(r, "usable_until")))
        .collect();
    assert_eq!(device.retired_keys(), retired);
    let trusted = kr["trusted_senders"].as_array().unwrap();
    assert_eq!(device.trusted_senders().len(), trusted.len());
    for (pk, t) in device.trusted_senders().iter().zip(trusted) {
        public_key(t, pk);
    }

    // The sender: the same envelope for each target, the same platform payloads.
    let msg = message(&v["message"]);
    let id: MessageId = s(v, "message_id").parse().unwrap();
    let sent_at = u(v, "sent_at");
    let ikm = bytes(&v["ephemeral"], "ikm");
    let envelope = bytes(v, "envelope");
    let text = s(v, "envelope_base64url");
    let apns_opts = apns_options(&v["apns"]["options"]);
    let fcm_opts = fcm_options(&v["fcm"]["options"]);
    let sender = Sender::new(SenderSecretKey::from_bytes(array32(&v["sender"], "secret_key")));
    let to = device_sk.public_key();
    let eph = || Ephemeral::derive(&ikm).unwrap();
    let sealed_envelope = sender.seal_with(&to, &msg, &BareEnvelope, id, sent_at, &eph()).unwrap();
    let sealed_apns = sender.seal_with(&to, &msg, &apns_opts, id, sent_at, &eph()).unwrap();
    let sealed_fcm = sender.seal_with(&to, &msg, &fcm_opts, id, sent_at, &eph()).unwrap();
    check_sealed(v, &sealed_envelope, &device_sk);
    check_sealed(v, &sealed_apns, &device_sk);
    check_sealed(v, &sealed_fcm, &device_sk);
    assert_eq!(sealed_envelope.payload, text, "{name}: envelope text");
    let req = sealed_apns.payload;
    assert_eq!(req.body, s(&v["apns"], "body"), "{name}: APNs body");
    assert_eq!(req.body.len() as u64, u(&v["apns"], "body_len"));
    let headers: Vec<(String, String)> = serde_json::from_value(v["apns"]["headers"].clone()).unwrap();
    assert_eq!(req.headers, headers, "{name}: APNs headers");
    let m = sealed_fcm.payload;
    assert_eq!(m.json, s(&v["fcm"], "message"), "{name}: FCM message");
    assert_eq!(m.request_body(), s(&v["fcm"], "request_body"));
    let parsed: Value = serde_json::from_str(&m.json).unwrap();
    assert_eq!(parsed["data"], v["fcm"]["data"]);
    let limits = &v["max_plaintext_len"];
    assert_eq!(BareEnvelope.max_plaintext_len().unwrap() as u64, u(limits, "envelope"));
    assert_eq!(apns_opts.max_plaintext_len().unwrap() as u64, u(limits, "apns"));
    assert_eq!(fcm_opts.max_plaintext_len().unwrap() as u64, u(limits, "fcm"));

    // HPKE, value by value.
    let h = &v["hpke"];
    assert_eq!((u(h, "mode"), u(h, "kem_id"), u(h, "kdf_id"), u(h, "aead_id")), (2, 0x20, 1, 3));
    assert_eq!(bytes(h, "info"), INFO);
    assert_eq!(s(h, "info_text").as_bytes(), INFO);
    let (sk_e, pk_e) = hpke::derive_key_pair(&ikm).unwrap();
    assert_eq!(sk_e.to_bytes(), array32(&v["ephemeral"], "secret_key"));
    assert_eq!(pk_e.to_bytes(), array32(&v["ephemeral"], "public_key"));
    let eph = Ephemeral::derive(&ikm).unwrap();
    let sk_s = StaticSecret::from(array32(&v["sender"], "secret_key"));
    let pk_s = PublicKey::from(&sk_s);
    let pk_r = PublicKey::from(device_sk.public_key().to_bytes());
    assert_eq!(*hpke::ephemeral_dh(&eph, &pk_r).unwrap(), array32(h, "dh_ephemeral"));
    assert_eq!(*hpke::static_dh(&sk_s, &pk_r).unwrap(), array32(h, "dh_static"));
    assert_eq!([eph.enc().as_slice(), pk_r.as_bytes(), pk_s.as_bytes()].concat(), bytes(h, "kem_context"));
    let (ss, enc) = hpke::encap(&eph, &pk_r, Some(AuthKey { sk: &sk_s, pk: &pk_s })).unwrap();
    assert_eq!(*ss, array32(h, "shared_secret"), "{name}: shared secret");
    let sk_r = StaticSecret::from(*device_sk.to_bytes());
    assert_eq!(*hpke::decap(&enc, &sk_r, &pk_r, Some(&pk_s)).unwrap(), *ss);
    assert_eq!(bytes(h, "key_schedule_context").len(), 65);
    assert_eq!(bytes(h, "key_schedule_context")[0], Mode::Auth as u8);
    assert_eq!(bytes(h, "secret").len(), 32);
    let mut ctx = hpke::key_schedule(Mode::Auth, ss.as_ref(), INFO, b"", b"").unwrap();
    let (key, base_nonce, exporter_secret) = ctx.debug_values();
    assert_eq!(key.to_vec(), bytes(h, "key"));
    assert_eq!(base_nonce.to_vec(), bytes(h, "base_nonce"));
    assert_eq!(exporter_secret.to_vec(), bytes(h, "exporter_secret"));
    assert_eq!((u(h, "seq"), bytes(h, "nonce")), (0, base_nonce.to_vec()));
    let padded = bytes(v, "padded_plaintext");
    let ct = [bytes(v, "ciphertext"), bytes(v, "tag")].concat();
    assert_eq!(ctx.seal(&bytes(v, "aad"), &padded).unwrap(), ct, "{name}: ciphertext");
    let rc = &v["receipt"];
    let exporter_context = bytes(rc, "exporter_context");
    assert_eq!(exporter_context, [RECEIPT_LABEL, id.as_bytes()].concat());
    let mut receipt = vec![0u8; u(rc, "length") as usize];
    ctx.export(&exporter_context, &mut receipt).unwrap();
    assert_eq!(receipt, bytes(rc, "receipt"), "{name}: receipt");

    // The envelope, field by field, and back to the plaintext.
    let hd = &v["header"];
    let env = Envelope::parse(&envelope).unwrap();
    assert_eq!(envelope.len() as u64, u(v, "envelope_len"));
    assert_eq!(u(hd, "version"), 1);
    assert_eq!(env.header().version, 1);
    assert_eq!(env.header().recipient.to_string(), s(hd, "recipient_key_id"));
    assert_eq!(env.header().sender.to_string(), s(hd, "sender_key_id"));
    assert_eq!(env.header().enc, array32(hd, "enc"));
    assert_eq!(env.header().enc, enc);
    assert_eq!(env.header_bytes(), bytes(v, "aad").as_slice());
    assert_eq!(env.ciphertext(), ct.as_slice());
    assert_eq!(env.plaintext_len() as u64, u(v, "padded_len"));
    let decoded = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, text).unwrap();
    assert_eq!(decoded, envelope, "{name}: envelope text");
    assert_eq!(Payload::Envelope(text).inspect().unwrap(), (*env.header(), padded.len()));
    assert_eq!(env.open(&device_sk, &sender_sk.public_key()).unwrap().as_slice(), padded.as_slice());
    let plaintext = s(v, "plaintext").as_bytes();
    assert_eq!(plaintext.len() as u64, u(v, "plaintext_len"));
    assert_eq!(padding::unpad(&padded).unwrap(), plaintext);
    assert_eq!(padding::padded_len(plaintext.len()), Some(padded.len()));
    let mut repadded = plaintext.to_vec();
    padding::pad_in_place(&mut repadded, 0).unwrap();
    assert_eq!(repadded, padded);
    let decoded = Notification::decode(plaintext).unwrap();
    assert_eq!(notification_json(&decoded), v["expected"], "{name}: decoded plaintext");
    assert_eq!(decoded.message, msg);

    // The device: each of the three payloads, each with a fresh replay store.
    let fcm_data: HashMap<String, String> = serde_json::from_value(v["fcm"]["data"].clone()).unwrap();
    let now = u(v, "now");
    for payload in [Payload::Envelope(text), Payload::ApnsJson(s(&v["apns"], "body")), Payload::FcmData(&fcm_data)] {
        let n = device.open(payload, &MemoryReplayStore::new(), now).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(notification_json(&n), v["expected"], "{name}: opened notification");
    }

    // The delivery receipt: the device computes it, the sender's digest checks it.
    let (_, receipt) = device.open_with_receipt(Payload::Envelope(text), &MemoryReplayStore::new(), now).unwrap();
    assert_eq!(receipt.to_bytes().to_vec(), bytes(rc, "receipt"));
    assert_eq!(receipt.to_string(), s(rc, "receipt_base64url"));
    assert_eq!(s(rc, "receipt_base64url").parse::<Receipt>().unwrap(), receipt);
    let digest: ReceiptDigest = s(rc, "digest").parse().unwrap();
    assert_eq!(receipt.digest(), digest);
    assert_eq!(sealed_envelope.receipt_digest, digest, "{name}: receipt digest");
    assert!(verify_receipt(&digest, &receipt));
}

/// What a sealed result for any target shares with the positive vector `v`:
/// the envelope, the message id, the recipient, the expiry and the receipt digest.
fn check_sealed<P>(v: &Value, sealed: &Sealed<P>, device: &DeviceSecretKey) {
    let name = s(v, "name");
    assert_eq!(sealed.envelope, bytes(v, "envelope"), "{name}: envelope");
    assert_eq!(sealed.message_id, s(v, "message_id").parse::<MessageId>().unwrap(), "{name}: message id");
    assert_eq!(sealed.sender.to_string(), s(&v["sender"], "key_id"), "{name}: sender");
    assert_eq!(sealed.recipient, device.key_id(), "{name}: recipient");
    assert_eq!((sealed.sent_at, sealed.expires_at), (u(v, "sent_at"), u(&v["expected"], "expires_at")));
    assert_eq!(
        sealed.receipt_digest,
        s(&v["receipt"], "digest").parse::<ReceiptDigest>().unwrap(),
        "{name}: receipt digest"
    );
}

/// The secret key of the keyring's current device key, from its serialized form.
fn current_device_key(serialized: &str) -> DeviceSecretKey {
    let stored: Value = serde_json::from_str(serialized).unwrap();
    DeviceSecretKey::from_secret_text(&format!("{SECRET_KEY_PREFIX}{}", s(&stored, "current"))).unwrap()
}

fn check_negative(v: &Value) {
    let name = s(v, "name");
    let expected = ErrorKind::from_name(s(v, "expected_error")).unwrap_or_else(|| panic!("{name}: unknown kind"));
    match s(v, "operation") {
        "open" => {
            let device = keyring(s(v, "keyring"));
            let err = open(&device, &v["payload"], &MemoryReplayStore::new(), u(v, "now"))
                .err()
                .unwrap_or_else(|| panic!("{name}: opened"));
            assert_eq!(err.kind(), expected, "{name}: {err}");
            if v.get("envelope").is_some() && s(&v["payload"], "kind") == "envelope" {
                let text = s(&v["payload"], "value");
                // Decoded here, not by the device, which refuses a text over the size bound unread.
                let decoded = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, text).unwrap();
                assert_eq!(decoded, bytes(v, "envelope"), "{name}");
            }
            if v.get("padded_plaintext").is_some() {
                // Validly sealed: the envelope opens, and the padded plaintext is what fails.
                let envelope = bytes(v, "envelope");
                let env = Envelope::parse(&envelope).unwrap();
                let sender: SenderPublicKey =
                    *device.trusted_senders().iter().find(|s| s.key_id() == env.header().sender).unwrap();
                let device_sk = current_device_key(s(v, "keyring"));
                assert_eq!(env.open(&device_sk, &sender).unwrap().as_slice(), bytes(v, "padded_plaintext"));
            }
        }
        "seal" => {
            let sender = Sender::new(key_pair(&v["sender"]));
            let device: DevicePublicKey = s(&v["recipient"], "public_key_base64url").parse().unwrap();
            public_key(&v["recipient"], &device);
            let target = target(&v["target"]);
            let eph = Ephemeral::derive(&bytes(v, "ephemeral_ikm")).unwrap();
            let id = s(v, "message_id").parse().unwrap();
            let err = target
                .seal_with(&sender, &device, &message(&v["message"]), id, u(v, "sent_at"), &eph)
                .err()
                .unwrap_or_else(|| panic!("{name}: sealed"));
            assert_eq!(err.kind(), expected, "{name}: {err}");
            if let Some(size) = v["expected_size"].as_u64() {
                let max = u(v, "expected_max_plaintext") as usize;
                assert_eq!(err, Error::PayloadTooLarge { size: size as usize, max_plaintext: max }, "{name}");
                assert_eq!(target.max_plaintext_len().unwrap(), max, "{name}");
            }
        }
        other => panic!("{name}: operation {other}"),
    }
}

/// Returns the number of steps checked.
fn check_sequence(v: &Value) -> usize {
    let name = s(v, "name");
    let device = keyring(s(v, "keyring"));
    let store = MemoryReplayStore::new();
    let steps = v["steps"].as_array().unwrap();
    for (i, step) in steps.iter().enumerate() {
        let got = open(&device, &step["payload"], &store, u(step, "now"));
        match (step.get("expected"), step.get("expected_error")) {
            (Some(expected), None) => {
                let n = got.unwrap_or_else(|e| panic!("{name} step {i}: {e}"));
                assert_eq!(notification_json(&n), *expected, "{name} step {i}");
            }
            (None, Some(kind)) => {
                let err = got.err().unwrap_or_else(|| panic!("{name} step {i}: opened"));
                assert_eq!(err.kind().name(), kind.as_str().unwrap(), "{name} step {i}: {err}");
            }
            _ => panic!("{name} step {i}: needs exactly one of expected and expected_error"),
        }
    }
    steps.len()
}

#[test]
fn every_vector_file_has_a_consumer() {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "error-kinds.json",
            "hpke-pq-mlkem768x25519-sha256-chacha20poly1305.json",
            "key-texts.json",
            "negative.json",
            "positive.json",
            "replay-sequences.json",
            "rfc9180-x25519-sha256-chacha20poly1305.json",
            "v2.json"
        ]
    );
}

#[test]
fn every_test_vector_passes() {
    let positive = load("positive.json");
    let negative = load("negative.json");
    let sequences = load("replay-sequences.json");
    let mut names = Vec::new();
    let (mut p, mut n, mut q, mut steps) = (0, 0, 0, 0);
    for v in &positive {
        check_positive(v);
        names.push(s(v, "name").to_owned());
        p += 1;
    }
    let mut kinds = BTreeMap::new();
    for v in &negative {
        check_negative(v);
        names.push(s(v, "name").to_owned());
        *kinds.entry(s(v, "expected_error").to_owned()).or_insert(0) += 1;
        n += 1;
    }
    for v in &sequences {
        steps += check_sequence(v);
        names.push(s(v, "name").to_owned());
        q += 1;
    }
    let total = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), total, "vector names are unique");
    for kind in [
        "not_pushseal",
        "invalid_encoding",
        "truncated",
        "unsupported_version",
        "unknown_recipient_key",
        "untrusted_sender",
        "tampered",
        "zero_shared_secret",
        "malformed_padding",
        "malformed",
        "expired",
        "not_yet_valid",
        "payload_too_large",
    ] {
        assert!(kinds.contains_key(kind), "no negative vector for {kind}");
    }
    assert_eq!(
        (p, n, q, steps),
        (POSITIVE, NEGATIVE, SEQUENCES, STEPS),
        "checked {p} positive and {n} negative vectors and {q} replay sequences ({steps} steps)"
    );
    println!("checked {p} positive and {n} negative vectors and {q} replay sequences ({steps} steps)");
}

#[test]
fn every_key_text_vector_reads_as_stated() {
    // SPEC.md section 3.1: only space, tab, LF and CR around a key text; any
    // other text of the wrong form, whatever its length, is invalid_encoding.
    let vectors = load("key-texts.json");
    for v in &vectors {
        let (name, text) = (s(v, "name"), s(v, "text"));
        let got = match s(v, "role") {
            "public" => text.parse::<SenderPublicKey>().map(|k| k.to_base64()),
            "secret" => SenderSecretKey::from_secret_text(text).map(|k| k.public_key().to_base64()),
            other => panic!("{name}: role {other}"),
        };
        match (opt(v, "expected_public_key"), opt(v, "expected_error")) {
            (Some(expected), None) => assert_eq!(got.unwrap(), expected, "{name}"),
            (None, Some(kind)) => assert_eq!(got.unwrap_err().kind().name(), kind, "{name}"),
            _ => panic!("{name}: exactly one of expected_public_key and expected_error"),
        }
    }
    assert_eq!(vectors.len(), KEY_TEXTS);
}

#[test]
fn every_error_kind_takes_the_device_action_stated() {
    // SPEC.md section 9: the file lists every kind, each once, in the core's order.
    let vectors = load("error-kinds.json");
    let kinds: Vec<&str> = vectors.iter().map(|v| s(v, "kind")).collect();
    assert_eq!(kinds, ErrorKind::ALL.map(ErrorKind::name));
    for v in &vectors {
        let kind = ErrorKind::from_name(s(v, "kind")).unwrap();
        assert_eq!(kind.device_action().name(), s(v, "device_action"), "{kind}");
    }
    let mut actions: Vec<&str> = vectors.iter().map(|v| s(v, "device_action")).collect();
    actions.sort_unstable();
    actions.dedup();
    assert_eq!(actions, ["drop", "pass_through", "reregister", "show_fallback"]);
    assert_eq!(vectors.len(), ERROR_KINDS, "checked {} error kinds", vectors.len());
    println!("checked {} error kinds", vectors.len());
}
