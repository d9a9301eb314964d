//! The audit log and delivery receipts: the chain verifies, every kind of
//! tampering is caught where it happened, a torn append loses nothing valid,
//! receipts prove delivery by the real device only, and no protected text
//! ever reaches the log.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, OpModeR};
use pushseal::envelope::{Envelope, INFO};
use pushseal::hpke::Ephemeral;
use pushseal::receipt::{RECEIPT_LABEL, RECEIPT_LEN};
use pushseal::{
    ApnsOptions, BareEnvelope, BatchDevice, DeviceKeyring, DevicePublicKey, ErrorKind, FcmMessage, FcmOptions,
    MemoryReplayStore, Message, MessageId, Payload, Receipt, Sealed, Sender, SenderSecretKey, verify_receipt,
};
use pushseal_audit::{
    Anchor, AuditEvent, AuditLog, AuditRecord, BreakKind, Hash256, TokenKey, VerifyReport, verify_bytes, verify_log,
};

type Kem = X25519HkdfSha256;

const NOW: u64 = 1_767_225_600;

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    log: AuditLog,
    senders: Vec<Sender>,
    devices: Vec<DeviceKeyring>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap().with_token_key(TokenKey::from_bytes(&[0x5a; 32]).unwrap());
    let senders: Vec<Sender> = (0..2).map(|i| Sender::new(SenderSecretKey::from_bytes([0x10 + i; 32]))).collect();
    let devices = (0..3)
        .map(|_| {
            let mut d = DeviceKeyring::generate().unwrap();
            for s in &senders {
                d.trust_sender(s.public_key()).unwrap();
            }
            d
        })
        .collect();
    Fixture { _dir: dir, path, log, senders, devices }
}

/// What a device gets, whatever the platform: so that one test covers all three.
#[derive(Debug, Clone)]
enum Delivered {
    Envelope(String),
    Apns(String),
    Fcm(HashMap<String, String>),
}

/// A notification sealed for any platform, with what its device gets.
type Sent = Sealed<Delivered>;

fn sent<P>(s: Sealed<P>, delivered: impl FnOnce(P) -> Delivered) -> Sent {
    let Sealed { payload, message_id, sender, recipient, sent_at, expires_at, receipt_digest, envelope } = s;
    Sealed { payload: delivered(payload), message_id, sender, recipient, sent_at, expires_at, receipt_digest, envelope }
}

fn apns_body(request: pushseal::ApnsRequest) -> Delivered {
    Delivered::Apns(request.body)
}

fn fcm_data(message: FcmMessage) -> Delivered {
    let v: serde_json::Value = serde_json::from_str(&message.json).unwrap();
    Delivered::Fcm(serde_json::from_value(v["data"].clone()).unwrap())
}

/// Seals through `log` for platform `n % 3` (envelope, APNs, FCM with a token).
fn seal_on(log: &AuditLog, sender: &Sender, to: &DevicePublicKey, msg: &Message, n: usize) -> Sent {
    match n % 3 {
        0 => sent(log.seal(sender, to, msg, &BareEnvelope).unwrap(), Delivered::Envelope),
        1 => sent(log.seal(sender, to, msg, &ApnsOptions::default()).unwrap(), apns_body),
        _ => sent(log.seal(sender, to, msg, &FcmOptions::with_token(format!("fcm-token-{n}"))).unwrap(), fcm_data),
    }
}

/// The platform payload as the device gets it.
fn open_with_receipt(device: &DeviceKeyring, sealed: &Sent) -> (pushseal::Notification, Receipt) {
    let replay = MemoryReplayStore::new();
    let payload = match &sealed.payload {
        Delivered::Envelope(text) => Payload::Envelope(text),
        Delivered::Apns(body) => Payload::ApnsJson(body),
        Delivered::Fcm(data) => Payload::FcmData(data),
    };
    device.open_with_receipt(payload, &replay, sealed.sent_at).unwrap()
}

