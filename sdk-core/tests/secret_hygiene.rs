//! Secret hygiene through the public API: no error message and no `Debug`
//! output ever contains plaintext or key bytes, secret values print redacted,
//! the buffers the API hands out holding secrets zeroize themselves, and the
//! library never writes a line of its own to stdout or stderr.
//!
//! The error scan runs every negative case below (each made with distinctive
//! plaintext and known keys, covering every rejection a device or a sender can
//! meet) and every vector of `test-vectors/negative.json`, and looks in each
//! error's `Display` and `Debug` for the plaintext and for the keys in hex
//! (both cases), base64url and secret-key text, whole or in any 12-character
//! window. Zeroization of freed heap memory is observed in `zeroize_heap.rs`.

mod targets;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pushseal::envelope::{self, Envelope};
use pushseal::hpke::Ephemeral;
use pushseal::keys::SECRET_KEY_PREFIX;
use pushseal::padding;
use pushseal::{
    ApnsOptions, ApnsPushType, BareEnvelope, DeviceKeyring, DevicePublicKey, DeviceSecretKey, Error, ErrorKind,
    FcmOptions, KeyId, MemoryReplayStore, Message, MessageId, Payload, Receipt, Sender, SenderPublicKey,
    SenderSecretKey,
};
use serde_json::Value;
use targets::AnyTarget;
use zeroize::Zeroizing;

const NOW: u64 = 1_767_225_600;
const DEVICE: [u8; 32] = *b"hygiene-device-secret-key-32-byt";
const RETIRED: [u8; 32] = *b"hygiene-retired-secret-key-32-by";
const SENDER: [u8; 32] = *b"hygiene-sender-secret-key-32-byt";
const STRANGER: [u8; 32] = *b"hygiene-stranger-secret-key-32-b";
const OTHER_DEVICE: [u8; 32] = *b"hygiene-other-device-key-32-byte";
const TITLE: &str = "HYGIENE-TITLE-hiv-test-positive";
const BODY: &str = "HYGIENE-BODY-viral-load-detected-4417";
const DATA_VALUE: &str = "HYGIENE-DATA-mrn-88231-oncology";

/// Everything that must never appear in an error or a `Debug` line: (label,
/// text, whether any 12-character window of it counts as a leak too).
struct Secrets(Vec<(String, String, bool)>);

impl Secrets {
    fn new() -> Self {
        Self(Vec::new())
    }

    /// Text that must not appear whole (ordinary words may, on their own).
    fn text(&mut self, label: &str, text: &str) {
        if text.len() >= 8 {
            self.0.push((label.to_owned(), text.to_owned(), false));
        }
    }

    /// Text of which no 12-character window may appear.
    fn distinctive(&mut self, label: &str, text: &str) {
        self.0.push((label.to_owned(), text.to_owned(), true));
    }

    /// A secret key in every form it is written in.
    fn key(&mut self, label: &str, bytes: &[u8]) {
        self.distinctive(&format!("{label} hex"), &hex::encode(bytes));
        self.distinctive(&format!("{label} HEX"), &hex::encode_upper(bytes));
        self.distinctive(&format!("{label} base64url"), &URL_SAFE_NO_PAD.encode(bytes));
    }

    /// Panics if `output` holds any secret, whole or (for distinctive ones)
    /// any 12-character window of it.
    fn assert_absent(&self, what: &str, output: &str) {
        for (label, secret, windows) in &self.0 {
            let window = if *windows { 12.min(secret.len()) } else { secret.len() };
            let found = (0..=secret.len() - window)
                .filter(|&i| secret.is_char_boundary(i) && secret.is_char_boundary(i + window))
                .any(|i| output.contains(&secret[i..i + window]));
            assert!(!found, "{what} contains ({label}): {output}");
        }
    }

    /// Scans an error's `Display` and `Debug`.
    fn assert_clean(&self, case: &str, err: &Error) {
        self.assert_absent(&format!("{case}: Display"), &err.to_string());
        self.assert_absent(&format!("{case}: Debug"), &format!("{err:?}"));
    }
}

