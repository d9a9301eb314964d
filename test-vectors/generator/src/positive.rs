//! Positive vectors: notifications that must open, with every intermediate.

use std::collections::{BTreeMap, HashMap};

use pushseal::envelope::{HEADER_LEN, INFO, VERSION};
use pushseal::hpke::{Ephemeral, Mode, N_T};
use pushseal::notification::{DEFAULT_TTL_SECS, MAX_TTL_SECS};
use pushseal::padding::{self, BUCKETS};
use pushseal::receipt::{RECEIPT_DIGEST_LABEL, RECEIPT_LABEL, RECEIPT_LEN};
use pushseal::{
    ApnsOptions, BareEnvelope, FcmOptions, GATEWAY_LIMIT, MemoryReplayStore, Message, Payload, Sender, Target,
};

use sha2::{Digest, Sha256};

use crate::crypto;
use crate::fixture::{self, KeyringSpec, OPEN_DELAY, SENT_AT, Trusted};
use crate::schema::{ApnsJson, EphemeralJson, FcmJson, HeaderJson, HpkeJson, PositiveJson, ReceiptJson};
use crate::{Error, Result, ensure};

/// The description at the top of `positive.json`.
pub const DESCRIPTION: &str = "PushSeal envelope v1: notifications that must open. Each vector gives the sender's \
inputs, every intermediate of sealing, the envelope, its APNs and FCM payloads, the device's keyring and clock, and \
the notification the device must return from each of the three payloads (each opened with a fresh replay store), \
and the delivery receipt. Schema: test-vectors/README.md.";

/// Body text for the size vectors.
const FILLER: &str = "Padding hides how long a notification is. ";

/// A positive vector and the bytes negative vectors start from.
pub struct Positive {
    pub json: PositiveJson,
    pub envelope: Vec<u8>,
}

struct Spec {
    name: &'static str,
    description: String,
    sender: &'static str,
    recipient: &'static str,
    keyring: KeyringSpec,
    message: Message,
    apns: ApnsOptions,
    fcm: FcmOptions,
    sent_at: u64,
    now: u64,
    plaintext_len: Option<usize>,
    apns_body_len: Option<usize>,
}

impl Spec {
    fn new(name: &'static str, description: impl Into<String>, message: Message) -> Self {
        Self {
            name,
            description: description.into(),
            sender: "sender-a",
            recipient: "device-1",
            keyring: KeyringSpec::standard(),
            message,
            apns: ApnsOptions::default(),
            fcm: FcmOptions::default(),
            sent_at: SENT_AT,
            now: SENT_AT + OPEN_DELAY,
            plaintext_len: None,
            apns_body_len: None,
        }
    }
}