/// Seals through `log` for platform `n % 3` to one device whose push token is
/// `token` (on any platform: the log records its keyed hash).
fn seal_with_token(
    log: &AuditLog,
    sender: &Sender,
    to: &DevicePublicKey,
    msg: &Message,
    n: usize,
    token: &str,
) -> pushseal::Result<Sent> {
    let device = [BatchDevice::new(*to).with_token(token)];
    Ok(match n % 3 {
        0 => sent(log.seal_batch(sender, device, msg, &BareEnvelope)?.pop().unwrap()?, Delivered::Envelope),
        1 => sent(log.seal_batch(sender, device, msg, &ApnsOptions::default())?.pop().unwrap()?, apns_body),
        _ => sent(log.seal_batch(sender, device, msg, &FcmOptions::default())?.pop().unwrap()?, fcm_data),
    })
}

impl Fixture {
    /// Seals `n` notifications through the log (all three platforms, both
    /// senders, all devices) and records a delivery for every third one.
    fn fill(&self, n: usize) -> Vec<Sent> {
        let mut all = Vec::new();
        for i in 0..n {
            let sender = &self.senders[i % 2];
            let device = &self.devices[i % 3];
            let msg = Message::new(format!("title {i}"), format!("body {i}"));
            let token = format!("push-token-{}", i % 3);
            let sealed = seal_with_token(&self.log, sender, &device.public_key(), &msg, i, &token).unwrap();
            if i % 3 == 2 {
                let (_, receipt) = open_with_receipt(device, &sealed);
                self.log.record_delivery(sealed.message_id, &receipt, NOW).unwrap();
            }
            all.push(sealed);
        }
        all
    }

    fn bytes(&self) -> Vec<u8> {
        fs::read(&self.path).unwrap()
    }
}

fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

fn expect_break(bytes: &[u8], anchor: Option<Anchor>, line: u64, kind: BreakKind) {
    let report = verify_bytes(bytes, anchor);
    let broken = report.first_break.unwrap_or_else(|| panic!("no break found, expected {kind:?} at line {line}"));
    assert_eq!((broken.line, broken.kind), (line, kind), "{broken}");
    let offset: usize = lines(bytes).iter().take(line as usize - 1).map(Vec::len).sum();
    assert_eq!(broken.offset, offset as u64);
    assert_eq!(report.records, line - 1, "records before the break");
}

#[test]
fn a_long_chain_verifies_and_counts() {
    let f = fixture();
    let sealed = f.fill(150);
    let report = verify_log(&f.path, None).unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break);
    assert_eq!(report.torn_tail, None);
    assert_eq!((report.records, report.lines, report.sealed, report.delivered), (200, 200, 150, 50));
    let mut senders: Vec<_> = f.senders.iter().map(Sender::key_id).collect();
    let mut recipients: Vec<_> = f.devices.iter().map(DeviceKeyring::key_id).collect();
    senders.sort();
    recipients.sort();
    assert_eq!((report.senders, report.recipients), (senders, recipients));
    let head = report.head.unwrap();
    assert_eq!(head.seq, 199);
    assert!(verify_log(&f.path, Some(head)).unwrap().is_intact());
    // Every record parses back to what was sealed.
    let bytes = f.bytes();
    let mut sealed_records = lines(&bytes).into_iter().filter_map(|l| {
        match AuditRecord::parse_line(l.strip_suffix(b"\n").unwrap()).unwrap().event {
            AuditEvent::Sealed(s) => Some(s),
            _ => None,
        }
    });
    for s in &sealed {
        let r = sealed_records.next().unwrap();
        assert_eq!((r.message_id, r.sender, r.recipient, r.time), (s.message_id, s.sender, s.recipient, s.sent_at));
        assert_eq!((r.receipt_digest, r.envelope_sha256), (s.receipt_digest, Hash256::sha256(&s.envelope)));
        assert_eq!((r.envelope_len, r.ttl, r.expires_at), (s.envelope.len() as u64, 86_400, s.expires_at));
        assert_eq!(r.token_hmac, f.log.token_hmac(&format!("push-token-{}", sealed_index(&sealed, s) % 3)));
    }
}

fn sealed_index(all: &[Sent], s: &Sent) -> usize {
    all.iter().position(|x| x.message_id == s.message_id).unwrap()
}

