//! Checking a log: the chain, each delivery against its `sealed` record, and
//! the report.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use pushseal::{KeyId, MessageId, ReceiptDigest};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use crate::record::{Anchor, AuditEvent, AuditRecord, BreakKind, Hash256};

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
pub(crate) struct Verifier {
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
    pub(crate) fn new(anchor: Option<Anchor>) -> Self {
        Self { anchor, ..Self::default() }
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

/// The report as one JSON object, members in this order: `intact`,
/// `records`, `lines`, `sealed`, `delivered`, `recovered`, `senders`,
/// `recipients` (key ids), `head` (`"<seq>:<hash>"` or null), `first_break`
/// (`{"line", "offset", "expected_seq", "kind", "reason"}` or null, `kind` a
/// [`BreakKind::name`]) and `torn_tail` (`{"line", "offset", "bytes"}` or
/// null). `pushseal audit verify` prints it.
impl Serialize for VerifyReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ids = |ids: &[KeyId]| ids.iter().map(ToString::to_string).collect::<Vec<_>>();
        let mut out = s.serialize_struct("VerifyReport", 11)?;
        out.serialize_field("intact", &self.is_intact())?;
        out.serialize_field("records", &self.records)?;
        out.serialize_field("lines", &self.lines)?;
        out.serialize_field("sealed", &self.sealed)?;
        out.serialize_field("delivered", &self.delivered)?;
        out.serialize_field("recovered", &self.recovered)?;
        out.serialize_field("senders", &ids(&self.senders))?;
        out.serialize_field("recipients", &ids(&self.recipients))?;
        out.serialize_field("head", &self.head.map(|a| a.to_string()))?;
        out.serialize_field("first_break", &self.first_break)?;
        out.serialize_field("torn_tail", &self.torn_tail)?;
        out.end()
    }
}

impl Serialize for BrokenLink {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("BrokenLink", 5)?;
        out.serialize_field("line", &self.line)?;
        out.serialize_field("offset", &self.offset)?;
        out.serialize_field("expected_seq", &self.expected_seq)?;
        out.serialize_field("kind", self.kind.name())?;
        out.serialize_field("reason", self.kind.description())?;
        out.end()
    }
}

impl Serialize for TornTail {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("TornTail", 3)?;
        out.serialize_field("line", &self.line)?;
        out.serialize_field("offset", &self.offset)?;
        out.serialize_field("bytes", &self.len)?;
        out.end()
    }
}
