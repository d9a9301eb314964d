//! The sender's audit trail: an append-only, tamper-evident log of every
//! sealed notification and every confirmed delivery, with nothing sensitive in it.
//!
//! Each sealing can append a `sealed` record: when, the message id, the sender
//! and recipient key ids, the platform, the SHA-256 of the envelope (the
//! encrypted content), sizes, TTL, expiry, the digest of the delivery receipt
//! the device will be able to compute (see [`crate::receipt`]) and, if the
//! operator wants to correlate, a keyed hash of the push token. A record never
//! holds the plaintext, the title, the body, data values or the push token in
//! clear: its types have no field that could carry them.
//!
//! When a device sends back a receipt, [`AuditLog::record_delivery`] checks it
//! against the `sealed` record and appends a `delivered` record.
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
//! # Writing
//!
//! An append takes an exclusive lock on `<path>.lock` (so concurrent writers,
//! threads or processes, form one chain), reads the last line to get its
//! `seq` and `hash`, writes the new line, `\n` included, with one write to the
//! file opened in append mode, and calls `sync_data` before returning. A crash
//! during the write leaves at most one *torn* last line, without its `\n`: the
//! verifier reports it and every earlier record stays valid. A record whose
//! append did not return successfully is the only thing that can be torn, and
//! [`AuditLog::seal`] hands out a notification only once its record is
//! written, so a torn line describes a notification that was never sent
//! (callers of [`AuditLog::record_sealed`] keep the same order). The next append cuts
//! the torn bytes off and first appends a `recovered` record with their length
//! and SHA-256, so the repair itself is on the record. The verifier holds a
//! shared lock on `<path>.lock` while it reads.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::encoding::hex_text_form;
use crate::error::{Error, Result};
use crate::keys::{DevicePublicKey, KeyId};
use crate::notification::{Message, MessageId, unix_now};
use crate::platform::Target;
pub use crate::receipt::{Receipt, ReceiptDigest, verify_receipt};
use crate::sender::{Sealed, SealedNotification, Sender};

/// The length of the operator's key for hashing push tokens, in bytes.
pub const TOKEN_KEY_LEN: usize = 32;
/// The longest line a log may have, in bytes; records are far shorter.
pub const MAX_LINE_LEN: usize = 4096;

/// What follows a record's hashed prefix: `,"hash":"`, 64 hex digits, `"}`.
const HASH_MEMBER: &[u8] = b",\"hash\":\"";
const LINE_END: &[u8] = b"\"}";
const HASH_SUFFIX_LEN: usize = HASH_MEMBER.len() + 64 + LINE_END.len();
/// How far back an append looks at a time for the end of the last line.
const TAIL_CHUNK: u64 = 8192;

/// A 32-byte hash (SHA-256 or HMAC-SHA256) as it appears in a log: 64
/// lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash256([u8; 32]);

impl Hash256 {
    /// The `prev` of the first record: 32 zero bytes.
    pub const ZERO: Self = Self([0; 32]);

    /// The SHA-256 of `bytes`.
    pub fn sha256(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// A hash from its 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes of the hash.
    pub const fn to_bytes(&self) -> [u8; 32] {
        self.0
    }
}

hex_text_form!(Hash256, 32, "a hash: 64 lowercase hex digits");

/// Serde as text for the fields of a record (owned strings, so that any JSON
/// reader works).
mod text {
    use core::fmt::Display;
    use core::str::FromStr;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<T: Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub fn deserialize<'de, T: FromStr, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(|_| serde::de::Error::custom("a field of an audit record is not in its text form"))
    }

    /// The same for an optional field.
    pub mod option {
        use super::*;

        pub fn serialize<T: Display, S: Serializer>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => s.collect_str(v),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, T: FromStr, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
            match Option::<String>::deserialize(d)? {
                Some(text) => text.parse().map(Some).map_err(|_| serde::de::Error::custom("a hash is 64 hex digits")),
                None => Ok(None),
            }
        }
    }
}

/// The platform a notification was sealed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditPlatform {
    /// A bare envelope, for a transport of the sender's own: `"envelope"`.
    Envelope,
    /// An APNs request: `"apns"`.
    Apns,
    /// An FCM message: `"fcm"`.
    Fcm,
}

impl AuditPlatform {
    /// The name in the log: `"envelope"`, `"apns"` or `"fcm"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Envelope => "envelope",
            Self::Apns => "apns",
            Self::Fcm => "fcm",
        }
    }
}