#[test]
fn an_edited_record_is_caught_at_that_record() {
    let f = fixture();
    f.fill(12);
    let good = lines(&f.bytes());
    for k in 0..good.len() {
        // Change one digit of the record's `time` (a field every record has).
        let mut edited = good.clone();
        let text = String::from_utf8(edited[k].clone()).unwrap();
        let at = text.find("\"time\":").unwrap() + 7;
        let digit = text.as_bytes()[at];
        edited[k][at] = if digit == b'9' { b'1' } else { digit + 1 };
        expect_break(&edited.concat(), None, k as u64 + 1, BreakKind::HashMismatch);
    }
}

#[test]
fn an_edited_record_with_a_recomputed_hash_is_caught_at_the_next_link_or_by_the_anchor() {
    let f = fixture();
    f.fill(12);
    let good = lines(&f.bytes());
    let head = verify_bytes(&good.concat(), None).head.unwrap();
    for k in 0..good.len() {
        let mut record = AuditRecord::parse_line(good[k].strip_suffix(b"\n").unwrap()).unwrap();
        match &mut record.event {
            AuditEvent::Sealed(s) => s.ttl += 1,
            AuditEvent::Delivered(d) => d.time += 1,
            AuditEvent::Recovered(r) => r.time += 1,
            AuditEvent::Sent(o) | AuditEvent::TokenGone(o) | AuditEvent::Rejected(o) | AuditEvent::Failed(o) => {
                o.time += 1
            }
        }
        let mut edited = good.clone();
        edited[k] = record.to_line();
        assert!(AuditRecord::parse_line(edited[k].strip_suffix(b"\n").unwrap()).is_ok());
        if k + 1 < good.len() {
            expect_break(&edited.concat(), None, k as u64 + 2, BreakKind::PrevMismatch);
        } else {
            assert!(verify_bytes(&edited.concat(), None).is_intact(), "a chain alone cannot see this");
            expect_break(&edited.concat(), Some(head), k as u64 + 1, BreakKind::AnchorMismatch);
        }
    }
}

#[test]
fn a_deleted_record_is_caught_where_it_was() {
    let f = fixture();
    f.fill(12);
    let good = lines(&f.bytes());
    let head = verify_bytes(&good.concat(), None).head.unwrap();
    for k in 0..good.len() {
        let mut cut = good.clone();
        cut.remove(k);
        if k + 1 < good.len() {
            expect_break(&cut.concat(), None, k as u64 + 1, BreakKind::SeqMismatch);
        } else {
            // Removing the last records leaves a valid, shorter chain: only an anchor sees it.
            let report = verify_bytes(&cut.concat(), None);
            assert!(report.is_intact());
            assert_eq!(report.head.unwrap().seq, head.seq - 1);
            expect_break(&cut.concat(), Some(head), k as u64 + 1, BreakKind::AnchorMissing);
        }
    }
    // Removing everything after an anchor is caught too.
    let anchor = verify_bytes(&good[..8].concat(), None).head.unwrap();
    expect_break(&good[..5].concat(), Some(anchor), 6, BreakKind::AnchorMissing);
    assert!(verify_bytes(&good.concat(), Some(anchor)).is_intact());
}

#[test]
fn reordered_records_are_caught_at_the_first_moved_one() {
    let f = fixture();
    f.fill(12);
    let good = lines(&f.bytes());
    for k in 0..good.len() - 1 {
        let mut swapped = good.clone();
        swapped.swap(k, k + 1);
        expect_break(&swapped.concat(), None, k as u64 + 1, BreakKind::SeqMismatch);
    }
    let mut repeated = good.clone();
    repeated.insert(4, good[3].clone());
    expect_break(&repeated.concat(), None, 5, BreakKind::SeqMismatch);
}

#[test]
fn a_truncated_record_is_caught_at_that_record() {
    let f = fixture();
    f.fill(6);
    let good = lines(&f.bytes());
    let n = good.len();
    for k in 0..n - 1 {
        for keep in [0, 1, good[k].len() / 2, good[k].len() - 2] {
            let mut cut = good.clone();
            cut[k] = [&good[k][..keep], b"\n"].concat();
            expect_break(&cut.concat(), None, k as u64 + 1, BreakKind::Malformed);
        }
    }
}

