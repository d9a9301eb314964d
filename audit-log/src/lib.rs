//! The sender's audit trail: an append-only, tamper-evident log of every
//! sealed notification and every confirmed delivery, with nothing sensitive in it.
//!
//! Each sealing through an [`AuditLog`] appends a `sealed` record: when, the
//! message id, the sender and recipient key ids, the platform, the SHA-256 of
//! the envelope (the encrypted content), sizes, TTL, expiry, the digest of the
//! delivery receipt the device will be able to compute (see
//! [`pushseal::Receipt`]) and, if the operator gave a token key, a keyed hash
//! of the push token. A record never holds the plaintext, the title, the body,
//! data values or the push token in clear: its types have no field that could
//! carry them. When a device sends back a receipt,
//! [`AuditLog::record_delivery`] checks it against the `sealed` record and
//! appends a `delivered` record.
//!
//! ```
//! use pushseal::{BatchDevice, BareEnvelope, DeviceKeyring, FcmOptions, Message, Sender, SenderSecretKey};
//! use pushseal_audit::{AuditLog, TokenKey, verify_log};
//!
//! # let dir = std::env::temp_dir().join(format!("pushseal-audit-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let token_key = TokenKey::from_bytes(&[7; 32])?; // in practice: TokenKey::read_file
//! let log = AuditLog::open(dir.join("audit.jsonl"))?.with_token_key(token_key);
//! let sender = Sender::new(SenderSecretKey::generate()?);
//! let msg = Message::new("Lab results", "Your results from Tuesday are ready.");
//!
//! // One device: the notification comes back once its record is durable.
//! let phone = DeviceKeyring::generate()?.public_key();
//! let sealed = log.seal(&sender, &phone, &msg, &FcmOptions::with_token("fcm-token"))?;
//! assert!(sealed.payload.json.contains("fcm-token"));
//!
//! // Many devices, each with its own token: each result is handed out as
//! // soon as it and its record exist, in constant memory.
//! let devices = (0..3).map(|i| Ok(BatchDevice::new(DeviceKeyring::generate()?.public_key()).with_token(format!("token-{i}"))));
//! let devices: Vec<BatchDevice> = devices.collect::<pushseal::Result<_>>()?;
//! let mut sent = 0;
//! log.seal_batch_each(&sender, devices, &msg, &FcmOptions::default(), |result| {
//!     let _message = result.sealed?.payload; // send it
//!     sent += 1;
//!     Ok(())
//! })?;
//! assert_eq!(sent, 3);
//! log.seal(&sender, &phone, &msg, &BareEnvelope)?;
//! assert_eq!(verify_log(log.path().unwrap(), None)?.sealed, 5);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), pushseal::Error>(())
//! ```
//!
//! # Opening a log
//!
//! A log that is expected but missing is never taken for an empty one,
//! except by the one call that starts a log:
//!
//! - [`AuditLog::open`] is for sealing: a file that does not exist yet is a
//!   new log, which its first record creates.
//! - [`AuditLog::open_existing`] (to record deliveries) and [`verify_log`]
//!   fail with [`Error::Storage`] when the file does not exist: a deleted
//!   log is not an empty one, and a delivery can only be checked against the
//!   log its notification was sealed with.
//!
//! # Push tokens
//!
//! A log records a device's push token only as `HMAC-SHA256(token key,
//! token)` (SPEC.md section 10.2), and only if it was given a [`TokenKey`]
//! ([`AuditLog::with_token_key`]); without one, no token is recorded at all,
//! and never a token in clear. [`AuditLog::token_hmac`] is that rule. The
//! token of a single seal is the one its target carries (an FCM message's);
//! in a batch, each device's own, from its [`BatchDevice`].
//!
//! # Format
//!
//! A log is a file of JSON Lines (UTF-8, one record per line, each line ending
//! in `\n`). Every line is a JSON object whose first members are `"seq"` (the
//! record's number, from 0) and `"prev"` (the previous record's `hash`; 64
//! zeros for record 0), then `"type"` and the fields of that type, and last
//! `"hash"`:
//!
//! ```text
//! {"seq":0,"prev":"0000…0000","type":"sealed","time":1767225600,…,"hash":"<64 hex>"}
//! ```
//!
//! `hash` is the SHA-256 of the line's bytes before `,"hash":"`, in lowercase
//! hex. So each record commits to its own contents and, through `prev`, to
//! every record before it: changing a record breaks its own `hash` (or, if
//! the hash is recomputed, the next record's `prev`); removing, repeating or
//! reordering records breaks `seq` and `prev`. [`verify_log`] checks every
//! line and reports the first broken link. Removing records *from the end*
//! leaves a shorter log that is still a valid chain: to detect that, keep the
//! log's [`Anchor`] (the last record's `seq` and `hash`, in
//! [`VerifyReport::head`]) somewhere else and pass it to [`verify_log`].
//!
//! The record types are in [`AuditEvent`]; their fields appear in the order
//! listed there.
//!
//! # A log that others can check
//!
//! The records are also the leaves of an RFC 9162 Merkle tree ([`merkle`]).
//! A [`LogTree`] signs checkpoints of it with the log's own key, in the
//! C2SP formats ([`checkpoint`]), and proves that a record is in a
//! checkpoint's tree ([`InclusionProof`]) and that a newer checkpoint
//! extends an older one ([`ConsistencyProof`]). Whoever keeps a checkpoint
//! catches a log cut back or rewritten after it ([`LogTree::compare`]),
//! which the chain alone misses at the log's end.
//!
//! # Writing
//!
//! No notification is handed out before its `sealed` record is durable. The
//! appends of sealers working at the same time (threads sharing a log
//! handle) are grouped: the records queued while one sync runs are written
//! with one write and synced together by the next, and a batch's chunk of
//! results (see [`pushseal::Sender::seal_batch_chunked`]) is recorded with
//! one write and one sync before any of its payloads leaves. Processes on
//! one machine share a file through its lock: each process's group waits
//! for it.
//!
//! The file backend ([`FileStore`]) appends under an exclusive lock on
//! `<path>.lock`: it reads the last line to get its `seq` and `hash`, writes
//! the new lines, each ending in `\n`, with one write to the file opened in
//! append mode, and syncs the data before returning. A crash during the
//! write leaves at most one *torn* last line, without its `\n`: the verifier
//! reports it and every earlier record stays valid. Only the records of an
//! append that did not return can be torn or lost, and those describe
//! notifications that were never handed out. The next append cuts the torn
//! bytes off and first appends a `recovered` record with their length and
//! SHA-256, so the repair itself is on the record. The verifier holds a
//! shared lock on `<path>.lock` while it reads.
//!
//! # Storage backends
//!
//! Storage is behind the [`RecordStore`] trait; its documentation says what
//! an implementation guarantees. Everything else (the record format and the
//! chain's rules, group commit, the token policy, checking deliveries and
//! verifying) sits above it and does not change with the backend. A
//! database backend is one new file in this crate: a type implementing
//! [`RecordStore`] (encoding each record after the last stored one, and
//! verifying with the same checks as the file), handed to
//! [`AuditLog::with_store`]. With the feature `postgres`, `PgStore` is that
//! type for PostgreSQL: one log in one database, shared by a fleet of
//! senders on many hosts (see the crate's README).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checkpoint;
#[cfg(feature = "postgres")]
mod conninfo;
mod file;
mod group;
pub mod merkle;
#[cfg(feature = "postgres")]
mod postgres;
mod record;
#[cfg(feature = "postgres")]
mod shared_value;
mod store;
mod target;
mod token;
mod transparency;
mod verify;

