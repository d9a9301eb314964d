//! Negative vectors: payloads a device must reject, and messages a sender
//! must refuse, each with the error kind it must produce.

use std::collections::BTreeMap;

use pushseal::envelope::HEADER_LEN;
use pushseal::hpke::{Ephemeral, Mode, N_T};
use pushseal::notification::{DEFAULT_TTL_SECS, MAX_TTL_SECS};
use pushseal::padding;
use pushseal::{
    ApnsOptions, BareEnvelope, DeviceKeyring, ErrorKind, FcmOptions, GATEWAY_LIMIT, KeyId, MemoryReplayStore, Message,
    Sender,
};

use crate::crypto::{self, RawOptions};
use crate::fixture::{self, KeyringSpec, SENT_AT, TargetJsonForm, Trusted};
use crate::positive::Positive;
use crate::schema::{NegativeJson, NegativeOpenJson, NegativeSealJson, PayloadJson};
use crate::{Error, Result, ensure};

/// The description at the top of `negative.json`.
pub const DESCRIPTION: &str = "PushSeal envelope v1: inputs that must fail, each with the error kind (the stable \
snake_case name of pushseal::ErrorKind) it must produce. operation \"open\": load the keyring, open the payload at \
`now` with a fresh replay store. operation \"seal\": seal the message for the target; the sender must refuse it. \
Schema: test-vectors/README.md.";

/// A device-side negative vector before it is checked.
struct Open {
    name: String,
    description: String,
    expected: ErrorKind,
    keyring: String,
    now: u64,
    payload: PayloadJson,
    derived_from: Option<String>,
    envelope: Option<Vec<u8>>,
    padded: Option<Vec<u8>>,
}

impl Open {
    /// A payload opened with `base`'s keyring at `base`'s clock.
    fn payload(base: &Positive, name: &str, description: &str, expected: ErrorKind, payload: PayloadJson) -> Self {
        Self {
            name: name.to_owned(),
            description: description.to_owned(),
            expected,
            keyring: base.json.keyring.serialized.clone(),
            now: base.json.now,
            payload,
            derived_from: Some(base.json.name.clone()),
            envelope: None,
            padded: None,
        }
    }

    /// Envelope bytes, as canonical base64url text.
    fn bytes(base: &Positive, name: &str, description: &str, expected: ErrorKind, bytes: Vec<u8>) -> Self {
        let mut open =
            Self::payload(base, name, description, expected, fixture::envelope_payload(fixture::base64url(&bytes)));
        open.envelope = Some(bytes);
        open
    }
}

/// Checks an open vector against the device and writes its JSON.
fn check(open: Open) -> Result<NegativeJson> {
    let keyring = DeviceKeyring::from_bytes(open.keyring.as_bytes())?;
    let result = fixture::open(&keyring, &open.payload, &MemoryReplayStore::new(), open.now)?;
    let kind = result.err().map(|e| e.kind());
    ensure(kind == Some(open.expected), || {
        format!("negative vector {}: expected {}, the device gave {kind:?}", open.name, open.expected)
    })?;
    Ok(NegativeJson::Open(Box::new(NegativeOpenJson {
        name: open.name,
        description: open.description,
        operation: "open",
        expected_error: open.expected.name(),
        keyring: open.keyring,
        now: open.now,
        payload: open.payload,
        derived_from: open.derived_from,
        envelope: open.envelope.map(hex::encode),
        padded_plaintext: open.padded.map(hex::encode),
    })))
}

fn find<'a>(positives: &'a [Positive], name: &str) -> Result<&'a Positive> {
    positives.iter().find(|p| p.json.name == name).ok_or_else(|| Error::new(format!("no positive vector {name}")))
}

