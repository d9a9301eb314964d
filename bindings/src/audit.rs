//! The sender's audit log, for server-side bindings only: built with the
//! crate's `server` feature, which the Python module's build turns on. The
//! library apps ship (Swift package, Android AAR) is built without it: a
//! device keeps no audit log, and this code would take that library over its
//! size budget (BENCHMARKS.md).

use std::sync::Arc;

use crate::{PushSealError, Result};

/// The sender's audit trail: an append-only, hash-chained file of JSON Lines
/// with a `sealed` record for every notification sealed and a `delivered`
/// record for every receipt a device sent back. No record holds the
/// plaintext, the title, the body, data values or a push token in clear. The
/// format is the one `pushseal seal --audit-log` writes and `pushseal audit
/// verify` checks (the `pushseal-audit` crate, which owns every rule here).
///
/// Pass it to `Sender.withAuditLog(text, log)`: that sender writes each
/// notification's record before handing the notification out.
/// When a device sends its receipt back, `record_delivery` checks it and
/// records the delivery; `verify_audit_log` checks the whole file.
///
/// Every call works on the file under a lock on `<path>.lock`, so senders in
/// several threads or processes can share one log; senders sharing this
/// object also share syncs (records written at the same time are synced
/// together). Safe to share between threads.
#[derive(Debug, uniffi::Object)]
pub struct AuditLog {
    inner: pushseal_audit::AuditLog,
}

#[uniffi::export]
impl AuditLog {
    /// The log in the file at `path`; the file is created by its first record.
    /// Creates the lock file `<path>.lock` now, and fails with `Storage` if it
    /// cannot.
    ///
    /// `token_key`: 32 random bytes, kept apart from the log. With it, a
    /// notification sealed for FCM with a registration token is recorded with
    /// `HMAC-SHA256(token_key, token)`, so whoever holds the key can find a
    /// device's records and nobody else learns anything from them (in a
    /// batch, each device's token from its `BatchDevice`). Without it, the
    /// default, no token is recorded at all. Another length fails with
    /// `InvalidKeyLength`.
    #[uniffi::constructor(default(token_key = None))]
    pub fn open(path: String, token_key: Option<Vec<u8>>) -> Result<Arc<Self>> {
        let token_key = token_key.map(zeroize::Zeroizing::new);
        let mut inner = pushseal_audit::AuditLog::open(path)?;
        if let Some(key) = &token_key {
            inner = inner.with_token_key(key)?;
        }
        Ok(Arc::new(Self { inner }))
    }

    /// The log file's path.
    pub fn path(&self) -> String {
        self.inner.path().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()
    }

    /// Records that a device opened a notification: checks the `receipt` it
    /// sent back (22 characters of base64url, from `openWithReceipt`) against
    /// the `sealed` records of `message_id` (32 hex digits) and, if it matches
    /// one, appends a `delivered` record at `now` (unix seconds; none for the
    /// system clock) and returns it. The same delivery recorded again returns
    /// the first record and appends nothing.
    ///
    /// Fails with `InvalidReceipt`, appending nothing, if no `sealed` record
    /// has this message id or the receipt matches none of them (a receipt
    /// only the recipient device could compute); `InvalidEncoding` for text
    /// that is not a message id or a receipt; `Storage` if the log cannot be
    /// read or written. Reads the whole log.
    #[uniffi::method(default(now = None))]
    pub fn record_delivery(&self, message_id: String, receipt: String, now: Option<u64>) -> Result<AuditDelivery> {
        let message_id: pushseal::MessageId = message_id.parse()?;
        let receipt: pushseal::Receipt = receipt.parse()?;
        let record = self.inner.record_delivery(message_id, &receipt, now.unwrap_or_else(pushseal::unix_now))?;
        match record.event {
            pushseal_audit::AuditEvent::Delivered(d) => Ok(AuditDelivery {
                seq: record.seq,
                time: d.time,
                message_id: d.message_id.to_string(),
                recipient_key_id: d.recipient.to_string(),
            }),
            _ => Err(PushSealError::internal("the audit log returned another record than a delivery")),
        }
    }
}

/// A `delivered` record: a device proved that it opened a notification.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuditDelivery {
    /// The record's number in the log (from 0).
    pub seq: u64,
    /// When the delivery was recorded, unix seconds (the first time, if it
    /// was recorded again).
    pub time: u64,
    /// The message id, 32 hex digits.
    pub message_id: String,
    /// The key id (16 hex digits) of the device that opened it: the recipient
    /// of the matching `sealed` record.
    pub recipient_key_id: String,
}

/// Why a line breaks an audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AuditBreakKind {
    /// Not an audit record: not JSON, an unknown type or field (a record
    /// never holds a title or a body), a field in the wrong form, or too long.
    Malformed,
    /// The record's hash does not match its contents: the record was changed.
    HashMismatch,
    /// Not the `seq` after the previous record's: records were removed,
    /// repeated or reordered.
    SeqMismatch,
    /// `prev` is not the previous record's hash: the previous record was
    /// changed (and its hash computed again), or records were removed.
    PrevMismatch,
    /// A `delivered` record matches no earlier `sealed` record and receipt digest.
    UnmatchedDelivery,
    /// The record at the anchor's `seq` has another hash: the log was rewritten.
    AnchorMismatch,
    /// The log ends before the anchor's `seq`: records were removed from its end.
    AnchorMissing,
}

