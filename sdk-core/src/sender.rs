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
//!
//! A sender with a version 2 signing key seals version 2 (X-Wing, signed:
//! SPEC.md section 12) to every device whose registration carries a version
//! 2 key, and version 1 to the others ([`Pq::Prefer`], the default):
//!
//! ```
//! use pushseal::{DeviceKeyring, Message, Payload, MemoryReplayStore, Pq, Sender, SenderSecretKey, SenderSigningKey};
//!
//! let sender = Sender::new(SenderSecretKey::generate()?).with_signing_key(SenderSigningKey::generate()?);
//! let mut device = DeviceKeyring::generate()?;
//! device.trust_sender_v2(sender.verifying_key().expect("the sender has a signing key"));
//!
//! let registration = device.registration();               // what the app sent
//! let sealed = sender.seal_envelope(&registration, &Message::new("Lab results", "Ready."))?;
//! assert_eq!(sealed.version(), 2);
//! let n = device.open(Payload::Envelope(&sealed.payload), &MemoryReplayStore::new(), pushseal::unix_now())?;
//! assert_eq!(n.message.title, "Lab results");
//!
//! // Refuse to seal anything but version 2:
//! let strict = sender.with_pq(Pq::Require);
//! assert!(strict.seal_envelope(&device.public_key(), &Message::new("t", "b")).is_err());
//! # Ok::<(), pushseal::Error>(())
//! ```

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, mpsc};

use zeroize::Zeroizing;

use crate::encoding::encode_base64;
use crate::envelope::{self, HEADER_LEN};
use crate::error::{Error, Result};
use crate::hpke::{Ephemeral, N_T, StaticDh};
use crate::envelope_v2;
use crate::keys::{DevicePublicKey, KeyId, SenderPublicKey, SenderSecretKey};
use crate::keys_v2::{DevicePublicKeyV2, Registration, SenderSigningKey, SenderVerifyingKey};
use crate::xwing::Eseed;
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
    /// The envelope's version: 1 (X25519, HPKE mode auth) or 2 (X-Wing,
    /// Ed25519-signed).
    pub fn version(&self) -> u8 {
        self.envelope.first().copied().unwrap_or_default()
    }

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

/// Which envelope version a [`Sender`] seals (SPEC.md section 12.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Pq {
    /// Version 2 to a device that registered a version 2 key (when the
    /// sender has a signing key), version 1 to the others. The default.
    #[default]
    Prefer,
    /// Version 2 only: a device that registered no version 2 key fails with
    /// [`Error::NoVersionTwoKey`], and nothing is sealed to it.
    Require,
    /// Version 1 only, whatever the device registered.
    Off,
}

/// What a sender seals to: a device's version 1 [`DevicePublicKey`] alone
/// or its [`Registration`] (both keys). Only this crate implements it.
pub trait Recipient: private::Sealed {
    /// The version 1 key.
    fn v1(&self) -> &DevicePublicKey;
    /// The version 2 key, if the device registered one.
    fn v2(&self) -> Option<&DevicePublicKeyV2>;
}

impl Recipient for DevicePublicKey {
    fn v1(&self) -> &DevicePublicKey {
        self
    }

    fn v2(&self) -> Option<&DevicePublicKeyV2> {
        None
    }
}

impl Recipient for Registration {
    fn v1(&self) -> &DevicePublicKey {
        Registration::v1(self)
    }

    fn v2(&self) -> Option<&DevicePublicKeyV2> {
        Registration::v2(self)
    }
}

mod private {
    /// Keeps [`super::Recipient`] closed.
    pub trait Sealed {}
    impl Sealed for crate::DevicePublicKey {}
    impl Sealed for crate::Registration {}
}

