//! The fixed inputs: seeds, keys, clocks, keyrings, and their JSON forms.

use std::collections::{BTreeMap, HashMap};

use pushseal::keys::{PublicKey, Role};
use pushseal::{
    ApnsOptions, ApnsPushType, BareEnvelope, DeviceKeyring, DevicePublicKey, DeviceSecretKey, FcmOptions, Message,
    MessageId, Notification, Payload, ReplayStore, SenderPublicKey, SenderSecretKey, Target,
};
use sha2::{Digest, Sha256};

use crate::schema::{
    ApnsOptionsJson, FcmOptionsJson, KeyPairJson, KeyringJson, MessageJson, NotificationJson, PayloadJson,
    PublicKeyJson, RetiredKeyJson, TargetJson,
};
use crate::{Result, ensure};

/// The sender's clock when it seals: 2026-01-01T00:00:00Z.
pub const SENT_AT: u64 = 1_767_225_600;
/// The device opens this many seconds after sealing, unless a vector says otherwise.
pub const OPEN_DELAY: u64 = 5;
/// The domain separation prefix of every seed.
pub const SEED_PREFIX: &str = "pushseal test vectors v1: ";

/// `SHA-256("pushseal test vectors v1: " || label)`: every secret in the files
/// (device and sender secret keys, ephemeral `ikm`, message ids) comes from one.
pub fn seed(label: &str) -> [u8; 32] {
    Sha256::new().chain_update(SEED_PREFIX).chain_update(label).finalize().into()
}

/// The seed label of a device key.
pub fn device_label(name: &str) -> String {
    format!("device key {name}")
}

/// The seed label of a sender key.
pub fn sender_label(name: &str) -> String {
    format!("sender key {name}")
}

/// A device secret key from its fixture name (`device-1`, `device-2`, `device-other`).
pub fn device(name: &str) -> DeviceSecretKey {
    DeviceSecretKey::from_bytes(seed(&device_label(name)))
}

/// A sender secret key from its fixture name (`sender-a`, `sender-b`, `sender-untrusted`).
pub fn sender(name: &str) -> SenderSecretKey {
    SenderSecretKey::from_bytes(seed(&sender_label(name)))
}

/// The `ikm` of a vector's ephemeral key.
pub fn ephemeral_ikm(vector: &str) -> [u8; 32] {
    seed(&format!("ephemeral {vector}"))
}

/// A vector's message id: the first 16 bytes of its seed.
pub fn message_id(vector: &str) -> MessageId {
    let s = seed(&format!("message id {vector}"));
    let mut id = [0u8; 16];
    id.copy_from_slice(&s[..16]);
    MessageId::from_bytes(id)
}

/// A secret key's JSON form.
pub fn key_pair_json<R: Role>(label: &str, key: &pushseal::keys::SecretKey<R>) -> KeyPairJson {
    let public = key.public_key();
    KeyPairJson {
        label: label.to_owned(),
        secret_key: hex::encode(key.to_bytes().as_ref()),
        secret_key_text: key.to_secret_text().as_str().to_owned(),
        public_key: hex::encode(public.as_bytes()),
        public_key_base64url: public.to_base64(),
        key_id: key.key_id().to_string(),
    }
}

/// A public key's JSON form.
pub fn public_key_json<R: Role>(label: &str, key: &PublicKey<R>) -> PublicKeyJson {
    PublicKeyJson {
        label: label.to_owned(),
        public_key: hex::encode(key.as_bytes()),
        public_key_base64url: key.to_base64(),
        key_id: key.key_id().to_string(),
    }
}