fn specs() -> Result<Vec<Spec>> {
    let mut specs = vec![Spec::new(
        "short",
        "A short notification with the default options: APNs alert with the fallback title \"New message\", \
         FCM without a token.",
        Message::new("Appointment", "Tomorrow 10:00 with Dr. Rivera"),
    )];

    let mut data = Spec::new(
        "data-map-and-options",
        "Every optional field: a data map (written with its keys sorted), thread id, category, badge and sound, \
         a one-hour TTL; an APNs alert with a fallback body, collapse id and topic; an FCM token and collapse key.",
        Message::new("Lab results", "Your results from Tuesday are ready.")
            .with_data("ref", "lab-7731")
            .with_data("deep_link", "app://results/7731")
            .with_data("kind", "lab")
            .with_thread_id("labs")
            .with_category("results")
            .with_badge(3)
            .with_sound("default")
            .with_ttl(3600),
    );
    data.apns = ApnsOptions {
        fallback_body: Some("Open the app to read it.".into()),
        collapse_id: Some("labs".into()),
        topic: Some("com.example.clinic".into()),
        ..ApnsOptions::default()
    };
    data.fcm = FcmOptions {
        token: Some("fcm-registration-token-1".into()),
        collapse_key: Some("labs".into()),
        ..FcmOptions::default()
    };
    specs.push(data);

    specs.push(Spec::new(
        "empty-title-and-body",
        "An empty title and body: both fields are still written.",
        Message::new("", ""),
    ));

    for (name, len) in [
        ("bucket-256-largest", 255),
        ("bucket-512-smallest", 256),
        ("bucket-512-largest", 511),
        ("bucket-1024-smallest", 512),
        ("bucket-1024-largest", 1023),
        ("bucket-2048-smallest", 1024),
        ("bucket-2048-largest", 2047),
    ] {
        let bucket = padding::padded_len(len).ok_or_else(|| Error::new("bucket"))?;
        let message =
            fixture::sized_message("Padding", FILLER, DEFAULT_TTL_SECS, fixture::message_id(name), SENT_AT, len)?;
        let edge = if bucket > len + 1 { "the smallest plaintext" } else { "the largest plaintext" };
        let mut extra = String::new();
        if len == padding::MAX_PLAINTEXT_LEN {
            extra = " This is the largest notification any target takes.".into();
        }
        let mut spec =
            Spec::new(name, format!("A {len}-byte plaintext, {edge} padded to {bucket} bytes.{extra}"), message);
        spec.plaintext_len = Some(len);
        specs.push(spec);
    }

    specs.push(apns_limit()?);

    let mut unicode = Spec::new(
        "non-ascii",
        "Non-ASCII text, written as raw UTF-8 (never escaped): precomposed accents, Hebrew and Arabic \
         (right-to-left, with a right-to-left mark), emoji with a skin tone modifier and zero-width joiners, a flag, \
         and a combining acute accent after a plain \"e\" (decomposed, kept as is: no normalization). An APNs \
         background push.",
        Message::new(
            "Résultats prêts ✅",
            concat!(
                "שלום, התוצאות מוכנות \u{200f}· مرحبا، النتائج جاهزة · ",
                "\u{1f469}\u{1f3fd}\u{200d}\u{2695}\u{fe0f} \u{1f1e8}\u{1f1ed} · Cafe\u{301}",
            ),
        )
        .with_data("רופא", "د. ليلى")
        .with_data("emoji", "🔬🧪")
        .with_thread_id("תוצאות"),
    );
    unicode.apns = ApnsOptions::background();
    specs.push(unicode);

    let mut escaping = Spec::new(
        "json-escaping",
        "Characters JSON must escape: quote, backslash, and control characters (\\b \\f \\n \\r \\t written short, \
         the others as \\u00XX with lowercase hex); DEL, U+2028, U+2029 and \"/\" are written raw. The same rules \
         write the APNs fallback title and body and the FCM collapse key and token (SPEC.md sections 7.1, 7.2).",
        Message::new(
            "Quote \" and backslash \\",
            "Line 1\nLine 2\tTab\r\u{8}\u{c}\u{1}\u{1f}\u{7f}\u{2028}\u{2029}</end>",
        )
        .with_data("path", "a/b\\c"),
    );
    escaping.apns = ApnsOptions {
        fallback_title: "New \"message\" \\ \u{1}\t/".into(),
        fallback_body: Some("Line\nNo\u{a0}break \u{7f}\u{2028} caf\u{e9}".into()),
        ..ApnsOptions::default()
    };
    escaping.fcm = FcmOptions::with_token("tok\\en\"1\u{1f}");
    escaping.fcm.collapse_key = Some("k\ney".into());
    specs.push(escaping);

    let rotated = KeyringSpec {
        current: "device-2",
        retired: vec![("device-1", SENT_AT + 3600)],
        trusted: vec![Trusted::Fixture("sender-a")],
    };
    let mut retired = Spec::new(
        "rotated-key-retired",
        "The keyring rotated from device-1 to device-2; device-1 stays usable until its usable_until. The \
         envelope is sealed to device-1 and opened at exactly its usable_until (the bound is inclusive).",
        Message::new("Refill due", "Your prescription can be refilled."),
    );
    retired.keyring = rotated.clone();
    retired.now = SENT_AT + 3600;
    specs.push(retired);
    let mut current = Spec::new(
        "rotated-key-current",
        "The same rotated keyring; the envelope is sealed to the new current key, device-2.",
        Message::new("Refill due", "Your prescription can be refilled."),
    );
    current.keyring = rotated;
    current.recipient = "device-2";
    specs.push(current);

    let mut second = Spec::new(
        "second-trusted-sender",
        "The keyring trusts two senders; this envelope is sealed by the second, sender-b.",
        Message::new("Billing", "Your statement is available."),
    );
    second.keyring.trusted.push(Trusted::Fixture("sender-b"));
    second.sender = "sender-b";
    specs.push(second);

    let mut late = Spec::new(
        "clock-skew-late",
        "A 60-second TTL opened at expires_at + 300: the last second the 300-second clock skew allows.",
        Message::new("Sign-in code", "Your code expires in one minute.").with_ttl(60),
    );
    late.now = SENT_AT + 60 + pushseal::CLOCK_SKEW_SECS;
    specs.push(late);
    let mut early = Spec::new(
        "clock-skew-early",
        "Opened at sent_at - 300: a device clock 300 seconds behind the sender's, the most the skew allows.",
        Message::new("Sign-in code", "Your code expires in one minute.").with_ttl(60),
    );
    early.now = SENT_AT - pushseal::CLOCK_SKEW_SECS;
    specs.push(early);

    specs.push(Spec::new(
        "max-ttl",
        "The longest TTL, 28 days (2419200 seconds), the most FCM accepts.",
        Message::new("Reminder", "Your annual check-up is due.").with_ttl(MAX_TTL_SECS),
    ));
    Ok(specs)
}