/// One device of a batch, with what may differ from device to device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchDevice {
    /// The device's registration, or why the text given for it is not one
    /// (that device's result is then this error).
    key: Result<Registration>,
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
    /// A device with the batch's options, by its version 1 key alone.
    pub fn new(key: DevicePublicKey) -> Self {
        Self::registered(Registration::v1_only(key))
    }

    /// A device with the batch's options, by its registration (both keys):
    /// the recipient's X-Wing key is parsed once, here.
    pub fn registered(registration: Registration) -> Self {
        Self { key: Ok(registration), token: None, fid: None, collapse_id: None }
    }

    /// A device from its registration text (SPEC.md section 12.3: both
    /// keys, or a version 1 public key alone), as the app sent it. A text
    /// that is not one fails for this device alone: its result is the parse
    /// error, and the batch goes on.
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

impl From<Registration> for BatchDevice {
    fn from(registration: Registration) -> Self {
        Self::registered(registration)
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
/// mode auth), so devices can tell its notifications from forgeries; with a
/// [`SenderSigningKey`] it also seals version 2 (X-Wing, signed) to devices
/// that registered a version 2 key, as its [`Pq`] policy says.
#[derive(Debug)]
pub struct Sender {
    key: SenderSecretKey,
    cache: Option<DhCache>,
    signing: Option<SenderSigningKey>,
    pq: Pq,
}

impl Sender {
    /// A sender with this key.
    pub fn new(key: SenderSecretKey) -> Self {
        Self { key, cache: None, signing: None, pq: Pq::Prefer }
    }

    /// The same sender with a version 2 signing key: it seals version 2 to
    /// devices that registered a version 2 key (with [`Pq::Prefer`]).
    #[must_use]
    pub fn with_signing_key(mut self, signing: SenderSigningKey) -> Self {
        self.signing = Some(signing);
        self
    }

    /// The same sender with this version policy.
    #[must_use]
    pub fn with_pq(mut self, pq: Pq) -> Self {
        self.pq = pq;
        self
    }

    /// The version policy.
    pub fn pq(&self) -> Pq {
        self.pq
    }

    /// The version 2 public key devices pin, if the sender has a signing key.
    pub fn verifying_key(&self) -> Option<SenderVerifyingKey> {
        self.signing.as_ref().map(SenderSigningKey::verifying_key)
    }

    /// The version 2 signing key's text form, if the sender has one. **Secret.**
    pub fn signing_secret_text(&self) -> Option<Zeroizing<String>> {
        self.signing.as_ref().map(SenderSigningKey::to_secret_text)
    }

    /// The version 2 key `to` is sealed to under the policy, or `None` for
    /// version 1; [`Error::NoVersionTwoKey`] when the policy requires
    /// version 2 and `to` has no version 2 key.
    fn v2_target<'r, R: Recipient + ?Sized>(&self, to: &'r R) -> Result<Option<&'r DevicePublicKeyV2>> {
        match (self.pq, to.v2(), &self.signing) {
            (Pq::Off, _, _) => Ok(None),
            (_, Some(v2), Some(_)) => Ok(Some(v2)),
            (Pq::Require, None, _) => Err(Error::NoVersionTwoKey),
            (Pq::Require, Some(_), None) => {
                Err(Error::InvalidNotification("a sender that requires version 2 needs a signing key"))
            }
            (Pq::Prefer, _, _) => Ok(None),
        }
    }

    /// Seals with fresh randomness, in the version the policy picks for `to`.
    fn seal_fresh<T: Target, R: Recipient + ?Sized>(
        &self,
        to: &R,
        msg: &Message,
        target: &T,
        id: MessageId,
        now: u64,
    ) -> Result<Sealed<T::Payload>> {
        match self.v2_target(to)? {
            Some(v2) => self.seal_v2_with(v2, msg, target, id, now, &Eseed::generate()?),
            None => self.seal_with(to.v1(), msg, target, id, now, &Ephemeral::generate()?),
        }
    }