/// A trusted sender in a keyring: a fixture sender, or raw public key bytes.
#[derive(Clone)]
pub enum Trusted {
    /// A fixture sender by name.
    Fixture(&'static str),
    /// Any 32 bytes, with a label (a low-order point, say).
    Raw(&'static str, [u8; 32]),
}

impl Trusted {
    fn public_key(&self) -> (String, SenderPublicKey) {
        match self {
            Trusted::Fixture(name) => (sender_label(name), sender(name).public_key()),
            Trusted::Raw(label, bytes) => ((*label).to_owned(), SenderPublicKey::from_bytes(*bytes)),
        }
    }
}

/// What a device keyring holds.
#[derive(Clone)]
pub struct KeyringSpec {
    /// The current device key's fixture name.
    pub current: &'static str,
    /// Retired device keys, with their `usable_until`.
    pub retired: Vec<(&'static str, u64)>,
    /// Trusted senders.
    pub trusted: Vec<Trusted>,
}

impl KeyringSpec {
    /// The usual keyring: `device-1`, trusting `sender-a`.
    pub fn standard() -> Self {
        Self { current: "device-1", retired: Vec::new(), trusted: vec![Trusted::Fixture("sender-a")] }
    }

    /// Builds the keyring from its serialized form (written here from the
    /// format `pushseal::keyring` documents), checks that the keyring writes
    /// the same bytes back, and returns it with its JSON form.
    pub fn build(&self) -> Result<(DeviceKeyring, KeyringJson)> {
        let text = self.serialized();
        let current = device(self.current);
        let retired: Vec<_> = self.retired.iter().map(|(name, until)| (*name, device(name), *until)).collect();
        let trusted: Vec<_> = self.trusted.iter().map(Trusted::public_key).collect();
        let keyring = DeviceKeyring::from_bytes(text.as_bytes())?;
        let written = keyring.to_bytes()?;
        ensure(written.as_slice() == text.as_bytes(), || "the keyring does not write its own format back".into())?;
        ensure(keyring.key_id() == current.key_id(), || "keyring current key".into())?;
        let json = KeyringJson {
            serialized: text,
            current: key_pair_json(&device_label(self.current), &current),
            retired: retired
                .iter()
                .map(|(name, key, until)| RetiredKeyJson {
                    key: key_pair_json(&device_label(name), key),
                    usable_until: *until,
                })
                .collect(),
            trusted_senders: trusted.iter().map(|(label, pk)| public_key_json(label, pk)).collect(),
        };
        Ok((keyring, json))
    }

    /// The keyring's serialized form, written here from the format
    /// `pushseal::keyring` documents, retired keys in the order given.
    pub fn serialized(&self) -> String {
        let b64 = |key: &DeviceSecretKey| {
            let text = key.to_secret_text();
            text.as_str().trim_start_matches(pushseal::keys::SECRET_KEY_PREFIX).to_owned()
        };
        let current = device(self.current);
        let retired: Vec<_> = self.retired.iter().map(|(name, until)| (*name, device(name), *until)).collect();
        let trusted: Vec<_> = self.trusted.iter().map(Trusted::public_key).collect();
        let stored = serde_json::json!({
            "format": pushseal::keyring::KEYRING_FORMAT,
            "current": b64(&current),
            "retired": retired
                .iter()
                .map(|(_, k, until)| serde_json::json!({"key": b64(k), "usable_until": until}))
                .collect::<Vec<_>>(),
            "trusted_senders": trusted.iter().map(|(_, pk)| pk.to_base64()).collect::<Vec<_>>(),
        });
        // Field order as the keyring writes it (serde_json's map is sorted, so spell it out).
        format!(
            "{{\"format\":{},\"current\":{},\"retired\":{},\"trusted_senders\":{}}}",
            stored["format"], stored["current"], stored["retired"], stored["trusted_senders"]
        )
    }
}

/// A message's JSON form.
pub fn message_json(m: &Message) -> MessageJson {
    MessageJson {
        title: m.title.clone(),
        body: m.body.clone(),
        data: m.data.clone(),
        thread_id: m.thread_id.clone(),
        category: m.category.clone(),
        badge: m.badge,
        sound: m.sound.clone(),
        ttl_secs: m.ttl_secs,
    }
}

/// A notification's JSON form.
pub fn notification_json(n: &Notification) -> NotificationJson {
    let m = &n.message;
    NotificationJson {
        id: n.id.to_string(),
        sent_at: n.sent_at,
        expires_at: n.expires_at,
        title: m.title.clone(),
        body: m.body.clone(),
        data: m.data.clone(),
        thread_id: m.thread_id.clone(),
        category: m.category.clone(),
        badge: m.badge,
        sound: m.sound.clone(),
    }
}

/// The notification a message becomes when sealed with `id` at `sent_at`.
pub fn stamped(m: &Message, id: MessageId, sent_at: u64) -> Notification {
    Notification { id, sent_at, expires_at: sent_at + m.ttl_secs, message: m.clone() }
}

/// The plaintext JSON of a message sealed with `id` at `sent_at`.
pub fn plaintext(m: &Message, id: MessageId, sent_at: u64) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(&stamped(m, id, sent_at))?)
}

/// `ApnsOptions` as JSON.
pub fn apns_options_json(o: &ApnsOptions) -> ApnsOptionsJson {
    ApnsOptionsJson {
        push_type: match o.push_type {
            ApnsPushType::Alert => "alert",
            ApnsPushType::Background => "background",
        },
        fallback_title: o.fallback_title.clone(),
        fallback_body: o.fallback_body.clone(),
        collapse_id: o.collapse_id.clone(),
        topic: o.topic.clone(),
    }
}

/// `FcmOptions` as JSON.
pub fn fcm_options_json(o: &FcmOptions) -> FcmOptionsJson {
    FcmOptionsJson { token: o.token.clone(), collapse_key: o.collapse_key.clone() }
}

/// A target with its JSON form.
pub trait TargetJsonForm: Target {
    /// The target as JSON.
    fn target_json(&self) -> TargetJson;
}

impl TargetJsonForm for BareEnvelope {
    fn target_json(&self) -> TargetJson {
        TargetJson::Envelope
    }
}

impl TargetJsonForm for ApnsOptions {
    fn target_json(&self) -> TargetJson {
        TargetJson::Apns { options: apns_options_json(self) }
    }
}

impl TargetJsonForm for FcmOptions {
    fn target_json(&self) -> TargetJson {
        TargetJson::Fcm { options: fcm_options_json(self) }
    }
}

/// A device public key by fixture name.
pub fn device_public(name: &str) -> DevicePublicKey {
    device(name).public_key()
}

/// A message whose plaintext, sealed with `id` at `sent_at`, is exactly
/// `len` bytes: the body is cut from `filler` repeated.
pub fn sized_message(title: &str, filler: &str, ttl: u64, id: MessageId, sent_at: u64, len: usize) -> Result<Message> {
    let base = plaintext(&Message::new(title, "").with_ttl(ttl), id, sent_at)?.len();
    let need = len.checked_sub(base).ok_or_else(|| crate::Error::new(format!("{len} bytes is below {base}")))?;
    ensure(filler.is_ascii() && !filler.contains(['"', '\\']), || "the filler must need no escaping".into())?;
    let body: String = filler.chars().cycle().take(need).collect();
    let m = Message::new(title, body).with_ttl(ttl);
    let got = plaintext(&m, id, sent_at)?.len();
    ensure(got == len, || format!("sized message is {got} bytes, not {len}"))?;
    Ok(m)
}

/// A string map from pairs.
pub fn string_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// The envelope's text form: base64url without padding.
pub fn base64url(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
}

/// A bare envelope text payload.
pub fn envelope_payload(text: impl Into<String>) -> PayloadJson {
    PayloadJson { kind: "envelope", value: serde_json::Value::String(text.into()) }
}

/// An APNs userInfo payload (JSON text).
pub fn apns_payload(body: impl Into<String>) -> PayloadJson {
    PayloadJson { kind: "apns", value: serde_json::Value::String(body.into()) }
}

/// An FCM data map payload.
pub fn fcm_payload(data: &BTreeMap<String, String>) -> PayloadJson {
    PayloadJson { kind: "fcm", value: serde_json::json!(data) }
}

/// Opens a payload as a consumer of the files would: from its JSON form.
pub fn open(
    keyring: &DeviceKeyring,
    payload: &PayloadJson,
    replay: &dyn ReplayStore,
    now: u64,
) -> Result<pushseal::Result<Notification>> {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned).ok_or_else(|| crate::Error::new("not a string"));
    Ok(match payload.kind {
        "envelope" => keyring.open(Payload::Envelope(&text(&payload.value)?), replay, now),
        "apns" => keyring.open(Payload::ApnsJson(&text(&payload.value)?), replay, now),
        "fcm" => {
            let map: HashMap<String, String> = serde_json::from_value(payload.value.clone())?;
            keyring.open(Payload::FcmData(&map), replay, now)
        }
        other => return Err(crate::Error::new(format!("unknown payload kind {other}"))),
    })
}
