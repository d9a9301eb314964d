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
//! assert!(apns.payload.body.contains("\"mutable-content\":1"));
//! // What the sender's log keeps: the message id and the receipt digest.
//! println!("{} {}", apns.message_id, apns.receipt_digest);
//! let fcm = sender.seal_for_fcm(&device.public_key(), &msg, &FcmOptions::with_token("fcm-token"))?;
//! assert!(fcm.payload.json.contains("\"pushseal\""));
//! # Ok::<(), pushseal::Error>(())
//! ```

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, mpsc};

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
use crate::platform::{Target, check_fits};
use crate::receipt::{Receipt, ReceiptDigest};

/// One sealed notification: the payload for its target (an
/// [`ApnsRequest`], an [`FcmMessage`], or the envelope text for
/// [`BareEnvelope`](crate::BareEnvelope)) with what a sender's log needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed<P> {
    /// The platform payload: send it.
    pub payload: P,
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
}

impl<P> Sealed<P> {
    /// The same sealed notification with its payload made into something
    /// else (the sender's own request type, say), every other field kept.
    pub fn map_payload<Q>(self, f: impl FnOnce(P) -> Q) -> Sealed<Q> {
        Sealed {
            payload: f(self.payload),
            message_id: self.message_id,
            sender: self.sender,
            recipient: self.recipient,
            sent_at: self.sent_at,
            expires_at: self.expires_at,
            receipt_digest: self.receipt_digest,
            envelope: self.envelope,
        }
    }
}

/// Devices a batch worker takes at a time: a few milliseconds of work.
const BATCH_SLICE: usize = 64;
/// How many devices a batch's workers may seal ahead of the results handed
/// out: what bounds a batch's memory.
pub const BATCH_WINDOW: usize = 32 * BATCH_SLICE;

/// One device of a batch, with what may differ from device to device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchDevice {
    /// The device's public key, or why the text given for it is not one
    /// (that device's result is then this error).
    key: Result<DevicePublicKey>,
    /// The device's push token. An FCM message carries it as its `token`; for
    /// APNs it belongs in the request's path, which the caller builds. An
    /// audit log records its keyed hash.
    token: Option<String>,
    /// The device's Firebase Installation ID, which an FCM message carries as
    /// its `fid` in place of a token (SPEC.md section 7.2); APNs has none.
    fid: Option<String>,
    /// The device's collapse id (APNs `apns-collapse-id`, FCM
    /// `collapse_key`), replacing the batch's.
    collapse_id: Option<String>,
}

impl BatchDevice {
    /// A device with the batch's options.
    pub fn new(key: DevicePublicKey) -> Self {
        Self { key: Ok(key), token: None, fid: None, collapse_id: None }
    }

    /// A device from its public key's text form, as a registration stored
    /// it. A text that is not a public key fails for this device alone: its
    /// result is the parse error, and the batch goes on.
    pub fn parse(key_text: &str) -> Self {
        Self { key: key_text.parse(), token: None, fid: None, collapse_id: None }
    }

    /// The same device with its push token.
    #[must_use]
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The same device with its Firebase Installation ID: its FCM message
    /// is addressed by `fid` (give a device a token or an fid, not both).
    #[must_use]
    pub fn with_fid(mut self, fid: impl Into<String>) -> Self {
        self.fid = Some(fid.into());
        self
    }

    /// The same device with its collapse id.
    #[must_use]
    pub fn with_collapse_id(mut self, collapse_id: impl Into<String>) -> Self {
        self.collapse_id = Some(collapse_id.into());
        self
    }

    /// The device's push token, if it has one.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The device's Firebase Installation ID, if it has one.
    pub fn fid(&self) -> Option<&str> {
        self.fid.as_deref()
    }
}

impl From<DevicePublicKey> for BatchDevice {
    fn from(key: DevicePublicKey) -> Self {
        Self::new(key)
    }
}

impl From<&DevicePublicKey> for BatchDevice {
    fn from(key: &DevicePublicKey) -> Self {
        Self::new(*key)
    }
}

/// One device's result in a batch.
#[derive(Debug)]
pub struct BatchResult<P> {
    /// The device's place in the batch, from 0.
    pub index: usize,
    /// The device key's id (`None` when its text was not a public key).
    pub recipient: Option<KeyId>,
    /// The device's push token, as given in its [`BatchDevice`].
    pub token: Option<String>,
    /// The device's Firebase Installation ID, as given in its [`BatchDevice`].
    pub fid: Option<String>,
    /// The sealed notification, or why this device failed.
    pub sealed: Result<Sealed<P>>,
}