use std::cell::RefCell;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use pushseal::{BatchDevice, BatchResult, Error, Message, MessageId, Receipt, Recipient, Result, Sealed, Sender};

pub use file::FileStore;
use group::GroupCommit;
#[cfg(feature = "postgres")]
pub use postgres::PgStore;
pub use record::{
    Actor, Anchor, AuditEvent, AuditPlatform, AuditRecord, BreakKind, DeliveredEvent, Hash256, MAX_ACTOR_LEN,
    MAX_LINE_LEN, OutcomeEvent, RecoveredEvent, SealedEvent, TOKEN_KEY_LEN,
};
#[cfg(feature = "postgres")]
pub use shared_value::{MAX_SHARED_VALUE_NAME_LEN, SharedValue};
pub use store::{Decision, RecordStore};
pub use target::AuditTarget;
pub use token::{TokenKey, TokenKeyError};
pub use transparency::{Comparison, ConsistencyProof, InclusionProof, LogTree, Proof, ProofFileError};
pub use verify::{BrokenLink, TornTail, VerifyReport, verify_bytes};

/// Checks the log file at `path`: every record's hash, `seq` and `prev`,
/// each delivery against its `sealed` record and, if given, the `anchor`
/// kept from an earlier check. Reads under a shared lock on `<path>.lock` if
/// that file exists or can be created (a read-only copy is read without it).
/// A log that does not exist fails with [`Error::Storage`]: a deleted log is
/// not an empty one. The report counts records, senders, recipients and
/// deliveries, and names the first broken link and a torn last line, if any;
/// a broken log is a report, not an error.
pub fn verify_log(path: impl AsRef<Path>, anchor: Option<Anchor>) -> Result<VerifyReport> {
    FileStore::at(path.as_ref()).verify(anchor)
}

