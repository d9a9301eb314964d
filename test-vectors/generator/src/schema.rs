//! The JSON shapes of the vector files (documented in `test-vectors/README.md`).
//! Field order here is the order in the files. Bytes are lowercase hex unless
//! a field's name ends in `_base64url` or `_text`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// A whole file.
#[derive(Serialize)]
pub struct VectorFileJson<'a, T> {
    pub description: &'a str,
    pub version: u32,
    pub generator: &'a str,
    pub vectors: &'a [T],
}

/// A key pair, secret included.
#[derive(Serialize, Clone)]
pub struct KeyPairJson {
    pub label: String,
    pub secret_key: String,
    pub secret_key_text: String,
    pub public_key: String,
    pub public_key_base64url: String,
    pub key_id: String,
}

/// A public key alone.
#[derive(Serialize, Clone)]
pub struct PublicKeyJson {
    pub label: String,
    pub public_key: String,
    pub public_key_base64url: String,
    pub key_id: String,
}

/// A retired device key in a keyring.
#[derive(Serialize, Clone)]
pub struct RetiredKeyJson {
    #[serde(flatten)]
    pub key: KeyPairJson,
    pub usable_until: u64,
}

/// A device keyring: its serialized form and its parts.
#[derive(Serialize, Clone)]
pub struct KeyringJson {
    /// The bytes of `DeviceKeyring::to_bytes`, as UTF-8 text.
    pub serialized: String,
    pub current: KeyPairJson,
    pub retired: Vec<RetiredKeyJson>,
    pub trusted_senders: Vec<PublicKeyJson>,
}

/// A sender's input message.
#[derive(Serialize, Clone)]
pub struct MessageJson {
    pub title: String,
    pub body: String,
    pub data: BTreeMap<String, String>,
    pub thread_id: Option<String>,
    pub category: Option<String>,
    pub badge: Option<u32>,
    pub sound: Option<String>,
    pub ttl_secs: u64,
}

/// What a device gets back.
#[derive(Serialize, Clone)]
pub struct NotificationJson {
    pub id: String,
    pub sent_at: u64,
    pub expires_at: u64,
    pub title: String,
    pub body: String,
    pub data: BTreeMap<String, String>,
    pub thread_id: Option<String>,
    pub category: Option<String>,
    pub badge: Option<u32>,
    pub sound: Option<String>,
}

/// `ApnsOptions`.
#[derive(Serialize, Clone)]
pub struct ApnsOptionsJson {
    pub push_type: &'static str,
    pub fallback_title: String,
    pub fallback_body: Option<String>,
    pub collapse_id: Option<String>,
    pub topic: Option<String>,
}

/// `FcmOptions`.
#[derive(Serialize, Clone)]
pub struct FcmOptionsJson {
    pub token: Option<String>,
    pub collapse_key: Option<String>,
}

/// A sealing target with its options.
#[derive(Serialize, Clone)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TargetJson {
    Envelope,
    Apns { options: ApnsOptionsJson },
    Fcm { options: FcmOptionsJson },
}

/// The ephemeral key pair of one envelope.
#[derive(Serialize, Clone)]
pub struct EphemeralJson {
    /// `ikmE`: `DeriveKeyPair(ikm)` gives the pair.
    pub ikm: String,
    pub secret_key: String,
    /// `pkE`, which is `enc`.
    pub public_key: String,
}

/// HPKE intermediates of one envelope (RFC 9180 names in comments).
#[derive(Serialize, Clone)]
pub struct HpkeJson {
    pub mode: u8,
    pub kem_id: u16,
    pub kdf_id: u16,
    pub aead_id: u16,
    pub info: String,
    pub info_text: String,
    /// `DH(skE, pkR)`
    pub dh_ephemeral: String,
    /// `DH(skS, pkR)`
    pub dh_static: String,
    /// `enc || pkR || pkS`
    pub kem_context: String,
    pub shared_secret: String,
    pub key_schedule_context: String,
    pub secret: String,
    pub key: String,
    pub base_nonce: String,
    pub exporter_secret: String,
    pub seq: u64,
    pub nonce: String,
}