/// A `sealed` record's fields: one notification sealed to one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedEvent {
    /// When it was sealed (its `sent_at`), unix seconds.
    pub time: u64,
    /// The message id (32 hex digits).
    #[serde(with = "text")]
    pub message_id: MessageId,
    /// The sender key's id (16 hex digits).
    #[serde(with = "text")]
    pub sender: KeyId,
    /// The recipient device key's id (16 hex digits).
    #[serde(with = "text")]
    pub recipient: KeyId,
    /// The platform it was sealed for.
    pub platform: AuditPlatform,
    /// SHA-256 of the envelope bytes: identifies the encrypted content.
    #[serde(with = "text")]
    pub envelope_sha256: Hash256,
    /// The envelope's length in bytes.
    pub envelope_len: u64,
    /// The platform payload's length in bytes (APNs body, FCM message object
    /// or envelope text).
    pub payload_len: u64,
    /// Seconds from `time` to `expires_at`.
    pub ttl: u64,
    /// When it expires, unix seconds.
    pub expires_at: u64,
    /// The digest of the device's delivery receipt (see [`crate::receipt`]).
    #[serde(with = "text")]
    pub receipt_digest: ReceiptDigest,
    /// `HMAC-SHA256(token key, push token)`, if the operator gave both.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "text::option")]
    pub token_hmac: Option<Hash256>,
}

/// A `delivered` record's fields: a device proved that it opened a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveredEvent {
    /// When the receipt was checked and recorded, unix seconds.
    pub time: u64,
    /// The message id.
    #[serde(with = "text")]
    pub message_id: MessageId,
    /// The device key that opened it: the recipient of the matching `sealed` record.
    #[serde(with = "text")]
    pub recipient: KeyId,
    /// The receipt the device sent, which matched the `sealed` record's
    /// `receipt_digest` (anyone can check it again). Once delivered, a
    /// receipt proves nothing new, so keeping it gives nothing away.
    pub receipt: Receipt,
}

/// A `recovered` record's fields: the torn end of an interrupted append was
/// cut off before this record was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveredEvent {
    /// When the torn bytes were cut off, unix seconds.
    pub time: u64,
    /// How many bytes were cut off.
    pub discarded_bytes: u64,
    /// Their SHA-256.
    #[serde(with = "text")]
    pub discarded_sha256: Hash256,
}

/// What a record says happened; its `"type"` in the log is the variant's name
/// in snake_case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AuditEvent {
    /// `"sealed"`: a notification was sealed.
    Sealed(SealedEvent),
    /// `"delivered"`: a device's receipt for it was checked.
    Delivered(DeliveredEvent),
    /// `"recovered"`: a torn append was cut off.
    Recovered(RecoveredEvent),
}

/// One record of a log: its place in the chain and its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// The record's number: 0 for the first, then one more each record.
    pub seq: u64,
    /// The previous record's `hash` ([`Hash256::ZERO`] for the first).
    pub prev: Hash256,
    /// What happened.
    pub event: AuditEvent,
    /// SHA-256 of the line's bytes before `,"hash":"`.
    pub hash: Hash256,
}

/// A line as read, before its hash and place are checked.
#[derive(Deserialize)]
struct StoredLine {
    seq: u64,
    #[serde(with = "text")]
    prev: Hash256,
    #[serde(with = "text")]
    hash: Hash256,
    #[serde(flatten)]
    event: AuditEvent,
}

impl AuditRecord {
    /// The record after `(seq, prev)` for `event`, and its line (with its `\n`).
    fn encode(seq: u64, prev: Hash256, event: AuditEvent) -> Result<(Self, Vec<u8>)> {
        let event_json = serde_json::to_vec(&event).map_err(|_| audit_error("a record cannot be encoded"))?;
        let members = event_json
            .strip_prefix(b"{")
            .and_then(|m| m.strip_suffix(b"}"))
            .ok_or(audit_error("a record did not encode as a JSON object"))?;
        let mut line = Vec::with_capacity(64 + members.len() + HASH_SUFFIX_LEN + 1);
        line.extend_from_slice(format!("{{\"seq\":{seq},\"prev\":\"{prev}\",").as_bytes());
        line.extend_from_slice(members);
        let hash = Hash256::sha256(&line);
        line.extend_from_slice(HASH_MEMBER);
        line.extend_from_slice(hash.to_string().as_bytes());
        line.extend_from_slice(LINE_END);
        line.push(b'\n');
        Ok((Self { seq, prev, event, hash }, line))
    }

    /// Parses one line (without its `\n`) and checks its own hash; not its
    /// place in the chain.
    pub fn parse_line(line: &[u8]) -> core::result::Result<Self, BreakKind> {
        if line.len() > MAX_LINE_LEN {
            return Err(BreakKind::Malformed);
        }
        let split = line.len().checked_sub(HASH_SUFFIX_LEN).ok_or(BreakKind::Malformed)?;
        let (prefix, suffix) = line.split_at(split);
        let hex = suffix
            .strip_prefix(HASH_MEMBER)
            .and_then(|s| s.strip_suffix(LINE_END))
            .and_then(|h| std::str::from_utf8(h).ok())
            .ok_or(BreakKind::Malformed)?;
        let written: Hash256 = hex.parse().map_err(|_| BreakKind::Malformed)?;
        let stored: StoredLine = serde_json::from_slice(line).map_err(|_| BreakKind::Malformed)?;
        if stored.hash != written || !prefix.starts_with(b"{\"seq\":") {
            return Err(BreakKind::Malformed);
        }
        if Hash256::sha256(prefix) != written {
            return Err(BreakKind::HashMismatch);
        }
        Ok(Self { seq: stored.seq, prev: stored.prev, event: stored.event, hash: written })
    }