#[test]
fn a_torn_last_line_is_reported_and_everything_before_stays_valid() {
    let f = fixture();
    f.fill(9);
    let full = f.bytes();
    let good = lines(&full);
    let before: usize = good[..good.len() - 1].iter().map(Vec::len).sum();
    for cut in before + 1..full.len() {
        let report = verify_bytes(&full[..cut], None);
        assert!(report.is_intact(), "cut at {cut}: {:?}", report.first_break);
        assert_eq!(report.records, good.len() as u64 - 1);
        let torn = report.torn_tail.unwrap();
        assert_eq!((torn.line, torn.offset, torn.len), (good.len() as u64, before as u64, (cut - before) as u64));
    }
    // The same through the file, then the next append repairs it on the record.
    fs::write(&f.path, &full[..full.len() - 10]).unwrap();
    let report = verify_log(&f.path, None).unwrap();
    assert_eq!(
        (report.records, report.torn_tail.map(|t| t.len)),
        (good.len() as u64 - 1, Some(good.last().unwrap().len() as u64 - 10))
    );
    let sealed = f.log.seal(&f.senders[0], &f.devices[0].public_key(), &Message::new("a", "b"), &BareEnvelope).unwrap();
    let report = verify_log(&f.path, None).unwrap();
    assert!(report.is_intact() && report.torn_tail.is_none());
    assert_eq!((report.records, report.recovered), (good.len() as u64 + 1, 1));
    let after = f.bytes();
    let last_two = lines(&after);
    let recovered = AuditRecord::parse_line(last_two[last_two.len() - 2].strip_suffix(b"\n").unwrap()).unwrap();
    match recovered.event {
        AuditEvent::Recovered(r) => {
            assert_eq!(r.discarded_bytes, good.last().unwrap().len() as u64 - 10);
            assert_eq!(r.discarded_sha256, Hash256::sha256(&full[before..full.len() - 10]));
        }
        other => panic!("expected a recovered record, got {other:?}"),
    }
    assert!(after.starts_with(&full[..before]), "nothing valid was lost");
    let last = AuditRecord::parse_line(last_two.last().unwrap().strip_suffix(b"\n").unwrap()).unwrap();
    assert!(matches!(last.event, AuditEvent::Sealed(s) if s.message_id == sealed.message_id));
}

#[test]
fn a_damaged_last_record_stops_appends_and_changes_nothing() {
    let f = fixture();
    f.fill(3);
    let mut bytes = f.bytes();
    let len = bytes.len();
    bytes[len - 5] = b'x'; // inside the last record's hash
    fs::write(&f.path, &bytes).unwrap();
    let err = f.log.seal(&f.senders[0], &f.devices[0].public_key(), &Message::new("a", "b"), &BareEnvelope);
    assert_eq!(err.unwrap_err().kind(), ErrorKind::Storage);
    assert_eq!(f.bytes(), bytes);
    expect_break(&bytes, None, lines(&bytes).len() as u64, BreakKind::Malformed);
}

#[test]
fn a_missing_log_is_an_error_and_a_first_record_starts_the_chain() {
    let f = fixture();
    // A deleted log is not an empty one.
    assert_eq!(verify_log(&f.path, None).unwrap_err().kind(), ErrorKind::Storage);
    assert_eq!(AuditLog::open_existing(&f.path).unwrap_err().kind(), ErrorKind::Storage);
    fs::write(&f.path, b"").unwrap();
    assert_eq!(verify_log(&f.path, None).unwrap(), VerifyReport::default());
    let anchor = Anchor { seq: 0, hash: Hash256::ZERO };
    assert_eq!(verify_log(&f.path, Some(anchor)).unwrap().first_break.unwrap().kind, BreakKind::AnchorMissing);
    f.fill(1);
    let first = AuditRecord::parse_line(f.bytes().strip_suffix(b"\n").unwrap()).unwrap();
    assert_eq!((first.seq, first.prev), (0, Hash256::ZERO));
}

#[test]
fn concurrent_writers_form_one_chain() {
    let f = fixture();
    std::thread::scope(|scope| {
        for t in 0..2 {
            let (path, sender, device) = (&f.path, &f.senders[t], &f.devices[t]);
            scope.spawn(move || {
                let log = AuditLog::open(path).unwrap();
                for i in 0..60 {
                    log.seal(sender, &device.public_key(), &Message::new("t", format!("{i}")), &BareEnvelope).unwrap();
                }
            });
        }
    });
    let report = verify_log(&f.path, None).unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break);
    assert_eq!((report.records, report.senders.len()), (120, 2));
}

