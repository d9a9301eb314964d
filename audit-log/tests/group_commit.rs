//! Group commit and streamed batches: no notification leaves before its
//! record is durable (a store whose sync fails hands nothing out), sealers
//! working at once share syncs and all get durable records, and a streamed
//! batch yields exactly one result per device, each with its own token.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use pushseal::{
    BareEnvelope, BatchDevice, DeviceKeyring, DevicePublicKey, ErrorKind, FcmOptions, Message, Result, Sender,
    SenderSecretKey,
};
use pushseal_audit::{
    Anchor, AuditEvent, AuditLog, AuditRecord, Decision, FileStore, RecordStore, TokenKey, VerifyReport, verify_log,
};

/// A file store that counts its appends (one write and one sync each),
/// takes at least a millisecond for each (a slow disk: sealers pile up
/// behind it), and fails them, writing nothing, while `failing` is set: a
/// disk whose sync fails.
#[derive(Debug)]
struct Flaky {
    file: FileStore,
    failing: Arc<AtomicBool>,
    appends: Arc<AtomicUsize>,
}

impl RecordStore for Flaky {
    fn append(&self, events: Vec<AuditEvent>) -> Result<Vec<AuditRecord>> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(pushseal::Error::Storage("audit log: cannot sync: injected failure".into()));
        }
        self.appends.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(1));
        self.file.append(events)
    }

    fn append_after_scan(
        &self,
        visit: &mut dyn FnMut(AuditRecord),
        decide: &mut dyn FnMut() -> Result<Decision>,
    ) -> Result<AuditRecord> {
        self.file.append_after_scan(visit, decide)
    }

    fn verify(&self, anchor: Option<Anchor>) -> Result<VerifyReport> {
        self.file.verify(anchor)
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    log: AuditLog,
    failing: Arc<AtomicBool>,
    appends: Arc<AtomicUsize>,
    sender: Sender,
    devices: Vec<DevicePublicKey>,
}

fn fixture(devices: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let (failing, appends) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let store = Flaky { file: FileStore::open(&path).unwrap(), failing: failing.clone(), appends: appends.clone() };
    let log = AuditLog::with_store(store).with_token_key(TokenKey::from_bytes(&[3; 32]).unwrap());
    let keys: Vec<DevicePublicKey> = (0..8).map(|_| DeviceKeyring::generate().unwrap().public_key()).collect();
    let devices = (0..devices).map(|i| keys[i % keys.len()]).collect();
    Fixture {
        _dir: dir,
        path,
        log,
        failing,
        appends,
        sender: Sender::new(SenderSecretKey::generate().unwrap()),
        devices,
    }
}

#[test]
fn a_failing_sync_hands_out_nothing_it_covered() {
    let f = fixture(300);
    let msg = Message::new("t", "b");
    f.failing.store(true, Ordering::SeqCst);
    let single = f.log.seal(&f.sender, &f.devices[0], &msg, &BareEnvelope);
    assert_eq!(single.unwrap_err().kind(), ErrorKind::Storage);
    let mut handed_out = 0;
    let batch = f.log.seal_batch_each(&f.sender, &f.devices, &msg, &BareEnvelope, |_| {
        handed_out += 1;
        Ok(())
    });
    assert_eq!(batch.unwrap_err().kind(), ErrorKind::Storage);
    assert_eq!(handed_out, 0, "no result of a batch whose record failed reached the caller");

    // The disk fails part way through a batch: what was handed out was recorded first.
    f.failing.store(false, Ordering::SeqCst);
    let mut handed_out = Vec::new();
    let result = f.log.seal_batch_each(&f.sender, &f.devices, &msg, &BareEnvelope, |r| {
        handed_out.push(r.sealed?.message_id);
        f.failing.store(true, Ordering::SeqCst);
        Ok(())
    });
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Storage);
    assert!(!handed_out.is_empty() && handed_out.len() < f.devices.len());
    let report = verify_log(&f.path, None).unwrap();
    assert!(report.is_intact());
    assert!(report.sealed as usize >= handed_out.len(), "every result handed out has its record");
}