    /// The line of this record, `\n` included, exactly as it is written.
    pub fn to_line(&self) -> Result<Vec<u8>> {
        Self::encode(self.seq, self.prev, self.event.clone()).map(|(_, line)| line)
    }

    /// This record's place in the chain, as an [`Anchor`].
    pub fn anchor(&self) -> Anchor {
        Anchor { seq: self.seq, hash: self.hash }
    }
}

/// A record's `seq` and `hash`, kept outside the log to detect the removal of
/// records from its end (or the replacement of the whole log). Text form:
/// `<seq>:<hash>`, for example `41:9f86…0f00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Anchor {
    /// The record's number.
    pub seq: u64,
    /// The record's hash.
    pub hash: Hash256,
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl FromStr for Anchor {
    type Err = Error;

    /// Parses `<seq>:<64 hex digits>`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = Error::InvalidEncoding("an anchor is <seq>:<64 lowercase hex digits>");
        let (seq, hash) = s.trim().split_once(':').ok_or(bad.clone())?;
        let seq = if seq.bytes().all(|b| b.is_ascii_digit()) { seq.parse().ok() } else { None };
        Ok(Self { seq: seq.ok_or(bad)?, hash: hash.parse()? })
    }
}

/// Why a line breaks the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BreakKind {
    /// The line is not an audit record: not JSON, an unknown type or field, a
    /// field in the wrong form, a misplaced `hash`, or longer than [`MAX_LINE_LEN`].
    Malformed,
    /// The record's `hash` does not match its contents: this record was changed.
    HashMismatch,
    /// The record's `seq` is not the one after the previous record's: records
    /// were removed, repeated or reordered here.
    SeqMismatch,
    /// The record's `prev` is not the previous record's `hash`: the previous
    /// record was changed (and its hash recomputed), or records were removed.
    PrevMismatch,
    /// A `delivered` record names a message and device that no earlier
    /// `sealed` record has, or its receipt does not match that record's digest.
    UnmatchedDelivery,
    /// The record at the anchor's `seq` has another hash: the log was rewritten.
    AnchorMismatch,
    /// The log ends before the anchor's `seq`: records were removed from its end.
    AnchorMissing,
}

impl BreakKind {
    /// A stable snake_case name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::HashMismatch => "hash_mismatch",
            Self::SeqMismatch => "seq_mismatch",
            Self::PrevMismatch => "prev_mismatch",
            Self::UnmatchedDelivery => "unmatched_delivery",
            Self::AnchorMismatch => "anchor_mismatch",
            Self::AnchorMissing => "anchor_missing",
        }
    }

    /// One line for a person.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Malformed => "not a valid audit record",
            Self::HashMismatch => "the record's hash does not match its contents (the record was changed)",
            Self::SeqMismatch => "unexpected seq (records were removed, repeated or reordered)",
            Self::PrevMismatch => {
                "prev is not the previous record's hash (the previous record was changed, or records were removed)"
            }
            Self::UnmatchedDelivery => "a delivery that matches no earlier sealed record and receipt digest",
            Self::AnchorMismatch => "the record at the anchor's seq has another hash (the log was rewritten)",
            Self::AnchorMissing => "the log ends before the anchor's seq (records were removed from the end)",
        }
    }
}

impl fmt::Display for BreakKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// The first place where a log fails verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// The line, counting from 1 (one past the last line for [`BreakKind::AnchorMissing`]).
    pub line: u64,
    /// The byte offset where that line starts.
    pub offset: u64,
    /// Why.
    pub kind: BreakKind,
    /// The `seq` the line should have had.
    pub expected_seq: u64,
}

impl fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} (byte {}, expected seq {}): {}", self.line, self.offset, self.expected_seq, self.kind)
    }
}

/// A last line without its `\n`: an append that did not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornTail {
    /// The line, counting from 1.
    pub line: u64,
    /// The byte offset where it starts.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u64,
}

/// The result of checking a log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Valid records, before the first broken link if there is one.
    pub records: u64,
    /// Complete lines in the file (valid or not), not counting a torn tail.
    pub lines: u64,
    /// `sealed` records among the valid ones.
    pub sealed: u64,
    /// Distinct (message, device) pairs with a valid `delivered` record.
    pub delivered: u64,
    /// `recovered` records among the valid ones.
    pub recovered: u64,
    /// The distinct sender key ids of the valid `sealed` records, sorted.
    pub senders: Vec<KeyId>,
    /// The distinct recipient key ids of the valid `sealed` records, sorted.
    pub recipients: Vec<KeyId>,
    /// The last valid record's anchor: keep it elsewhere to check this log later.
    pub head: Option<Anchor>,
    /// The first broken link, if any.
    pub first_break: Option<BrokenLink>,
    /// A torn last line, if any. It is not a broken link: earlier records stay valid.
    pub torn_tail: Option<TornTail>,
}