/// The input of a batch's workers and how far they may run ahead.
struct Feed<I> {
    input: I,
    /// The number of the next slice a worker takes.
    next_slice: usize,
    /// Slices handed out so far.
    handed_out: usize,
    /// Set when the batch stops early.
    stop: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every value guarded here is consistent between statements.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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

    /// The secret key's text form (`SenderSecretKey::to_secret_text`),
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

    /// Seals `msg` to one device for `target` ([`ApnsOptions`], [`FcmOptions`]
    /// or [`BareEnvelope`](crate::BareEnvelope)), stamped with a fresh random
    /// id and the current time.
    pub fn seal<T: Target>(&self, to: &DevicePublicKey, msg: &Message, target: &T) -> Result<Sealed<T::Payload>> {
        self.seal_with(to, msg, target, MessageId::random()?, unix_now(), &Ephemeral::generate()?)
    }

    /// Seals `msg` to one device as a bare envelope (base64url text).
    pub fn seal_envelope(&self, to: &DevicePublicKey, msg: &Message) -> Result<Sealed<String>> {
        self.seal(to, msg, &crate::BareEnvelope)
    }

    /// Seals `msg` to one device as an APNs request.
    pub fn seal_for_apns(
        &self,
        to: &DevicePublicKey,
        msg: &Message,
        options: &ApnsOptions,
    ) -> Result<Sealed<ApnsRequest>> {
        self.seal(to, msg, options)
    }

    /// Seals `msg` to one device as an FCM HTTP v1 message object.
    pub fn seal_for_fcm(&self, to: &DevicePublicKey, msg: &Message, options: &FcmOptions) -> Result<Sealed<FcmMessage>> {
        self.seal(to, msg, options)
    }

    /// Seals `msg` to many devices, each its own envelope (and its own ephemeral
    /// key), all with the same message id and time, spread over the available
    /// cores. Results come back in the order of `to`; one device's failure does
    /// not stop the others. Each device may carry its own push token and
    /// collapse id ([`BatchDevice`]). This holds every result until the last
    /// is sealed: for a large batch, [`Sender::seal_batch_chunked`] hands each
    /// out as soon as it exists, in constant memory.
    ///
    /// An FCM batch takes each device's token from its [`BatchDevice`]: a
    /// token in the batch's [`FcmOptions`] fails every device with
    /// [`Error::InvalidNotification`] (it would send them all to one device).
    pub fn seal_batch<I, T>(&self, to: I, msg: &Message, target: &T) -> Result<Vec<Result<Sealed<T::Payload>>>>
    where
        T: Target,
        I: IntoIterator<IntoIter: Send, Item: Into<BatchDevice>>,
    {
        let mut all = Vec::new();
        self.seal_batch_chunked(to, msg, target, |chunk| {
            all.extend(chunk.drain(..).map(|r| r.sealed));
            Ok(())
        })?;
        Ok(all)
    }

