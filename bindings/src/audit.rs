//! The sender's audit log, for server-side bindings only: built with the
//! crate's `server` feature, which the Python module's build turns on. The
//! library apps ship (Swift package, Android AAR) is built without it: a
//! device keeps no audit log, and this code would take that library over its
//! size budget (BENCHMARKS.md).

use std::sync::Arc;

use crate::{MaybeSecretBytes, MaybeSecretText, Pq, PushSealError, Result, SecretText, Sender};

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

impl AuditLog {
    fn with_token_key(inner: pushseal_audit::AuditLog, token_key: MaybeSecretBytes) -> Result<Arc<Self>> {
        let inner = match token_key.0 {
            Some(key) => {
                let key = pushseal_audit::TokenKey::from_bytes(key.as_slice()).map_err(pushseal::Error::from)?;
                inner.with_token_key(key)
            }
            None => inner,
        };
        Ok(Arc::new(Self { inner }))
    }
}

#[uniffi::export]
impl AuditLog {
    /// The log in the file at `path`, to seal with: a file that does not
    /// exist yet is a new log, which its first record creates. Creates the
    /// lock file `<path>.lock` now, and fails with `Storage` if it cannot.
    ///
    /// `token_key`: 32 random bytes, kept apart from the log (**secret**:
    /// wipe your copy once it is passed). With it, a notification sealed for
    /// FCM with a registration token is recorded with
    /// `HMAC-SHA256(token_key, token)`, so whoever holds the key can find a
    /// device's records and nobody else learns anything from them (in a
    /// batch, each device's token from its `BatchDevice`). Without it, the
    /// default, no token is recorded at all. Another length fails with
    /// `InvalidKeyLength`.
    #[uniffi::constructor(default(token_key = None))]
    pub fn open(path: String, token_key: MaybeSecretBytes) -> Result<Arc<Self>> {
        Self::with_token_key(pushseal_audit::AuditLog::open(path)?, token_key)
    }

    /// The existing log in the file at `path`, to record deliveries in (and
    /// to seal with): fails with `Storage` if the file does not exist, since
    /// a delivery can only be checked against the log its notification was
    /// sealed with, and a deleted log is not an empty one. `token_key` as
    /// for `open`.
    #[uniffi::constructor(default(token_key = None))]
    pub fn open_existing(path: String, token_key: MaybeSecretBytes) -> Result<Arc<Self>> {
        Self::with_token_key(pushseal_audit::AuditLog::open_existing(path)?, token_key)
    }

    /// The same log (the same file and shared syncs), writing `actor` into
    /// every record it appends: who triggered the sends (through a
    /// `Sender.withAuditLog` built on it) or recorded the deliveries. An
    /// operator-chosen **pseudonymous** id of a person or service
    /// (`svc-lab-results`, `staff-7f3a`), never PHI or a real name: the log
    /// is kept for years. Fails with `InvalidEncoding` if it is empty,
    /// longer than 128 bytes or has a control character.
    pub fn with_actor(&self, actor: String) -> Result<Arc<Self>> {
        let actor = pushseal_audit::Actor::new(actor)?;
        Ok(Arc::new(Self { inner: self.inner.with_actor(actor) }))
    }

