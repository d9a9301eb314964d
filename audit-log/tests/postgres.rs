//! The PostgreSQL backend against a real server that each test starts on
//! 127.0.0.1 (see `pg_server`): writer processes appending at once form one
//! chain without a gap or a duplicate; the order is the database's, not the
//! writers' clocks; a retried append is not recorded twice; a connection cut
//! mid-batch fails the batch with `storage` and hands out nothing without
//! its record; a writer killed mid-append leaves nothing half-written;
//! tampering in the table is caught where it happened; deliveries are
//! checked and recorded once; a database without a log is not an empty log;
//! TLS is used when offered and verified against the CA given (a wrong CA or
//! name refused); the password comes from the string or a password file and
//! never shows in an error; a log made before the tree was stored gets its
//! tree when a store connects.

mod pg_server;

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pg_server::{Options, PgServer};
use pushseal::hpke::Ephemeral;
use pushseal::{
    BareEnvelope, BatchDevice, DeviceKeyring, DeviceSecretKey, ErrorKind, MemoryReplayStore, Message, MessageId,
    Sealed, Sender, SenderSecretKey,
};
use pushseal_audit::{AuditEvent, AuditLog, BreakKind, PgStore, RecordStore, TokenKey};

/// The environment variables that turn this test binary into a writer process.
const CHILD_URL: &str = "PUSHSEAL_PG_TEST_WRITER_URL";
const CHILD_ID: &str = "PUSHSEAL_PG_TEST_WRITER_ID";
const CHILD_COUNT: &str = "PUSHSEAL_PG_TEST_WRITER_COUNT";

fn sender(n: u8) -> Sender {
    Sender::new(SenderSecretKey::from_bytes([0x20 + n; 32]))
}

fn device() -> pushseal::DevicePublicKey {
    DeviceSecretKey::from_bytes([0x42; 32]).public_key()
}

/// A notification sealed by writer `writer` at time `time`, with a message
/// id unique to (`writer`, `n`).
fn sealed_at(writer: u8, n: u32, time: u64) -> Sealed<String> {
    let mut id = [0u8; 16];
    id[0] = writer;
    id[1..5].copy_from_slice(&n.to_be_bytes());
    let eph = Ephemeral::derive(&id).unwrap();
    sender(writer)
        .seal_with(&device(), &Message::new("t", "b"), &BareEnvelope, MessageId::from_bytes(id), time, &eph)
        .unwrap()
}

fn pg_log(url: &str) -> AuditLog {
    AuditLog::with_store(PgStore::connect(url).unwrap())
}

fn count(server: &PgServer, db: &str) -> i64 {
    server.connect(db).query_one("SELECT count(*) FROM pushseal_audit_records", &[]).unwrap().get(0)
}

/// Not a test of its own: the body of a writer process that the tests
/// below start by running this binary again with `CHILD_URL` set. It
/// appends `CHILD_COUNT` records (0: forever) from two threads sharing one
/// log, in groups of up to 200.
#[test]
fn writer_process() {
    let Ok(url) = std::env::var(CHILD_URL) else { return };
    let writer: u8 = std::env::var(CHILD_ID).unwrap().parse().unwrap();
    let total: u32 = std::env::var(CHILD_COUNT).unwrap().parse().unwrap();
    let log = pg_log(&url);
    std::thread::scope(|scope| {
        for thread in 0..2u32 {
            let log = log.clone();
            scope.spawn(move || {
                let mut n = thread;
                while total == 0 || n < total {
                    let s = sealed_at(writer, n, 1_767_225_600);
                    log.record_sealed(&BareEnvelope, &s, None).unwrap();
                    n += 2;
                }
            });
        }
    });
}

/// Starts this test binary as a writer process.
fn spawn_writer(url: &str, writer: u8, total: u32) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["writer_process", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_URL, url)
        .env(CHILD_ID, writer.to_string())
        .env(CHILD_COUNT, total.to_string())
        .stdout(Stdio::null()) // the harness's summary; a failure shows on stderr
        .spawn()
        .unwrap()
}