impl AuditBreakKind {
    fn from_core(kind: pushseal_audit::BreakKind) -> Result<Self> {
        use pushseal_audit::BreakKind as K;
        Ok(match kind {
            K::Malformed => Self::Malformed,
            K::HashMismatch => Self::HashMismatch,
            K::SeqMismatch => Self::SeqMismatch,
            K::PrevMismatch => Self::PrevMismatch,
            K::UnmatchedDelivery => Self::UnmatchedDelivery,
            K::AnchorMismatch => Self::AnchorMismatch,
            K::AnchorMissing => Self::AnchorMissing,
            _ => return Err(PushSealError::internal("the audit log has a kind of break the bindings do not know")),
        })
    }
}

/// The first place where an audit log fails verification.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuditBreak {
    /// The line, counting from 1 (one past the last line for `AnchorMissing`).
    pub line: u64,
    /// The byte offset where that line starts.
    pub offset: u64,
    /// The `seq` the line should have had.
    pub expected_seq: u64,
    /// Why.
    pub kind: AuditBreakKind,
    /// Why, in one line for people.
    pub reason: String,
}

/// A last line without its line end: an append that did not finish (a crash).
/// Not a break: the records before it stay valid, and the next append cuts it
/// off and records that it did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuditTornTail {
    /// The line, counting from 1.
    pub line: u64,
    /// The byte offset where it starts.
    pub offset: u64,
    /// Its length in bytes.
    pub bytes: u64,
}

/// What `verify_audit_log` found.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuditReport {
    /// Whether every line is a valid record in an unbroken chain (reaching
    /// the anchor, if one was given); a torn last line aside.
    pub intact: bool,
    /// Valid records, before the first break if there is one.
    pub records: u64,
    /// Complete lines in the file, valid or not (a torn last line aside).
    pub lines: u64,
    /// `sealed` records among the valid ones.
    pub sealed: u64,
    /// Distinct (message, device) pairs with a valid `delivered` record.
    pub delivered: u64,
    /// `recovered` records (repairs of a torn last line) among the valid ones.
    pub recovered: u64,
    /// The sender key ids (16 hex digits) of the valid `sealed` records, sorted.
    pub senders: Vec<String>,
    /// The recipient key ids of the valid `sealed` records, sorted.
    pub recipients: Vec<String>,
    /// The last valid record's anchor, `<seq>:<hash>` (none for an empty log).
    /// Keep it somewhere else and pass it to a later `verify_audit_log`: that
    /// also catches records removed from the end, which leave a valid chain.
    pub head: Option<String>,
    /// The first broken link, if any.
    pub first_break: Option<AuditBreak>,
    /// A torn last line, if any.
    pub torn_tail: Option<AuditTornTail>,
}

impl AuditReport {
    fn from_core(r: pushseal_audit::VerifyReport) -> Result<Self> {
        let first_break = match &r.first_break {
            Some(b) => Some(AuditBreak {
                line: b.line,
                offset: b.offset,
                expected_seq: b.expected_seq,
                kind: AuditBreakKind::from_core(b.kind)?,
                reason: b.kind.description().to_owned(),
            }),
            None => None,
        };
        Ok(Self {
            intact: r.is_intact(),
            records: r.records,
            lines: r.lines,
            sealed: r.sealed,
            delivered: r.delivered,
            recovered: r.recovered,
            senders: r.senders.iter().map(ToString::to_string).collect(),
            recipients: r.recipients.iter().map(ToString::to_string).collect(),
            head: r.head.map(|a| a.to_string()),
            first_break,
            torn_tail: r.torn_tail.map(|t| AuditTornTail { line: t.line, offset: t.offset, bytes: t.len }),
        })
    }
}

/// Checks the audit log at `path`: every record's hash, `seq` and `prev`,
/// every delivery against its `sealed` record and, if given, the `anchor`
/// (`<seq>:<hash>`, a `head` kept from an earlier check). A broken log is a
/// report with `intact` false, not an error. Fails with `Storage` if the file
/// does not exist or cannot be read (a deleted log is not an empty one), and
/// `InvalidEncoding` for an anchor that is not `<seq>:<64 hex digits>`.
/// Works on a read-only copy too.
#[uniffi::export(default(anchor = None))]
pub fn verify_audit_log(path: String, anchor: Option<String>) -> Result<AuditReport> {
    let anchor = anchor.map(|a| a.parse::<pushseal_audit::Anchor>()).transpose()?;
    AuditReport::from_core(pushseal_audit::verify_log(&path, anchor)?)
}

impl AuditLog {
    /// Seals through the audit log crate, which returns only once the
    /// notification's `sealed` record is durable (with the keyed hash of the
    /// FCM target's token, if the log has a token key).
    pub(crate) fn seal(
        &self,
        sender: &pushseal::Sender,
        to: &pushseal::DevicePublicKey,
        message: &pushseal::Message,
        target: &pushseal::Target,
    ) -> Result<pushseal::SealedNotification> {
        Ok(self.inner.seal(sender, to, message, target)?)
    }

    /// The audit log crate's log, for batches.
    pub(crate) fn core(&self) -> &pushseal_audit::AuditLog {
        &self.inner
    }
}
