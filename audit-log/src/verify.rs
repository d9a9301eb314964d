//! Checking a log: the chain, each delivery and gateway outcome against its
//! `sealed` record, and the report.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use pushseal::{KeyId, MessageId, ReceiptDigest};
use serde::{Deserialize, Serialize};

use crate::record::{Anchor, AuditEvent, AuditRecord, BreakKind, Hash256, text};

/// The first place where a log fails verification. Its JSON:
/// `{"line", "offset", "expected_seq", "kind", "reason"}` (see
/// [`BreakKind`]'s serde form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenLink {
    /// The line, counting from 1 (one past the last line for [`BreakKind::AnchorMissing`]).
    pub line: u64,
    /// The byte offset where that line starts.
    pub offset: u64,
    /// The `seq` the line should have had.
    pub expected_seq: u64,
    /// Why.
    #[serde(flatten)]
    pub kind: BreakKind,
}

impl fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} (byte {}, expected seq {}): {}", self.line, self.offset, self.expected_seq, self.kind)
    }
}

/// A last line without its `\n`: an append that did not finish. Its JSON:
/// `{"line", "offset", "bytes"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TornTail {
    /// The line, counting from 1.
    pub line: u64,
    /// The byte offset where it starts.
    pub offset: u64,
    /// Its length in bytes (`"bytes"` in JSON).
    #[serde(rename = "bytes")]
    pub len: u64,
}

/// The result of checking a log. Its JSON (what `pushseal audit verify`
/// prints) is one object with these members, in this order; key ids are
/// their 16 hex digits, `head` is `"<seq>:<hash>"` or null, and
/// `first_break` and `torn_tail` are objects or null.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Whether every complete line is a valid record in an unbroken chain,
    /// reaching the anchor if one was given (a torn tail aside): whether
    /// `first_break` is none.
    pub intact: bool,
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
    #[serde(with = "text::list")]
    pub senders: Vec<KeyId>,
    /// The distinct recipient key ids of the valid `sealed` records, sorted.
    #[serde(with = "text::list")]
    pub recipients: Vec<KeyId>,
    /// The last valid record's anchor: keep it elsewhere to check this log later.
    #[serde(with = "text::option")]
    pub head: Option<Anchor>,
    /// The first broken link, if any.
    pub first_break: Option<BrokenLink>,
    /// A torn last line, if any. It is not a broken link: earlier records stay valid.
    pub torn_tail: Option<TornTail>,
}

/// The report of an empty log: intact, with nothing in it.
impl Default for VerifyReport {
    fn default() -> Self {
        Self {
            intact: true,
            records: 0,
            lines: 0,
            sealed: 0,
            delivered: 0,
            recovered: 0,
            senders: Vec::new(),
            recipients: Vec::new(),
            head: None,
            first_break: None,
            torn_tail: None,
        }
    }
}

impl VerifyReport {
    /// Whether every complete line is a valid record in an unbroken chain
    /// (a torn tail aside): [`VerifyReport::intact`].
    pub fn is_intact(&self) -> bool {
        self.intact
    }
}

/// What the verifier keeps of the `sealed` records of one message and recipient.
#[derive(Default)]
struct SealedTo {
    /// Their receipt digests, one per `sealed` record.
    digests: Vec<ReceiptDigest>,
    /// The gateway outcomes recorded for them so far (at most one each).
    outcomes: usize,
}

/// Checks lines one by one: the chain, and each delivery and outcome against
/// its `sealed` record.
#[derive(Default)]
pub(crate) struct Verifier {
    report: VerifyReport,
    prev: Option<Hash256>,
    senders: BTreeSet<KeyId>,
    recipients: BTreeSet<KeyId>,
    sealed: HashMap<(MessageId, KeyId), SealedTo>,
    delivered: HashSet<(MessageId, KeyId)>,
    anchor: Option<Anchor>,
    anchor_seen: bool,
}

impl Verifier {
    pub(crate) fn new(anchor: Option<Anchor>) -> Self {
        Self { anchor, ..Self::default() }
    }

    /// How many records were valid so far: the lines before the first break.
    #[cfg(feature = "postgres")]
    pub(crate) fn records(&self) -> u64 {
        self.report.records
    }

    /// Takes one complete line (without its `\n`) that starts at `offset`.
    pub(crate) fn line(&mut self, line: &[u8], offset: u64) {
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
        } else {
            self.unmatched(&record.event)
        };
        if let Some(kind) = kind {
            self.report.first_break = broken(kind);
            return;
        }
        self.anchor_seen |= self.anchor.is_some_and(|a| a.seq == record.seq);
        self.accept(&record);
    }

    /// Why a delivery or an outcome does not follow from the earlier
    /// `sealed` records, if it does not: a delivery needs one whose receipt
    /// digest matches; an outcome needs one that has no outcome yet.
    fn unmatched(&self, event: &AuditEvent) -> Option<BreakKind> {
        let sealed = |message_id, recipient| self.sealed.get(&(message_id, recipient));
        match event {
            AuditEvent::Delivered(d) => sealed(d.message_id, d.recipient)
                .is_none_or(|s| !s.digests.iter().any(|digest| digest.verify(&d.receipt)))
                .then_some(BreakKind::UnmatchedDelivery),
            AuditEvent::Sent(o) | AuditEvent::TokenGone(o) | AuditEvent::Rejected(o) | AuditEvent::Failed(o) => {
                sealed(o.message_id, o.recipient)
                    .is_none_or(|s| s.outcomes >= s.digests.len())
                    .then_some(BreakKind::UnmatchedOutcome)
            }
            AuditEvent::Sealed(_) | AuditEvent::Recovered(_) => None,
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
                self.sealed.entry((s.message_id, s.recipient)).or_default().digests.push(s.receipt_digest);
            }
            AuditEvent::Delivered(d) => {
                if self.delivered.insert((d.message_id, d.recipient)) {
                    report.delivered += 1;
                }
            }
            AuditEvent::Recovered(_) => report.recovered += 1,
            AuditEvent::Sent(o) | AuditEvent::TokenGone(o) | AuditEvent::Rejected(o) | AuditEvent::Failed(o) => {
                if let Some(sealed) = self.sealed.get_mut(&(o.message_id, o.recipient)) {
                    sealed.outcomes += 1;
                }
            }
        }
    }

    /// Ends the log; `torn` is a last line without its `\n`.
    pub(crate) fn finish(mut self, torn: Option<(u64, u64)>, end: u64) -> VerifyReport {
        let lines = self.report.lines;
        if let Some((offset, len)) = torn {
            self.report.torn_tail = Some(TornTail { line: lines + 1, offset, len });
        }
        if self.anchor.is_some() && self.report.first_break.is_none() && !self.anchor_seen {
            let offset = torn.map_or(end, |(o, _)| o);
            let (kind, expected_seq) = (BreakKind::AnchorMissing, self.report.records);
            self.report.first_break = Some(BrokenLink { line: lines + 1, offset, kind, expected_seq });
        }
        self.report.intact = self.report.first_break.is_none();
        self.report.senders = self.senders.into_iter().collect();
        self.report.recipients = self.recipients.into_iter().collect();
        self.report
    }
}

/// Checks a log held in memory (see [`crate::verify_log`]).
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