#[test]
fn writer_processes_appending_at_once_form_one_chain_without_gap_or_duplicate() {
    let server = PgServer::start();
    let url = server.create_database("fleet");
    let (writers, each) = (4u8, 150u32);
    let children: Vec<Child> = (0..writers).map(|w| spawn_writer(&url, w, each)).collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a writer process failed");
    }
    let store = PgStore::connect_existing(&url).unwrap();
    let report = store.verify(None).unwrap();
    let total = u64::from(writers) * u64::from(each);
    assert!(report.is_intact(), "{:?}", report.first_break);
    assert_eq!((report.records, report.sealed, report.lines), (total, total, total));
    assert_eq!(report.senders.len(), usize::from(writers));
    let mut db = server.connect("fleet");
    let row = db
        .query_one("SELECT count(*), count(DISTINCT event_key), min(seq), max(seq) FROM pushseal_audit_records", &[])
        .unwrap();
    let (n, distinct, min, max): (i64, i64, i64, i64) = (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!((n, distinct, min, max), (total as i64, total as i64, 0, total as i64 - 1));
    // The writers' appends interleave: the order is the database's.
    let senders: Vec<Vec<u8>> = db
        .query("SELECT line FROM pushseal_audit_records ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let first_writer_of =
        |line: &[u8]| String::from_utf8_lossy(line).split("\"sender\":\"").nth(1).unwrap()[..16].to_string();
    let switches = senders.windows(2).filter(|w| first_writer_of(&w[0]) != first_writer_of(&w[1])).count();
    assert!(switches > 0);
}

#[test]
fn the_order_is_the_databases_whatever_the_writers_clocks_say() {
    let server = PgServer::start();
    let url = server.create_database("skew");
    // Two hosts: one whose clock is a year ahead, one a year behind.
    let (ahead, behind) = (pg_log(&url), pg_log(&url));
    let year = 365 * 24 * 3600;
    let now = 1_767_225_600;
    let mut expected = Vec::new();
    for n in 0..5 {
        let a = sealed_at(1, n, now + year + u64::from(n));
        expected.push((ahead.record_sealed(&BareEnvelope, &a, None).unwrap().seq, a.message_id));
        let b = sealed_at(2, n, now - year - u64::from(n));
        expected.push((behind.record_sealed(&BareEnvelope, &b, None).unwrap().seq, b.message_id));
    }
    let seqs: Vec<u64> = expected.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (0..10).collect::<Vec<u64>>(), "each append follows the last one committed");
    let report = ahead.verify(None).unwrap();
    assert!(report.is_intact());
    assert_eq!(report.records, 10);
}

