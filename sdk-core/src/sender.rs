//! The sender's side: seal a [`Message`] to one device or to many.
//!
//! ```
//! use pushseal::{ApnsOptions, DeviceKeyring, FcmOptions, Message, Sender, SenderSecretKey};
//!
//! let device = DeviceKeyring::generate()?;              // on the phone
//! let sender = Sender::new(SenderSecretKey::generate()?); // on the server
//! let msg = Message::new("Lab results", "Your results from Tuesday are ready.");
//!
//! let apns = sender.seal_for_apns(&device.public_key(), &msg, &ApnsOptions::default())?;
//! assert!(apns.body.contains("\"mutable-content\":1"));
//! let fcm = sender.seal_for_fcm(&device.public_key(), &msg, &FcmOptions::with_token("fcm-token"))?;
//! assert!(fcm.json.contains("\"pushseal\""));
//! # Ok::<(), pushseal::Error>(())
//! ```

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use zeroize::Zeroizing;

use crate::encoding::encode_base64;
use crate::envelope::{self, HEADER_LEN};
use crate::error::{Error, Result};
use crate::hpke::{Ephemeral, N_T, StaticDh};
use crate::keys::{DevicePublicKey, KeyId, SenderPublicKey, SenderSecretKey};
use crate::notification::{Message, MessageId, unix_now};
use crate::padding::{self, BUCKETS};
use crate::platform::apns::{ApnsOptions, ApnsRequest};
use crate::platform::fcm::{FcmMessage, FcmOptions};
use crate::platform::{Target, TargetRef};
use crate::receipt::{Receipt, ReceiptDigest};

/// A sealed notification for one device, in the form its [`Target`] asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sealed {
    /// The envelope's text form (base64url).
    Envelope(String),
    /// An APNs request.
    Apns(ApnsRequest),
    /// An FCM message object.
    Fcm(FcmMessage),
}

/// What one seal produced: the message id, the keys, the times, the receipt
/// digest and the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedNotification {
    /// The id stamped into the notification (the device's replay check uses it).
    pub message_id: MessageId,
    /// The sender key's id.
    pub sender: KeyId,
    /// The recipient device key's id.
    pub recipient: KeyId,
    /// When the notification was sealed, unix seconds.
    pub sent_at: u64,
    /// When the notification expires, unix seconds.
    pub expires_at: u64,
    /// The digest of the delivery receipt the device will be able to compute:
    /// keep it (the audit log does) to check that receipt with
    /// [`crate::verify_receipt`]. Not secret.
    pub receipt_digest: ReceiptDigest,
    /// The envelope bytes.
    pub envelope: Vec<u8>,
    /// The platform payload.
    pub payload: Sealed,
}

/// A sealed envelope before it becomes a platform payload.
struct SealedParts {
    ttl: u64,
    expires_at: u64,
    receipt_digest: ReceiptDigest,
    envelope: Vec<u8>,
    text: String,
}

/// A sender: holds the sender secret key and seals messages with it (HPKE
/// mode auth), so devices can tell its notifications from forgeries.
#[derive(Debug)]
pub struct Sender {
    key: SenderSecretKey,
    cache: Option<DhCache>,
}

impl Sender {
    /// A sender with this key.
    pub fn new(key: SenderSecretKey) -> Self {
        Self { key, cache: None }
    }

    /// A sender with this key that remembers, for up to `capacity` devices,
    /// the Diffie-Hellman value between its key and the device's (the same
    /// for every message in mode auth), so that sealing to a device again
    /// costs one X25519 operation instead of two. The values are as secret as
    /// the key; each is zeroized when it is evicted (least recently sealed to
    /// first, roughly) and when the sender is dropped. About 350 bytes a device.
    pub fn with_cache(key: SenderSecretKey, capacity: usize) -> Self {
        Self { key, cache: (capacity > 0).then(|| DhCache::new(capacity)) }
    }

    /// The number of devices whose DH value the cache holds now (0 without a cache).
    pub fn cached_devices(&self) -> usize {
        self.cache.as_ref().map_or(0, DhCache::len)
    }

    /// The secret key's text form (see [`SenderSecretKey::to_secret_text`]),
    /// in a buffer that wipes itself: so that a wrapper never needs a copy of
    /// its own. **Secret.**
    pub fn secret_text(&self) -> Zeroizing<String> {
        self.key.to_secret_text()
    }

    /// The public key devices trust.
    pub fn public_key(&self) -> SenderPublicKey {
        self.key.public_key()
    }