#[test]
fn concurrent_sealers_share_syncs_and_all_get_durable_records() {
    let f = fixture(8);
    let (threads, each) = (8, 40);
    let ids: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (log, sender, device) = (&f.log, &f.sender, &f.devices[t]);
                scope.spawn(move || {
                    (0..each)
                        .map(|i| log.seal(sender, device, &Message::new("t", format!("{i}")), &BareEnvelope).unwrap())
                        .map(|s| s.message_id)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let report = verify_log(&f.path, None).unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break);
    assert_eq!(report.sealed as usize, threads * each);
    let text = std::fs::read_to_string(&f.path).unwrap();
    for id in &ids {
        assert!(text.contains(&id.to_string()), "no record for {id}");
    }
    // Each append is one sync. While one takes its millisecond, the other
    // seven sealers queue and share the next: one append per seal would be 320.
    let appends = f.appends.load(Ordering::SeqCst);
    assert!(appends <= threads * each / 2, "{appends} appends for {} seals", threads * each);
}

#[test]
fn a_streamed_batch_yields_one_result_per_device_each_with_its_own_token() {
    let f = fixture(1000);
    let devices: Vec<BatchDevice> =
        f.devices.iter().enumerate().map(|(i, key)| BatchDevice::new(*key).with_token(format!("token-{i}"))).collect();
    let msg = Message::new("t", "b");
    let mut seen = HashSet::new();
    let mut next = 0;
    f.log
        .seal_batch_each(&f.sender, devices, &msg, &FcmOptions::default(), |r| {
            assert_eq!(r.index, next, "in order");
            next += 1;
            let token = format!("token-{}", r.index);
            assert_eq!(r.token.as_deref(), Some(token.as_str()));
            let message = r.sealed?.payload;
            let json: serde_json::Value = serde_json::from_str(&message.json).unwrap();
            assert_eq!(json["token"], token.as_str(), "each device's message carries its own token");
            assert!(seen.insert(r.index));
            Ok(())
        })
        .unwrap();
    assert_eq!(seen.len(), 1000);
    let report = verify_log(&f.path, None).unwrap();
    assert_eq!(report.sealed, 1000);
    // Each record holds its own device's token hash.
    let text = std::fs::read_to_string(&f.path).unwrap();
    for i in [0, 1, 999] {
        assert!(text.contains(&f.log.token_hmac(&format!("token-{i}")).unwrap().to_string()));
        assert_eq!(text.matches(&f.log.token_hmac(&format!("token-{i}")).unwrap().to_string()).count(), 1);
    }
    assert!(f.appends.load(Ordering::SeqCst) < 1000, "a batch's chunk is recorded with one sync");
}

/// A store that loses its records: it writes, but returns none of them.
#[derive(Debug)]
struct Lossy(FileStore);

impl RecordStore for Lossy {
    fn append(&self, events: Vec<AuditEvent>) -> Result<Vec<AuditRecord>> {
        self.0.append(events).map(|_| Vec::new())
    }

    fn append_after_scan(
        &self,
        visit: &mut dyn FnMut(AuditRecord),
        decide: &mut dyn FnMut() -> Result<Decision>,
    ) -> Result<AuditRecord> {
        self.0.append_after_scan(visit, decide)
    }

    fn verify(&self, anchor: Option<Anchor>) -> Result<VerifyReport> {
        self.0.verify(anchor)
    }
}

#[test]
fn a_store_that_returns_other_records_than_it_was_given_is_a_bug_not_an_error() {
    // Not an error kind a caller could act on (nothing in its request is
    // wrong): a panic that names the store, as the store's own panic would be.
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::with_store(Lossy(FileStore::open(dir.path().join("audit.jsonl")).unwrap()));
    let sender = Sender::new(SenderSecretKey::generate().unwrap());
    let device = DeviceKeyring::generate().unwrap().public_key();
    let seal = || log.seal(&sender, &device, &Message::new("t", "b"), &BareEnvelope);
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(seal)).expect_err("a lost record is a bug");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("an audit log store returned another number of records than events"), "{message}");
    // The log is usable after: the next append leads a new group.
    let store = AuditLog::with_store(FileStore::open(dir.path().join("audit.jsonl")).unwrap());
    store.seal(&sender, &device, &Message::new("t", "b"), &BareEnvelope).unwrap();
}

#[test]
fn a_batch_with_or_without_a_log_stops_with_the_callers_own_error() {
    // The caller's error comes back as it was, of its own type; no error kind
    // of the core stands for "the caller stopped".
    #[derive(Debug, PartialEq)]
    enum Stop {
        Here(usize),
        Core(ErrorKind),
    }
    impl From<pushseal::Error> for Stop {
        fn from(e: pushseal::Error) -> Self {
            Stop::Core(e.kind())
        }
    }
    let f = fixture(100);
    let msg = Message::new("t", "b");
    for log in [None, Some(&f.log)] {
        let mut seen = 0;
        let result = pushseal_audit::seal_batch_each(log, &f.sender, &f.devices, &msg, &BareEnvelope, |r| {
            seen += 1;
            if r.index == 9 { Err(Stop::Here(r.index)) } else { Ok(()) }
        });
        assert_eq!((result, seen), (Err(Stop::Here(9)), 10));
    }
    let report = verify_log(&f.path, None).unwrap();
    assert!(report.sealed >= 10 && report.intact, "with the log, what was handed out was recorded");
    f.failing.store(true, Ordering::SeqCst);
    let failed = pushseal_audit::seal_batch_each(Some(&f.log), &f.sender, &f.devices, &msg, &BareEnvelope, |_| Ok(()));
    assert_eq!(failed, Err(Stop::Core(ErrorKind::Storage)));
}
