//! The device's side: its keys, the senders it trusts, and opening.
//!
//! A [`DeviceKeyring`] holds the current device key, older keys until their
//! retention deadline (so notifications sealed just before a rotation still
//! open), and the set of trusted sender public keys; for envelope version 2
//! (SPEC.md section 12.8) it holds the same again beside them: X-Wing device
//! keys, current and retired, and pinned Ed25519 sender keys. It opens both
//! versions through the one [`DeviceKeyring::open`]. It serializes to bytes
//! that are **secret** (they hold the device's secret keys): store them in the
//! iOS Keychain or under an Android Keystore key, never in plain files or logs.
//!
//! ```
//! use pushseal::{DeviceKeyring, MemoryReplayStore, Message, Payload, Sender, SenderSecretKey};
//!
//! let sender = Sender::new(SenderSecretKey::generate()?);
//! let mut device = DeviceKeyring::generate()?;
//! device.trust_sender(sender.public_key())?;
//!
//! let envelope = sender.seal_envelope(&device.public_key(), &Message::new("Refill due", "Tap to review."))?.payload;
//! let replay = MemoryReplayStore::new();
//! let n = device.open(Payload::Envelope(&envelope), &replay, pushseal::unix_now())?;
//! assert_eq!(n.message.title, "Refill due");
//! // The same envelope a second time is a replay.
//! assert!(device.open(Payload::Envelope(&envelope), &replay, pushseal::unix_now()).is_err());
//! # Ok::<(), pushseal::Error>(())
//! ```

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::encoding::{decode_base64_exact, encode_base64};
use crate::envelope::{self, Envelope};
use crate::envelope_v2;
use crate::error::{Error, Result};
use crate::hpke;
use crate::keys::{DevicePublicKey, DeviceSecretKey, KeyId, SenderPublicKey};
use crate::keys_v2::{DeviceSecretKeyV2, Registration, SenderVerifyingKey};
use crate::notification::Notification;
use crate::padding;
use crate::platform::Payload;
use crate::receipt::Receipt;
use crate::replay::ReplayStore;

/// The `format` field of a serialized keyring without version 2 keys.
pub const KEYRING_FORMAT: &str = "pushseal-keyring-v1";
/// The `format` field of a serialized keyring with version 2 keys or settings.
pub const KEYRING_FORMAT_V2: &str = "pushseal-keyring-v2";
/// The most retired keys a keyring keeps (SPEC.md §8.2): past it, the key
/// with the earliest deadline goes first, so that rotating often (or with a
/// long retention) cannot grow the keyring without bound.
pub const MAX_RETIRED_KEYS: usize = 16;

/// Where an app keeps its keyring's bytes, which are **secret**: the iOS
/// Keychain (readable after first unlock, by the app and its extension), a
/// file under an Android Keystore key. [`DeviceKeyring::load_or_create`]
/// reads and writes through it. Fail with [`Error::Storage`].
pub trait KeyringStore {
    /// The stored bytes, or `None` if none were saved yet.
    fn load(&self) -> Result<Option<Zeroizing<Vec<u8>>>>;
    /// Stores the bytes, replacing what was there.
    fn save(&self, bytes: &[u8]) -> Result<()>;
}

struct RetiredKey {
    key: DeviceSecretKey,
    usable_until: u64,
}

struct RetiredKeyV2 {
    key: DeviceSecretKeyV2,
    usable_until: u64,
}

/// A device's keys and trusted senders. Serialize it with [`DeviceKeyring::to_bytes`]
/// (secret!) and restore it with [`DeviceKeyring::from_bytes`].
pub struct DeviceKeyring {
    current: DeviceSecretKey,
    retired: Vec<RetiredKey>,
    trusted: Vec<SenderPublicKey>,
    /// The current version 2 key; `None` only in a keyring read from a
    /// version 1 store ([`DeviceKeyring::load_or_create`] adds one).
    current_v2: Option<DeviceSecretKeyV2>,
    retired_v2: Vec<RetiredKeyV2>,
    trusted_v2: Vec<SenderVerifyingKey>,
    accept_v1: bool,
}