fn fixture_secrets() -> Secrets {
    let mut s = Secrets::new();
    for (label, key) in
        [("device", DEVICE), ("retired", RETIRED), ("sender", SENDER), ("stranger", STRANGER), ("other", OTHER_DEVICE)]
    {
        s.key(label, &key);
    }
    for text in [TITLE, BODY, DATA_VALUE] {
        s.distinctive("plaintext", text);
    }
    s
}

struct Fixture {
    sender: Sender,
    device: DeviceKeyring,
    msg: Message,
}

fn fixture() -> Fixture {
    let sender = Sender::new(SenderSecretKey::from_bytes(SENDER));
    let stored = format!(
        r#"{{"format":"pushseal-keyring-v1","current":"{}","retired":[{{"key":"{}","usable_until":{}}}],"trusted_senders":["{}"]}}"#,
        URL_SAFE_NO_PAD.encode(DEVICE),
        URL_SAFE_NO_PAD.encode(RETIRED),
        NOW - 10,
        sender.public_key().to_base64(),
    );
    let device = DeviceKeyring::from_bytes(stored.as_bytes()).unwrap();
    let msg = Message::new(TITLE, BODY).with_data("ref", DATA_VALUE).with_ttl(3600);
    Fixture { sender, device, msg }
}

/// The envelope text of `msg` sealed deterministically by the sender `from`.
fn envelope_text(from: [u8; 32], to: &DevicePublicKey, msg: &Message, now: u64, n: u8) -> String {
    let sender = Sender::new(SenderSecretKey::from_bytes(from));
    let eph = Ephemeral::derive(&[n; 32]).unwrap();
    sender.seal_with(to, msg, &BareEnvelope, MessageId::from_bytes([n; 16]), now, &eph).unwrap().payload
}

/// A padded plaintext sealed by the fixture's sender to its device.
fn sealed_plaintext(padded: &[u8]) -> String {
    let to = DeviceSecretKey::from_bytes(DEVICE).public_key();
    URL_SAFE_NO_PAD.encode(envelope::seal(&SenderSecretKey::from_bytes(SENDER), &to, padded).unwrap())
}

fn padded(json: &str) -> Vec<u8> {
    let mut buf = json.as_bytes().to_vec();
    padding::pad_in_place(&mut buf, 0).unwrap();
    buf
}

