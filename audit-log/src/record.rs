//! The records of a log: their types, and each record's one line (see the
//! [crate docs](crate) for the format).

use std::fmt;
use std::str::FromStr;

use hkdf::Hkdf;
use pushseal::{Error, KeyId, MessageId, Receipt, ReceiptDigest, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The length of the operator's key for hashing push tokens, in bytes.
pub const TOKEN_KEY_LEN: usize = 32;
/// The longest line a log may have, in bytes; records are far shorter.
pub const MAX_LINE_LEN: usize = 4096;

/// What follows a record's hashed prefix: `,"hash":"`, 64 hex digits, `"}`.
const HASH_MEMBER: &[u8] = b",\"hash\":\"";
const LINE_END: &[u8] = b"\"}";
const HASH_SUFFIX_LEN: usize = HASH_MEMBER.len() + 64 + LINE_END.len();

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

impl fmt::Display for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash256({self})")
    }
}

impl FromStr for Hash256 {
    type Err = Error;

    /// Parses 64 lowercase hex digits.
    fn from_str(s: &str) -> Result<Self> {
        let bad = Error::InvalidEncoding("expected a hash: 64 lowercase hex digits");
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        if s.len() != 64 {
            return Err(bad);
        }
        let mut out = [0u8; 32];
        for (o, pair) in out.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
            let (Some(hi), Some(lo)) = (pair.first().copied().and_then(digit), pair.get(1).copied().and_then(digit))
            else {
                return Err(bad);
            };
            *o = hi << 4 | lo;
        }
        Ok(Self(out))
    }
}

/// The longest [`Actor`], in bytes.
pub const MAX_ACTOR_LEN: usize = 128;

/// Who triggered a send or recorded a delivery: an operator-chosen
/// pseudonymous id of a person or a service (`svc-lab-results`,
/// `staff-7f3a`), recorded in every record written for it. It MUST NOT be
/// PHI or a real name: the log is kept for years and read by auditors (see
/// SECURITY.md). 1 to 128 bytes of UTF-8 with no control character.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Actor(String);

impl Actor {
    /// An actor id; [`Error::InvalidEncoding`] if it is empty, longer than
    /// [`MAX_ACTOR_LEN`] bytes or holds a control character (a newline, a tab…).
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        if id.is_empty() || id.len() > MAX_ACTOR_LEN {
            return Err(Error::InvalidEncoding("an actor id is 1 to 128 bytes (a pseudonymous id, never PHI)"));
        }
        if id.chars().any(char::is_control) {
            return Err(Error::InvalidEncoding("an actor id has no control characters (newlines, tabs, ...)"));
        }
        Ok(Self(id))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Actor({:?})", self.0)
    }
}

impl FromStr for Actor {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

/// Serde as text for the fields of a record or a report (owned strings, so
/// that any JSON reader works).
pub(crate) mod text {
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
                Some(text) => {
                    text.parse().map(Some).map_err(|_| serde::de::Error::custom("a field is not in its text form"))
                }
                None => Ok(None),
            }
        }
    }

    /// The same for a list.
    pub mod list {
        use super::*;

        pub fn serialize<T: Display, S: Serializer>(values: &[T], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(values.iter().map(ToString::to_string))
        }

        pub fn deserialize<'de, T: FromStr, D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
            Vec::<String>::deserialize(d)?
                .iter()
                .map(|text| text.parse().map_err(|_| serde::de::Error::custom("a field is not in its text form")))
                .collect()
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
    /// The digest of the device's delivery receipt (see [`pushseal::ReceiptDigest`]).
    #[serde(with = "text")]
    pub receipt_digest: ReceiptDigest,
    /// `HMAC-SHA256(token key, push token)`, if the operator gave both.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "text::option")]
    pub token_hmac: Option<Hash256>,
    /// Who triggered the send, if the sender said (see [`Actor`]).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "text::option")]
    pub actor: Option<Actor>,
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
    /// Who recorded the delivery, if the recorder said (see [`Actor`]).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "text::option")]
    pub actor: Option<Actor>,
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
    /// `"sent"`: the push gateway accepted a sealed notification.
    Sent(OutcomeEvent),
    /// `"token_gone"`: the push gateway said the device token is no longer valid.
    TokenGone(OutcomeEvent),
    /// `"rejected"`: the push gateway refused the notification for a reason retrying cannot fix.
    Rejected(OutcomeEvent),
    /// `"failed"`: the notification could not be sent (retried until given up, or a configuration error).
    Failed(OutcomeEvent),
}