#[test]
fn a_receipt_from_the_real_device_verifies_and_is_recorded_once() {
    let f = fixture();
    for (i, device) in f.devices.iter().enumerate() {
        let sealed = seal_on(&f.log, &f.senders[0], &device.public_key(), &Message::new("x", "y"), i);
        let (n, receipt) = open_with_receipt(device, &sealed);
        assert_eq!(n.id, sealed.message_id);
        assert!(verify_receipt(&sealed.receipt_digest, &receipt));
        // Through its text form, as the app would send it.
        let text = receipt.to_string();
        assert_eq!(text.len(), 22);
        let received: Receipt = text.parse().unwrap();
        let first = f.log.record_delivery(sealed.message_id, &received, NOW + 5).unwrap();
        match &first.event {
            AuditEvent::Delivered(d) => {
                assert_eq!((d.message_id, d.recipient, d.time), (sealed.message_id, device.key_id(), NOW + 5));
                assert_eq!(d.receipt, receipt);
            }
            other => panic!("expected a delivery, got {other:?}"),
        }
        let again = f.log.record_delivery(sealed.message_id, &received, NOW + 9).unwrap();
        assert_eq!(again, first, "a repeated receipt appends nothing");
    }
    let report = verify_log(&f.path, None).unwrap();
    assert!(report.is_intact());
    assert_eq!((report.records, report.delivered), (6, 3));
}

#[test]
fn a_receipt_for_another_message_or_from_another_key_does_not_verify() {
    let f = fixture();
    let (a, b) = (&f.devices[0], &f.devices[1]);
    let msg = Message::new("x", "y");
    let to_a = seal_on(&f.log, &f.senders[0], &a.public_key(), &msg, 0);
    let to_a_again = seal_on(&f.log, &f.senders[0], &a.public_key(), &msg, 0);
    let (_, receipt_a) = open_with_receipt(a, &to_a);
    let (_, receipt_a_again) = open_with_receipt(a, &to_a_again);
    // Another message, same device and sender.
    assert!(!verify_receipt(&to_a.receipt_digest, &receipt_a_again));
    let err = f.log.record_delivery(to_a.message_id, &receipt_a_again, NOW).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidReceipt);
    // Another key: the same message sealed to two devices (one id, two envelopes).
    let batch = f.senders[1].seal_batch([a.public_key(), b.public_key()], &msg, &BareEnvelope).unwrap();
    let (for_a, for_b) = (batch[0].as_ref().unwrap(), batch[1].as_ref().unwrap());
    for s in [for_a, for_b] {
        f.log.record_sealed(&BareEnvelope, s, None).unwrap();
    }
    let (_, receipt_b) = open_with_receipt(b, &sent(for_b.clone(), Delivered::Envelope));
    assert!(!verify_receipt(&for_a.receipt_digest, &receipt_b));
    let delivered = f.log.record_delivery(for_b.message_id, &receipt_b, NOW).unwrap();
    assert!(matches!(delivered.event, AuditEvent::Delivered(d) if d.recipient == b.key_id()), "credited to B only");
    // A guess, and a message the log never saw.
    let guess = Receipt::from_bytes([0; RECEIPT_LEN]);
    assert_eq!(f.log.record_delivery(to_a.message_id, &guess, NOW).unwrap_err().kind(), ErrorKind::InvalidReceipt);
    let unknown = MessageId::from_bytes([0xee; 16]);
    assert_eq!(f.log.record_delivery(unknown, &receipt_a, NOW).unwrap_err().kind(), ErrorKind::InvalidReceipt);
    let report = verify_log(&f.path, None).unwrap();
    assert!(report.is_intact());
    assert_eq!((report.records, report.delivered), (5, 1));

    // A delivered record edited to credit another device (hash recomputed) is inconsistent.
    let bytes = f.bytes();
    let good = lines(&bytes);
    let mut record = AuditRecord::parse_line(good[4].strip_suffix(b"\n").unwrap()).unwrap();
    if let AuditEvent::Delivered(d) = &mut record.event {
        d.recipient = a.key_id();
    }
    let mut edited = good.clone();
    edited[4] = record.to_line();
    expect_break(&edited.concat(), None, 5, BreakKind::UnmatchedDelivery);
}