    /// Seals `msg` to many devices like [`Sender::seal_batch`], handing the
    /// results to `each` in the order of `to`, in chunks of whatever is ready
    /// (the first within milliseconds). Memory does not grow with the number
    /// of devices: `to` is read as sealing goes, and the workers stay at most
    /// [`BATCH_WINDOW`] devices ahead of the results `each` has taken. While
    /// `each` runs (to write records, or send), the workers keep sealing.
    ///
    /// If `each` fails, sealing stops, no later result is handed out, and the
    /// error is returned.
    pub fn seal_batch_chunked<I, T>(
        &self,
        to: I,
        msg: &Message,
        target: &T,
        mut each: impl FnMut(&mut Vec<BatchResult<T::Payload>>) -> Result<()>,
    ) -> Result<()>
    where
        T: Target,
        I: IntoIterator<IntoIter: Send, Item: Into<BatchDevice>>,
    {
        let id = MessageId::random()?;
        let now = unix_now();
        let seal_one = |(index, device): (usize, BatchDevice)| {
            let sealed = device.key.clone().and_then(|key| {
                let target = target.for_device(device.token.as_deref(), device.fid.as_deref(), device.collapse_id.as_deref())?;
                self.seal_with(&key, msg, &*target, id, now, &Ephemeral::generate()?)
            });
            let recipient = device.key.as_ref().ok().map(DevicePublicKey::key_id);
            BatchResult { index, recipient, token: device.token, fid: device.fid, sealed }
        };
        let mut input = to.into_iter().map(Into::into).enumerate();
        let (_, upper) = input.size_hint();
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(upper.map_or(usize::MAX, |n| n.div_ceil(BATCH_SLICE)));
        if workers <= 1 {
            // Small batches: no threads, one chunk per slice.
            loop {
                let mut chunk: Vec<BatchResult<T::Payload>> = input.by_ref().take(BATCH_SLICE).map(seal_one).collect();
                if chunk.is_empty() {
                    return Ok(());
                }
                each(&mut chunk)?;
            }
        }
        let feed = Mutex::new(Feed { input, next_slice: 0, handed_out: 0, stop: false });
        let room = Condvar::new();
        let (tx, rx) = mpsc::channel::<(usize, Vec<BatchResult<T::Payload>>)>();
        // Each worker takes the next slice of devices until none is left, so
        // a core that is busy with other work seals fewer devices instead of
        // holding up the batch.
        let work = |tx: mpsc::Sender<(usize, Vec<BatchResult<T::Payload>>)>| {
            loop {
                let (slice, devices) = {
                    let mut feed = lock(&feed);
                    while !feed.stop && feed.next_slice >= feed.handed_out + BATCH_WINDOW / BATCH_SLICE {
                        feed = room.wait(feed).unwrap_or_else(PoisonError::into_inner);
                    }
                    let devices: Vec<_> =
                        if feed.stop { Vec::new() } else { feed.input.by_ref().take(BATCH_SLICE).collect() };
                    feed.next_slice += 1;
                    (feed.next_slice - 1, devices)
                };
                if devices.is_empty() || tx.send((slice, devices.into_iter().map(seal_one).collect())).is_err() {
                    return;
                }
            }
        };
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn({
                        let tx = tx.clone();
                        move || work(tx)
                    })
                })
                .collect();
            drop(tx);
            let mut ready = BTreeMap::new();
            let mut next = 0;
            let mut outcome = Ok(());
            while let Ok((slice, results)) = rx.recv() {
                ready.insert(slice, results);
                ready.extend(rx.try_iter());
                let mut chunk = Vec::new();
                while let Some(results) = ready.remove(&next) {
                    chunk.extend(results);
                    next += 1;
                }
                if chunk.is_empty() {
                    continue;
                }
                lock(&feed).handed_out = next;
                room.notify_all();
                if let Err(e) = each(&mut chunk) {
                    outcome = Err(e);
                    break;
                }
            }
            lock(&feed).stop = true;
            room.notify_all();
            drop(rx);
            for handle in handles {
                // Sealing does not panic; if a bug makes it, the panic is the
                // caller's to see, as from any code it calls, not an error
                // kind that would read as a failing disk.
                if let Err(panic) = handle.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            // Every slice a worker took was sent before it stopped, and the
            // loop above only leaves early with an error.
            debug_assert!(outcome.is_err() || ready.is_empty(), "every sealed slice was handed out");
            outcome
        })
    }

    pub_with_test_vectors! {
    /// Seals for `target` and builds its payload. Everything is deterministic
    /// given `id`, `now` and `eph`: the test vectors are made with it. Sealing
    /// twice with one `eph` reuses an AEAD key and nonce, so it is public only
    /// with the `test-vectors` feature (the vector generator and the crate's
    /// own tests enable it); never enable it in a product.
    fn seal_with<T: Target>(
        &self,
        to: &DevicePublicKey,
        msg: &Message,
        target: &T,
        id: MessageId,
        now: u64,
        eph: &Ephemeral,
    ) -> Result<Sealed<T::Payload>> {
        let ttl = msg.effective_ttl()?;
        // effective_ttl is at most 28 days; an overflow means a clock in the year 584 billion.
        let expires_at = now.checked_add(ttl).ok_or(Error::InvalidNotification("the expiry time overflows"))?;
        // The plaintext is written after room for the header and encrypted in
        // place: the buffer becomes the envelope. Until then it is secret.
        let mut buf = Zeroizing::new(Vec::with_capacity(HEADER_LEN + BUCKETS[BUCKETS.len() - 1] + N_T));
        buf.resize(HEADER_LEN, 0);
        msg.encode_into(id, now, &mut buf)?;
        check_fits(target, buf.len() - HEADER_LEN)?;
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
        let payload = target.payload(encode_base64(&envelope), ttl, expires_at)?;
        Ok(Sealed {
            payload,
            message_id: id,
            sender: self.key.key_id(),
            recipient: to.key_id(),
            sent_at: now,
            expires_at,
            receipt_digest,
            envelope,
        })
    }
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
