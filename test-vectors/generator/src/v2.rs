//! Envelope version 2 vectors (SPEC.md section 12): `v2.json`.
//!
//! Positive vectors carry every intermediate value (X-Wing shared secret,
//! key schedule, header, ciphertext, the signed transcript, signature,
//! receipt) and are computed twice: once by `pushseal::Sender`, once here
//! from the X-Wing KEM, the HPKE key schedule and `ed25519-dalek` directly.
//! Negative vectors are opened by a device (or sealed by a sender) and must
//! fail with their stated kind.

use ed25519_dalek::{Signer as _, SigningKey, Verifier as _};
use pushseal::envelope_v2::{self, HEADER_LEN, SIGNATURE_LABEL, SUITE_ID};
use pushseal::hpke;
use pushseal::xwing::{self, Eseed};
use pushseal::{
    ApnsOptions, BareEnvelope, DeviceKeyring, DeviceSecretKeyV2, FcmOptions, MemoryReplayStore, Message, Payload, Pq,
    Sender, SenderSigningKey, Target,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::fixture::{self, OPEN_DELAY, SENT_AT, base64url, seed};
use crate::{Error, Result, ensure};

/// The file's description.
pub const DESCRIPTION: &str = "Envelope version 2 (SPEC.md section 12): X-Wing (HPKE KEM 0x647A, mode base) with an \
     Ed25519-signed sender. `positive` vectors open and list every intermediate value; `negative` vectors must fail \
     to open with `error_kind`; `sender` vectors are what a sender seals or refuses; `key_texts` are version 2 key \
     texts a reader must refuse.";

/// A device v2 seed by fixture name.
fn device_v2(name: &str) -> DeviceSecretKeyV2 {
    DeviceSecretKeyV2::from_seed(&seed(&format!("device v2 key {name}")))
}

/// A sender v2 (Ed25519) seed by fixture name.
fn signer_seed(name: &str) -> [u8; 32] {
    seed(&format!("sender v2 key {name}"))
}

fn signer(name: &str) -> SenderSigningKey {
    SenderSigningKey::from_seed(&signer_seed(name))
}

/// A vector's `eseed`: `seed("eseed <name>") || seed("eseed 2 <name>")`.
fn eseed_bytes(vector: &str) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&seed(&format!("eseed {vector}")));
    out[32..].copy_from_slice(&seed(&format!("eseed 2 {vector}")));
    out
}

/// The sender of every vector: sender-a's version 1 key and version 2 signing key.
fn sender(name: &str) -> Sender {
    Sender::new(fixture::sender(name)).with_signing_key(signer(name))
}

/// The device of every vector: device-1's keys of both versions, trusting
/// sender-a in both versions.
fn keyring() -> Result<DeviceKeyring> {
    let mut k = DeviceKeyring::from_keys(fixture::device("device-1"), device_v2("device-1"));
    k.trust_sender(fixture::sender("sender-a").public_key())?;
    k.trust_sender_v2(signer("sender-a").verifying_key());
    Ok(k)
}

fn keyring_text(k: &DeviceKeyring) -> Result<String> {
    String::from_utf8(k.to_bytes()?.to_vec()).map_err(|_| Error::new("keyring is not UTF-8"))
}

/// Seals `msg` for `target` as sender `from`, deterministically.
fn seal<T: Target>(
    from: &str,
    to: &DeviceSecretKeyV2,
    msg: &Message,
    target: &T,
    name: &str,
) -> Result<pushseal::Sealed<T::Payload>> {
    Ok(sender(from).seal_v2_with(
        to.public_key(),
        msg,
        target,
        fixture::message_id(name),
        SENT_AT,
        &Eseed::from_bytes(eseed_bytes(name)),
    )?)
}