/// The fields of a delivery outcome record (`sent`, `token_gone`,
/// `rejected`, `failed`): what the push gateway did with a notification,
/// linked to its `sealed` record by `message_id` and `recipient`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeEvent {
    /// When the outcome was known, unix seconds.
    pub time: u64,
    /// The message id of the `sealed` record.
    #[serde(with = "text")]
    pub message_id: MessageId,
    /// The device key of the `sealed` record.
    #[serde(with = "text")]
    pub recipient: KeyId,
    /// The gateway's id for the message (`sent` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_id: Option<String>,
    /// The gateway's reason, as it spelled it (`Unregistered`, `BadTopic`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Since when the token is gone, unix seconds, where the gateway says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
    /// Attempts made (`failed` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// The keyed hash of the device's push token, as in `sealed` records.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "text::option")]
    pub token_hmac: Option<Hash256>,
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
    pub(crate) fn encode(seq: u64, prev: Hash256, event: AuditEvent) -> (Self, Vec<u8>) {
        // Every field of an event is a number, a string or an enum's name,
        // and the tagged enum is a JSON object: encoding cannot fail.
        let event_json = serde_json::to_vec(&event).expect("an audit event encodes as JSON");
        let members = event_json
            .strip_prefix(b"{")
            .and_then(|m| m.strip_suffix(b"}"))
            .expect("an internally tagged event encodes as a JSON object");
        let mut line = Vec::with_capacity(64 + members.len() + HASH_SUFFIX_LEN + 1);
        line.extend_from_slice(format!("{{\"seq\":{seq},\"prev\":\"{prev}\",").as_bytes());
        line.extend_from_slice(members);
        let hash = Hash256::sha256(&line);
        line.extend_from_slice(HASH_MEMBER);
        line.extend_from_slice(hash.to_string().as_bytes());
        line.extend_from_slice(LINE_END);
        line.push(b'\n');
        (Self { seq, prev, event, hash }, line)
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
    pub fn to_line(&self) -> Vec<u8> {
        Self::encode(self.seq, self.prev, self.event.clone()).1
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

    /// Parses `<seq>:<64 hex digits>`, ignoring space, tab, line feed and
    /// carriage return around it and no other character (the rule of every
    /// pasted text, SPEC.md section 3.1).
    fn from_str(s: &str) -> Result<Self> {
        let bad = Error::InvalidEncoding("an anchor is <seq>:<64 lowercase hex digits>");
        let (seq, hash) = pushseal::trim_pasted_text(s).split_once(':').ok_or(bad.clone())?;
        let seq = if seq.bytes().all(|b| b.is_ascii_digit()) { seq.parse().ok() } else { None };
        Ok(Self { seq: seq.ok_or(bad)?, hash: hash.parse()? })
    }
}

/// The records a store appends after its last one: each `seq` one more than
/// the previous record's, each `prev` its `hash`. What every backend uses to
/// write, under its own lock, after reading its last record.
pub(crate) struct Chain {
    /// The next record's `seq` and `prev`; `None` once `seq` cannot grow.
    next: Option<(u64, Hash256)>,
}

impl Chain {
    /// The chain after the record at `last` (the start for an empty log).
    pub(crate) fn after(last: Option<Anchor>) -> Self {
        let mut chain = Self { next: Some((0, Hash256::ZERO)) };
        if let Some(last) = last {
            chain.follow(last);
        }
        chain
    }

    /// The next record for `event` and its line; `None` if the last `seq`
    /// is `u64::MAX` (a damaged log: no honest log gets there).
    pub(crate) fn append(&mut self, event: AuditEvent) -> Option<(AuditRecord, Vec<u8>)> {
        let (seq, prev) = self.next?;
        let (record, line) = AuditRecord::encode(seq, prev, event);
        self.follow(record.anchor());
        Some((record, line))
    }

    fn follow(&mut self, last: Anchor) {
        self.next = last.seq.checked_add(1).map(|seq| (seq, last.hash));
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
    /// A gateway outcome (`sent`, `token_gone`, `rejected`, `failed`) names a
    /// message and device that no earlier `sealed` record has, or that
    /// already have as many outcomes as `sealed` records.
    UnmatchedOutcome,
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
            Self::UnmatchedOutcome => "unmatched_outcome",
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
            Self::UnmatchedOutcome => "a gateway outcome that follows no earlier sealed record, or a second one for it",
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

impl BreakKind {
    const ALL: [Self; 8] = [
        Self::Malformed,
        Self::HashMismatch,
        Self::SeqMismatch,
        Self::PrevMismatch,
        Self::UnmatchedDelivery,
        Self::UnmatchedOutcome,
        Self::AnchorMismatch,
        Self::AnchorMissing,
    ];
}

/// Two members: `"kind"`, the [`BreakKind::name`], and `"reason"`, the
/// [`BreakKind::description`] (what a [`BrokenLink`](crate::BrokenLink)'s
/// JSON holds). Read back from `"kind"`; `"reason"` is ignored.
impl Serialize for BreakKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut out = s.serialize_struct("BreakKind", 2)?;
        out.serialize_field("kind", self.name())?;
        out.serialize_field("reason", self.description())?;
        out.end()
    }
}

impl<'de> Deserialize<'de> for BreakKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Named {
            kind: String,
        }
        let Named { kind } = Named::deserialize(d)?;
        Self::ALL
            .into_iter()
            .find(|k| k.name() == kind)
            .ok_or_else(|| serde::de::Error::custom("not a kind of break of an audit log"))
    }
}