/// The lines of a log holding `events` in this order, every link recomputed.
fn relink(events: impl IntoIterator<Item = AuditEvent>) -> Vec<Vec<u8>> {
    let mut prev = Hash256::ZERO;
    let mut out = Vec::new();
    for (seq, event) in events.into_iter().enumerate() {
        let line = AuditRecord { seq: seq as u64, prev, event, hash: Hash256::ZERO }.to_line();
        prev = AuditRecord::parse_line(line.strip_suffix(b"\n").unwrap()).unwrap().hash;
        out.push(line);
    }
    out
}

/// A gateway outcome record for `sealed`, as the delivery crate writes one.
fn outcome(message_id: MessageId, recipient: pushseal::KeyId) -> AuditEvent {
    AuditEvent::Sent(pushseal_audit::OutcomeEvent {
        time: NOW,
        message_id,
        recipient,
        gateway_id: Some("gateway-id".into()),
        reason: None,
        since: None,
        attempts: None,
        token_hmac: None,
    })
}

#[test]
fn each_outcome_follows_its_own_sealed_record_and_no_sealed_record_has_two() {
    let f = fixture();
    let all = f.fill(3);
    f.log.record_outcomes(vec![outcome(all[0].message_id, all[0].recipient)]).unwrap();
    f.log.record_outcomes(vec![outcome(all[1].message_id, all[1].recipient)]).unwrap();
    let report = verify_log(&f.path, None).unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break);
    let good = lines(&f.bytes());
    let records = good.len() as u64;

    // A second outcome for the same sealed record.
    f.log.record_outcomes(vec![outcome(all[0].message_id, all[0].recipient)]).unwrap();
    expect_break(&f.bytes(), None, records + 1, BreakKind::UnmatchedOutcome);

    // An outcome for a message never sealed to that device, or never sealed at all.
    for (message_id, recipient) in
        [(all[2].message_id, all[0].recipient), (MessageId::from_bytes([0xee; 16]), all[2].recipient)]
    {
        let mut edited = good.clone();
        let mut record = AuditRecord::parse_line(edited.last().unwrap().strip_suffix(b"\n").unwrap()).unwrap();
        let AuditEvent::Sent(event) = &mut record.event else { panic!("{record:?}") };
        (event.message_id, event.recipient) = (message_id, recipient);
        *edited.last_mut().unwrap() = record.to_line();
        expect_break(&edited.concat(), None, records, BreakKind::UnmatchedOutcome);
    }

    // An outcome moved before its sealed record (every hash recomputed).
    let mut moved: Vec<AuditRecord> =
        good.iter().map(|l| AuditRecord::parse_line(l.strip_suffix(b"\n").unwrap()).unwrap()).collect();
    let first_outcome = moved.iter().position(|r| matches!(r.event, AuditEvent::Sent(_))).unwrap();
    let outcome_record = moved.remove(first_outcome);
    moved.insert(0, outcome_record);
    let relinked = relink(moved.into_iter().map(|r| r.event));
    expect_break(&relinked.concat(), None, 1, BreakKind::UnmatchedOutcome);
}

#[test]
fn the_receipt_is_the_rfc_9180_export_of_the_envelope_context() {
    let sender = Sender::new(SenderSecretKey::from_bytes([3; 32]));
    let device_secret = pushseal::DeviceSecretKey::from_bytes([4; 32]);
    let mut device = DeviceKeyring::from_secret_key(pushseal::DeviceSecretKey::from_bytes([4; 32]));
    device.trust_sender(sender.public_key()).unwrap();
    let id = MessageId::from_bytes([0x42; 16]);
    let eph = Ephemeral::derive(b"receipt test ephemeral").unwrap();
    let sealed = sender.seal_with(&device.public_key(), &Message::new("t", "b"), &BareEnvelope, id, NOW, &eph).unwrap();
    let (_, receipt) = open_with_receipt(&device, &sent(sealed.clone(), Delivered::Envelope));

    // The independent `hpke` crate, from the envelope and the device's secret key.
    let env = Envelope::parse(&sealed.envelope).unwrap();
    let ctx = hpke::setup_receiver::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeR::Auth(<Kem as hpke::Kem>::PublicKey::from_bytes(sender.public_key().as_bytes()).unwrap()),
        &<Kem as hpke::Kem>::PrivateKey::from_bytes(device_secret.to_bytes().as_ref()).unwrap(),
        &<Kem as hpke::Kem>::EncappedKey::from_bytes(&env.header().enc).unwrap(),
        INFO,
    )
    .unwrap();
    let mut expected = [0u8; RECEIPT_LEN];
    ctx.export(&[RECEIPT_LABEL, id.as_bytes()].concat(), &mut expected).unwrap();
    assert_eq!(receipt.to_bytes(), expected);
    assert_eq!(sealed.receipt_digest, Receipt::from_bytes(expected).digest());
}