    /// The actor this log object records, if any.
    pub fn actor(&self) -> Option<String> {
        self.inner.actor().map(ToString::to_string)
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
    /// A gateway outcome (`sent`, `token_gone`, `rejected`, `failed`) follows
    /// no earlier `sealed` record, or is a second one for it.
    UnmatchedOutcome,
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
            K::UnmatchedOutcome => Self::UnmatchedOutcome,
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
            intact: r.intact,
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
    pub(crate) fn seal<T: pushseal_audit::AuditTarget>(
        &self,
        sender: &pushseal::Sender,
        to: &pushseal::Registration,
        message: &pushseal::Message,
        target: &T,
    ) -> Result<pushseal::Sealed<T::Payload>> {
        Ok(self.inner.seal(sender, to, message, target)?)
    }

    /// The audit log crate's log, for batches.
    pub(crate) fn core(&self) -> &pushseal_audit::AuditLog {
        &self.inner
    }
}

/// The server build's extra constructor: a sender that records every seal.
#[uniffi::export]
impl Sender {
    /// `from_secret_text`, with an audit log: every seal (batches too) first
    /// appends the notification's `sealed` record to `audit_log` and fails
    /// with `Storage`, handing nothing out, if it cannot; each record is
    /// synced to disk. `text_v2` and `pq` as in `from_secret_text`.
    #[uniffi::constructor(default(cache_devices = 0, text_v2 = None, pq = None))]
    pub fn with_audit_log(
        text: SecretText,
        audit_log: Arc<AuditLog>,
        cache_devices: i64,
        text_v2: MaybeSecretText,
        pq: Option<Pq>,
    ) -> Result<Arc<Self>> {
        let sender = Self::from_text(text, cache_devices, text_v2, pq)?;
        Ok(Arc::new(Self { audit_log: Some(audit_log), ..sender }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::tests::batch;
    use crate::tests::{device_for, message};
    use crate::{BatchDevice, ErrorKind, FcmOptions, Payload, ReplayStore, SecretBytes};

    fn audited(log: &Arc<AuditLog>) -> Arc<Sender> {
        Sender::with_audit_log(Sender::generate().unwrap().secret_text(), log.clone(), 0, MaybeSecretText(None), None)
            .unwrap()
    }

    fn lines(log: &AuditLog) -> Vec<String> {
        std::fs::read_to_string(log.path()).unwrap().lines().map(str::to_owned).collect()
    }

    #[test]
    fn a_log_with_an_actor_records_it_and_refuses_a_bad_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl").to_string_lossy().into_owned();
        let log = AuditLog::open(path, None.into()).unwrap();
        let service = log.with_actor("svc-lab-results".into()).unwrap();
        assert_eq!((log.actor(), service.actor().as_deref()), (None, Some("svc-lab-results")));
        let sender = audited(&service);
        sender.seal_envelope(device_for(&sender).public_key(), message()).unwrap();
        assert!(lines(&log)[0].contains(",\"actor\":\"svc-lab-results\",\"hash\":"));
        for bad in [String::new(), "a\nb".into(), "x".repeat(129)] {
            assert_eq!(log.with_actor(bad).unwrap_err().kind(), ErrorKind::InvalidEncoding);
        }
    }

    #[test]
    fn an_audited_sender_records_every_seal_and_tokens_only_as_keyed_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl").to_string_lossy().into_owned();
        let log = AuditLog::open(path.clone(), Some(SecretBytes::from(vec![7; 32])).into()).unwrap();
        let sender = audited(&log);
        let devices = [device_for(&sender), device_for(&sender)];
        let to: Vec<String> = devices.iter().map(|d| d.public_key()).collect();
        let fcm = FcmOptions { token: Some("fcm-token".into()), collapse_key: None, priority: None };

        sender.seal_envelope(to[0].clone(), message()).unwrap();
        sender.seal_apns(to[0].clone(), message(), None).unwrap();
        let push = sender.seal_fcm(to[1].clone(), message(), Some(fcm.clone())).unwrap();
        let batch =
            sender.seal_batch_apns(batch(vec![to[0].clone(), "x".into(), to[1].clone()]), message(), None).unwrap();
        assert_eq!(batch[1].error_kind, Some(ErrorKind::InvalidEncoding));
        let lines = lines(&log);
        assert_eq!(lines.len(), 5, "one sealed record per notification handed out");
        let tokened =
            |i: usize| BatchDevice { public_key: to[i].clone(), token: Some(format!("tok-{i}")), collapse_id: None };
        sender.seal_batch_fcm(vec![tokened(0), tokened(1)], message(), None).unwrap();
        let hmac = |line: &str| line.split("\"token_hmac\":\"").nth(1).map(|h| h[..64].to_owned());
        let all = self::lines(&log);
        let (a, b) = (hmac(&all[5]).unwrap(), hmac(&all[6]).unwrap());
        assert_ne!(a, b, "each device's record holds its own token's hash");
        assert!(!all[5].contains("tok-0") && !all[6].contains("tok-1"));
        assert!(lines.iter().all(|l| l.contains("\"type\":\"sealed\"") && !l.contains("Refill")));
        assert!(lines[2].contains(&format!("\"message_id\":\"{}\"", push.sealed.message_id)));
        assert!(lines[2].contains("\"token_hmac\"") && !lines[2].contains("fcm-token"));
        assert!(!lines[0].contains("token_hmac") && !lines[1].contains("token_hmac"));

        // Without a token key, no token is recorded at all.
        let plain =
            AuditLog::open(dir.path().join("plain.jsonl").to_string_lossy().into_owned(), MaybeSecretBytes::default())
                .unwrap();
        audited(&plain).seal_fcm(to[0].clone(), message(), Some(fcm)).unwrap();
        assert!(!self::lines(&plain)[0].contains("token"));
        let short = AuditLog::open(path.clone(), Some(SecretBytes::from(vec![7; 31])).into());
        assert_eq!(short.unwrap_err().kind_name(), "invalid_key_length");

        let report = verify_audit_log(path, None).unwrap();
        assert!(report.intact && report.first_break.is_none() && report.torn_tail.is_none());
        assert_eq!((report.records, report.sealed, report.delivered), (7, 7, 0));
        assert_eq!(report.senders, vec![sender.key_id()]);
        assert_eq!(report.head.unwrap().split_once(':').unwrap().0, "6");
    }

    #[test]
    fn deliveries_are_recorded_for_valid_receipts_only() {
        let dir = tempfile::tempdir().unwrap();
        let log =
            AuditLog::open(dir.path().join("a.jsonl").to_string_lossy().into_owned(), MaybeSecretBytes::default())
                .unwrap();
        let sender = audited(&log);
        let device = device_for(&sender);
        let push = sender.seal_apns(device.public_key(), message(), None).unwrap();
        let other = sender.seal_apns(device.public_key(), message(), None).unwrap();
        let payload = Payload::Apns { user_info_json: push.body };
        let opened = device.open_with_receipt(payload, ReplayStore::in_memory(), None).unwrap();

        let before = lines(&log);
        for (id, receipt) in [(&other.sealed.message_id, &opened.receipt), (&"ab".repeat(16), &opened.receipt)] {
            let e = log.record_delivery(id.clone(), receipt.clone(), None).unwrap_err();
            assert_eq!(e.kind_name(), "invalid_receipt");
        }
        let e = log.record_delivery(push.sealed.message_id.clone(), "not a receipt".into(), None).unwrap_err();
        assert_eq!(e.kind_name(), "invalid_encoding");
        assert_eq!(lines(&log), before, "a refused receipt appends nothing");

        let delivered =
            log.record_delivery(push.sealed.message_id.clone(), opened.receipt.clone(), Some(1_000)).unwrap();
        assert_eq!(
            delivered,
            AuditDelivery {
                seq: 2,
                time: 1_000,
                message_id: push.sealed.message_id.clone(),
                recipient_key_id: device.key_id(),
            }
        );
        // The same delivery again: the first record, nothing appended.
        assert_eq!(log.record_delivery(push.sealed.message_id, opened.receipt, Some(2_000)).unwrap(), delivered);
        assert_eq!(lines(&log).len(), 3);
        let report = verify_audit_log(log.path(), None).unwrap();
        assert!(report.intact);
        assert_eq!((report.records, report.sealed, report.delivered), (3, 2, 1));
    }

    #[test]
    fn verify_names_the_first_break_and_checks_the_anchor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl").to_string_lossy().into_owned();
        let log = AuditLog::open(path.clone(), MaybeSecretBytes::default()).unwrap();
        let sender = audited(&log);
        let to = vec![device_for(&sender).public_key(); 3];
        assert!(sender.seal_batch_fcm(batch(to), message(), None).unwrap().iter().all(|r| r.fcm.is_some()));
        let head = verify_audit_log(path.clone(), None).unwrap().head.unwrap();
        assert!(verify_audit_log(path.clone(), Some(head.clone())).unwrap().intact);

        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        let changed = lines[1].replacen("\"ttl\":86400", "\"ttl\":86401", 1);
        assert_ne!(changed, lines[1]);
        lines[1] = &changed;
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let report = verify_audit_log(path.clone(), Some(head.clone())).unwrap();
        assert!(!report.intact);
        assert_eq!(report.records, 1);
        let broken = report.first_break.unwrap();
        assert_eq!((broken.line, broken.expected_seq, broken.kind), (2, 1, AuditBreakKind::HashMismatch));
        assert!(!broken.reason.is_empty());

        // Records cut from the end leave a valid chain: only the anchor tells.
        std::fs::write(&path, text.lines().next().unwrap().to_owned() + "\n").unwrap();
        assert!(verify_audit_log(path.clone(), None).unwrap().intact);
        let cut = verify_audit_log(path.clone(), Some(head)).unwrap();
        assert_eq!(cut.first_break.map(|b| b.kind), Some(AuditBreakKind::AnchorMissing));

        let e = verify_audit_log(path.clone(), Some("not an anchor".into())).unwrap_err();
        assert_eq!(e.kind_name(), "invalid_encoding");
        let e = verify_audit_log(dir.path().join("none.jsonl").to_string_lossy().into_owned(), None).unwrap_err();
        assert_eq!(e.kind_name(), "storage");
    }