impl std::fmt::Debug for DeviceKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKeyring")
            .field("current", &self.current.key_id())
            .field("retired", &self.retired.iter().map(|r| r.key.key_id()).collect::<Vec<_>>())
            .field("trusted", &self.trusted.iter().map(|s| s.key_id()).collect::<Vec<_>>())
            .field("current_v2", &self.current_v2.as_ref().map(DeviceSecretKeyV2::key_id))
            .field("retired_v2", &self.retired_v2.iter().map(|r| r.key.key_id()).collect::<Vec<_>>())
            .field("trusted_v2", &self.trusted_v2.iter().map(SenderVerifyingKey::key_id).collect::<Vec<_>>())
            .field("accept_v1", &self.accept_v1)
            .finish()
    }
}

impl DeviceKeyring {
    /// A keyring with new random device keys of both versions and no
    /// trusted senders.
    pub fn generate() -> Result<Self> {
        Ok(Self::from_keys(DeviceSecretKey::generate()?, DeviceSecretKeyV2::generate()?))
    }

    /// A keyring around an existing version 1 device key, without a version
    /// 2 key (add one with [`Self::with_v2_key`]).
    pub fn from_secret_key(current: DeviceSecretKey) -> Self {
        Self {
            current,
            retired: Vec::new(),
            trusted: Vec::new(),
            current_v2: None,
            retired_v2: Vec::new(),
            trusted_v2: Vec::new(),
            accept_v1: true,
        }
    }

    /// A keyring around existing device keys of both versions.
    pub fn from_keys(v1: DeviceSecretKey, v2: DeviceSecretKeyV2) -> Self {
        Self::from_secret_key(v1).with_v2_key(v2)
    }

    /// The same keyring with `key` as its current version 2 key (a current
    /// one it had is dropped, not retired: use [`Self::rotate`] for that).
    #[must_use]
    pub fn with_v2_key(mut self, key: DeviceSecretKeyV2) -> Self {
        self.current_v2 = Some(key);
        self
    }

    /// Adds a version 2 key if the keyring has none; returns whether it did.
    fn ensure_v2(&mut self) -> Result<bool> {
        if self.current_v2.is_some() {
            return Ok(false);
        }
        self.current_v2 = Some(DeviceSecretKeyV2::generate()?);
        Ok(true)
    }

    /// The current version 2 public key, if the keyring has one.
    pub fn public_key_v2(&self) -> Option<&crate::DevicePublicKeyV2> {
        self.current_v2.as_ref().map(DeviceSecretKeyV2::public_key)
    }

    /// What the device registers with its senders: both current public keys
    /// in one text (SPEC.md section 12.3; `to_string()` gives it), or the
    /// version 1 key alone when the keyring has no version 2 key.
    pub fn registration(&self) -> Registration {
        match &self.current_v2 {
            Some(v2) => Registration::new(self.public_key(), v2.public_key().clone()),
            None => Registration::v1_only(self.public_key()),
        }
    }

    /// Whether version 1 envelopes open (the default), or are refused with
    /// [`Error::VersionOneRefused`]: turn it off once every sender the
    /// device trusts seals version 2, so that a sender key recovered from its
    /// X25519 public key one day cannot be used against the device.
    pub fn accept_v1(&mut self, accept: bool) {
        self.accept_v1 = accept;
    }

    /// Whether version 1 envelopes open ([`Self::accept_v1`]).
    pub fn accepts_v1(&self) -> bool {
        self.accept_v1
    }

    /// The current public key: what the device registers with its sender.
    pub fn public_key(&self) -> DevicePublicKey {
        self.current.public_key()
    }

    /// The current key's id.
    pub fn key_id(&self) -> KeyId {
        self.current.key_id()
    }

    /// Makes a new current key; the old one keeps opening notifications until
    /// `now + retain_secs`, then is dropped. Register the new public key with
    /// every sender afterwards.
    ///
    /// Both versions rotate together: each gets a new current key, and each
    /// old one is retired with the same deadline.
    pub fn rotate(&mut self, now: u64, retain_secs: u64) -> Result<()> {
        let next = DeviceSecretKey::generate()?;
        let next_v2 = DeviceSecretKeyV2::generate()?;
        let old = std::mem::replace(&mut self.current, next);
        let usable_until = now.saturating_add(retain_secs);
        self.retired.push(RetiredKey { key: old, usable_until });
        if let Some(old_v2) = self.current_v2.replace(next_v2) {
            self.retired_v2.push(RetiredKeyV2 { key: old_v2, usable_until });
        }
        self.prune(now);
        self.cap_retired();
        Ok(())
    }