/// Every string a set of notifications carries, for the scan below.
fn protected_strings(messages: &[Message]) -> Vec<String> {
    let mut out = Vec::new();
    for m in messages {
        out.extend([m.title.clone(), m.body.clone()]);
        out.extend(m.data.values().cloned());
    }
    out.retain(|s| s.len() >= 4); // shorter strings match hex and numbers by chance
    out
}

/// The notifications in the repository's test vectors: every JSON object
/// with a string `title` and `body` (and its `data` map, if any).
fn vector_messages() -> Vec<Message> {
    fn walk(v: &serde_json::Value, out: &mut Vec<Message>) {
        match v {
            serde_json::Value::Object(map) => {
                if let (Some(title), Some(body)) =
                    (map.get("title").and_then(|t| t.as_str()), map.get("body").and_then(|b| b.as_str()))
                {
                    let mut m = Message::new(title, body);
                    if let Some(data) = map.get("data").and_then(|d| d.as_object()) {
                        for (k, v) in data {
                            if let Some(v) = v.as_str() {
                                m = m.with_data(k.clone(), v);
                            }
                        }
                    }
                    out.push(m);
                }
                map.values().for_each(|v| walk(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-vectors");
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let v: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
            walk(&v, &mut out);
        }
    }
    out
}

#[test]
fn the_log_never_holds_titles_bodies_data_values_or_tokens() {
    let f = fixture();
    let mut messages = vec![
        Message::new("HIV test result", "Your HIV test result is positive. Call Dr. Okafor.")
            .with_data("diagnosis", "B20 HIV disease")
            .with_data("patient", "Jane Q. Example, DOB 1984-02-29"),
        Message::new("Prescription ready", "Sertraline 50 mg is ready at Main St pharmacy.")
            .with_data("rx", "RX-99812-SERTRALINE"),
        Message::new("Appointment", "Oncology follow-up Tuesday 10:00").with_thread_id("oncology-thread-secret"),
    ];
    let vectors = vector_messages();
    assert!(vectors.len() >= 10, "the test vectors' notifications were not found");
    messages.extend(vectors);
    let tokens = ["apns-device-token-0123456789abcdef", "fcm-registration-token-ZZZ"];
    let mut sealed_count = 0;
    for (i, msg) in messages.iter().enumerate() {
        let device = &f.devices[i % 3];
        let token = tokens[i % 2];
        // Some vectors are too large on purpose; those seal nothing and log nothing.
        if let Ok(s) = seal_with_token(&f.log, &f.senders[i % 2], &device.public_key(), msg, i, token) {
            let (_, receipt) = open_with_receipt(device, &s);
            f.log.record_delivery(s.message_id, &receipt, NOW).unwrap();
            sealed_count += 1;
        }
    }
    assert!(sealed_count as usize > messages.len() / 2, "{sealed_count} of {} sealed", messages.len());
    let text = String::from_utf8(f.bytes()).unwrap();
    let report = verify_log(&f.path, None).unwrap();
    assert_eq!((report.sealed, report.delivered), (sealed_count, sealed_count));
    let mut needles = protected_strings(&messages);
    needles.extend(tokens.iter().map(|t| t.to_string()));
    needles.push("oncology-thread-secret".into());
    for needle in &needles {
        assert!(!text.contains(needle.as_str()), "the log contains {needle:?}");
        // Nor in a JSON-escaped form.
        let escaped = serde_json::to_string(needle).unwrap();
        assert!(!text.contains(escaped.trim_matches('"')), "the log contains {escaped}");
    }
}

#[test]
fn a_token_is_recorded_only_as_a_keyed_hash_and_only_with_a_token_key() {
    let f = fixture();
    let plain = AuditLog::open(f.path.with_extension("plain")).unwrap();
    let key = f.devices[0].public_key();
    let msg = Message::new("t", "b");
    let fcm = FcmOptions::with_token("fcm-token-x");
    let token_hmac = |log: &AuditLog, record: AuditRecord| match record.event {
        AuditEvent::Sealed(s) => (s.token_hmac, log.records_tokens()),
        other => panic!("expected a sealed record, got {other:?}"),
    };
    let expected = TokenKey::from_bytes(&[0x5a; 32]).unwrap().hmac("fcm-token-x");
    // A single seal records the token its target carries.
    let sealed = f.log.seal(&f.senders[0], &key, &msg, &fcm).unwrap();
    let first = AuditRecord::parse_line(f.bytes().strip_suffix(b"\n").unwrap()).unwrap();
    assert_eq!(token_hmac(&f.log, first), (Some(expected), true));
    let keyed = f.log.record_sealed(&fcm, &sealed, Some("fcm-token-x")).unwrap();
    assert_eq!(token_hmac(&f.log, keyed), (Some(expected), true));
    let other = f.log.record_sealed(&fcm, &sealed, Some("fcm-token-y")).unwrap();
    assert_ne!(token_hmac(&f.log, other).0, Some(expected), "a given token comes before the target's");
    // Without a token key: no token recorded at all, and no hash to compute.
    let unkeyed = plain.record_sealed(&fcm, &sealed, Some("fcm-token-x")).unwrap();
    assert_eq!(token_hmac(&plain, unkeyed), (None, false));
    assert_eq!(plain.token_hmac("x"), None);
    assert_eq!(f.log.token_hmac("fcm-token-x"), Some(expected));
}

#[test]
fn a_report_serializes_as_documented_and_reads_back() {
    let f = fixture();
    f.fill(6);
    let head = verify_log(&f.path, None).unwrap().head.unwrap();
    // A changed record, a torn last line, and an anchor: every member set.
    let mut edited = lines(&f.bytes());
    let at = edited[2].iter().position(|&b| b == b'9').unwrap_or(20);
    edited[2][at] = if edited[2][at] == b'1' { b'2' } else { b'1' };
    let mut bytes = edited.concat();
    bytes.extend_from_slice(b"{\"seq\":8");
    let report = verify_bytes(&bytes, Some(head));
    let broken = report.first_break.clone().unwrap();
    assert!(!report.intact && !report.is_intact() && report.torn_tail.is_some() && report.head.is_some());
    let json = serde_json::to_string(&report).unwrap();
    let expected_start = format!(
        "{{\"intact\":false,\"records\":2,\"lines\":{},\"sealed\":{},\"delivered\":{},\"recovered\":0,\"senders\":[",
        report.lines, report.sealed, report.delivered
    );
    assert!(json.starts_with(&expected_start), "{json}");
    assert!(
        json.contains(&format!(
            "\"head\":\"{}\",\"first_break\":{{\"line\":3,\"offset\":{},\"expected_seq\":2,\"kind\":\"{}\",\"reason\":\"{}\"}},\
             \"torn_tail\":{{\"line\":{},\"offset\":{},\"bytes\":8}}}}",
            report.head.unwrap(),
            broken.offset,
            broken.kind.name(),
            broken.kind.description(),
            report.lines + 1,
            bytes.len() - 8,
        )),
        "{json}"
    );
    let ids: Vec<String> = report.senders.iter().map(ToString::to_string).collect();
    assert!(json.contains(&format!("\"senders\":{}", serde_json::to_string(&ids).unwrap())), "{json}");
    assert_eq!(serde_json::from_str::<VerifyReport>(&json).unwrap(), report);
    // An intact log's report too, and a kind of break that does not exist is refused.
    let intact = verify_log(&f.path, None).unwrap();
    let json = serde_json::to_string(&intact).unwrap();
    assert!(json.starts_with("{\"intact\":true,") && json.ends_with("\"first_break\":null,\"torn_tail\":null}"));
    assert_eq!(serde_json::from_str::<VerifyReport>(&json).unwrap(), intact);
    let forged = serde_json::to_string(&report).unwrap().replace(broken.kind.name(), "no_such_break");
    assert!(serde_json::from_str::<VerifyReport>(&forged).is_err());
}