/// The APNs body at exactly the gateway's 4096-byte limit: the largest
/// plaintext with a fallback title long enough to fill the rest.
fn apns_limit() -> Result<Spec> {
    let name = "apns-body-4096-bytes";
    let id = fixture::message_id(name);
    let message = fixture::sized_message("Limit", FILLER, DEFAULT_TTL_SECS, id, SENT_AT, padding::MAX_PLAINTEXT_LEN)?;
    let sender = Sender::new(fixture::sender("sender-a"));
    let device = fixture::device_public("device-1");
    let probe = ApnsOptions { fallback_title: String::new(), ..ApnsOptions::default() };
    let eph = Ephemeral::derive(&fixture::ephemeral_ikm(name))?;
    let req = sender.seal_with(&device, &message, &probe, id, SENT_AT, &eph)?.payload;
    let title_len = GATEWAY_LIMIT
        .checked_sub(req.body.len())
        .ok_or_else(|| Error::new("the APNs body is over the limit with an empty title"))?;
    let title: String = "New message ".chars().cycle().take(title_len).collect();
    let mut spec = Spec::new(
        name,
        format!(
            "An APNs body of exactly 4096 bytes, the gateway's limit: the largest plaintext (2047 bytes, padded to \
             2048) with a {title_len}-character fallback title. One more character is payload_too_large (see \
             negative.json)."
        ),
        message,
    );
    spec.apns.fallback_title = title;
    spec.plaintext_len = Some(padding::MAX_PLAINTEXT_LEN);
    spec.apns_body_len = Some(GATEWAY_LIMIT);
    Ok(spec)
}

/// Every positive vector.
pub fn vectors() -> Result<Vec<Positive>> {
    specs()?.iter().map(|s| build(s).map_err(|e| Error::new(format!("positive vector {}: {e}", s.name)))).collect()
}