    /// A sender with this key that remembers, for up to `capacity` devices,
    /// the Diffie-Hellman value between its key and the device's (the same
    /// for every message in mode auth), so that sealing to a device again
    /// costs one X25519 operation instead of two. The values are as secret as
    /// the key; each is zeroized when it is evicted (least recently sealed to
    /// first, roughly) and when the sender is dropped. About 350 bytes a device.
    pub fn with_cache(key: SenderSecretKey, capacity: usize) -> Self {
        Self { cache: (capacity > 0).then(|| DhCache::new(capacity)), ..Self::new(key) }
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
    /// id and the current time. `to` is the device's [`Registration`] or its
    /// version 1 [`DevicePublicKey`]; the [`Pq`] policy picks the version.
    pub fn seal<T: Target, R: Recipient + ?Sized>(
        &self,
        to: &R,
        msg: &Message,
        target: &T,
    ) -> Result<Sealed<T::Payload>> {
        self.seal_fresh(to, msg, target, MessageId::random()?, unix_now())
    }

    /// Seals `msg` to one device as a bare envelope (base64url text).
    pub fn seal_envelope<R: Recipient + ?Sized>(&self, to: &R, msg: &Message) -> Result<Sealed<String>> {
        self.seal(to, msg, &crate::BareEnvelope)
    }

    /// Seals `msg` to one device as an APNs request.
    pub fn seal_for_apns<R: Recipient + ?Sized>(
        &self,
        to: &R,
        msg: &Message,
        options: &ApnsOptions,
    ) -> Result<Sealed<ApnsRequest>> {
        self.seal(to, msg, options)
    }

    /// Seals `msg` to one device as an FCM HTTP v1 message object.
    pub fn seal_for_fcm<R: Recipient + ?Sized>(
        &self,
        to: &R,
        msg: &Message,
        options: &FcmOptions,
    ) -> Result<Sealed<FcmMessage>> {
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
            let sealed = device.key.as_ref().map_err(Clone::clone).and_then(|key| {
                let target =
                    target.for_device(device.token.as_deref(), device.fid.as_deref(), device.collapse_id.as_deref())?;
                self.seal_fresh(key, msg, &*target, id, now)
            });
            let recipient = match &sealed {
                Ok(s) => Some(s.recipient),
                Err(_) => device.key.as_ref().ok().map(|r| r.v1().key_id()),
            };
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
        check_fits(target, buf.len() - HEADER_LEN, envelope::VERSION)?;
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

    pub_with_test_vectors! {
    /// Seals version 2 (SPEC.md section 12.5) for `target` with the given
    /// encapsulation randomness: deterministic given `id`, `now` and
    /// `eseed`, for the test vectors. Two envelopes with one `eseed` share
    /// an AEAD key and nonce: public only with the `test-vectors` feature.
    /// Fails with [`Error::InvalidNotification`] if the sender has no
    /// signing key.
    fn seal_v2_with<T: Target>(
        &self,
        to: &DevicePublicKeyV2,
        msg: &Message,
        target: &T,
        id: MessageId,
        now: u64,
        eseed: &Eseed,
    ) -> Result<Sealed<T::Payload>> {
        let signer = self
            .signing
            .as_ref()
            .ok_or(Error::InvalidNotification("sealing version 2 needs a sender signing key"))?;
        let ttl = msg.effective_ttl()?;
        let expires_at = now.checked_add(ttl).ok_or(Error::InvalidNotification("the expiry time overflows"))?;
        let header_len = envelope_v2::HEADER_LEN;
        let mut buf = Zeroizing::new(Vec::with_capacity(envelope_v2::MIN_LEN + BUCKETS[BUCKETS.len() - 1]));
        buf.resize(header_len, 0);
        msg.encode_into(id, now, &mut buf)?;
        check_fits(target, buf.len() - header_len, envelope_v2::VERSION)?;
        padding::pad_in_place(&mut buf, header_len)?;
        let ctx = envelope_v2::seal_in_place(signer, to, &mut buf, eseed)?;
        let mut envelope = std::mem::take(&mut *buf);
        envelope.shrink_to_fit();
        let receipt_digest = Receipt::export(&ctx, &id)?.digest();
        drop(ctx);
        let payload = target.payload(encode_base64(&envelope), ttl, expires_at)?;
        Ok(Sealed {
            payload,
            message_id: id,
            sender: signer.key_id(),
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