/// One positive vector, checked against a second computation.
fn positive(name: &str, description: &str, len: usize) -> Result<Value> {
    let device = device_v2("device-1");
    let id = fixture::message_id(name);
    let msg = fixture::sized_message("Lab results", "Your results are ready. ", 3600, id, SENT_AT, len)?;
    let sealed = seal("sender-a", &device, &msg, &BareEnvelope, name)?;
    let plaintext = fixture::plaintext(&msg, id, SENT_AT)?;
    let mut padded = plaintext.clone();
    padded.push(0x80);
    let bucket = [256, 512, 1024, 2048].into_iter().find(|b| *b > plaintext.len()).unwrap_or(2048);
    padded.resize(bucket, 0);

    // The second computation: X-Wing, the key schedule, the AEAD, Ed25519.
    let pk = device.public_key();
    let eseed = Eseed::from_bytes(eseed_bytes(name));
    let (ss, enc) = xwing::encap(
        &xwing::PublicKey::from_bytes(pk.as_bytes()).map_err(Error::from)?,
        &Eseed::from_bytes(eseed_bytes(name)),
    );
    let ksc = hpke::KeyScheduleContext::new_in(hpke::Suite::XWing, hpke::Mode::Base, envelope_v2::INFO, b"");
    let mut ctx = hpke::key_schedule_with(&ksc, ss.as_ref(), b"")?;
    let (key, base_nonce, exporter_secret) = ctx.debug_values();
    let signing = SigningKey::from_bytes(&signer_seed("sender-a"));
    let mut header = vec![envelope_v2::VERSION];
    header.extend_from_slice(&pk.key_id().to_bytes());
    header.extend_from_slice(&signer("sender-a").key_id().to_bytes());
    header.extend_from_slice(&enc);
    ensure(header.len() == HEADER_LEN, || "header length".into())?;
    let ct = ctx.seal(&header, &padded)?;
    let mut transcript = SIGNATURE_LABEL.to_vec();
    transcript.extend_from_slice(SUITE_ID);
    transcript.extend_from_slice(pk.as_bytes());
    transcript.extend_from_slice(signing.verifying_key().as_bytes());
    transcript.extend_from_slice(&header);
    transcript.extend_from_slice(&ct);
    let signature = signing.sign(&transcript);
    signing.verifying_key().verify(&transcript, &signature).map_err(|_| Error::new("signature"))?;
    let envelope = [&header[..], &ct, &signature.to_bytes()].concat();
    ensure(envelope == sealed.envelope, || format!("{name}: the two computations of the envelope disagree"))?;
    let (_, setup_ctx) = xwing::setup_base_s(
        &xwing::PublicKey::from_bytes(pk.as_bytes()).map_err(Error::from)?,
        &xwing::base_context(envelope_v2::INFO),
        &eseed,
    )?;
    ensure(setup_ctx.debug_values() == (key, base_nonce, exporter_secret), || "key schedule".into())?;

    // The receipt: the exporter of section 12.7, then the digest of 10.1.
    let mut receipt = [0u8; 16];
    ctx.export(&[b"pushseal receipt v2".as_slice(), id.as_bytes()].concat(), &mut receipt)?;
    let digest: [u8; 32] =
        Sha256::new().chain_update(b"pushseal receipt digest v1").chain_update(receipt).finalize().into();
    ensure(digest.to_vec() == hex::decode(sealed.receipt_digest.to_string()).unwrap_or_default(), || {
        format!("{name}: receipt digests disagree")
    })?;

    // The device opens it, and gets the same receipt.
    let device_keyring = keyring()?;
    let text = base64url(&sealed.envelope);
    let (n, r) =
        device_keyring.open_with_receipt(Payload::Envelope(&text), &MemoryReplayStore::new(), SENT_AT + OPEN_DELAY)?;
    ensure(n.id == id && r.to_string() == base64url(&receipt), || format!("{name}: the device disagrees"))?;

    Ok(json!({
        "name": name,
        "description": description,
        "device_v1_secret_key": hex::encode(fixture::device("device-1").to_bytes().as_ref()),
        "device_v2_seed": hex::encode(device.to_seed().as_ref()),
        "device_v2_public_key": hex::encode(pk.as_bytes()),
        "device_v2_key_id": pk.key_id().to_string(),
        "device_v2_public_text": pk.to_string(),
        "device_v2_secret_text": device.to_secret_text().as_str(),
        "registration": device_keyring.registration().to_string(),
        "sender_v2_seed": hex::encode(signer_seed("sender-a")),
        "sender_v2_public_key": hex::encode(signing.verifying_key().as_bytes()),
        "sender_v2_key_id": signer("sender-a").key_id().to_string(),
        "sender_v2_public_text": signer("sender-a").verifying_key().to_string(),
        "sender_v2_secret_text": signer("sender-a").to_secret_text().as_str(),
        "keyring": keyring_text(&device_keyring)?,
        "sent_at": SENT_AT,
        "now": SENT_AT + OPEN_DELAY,
        "message_id": id.to_string(),
        "plaintext": String::from_utf8(plaintext.clone()).map_err(|_| Error::new("plaintext"))?,
        "plaintext_len": plaintext.len(),
        "padded_len": padded.len(),
        "eseed": hex::encode(eseed_bytes(name)),
        "enc": hex::encode(enc),
        "shared_secret": hex::encode(ss.as_ref()),
        "key": hex::encode(key),
        "base_nonce": hex::encode(base_nonce),
        "exporter_secret": hex::encode(exporter_secret),
        "header": hex::encode(&header),
        "ciphertext": hex::encode(&ct),
        "transcript_sha256": hex::encode(Sha256::digest(&transcript)),
        "signature": hex::encode(signature.to_bytes()),
        "envelope": hex::encode(&sealed.envelope),
        "envelope_len": sealed.envelope.len(),
        "envelope_base64url": text,
        "receipt_base64url": base64url(&receipt),
        "receipt_digest": sealed.receipt_digest.to_string(),
    }))
}