    /// The sender key's id.
    pub fn key_id(&self) -> KeyId {
        self.key.key_id()
    }

    /// Seals `msg` to one device for `target`, stamped with a fresh random id
    /// and the current time.
    pub fn seal(&self, to: &DevicePublicKey, msg: &Message, target: &Target) -> Result<SealedNotification> {
        self.seal_with(to, msg, target, MessageId::random()?, unix_now(), &Ephemeral::generate()?)
    }

    /// Seals `msg` to one device as a bare envelope (base64url text).
    pub fn seal_envelope(&self, to: &DevicePublicKey, msg: &Message) -> Result<String> {
        Ok(self.seal_fresh(to, msg, TargetRef::Envelope)?.text)
    }

    /// Seals `msg` to one device as an APNs request.
    pub fn seal_for_apns(&self, to: &DevicePublicKey, msg: &Message, options: &ApnsOptions) -> Result<ApnsRequest> {
        let sealed = self.seal_fresh(to, msg, TargetRef::Apns(options))?;
        options.request(&sealed.text, sealed.expires_at)
    }

    /// Seals `msg` to one device as an FCM HTTP v1 message object.
    pub fn seal_for_fcm(&self, to: &DevicePublicKey, msg: &Message, options: &FcmOptions) -> Result<FcmMessage> {
        let sealed = self.seal_fresh(to, msg, TargetRef::Fcm(options))?;
        options.message(&sealed.text, sealed.ttl)
    }

    /// Seals `msg` to many devices, each its own envelope (and its own ephemeral
    /// key), all with the same message id and time, spread over the available
    /// cores. Results come back in the order of `to`; one device's failure does
    /// not stop the others.
    pub fn seal_batch(
        &self,
        to: &[DevicePublicKey],
        msg: &Message,
        target: &Target,
    ) -> Result<Vec<Result<SealedNotification>>> {
        let id = MessageId::random()?;
        let now = unix_now();
        /// Devices a worker takes at a time: a few milliseconds of work.
        const SLICE: usize = 64;
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(to.len().div_ceil(SLICE));
        let seal_one = |device: &DevicePublicKey| {
            Ephemeral::generate().and_then(|eph| self.seal_with(device, msg, target, id, now, &eph))
        };
        if workers <= 1 {
            return Ok(to.iter().map(seal_one).collect());
        }
        // Each worker takes the next slice of devices until none is left, so
        // a core that is busy with other work seals fewer devices instead of
        // holding up the batch.
        let next = AtomicUsize::new(0);
        let work = || {
            let mut done = Vec::new();
            loop {
                let start = next.fetch_add(SLICE, Ordering::Relaxed);
                match to.get(start..to.len().min(start.saturating_add(SLICE))) {
                    Some(slice) if !slice.is_empty() => done.push((start, slice.iter().map(seal_one).collect())),
                    _ => return done,
                }
            }
        };
        // The calling thread is one of the workers.
        let results = std::thread::scope(|scope| {
            let handles: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
            let own = work();
            let mut results: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
            results.push(Ok(own));
            results
        });
        let mut slices: Vec<(usize, Vec<Result<SealedNotification>>)> = Vec::with_capacity(to.len().div_ceil(SLICE));
        for part in results {
            slices.extend(part.map_err(|_| Error::Storage("a sealing thread stopped unexpectedly".into()))?);
        }
        slices.sort_unstable_by_key(|(start, _)| *start);
        Ok(slices.into_iter().flat_map(|(_, slice)| slice).collect())
    }

    pub_with_test_vectors! {
    /// Seals for `target` and builds its payload. Everything is deterministic
    /// given `id`, `now` and `eph`: the test vectors are made with it. Sealing
    /// twice with one `eph` reuses an AEAD key and nonce, so it is public only
    /// with the `test-vectors` feature (the vector generator and the crate's
    /// own tests enable it); never enable it in a product.
    fn seal_with(
        &self,
        to: &DevicePublicKey,
        msg: &Message,
        target: &Target,
        id: MessageId,
        now: u64,
        eph: &Ephemeral,
    ) -> Result<SealedNotification> {
        let sealed = self.seal_parts(to, msg, target.borrowed(), id, now, eph)?;
        let payload = match target {
            Target::Envelope => Sealed::Envelope(sealed.text),
            Target::Apns(o) => Sealed::Apns(o.request(&sealed.text, sealed.expires_at)?),
            Target::Fcm(o) => Sealed::Fcm(o.message(&sealed.text, sealed.ttl)?),
        };
        Ok(SealedNotification {
            message_id: id,
            sender: self.key.key_id(),
            recipient: to.key_id(),
            sent_at: now,
            expires_at: sealed.expires_at,
            receipt_digest: sealed.receipt_digest,
            envelope: sealed.envelope,
            payload,
        })
    }
    }