    /// Keeps the [`MAX_RETIRED_KEYS`] retired keys with the latest deadlines.
    /// Of two with one deadline, the one retired first goes first.
    fn cap_retired(&mut self) {
        while self.retired.len() > MAX_RETIRED_KEYS {
            let earliest = self.retired.iter().enumerate().min_by_key(|(i, r)| (r.usable_until, *i)).map(|(i, _)| i);
            if let Some(i) = earliest {
                self.retired.remove(i);
            }
        }
        while self.retired_v2.len() > MAX_RETIRED_KEYS {
            let earliest =
                self.retired_v2.iter().enumerate().min_by_key(|(i, r)| (r.usable_until, *i)).map(|(i, _)| i);
            if let Some(i) = earliest {
                self.retired_v2.remove(i);
            }
        }
    }

    /// Drops retired keys (of both versions) past their deadline.
    pub fn prune(&mut self, now: u64) {
        self.retired.retain(|r| r.usable_until >= now);
        self.retired_v2.retain(|r| r.usable_until >= now);
    }

    /// The ids of retired version 1 keys that still open notifications, with their deadlines.
    pub fn retired_keys(&self) -> Vec<(KeyId, u64)> {
        self.retired.iter().map(|r| (r.key.key_id(), r.usable_until)).collect()
    }

    /// The ids of retired version 2 keys that still open notifications, with their deadlines.
    pub fn retired_keys_v2(&self) -> Vec<(KeyId, u64)> {
        self.retired_v2.iter().map(|r| (r.key.key_id(), r.usable_until)).collect()
    }

    /// Trusts a sender: its notifications will open. Trusting a key twice is a no-op.
    ///
    /// A low-order key is refused with [`Error::ZeroSharedSecret`]: every
    /// Diffie-Hellman value with it is zero (RFC 9180, section 7.1.4), so no
    /// notification could ever open with it. A keyring read back with
    /// [`Self::from_bytes`] is not checked again; such a key there still fails
    /// at [`Self::open`], with the same error.
    pub fn trust_sender(&mut self, sender: SenderPublicKey) -> Result<()> {
        hpke::static_dh(self.current.x25519(), sender.x25519())?;
        self.add_trusted(sender);
        Ok(())
    }

    fn add_trusted(&mut self, sender: SenderPublicKey) {
        if !self.trusted.contains(&sender) {
            self.trusted.push(sender);
        }
    }

    /// Pins a version 2 sender by its Ed25519 public key: its version 2
    /// envelopes will open. Trusting a key twice is a no-op. The key was
    /// checked when it was read (no small-order key is a
    /// [`SenderVerifyingKey`]); trusting it trusts nothing else.
    pub fn trust_sender_v2(&mut self, sender: SenderVerifyingKey) {
        if !self.trusted_v2.contains(&sender) {
            self.trusted_v2.push(sender);
        }
    }

    /// Stops trusting the sender (of either version) with this key id;
    /// returns whether it was trusted.
    pub fn remove_sender(&mut self, key_id: KeyId) -> bool {
        let before = self.trusted.len() + self.trusted_v2.len();
        self.trusted.retain(|s| s.key_id() != key_id);
        self.trusted_v2.retain(|s| s.key_id() != key_id);
        before != self.trusted.len() + self.trusted_v2.len()
    }

    /// The trusted version 1 sender keys.
    pub fn trusted_senders(&self) -> &[SenderPublicKey] {
        &self.trusted
    }

    /// The pinned version 2 sender keys.
    pub fn trusted_senders_v2(&self) -> &[SenderVerifyingKey] {
        &self.trusted_v2
    }

    /// The version 2 device key with this id, if it is current or retired but still usable at `now`.
    fn device_key_v2(&self, id: KeyId, now: u64) -> Option<&DeviceSecretKeyV2> {
        if let Some(current) = self.current_v2.as_ref().filter(|k| k.key_id() == id) {
            return Some(current);
        }
        self.retired_v2.iter().find(|r| r.key.key_id() == id && r.usable_until >= now).map(|r| &r.key)
    }