/// Seals `msg` to many devices with `sender`, handing each result to `each`
/// in the order of `to` as soon as it exists: with a `log`, only once its
/// `sealed` record is durable ([`AuditLog::seal_batch_each`]); without one,
/// as [`Sender::seal_batch_chunked`] does. For a sender whose audit log is
/// optional (a command-line flag, a constructor argument), so that both
/// cases are one call.
///
/// If `each` fails, the batch stops and its error (of `each`'s own type) is
/// returned; a failure of the batch itself (randomness, or a chunk that
/// cannot be recorded) is an [`Error`] converted to `E`. The results of the
/// chunk `each` failed in that come after it are not handed out, though
/// their `sealed` records are in the log: a caller that must account for
/// every recorded message stops with [`seal_batch_chunks`] instead.
pub fn seal_batch_each<I, T, E>(
    log: Option<&AuditLog>,
    sender: &Sender,
    to: I,
    msg: &Message,
    target: &T,
    mut each: impl FnMut(BatchResult<T::Payload>) -> core::result::Result<(), E>,
) -> core::result::Result<(), E>
where
    T: AuditTarget,
    I: IntoIterator<IntoIter: Send, Item: Into<BatchDevice>>,
    E: From<Error>,
{
    seal_batch_chunks(log, sender, to, msg, target, |chunk| chunk.drain(..).try_for_each(&mut each))
}

/// [`seal_batch_each`], a chunk at a time: `each` takes every result of a
/// chunk whose `sealed` records are durable (when there is a `log`), and
/// stops the batch between chunks by failing. No later chunk is then
/// recorded or handed out, so every recorded result is one `each` was given
/// (whatever it left in the chunk is dropped). For a sender that must give
/// every recorded message an outcome, as a delivery run that stops does.
pub fn seal_batch_chunks<I, T, E>(
    log: Option<&AuditLog>,
    sender: &Sender,
    to: I,
    msg: &Message,
    target: &T,
    mut each: impl FnMut(&mut Vec<BatchResult<T::Payload>>) -> core::result::Result<(), E>,
) -> core::result::Result<(), E>
where
    T: AuditTarget,
    I: IntoIterator<IntoIter: Send, Item: Into<BatchDevice>>,
    E: From<Error>,
{
    let mut stopped = None;
    let outcome = sender.seal_batch_chunked(to, msg, target, |chunk| {
        if let Some(log) = log {
            log.record_chunk::<T>(chunk)?;
        }
        each(chunk).map_err(|e| {
            stopped = Some(e);
            // Only stops the core's batch: the caller gets `each`'s own error.
            Error::Storage("the batch was stopped by its caller".into())
        })
    });
    match stopped {
        Some(e) => Err(e),
        None => outcome.map_err(E::from),
    }
}

/// An audit log: where every notification a sender seals is recorded before
/// it is handed out (see the [crate docs](crate)). Clones share the store,
/// the token key and the queue of appends; safe to share between threads.
#[derive(Clone)]
pub struct AuditLog {
    store: Arc<dyn RecordStore>,
    group: Arc<GroupCommit>,
    path: Option<Arc<Path>>,
    token_key: Option<Arc<TokenKey>>,
    actor: Option<Actor>,
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog")
            .field("store", &self.store)
            .field("token_key", &self.token_key)
            .field("actor", &self.actor)
            .finish()
    }
}