/// One negative vector: `envelope` opened by `keyring` at `now` must fail with `kind`.
fn negative(
    name: &str,
    description: &str,
    keyring: &DeviceKeyring,
    text: String,
    kind: pushseal::ErrorKind,
) -> Result<Value> {
    let got = keyring.open(Payload::Envelope(&text), &MemoryReplayStore::new(), SENT_AT + OPEN_DELAY);
    ensure(got.as_ref().err().map(pushseal::Error::kind) == Some(kind), || {
        format!("{name}: expected {kind}, got {got:?}")
    })?;
    Ok(json!({
        "name": name,
        "description": description,
        "keyring": keyring_text(keyring)?,
        "now": SENT_AT + OPEN_DELAY,
        "envelope_base64url": text,
        "error_kind": kind.name(),
    }))
}

/// Re-signs `unsigned` (an envelope without its signature) as sender `by`
/// for device-1, appending the signature.
fn resign(unsigned: &[u8], by: &str) -> Vec<u8> {
    let signing = SigningKey::from_bytes(&signer_seed(by));
    let mut transcript = SIGNATURE_LABEL.to_vec();
    transcript.extend_from_slice(SUITE_ID);
    transcript.extend_from_slice(device_v2("device-1").public_key().as_bytes());
    transcript.extend_from_slice(signing.verifying_key().as_bytes());
    transcript.extend_from_slice(unsigned);
    [unsigned, &signing.sign(&transcript).to_bytes()[..]].concat()
}