    /// The device key with this id, if it is current or retired but still usable at `now`.
    fn device_key(&self, id: KeyId, now: u64) -> Option<&DeviceSecretKey> {
        if self.current.key_id() == id {
            return Some(&self.current);
        }
        self.retired.iter().find(|r| r.key.key_id() == id && r.usable_until >= now).map(|r| &r.key)
    }

    /// Opens a payload at time `now` (unix seconds), applying every acceptance
    /// rule in order: a PushSeal payload, canonical base64url, a well-formed
    /// version 1 envelope, a known recipient key, a trusted sender, a valid
    /// HPKE tag, valid padding, a valid notification, not expired nor from the
    /// future, and not a replay (the id is then recorded in `replay`).
    pub fn open(&self, payload: Payload<'_>, replay: &dyn ReplayStore, now: u64) -> Result<Notification> {
        self.open_with_context(payload, replay, now).map(|(notification, _)| notification)
    }

    /// [`DeviceKeyring::open`], also returning the notification's delivery
    /// receipt: send it to the sender's server (over the app's own API) to
    /// prove that this device opened the notification. See [`Receipt`].
    pub fn open_with_receipt(
        &self,
        payload: Payload<'_>,
        replay: &dyn ReplayStore,
        now: u64,
    ) -> Result<(Notification, Receipt)> {
        let (notification, ctx) = self.open_with_context(payload, replay, now)?;
        let receipt = Receipt::export(&ctx, &notification.id)?;
        Ok((notification, receipt))
    }

    /// The one opening path, returning the envelope's HPKE context as well.
    fn open_with_context(
        &self,
        payload: Payload<'_>,
        replay: &dyn ReplayStore,
        now: u64,
    ) -> Result<(Notification, hpke::Context)> {
        // Decrypted where it was decoded: from the open on, the buffer holds plaintext.
        let mut bytes = Zeroizing::new(payload.envelope_bytes()?);
        let (padded, ctx) = match bytes.first() {
            Some(&envelope_v2::VERSION) => {
                let header = envelope_v2::parse(&bytes)?;
                let device =
                    self.device_key_v2(header.recipient, now).ok_or(Error::UnknownRecipientKey(header.recipient))?;
                let sender = self
                    .trusted_v2
                    .iter()
                    .find(|s| s.key_id() == header.sender)
                    .ok_or(Error::UntrustedSender(header.sender))?;
                envelope_v2::open_in_place(&mut bytes, &header, device, sender)?
            }
            _ => {
                if bytes.first() == Some(&envelope::VERSION) {
                    if !self.accept_v1 {
                        return Err(Error::VersionOneRefused);
                    }
                    if bytes.len() > envelope::MAX_LEN {
                        // SPEC.md section 12.5, step 2: no version 1 envelope is this long.
                        let size = (bytes.len() * 4).div_ceil(3);
                        return Err(Error::EnvelopeTooLarge { size, max: envelope::MAX_TEXT_LEN });
                    }
                }
                let header = *Envelope::parse(&bytes)?.header();
                let device =
                    self.device_key(header.recipient, now).ok_or(Error::UnknownRecipientKey(header.recipient))?;
                let sender = self
                    .trusted
                    .iter()
                    .find(|s| s.key_id() == header.sender)
                    .ok_or(Error::UntrustedSender(header.sender))?;
                envelope::open_in_place(&mut bytes, &header, device, sender)?
            }
        };
        let notification = Notification::decode(padding::unpad(padded)?)?;
        notification.check_time(now)?;
        replay.check_and_record(notification.id.as_bytes(), notification.expires_at, now)?;
        Ok((notification, ctx))
    }