/// The delivery receipt of one envelope.
#[derive(Serialize, Clone)]
pub struct ReceiptJson {
    /// `"pushseal receipt v1" || message id`
    pub exporter_context: String,
    pub length: usize,
    pub receipt: String,
    pub receipt_base64url: String,
    /// `SHA-256("pushseal receipt digest v1" || receipt)`
    pub digest: String,
}

/// The envelope's header fields.
#[derive(Serialize, Clone)]
pub struct HeaderJson {
    pub version: u8,
    pub recipient_key_id: String,
    pub sender_key_id: String,
    pub enc: String,
}

/// An APNs request.
#[derive(Serialize, Clone)]
pub struct ApnsJson {
    pub options: ApnsOptionsJson,
    pub headers: Vec<[String; 2]>,
    pub body: String,
    pub body_len: usize,
}

/// An FCM message.
#[derive(Serialize, Clone)]
pub struct FcmJson {
    pub options: FcmOptionsJson,
    pub message: String,
    pub request_body: String,
    pub data: BTreeMap<String, String>,
}

/// A positive vector.
#[derive(Serialize, Clone)]
pub struct PositiveJson {
    pub name: String,
    pub description: String,
    pub sender: KeyPairJson,
    pub recipient: KeyPairJson,
    pub keyring: KeyringJson,
    pub message: MessageJson,
    pub message_id: String,
    pub sent_at: u64,
    pub now: u64,
    pub ephemeral: EphemeralJson,
    pub hpke: HpkeJson,
    pub plaintext: String,
    pub plaintext_len: usize,
    pub padded_plaintext: String,
    pub padded_len: usize,
    pub header: HeaderJson,
    pub aad: String,
    pub ciphertext: String,
    pub tag: String,
    pub envelope: String,
    pub envelope_len: usize,
    pub envelope_base64url: String,
    pub apns: ApnsJson,
    pub fcm: FcmJson,
    pub max_plaintext_len: BTreeMap<&'static str, usize>,
    pub expected: NotificationJson,
    pub receipt: ReceiptJson,
}

/// A platform payload as the device receives it.
#[derive(Serialize, Clone)]
pub struct PayloadJson {
    /// `apns` (value: the userInfo JSON text), `fcm` (value: the data map),
    /// or `envelope` (value: the envelope text).
    pub kind: &'static str,
    pub value: Value,
}

/// A negative vector on the device side.
#[derive(Serialize, Clone)]
pub struct NegativeOpenJson {
    pub name: String,
    pub description: String,
    pub operation: &'static str,
    pub expected_error: &'static str,
    pub keyring: String,
    pub now: u64,
    pub payload: PayloadJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub padded_plaintext: Option<String>,
}

/// A negative vector on the sender side.
#[derive(Serialize, Clone)]
pub struct NegativeSealJson {
    pub name: String,
    pub description: String,
    pub operation: &'static str,
    pub expected_error: &'static str,
    pub sender: KeyPairJson,
    pub recipient: PublicKeyJson,
    pub message: MessageJson,
    pub message_id: String,
    pub sent_at: u64,
    pub ephemeral_ikm: String,
    pub target: TargetJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_size: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_max_plaintext: Option<usize>,
}

/// Either kind of negative vector.
#[derive(Serialize, Clone)]
#[serde(untagged)]
pub enum NegativeJson {
    Open(Box<NegativeOpenJson>),
    Seal(Box<NegativeSealJson>),
}

/// One step of a sequence.
#[derive(Serialize, Clone)]
pub struct StepJson {
    pub description: String,
    pub now: u64,
    pub payload: PayloadJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<NotificationJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_error: Option<&'static str>,
}

/// A sequence of opens against one replay store.
#[derive(Serialize, Clone)]
pub struct SequenceJson {
    pub name: String,
    pub description: String,
    pub keyring: String,
    pub steps: Vec<StepJson>,
}