fn negatives() -> Result<Vec<Value>> {
    use pushseal::ErrorKind as K;
    let k = keyring()?;
    let device = device_v2("device-1");
    let msg = Message::new("Lab results", "Ready").with_ttl(3600);
    let good = seal("sender-a", &device, &msg, &BareEnvelope, "v2-negative-base")?.envelope;
    let sig_at = good.len() - 64;
    let mut out = Vec::new();

    let mut bad = good.clone();
    bad[sig_at] ^= 0x01;
    out.push(negative("tampered-signature", "The first byte of R flipped.", &k, base64url(&bad), K::InvalidSignature)?);
    let mut bad = good.clone();
    bad[good.len() - 1] ^= 0x80;
    out.push(negative(
        "signature-s-out-of-range",
        "The top bit of S flipped: S is no longer below L.",
        &k,
        base64url(&bad),
        K::InvalidSignature,
    )?);
    let resigned = resign(&good[..sig_at], "sender-b");
    out.push(negative(
        "wrong-signer",
        "Signed by sender-b while the header names sender-a (trusted): the signature does not verify.",
        &k,
        base64url(&resigned),
        K::InvalidSignature,
    )?);
    let by_b = seal("sender-b", &device, &msg, &BareEnvelope, "v2-negative-sender-b")?.envelope;
    out.push(negative(
        "untrusted-signer",
        "Sealed and signed by sender-b, whom the device does not trust.",
        &k,
        base64url(&by_b),
        K::UntrustedSender,
    )?);
    let mut claimed = good[..sig_at].to_vec();
    claimed[9..17].copy_from_slice(&signer("sender-b").key_id().to_bytes());
    let mut k_b = keyring()?;
    k_b.trust_sender_v2(signer("sender-b").verifying_key());
    out.push(negative(
        "claimed-by-another-trusted-sender",
        "sender-a's envelope with sender-b's key id, signed again by sender-b (trusted too): the AEAD binds the \
         header, so it fails.",
        &k_b,
        base64url(&resign(&claimed, "sender-b")),
        K::Tampered,
    )?);
    let mut bad = good[..sig_at].to_vec();
    bad[HEADER_LEN] ^= 0x01;
    out.push(negative(
        "tampered-ciphertext-signed-again",
        "A ciphertext byte flipped and the envelope signed again by sender-a: the signature verifies, the AEAD fails.",
        &k,
        base64url(&resign(&bad, "sender-a")),
        K::Tampered,
    )?);
    let mut bad = good.clone();
    bad[1..9].copy_from_slice(&fixture::device("device-1").key_id().to_bytes());
    out.push(negative(
        "v1-key-for-v2",
        "A version 2 header naming the device's version 1 key id: no version 2 key has it.",
        &k,
        base64url(&bad),
        K::UnknownRecipientKey,
    )?);
    let by_other = seal("sender-a", &device_v2("device-other"), &msg, &BareEnvelope, "v2-negative-other")?.envelope;
    out.push(negative(
        "unknown-v2-key",
        "Sealed to another device's version 2 key.",
        &k,
        base64url(&by_other),
        K::UnknownRecipientKey,
    )?);
    for (len, what) in [(1, "the version byte alone"), (17, "the key ids, no enc"), (1136, "enc one byte short")] {
        out.push(negative(
            &format!("truncated-enc-{len}"),
            &format!("The envelope cut to {len} bytes: {what}."),
            &k,
            base64url(&good[..len]),
            K::Truncated,
        )?);
    }
    out.push(negative(
        "no-signature",
        "The envelope without its last 64 bytes (1,216 bytes left: shorter than the minimum 1,217).",
        &k,
        base64url(&good[..envelope_v2::MIN_LEN - 1]),
        K::Truncated,
    )?);
    out.push(negative(
        "signature-one-byte-short",
        "The last byte removed: the 64 bytes read as the signature are the wrong ones.",
        &k,
        base64url(&good[..good.len() - 1]),
        K::InvalidSignature,
    )?);
    out.push(negative(
        "text-over-the-cap",
        "4,355 characters of envelope text: one over the largest version 2 envelope's, refused before decoding.",
        &k,
        "A".repeat(envelope_v2::MAX_TEXT_LEN + 1),
        K::PayloadTooLarge,
    )?);
    let mut v1_only = keyring()?;
    v1_only.accept_v1(false);
    let v1 = Sender::new(fixture::sender("sender-a"))
        .seal_with(
            &fixture::device_public("device-1"),
            &msg,
            &BareEnvelope,
            fixture::message_id("v2-negative-v1"),
            SENT_AT,
            &hpke::Ephemeral::derive(&fixture::ephemeral_ikm("v2-negative-v1"))?,
        )?
        .envelope;
    out.push(negative(
        "v1-refused",
        "A valid version 1 envelope to a device that refuses version 1 (accept_v1 false).",
        &v1_only,
        base64url(&v1),
        K::UnsupportedVersion,
    )?);
    Ok(out)
}

/// Seals a message (named) for one target, giving the envelope's length.
type SealFor<'a> = dyn Fn(&Message, &str) -> Result<usize> + 'a;