    /// The keyring in `store`; if there is none yet, a new one (with keys of
    /// both versions), saved there first. Retired keys past their deadline at
    /// `now` are dropped, and the keyring is saved back without them, so that
    /// no dead secret key stays in storage. A stored keyring without a
    /// version 2 key (written before version 2) gets one, saved back too:
    /// register [`Self::registration`] again after that. What an app calls
    /// at each start, in the app and in its extension alike.
    pub fn load_or_create(store: &dyn KeyringStore, now: u64) -> Result<Self> {
        let Some(bytes) = store.load()? else {
            let keyring = Self::generate()?;
            keyring.save(store)?;
            return Ok(keyring);
        };
        let mut keyring = Self::from_bytes(&bytes)?;
        let before = keyring.retired.len() + keyring.retired_v2.len();
        keyring.prune(now);
        let added = keyring.ensure_v2()?;
        if added || keyring.retired.len() + keyring.retired_v2.len() != before {
            keyring.save(store)?;
        }
        Ok(keyring)
    }

    /// Writes the keyring to `store`.
    pub fn save(&self, store: &dyn KeyringStore) -> Result<()> {
        store.save(&self.to_bytes()?)
    }

    /// The keyring as JSON bytes. **Secret**: it holds the device's secret keys.
    ///
    /// A keyring with no version 2 key, no version 2 sender and version 1
    /// accepted is written in the version 1 format, which an older release
    /// of the library reads too; any other in the version 2 format (SPEC.md
    /// section 12.8).
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>> {
        let v2 = self.current_v2.is_some() || !self.trusted_v2.is_empty() || !self.accept_v1;
        let stored = StoredKeyring {
            format: if v2 { KEYRING_FORMAT_V2 } else { KEYRING_FORMAT }.to_owned(),
            current: encode_base64(self.current.to_bytes().as_ref()),
            retired: self
                .retired
                .iter()
                .map(|r| StoredRetired { key: encode_base64(r.key.to_bytes().as_ref()), usable_until: r.usable_until })
                .collect(),
            trusted_senders: self.trusted.iter().map(|s| s.to_base64()).collect(),
            current_v2: self.current_v2.as_ref().map(|k| encode_base64(k.to_seed().as_ref())),
            retired_v2: v2.then(|| {
                self.retired_v2
                    .iter()
                    .map(|r| StoredRetired { key: encode_base64(r.key.to_seed().as_ref()), usable_until: r.usable_until })
                    .collect()
            }),
            trusted_senders_v2: v2.then(|| self.trusted_v2.iter().map(|s| encode_base64(s.as_bytes())).collect()),
            accept_v1: v2.then_some(self.accept_v1),
        };
        // Measure first, so the buffer never grows: a grown Vec frees its old,
        // secret-holding allocation without zeroizing it.
        let mut size = ByteCount(0);
        serde_json::to_writer(&mut size, &stored)
            .map_err(|_| Error::InvalidKeyring("the keyring cannot be encoded"))?;
        let mut out = Zeroizing::new(Vec::with_capacity(size.0));
        serde_json::to_writer(&mut *out, &stored)
            .map_err(|_| Error::InvalidKeyring("the keyring cannot be encoded"))?;
        Ok(out)
    }

    /// A keyring from the bytes of [`DeviceKeyring::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let stored: StoredKeyring = serde_json::from_slice(bytes)
            .map_err(|_| Error::InvalidKeyring("not a PushSeal keyring (JSON expected)"))?;
        let v2 = match stored.format.as_str() {
            KEYRING_FORMAT => false,
            KEYRING_FORMAT_V2 => true,
            _ => return Err(Error::InvalidKeyring("unknown keyring format")),
        };
        let has_v2_fields = stored.current_v2.is_some()
            || stored.retired_v2.is_some()
            || stored.trusted_senders_v2.is_some()
            || stored.accept_v1.is_some();
        if !v2 && has_v2_fields {
            return Err(Error::InvalidKeyring("a version 1 keyring with version 2 fields"));
        }
        let secret = |text: &str| {
            decode_base64_exact::<32>(text, "a keyring key is 43 characters of base64url")
                .map(|b| DeviceSecretKey::from_bytes(*Zeroizing::new(b)))
                .map_err(|_| Error::InvalidKeyring("a secret key is not 43 characters of base64url"))
        };
        let mut keyring = Self::from_secret_key(secret(&stored.current)?);
        for r in &stored.retired {
            keyring.retired.push(RetiredKey { key: secret(&r.key)?, usable_until: r.usable_until });
        }
        keyring.cap_retired();
        for s in &stored.trusted_senders {
            let pk = s.parse().map_err(|_| Error::InvalidKeyring("a trusted sender key is not a public key"))?;
            keyring.add_trusted(pk);
        }
        let seed = |text: &str| {
            decode_base64_exact::<32>(text, "a keyring key is 43 characters of base64url")
                .map(|b| DeviceSecretKeyV2::from_seed(&Zeroizing::new(b)))
                .map_err(|_| Error::InvalidKeyring("a version 2 seed is not 43 characters of base64url"))
        };
        if let Some(current) = &stored.current_v2 {
            keyring.current_v2 = Some(seed(current)?);
        }
        for r in stored.retired_v2.iter().flatten() {
            keyring.retired_v2.push(RetiredKeyV2 { key: seed(&r.key)?, usable_until: r.usable_until });
        }
        keyring.cap_retired();
        for s in stored.trusted_senders_v2.iter().flatten() {
            let bytes = decode_base64_exact::<32>(s, "a sender v2 key is 43 characters of base64url")
                .map_err(|_| Error::InvalidKeyring("a trusted version 2 sender key is not 43 characters"))?;
            let pk = SenderVerifyingKey::from_bytes(&bytes)
                .map_err(|_| Error::InvalidKeyring("a trusted version 2 sender key is not a valid Ed25519 key"))?;
            keyring.trust_sender_v2(pk);
        }
        keyring.accept_v1 = stored.accept_v1.unwrap_or(true);
        Ok(keyring)
    }
}