    /// [`Self::seal_parts`] with a fresh random id, the current time and a
    /// fresh ephemeral key.
    fn seal_fresh(&self, to: &DevicePublicKey, msg: &Message, target: TargetRef<'_>) -> Result<SealedParts> {
        self.seal_parts(to, msg, target, MessageId::random()?, unix_now(), &Ephemeral::generate()?)
    }

    /// The one sealing path: encode, pad, check that the payload for `target`
    /// will fit, seal. The caller builds the payload around the envelope text.
    fn seal_parts(
        &self,
        to: &DevicePublicKey,
        msg: &Message,
        target: TargetRef<'_>,
        id: MessageId,
        now: u64,
        eph: &Ephemeral,
    ) -> Result<SealedParts> {
        let ttl = msg.effective_ttl()?;
        let expires_at = now.checked_add(ttl).ok_or(Error::InvalidNotification("the expiry time overflows"))?;
        // The plaintext is written after room for the header and encrypted in
        // place: the buffer becomes the envelope. Until then it is secret.
        let mut buf = Zeroizing::new(Vec::with_capacity(HEADER_LEN + BUCKETS[BUCKETS.len() - 1] + N_T));
        buf.resize(HEADER_LEN, 0);
        msg.encode_into(id, now, &mut buf)?;
        target.check_fits(buf.len() - HEADER_LEN)?;
        padding::pad_in_place(&mut buf, HEADER_LEN)?;
        let cached = match &self.cache {
            Some(cache) => Some(cache.get(&self.key, to)?),
            None => None,
        };
        let ctx = envelope::seal_in_place(&self.key, to, &mut buf, eph, cached.as_deref())?;
        let mut envelope = std::mem::take(&mut *buf);
        // The buffer had room for the largest bucket: give the rest back (in
        // place), which matters when a batch keeps thousands of envelopes.
        envelope.shrink_to_fit();
        let receipt_digest = Receipt::export(&ctx, &id)?.digest();
        drop(ctx);
        let text = encode_base64(&envelope);
        Ok(SealedParts { ttl, expires_at, receipt_digest, envelope, text })
    }
}

/// A sender's bounded cache of `DH(skS, pkR)` per device public key.
///
/// Eviction is "second chance": entries queue in insertion order, and one
/// that was used since it last reached the front goes to the back once more.
/// Each value lives in its own allocation (an `Arc`, so no map growth copies
/// it) and is zeroized when the last seal using it drops it. The lock is held
/// for look-ups and insertions only, never during a DH.
struct DhCache {
    capacity: usize,
    state: Mutex<DhCacheState>,
}

#[derive(Default)]
struct DhCacheState {
    entries: HashMap<[u8; 32], (Arc<StaticDh>, bool)>,
    queue: VecDeque<[u8; 32]>,
}

impl DhCache {
    fn new(capacity: usize) -> Self {
        Self { capacity, state: Mutex::default() }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, DhCacheState> {
        // The state is consistent between statements, so a poisoned lock is fine to use.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn len(&self) -> usize {
        self.state().entries.len()
    }

    /// The cached value for `to`, computed and inserted on a miss.
    fn get(&self, key: &SenderSecretKey, to: &DevicePublicKey) -> Result<Arc<StaticDh>> {
        if let Some((value, used)) = self.state().entries.get_mut(to.as_bytes()) {
            *used = true;
            return Ok(Arc::clone(value));
        }
        let value = Arc::new(StaticDh::new(key.x25519(), to.x25519())?);
        let mut state = self.state();
        let state = &mut *state;
        if let Some((existing, used)) = state.entries.get_mut(to.as_bytes()) {
            *used = true;
            return Ok(Arc::clone(existing));
        }
        state.entries.insert(to.to_bytes(), (Arc::clone(&value), false));
        state.queue.push_back(to.to_bytes());
        while state.entries.len() > self.capacity {
            let Some(oldest) = state.queue.pop_front() else { break };
            match state.entries.get_mut(&oldest) {
                Some((_, used)) if *used => {
                    *used = false;
                    state.queue.push_back(oldest);
                }
                _ => {
                    state.entries.remove(&oldest);
                }
            }
        }
        Ok(value)
    }
}

impl std::fmt::Debug for DhCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DhCache").field("capacity", &self.capacity).field("devices", &self.len()).finish()
    }
}