/// What a sender seals or refuses: each size limit of SPEC.md section 12.6
/// and the `require` policy.
fn senders() -> Result<Vec<Value>> {
    let device = device_v2("device-1");
    let mut out = Vec::new();
    let apns = ApnsOptions::default();
    let fcm = FcmOptions::default();
    let cases: [(&str, &SealFor<'_>, usize); 3] = [
        ("apns", &|m, n| Ok(seal("sender-a", &device, m, &apns, n)?.envelope.len()), 1023),
        ("fcm", &|m, n| Ok(seal("sender-a", &device, m, &fcm, n)?.envelope.len()), 1023),
        ("envelope", &|m, n| Ok(seal("sender-a", &device, m, &BareEnvelope, n)?.envelope.len()), 2047),
    ];
    for (target, seal_for, max) in cases {
        for len in [max, max + 1] {
            let name = format!("v2-{target}-{len}");
            let id = fixture::message_id(&name);
            let msg = fixture::sized_message("Lab results", "Ready. ", 3600, id, SENT_AT, len)?;
            let outcome = seal_for(&msg, &name);
            let (kind, envelope_len) = match &outcome {
                Ok(n) => (Value::Null, json!(n)),
                Err(_) => (json!("payload_too_large"), Value::Null),
            };
            ensure(outcome.is_ok() == (len <= max), || format!("{name}: {outcome:?}"))?;
            out.push(json!({
                "name": name,
                "description": format!("A {len}-byte notification for {target} in version 2: the largest that fits is {max}."),
                "target": target,
                "pq": "prefer",
                "plaintext_len": len,
                "max_plaintext_len": max,
                "envelope_len": envelope_len,
                "error_kind": kind,
            }));
        }
    }
    let strict = sender("sender-a").with_pq(Pq::Require);
    let refused = strict.seal_envelope(&fixture::device_public("device-1"), &Message::new("t", "b"));
    ensure(refused.as_ref().err().map(pushseal::Error::kind) == Some(pushseal::ErrorKind::UnsupportedVersion), || {
        format!("require: {refused:?}")
    })?;
    out.push(json!({
        "name": "require-without-v2-key",
        "description": "A sender that requires version 2, given a registration that is a version 1 public key alone.",
        "target": "envelope",
        "pq": "require",
        "registration": fixture::device_public("device-1").to_base64(),
        "error_kind": "unsupported_version",
    }));
    Ok(out)
}

/// Version 2 key texts a reader must refuse with `invalid_encoding`.
fn key_texts() -> Vec<Value> {
    let small_order = [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ];
    let mut out: Vec<Value> = small_order
        .iter()
        .map(|h| {
            let text = format!("pushseal-sender-v2:{}", base64url(&hex::decode(h).unwrap_or_default()));
            json!({"name": format!("sender-v2-weak-{}", &h[..8]), "kind": "sender_v2_public", "text": text, "error_kind": "invalid_encoding"})
        })
        .collect();
    let mut out_of_range = device_v2("device-1").public_key().as_bytes().to_vec();
    out_of_range[0] = 0xff;
    out_of_range[1] |= 0x0f;
    out.push(json!({"name": "device-v2-coefficient-out-of-range", "kind": "device_v2_public", "text": format!("pushseal-device-v2:{}", base64url(&out_of_range)), "error_kind": "invalid_encoding"}));
    let v1 = fixture::device_public("device-1").to_base64();
    out.push(json!({"name": "v1-key-as-sender-v2", "kind": "sender_v2_public", "text": v1, "error_kind": "invalid_encoding"}));
    out.push(json!({"name": "v1-secret-as-device-v2-secret", "kind": "device_v2_secret", "text": fixture::device("device-1").to_secret_text().as_str(), "error_kind": "invalid_encoding"}));
    out.push(json!({"name": "device-v2-secret-as-sender-v2-secret", "kind": "sender_v2_secret", "text": device_v2("device-1").to_secret_text().as_str(), "error_kind": "invalid_encoding"}));
    out
}

/// The whole file's vectors: one object with four lists.
pub fn vectors() -> Result<Vec<Value>> {
    let mut positives = Vec::new();
    for (name, len, what) in [
        ("v2-bucket-256", 200, "A 200-byte notification: the 256-byte bucket."),
        ("v2-bucket-512", 400, "A 400-byte notification: the 512-byte bucket."),
        ("v2-bucket-1024", 1023, "The largest version 2 notification that fits APNs and FCM: the 1,024-byte bucket."),
        (
            "v2-bucket-2048",
            2047,
            "The largest version 2 envelope (3,265 bytes, 4,354 characters): bare envelope text only.",
        ),
    ] {
        positives.push(positive(name, what, len)?);
    }
    Ok(vec![json!({
        "positive": positives,
        "negative": negatives()?,
        "sender": senders()?,
        "key_texts": key_texts(),
    })])
}