/// A writer that only counts the bytes written to it.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The serialized keyring: `{"format":"pushseal-keyring-v1","current":"<secret key>",
/// "retired":[{"key":"<secret key>","usable_until":<unix seconds>}],"trusted_senders":["<public key>"]}`,
/// keys in base64url.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct StoredKeyring {
    format: String,
    current: String,
    #[serde(default)]
    retired: Vec<StoredRetired>,
    #[serde(default)]
    trusted_senders: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    current_v2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired_v2: Option<Vec<StoredRetired>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trusted_senders_v2: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    accept_v1: Option<bool>,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct StoredRetired {
    key: String,
    usable_until: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::encode_base64;
    use crate::keys::{DeviceSecretKey, SenderSecretKey};
    use crate::replay::MemoryReplayStore;
    use crate::{ErrorKind, Sender};

    const NOW: u64 = 1_767_225_600;

    fn device_and_sender() -> (DeviceKeyring, SenderSecretKey) {
        let sender = SenderSecretKey::from_bytes([1; 32]);
        let mut device = DeviceKeyring::from_secret_key(DeviceSecretKey::from_bytes([2; 32]));
        device.trust_sender(sender.public_key()).unwrap();
        (device, sender)
    }

    /// An envelope whose padded plaintext is `len` bytes: the notification
    /// JSON, the marker, zeros.
    fn envelope_of(device: &DeviceKeyring, sender: &SenderSecretKey, id: u8, len: usize) -> String {
        let json = format!(
            r#"{{"id":"{}","sent_at":{NOW},"expires_at":{},"title":"t","body":"b"}}"#,
            crate::MessageId::from_bytes([id; 16]),
            NOW + 60
        );
        let mut padded = json.into_bytes();
        padded.push(0x80);
        padded.resize(len, 0);
        encode_base64(&envelope::seal(sender, &device.public_key(), &padded).unwrap())
    }

    #[test]
    fn an_envelope_text_over_the_maximum_is_refused_before_decoding() {
        let (device, sender) = device_and_sender();
        let replay = MemoryReplayStore::new();
        let open = |text: &str| device.open(Payload::Envelope(text), &replay, NOW);
        // 48 MiB of text that is not even base64url: refused for its size alone.
        let huge = "!".repeat(48 << 20);
        // The cap is the largest envelope of either version (SPEC.md section 12.6).
        assert_eq!(open(&huge).unwrap_err(), Error::EnvelopeTooLarge { size: 48 << 20, max: 4354 });
        // One padded byte over the largest bucket: 2114 bytes, 2819 characters,
        // decoded (version 2 envelopes are longer) and refused as version 1.
        let over = envelope_of(&device, &sender, 1, 2049);
        assert_eq!(over.len(), envelope::MAX_TEXT_LEN + 1);
        assert_eq!(open(&over).unwrap_err(), Error::EnvelopeTooLarge { size: 2819, max: 2818 });
        assert_eq!(open(&"!".repeat(4355)).unwrap_err().kind(), ErrorKind::PayloadTooLarge);
        // At the bound: decoded and opened.
        let largest = envelope_of(&device, &sender, 2, 2048);
        assert_eq!(largest.len(), envelope::MAX_TEXT_LEN);
        open(&largest).unwrap();
        assert_eq!(open(&"!".repeat(2818)).unwrap_err().kind(), ErrorKind::InvalidEncoding);
    }

    #[test]
    fn any_padded_length_up_to_the_largest_bucket_opens() {
        let (device, sender) = device_and_sender();
        let replay = MemoryReplayStore::new();
        for (n, len) in [(3, 120), (4, 300), (5, 2000)] {
            let text = envelope_of(&device, &sender, n, len);
            device.open(Payload::Envelope(&text), &replay, NOW).unwrap();
        }
    }

    #[test]
    fn a_ttl_over_28_days_is_refused_whatever_the_sender() {
        let (device, sender) = device_and_sender();
        let json = format!(
            r#"{{"id":"{}","sent_at":{NOW},"expires_at":{},"title":"t","body":"b"}}"#,
            crate::MessageId::from_bytes([9; 16]),
            u64::MAX
        );
        let mut padded = json.into_bytes();
        padding::pad_in_place(&mut padded, 0).unwrap();
        let text = encode_base64(&envelope::seal(&sender, &device.public_key(), &padded).unwrap());
        let err = device.open(Payload::Envelope(&text), &MemoryReplayStore::new(), NOW).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Malformed);
        // Sealed by the SDK at the longest TTL: opens.
        let msg = crate::Message::new("t", "b").with_ttl(crate::notification::MAX_TTL_SECS);
        let ok = Sender::new(sender).seal_envelope(&device.public_key(), &msg).unwrap();
        device.open(Payload::Envelope(&ok.payload), &MemoryReplayStore::new(), crate::unix_now()).unwrap();
    }

    #[test]
    fn retired_keys_are_capped_keeping_the_latest_deadlines() {
        let (mut device, _) = device_and_sender();
        for n in 0..(MAX_RETIRED_KEYS as u64 + 4) {
            device.rotate(NOW + n, u64::MAX - NOW - 100).unwrap();
        }
        let kept = device.retired_keys();
        assert_eq!(kept.len(), MAX_RETIRED_KEYS);
        // All deadlines saturate to one value: the keys retired first went first.
        let again = DeviceKeyring::from_bytes(&device.to_bytes().unwrap()).unwrap();
        assert_eq!(again.retired_keys(), kept);
        // A stored keyring with more loads with the 16 latest deadlines.
        let mut stored: serde_json::Value = serde_json::from_slice(&device.to_bytes().unwrap()).unwrap();
        let retired = stored["retired"].as_array_mut().unwrap();
        for (n, r) in retired.iter_mut().enumerate() {
            r["usable_until"] = (NOW + n as u64).into();
        }
        let extra = retired.first().cloned().unwrap();
        for n in 0..4 {
            let mut r = extra.clone();
            r["key"] = encode_base64(&[50 + n; 32]).into();
            r["usable_until"] = n.into();
            retired.push(r);
        }
        let loaded = DeviceKeyring::from_bytes(stored.to_string().as_bytes()).unwrap();
        let deadlines: Vec<u64> = loaded.retired_keys().iter().map(|r| r.1).collect();
        assert_eq!(deadlines, (0..MAX_RETIRED_KEYS as u64).map(|n| NOW + n).collect::<Vec<_>>());
    }

    #[test]
    fn a_stored_low_order_sender_loads_and_fails_only_on_open() {
        let (device, _) = device_and_sender();
        let mut stored: serde_json::Value = serde_json::from_slice(&device.to_bytes().unwrap()).unwrap();
        stored["trusted_senders"].as_array_mut().unwrap().push(encode_base64(&[0; 32]).into());
        let loaded = DeviceKeyring::from_bytes(stored.to_string().as_bytes()).unwrap();
        assert_eq!(loaded.trusted_senders().len(), 2);
    }
}