impl VerifyReport {
    /// Whether every complete line is a valid record in an unbroken chain
    /// (a torn tail aside).
    pub fn is_intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// Checks lines one by one: the chain, and each delivery against its `sealed` record.
#[derive(Default)]
struct Verifier {
    report: VerifyReport,
    prev: Option<Hash256>,
    senders: BTreeSet<KeyId>,
    recipients: BTreeSet<KeyId>,
    digests: HashMap<(MessageId, KeyId), Vec<ReceiptDigest>>,
    delivered: HashSet<(MessageId, KeyId)>,
    anchor: Option<Anchor>,
    anchor_seen: bool,
}

impl Verifier {
    fn new(anchor: Option<Anchor>) -> Self {
        Self { anchor, ..Self::default() }
    }

    /// Takes one complete line (without its `\n`) that starts at `offset`.
    fn line(&mut self, line: &[u8], offset: u64) {
        self.report.lines += 1;
        if self.report.first_break.is_some() {
            return;
        }
        let expected_seq = self.report.records;
        let broken = |kind| Some(BrokenLink { line: self.report.lines, offset, kind, expected_seq });
        let record = match AuditRecord::parse_line(line) {
            Ok(r) => r,
            Err(kind) => {
                self.report.first_break = broken(kind);
                return;
            }
        };
        let kind = if record.seq != expected_seq {
            Some(BreakKind::SeqMismatch)
        } else if record.prev != self.prev.unwrap_or(Hash256::ZERO) {
            Some(BreakKind::PrevMismatch)
        } else if self.anchor.is_some_and(|a| a.seq == record.seq && a.hash != record.hash) {
            Some(BreakKind::AnchorMismatch)
        } else if !self.consistent(&record.event) {
            Some(BreakKind::UnmatchedDelivery)
        } else {
            None
        };
        if let Some(kind) = kind {
            self.report.first_break = broken(kind);
            return;
        }
        self.anchor_seen |= self.anchor.is_some_and(|a| a.seq == record.seq);
        self.accept(&record);
    }

    /// Whether a delivery matches an earlier `sealed` record.
    fn consistent(&self, event: &AuditEvent) -> bool {
        match event {
            AuditEvent::Delivered(d) => self
                .digests
                .get(&(d.message_id, d.recipient))
                .is_some_and(|digests| digests.iter().any(|digest| digest.verify(&d.receipt))),
            AuditEvent::Sealed(_) | AuditEvent::Recovered(_) => true,
        }
    }

    fn accept(&mut self, record: &AuditRecord) {
        let report = &mut self.report;
        report.records += 1;
        report.head = Some(record.anchor());
        self.prev = Some(record.hash);
        match &record.event {
            AuditEvent::Sealed(s) => {
                report.sealed += 1;
                self.senders.insert(s.sender);
                self.recipients.insert(s.recipient);
                self.digests.entry((s.message_id, s.recipient)).or_default().push(s.receipt_digest);
            }
            AuditEvent::Delivered(d) => {
                if self.delivered.insert((d.message_id, d.recipient)) {
                    report.delivered += 1;
                }
            }
            AuditEvent::Recovered(_) => report.recovered += 1,
        }
    }