#[test]
fn a_retried_append_is_not_recorded_twice() {
    let server = PgServer::start();
    let url = server.create_database("retry");
    let key = || TokenKey::from_bytes(&[3; 32]).unwrap();
    let first = pg_log(&url).with_token_key(key());
    let s = sealed_at(1, 0, 1_767_225_600);
    let recorded = first.record_sealed(&BareEnvelope, &s, Some("tok")).unwrap();
    first.record_sealed(&BareEnvelope, &sealed_at(1, 1, 1_767_225_601), None).unwrap();
    // The caller lost its connection before the commit's answer and tries
    // again, on a new connection: it gets the stored record back.
    let retry = pg_log(&url).with_token_key(key());
    assert_eq!(retry.record_sealed(&BareEnvelope, &s, Some("tok")).unwrap(), recorded);
    // A whole group retried, with one new event in it: one new record.
    let store = PgStore::connect(&url).unwrap();
    let events = |r: &pushseal_audit::AuditRecord| r.event.clone();
    let new = sealed_at(1, 2, 1_767_225_602);
    let again = store.append(vec![events(&recorded), events(&recorded), sealed_event(&retry, &new)]).unwrap();
    assert_eq!((again[0].seq, again[1].seq, again[2].seq), (0, 0, 2));
    assert_eq!(count(&server, "retry"), 3);
    // The same message and device with other content is refused.
    let mut other = sealed_event(&retry, &new);
    if let AuditEvent::Sealed(e) = &mut other {
        e.ttl += 1;
    }
    let err = store.append(vec![other]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert!(err.to_string().contains("already stored with other content"), "{err}");
    assert_eq!(count(&server, "retry"), 3);
    assert!(store.verify(None).unwrap().is_intact());
}

/// The `sealed` event `log` records for `s`.
fn sealed_event(log: &AuditLog, s: &Sealed<String>) -> AuditEvent {
    // Record it in a scratch file log to get the event, as the library builds it.
    let dir = tempfile::tempdir().unwrap();
    let scratch = AuditLog::open(dir.path().join("a.jsonl")).unwrap();
    let scratch = match log.records_tokens() {
        true => scratch.with_token_key(TokenKey::from_bytes(&[3; 32]).unwrap()),
        false => scratch,
    };
    scratch.record_sealed(&BareEnvelope, s, None).unwrap().event
}

#[test]
fn a_connection_cut_mid_batch_fails_it_with_storage_and_hands_out_nothing_unrecorded() {
    let server = PgServer::start();
    let url = server.create_database("cut");
    let victim = format!("{url}?application_name=victim");
    let log = pg_log(&victim);
    let sender = sender(1);
    let msg = Message::new("t", "b");
    let devices: Vec<BatchDevice> = (0..600).map(|_| BatchDevice::new(device())).collect();
    let mut admin = server.connect("cut");
    let mut handed_out = Vec::new();
    let err = log
        .seal_batch_each(&sender, devices, &msg, &BareEnvelope, |result| {
            handed_out.push(result.sealed?.message_id);
            if handed_out.len() == 100 {
                // The database goes away for this writer, mid-batch.
                let cut: i64 = admin
                    .query_one(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'victim'",
                        &[],
                    )
                    .unwrap()
                    .get(0);
                assert_eq!(cut, 1);
            }
            Ok(())
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    assert!(err.to_string().contains("audit database"), "{err}");
    assert!(handed_out.len() >= 100 && handed_out.len() < 600, "{}", handed_out.len());
    let recorded: HashSet<String> = admin
        .query("SELECT line FROM pushseal_audit_records", &[])
        .unwrap()
        .iter()
        .map(|r| String::from_utf8(r.get(0)).unwrap())
        .collect();
    for id in &handed_out {
        assert!(recorded.iter().any(|line| line.contains(&id.to_string())), "{id} was handed out without its record");
    }
    assert!(log.verify(None).unwrap().is_intact());
    // The next append opens a new connection and continues the chain.
    let next = log.record_sealed(&BareEnvelope, &sealed_at(2, 0, 1), None).unwrap();
    assert_eq!(next.seq, recorded.len() as u64);
}

#[test]
fn a_server_that_goes_away_fails_appends_with_storage_until_it_is_back() {
    let mut server = PgServer::start();
    let url = server.create_database("away");
    let log = pg_log(&url);
    log.record_sealed(&BareEnvelope, &sealed_at(1, 0, 1), None).unwrap();
    server.stop();
    let err = log.record_sealed(&BareEnvelope, &sealed_at(1, 1, 1), None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage);
    server.restart();
    assert_eq!(log.record_sealed(&BareEnvelope, &sealed_at(1, 1, 1), None).unwrap().seq, 1);
    assert!(log.verify(None).unwrap().is_intact());
}

#[test]
fn a_writer_killed_mid_append_leaves_nothing_half_written() {
    let server = PgServer::start();
    let url = server.create_database("killed");
    PgStore::connect(&url).unwrap();
    let mut child = spawn_writer(&url, 7, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&server, "killed") < 200 {
        assert!(Instant::now() < deadline, "the writer appended nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let store = PgStore::connect_existing(&url).unwrap();
    let report = store.verify(None).unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break);
    assert_eq!(report.records as i64, count(&server, "killed"));
    let next = pg_log(&url).record_sealed(&BareEnvelope, &sealed_at(8, 0, 1), None).unwrap();
    assert_eq!(next.seq, report.records);
    assert_eq!(next.prev, report.head.unwrap().hash);
}

#[test]
fn tampering_in_the_table_is_caught_where_it_happened() {
    let server = PgServer::start();
    let url = server.create_database("tamper");
    let log = pg_log(&url);
    for n in 0..6 {
        log.record_sealed(&BareEnvelope, &sealed_at(1, n, 100 + u64::from(n)), None).unwrap();
    }
    let head = log.verify(None).unwrap().head.unwrap();
    let mut db = server.connect("tamper");
    // An edited record: its own hash breaks.
    db.execute("UPDATE pushseal_audit_records SET line = convert_to(replace(convert_from(line, 'UTF8'), '\"ttl\":86400', '\"ttl\":86401'), 'UTF8') WHERE seq = 2", &[])
        .unwrap();
    let broken = log.verify(None).unwrap().first_break.unwrap();
    assert_eq!((broken.line, broken.expected_seq, broken.kind), (3, 2, BreakKind::HashMismatch));
    // A deleted record: the next one's seq breaks.
    db.execute("DELETE FROM pushseal_audit_records WHERE seq = 2", &[]).unwrap();
    let broken = log.verify(None).unwrap().first_break.unwrap();
    assert_eq!((broken.line, broken.kind), (3, BreakKind::SeqMismatch));
    // The tail cut: only the anchor kept elsewhere shows it.
    db.execute("DELETE FROM pushseal_audit_records WHERE seq >= 2", &[]).unwrap();
    assert!(log.verify(None).unwrap().is_intact());
    assert_eq!(log.verify(Some(head)).unwrap().first_break.unwrap().kind, BreakKind::AnchorMissing);
    // A damaged last record stops appends and changes nothing.
    db.execute("UPDATE pushseal_audit_records SET line = 'not a record' WHERE seq = 1", &[]).unwrap();
    let err = log.record_sealed(&BareEnvelope, &sealed_at(1, 9, 1), None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert_eq!(count(&server, "tamper"), 2);
}

#[test]
fn a_delivery_is_checked_against_its_sealed_record_and_recorded_once() {
    let server = PgServer::start();
    let url = server.create_database("delivery");
    let log = pg_log(&url);
    let sender = sender(1);
    let mut phone = DeviceKeyring::generate().unwrap();
    phone.trust_sender(sender.public_key()).unwrap();
    let sealed = log.seal(&sender, &phone.public_key(), &Message::new("t", "b"), &BareEnvelope).unwrap();
    let replay = MemoryReplayStore::new();
    let payload = pushseal::Payload::Envelope(&sealed.payload);
    let (_, receipt) = phone.open_with_receipt(payload, &replay, sealed.sent_at).unwrap();
    let first = log.record_delivery(sealed.message_id, &receipt, 1_767_225_700).unwrap();
    assert!(matches!(first.event, AuditEvent::Delivered(_)));
    let again = pg_log(&url).record_delivery(sealed.message_id, &receipt, 1_767_225_800).unwrap();
    assert_eq!(again, first);
    let unknown = MessageId::from_bytes([9; 16]);
    assert_eq!(log.record_delivery(unknown, &receipt, 1).unwrap_err().kind(), ErrorKind::InvalidReceipt);
    let report = log.verify(None).unwrap();
    assert!(report.is_intact());
    assert_eq!((report.records, report.sealed, report.delivered), (2, 1, 1));
}

#[test]
fn a_database_without_a_log_is_not_an_empty_log() {
    let server = PgServer::start();
    let url = server.create_database("empty");
    let err = PgStore::connect_existing(&url).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert!(err.to_string().contains("holds no audit log"), "{err}");
    // The first sealing starts it.
    let log = pg_log(&url);
    assert_eq!(log.verify(None).unwrap().records, 0);
    assert_eq!(log.record_sealed(&BareEnvelope, &sealed_at(1, 0, 1), None).unwrap().seq, 0);
    assert!(PgStore::connect_existing(&url).is_ok());
}

#[test]
fn bad_connection_strings_and_absent_servers_are_storage_errors_without_the_password() {
    for bad in ["not a url", "postgres://u:pw@127.0.0.1:notaport/db"] {
        let err = PgStore::connect(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage);
        assert!(!err.to_string().contains("pw"), "{err}");
    }
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = PgStore::connect(&format!("postgres://u:hunter2@127.0.0.1:{port}/db")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage);
    let text = err.to_string();
    assert!(text.contains(&format!("u@127.0.0.1:{port}/db")) && !text.contains("hunter2"), "{text}");
    assert!(!format!("{:?}", PgStore::connect("postgres://u:hunter2@127.0.0.1:1/db").err()).contains("hunter2"));
    // A TLS mode libpq has and this backend does not, a client certificate: refused by name.
    for (bad, says) in [("sslmode=allow", "sslmode=allow is not one of"), ("sslcert=c.pem", "sslcert")] {
        let err = PgStore::connect(&format!("postgres://u:hunter2@127.0.0.1:{port}/db?{bad}")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(says) && !text.contains("hunter2"), "{text}");
    }
}

/// A CA and a certificate it signs for `names`, PEM: (CA, certificate, key).
fn test_ca(names: &[&str]) -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "PushSeal test database CA");
    ca_params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

#[test]
fn tls_is_used_when_offered_and_verified_against_the_ca_given() {
    let (ca, cert, key) = test_ca(&["127.0.0.1", "localhost"]);
    let (other_ca, ..) = test_ca(&["127.0.0.1", "localhost"]);
    let server = PgServer::start_with(&Options { tls: Some((&cert, &key)), ..Options::default() });
    let url = server.create_database("tls");
    let dir = tempfile::tempdir().unwrap();
    let (ca_file, other_file) = (dir.path().join("ca.pem"), dir.path().join("other-ca.pem"));
    std::fs::write(&ca_file, &ca).unwrap();
    std::fs::write(&other_file, &other_ca).unwrap();
    // Whether the connection of the store named `app` is encrypted, as the server sees it.
    let encrypted = |app: &str| -> bool {
        server
            .admin()
            .query_one(
                "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
                 WHERE a.application_name = $1",
                &[&app],
            )
            .unwrap()
            .get(0)
    };
    let with = |settings: &str| format!("{url}?{settings}");

    // verify-full with the right CA: TLS, and the log works through it.
    let full = PgStore::connect(&with(&format!(
        "sslmode=verify-full&sslrootcert={}&application_name=full",
        ca_file.display()
    )))
    .unwrap();
    full.append(vec![sealed_event(&pg_log(&url), &sealed_at(1, 0, 1))]).unwrap();
    assert!(encrypted("full"));
    // require (no certificate check, as in libpq), and the default (prefer): TLS too; disable: none.
    let require = PgStore::connect(&with("sslmode=require&application_name=require")).unwrap();
    let prefer = PgStore::connect(&with("application_name=prefer")).unwrap();
    let plain = PgStore::connect(&with("sslmode=disable&application_name=plain")).unwrap();
    assert!(encrypted("require") && encrypted("prefer") && !encrypted("plain"));
    for store in [&require, &prefer, &plain] {
        assert_eq!(store.tree_size().unwrap(), 1);
    }

    // Another CA: refused, with a storage error that says what to check and shows no password.
    let wrong = format!(
        "postgres://{}:hunter2@127.0.0.1:{}/tls?sslmode=verify-full&sslrootcert={}",
        pg_server::SUPERUSER,
        server.port(),
        other_file.display()
    );
    for url in [wrong.clone(), wrong.replace("verify-full", "require"), wrong.replace("verify-full", "prefer")] {
        let err = PgStore::connect(&url).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage);
        let text = err.to_string();
        assert!(text.contains("certificate") && text.contains("sslrootcert"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
    // A certificate that does not name the host: verify-full refuses it, verify-ca (chain only) takes it.
    let named = |mode: &str| {
        format!(
            "host=db.pushseal.invalid hostaddr=127.0.0.1 port={} user={} dbname=tls sslmode={mode} sslrootcert='{}'",
            server.port(),
            pg_server::SUPERUSER,
            ca_file.display()
        )
    };
    let err = PgStore::connect(&named("verify-full")).unwrap_err();
    assert!(err.to_string().contains("certificate"), "{err}");
    assert_eq!(PgStore::connect(&named("verify-ca")).unwrap().tree_size().unwrap(), 1);
}

#[test]
fn the_password_comes_from_the_string_or_a_password_file_and_never_shows_in_an_error() {
    let server = PgServer::start_with(&Options { password_user: Some(("fleet", "s3cret-pw")), ..Options::default() });
    server.create_database("pw");
    let port = server.port();
    let refused = |url: &str, secret: &str| {
        let err = PgStore::connect(url).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage);
        let text = err.to_string();
        assert!(text.contains(&format!("fleet@127.0.0.1:{port}/pw")), "{text}");
        assert!(secret.is_empty() || !text.contains(secret), "{text}");
        assert!(!format!("{err:?}").contains("s3cret-pw"));
    };
    let dir = tempfile::tempdir().unwrap();
    let passfile = dir.path().join("pgpass");
    // No password anywhere (an empty password file), a wrong one: refused.
    std::fs::write(&passfile, "").unwrap();
    refused(&format!("postgres://fleet@127.0.0.1:{port}/pw?passfile={}", passfile.display()), "");
    refused(&format!("postgres://fleet:wrong-pw@127.0.0.1:{port}/pw?passfile={}", passfile.display()), "wrong-pw");
    // The string's own.
    assert!(PgStore::connect(&format!("postgres://fleet:s3cret-pw@127.0.0.1:{port}/pw")).is_ok());
    // A password file, as libpq reads it (first matching line).
    let lines = format!(
        "# fleet
127.0.0.1:{port}:other:fleet:not-this
127.0.0.1:*:pw:fleet:s3cret-pw
*:*:*:*:nor-this
"
    );
    std::fs::write(&passfile, lines).unwrap();
    std::fs::set_permissions(&passfile, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let with_file = format!("host=127.0.0.1 port={port} user=fleet dbname=pw passfile={}", passfile.display());
    let store = PgStore::connect(&with_file).unwrap();
    assert_eq!(store.tree_size().unwrap(), 0);
    // Readable by others: refused, saying how to fix it, without the password.
    std::fs::set_permissions(&passfile, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let err = PgStore::connect(&with_file).unwrap_err().to_string();
    assert!(err.contains("chmod 0600") && !err.contains("s3cret-pw"), "{err}");
    // TLS required from a server that does not speak it: refused, not downgraded.
    let err = PgStore::connect(&format!("postgres://fleet:s3cret-pw@127.0.0.1:{port}/pw?sslmode=require")).unwrap_err();
    assert!(err.to_string().contains("TLS") && !err.to_string().contains("s3cret-pw"), "{err}");
}

#[test]
fn a_shared_value_is_refreshed_by_one_worker_and_reused_by_the_others() {
    use pushseal_audit::SharedValue;
    use std::sync::atomic::{AtomicU32, Ordering};
    let server = PgServer::start();
    let url = server.create_database("shared");
    let refreshed = AtomicU32::new(0);
    let now = 1_767_225_600;
    // Eight workers (each with its own connection, as on eight hosts) find no token at once.
    let tokens: Vec<SharedValue> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|_| {
                let (url, refreshed) = (&url, &refreshed);
                scope.spawn(move || {
                    PgStore::connect(url)
                        .unwrap()
                        .shared_value("apns-provider-token", now, 300, || {
                            let n = refreshed.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(200));
                            Ok(SharedValue::new(format!("token-{n}").into_bytes(), now + 3000))
                        })
                        .unwrap()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(refreshed.load(Ordering::SeqCst), 1, "one worker refreshes");
    assert!(tokens.iter().all(|t| t.value() == b"token-0" && t.expires_at() == now + 3000));
    assert!(!format!("{:?}", tokens[0]).contains("token-0"));
    let store = PgStore::connect(&url).unwrap();
    let never = || -> pushseal::Result<SharedValue> { panic!("a fresh value is not refreshed") };
    assert_eq!(store.shared_value("apns-provider-token", now + 2000, 300, never).unwrap().value(), b"token-0");
    // Within the margin of its expiry: refreshed.
    let next = store
        .shared_value("apns-provider-token", now + 2800, 300, || Ok(SharedValue::new(b"token-1".to_vec(), now + 6000)))
        .unwrap();
    assert_eq!(next.value(), b"token-1");
    // A refresh that fails stores nothing; one that returns a stale value is refused.
    let failed = store.shared_value("other", now, 300, || Err(pushseal::Error::Storage("signing failed".into())));
    assert_eq!(failed.unwrap_err().to_string(), pushseal::Error::Storage("signing failed".into()).to_string());
    let stale = store.shared_value("other", now, 300, || Ok(SharedValue::new(b"x".to_vec(), now + 10)));
    assert_eq!(stale.unwrap_err().kind(), ErrorKind::Storage);
    for bad in ["", "a\nb", &"n".repeat(129)] {
        assert!(store.shared_value(bad, now, 0, never).is_err());
    }
}

#[test]
fn the_tree_is_stored_as_it_grows_and_proofs_verify_as_for_the_file() {
    use pushseal_audit::LogTree;
    use pushseal_audit::checkpoint::LogSigningKey;
    let server = PgServer::start();
    let url = server.create_database("tree");
    let store = PgStore::connect(&url).unwrap();
    let key = LogSigningKey::generate("audit.example.com/fleet").unwrap();
    let verifier = key.verifier_key();
    let log = pg_log(&url);
    let mut checkpoints = Vec::new();
    // Groups of every size, so that appends start and end anywhere in the tree.
    let mut n = 0;
    for group in [1u32, 2, 3, 5, 8, 13, 1, 64, 7] {
        let events: Vec<AuditEvent> = (0..group).map(|i| sealed_event(&log, &sealed_at(1, n + i, 1))).collect();
        n += group;
        store.append(events).unwrap();
        let note = store.checkpoint(&key).unwrap();
        checkpoints.push(verifier.open(note.as_bytes(), &[]).unwrap().checkpoint);
    }
    // The same records in a file: the same tree.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.jsonl");
    let mut bytes = Vec::new();
    for row in server.connect("tree").query("SELECT line FROM pushseal_audit_records ORDER BY seq", &[]).unwrap() {
        bytes.extend_from_slice(row.get::<_, &[u8]>(0));
        bytes.push(b'\n');
    }
    std::fs::write(&file, &bytes).unwrap();
    let tree = LogTree::read(&file).unwrap();
    assert_eq!(tree.size(), u64::from(n));
    for cp in &checkpoints {
        assert_eq!(tree.root_at(cp.size).unwrap(), cp.root);
        assert_eq!(store.root_at(cp.size).unwrap(), cp.root);
    }
    let last = checkpoints.last().unwrap();
    for record in [0, 1, 5, 31, 63, u64::from(n) - 1] {
        let proof = store.prove_inclusion(record, last).unwrap();
        assert_eq!(proof, tree.prove_inclusion(record, last).unwrap());
        proof.verify(last).unwrap();
    }
    for old in &checkpoints {
        let proof = store.prove_consistency(old, last).unwrap();
        proof.verify(old, last).unwrap();
    }
    // verify checks the stored tree against the records' tree.
    assert!(store.verify(None).unwrap().is_intact());
    let mut db = server.connect("tree");
    db.execute("UPDATE pushseal_audit_tree SET hash = decode(repeat('00', 32), 'hex') WHERE idx = 7", &[]).unwrap();
    let err = store.verify(None).unwrap_err();
    assert!(err.to_string().contains("differs from the records' at stored hash 7"), "{err}");
    // A record past the checkpoint, a stored hash deleted: refused, not wrong.
    assert_eq!(store.prove_inclusion(u64::from(n), last).unwrap_err().kind(), ErrorKind::Malformed);
    server.connect("tree").execute("DELETE FROM pushseal_audit_tree WHERE idx = 0", &[]).unwrap();
    assert_eq!(store.prove_inclusion(1, last).unwrap_err().kind(), ErrorKind::Storage);
}

#[test]
fn a_log_made_before_the_tree_was_stored_gets_its_tree_when_a_store_connects() {
    use pushseal_audit::checkpoint::LogSigningKey;
    let server = PgServer::start();
    let url = server.create_database("old");
    let key = LogSigningKey::generate("audit.example.com/fleet").unwrap();
    let verifier = key.verifier_key();
    let log = pg_log(&url);
    let store = PgStore::connect(&url).unwrap();
    let events: Vec<AuditEvent> = (0..11).map(|n| sealed_event(&log, &sealed_at(1, n, 1))).collect();
    store.append(events).unwrap();
    let before = verifier.open(store.checkpoint(&key).unwrap().as_bytes(), &[]).unwrap().checkpoint;
    drop((store, log));
    // The database as a version without the tree left it.
    server.connect("old").batch_execute("DROP TABLE pushseal_audit_tree").unwrap();

    // To verify (connect_existing): the tree is rebuilt from the records, the same tree.
    let store = PgStore::connect_existing(&url).unwrap();
    assert!(store.verify(None).unwrap().is_intact());
    assert_eq!(store.root_at(11).unwrap(), before.root);
    let stored: i64 = server.connect("old").query_one("SELECT count(*) FROM pushseal_audit_tree", &[]).unwrap().get(0);
    assert_eq!(stored, 11 * 2 - 3, "2n - popcount(n) stored hashes for n = 11");
    // To seal (connect), once more: left as it is, and appends go on.
    server.connect("old").batch_execute("DROP TABLE pushseal_audit_tree").unwrap();
    let store = PgStore::connect(&url).unwrap();
    let log = pg_log(&url);
    store.append(vec![sealed_event(&log, &sealed_at(1, 11, 1))]).unwrap();
    let after = verifier.open(store.checkpoint(&key).unwrap().as_bytes(), &[]).unwrap().checkpoint;
    assert_eq!(after.size, 12);
    store.prove_consistency(&before, &after).unwrap().verify(&before, &after).unwrap();
    assert!(PgStore::connect(&url).unwrap().verify(None).unwrap().is_intact());
}