impl AuditLog {
    /// A log in the file at `path` ([`FileStore`]), to seal with. The file
    /// need not exist (the first record creates it; see [Opening a
    /// log](crate#opening-a-log)); this creates the lock file `<path>.lock`
    /// if needed and fails with [`Error::Storage`] if it cannot.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let store = FileStore::open(path.as_ref())?;
        Ok(Self { path: Some(Arc::from(path.as_ref())), ..Self::with_store(store) })
    }

    /// An existing log file, to record deliveries in: fails with
    /// [`Error::Storage`] if `path` does not exist (a deleted log is not an
    /// empty one).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        std::fs::metadata(path).map_err(|e| {
            Error::Storage(format!(
                "audit log: cannot read {}: {e}; give the log the notifications were sealed with (a missing \
                     log is not an empty one)",
                path.display()
            ))
        })?;
        Self::open(path)
    }

    /// A log kept by `store`.
    pub fn with_store(store: impl RecordStore + 'static) -> Self {
        Self { store: Arc::new(store), group: Arc::default(), path: None, token_key: None, actor: None }
    }

    /// The same log, recording push tokens as `HMAC-SHA256(key, token)` (see
    /// [Push tokens](crate#push-tokens)). Without a token key, no token is
    /// recorded at all.
    #[must_use]
    pub fn with_token_key(mut self, key: TokenKey) -> Self {
        self.token_key = Some(Arc::new(key));
        self
    }

    /// The same log (sharing its store and its group commits), writing
    /// `actor` into every record it appends: who triggered the sends, or
    /// recorded the deliveries. A pseudonymous id, never PHI (see [`Actor`]).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use pushseal_audit::{Actor, AuditLog};
    /// let log = AuditLog::open(dir.path().join("audit.jsonl"))?;
    /// let for_lab_service = log.with_actor(Actor::new("svc-lab-results")?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_actor(&self, actor: Actor) -> Self {
        Self { actor: Some(actor), ..self.clone() }
    }

    /// The actor this handle records, if any.
    pub fn actor(&self) -> Option<&Actor> {
        self.actor.as_ref()
    }

    /// The log file's path, for a log in a file.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether the log records push tokens (as keyed hashes): whether it has a token key.
    pub fn records_tokens(&self) -> bool {
        self.token_key.is_some()
    }

    /// What a `sealed` record holds for the push token `token`: its
    /// `HMAC-SHA256` under the log's token key, or nothing if the log has no
    /// token key. The one place of the token policy.
    pub fn token_hmac(&self, token: &str) -> Option<Hash256> {
        self.token_key.as_ref().map(|key| key.hmac(token))
    }

    /// Appends the `sealed` record of `sealed`, sealed for `target`, durably,
    /// with the keyed hash of the device's push token if the log has a token
    /// key (without one, no token is recorded). The token is `token` if
    /// given (an APNs device token, which goes in the request's path), else
    /// the one the target carries (an FCM message's). Call it before sending
    /// the notification, or use [`AuditLog::seal`].
    pub fn record_sealed<T: AuditTarget>(
        &self,
        target: &T,
        sealed: &Sealed<T::Payload>,
        token: Option<&str>,
    ) -> Result<AuditRecord> {
        let event = AuditEvent::Sealed(self.sealed_event::<T>(sealed, token.or(target.token())));
        let records = self.group.append(&*self.store, vec![event])?;
        // The store's contract: one record per event, in order.
        Ok(records.into_iter().next().expect("a store returns one record per event"))
    }

    /// Seals `msg` to `to` for `target` ([`ApnsOptions`](pushseal::ApnsOptions),
    /// [`FcmOptions`](pushseal::FcmOptions) or
    /// [`BareEnvelope`](pushseal::BareEnvelope)) with `sender` and appends its
    /// `sealed` record (with the keyed hash of the token the target carries,
    /// if the log has a token key); returns the notification only once the
    /// record is durable, so that every notification sent has a record.
    pub fn seal<T: AuditTarget, R: Recipient + ?Sized>(
        &self,
        sender: &Sender,
        to: &R,
        msg: &Message,
        target: &T,
    ) -> Result<Sealed<T::Payload>> {
        let sealed = sender.seal(to, msg, target)?;
        self.record_sealed(target, &sealed, None)?;
        Ok(sealed)
    }

    /// Seals `msg` to many devices like [`Sender::seal_batch_chunked`], and
    /// hands each result to `each` in the order of `to`, only once its
    /// `sealed` record is durable (each device's own token, from its
    /// [`BatchDevice`], recorded as a keyed hash if the log has a token key).
    /// Each chunk of results is recorded with one write and one sync, shared
    /// with other sealers; while it syncs, the workers keep sealing. Memory
    /// does not grow with the number of devices.
    ///
    /// If a chunk cannot be recorded, or `each` fails, the batch stops with
    /// that error: the results handed out before were recorded, and no later
    /// result reaches `each`. See [`seal_batch_each`] for a sender whose log
    /// is optional, or whose `each` has an error type of its own.
    pub fn seal_batch_each<I, T>(
        &self,
        sender: &Sender,
        to: I,
        msg: &Message,
        target: &T,
        each: impl FnMut(BatchResult<T::Payload>) -> Result<()>,
    ) -> Result<()>
    where
        T: AuditTarget,
        I: IntoIterator<IntoIter: Send, Item: Into<BatchDevice>>,
    {
        seal_batch_each(Some(self), sender, to, msg, target, each)
    }

    /// Appends the `sealed` records of a batch's chunk (its devices that
    /// were sealed to), with one write and one sync.
    fn record_chunk<T: AuditTarget>(&self, chunk: &[BatchResult<T::Payload>]) -> Result<()> {
        let events: Vec<AuditEvent> = chunk
            .iter()
            .filter_map(|r| r.sealed.as_ref().ok().map(|s| (s, r.token.as_deref())))
            .map(|(sealed, token)| AuditEvent::Sealed(self.sealed_event::<T>(sealed, token)))
            .collect();
        if !events.is_empty() {
            self.group.append(&*self.store, events)?;
        }
        Ok(())
    }

    /// [`AuditLog::seal_batch_each`], collecting the results in the order of
    /// `to`: for batches small enough to hold.
    pub fn seal_batch<I, T>(
        &self,
        sender: &Sender,
        to: I,
        msg: &Message,
        target: &T,
    ) -> Result<Vec<Result<Sealed<T::Payload>>>>
    where
        T: AuditTarget,
        I: IntoIterator<IntoIter: Send, Item: Into<BatchDevice>>,
    {
        let mut all = Vec::new();
        self.seal_batch_each(sender, to, msg, target, |r| {
            all.push(r.sealed);
            Ok(())
        })?;
        Ok(all)
    }

    /// Checks a receipt that a device sent back for `message_id` against the
    /// log's `sealed` records for that message and, if it matches one, appends
    /// a `delivered` record (time `now`) for that record's device and returns
    /// it. Recording the same delivery again returns the first record and
    /// appends nothing. Fails with [`Error::InvalidReceipt`] if no `sealed`
    /// record has this message id or the receipt matches none of them.
    /// Reads the whole log.
    pub fn record_delivery(&self, message_id: MessageId, receipt: &Receipt, now: u64) -> Result<AuditRecord> {
        // What the scan found: a sealed record for the id, the recipient whose
        // digest the receipt matches, the deliveries already recorded.
        let found = RefCell::new((false, None, Vec::new()));
        let mut visit = |record: AuditRecord| {
            let (sealed_for_id, matched, delivered) = &mut *found.borrow_mut();
            match &record.event {
                AuditEvent::Sealed(s) if s.message_id == message_id => {
                    *sealed_for_id = true;
                    if matched.is_none() && s.receipt_digest.verify(receipt) {
                        *matched = Some(s.recipient);
                    }
                }
                AuditEvent::Delivered(d) if d.message_id == message_id => delivered.push((d.recipient, record)),
                _ => {}
            }
        };
        let mut decide = || {
            let (sealed_for_id, matched, delivered) = &mut *found.borrow_mut();
            if !*sealed_for_id {
                return Err(Error::InvalidReceipt("no sealed record in the audit log has this message id"));
            }
            let recipient = matched.ok_or(Error::InvalidReceipt("the receipt does not match the sealed record"))?;
            if let Some(i) = delivered.iter().position(|(r, _)| *r == recipient) {
                return Ok(Decision::Existing(delivered.swap_remove(i).1));
            }
            let actor = self.actor.clone();
            let event = DeliveredEvent { time: now, message_id, recipient, receipt: receipt.clone(), actor };
            Ok(Decision::Append(AuditEvent::Delivered(event)))
        };
        self.store.append_after_scan(&mut visit, &mut decide)
    }

    /// Appends delivery outcome records (`sent`, `token_gone`, `rejected`,
    /// `failed`) durably, with one write and one sync shared with other
    /// appends. Fails with [`Error::Storage`], appending nothing, if any
    /// event is not an outcome. Each should follow the `sealed` record of
    /// its `message_id` and `recipient`.
    pub fn record_outcomes(&self, events: Vec<AuditEvent>) -> Result<Vec<AuditRecord>> {
        let outcome = |e: &AuditEvent| {
            matches!(
                e,
                AuditEvent::Sent(_) | AuditEvent::TokenGone(_) | AuditEvent::Rejected(_) | AuditEvent::Failed(_)
            )
        };
        if !events.iter().all(outcome) {
            return Err(Error::Storage(
                "audit log: only outcome records (sent, token_gone, rejected, failed) can be appended here".into(),
            ));
        }
        if events.is_empty() {
            return Ok(Vec::new());
        }
        self.group.append(&*self.store, events)
    }

    /// Checks the log (see [`verify_log`]).
    pub fn verify(&self, anchor: Option<Anchor>) -> Result<VerifyReport> {
        self.store.verify(anchor)
    }

    /// The `sealed` event of a notification sealed for a `T`.
    fn sealed_event<T: AuditTarget>(&self, sealed: &Sealed<T::Payload>, token: Option<&str>) -> SealedEvent {
        SealedEvent {
            time: sealed.sent_at,
            message_id: sealed.message_id,
            sender: sealed.sender,
            recipient: sealed.recipient,
            platform: T::PLATFORM,
            envelope_sha256: Hash256::sha256(&sealed.envelope),
            envelope_len: sealed.envelope.len() as u64,
            payload_len: T::payload_len(&sealed.payload) as u64,
            ttl: sealed.expires_at.saturating_sub(sealed.sent_at),
            expires_at: sealed.expires_at,
            receipt_digest: sealed.receipt_digest,
            token_hmac: token.and_then(|t| self.token_hmac(t)),
            actor: self.actor.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pushseal::{BareEnvelope, DeviceSecretKey, SenderSecretKey};

    fn sealed(n: u8) -> Sealed<String> {
        let sender = Sender::new(SenderSecretKey::from_bytes([1; 32]));
        let device = DeviceSecretKey::from_bytes([2; 32]).public_key();
        let eph = pushseal::hpke::Ephemeral::derive(&[n; 32]).unwrap();
        let msg = Message::new("t", "b");
        sender
            .seal_with(&device, &msg, &BareEnvelope, MessageId::from_bytes([n; 16]), 1000 + u64::from(n), &eph)
            .unwrap()
    }

    #[test]
    fn lines_have_the_documented_shape_and_parse_back() {
        let log = AuditLog::open(tempfile::tempdir().unwrap().keep().join("a.jsonl")).unwrap();
        let log = log.with_token_key(TokenKey::from_bytes(&[9; 32]).unwrap());
        let first = log.record_sealed(&BareEnvelope, &sealed(1), Some("device-token")).unwrap();
        let second = log.record_sealed(&BareEnvelope, &sealed(2), None).unwrap();
        let text = std::fs::read_to_string(log.path().unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let s = sealed(1);
        let expected_prefix = format!(
            "{{\"seq\":0,\"prev\":\"{}\",\"type\":\"sealed\",\"time\":1001,\"message_id\":\"{}\",\"sender\":\"{}\",\
             \"recipient\":\"{}\",\"platform\":\"envelope\",\"envelope_sha256\":\"{}\",\"envelope_len\":{},\
             \"payload_len\":{},\"ttl\":86400,\"expires_at\":87401,\"receipt_digest\":\"{}\",\"token_hmac\":\"{}\"",
            "0".repeat(64),
            s.message_id,
            s.sender,
            s.recipient,
            Hash256::sha256(&s.envelope),
            s.envelope.len(),
            s.payload.len(),
            s.receipt_digest,
            record::hmac_sha256(&[9; 32], b"device-token"),
        );
        assert_eq!(
            lines[0],
            format!("{expected_prefix},\"hash\":\"{}\"}}", Hash256::sha256(expected_prefix.as_bytes()))
        );
        assert_eq!(first.hash, Hash256::sha256(expected_prefix.as_bytes()));
        assert_eq!((second.seq, second.prev), (1, first.hash));
        assert_eq!(AuditRecord::parse_line(lines[1].as_bytes()).unwrap(), second);
        assert_eq!(second.to_line(), format!("{}\n", lines[1]).into_bytes());
        assert!(!lines[1].contains("token_hmac"));
        let report = log.verify(None).unwrap();
        assert!(report.is_intact());
        assert_eq!((report.records, report.sealed, report.head), (2, 2, Some(second.anchor())));
    }

    #[test]
    fn an_actor_is_the_last_member_of_the_records_it_writes() {
        let log = AuditLog::open(tempfile::tempdir().unwrap().keep().join("a.jsonl")).unwrap();
        let plain = log.record_sealed(&BareEnvelope, &sealed(1), None).unwrap();
        let service = log.with_actor(Actor::new("svc-lab-results").unwrap());
        let by_service = service.record_sealed(&BareEnvelope, &sealed(2), None).unwrap();
        assert_eq!(log.actor(), None);
        let text = std::fs::read_to_string(log.path().unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(!lines[0].contains("actor"));
        assert!(lines[1].contains(",\"actor\":\"svc-lab-results\",\"hash\":"), "{}", lines[1]);
        assert_eq!(AuditRecord::parse_line(lines[1].as_bytes()).unwrap(), by_service);
        match (&plain.event, &by_service.event) {
            (AuditEvent::Sealed(a), AuditEvent::Sealed(b)) => {
                assert_eq!((a.actor.as_ref(), b.actor.as_ref().map(Actor::as_str)), (None, Some("svc-lab-results")));
            }
            _ => panic!("not sealed records"),
        }
        // A line whose actor breaks the rules is malformed.
        let (_, line) = AuditRecord::encode(2, by_service.hash, by_service.event.clone());
        let long = String::from_utf8(line).unwrap().replace("svc-lab-results", &"x".repeat(129));
        assert_eq!(AuditRecord::parse_line(long.trim_end().as_bytes()), Err(BreakKind::Malformed));
    }

    #[test]
    fn outcome_records_append_and_other_events_are_refused() {
        let log = AuditLog::open(tempfile::tempdir().unwrap().keep().join("a.jsonl")).unwrap();
        let s = sealed(1);
        log.record_sealed(&BareEnvelope, &s, None).unwrap();
        let outcome = OutcomeEvent {
            time: 2000,
            message_id: s.message_id,
            recipient: s.recipient,
            gateway_id: None,
            reason: Some("Unregistered".into()),
            since: Some(1500),
            attempts: None,
            token_hmac: None,
        };
        let recovered =
            AuditEvent::Recovered(RecoveredEvent { time: 1, discarded_bytes: 1, discarded_sha256: Hash256::ZERO });
        let refused = log.record_outcomes(vec![AuditEvent::TokenGone(outcome.clone()), recovered]).unwrap_err();
        assert_eq!(refused.kind(), pushseal::ErrorKind::Storage);
        let records = log.record_outcomes(vec![AuditEvent::TokenGone(outcome)]).unwrap();
        assert_eq!(records[0].seq, 1);
        let text = std::fs::read_to_string(log.path().unwrap()).unwrap();
        let line = text.lines().nth(1).unwrap();
        let prefix = format!(
            "{{\"seq\":1,\"prev\":\"{}\",\"type\":\"token_gone\",\"time\":2000,\"message_id\":\"{}\",\
             \"recipient\":\"{}\",\"reason\":\"Unregistered\",\"since\":1500,\"hash\":",
            text.lines().next().map(|l| AuditRecord::parse_line(l.as_bytes()).unwrap().hash).unwrap(),
            s.message_id,
            s.recipient,
        );
        assert!(line.starts_with(&prefix), "{line}");
        assert!(log.verify(None).unwrap().is_intact());
    }

    #[test]
    fn a_last_seq_that_cannot_grow_stops_appends() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path().join("a.jsonl")).unwrap();
        let event =
            AuditEvent::Recovered(RecoveredEvent { time: 1, discarded_bytes: 1, discarded_sha256: Hash256::ZERO });
        let (_, line) = AuditRecord::encode(u64::MAX, Hash256::ZERO, event);
        std::fs::write(log.path().unwrap(), &line).unwrap();
        assert_eq!(
            log.record_sealed(&BareEnvelope, &sealed(1), None).unwrap_err().kind(),
            pushseal::ErrorKind::Storage
        );
        assert_eq!(std::fs::read(log.path().unwrap()).unwrap(), line);
    }
}