    /// Ends the log; `torn` is a last line without its `\n`.
    fn finish(mut self, torn: Option<(u64, u64)>, end: u64) -> VerifyReport {
        let lines = self.report.lines;
        if let Some((offset, len)) = torn {
            self.report.torn_tail = Some(TornTail { line: lines + 1, offset, len });
        }
        if self.anchor.is_some() && self.report.first_break.is_none() && !self.anchor_seen {
            let offset = torn.map_or(end, |(o, _)| o);
            let (kind, expected_seq) = (BreakKind::AnchorMissing, self.report.records);
            self.report.first_break = Some(BrokenLink { line: lines + 1, offset, kind, expected_seq });
        }
        self.report.senders = self.senders.into_iter().collect();
        self.report.recipients = self.recipients.into_iter().collect();
        self.report
    }
}

/// Checks a log held in memory (see [`verify_log`]).
pub fn verify_bytes(bytes: &[u8], anchor: Option<Anchor>) -> VerifyReport {
    let mut verifier = Verifier::new(anchor);
    let mut offset = 0u64;
    let mut rest = bytes;
    while let Some(end) = rest.iter().position(|&b| b == b'\n') {
        let (line, tail) = rest.split_at(end);
        verifier.line(line, offset);
        offset += end as u64 + 1;
        rest = tail.get(1..).unwrap_or_default();
    }
    let torn = (!rest.is_empty()).then_some((offset, rest.len() as u64));
    verifier.finish(torn, offset)
}

/// Checks the log at `path`: every record's hash, `seq` and `prev`, each
/// delivery against its `sealed` record and, if given, the `anchor` kept
/// from an earlier check. Reads under a shared lock on `<path>.lock` if that
/// file exists or can be created (a read-only copy is read without it); a
/// missing log is an empty one. The report counts records, senders,
/// recipients and deliveries, and names the first broken link and a torn
/// last line, if any.
pub fn verify_log(path: impl AsRef<Path>, anchor: Option<Anchor>) -> Result<VerifyReport> {
    AuditLog::at(path.as_ref()).verify(anchor)
}

/// An audit log file: see the [module docs](self) for its format. A handle
/// holds only its path (and the optional token key): every call works on the
/// file under its lock.
#[derive(Clone)]
pub struct AuditLog {
    path: PathBuf,
    lock_path: PathBuf,
    token_key: Option<Zeroizing<[u8; TOKEN_KEY_LEN]>>,
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .field("token_key", &self.token_key.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// The last complete line of a log, found before an append.
struct Tail {
    /// The file's length.
    len: u64,
    /// Where the complete lines end (after the last `\n`).
    complete_end: u64,
    /// The last complete record's `seq` and `hash`, if there is one.
    last: Option<Anchor>,
}

impl AuditLog {
    /// A log in the file at `path`. The file need not exist (it is created by
    /// the first record); this creates the lock file `<path>.lock` if needed
    /// and fails with [`Error::Storage`] if it cannot.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let log = Self::at(path.as_ref());
        log.open_lock_file()?;
        Ok(log)
    }

    /// A handle on `path`, touching nothing.
    fn at(path: &Path) -> Self {
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        Self { path: path.to_path_buf(), lock_path: lock_path.into(), token_key: None }
    }

    /// The same log, recording push tokens as `HMAC-SHA256(key, token)`.
    /// Use 32 random bytes kept apart from the log: whoever has the key can
    /// tell which records belong to a token they know; without it, the token
    /// hashes reveal nothing.
    pub fn with_token_key(mut self, key: &[u8]) -> Result<Self> {
        let key: [u8; TOKEN_KEY_LEN] =
            key.try_into().map_err(|_| Error::InvalidKeyLength { expected: TOKEN_KEY_LEN, found: key.len() })?;
        self.token_key = Some(Zeroizing::new(key));
        Ok(self)
    }

    /// The log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `HMAC-SHA256(token key, token)`: what a `sealed` record holds for
    /// `token`. Fails with [`Error::InvalidNotification`] if the log has no
    /// token key (a token is never recorded in clear).
    pub fn token_hmac(&self, token: &str) -> Result<Hash256> {
        let key = self
            .token_key
            .as_ref()
            .ok_or(Error::InvalidNotification("a push token is recorded only as a keyed hash: set a token key"))?;
        Ok(hmac_sha256(key.as_ref(), token.as_bytes()))
    }

    /// Appends the `sealed` record of `sealed`, with the keyed hash of the
    /// device's push `token` if given (which needs a token key). Call it before
    /// sending the notification, or use [`AuditLog::seal`].
    pub fn record_sealed(&self, sealed: &SealedNotification, token: Option<&str>) -> Result<AuditRecord> {
        let event = AuditEvent::Sealed(self.sealed_event(sealed, token)?);
        self.with_lock(true, || {
            let mut file = self.open_for_append()?;
            let tail = self.tail(&mut file)?;
            self.append(&mut file, &tail, event)
        })
    }

    /// Seals `msg` to `to` for `target` with `sender` and appends its
    /// `sealed` record; returns the notification only once the record is on
    /// disk, so that every notification sent has a record.
    pub fn seal(
        &self,
        sender: &Sender,
        to: &DevicePublicKey,
        msg: &Message,
        target: &Target,
        token: Option<&str>,
    ) -> Result<SealedNotification> {
        let sealed = sender.seal(to, msg, target)?;
        self.record_sealed(&sealed, token)?;
        Ok(sealed)
    }

    /// Checks a receipt that a device sent back for `message_id` against the
    /// log's `sealed` records for that message and, if it matches one, appends
    /// a `delivered` record (time `now`) for that record's device and returns
    /// it. Recording the same delivery again returns the first record and
    /// appends nothing. Fails with [`Error::InvalidReceipt`] if no `sealed`
    /// record has this message id or the receipt matches none of them.
    /// Reads the whole log.
    pub fn record_delivery(&self, message_id: MessageId, receipt: &Receipt, now: u64) -> Result<AuditRecord> {
        self.with_lock(true, || {
            let mut file = self.open_for_append()?;
            let mut sealed_for_id = false;
            let mut matched = None;
            let mut delivered = Vec::new();
            let mut last_line = Vec::new();
            let (complete_end, len) = self.scan(&mut file, |line, _| {
                last_line.clear();
                last_line.extend_from_slice(line);
                let Ok(record) = AuditRecord::parse_line(line) else { return };
                match &record.event {
                    AuditEvent::Sealed(s) if s.message_id == message_id => {
                        sealed_for_id = true;
                        if matched.is_none() && s.receipt_digest.verify(receipt) {
                            matched = Some(s.recipient);
                        }
                    }
                    AuditEvent::Delivered(d) if d.message_id == message_id => delivered.push((d.recipient, record)),
                    _ => {}
                }
            })?;
            if !sealed_for_id {
                return Err(Error::InvalidReceipt("no sealed record in the audit log has this message id"));
            }
            let recipient = matched.ok_or(Error::InvalidReceipt("the receipt does not match the sealed record"))?;
            if let Some((_, record)) = delivered.into_iter().find(|(r, _)| *r == recipient) {
                return Ok(record);
            }
            let tail = self.tail_from(&last_line, complete_end, len)?;
            let event = DeliveredEvent { time: now, message_id, recipient, receipt: receipt.clone() };
            self.append(&mut file, &tail, AuditEvent::Delivered(event))
        })
    }

    /// Checks the log (see [`verify_log`]).
    pub fn verify(&self, anchor: Option<Anchor>) -> Result<VerifyReport> {
        let check = || {
            let mut file = match File::open(&self.path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(verify_bytes(b"", anchor)),
                Err(e) => return Err(storage("open", &self.path, e)),
            };
            let mut verifier = Verifier::new(anchor);
            let (complete_end, len) = self.scan(&mut file, |line, offset| verifier.line(line, offset))?;
            let torn = (len > complete_end).then_some((complete_end, len - complete_end));
            Ok(verifier.finish(torn, complete_end))
        };
        match self.open_lock_file() {
            Ok(_) => self.with_lock(false, check),
            // A copy in a read-only place: no writer to wait for.
            Err(_) => check(),
        }
    }

    /// The `sealed` event of a notification.
    fn sealed_event(&self, sealed: &SealedNotification, token: Option<&str>) -> Result<SealedEvent> {
        let payload_len = match &sealed.payload {
            Sealed::Envelope(text) => text.len(),
            Sealed::Apns(request) => request.body.len(),
            Sealed::Fcm(message) => message.json.len(),
        };
        let platform = match &sealed.payload {
            Sealed::Envelope(_) => AuditPlatform::Envelope,
            Sealed::Apns(_) => AuditPlatform::Apns,
            Sealed::Fcm(_) => AuditPlatform::Fcm,
        };
        Ok(SealedEvent {
            time: sealed.sent_at,
            message_id: sealed.message_id,
            sender: sealed.sender,
            recipient: sealed.recipient,
            platform,
            envelope_sha256: Hash256::sha256(&sealed.envelope),
            envelope_len: sealed.envelope.len() as u64,
            payload_len: payload_len as u64,
            ttl: sealed.expires_at.saturating_sub(sealed.sent_at),
            expires_at: sealed.expires_at,
            receipt_digest: sealed.receipt_digest,
            token_hmac: token.map(|t| self.token_hmac(t)).transpose()?,
        })
    }

    fn open_lock_file(&self) -> Result<File> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        options.open(&self.lock_path).map_err(|e| storage("open", &self.lock_path, e))
    }