fn build(spec: &Spec) -> Result<Positive> {
    let id = fixture::message_id(spec.name);
    let ikm = fixture::ephemeral_ikm(spec.name);
    let sender_key = fixture::sender(spec.sender);
    let recipient = fixture::device(spec.recipient);
    let device_pk = recipient.public_key();
    let sender = Sender::new(fixture::sender(spec.sender));

    // The sender: three payloads around one envelope.
    let eph = || Ephemeral::derive(&ikm);
    let sealed_env = sender.seal_with(&device_pk, &spec.message, &BareEnvelope, id, spec.sent_at, &eph()?)?;
    let sealed_apns = sender.seal_with(&device_pk, &spec.message, &spec.apns, id, spec.sent_at, &eph()?)?;
    let sealed_fcm = sender.seal_with(&device_pk, &spec.message, &spec.fcm, id, spec.sent_at, &eph()?)?;
    let envelope = sealed_env.envelope.clone();
    let sealed_digest = sealed_env.receipt_digest;
    ensure(sealed_apns.envelope == envelope && sealed_fcm.envelope == envelope, || {
        "the three targets sealed different envelopes".into()
    })?;
    ensure(sealed_env.message_id == id && sealed_env.recipient == device_pk.key_id(), || "sealed metadata".into())?;
    let (text, apns, fcm) = (sealed_env.payload, sealed_apns.payload, sealed_fcm.payload);

    // The same envelope from its parts.
    let plaintext = fixture::plaintext(&spec.message, id, spec.sent_at)?;
    if let Some(len) = spec.plaintext_len {
        ensure(plaintext.len() == len, || format!("plaintext is {} bytes, not {len}", plaintext.len()))?;
    }
    let mut padded = plaintext.clone();
    padding::pad_in_place(&mut padded, 0)?;
    ensure(BUCKETS.contains(&padded.len()), || "padded length is not a bucket".into())?;
    let v = crypto::auth_seal(&sender_key, &device_pk, &ikm, &padded)?;
    ensure(v.envelope() == envelope, || "Sender::seal_with and the envelope built from its parts differ".into())?;
    ensure(text == fixture::base64url(&envelope), || "envelope text".into())?;
    ensure(crypto::raw_seal(&sender_key, &device_pk, &ikm, &padded, &Default::default())? == envelope, || {
        "the raw sealer differs from the sender".into()
    })?;
    if let Some(len) = spec.apns_body_len {
        ensure(apns.body.len() == len, || format!("APNs body is {} bytes, not {len}", apns.body.len()))?;
    }

    // The device: each payload opens to the same notification.
    let (keyring, keyring_json) = spec.keyring.build()?;
    let fcm_value: serde_json::Value = serde_json::from_str(&fcm.json)?;
    let fcm_data: BTreeMap<String, String> = serde_json::from_value(fcm_value["data"].clone())?;
    let fcm_map: HashMap<String, String> = fcm_data.clone().into_iter().collect();
    let expected = fixture::stamped(&spec.message, id, spec.sent_at);
    for payload in [Payload::Envelope(&text), Payload::ApnsJson(&apns.body), Payload::FcmData(&fcm_map)] {
        let n = keyring.open(payload, &MemoryReplayStore::new(), spec.now)?;
        ensure(n == expected, || "the device opened another notification".into())?;
    }

    // The delivery receipt: the device's, the sender's digest, and both from the exporter secret.
    let exporter_context = [RECEIPT_LABEL, id.as_bytes()].concat();
    let receipt = crypto::export(&v.exporter_secret, &exporter_context, RECEIPT_LEN as u16)?;
    let digest: [u8; 32] = Sha256::new().chain_update(RECEIPT_DIGEST_LABEL).chain_update(&receipt).finalize().into();
    let (_, device_receipt) =
        keyring.open_with_receipt(Payload::Envelope(&text), &MemoryReplayStore::new(), spec.now)?;
    ensure(device_receipt.to_bytes()[..] == receipt[..], || "the device's receipt differs".into())?;
    ensure(sealed_digest.to_bytes() == digest && device_receipt.digest() == sealed_digest, || {
        "the receipt digest differs".into()
    })?;

    let (ciphertext, tag) = v.ct.split_at(v.ct.len() - N_T);
    let max_plaintext_len = BTreeMap::from([
        ("envelope", BareEnvelope.max_plaintext_len()?),
        ("apns", spec.apns.max_plaintext_len()?),
        ("fcm", spec.fcm.max_plaintext_len()?),
    ]);
    let json = PositiveJson {
        name: spec.name.to_owned(),
        description: spec.description.clone(),
        sender: fixture::key_pair_json(&fixture::sender_label(spec.sender), &sender_key),
        recipient: fixture::key_pair_json(&fixture::device_label(spec.recipient), &recipient),
        keyring: keyring_json,
        message: fixture::message_json(&spec.message),
        message_id: id.to_string(),
        sent_at: spec.sent_at,
        now: spec.now,
        ephemeral: EphemeralJson {
            ikm: hex::encode(ikm),
            secret_key: hex::encode(v.sk_e),
            public_key: hex::encode(v.enc),
        },
        hpke: HpkeJson {
            mode: Mode::Auth as u8,
            kem_id: 0x0020,
            kdf_id: 0x0001,
            aead_id: 0x0003,
            info: hex::encode(INFO),
            info_text: String::from_utf8_lossy(INFO).into_owned(),
            dh_ephemeral: hex::encode(v.dh_e),
            dh_static: hex::encode(v.dh_s),
            kem_context: hex::encode(&v.kem_context),
            shared_secret: hex::encode(&v.shared_secret),
            key_schedule_context: hex::encode(&v.key_schedule_context),
            secret: hex::encode(v.secret),
            key: hex::encode(&v.key),
            base_nonce: hex::encode(&v.base_nonce),
            exporter_secret: hex::encode(&v.exporter_secret),
            seq: 0,
            nonce: hex::encode(&v.base_nonce),
        },
        plaintext: String::from_utf8(plaintext.clone()).map_err(|_| Error::new("plaintext is not UTF-8"))?,
        plaintext_len: plaintext.len(),
        padded_plaintext: hex::encode(&padded),
        padded_len: padded.len(),
        header: HeaderJson {
            version: VERSION,
            recipient_key_id: device_pk.key_id().to_string(),
            sender_key_id: sender_key.key_id().to_string(),
            enc: hex::encode(v.enc),
        },
        aad: hex::encode(&v.header),
        ciphertext: hex::encode(ciphertext),
        tag: hex::encode(tag),
        envelope: hex::encode(&envelope),
        envelope_len: envelope.len(),
        envelope_base64url: text,
        apns: ApnsJson {
            options: fixture::apns_options_json(&spec.apns),
            headers: apns.headers.iter().map(|(n, v)| [n.clone(), v.clone()]).collect(),
            body_len: apns.body.len(),
            body: apns.body,
        },
        fcm: FcmJson {
            options: fixture::fcm_options_json(&spec.fcm),
            request_body: fcm.request_body(),
            message: fcm.json,
            data: fcm_data,
        },
        max_plaintext_len,
        expected: fixture::notification_json(&expected),
        receipt: ReceiptJson {
            exporter_context: hex::encode(&exporter_context),
            length: receipt.len(),
            receipt_base64url: device_receipt.to_string(),
            receipt: hex::encode(&receipt),
            digest: hex::encode(digest),
        },
    };
    ensure(v.header.len() == HEADER_LEN, || "header length".into())?;
    Ok(Positive { json, envelope })
}