fn flip(bytes: &[u8], byte: usize, bit: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if let Some(b) = out.get_mut(byte) {
        *b ^= 1 << bit;
    }
    out
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Every negative vector.
pub fn vectors(positives: &[Positive]) -> Result<Vec<NegativeJson>> {
    let mut opens = Vec::new();
    payload_vectors(positives, &mut opens)?;
    encoding_vectors(positives, &mut opens)?;
    structure_vectors(positives, &mut opens)?;
    key_vectors(positives, &mut opens)?;
    hpke_vectors(positives, &mut opens)?;
    plaintext_vectors(positives, &mut opens)?;
    time_vectors(positives, &mut opens)?;
    strict_json_vectors(positives, &mut opens)?;
    let mut out = opens.into_iter().map(check).collect::<Result<Vec<_>>>()?;
    out.extend(seal_vectors()?);
    let mut names: Vec<&str> = out
        .iter()
        .map(|v| match v {
            NegativeJson::Open(o) => o.name.as_str(),
            NegativeJson::Seal(s) => s.name.as_str(),
        })
        .collect();
    names.sort_unstable();
    ensure(names.windows(2).all(|w| w[0] != w[1]), || "two negative vectors share a name".into())?;
    Ok(out)
}

/// Payloads that carry no envelope.
fn payload_vectors(positives: &[Positive], out: &mut Vec<Open>) -> Result<()> {
    let base = find(positives, "short")?;
    let kind = ErrorKind::NotPushSeal;
    for (name, description, body) in [
        (
            "apns-no-pushseal-key",
            "An ordinary APNs alert from another service.",
            r#"{"aps":{"alert":{"title":"Hello"},"sound":"default"}}"#.to_owned(),
        ),
        ("apns-not-json", "An APNs payload that is not JSON.", "This is not JSON.".to_owned()),
        ("apns-json-array", "An APNs payload that is a JSON array, not an object.", r#"[{"pushseal":42}]"#.to_owned()),
        (
            "apns-pushseal-null",
            "The \"pushseal\" key is null.",
            r#"{"aps":{"content-available":1},"pushseal":null}"#.to_owned(),
        ),
        (
            "apns-pushseal-not-a-string",
            "The \"pushseal\" key holds a number.",
            r#"{"aps":{"content-available":1},"pushseal":42}"#.to_owned(),
        ),
        (
            "apns-pushseal-nested",
            "A valid envelope, but inside \"aps\" instead of at the top level.",
            format!(r#"{{"aps":{{"content-available":1,"pushseal":"{}"}}}}"#, base.json.envelope_base64url),
        ),
    ] {
        out.push(Open::payload(base, name, description, kind, fixture::apns_payload(body)));
    }
    for (name, description, data) in [
        ("fcm-no-pushseal-key", "An FCM data map from another service.", fixture::string_map(&[("message", "Hello")])),
        ("fcm-empty-data", "An empty FCM data map.", BTreeMap::new()),
        (
            "fcm-wrong-key-case",
            "A valid envelope under \"PushSeal\": the key is case-sensitive.",
            fixture::string_map(&[("PushSeal", &base.json.envelope_base64url)]),
        ),
    ] {
        out.push(Open::payload(base, name, description, kind, fixture::fcm_payload(&data)));
    }
    Ok(())
}

/// Envelope text that is not canonical base64url without padding.
fn encoding_vectors(positives: &[Positive], out: &mut Vec<Open>) -> Result<()> {
    let short = find(positives, "short")?;
    // 577 bytes: the last character carries 4 unused bits.
    let odd = find(positives, "bucket-512-smallest")?;
    ensure(odd.envelope.len() % 3 == 1, || "bucket-512-smallest should end in a 1-byte group".into())?;
    let text = short.json.envelope_base64url.clone();
    let odd_text = odd.json.envelope_base64url.clone();

    let mut trailing = odd_text.clone().into_bytes();
    let last = trailing.last().copied().ok_or_else(|| Error::new("empty envelope text"))?;
    let index = ALPHABET.iter().position(|&c| c == last).ok_or_else(|| Error::new("not base64url"))?;
    ensure(index % 16 == 0, || "the unused bits should be zero".into())?;
    if let Some(c) = trailing.last_mut() {
        *c = ALPHABET[index | 1];
    }
    let trailing = String::from_utf8(trailing).map_err(|_| Error::new("UTF-8"))?;

    let standard = {
        let (i, c) =
            text.char_indices().find(|(_, c)| matches!(c, '-' | '_')).ok_or_else(|| Error::new("no - or _"))?;
        let mut t = text.clone();
        t.replace_range(i..i + 1, if c == '-' { "+" } else { "/" });
        t
    };
    let kind = ErrorKind::InvalidEncoding;
    let env = fixture::envelope_payload;
    for (base, name, description, payload) in [
        (
            odd,
            "base64-trailing-bits",
            "The last character's unused low bits are not zero (a non-canonical encoding of the same bytes).",
            env(trailing.clone()),
        ),
        (odd, "base64-padding", "Base64url with \"==\" padding: the text form has none.", env(format!("{odd_text}=="))),
        (
            short,
            "base64-standard-alphabet",
            "A \"-\" or \"_\" replaced by its standard-alphabet twin \"+\" or \"/\".",
            env(standard),
        ),
        (
            short,
            "base64-line-break",
            "A line break after 76 characters, as MIME encoders write.",
            env(format!("{}\n{}", &text[..76], &text[76..])),
        ),
        (short, "base64-trailing-newline", "A trailing newline: no white space is stripped.", env(format!("{text}\n"))),
        (short, "base64-leading-space", "A leading space: no white space is stripped.", env(format!(" {text}"))),
        (
            short,
            "base64-length-1-mod-4",
            "One character too many: a length of 1 modulo 4 encodes no byte string.",
            env(format!("{text}A")),
        ),
        (
            short,
            "base64-invalid-character",
            "A \".\" in place of the tenth character.",
            env(format!("{}.{}", &text[..9], &text[10..])),
        ),
        (
            odd,
            "apns-base64-trailing-bits",
            "The non-canonical text of base64-trailing-bits, in an APNs payload.",
            fixture::apns_payload(odd.json.apns.body.replace(&odd_text, &trailing)),
        ),
        (
            odd,
            "fcm-base64-padding",
            "The padded text of base64-padding, in an FCM data map.",
            fixture::fcm_payload(&fixture::string_map(&[("pushseal", &format!("{odd_text}=="))])),
        ),
    ] {
        out.push(Open::payload(base, name, description, kind, payload));
    }
    Ok(())
}

/// Envelopes cut short or of another version.
fn structure_vectors(positives: &[Positive], out: &mut Vec<Open>) -> Result<()> {
    let base = find(positives, "short")?;
    let env = &base.envelope;
    let len = env.len();
    for (cut, description) in [
        (0, "The empty envelope (empty text)."),
        (1, "The version byte alone."),
        (5, "Cut inside the recipient key id."),
        (9, "The version and recipient key id, no sender key id."),
        (13, "Cut inside the sender key id."),
        (17, "No enc."),
        (33, "Cut inside enc."),
        (HEADER_LEN, "The 49-byte header alone."),
        (HEADER_LEN + N_T - 1, "The header and 15 bytes: one byte short of the smallest possible ciphertext, a tag."),
    ] {
        out.push(Open::bytes(
            base,
            &format!("truncated-to-{cut}"),
            description,
            ErrorKind::Truncated,
            env[..cut].to_vec(),
        ));
    }
    out.push(Open::payload(
        base,
        "apns-empty-envelope",
        "An APNs payload whose \"pushseal\" string is empty.",
        ErrorKind::Truncated,
        fixture::apns_payload(base.json.apns.body.replace(&base.json.envelope_base64url, "")),
    ));
    for (name, bytes, description) in [
        (
            "truncated-to-65",
            env[..HEADER_LEN + N_T].to_vec(),
            "The header and 16 bytes: well formed (as if an empty plaintext's tag), but the tag does not verify.",
        ),
        ("truncated-by-1", env[..len - 1].to_vec(), "The last byte cut off: the tag is misplaced and does not verify."),
        (
            "truncated-tag-removed",
            env[..len - N_T].to_vec(),
            "The 16-byte tag cut off: the last 16 ciphertext bytes are taken as the tag.",
        ),
        ("extended-by-1", [env.as_slice(), &[0]].concat(), "A zero byte appended."),
    ] {
        out.push(Open::bytes(base, name, description, ErrorKind::Tampered, bytes));
    }
    let version = |v: u8| [&[v][..], &env[1..]].concat();
    for (name, bytes, description) in [
        ("version-0x00", version(0x00), "Version 0 (bit 0 of the version byte flipped)."),
        ("version-0x03", version(0x03), "Version 3 (version 2 is SPEC.md section 12)."),
        ("version-0x81", version(0x81), "Bit 7 of the version byte flipped."),
        ("version-0xff", version(0xff), "Version 255."),
        ("version-0x03-alone", vec![0x03], "Version 3 and nothing else: the version is checked before the length."),
    ] {
        out.push(Open::bytes(base, name, description, ErrorKind::UnsupportedVersion, bytes));
    }
    Ok(())
}

/// Envelopes for another device, or from a sender the device does not trust.
fn key_vectors(positives: &[Positive], out: &mut Vec<Open>) -> Result<()> {
    let base = find(positives, "short")?;
    let env = &base.envelope;
    let packet = |name: &str, sender: &str, device: &str, options: &RawOptions| -> Result<Vec<u8>> {
        let padded = hex::decode(&base.json.padded_plaintext).map_err(|_| Error::new("hex"))?;
        crypto::raw_seal(
            &fixture::sender(sender),
            &fixture::device_public(device),
            &fixture::ephemeral_ikm(name),
            &padded,
            options,
        )
    };
    let unknown = ErrorKind::UnknownRecipientKey;
    let untrusted = ErrorKind::UntrustedSender;
    out.push(Open::bytes(
        base,
        "recipient-key-id-bit-0",
        "Bit 0 of the recipient key id's first byte flipped.",
        unknown,
        flip(env, 1, 0),
    ));
    out.push(Open::bytes(
        base,
        "recipient-key-id-bit-63",
        "Bit 7 of the recipient key id's last byte flipped.",
        unknown,
        flip(env, 8, 7),
    ));
    out.push(Open::bytes(
        base,
        "sealed-to-another-device",
        "A valid envelope (the short vector's plaintext) sealed by sender-a to device-other.",
        unknown,
        packet("sealed-to-another-device", "sender-a", "device-other", &RawOptions::default())?,
    ));
    let retired = find(positives, "rotated-key-retired")?;
    let until =
        retired.json.keyring.retired.first().map(|r| r.usable_until).ok_or_else(|| Error::new("no retired key"))?;
    let mut past = Open::bytes(
        retired,
        "retired-key-past-deadline",
        "The rotated-key-retired envelope opened one second after its key's usable_until.",
        unknown,
        retired.envelope.clone(),
    );
    past.now = until + 1;
    out.push(past);

    out.push(Open::bytes(
        base,
        "sender-key-id-bit-0",
        "Bit 0 of the sender key id's first byte flipped.",
        untrusted,
        flip(env, 9, 0),
    ));
    out.push(Open::bytes(
        base,
        "sender-key-id-bit-63",
        "Bit 7 of the sender key id's last byte flipped.",
        untrusted,
        flip(env, 16, 7),
    ));
    out.push(Open::bytes(
        base,
        "sealed-by-untrusted-sender",
        "A valid envelope sealed to device-1 by sender-untrusted, which the keyring does not trust.",
        untrusted,
        packet("sealed-by-untrusted-sender", "sender-untrusted", "device-1", &RawOptions::default())?,
    ));
    let second = find(positives, "second-trusted-sender")?;
    let mut only_a = Open::bytes(
        second,
        "second-sender-not-trusted",
        "The second-trusted-sender envelope (from sender-b) opened with a keyring that trusts sender-a only.",
        untrusted,
        second.envelope.clone(),
    );
    only_a.keyring = base.json.keyring.serialized.clone();
    out.push(only_a);

    out.push(Open::bytes(
        base,
        "forged-sender-key-id",
        "sender-untrusted seals to device-1 but writes sender-a's key id in the header (and authenticates that \
         header): mode auth binds the sender's key, so the tag does not verify.",
        ErrorKind::Tampered,
        packet(
            "forged-sender-key-id",
            "sender-untrusted",
            "device-1",
            &RawOptions { header_sender: Some(fixture::sender("sender-a").key_id()), ..RawOptions::default() },
        )?,
    ));
    let mut relabelled = packet("relabelled-recipient", "sender-a", "device-other", &RawOptions::default())?;
    relabelled[1..9].copy_from_slice(&fixture::device_public("device-1").key_id().to_bytes());
    out.push(Open::bytes(
        base,
        "relabelled-recipient",
        "An envelope sealed to device-other with its recipient key id rewritten to device-1's.",
        ErrorKind::Tampered,
        relabelled,
    ));
    Ok(())
}

/// The 32-byte little-endian encoding of `p + delta` for `p = 2^255 - 19`, `delta` in -1..=1.
fn near_p(delta: i8) -> [u8; 32] {
    let mut b = [0xff; 32];
    b[31] = 0x7f;
    b[0] = (0xed_i16 + i16::from(delta)) as u8;
    b
}

/// Bit flips that break the tag, other HPKE settings, and low-order points.
fn hpke_vectors(positives: &[Positive], out: &mut Vec<Open>) -> Result<()> {
    let base = find(positives, "short")?;
    let env = &base.envelope;
    let len = env.len();
    let tampered = ErrorKind::Tampered;
    for (name, byte, bit, description) in [
        ("enc-bit-0", 17, 0, "Bit 0 of enc's first byte flipped."),
        (
            "enc-bit-255",
            HEADER_LEN - 1,
            7,
            "The top bit of enc flipped: X25519 ignores it, so the DH value is unchanged, but enc is hashed into \
             the shared secret and is part of the AAD.",
        ),
        ("ciphertext-first-bit", HEADER_LEN, 0, "Bit 0 of the ciphertext's first byte flipped."),
        (
            "ciphertext-last-byte",
            len - N_T - 1,
            7,
            "Bit 7 of the ciphertext's last byte (the last padding byte) flipped.",
        ),
        ("tag-first-bit", len - N_T, 0, "Bit 0 of the tag's first byte flipped."),
        ("tag-last-bit", len - 1, 7, "Bit 7 of the tag's last byte flipped."),
    ] {
        out.push(Open::bytes(base, name, description, tampered, flip(env, byte, bit)));
    }
    let padded = hex::decode(&base.json.padded_plaintext).map_err(|_| Error::new("hex"))?;
    let raw = |name: &str, options: RawOptions| {
        crypto::raw_seal(
            &fixture::sender("sender-a"),
            &fixture::device_public("device-1"),
            &fixture::ephemeral_ikm(name),
            &padded,
            &options,
        )
    };
    for (name, description, options) in [
        (
            "hpke-mode-base",
            "Sealed with HPKE mode base (no sender authentication) instead of mode auth.",
            RawOptions { mode: Mode::Base, ..RawOptions::default() },
        ),
        (
            "hpke-wrong-info",
            "Sealed with info \"pushseal envelope v2\".",
            RawOptions { info: b"pushseal envelope v2".to_vec(), ..RawOptions::default() },
        ),
        (
            "hpke-empty-aad",
            "Sealed with an empty AAD instead of the 49 header bytes.",
            RawOptions { aad: Some(Vec::new()), ..RawOptions::default() },
        ),
        (
            "hpke-seq-1",
            "Sealed as the context's second message (sequence number 1, so nonce = base_nonce XOR 1) instead of \
             its first.",
            RawOptions { seq: 1, ..RawOptions::default() },
        ),
    ] {
        let bytes = raw(name, options)?;
        out.push(Open::bytes(base, name, description, tampered, bytes));
    }

    // Low-order X25519 points (and non-canonical encodings of them): the DH
    // value is all zeros, which RFC 9180 section 7.1.4 makes an error.
    let mut order_8_a = [0u8; 32];
    let mut order_8_b = [0u8; 32];
    hex::decode_to_slice("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", &mut order_8_a)
        .map_err(|_| Error::new("hex"))?;
    hex::decode_to_slice("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", &mut order_8_b)
        .map_err(|_| Error::new("hex"))?;
    let mut one = [0u8; 32];
    one[0] = 1;
    let mut zero_high = [0u8; 32];
    zero_high[31] = 0x80;
    for (name, point, description) in [
        ("low-order-enc-0", [0u8; 32], "enc = 0 (u = 0, the point of order 2)."),
        ("low-order-enc-1", one, "enc = 1 (u = 1, a point of order 4)."),
        ("low-order-enc-order-8-a", order_8_a, "enc = a point of order 8."),
        ("low-order-enc-order-8-b", order_8_b, "enc = the other point of order 8."),
        ("low-order-enc-p-minus-1", near_p(-1), "enc = p - 1 (u = -1, a point of order 4 on the quadratic twist)."),
        ("low-order-enc-p", near_p(0), "enc = p, a non-canonical encoding of u = 0."),
        ("low-order-enc-p-plus-1", near_p(1), "enc = p + 1, a non-canonical encoding of u = 1."),
        ("low-order-enc-0-high-bit", zero_high, "enc = 0 with the top bit set, which X25519 ignores."),
    ] {
        let mut bytes = env.clone();
        bytes[17..HEADER_LEN].copy_from_slice(&point);
        out.push(Open::bytes(base, name, description, ErrorKind::ZeroSharedSecret, bytes));
    }

    // A trusted sender key that is a low-order point: DH(skR, pkS) is zero.
    let zero_sender = [0u8; 32];
    let spec = KeyringSpec {
        current: "device-1",
        retired: Vec::new(),
        trusted: vec![Trusted::Fixture("sender-a"), Trusted::Raw("low-order point 0", zero_sender)],
    };
    let (_, keyring) = spec.build()?;
    let eph = Ephemeral::derive(&fixture::ephemeral_ikm("low-order-trusted-sender"))?;
    let header = crypto::header(fixture::device_public("device-1").key_id(), KeyId::of(&zero_sender), &eph.enc());
    let mut open = Open::bytes(
        base,
        "low-order-trusted-sender",
        "The keyring trusts a sender key that is the low-order point 0, and the envelope names it: DH(skR, pkS) is \
         zero. (enc is a valid key; the ciphertext is the short vector's.)",
        ErrorKind::ZeroSharedSecret,
        [header.as_slice(), &env[HEADER_LEN..]].concat(),
    );
    open.keyring = keyring.serialized;
    out.push(open);
    Ok(())
}

/// Validly sealed plaintexts that are not valid padding or not a valid notification.
fn plaintext_vectors(positives: &[Positive], out: &mut Vec<Open>) -> Result<()> {
    let base = find(positives, "short")?;
    let plaintext = base.json.plaintext.as_bytes();
    let bucket = base.json.padded_len;
    let sealed = |name: &str, description: &str, expected: ErrorKind, padded: Vec<u8>| -> Result<Open> {
        let bytes = crypto::raw_seal(
            &fixture::sender("sender-a"),
            &fixture::device_public("device-1"),
            &fixture::ephemeral_ikm(name),
            &padded,
            &RawOptions::default(),
        )?;
        let mut open = Open::bytes(base, name, description, expected, bytes);
        open.padded = Some(padded);
        Ok(open)
    };
    let fill = |mut v: Vec<u8>| {
        v.resize(bucket, 0);
        v
    };
    let padding = ErrorKind::MalformedPadding;
    out.push(sealed(
        "padding-no-marker",
        "The plaintext followed by zeros, without the 0x80 marker.",
        padding,
        fill(plaintext.to_vec()),
    )?);
    out.push(sealed("padding-all-zero", "256 zero bytes.", padding, vec![0; bucket])?);
    out.push(sealed(
        "padding-nonzero-after-marker",
        "The plaintext, 0x80, then 0x01 and zeros: only zeros may follow the marker.",
        padding,
        fill([plaintext, &[0x80, 0x01]].concat()),
    )?);
    out.push(sealed(
        "padding-wrong-marker",
        "The plaintext, then 0x81 instead of 0x80, then zeros.",
        padding,
        fill([plaintext, &[0x81]].concat()),
    )?);
    out.push(sealed(
        "padding-empty",
        "An empty padded plaintext: the envelope is the header and a tag (65 bytes).",
        padding,
        Vec::new(),
    )?);

    // Notification JSON, properly padded.
    let id = &base.json.message_id;
    let (sent, exp) = (base.json.sent_at, base.json.expected.expires_at);
    let fields = |rest: &str| format!(r#"{{"id":"{id}","sent_at":{sent},"expires_at":{exp},{rest}}}"#);
    let tb = r#""title":"Appointment","body":"Tomorrow 10:00 with Dr. Rivera""#;
    let mut cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("json-not-json", "Plain text, not JSON.", b"Appointment tomorrow at 10:00".to_vec()),
        ("json-array", "A JSON array.", br#"["Appointment","Tomorrow 10:00 with Dr. Rivera"]"#.to_vec()),
        ("json-empty-object", "An empty JSON object.", b"{}".to_vec()),
        (
            "json-array-of-fields",
            "The fields' values in order as a JSON array: the plaintext is an object only.",
            format!(r#"["{id}",{sent},{exp},"Appointment","Tomorrow 10:00 with Dr. Rivera"]"#).into_bytes(),
        ),
        (
            "json-unknown-field",
            "An unknown field, \"priority\": unknown fields are rejected.",
            fields(&format!(r#"{tb},"priority":"high""#)).into_bytes(),
        ),
        (
            "json-ttl-secs-field",
            "A \"ttl_secs\" field: the sender's TTL is not part of the plaintext.",
            fields(&format!(r#"{tb},"ttl_secs":86400"#)).into_bytes(),
        ),
        ("json-missing-body", "No \"body\".", fields(r#""title":"Appointment""#).into_bytes()),
        ("json-missing-id", "No \"id\".", format!(r#"{{"sent_at":{sent},"expires_at":{exp},{tb}}}"#).into_bytes()),
        (
            "json-id-uppercase",
            "The id in uppercase hex: it must be 32 lowercase hex digits.",
            format!(r#"{{"id":"{}","sent_at":{sent},"expires_at":{exp},{tb}}}"#, id.to_uppercase()).into_bytes(),
        ),
        (
            "json-id-31-digits",
            "An id of 31 hex digits.",
            format!(r#"{{"id":"{}","sent_at":{sent},"expires_at":{exp},{tb}}}"#, &id[..31]).into_bytes(),
        ),
        (
            "json-id-number",
            "The id as a number.",
            format!(r#"{{"id":12345,"sent_at":{sent},"expires_at":{exp},{tb}}}"#).into_bytes(),
        ),
        (
            "json-expires-before-sent",
            "expires_at one second before sent_at.",
            format!(r#"{{"id":"{id}","sent_at":{sent},"expires_at":{},{tb}}}"#, sent - 1).into_bytes(),
        ),
        (
            "json-sent-at-string",
            "sent_at as a string.",
            format!(r#"{{"id":"{id}","sent_at":"{sent}","expires_at":{exp},{tb}}}"#).into_bytes(),
        ),
        (
            "json-sent-at-float",
            "sent_at as a number with a fraction part.",
            format!(r#"{{"id":"{id}","sent_at":{sent}.0,"expires_at":{exp},{tb}}}"#).into_bytes(),
        ),
        (
            "json-title-number",
            "The title as a number.",
            fields(r#""title":5,"body":"Tomorrow 10:00 with Dr. Rivera""#).into_bytes(),
        ),
        (
            "json-title-null",
            "The title as null.",
            fields(r#""title":null,"body":"Tomorrow 10:00 with Dr. Rivera""#).into_bytes(),
        ),
        (
            "json-thread-id-null",
            "thread_id as null: an optional field is either absent or of its type.",
            fields(&format!(r#"{tb},"thread_id":null"#)).into_bytes(),
        ),
        ("json-badge-null", "badge as null.", fields(&format!(r#"{tb},"badge":null"#)).into_bytes()),
        ("json-data-null", "data as null.", fields(&format!(r#"{tb},"data":null"#)).into_bytes()),
        (
            "json-sent-at-exponent",
            "sent_at written with an exponent, 1767225600e0: an integer has no fraction or exponent.",
            format!(r#"{{"id":"{id}","sent_at":{sent}e0,"expires_at":{exp},{tb}}}"#).into_bytes(),
        ),
        (
            "json-sent-at-negative-zero",
            "sent_at as -0: an integer has no sign.",
            format!(r#"{{"id":"{id}","sent_at":-0,"expires_at":{exp},{tb}}}"#).into_bytes(),
        ),
        ("json-badge-negative", "A badge of -1.", fields(&format!(r#"{tb},"badge":-1"#)).into_bytes()),
        (
            "json-badge-too-large",
            "A badge of 4294967296, one more than a u32 holds.",
            fields(&format!(r#"{tb},"badge":4294967296"#)).into_bytes(),
        ),
        (
            "json-data-value-number",
            "A data value that is a number.",
            fields(&format!(r#"{tb},"data":{{"ref":7731}}"#)).into_bytes(),
        ),
        ("json-data-not-object", "data as a string.", fields(&format!(r#"{tb},"data":"ref""#)).into_bytes()),
        (
            "json-duplicate-id",
            "\"id\" twice.",
            format!(r#"{{"id":"{id}","id":"{id}","sent_at":{sent},"expires_at":{exp},{tb}}}"#).into_bytes(),
        ),
        (
            "json-duplicate-title",
            "\"title\" twice.",
            fields(r#""title":"Appointment","title":"Cancelled","body":"Tomorrow 10:00 with Dr. Rivera""#).into_bytes(),
        ),
        ("json-trailing-data", "A second JSON value after the object.", format!("{}{{}}", fields(tb)).into_bytes()),
        (
            "json-lone-surrogate",
            "A title with a lone UTF-16 surrogate escape, \\ud800.",
            fields(r#""title":"\ud800","body":"b""#).into_bytes(),
        ),
    ];
    let mut invalid_utf8 = fields(r#""title":"Appointment ","body":"Tomorrow 10:00 with Dr. Rivera""#).into_bytes();
    let at = invalid_utf8.windows(12).position(|w| w == b"Appointment ").ok_or_else(|| Error::new("title"))? + 11;
    invalid_utf8[at] = 0xff;
    cases.push(("json-invalid-utf8", "A title with the byte 0xff, which is not UTF-8.", invalid_utf8));
    for (name, description, plaintext) in cases {
        let mut padded = plaintext;
        padding::pad_in_place(&mut padded, 0)?;
        out.push(sealed(name, description, ErrorKind::Malformed, padded)?);
    }

    // Times at the TTL bound and at the edges of u64 (SPEC.md sections 5,
    // 8.1 and 8.3), each opened with a fresh replay store.
    let at = |sent: u64, exp: u64| format!(r#"{{"id":"{id}","sent_at":{sent},"expires_at":{exp},{tb}}}"#);
    let edges: [(&str, &str, ErrorKind, String, Option<u64>); 4] = [
        (
            "ttl-over-max",
            "expires_at - sent_at = 2419201, one second over the 28-day TTL bound.",
            ErrorKind::Malformed,
            at(sent, sent + MAX_TTL_SECS + 1),
            None,
        ),
        (
            "expires-at-u64-max",
            "expires_at = 2^64 - 1 with the short vector's sent_at: a TTL far over the bound. Without the bound, its \
             record would never expire from a replay store.",
            ErrorKind::Malformed,
            at(sent, u64::MAX),
            None,
        ),
        (
            "sent-at-u64-max",
            "sent_at = expires_at = 2^64 - 1 (TTL 0): the sums of the time rules are exact, so sent_at > now + 300 \
             and it is not yet valid; nothing wraps.",
            ErrorKind::NotYetValid,
            at(u64::MAX, u64::MAX),
            None,
        ),
        (
            "expires-at-zero",
            "sent_at = expires_at = 0, opened at now = 0 with a new replay store: it passes the time rules, and a new \
             store's floor is 0, so expires_at <= floor refuses it.",
            ErrorKind::Replayed,
            at(0, 0),
            Some(0),
        ),
    ];
    for (name, description, expected, plaintext, now) in edges {
        let mut padded = plaintext.into_bytes();
        padding::pad_in_place(&mut padded, 0)?;
        let mut open = sealed(name, description, expected, padded)?;
        if let Some(now) = now {
            open.now = now;
        }
        out.push(open);
    }

    // One byte over the largest bucket: an envelope of 2114 bytes, whose
    // text (2819 characters) is refused before it is decoded.
    let mut over = [plaintext, &[0x80]].concat();
    over.resize(padding::BUCKETS[padding::BUCKETS.len() - 1] + 1, 0);
    out.push(sealed(
        "envelope-text-too-long",
        "A validly sealed envelope whose padded plaintext is 2049 bytes, one over the largest bucket: its text is \
         2819 characters, one over the most a device decodes.",
        ErrorKind::PayloadTooLarge,
        over,
    )?);

    // SPEC.md section 4.3: the length is counted in bytes, before the text
    // is decoded; a character outside ASCII is then invalid_encoding. The
    // cap is that of a device that opens version 2 (section 12.6).
    let text = fixture::base64url(&base.envelope);
    let cap = pushseal::envelope_v2::MAX_TEXT_LEN;
    ensure(text.len() < cap - 3, || "the short vector's envelope text".into())?;
    let pad = |ascii: usize, tail: &str| format!("{}{}{tail}", text, "A".repeat(ascii - text.len()));
    let over = pad(cap - 3, "\u{e9}\u{e9}\u{e9}");
    let at = pad(cap - 2, "\u{e9}");
    ensure(over.chars().count() == cap && over.len() == cap + 3 && at.len() == cap, || "lengths".into())?;
    for (name, description, expected, text) in [
        (
            "envelope-text-4357-bytes-4354-code-points",
            "The short vector's envelope text padded with 'A' and ending in three U+00E9: 4354 code points, 4357 \
             bytes of UTF-8. The length is counted in bytes, before decoding: payload_too_large.",
            ErrorKind::PayloadTooLarge,
            over,
        ),
        (
            "envelope-text-4354-bytes-not-ascii",
            "The short vector's envelope text padded with 'A' and ending in one U+00E9: 4354 bytes of UTF-8 (4353 \
             code points), within the length; the character outside ASCII is not base64url: invalid_encoding.",
            ErrorKind::InvalidEncoding,
            at,
        ),
    ] {
        out.push(Open::payload(base, name, description, expected, fixture::envelope_payload(text)));
    }
    Ok(())
}

/// Valid notifications opened too late or too early.
fn time_vectors(positives: &[Positive], out: &mut Vec<Open>) -> Result<()> {
    let base = find(positives, "short")?;
    let skew = pushseal::CLOCK_SKEW_SECS;
    let mut expired = Open::bytes(
        base,
        "expired",
        "The short vector opened at expires_at + 301: one second past the 300-second clock skew.",
        ErrorKind::Expired,
        base.envelope.clone(),
    );
    expired.now = base.json.expected.expires_at + skew + 1;
    out.push(expired);
    let mut early = Open::bytes(
        base,
        "not-yet-valid",
        "The short vector opened at sent_at - 301: sent more than the clock skew in the device's future.",
        ErrorKind::NotYetValid,
        base.envelope.clone(),
    );
    early.now = base.json.sent_at - skew - 1;
    out.push(early);
    Ok(())
}

/// Messages the sender must refuse.
fn seal_vectors() -> Result<Vec<NegativeJson>> {
    let filler = "Padding hides how long a notification is. ";
    let big = |name: &str, len: usize| {
        fixture::sized_message("Too long", filler, DEFAULT_TTL_SECS, fixture::message_id(name), SENT_AT, len)
    };
    let long_title = |extra: usize| -> Result<ApnsOptions> {
        // The fallback title of the apns-body-4096-bytes vector, `extra` characters longer.
        let id = fixture::message_id("apns-body-4096-bytes");
        let message =
            fixture::sized_message("Limit", filler, DEFAULT_TTL_SECS, id, SENT_AT, padding::MAX_PLAINTEXT_LEN)?;
        let probe = ApnsOptions { fallback_title: String::new(), ..ApnsOptions::default() };
        let sender = Sender::new(fixture::sender("sender-a"));
        let eph = Ephemeral::derive(&fixture::ephemeral_ikm("apns-body-4096-bytes"))?;
        let sealed = sender.seal_with(&fixture::device_public("device-1"), &message, &probe, id, SENT_AT, &eph)?;
        let len = GATEWAY_LIMIT - sealed.payload.body.len() + extra;
        Ok(ApnsOptions { fallback_title: "New message ".chars().cycle().take(len).collect(), ..ApnsOptions::default() })
    };
    let too_large = ErrorKind::PayloadTooLarge;
    let limit_message = |name: &str| {
        fixture::sized_message("Limit", filler, DEFAULT_TTL_SECS, fixture::message_id(name), SENT_AT, 2047)
    };
    Ok(vec![
        seal_vector(
            "seal-envelope-2048-bytes",
            "A 2048-byte plaintext: no padding bucket holds it and its 0x80 marker.",
            big("seal-envelope-2048-bytes", 2048)?,
            &BareEnvelope,
            too_large,
            Some((2048, 2047)),
        )?,
        seal_vector(
            "seal-apns-2048-bytes",
            "The same size for APNs with the default options.",
            big("seal-apns-2048-bytes", 2048)?,
            &ApnsOptions::default(),
            too_large,
            Some((2048, 2047)),
        )?,
        seal_vector(
            "seal-fcm-2048-bytes",
            "The same size for FCM.",
            big("seal-fcm-2048-bytes", 2048)?,
            &FcmOptions::default(),
            too_large,
            Some((2048, 2047)),
        )?,
        seal_vector(
            "seal-apns-body-4097-bytes",
            "The apns-body-4096-bytes vector's largest plaintext with a fallback title one character longer: the body \
             would be 4097 bytes, so only plaintexts that pad to 1024 bytes fit these options.",
            limit_message("seal-apns-body-4097-bytes")?,
            &long_title(1)?,
            too_large,
            Some((2047, 1023)),
        )?,
        seal_vector(
            "seal-ttl-over-28-days",
            "A TTL of 28 days and one second.",
            Message::new("Reminder", "Your annual check-up is due.").with_ttl(MAX_TTL_SECS + 1),
            &BareEnvelope,
            ErrorKind::InvalidNotification,
            None,
        )?,
        seal_vector(
            "seal-apns-fallback-leaves-no-room",
            "A 3605-character fallback title: with it the smallest APNs body (a 256-byte bucket) is 4097 bytes, so \
             no notification fits. The options are invalid (SPEC.md section 7.3); max_plaintext_len fails the same \
             way.",
            Message::new("Appointment", "Tomorrow 10:00 with Dr. Rivera"),
            &ApnsOptions {
                fallback_title: "New message ".chars().cycle().take(3605).collect(),
                ..ApnsOptions::default()
            },
            ErrorKind::InvalidNotification,
            None,
        )?,
    ])
}

/// One message the sender must refuse for `target`, with the error it gives
/// and, for a size error, `(size, max_plaintext)`.
fn seal_vector<T: TargetJsonForm>(
    name: &str,
    description: &str,
    message: Message,
    target: &T,
    expected: ErrorKind,
    sizes: Option<(usize, usize)>,
) -> Result<NegativeJson> {
    let id = fixture::message_id(name);
    let ikm = fixture::ephemeral_ikm(name);
    let sender_key = fixture::sender("sender-a");
    let device = fixture::device_public("device-1");
    let sender = Sender::new(fixture::sender("sender-a"));
    let err = sender
        .seal_with(&device, &message, target, id, SENT_AT, &Ephemeral::derive(&ikm)?)
        .err()
        .ok_or_else(|| Error::new(format!("negative vector {name}: the sender sealed it")))?;
    ensure(err.kind() == expected, || format!("negative vector {name}: expected {expected}, got {err}"))?;
    if let Some((size, max)) = sizes {
        ensure(err == pushseal::Error::PayloadTooLarge { size, max_plaintext: max }, || {
            format!("negative vector {name}: {err}")
        })?;
        ensure(target.max_plaintext_len()? == max, || format!("negative vector {name}: max_plaintext_len"))?;
    }
    Ok(NegativeJson::Seal(Box::new(NegativeSealJson {
        name: name.to_owned(),
        description: description.to_owned(),
        operation: "seal",
        expected_error: expected.name(),
        sender: fixture::key_pair_json(&fixture::sender_label("sender-a"), &sender_key),
        recipient: fixture::public_key_json(&fixture::device_label("device-1"), &device),
        message: fixture::message_json(&message),
        message_id: id.to_string(),
        sent_at: SENT_AT,
        ephemeral_ikm: hex::encode(ikm),
        target: target.target_json(),
        expected_size: sizes.map(|s| s.0),
        expected_max_plaintext: sizes.map(|s| s.1),
    })))
}

/// APNs payloads whose `"pushseal"` member is a valid envelope but which are
/// not JSON a receiver reads (SPEC.md section 7.4): a member name twice, at
/// the top level, inside `aps` or deeper; a string with no UTF-8 form, a
/// number out of binary64's range, or nesting past 64, in a member the device
/// does not use.
fn strict_json_vectors(positives: &[Positive], out: &mut Vec<Open>) -> Result<()> {
    let base = find(positives, "short")?;
    let text = &base.json.envelope_base64url;
    let valid = format!(r#""pushseal":"{text}""#);
    let aps = r#""aps":{"alert":{"title":"New message"},"mutable-content":1}"#;
    let deep = |depth: usize| format!(r#"{{"x":{}{}}},{aps},{valid}}}"#, "[".repeat(depth - 1), "]".repeat(depth - 1));
    let kind = ErrorKind::NotPushSeal;
    for (name, description, body) in [
        (
            "apns-pushseal-twice-number-first",
            "\"pushseal\" twice: a number, then a valid envelope. A member name given twice is not_pushseal, \
             whichever value is valid.",
            format!(r#"{{{aps},"pushseal":1,{valid}}}"#),
        ),
        (
            "apns-pushseal-twice-string-first",
            "\"pushseal\" twice: the text \"xx\", then a valid envelope.",
            format!(r#"{{{aps},"pushseal":"xx",{valid}}}"#),
        ),
        (
            "apns-pushseal-twice-valid-first",
            "\"pushseal\" twice: a valid envelope, then the text \"xx\".",
            format!(r#"{{{aps},{valid},"pushseal":"xx"}}"#),
        ),
        (
            "apns-pushseal-twice-same-value",
            "\"pushseal\" twice with the same valid envelope.",
            format!(r#"{{{aps},{valid},{valid}}}"#),
        ),
        (
            "apns-pushseal-twice-escaped-name",
            "\"pushseal\" and \"push\\u0073eal\", the same name once its escape is resolved.",
            format!(r#"{{{aps},{valid},"push\u0073eal":"{text}"}}"#),
        ),
        (
            "apns-aps-member-twice",
            "\"mutable-content\" twice inside \"aps\": duplicates are refused at every depth.",
            format!(
                r#"{{"aps":{{"alert":{{"title":"New message"}},"mutable-content":1,"mutable-content":1}},{valid}}}"#
            ),
        ),
        (
            "apns-alert-member-twice",
            "\"title\" twice inside \"aps\".\"alert\".",
            format!(r#"{{"aps":{{"alert":{{"title":"New message","title":"Hi"}},"mutable-content":1}},{valid}}}"#),
        ),
        (
            "apns-nested-member-twice",
            "A member name twice in an object inside an array of an app's own member.",
            format!(r#"{{{aps},"app":[{{"k":"a","k":"b"}}],{valid}}}"#),
        ),
        (
            "apns-other-member-lone-surrogate",
            "An app's own member holds \"\\ud800\", a lone UTF-16 surrogate escape with no UTF-8 form.",
            format!(r#"{{"x":"\ud800",{aps},{valid}}}"#),
        ),
        (
            "apns-member-name-lone-surrogate",
            "A member name that is \"\\udc00\", a lone low surrogate escape.",
            format!(r#"{{{aps},"\udc00":1,{valid}}}"#),
        ),
        (
            "apns-other-member-number-out-of-range",
            "An app's own member holds 1e400, beyond the largest finite binary64.",
            format!(r#"{{{aps},"x":1e400,{valid}}}"#),
        ),
        (
            "apns-nested-65-deep",
            "An app's own member nests arrays so that the payload is 65 deep (the top-level object is depth 1).",
            deep(65),
        ),
        (
            "apns-trailing-value",
            "A second JSON value after the payload's object.",
            format!(r#"{{{aps},{valid}}} {{}}"#),
        ),
    ] {
        out.push(Open::payload(base, name, description, kind, fixture::apns_payload(body)));
    }
    Ok(())
}