    /// Runs `f` holding the lock on `<path>.lock`, exclusive or shared. The
    /// lock file is opened afresh each time, so that two threads sharing one
    /// handle exclude each other too.
    fn with_lock<T>(&self, exclusive: bool, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let lock = self.open_lock_file()?;
        if exclusive { lock.lock() } else { lock.lock_shared() }.map_err(|e| storage("lock", &self.lock_path, e))?;
        let result = f();
        let _ = lock.unlock();
        result
    }

    fn open_for_append(&self) -> Result<File> {
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        options.open(&self.path).map_err(|e| storage("open", &self.path, e))
    }

    /// Reads the file from the start, handing each complete line (without
    /// its `\n`) and its offset to `each`; returns where the complete lines
    /// end and the file's length. A line longer than [`MAX_LINE_LEN`] is
    /// handed over cut to one byte more than that (so it fails to parse):
    /// memory stays bounded whatever the file holds.
    fn scan(&self, file: &mut File, mut each: impl FnMut(&[u8], u64)) -> Result<(u64, u64)> {
        file.seek(SeekFrom::Start(0)).map_err(|e| storage("read", &self.path, e))?;
        let mut reader = BufReader::with_capacity(64 * 1024, file);
        let mut line = Vec::with_capacity(1024);
        let (mut complete_end, mut len) = (0u64, 0u64);
        loop {
            let buf = reader.fill_buf().map_err(|e| storage("read", &self.path, e))?;
            if buf.is_empty() {
                return Ok((complete_end, len));
            }
            let newline = buf.iter().position(|&b| b == b'\n');
            let chunk = newline.and_then(|i| buf.get(..i)).unwrap_or(buf);
            let room = (MAX_LINE_LEN + 1).saturating_sub(line.len());
            line.extend_from_slice(chunk.get(..room).unwrap_or(chunk));
            let consumed = chunk.len() + usize::from(newline.is_some());
            reader.consume(consumed);
            len += consumed as u64;
            if newline.is_some() {
                each(&line, complete_end);
                line.clear();
                complete_end = len;
            }
        }
    }