/// HMAC-SHA256: HKDF-Extract(salt, ikm) is HMAC-Hash(salt, ikm) by definition
/// (RFC 5869, section 2.2).
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> Hash256 {
    Hash256(Hkdf::<Sha256>::extract(Some(key), message).0.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_is_rfc_4231() {
        // RFC 4231, test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(mac.to_string(), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
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
                actor: None,
            }),
        )
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
    fn actors_are_short_printable_ids() {
        assert_eq!(Actor::new("svc-lab-results").unwrap().as_str(), "svc-lab-results");
        assert!(Actor::new("é".repeat(64)).is_ok());
        for bad in [
            String::new(),
            "x".repeat(MAX_ACTOR_LEN + 1),
            "a\nb".into(),
            "tab\there".into(),
            "\u{7f}".into(),
            "\u{85}".into(),
        ] {
            assert_eq!(Actor::new(bad.clone()).unwrap_err().kind(), pushseal::ErrorKind::InvalidEncoding, "{bad:?}");
        }
        // A record whose actor is not one is malformed, not accepted.
        let event =
            AuditEvent::Recovered(RecoveredEvent { time: 1, discarded_bytes: 0, discarded_sha256: Hash256::ZERO });
        assert!(AuditRecord::parse_line(AuditRecord::encode(0, Hash256::ZERO, event).1.trim_ascii_end()).is_ok());
    }

    #[test]
    fn anchors_round_trip() {
        let a = Anchor { seq: 41, hash: Hash256::sha256(b"x") };
        assert_eq!(a.to_string().parse::<Anchor>().unwrap(), a);
        let plus = format!("+1:{}", "0".repeat(64));
        for bad in ["41", "x:00", "-1:00", plus.as_str()] {
            assert!(bad.parse::<Anchor>().is_err(), "{bad}");
        }
        // SPEC.md section 3.1: space, tab, LF and CR around it, nothing else.
        assert_eq!(format!(" \t{a}\r\n").parse::<Anchor>().unwrap(), a);
        for other in ['\u{a0}', '\u{b}', '\u{c}', '\u{85}', '\u{feff}', '\u{3000}'] {
            for bad in [format!("{other}{a}"), format!("{a}{other}")] {
                assert!(bad.parse::<Anchor>().is_err(), "{other:?}");
            }
        }
    }
}