    #[test]
    fn nothing_is_handed_out_without_its_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        // A last line that is not a record: the core refuses to append after it.
        std::fs::write(&path, "not a record\n").unwrap();
        let log = AuditLog::open(path.to_string_lossy().into_owned(), MaybeSecretBytes::default()).unwrap();
        let sender = audited(&log);
        let device = device_for(&sender);
        let e = sender.seal_apns(device.public_key(), message(), None).unwrap_err();
        assert_eq!(e.kind_name(), "storage");
        let e = sender.seal_batch_apns(batch(vec![device.public_key(), "x".into()]), message(), None).unwrap_err();
        assert_eq!(e.kind_name(), "storage", "a batch whose records cannot be written hands nothing out");
        let stream = sender.clone().stream_batch_apns(batch(vec![device.public_key()]), message(), None).unwrap();
        assert_eq!(stream.next().unwrap_err().kind_name(), "storage");
        assert_eq!(stream.next().unwrap(), None);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a record\n");
    }

    #[test]
    fn a_log_to_record_deliveries_in_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.jsonl").to_string_lossy().into_owned();
        assert_eq!(
            AuditLog::open_existing(path.clone(), MaybeSecretBytes::default()).unwrap_err().kind(),
            ErrorKind::Storage
        );
        let log = AuditLog::open(path.clone(), MaybeSecretBytes::default()).unwrap();
        audited(&log).seal_envelope(device_for(&Sender::generate().unwrap()).public_key(), message()).unwrap();
        assert!(AuditLog::open_existing(path, MaybeSecretBytes::default()).is_ok());
    }
}