/// Every negative case: (name, error). Each is made through the public API.
fn negative_cases() -> Vec<(String, Error)> {
    let f = fixture();
    let device_pk = f.device.public_key();
    let mut cases: Vec<(String, Error)> = Vec::new();
    let mut open = |name: &str, payload: Payload<'_>, now: u64| {
        let store = MemoryReplayStore::new();
        match f.device.open(payload, &store, now) {
            Ok(_) => panic!("{name}: opened"),
            Err(e) => cases.push((name.to_owned(), e)),
        }
    };

    let good = envelope_text(SENDER, &device_pk, &f.msg, NOW, 1);
    let bytes = URL_SAFE_NO_PAD.decode(&good).unwrap();
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);

    // Tampered, in every region of the envelope.
    for (region, at) in [
        ("version", 0),
        ("recipient id", 1),
        ("sender id", 9),
        ("enc", 17),
        ("ciphertext", 49),
        ("tag", bytes.len() - 1),
    ] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        open(&format!("flipped {region}"), Payload::Envelope(&b64(&bad)), NOW);
    }
    // Truncated and extended.
    for len in [0, 1, 9, 17, 48, 49, 64, bytes.len() - 1] {
        open(&format!("truncated to {len}"), Payload::Envelope(&b64(&bytes[..len])), NOW);
    }
    let mut longer = bytes.clone();
    longer.push(0);
    open("extended by one byte", Payload::Envelope(&b64(&longer)), NOW);
    // A low-order enc.
    let mut low = bytes.clone();
    low[17..49].fill(0);
    open("low-order enc", Payload::Envelope(&b64(&low)), NOW);
    // Wrong keys: an untrusted sender, another device, a retired key past its
    // deadline, and an envelope relabelled to this device but sealed to another.
    let untrusted = envelope_text(STRANGER, &device_pk, &f.msg, NOW, 2);
    open("untrusted sender", Payload::Envelope(&untrusted), NOW);
    let other_pk = DeviceSecretKey::from_bytes(OTHER_DEVICE).public_key();
    let elsewhere = envelope_text(SENDER, &other_pk, &f.msg, NOW, 3);
    open("sealed to another device", Payload::Envelope(&elsewhere), NOW);
    let retired_pk = DeviceSecretKey::from_bytes(RETIRED).public_key();
    let to_retired = envelope_text(SENDER, &retired_pk, &f.msg, NOW, 4);
    open("retired key past its deadline", Payload::Envelope(&to_retired), NOW);
    let mut relabelled = URL_SAFE_NO_PAD.decode(&elsewhere).unwrap();
    relabelled[1..9].copy_from_slice(&device_pk.key_id().to_bytes());
    open("relabelled recipient (wrong key)", Payload::Envelope(&b64(&relabelled)), NOW);
    // Time and replay.
    let old = envelope_text(SENDER, &device_pk, &f.msg, NOW - 100_000, 5);
    open("expired", Payload::Envelope(&old), NOW);
    let future = envelope_text(SENDER, &device_pk, &f.msg, NOW + 100_000, 6);
    open("not yet valid", Payload::Envelope(&future), NOW);
    {
        let store = MemoryReplayStore::new();
        f.device.open(Payload::Envelope(&good), &store, NOW).unwrap();
        cases.push(("replayed".into(), f.device.open(Payload::Envelope(&good), &store, NOW).unwrap_err()));
    }
    let mut open = |name: &str, payload: Payload<'_>, now: u64| {
        let store = MemoryReplayStore::new();
        match f.device.open(payload, &store, now) {
            Ok(_) => panic!("{name}: opened"),
            Err(e) => cases.push((name.to_owned(), e)),
        }
    };
    // Validly sealed plaintexts that are not valid notifications: the
    // plaintext is right there in what failed.
    let id = "00112233445566778899aabbccddeeff";
    let json =
        format!(r#"{{"id":"{id}","sent_at":{NOW},"expires_at":{},"title":"{TITLE}","body":"{BODY}"}}"#, NOW + 60);
    open("padding missing", Payload::Envelope(&sealed_plaintext(json.as_bytes())), NOW);
    open("padding marker wrong", Payload::Envelope(&sealed_plaintext(&[json.as_bytes(), b"\x81\0\0"].concat())), NOW);
    for (name, bad) in [
        ("unknown field", format!(r#"{{"id":"{id}","sent_at":1,"expires_at":2,"title":"t","body":"b","{TITLE}":1}}"#)),
        ("title not a string", format!(r#"{{"id":"{id}","sent_at":1,"expires_at":2,"title":5,"body":"{BODY}"}}"#)),
        ("id not hex", format!(r#"{{"id":"{BODY}","sent_at":1,"expires_at":2,"title":"{TITLE}","body":"b"}}"#)),
        ("expires before sent", format!(r#"{{"id":"{id}","sent_at":9,"expires_at":2,"title":"{TITLE}","body":"b"}}"#)),
        ("not JSON", format!("{TITLE} {BODY}")),
        ("trailing data", format!("{json} {DATA_VALUE}")),
    ] {
        open(&format!("plaintext {name}"), Payload::Envelope(&sealed_plaintext(&padded(&bad))), NOW);
    }
    // Payloads that are not PushSeal's, or not canonical, holding the text.
    open("APNs alert in clear", Payload::ApnsJson(&format!(r#"{{"aps":{{"alert":{{"title":"{TITLE}"}}}}}}"#)), NOW);
    open("APNs not JSON", Payload::ApnsJson(&format!(r#"{{"pushseal":{BODY}"#)), NOW);
    open("APNs pushseal not a string", Payload::ApnsJson(&format!(r#"{{"pushseal":{{"t":"{TITLE}"}}}}"#)), NOW);
    let clear_fcm = HashMap::from([("title".to_owned(), TITLE.to_owned()), ("body".to_owned(), BODY.to_owned())]);
    open("FCM data in clear", Payload::FcmData(&clear_fcm), NOW);
    open("envelope text not base64url", Payload::Envelope(&format!("{TITLE}+{BODY}=")), NOW);
    open("envelope text with padding", Payload::Envelope(&format!("{good}=")), NOW);

    // Keys and keyrings read from text.
    let secret_text = SenderSecretKey::from_bytes(SENDER).to_secret_text();
    let body = &secret_text[SECRET_KEY_PREFIX.len()..];
    for (name, text) in [
        ("secret text cut short", secret_text[..secret_text.len() - 1].to_owned()),
        ("secret text one char long", format!("{}A", secret_text.as_str())),
        ("secret text without prefix", body.to_owned()),
        ("secret text as hex", format!("{SECRET_KEY_PREFIX}{}", hex::encode(SENDER))),
    ] {
        cases.push((name.into(), SenderSecretKey::from_secret_text(&text).unwrap_err()));
    }
    cases.push(("secret as a public key".into(), secret_text.parse::<SenderPublicKey>().unwrap_err()));
    cases.push(("secret body as a public key".into(), format!("{body}x").parse::<DevicePublicKey>().unwrap_err()));
    cases.push(("secret bytes too short".into(), DeviceSecretKey::from_slice(&DEVICE[..31]).unwrap_err()));
    cases.push(("secret hex as a key id".into(), hex::encode(DEVICE).parse::<KeyId>().unwrap_err()));
    let device_b64 = URL_SAFE_NO_PAD.encode(DEVICE);
    for (name, stored) in [
        ("keyring key cut short", format!(r#"{{"format":"pushseal-keyring-v1","current":"{}"}}"#, &device_b64[..42])),
        ("keyring key as hex", format!(r#"{{"format":"pushseal-keyring-v1","current":"{}"}}"#, hex::encode(DEVICE))),
        (
            "keyring unknown field",
            format!(r#"{{"format":"pushseal-keyring-v1","current":"{device_b64}","x":"{device_b64}"}}"#),
        ),
        ("keyring wrong format", format!(r#"{{"format":"{device_b64}","current":"{device_b64}"}}"#)),
        (
            "keyring bad sender",
            format!(
                r#"{{"format":"pushseal-keyring-v1","current":"{device_b64}","trusted_senders":["{device_b64}!"]}}"#
            ),
        ),
        ("keyring not JSON", format!("current={device_b64}")),
        (
            "keyring retired key bad",
            format!(
                r#"{{"format":"pushseal-keyring-v1","current":"{device_b64}","retired":[{{"key":"{}","usable_until":1}}]}}"#,
                hex::encode(RETIRED)
            ),
        ),
    ] {
        cases.push((name.into(), DeviceKeyring::from_bytes(stored.as_bytes()).unwrap_err()));
    }

    // Sealing refusals.
    let big = Message::new(TITLE, BODY.repeat(80));
    for target in AnyTarget::all() {
        let err = target.seal(&f.sender, &device_pk, &big).unwrap_err();
        cases.push((format!("too large for {target:?}"), err));
    }
    let long_ttl = f.msg.clone().with_ttl(pushseal::notification::MAX_TTL_SECS + 1);
    cases.push(("TTL too long".into(), f.sender.seal_envelope(&device_pk, &long_ttl).unwrap_err()));
    let loud = ApnsOptions { collapse_id: Some(format!("{TITLE}{BODY}{DATA_VALUE}")), ..ApnsOptions::default() };
    cases.push(("collapse id too long".into(), f.sender.seal_for_apns(&device_pk, &f.msg, &loud).unwrap_err()));
    cases.push(("receipt text not base64url".into(), format!("{TITLE}!").parse::<Receipt>().unwrap_err()));
    cases
}

#[test]
fn no_error_from_any_negative_case_contains_plaintext_or_key_bytes() {
    let secrets = fixture_secrets();
    let cases = negative_cases();
    let mut kinds = BTreeSet::new();
    for (name, err) in &cases {
        secrets.assert_clean(name, err);
        kinds.insert(err.kind().name());
    }
    // The cases reach every rejection of input a device or a sender can meet.
    for kind in [
        ErrorKind::NotPushSeal,
        ErrorKind::UnsupportedVersion,
        ErrorKind::Truncated,
        ErrorKind::Malformed,
        ErrorKind::InvalidEncoding,
        ErrorKind::InvalidKeyLength,
        ErrorKind::ZeroSharedSecret,
        ErrorKind::UnknownRecipientKey,
        ErrorKind::UntrustedSender,
        ErrorKind::Tampered,
        ErrorKind::MalformedPadding,
        ErrorKind::Expired,
        ErrorKind::NotYetValid,
        ErrorKind::Replayed,
        ErrorKind::PayloadTooLarge,
        ErrorKind::InvalidNotification,
        ErrorKind::InvalidKeyring,
    ] {
        assert!(kinds.contains(kind.name()), "no negative case gives {kind}");
    }
    assert!(cases.len() >= 50, "{} cases", cases.len());
}

#[test]
fn the_scan_catches_a_leak() {
    // The scanner itself must be able to fail: a message quoting a window
    // of a key or of the plaintext is caught.
    let secrets = fixture_secrets();
    let device_b64 = URL_SAFE_NO_PAD.encode(DEVICE);
    for leak in [
        format!("bad key {}", &device_b64[5..17]),
        format!("near {}", &hex::encode(SENDER)[20..32]),
        format!("title was {}", &TITLE[3..15]),
    ] {
        let caught = std::panic::catch_unwind(|| secrets.assert_absent("probe", &leak));
        assert!(caught.is_err(), "not caught: {leak}");
    }
    secrets.assert_absent("probe", "authentication failed: the envelope was tampered with or forged");
}

/// Reads `test-vectors/negative.json` and checks every error its vectors
/// produce against the vectors' own keys and plaintext.
#[test]
fn no_error_from_the_negative_vectors_contains_their_plaintext_or_keys() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-vectors/negative.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        // The vector files are optional to this test; the cases above always run.
        return;
    };
    let file: Value = serde_json::from_str(&text).unwrap();
    let vectors = file["vectors"].as_array().expect("negative.json has a \"vectors\" array");
    let mut checked = 0;
    for v in vectors {
        let name = v["name"].as_str().unwrap_or("?");
        let secrets = vector_secrets(v);
        let err = match v["operation"].as_str() {
            Some("open") => vector_open(v),
            Some("seal") => vector_seal(v),
            _ => continue,
        };
        let err = err.unwrap_or_else(|| panic!("{name}: no error"));
        secrets.assert_clean(name, &err);
        checked += 1;
    }
    assert!(checked >= vectors.len() / 2, "only {checked} of {} vectors checked", vectors.len());
}

/// The keys (from the keyring and the sender) and the plaintext of a vector.
fn vector_secrets(v: &Value) -> Secrets {
    let mut s = Secrets::new();
    if let Some(stored) = v["keyring"].as_str().and_then(|k| serde_json::from_str::<Value>(k).ok()) {
        let mut keys: Vec<&str> = stored["current"].as_str().into_iter().collect();
        if let Some(retired) = stored["retired"].as_array() {
            keys.extend(retired.iter().filter_map(|r| r["key"].as_str()));
        }
        for key in keys {
            if let Ok(bytes) = URL_SAFE_NO_PAD.decode(key) {
                s.key("keyring secret", &bytes);
            }
        }
    }
    if let Some(hex_key) = v["sender"]["secret_key"].as_str() {
        s.key("sender secret", &hex::decode(hex_key).unwrap());
    }
    if let Some(text) = v["sender"]["secret_key_text"].as_str() {
        s.distinctive("sender secret text", text);
    }
    let m = &v["message"];
    for field in ["title", "body", "thread_id", "category", "sound"] {
        if let Some(t) = m[field].as_str() {
            s.text("message text", t);
        }
    }
    if let Some(data) = m["data"].as_object() {
        data.values().filter_map(Value::as_str).for_each(|t| s.text("message data", t));
    }
    if let Some(pt) = v["padded_plaintext"].as_str().and_then(|h| hex::decode(h).ok()) {
        let end = pt.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        let inner = String::from_utf8_lossy(&pt[..end]);
        match serde_json::from_str::<Value>(&inner) {
            Ok(json) => json_strings(&json, &mut s),
            // Not JSON: every run of printable text in it.
            Err(_) => inner.split(|c: char| c.is_control() || c == '"').for_each(|t| s.text("plaintext", t)),
        }
    }
    s
}

fn json_strings(v: &Value, s: &mut Secrets) {
    match v {
        Value::String(t) => s.text("plaintext", t),
        Value::Array(items) => items.iter().for_each(|i| json_strings(i, s)),
        Value::Object(map) => map.iter().for_each(|(k, i)| {
            s.text("plaintext key", k);
            json_strings(i, s);
        }),
        _ => {}
    }
}

fn vector_open(v: &Value) -> Option<Error> {
    let device = DeviceKeyring::from_bytes(v["keyring"].as_str()?.as_bytes()).ok()?;
    let payload = &v["payload"];
    let value = &payload["value"];
    let store = MemoryReplayStore::new();
    let now = v["now"].as_u64()?;
    let result = match payload["kind"].as_str()? {
        "apns" => device.open(Payload::ApnsJson(value.as_str()?), &store, now),
        "fcm" => {
            let map: HashMap<String, String> = serde_json::from_value(value.clone()).ok()?;
            device.open(Payload::FcmData(&map), &store, now)
        }
        _ => device.open(Payload::Envelope(value.as_str()?), &store, now),
    };
    result.err()
}

fn vector_seal(v: &Value) -> Option<Error> {
    let sender = Sender::new(SenderSecretKey::from_secret_text(v["sender"]["secret_key_text"].as_str()?).ok()?);
    let device: DevicePublicKey = v["recipient"]["public_key_base64url"].as_str()?.parse().ok()?;
    let m = &v["message"];
    let mut msg = Message::new(m["title"].as_str()?, m["body"].as_str()?).with_ttl(m["ttl_secs"].as_u64()?);
    if let Some(data) = m["data"].as_object() {
        for (k, val) in data {
            msg = msg.with_data(k, val.as_str()?);
        }
    }
    let options = &v["target"]["options"];
    let text = |field: &str| options[field].as_str().map(str::to_owned);
    let target = match v["target"]["kind"].as_str()? {
        "apns" => AnyTarget::Apns(ApnsOptions {
            push_type: if text("push_type").as_deref() == Some("background") {
                ApnsPushType::Background
            } else {
                ApnsPushType::Alert
            },
            fallback_title: text("fallback_title").unwrap_or_default(),
            fallback_body: text("fallback_body"),
            collapse_id: text("collapse_id"),
            topic: text("topic"),
        }),
        "fcm" => AnyTarget::Fcm(FcmOptions {
            token: text("token"),
            collapse_key: text("collapse_key"),
            ..FcmOptions::default()
        }),
        _ => AnyTarget::Envelope,
    };
    let id: MessageId = v["message_id"].as_str()?.parse().ok()?;
    let eph = match v["ephemeral_ikm"].as_str() {
        Some(ikm) => Ephemeral::derive(&hex::decode(ikm).ok()?).ok()?,
        None => Ephemeral::generate().ok()?,
    };
    target.seal_with(&sender, &device, &msg, id, v["sent_at"].as_u64()?, &eph).err()
}

#[test]
fn debug_output_redacts_every_secret_and_all_plaintext() {
    let f = fixture();
    let secrets = fixture_secrets();
    let sealed = f.sender.seal_envelope(&f.device.public_key(), &f.msg).unwrap();
    let text = sealed.payload.clone();
    let store = MemoryReplayStore::new();
    let (notification, receipt) =
        f.device.open_with_receipt(Payload::Envelope(&text), &store, sealed_now(&text)).unwrap();
    let device_sk = DeviceSecretKey::from_bytes(DEVICE);
    let sender_sk = SenderSecretKey::from_bytes(SENDER);
    for (what, debug) in [
        ("DeviceSecretKey", format!("{device_sk:?}")),
        ("SenderSecretKey", format!("{sender_sk:?}")),
        ("DeviceKeyring", format!("{:?}", f.device)),
        ("Sender", format!("{:?}", f.sender)),
        ("Message", format!("{:?}", f.msg)),
        ("Notification", format!("{notification:?}")),
        ("Sealed", format!("{sealed:?}")),
    ] {
        secrets.assert_absent(what, &debug);
    }
    assert!(format!("{device_sk:?}").contains("[redacted]"));
    assert!(format!("{sender_sk:?}").contains("[redacted]"));
    // A receipt is a delivery proof the device sends on purpose, not a secret
    // of the device; it must not reveal the keys or the plaintext either.
    secrets.assert_absent("Receipt", &format!("{receipt:?} {receipt}"));
}

/// The sealing time inside an envelope this fixture can open (the sender used the clock).
fn sealed_now(text: &str) -> u64 {
    let bytes = URL_SAFE_NO_PAD.decode(text).unwrap();
    let env = Envelope::parse(&bytes).unwrap();
    let padded =
        env.open(&DeviceSecretKey::from_bytes(DEVICE), &SenderSecretKey::from_bytes(SENDER).public_key()).unwrap();
    pushseal::Notification::decode(padding::unpad(&padded).unwrap()).unwrap().sent_at
}

#[test]
fn buffers_that_hold_secrets_zeroize_themselves() {
    // The API hands secrets out only in buffers that wipe themselves on drop:
    // these bindings fail to compile if any return type loses its wrapper.
    let key = DeviceSecretKey::from_bytes(DEVICE);
    let bytes: Zeroizing<[u8; 32]> = key.to_bytes();
    let text: Zeroizing<String> = key.to_secret_text();
    let keyring: Zeroizing<Vec<u8>> = fixture().device.to_bytes().unwrap();
    let sender = SenderSecretKey::from_bytes(SENDER);
    let env = envelope::seal(&sender, &key.public_key(), &padded("{}")).unwrap();
    let plaintext: Zeroizing<Vec<u8>> = Envelope::parse(&env).unwrap().open(&key, &sender.public_key()).unwrap();
    assert_eq!(*bytes, DEVICE);
    assert!(text.starts_with(SECRET_KEY_PREFIX));
    assert!(keyring.starts_with(b"{"));
    assert_eq!(padding::unpad(&plaintext).unwrap(), b"{}");

    // And `Zeroize` on each of them leaves nothing behind (what drop runs).
    use zeroize::Zeroize as _;
    let (mut bytes, mut text, mut keyring, mut plaintext) = (bytes, text, keyring, plaintext);
    bytes.zeroize();
    text.zeroize();
    keyring.zeroize();
    plaintext.zeroize();
    assert_eq!(*bytes, [0; 32]);
    assert!(text.is_empty() && keyring.is_empty() && plaintext.is_empty());
}

#[test]
fn secret_keys_wipe_their_memory_on_drop() {
    // A secret key is an x25519-dalek `StaticSecret` and its public key; the
    // secret wipes itself on drop only while x25519-dalek's `zeroize` feature
    // is on. This fails to compile if that feature is ever dropped.
    fn zeroized_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    zeroized_on_drop::<x25519_dalek::StaticSecret>();
    zeroized_on_drop::<Zeroizing<[u8; 32]>>();
}

#[test]
fn the_keyrings_serialized_form_is_documented_as_secret() {
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/keyring.rs")).unwrap();
    let doc_of = |item: &str| {
        let at = src.find(item).unwrap_or_else(|| panic!("{item} not found"));
        let lines: Vec<&str> =
            src[..at].lines().rev().skip(1).take_while(|l| l.trim_start().starts_with("///")).collect();
        lines.concat()
    };
    assert!(doc_of("pub fn to_bytes(").contains("**Secret**"), "DeviceKeyring::to_bytes must say its bytes are secret");
    assert!(src.contains("that are **secret**"), "the keyring module must say its bytes are secret");
    assert!(src.contains("never in plain files or logs"));
}

#[test]
fn the_library_never_prints_or_logs() {
    // No line of the library's own goes to stdout or stderr, so nothing it
    // handles can end up in a device log; it has no logging dependency either.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Test modules may print, and so may the examples in doc comments
            // (they are the caller's code); the library code may not.
            let code: String = text
                .split("#[cfg(test)]")
                .next()
                .unwrap()
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect();
            for needle in ["println!", "eprintln!", "print!(", "eprint!(", "dbg!", "std::io::stdout", "std::io::stderr"]
            {
                assert!(!code.contains(needle), "{} uses {needle}", path.display());
            }
            files += 1;
        }
    }
    assert!(files >= 10);
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let deps = manifest.split("[dependencies]").nth(1).unwrap().split("\n[").next().unwrap();
    for logger in ["log", "tracing", "env_logger", "slog"] {
        assert!(
            !deps.lines().any(|l| l.trim_start().starts_with(&format!("{logger} "))
                || l.trim_start().starts_with(&format!("{logger}."))),
            "depends on {logger}"
        );
    }
}