    /// Finds the last complete line by reading backwards from the end.
    fn tail(&self, file: &mut File) -> Result<Tail> {
        let len = file.metadata().map_err(|e| storage("read", &self.path, e))?.len();
        let complete_end = match self.last_newline(file, len, len)? {
            Some(at) => at + 1,
            None => 0,
        };
        if complete_end == 0 {
            return Ok(Tail { len, complete_end, last: None });
        }
        let body_end = complete_end - 1;
        let start = match self.last_newline(file, body_end, MAX_LINE_LEN as u64 + 1)? {
            Some(at) => at + 1,
            None if body_end <= MAX_LINE_LEN as u64 => 0,
            None => return Err(damaged(&self.path)),
        };
        let mut line = vec![0u8; usize::try_from(body_end - start).map_err(|_| damaged(&self.path))?];
        file.seek(SeekFrom::Start(start)).map_err(|e| storage("read", &self.path, e))?;
        file.read_exact(&mut line).map_err(|e| storage("read", &self.path, e))?;
        self.tail_from(&line, complete_end, len)
    }

    /// The tail whose last complete line is `line`.
    fn tail_from(&self, line: &[u8], complete_end: u64, len: u64) -> Result<Tail> {
        if complete_end == 0 {
            return Ok(Tail { len, complete_end, last: None });
        }
        let record = AuditRecord::parse_line(line).map_err(|_| damaged(&self.path))?;
        Ok(Tail { len, complete_end, last: Some(record.anchor()) })
    }

    /// The offset of the last `\n` in `file[..end]`, looking back at most `limit` bytes.
    fn last_newline(&self, file: &mut File, end: u64, limit: u64) -> Result<Option<u64>> {
        let stop = end.saturating_sub(limit);
        let mut chunk_end = end;
        let mut buf = vec![0u8; TAIL_CHUNK as usize];
        while chunk_end > stop {
            let start = chunk_end.saturating_sub(TAIL_CHUNK).max(stop);
            let part = buf.get_mut(..(chunk_end - start) as usize).ok_or(damaged(&self.path))?;
            file.seek(SeekFrom::Start(start)).map_err(|e| storage("read", &self.path, e))?;
            file.read_exact(part).map_err(|e| storage("read", &self.path, e))?;
            if let Some(i) = part.iter().rposition(|&b| b == b'\n') {
                return Ok(Some(start + i as u64));
            }
            chunk_end = start;
        }
        Ok(None)
    }

    /// Appends `event` after `tail`, first cutting off a torn last line and
    /// recording that; one write, then `sync_data`.
    fn append(&self, file: &mut File, tail: &Tail, event: AuditEvent) -> Result<AuditRecord> {
        let after = |a: Anchor| a.seq.checked_add(1).map(|seq| (seq, a.hash)).ok_or(damaged(&self.path));
        let mut next = tail.last.map_or(Ok((0, Hash256::ZERO)), after)?;
        let mut out = Vec::with_capacity(1024);
        if tail.len > tail.complete_end {
            let discarded_sha256 = self.hash_range(file, tail.complete_end, tail.len)?;
            let discarded_bytes = tail.len - tail.complete_end;
            let recovered = RecoveredEvent { time: unix_now(), discarded_bytes, discarded_sha256 };
            let (record, line) = AuditRecord::encode(next.0, next.1, AuditEvent::Recovered(recovered))?;
            out.extend_from_slice(&line);
            next = after(record.anchor())?;
            file.set_len(tail.complete_end).map_err(|e| storage("cut the torn end of", &self.path, e))?;
        }
        let (record, line) = AuditRecord::encode(next.0, next.1, event)?;
        out.extend_from_slice(&line);
        file.write_all(&out).map_err(|e| storage("append to", &self.path, e))?;
        file.sync_data().map_err(|e| storage("sync", &self.path, e))?;
        if tail.len == 0 {
            // A new file: make its directory entry durable too (best effort).
            #[cfg(unix)]
            if let Some(dir) = self.path.parent() {
                let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
                let _ = File::open(dir).and_then(|d| d.sync_all());
            }
        }
        Ok(record)
    }

    /// The SHA-256 of `file[start..end]`.
    fn hash_range(&self, file: &mut File, start: u64, end: u64) -> Result<Hash256> {
        file.seek(SeekFrom::Start(start)).map_err(|e| storage("read", &self.path, e))?;
        let mut hasher = Sha256::new();
        let mut reader = file.take(end - start);
        io::copy(&mut reader, &mut HashWriter(&mut hasher)).map_err(|e| storage("read", &self.path, e))?;
        Ok(Hash256(hasher.finalize().into()))
    }
}

/// Feeds written bytes to a hash.
struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// HMAC-SHA256: HKDF-Extract(salt, ikm) is HMAC-Hash(salt, ikm) by definition
/// (RFC 5869, section 2.2).
fn hmac_sha256(key: &[u8], message: &[u8]) -> Hash256 {
    Hash256(Hkdf::<Sha256>::extract(Some(key), message).0.into())
}

fn audit_error(what: &'static str) -> Error {
    Error::Storage(format!("audit log: {what}"))
}

fn damaged(path: &Path) -> Error {
    Error::Storage(format!(
        "audit log: the last record of {} is damaged; nothing was appended (check it with audit verify)",
        path.display()
    ))
}

fn storage(operation: &str, path: &Path, err: io::Error) -> Error {
    Error::Storage(format!("audit log: cannot {operation} {}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeviceSecretKey, SenderSecretKey};

    fn sealed(n: u8) -> SealedNotification {
        let sender = Sender::new(SenderSecretKey::from_bytes([1; 32]));
        let device = DeviceSecretKey::from_bytes([2; 32]).public_key();
        let eph = crate::hpke::Ephemeral::derive(&[n; 32]).unwrap();
        let msg = Message::new("t", "b");
        sender
            .seal_with(&device, &msg, &Target::Envelope, MessageId::from_bytes([n; 16]), 1000 + u64::from(n), &eph)
            .unwrap()
    }

    #[test]
    fn hmac_is_rfc_4231() {
        // RFC 4231, test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(mac.to_string(), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn lines_have_the_documented_shape_and_parse_back() {
        let log = AuditLog::open(tempfile::tempdir().unwrap().keep().join("a.jsonl")).unwrap();
        let log = log.with_token_key(&[9; 32]).unwrap();
        let first = log.record_sealed(&sealed(1), Some("device-token")).unwrap();
        let second = log.record_sealed(&sealed(2), None).unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
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
            crate::encoding::encode_base64(&s.envelope).len(),
            s.receipt_digest,
            hmac_sha256(&[9; 32], b"device-token"),
        );
        assert_eq!(
            lines[0],
            format!("{expected_prefix},\"hash\":\"{}\"}}", Hash256::sha256(expected_prefix.as_bytes()))
        );
        assert_eq!(first.hash, Hash256::sha256(expected_prefix.as_bytes()));
        assert_eq!((second.seq, second.prev), (1, first.hash));
        assert_eq!(AuditRecord::parse_line(lines[1].as_bytes()).unwrap(), second);
        assert_eq!(second.to_line().unwrap(), format!("{}\n", lines[1]).into_bytes());
        assert!(!lines[1].contains("token_hmac"));
        let report = log.verify(None).unwrap();
        assert!(report.is_intact());
        assert_eq!((report.records, report.sealed, report.head), (2, 2, Some(second.anchor())));
    }

    #[test]
    fn hostile_lines_are_malformed_not_panics() {
        let good = AuditRecord::encode(
            0,
            Hash256::ZERO,
            AuditEvent::Sealed(SealedEvent {
                time: 1,
                message_id: MessageId::from_bytes([1; 16]),
                sender: KeyId::from_bytes([2; 8]),
                recipient: KeyId::from_bytes([3; 8]),
                platform: AuditPlatform::Fcm,
                envelope_sha256: Hash256::ZERO,
                envelope_len: 1,
                payload_len: 2,
                ttl: 3,
                expires_at: 4,
                receipt_digest: ReceiptDigest::from_bytes([5; 32]),
                token_hmac: None,
            }),
        )
        .unwrap()
        .1;
        let good = &good[..good.len() - 1];
        assert!(AuditRecord::parse_line(good).is_ok());
        for cut in 0..good.len() {
            assert!(AuditRecord::parse_line(&good[..cut]).is_err());
        }
        let text = std::str::from_utf8(good).unwrap();
        for bad in [
            text.replace("\"fcm\"", "\"sms\""),
            text.replace("\"ttl\"", "\"title\""),
            text.replace("\"type\":\"sealed\",", "\"type\":\"sealed\",\"body\":\"x\","),
            text.replace("\"seq\":0,", "\"seq\":0,\"hash\":\"00\","),
            text.replacen("\"}", "\" }", 1),
            format!("{text} "),
            "x".repeat(MAX_LINE_LEN + 10),
        ] {
            assert!(AuditRecord::parse_line(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_last_seq_that_cannot_grow_stops_appends() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path().join("a.jsonl")).unwrap();
        let event =
            AuditEvent::Recovered(RecoveredEvent { time: 1, discarded_bytes: 1, discarded_sha256: Hash256::ZERO });
        let (_, line) = AuditRecord::encode(u64::MAX, Hash256::ZERO, event).unwrap();
        std::fs::write(log.path(), &line).unwrap();
        assert_eq!(log.record_sealed(&sealed(1), None).unwrap_err().kind(), crate::ErrorKind::Storage);
        assert_eq!(std::fs::read(log.path()).unwrap(), line);
    }

    #[test]
    fn anchors_round_trip() {
        let a = Anchor { seq: 41, hash: Hash256::sha256(b"x") };
        assert_eq!(a.to_string().parse::<Anchor>().unwrap(), a);
        let plus = format!("+1:{}", "0".repeat(64));
        for bad in ["41", "x:00", "-1:00", plus.as_str()] {
            assert!(bad.parse::<Anchor>().is_err(), "{bad}");
        }
    }
}
