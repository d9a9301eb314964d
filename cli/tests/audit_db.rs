//! `--audit-db` through the built `pushseal` binary, against a real
//! PostgreSQL server the test starts on 127.0.0.1: senders running at once
//! append to one log, a device's receipt is recorded in it, `audit verify
//! --audit-db` checks it; `audit checkpoint` and `audit prove` work on it as
//! on a file, with the same proofs, and catch a log cut back; the password
//! comes from `PGPASSWORD` or the password file and never shows in an error;
//! a database without a log and conflicting flags are refused.

#[path = "../../audit-log/tests/pg_server/mod.rs"]
mod pg_server;

use std::process::{Command, Output, Stdio};

mod common;
use common::{BIN, json, run, succeeded as ok};

const MESSAGE: &[u8] = br#"{"title": "Appointment", "body": "Tomorrow at 9:00.", "data": {"ref": "appt-12"}}"#;

#[test]
fn senders_share_one_log_in_postgresql() {
    let server = pg_server::PgServer::start();
    let url = server.create_database("fleet");
    let dir = tempfile::tempdir().unwrap();
    let key = |name: &str| {
        let path = dir.path().join(name).to_str().unwrap().to_owned();
        let printed = json(&ok(&run(&["keygen", "--secret-out", &path], b"")));
        (path, printed["public_key"].as_str().unwrap().to_owned())
    };
    let (device, device_public) = key("device.key");
    let senders: Vec<(String, String)> = (0..3).map(|i| key(&format!("sender-{i}.key"))).collect();

    // Three senders seal at once, each to the device twice.
    let sealed: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = senders
            .iter()
            .map(|(path, _)| {
                let url = &url;
                let device_public = &device_public;
                scope.spawn(move || {
                    ok(&run(
                        &["seal", "--to", device_public, "--to", device_public, "--from", path, "--audit-db", url],
                        MESSAGE,
                    ))
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert!(sealed.iter().all(|out| out.lines().count() == 2));

    // The device opens one and its receipt is recorded in the database's log.
    let first = json(sealed[0].lines().next().unwrap());
    let opened = json(&ok(&run(
        &["open", "--secret", &device, "--sender", &senders[0].1, "--receipt"],
        first["payload"].to_string().as_bytes(),
    )));
    let (id, receipt) = (opened["id"].as_str().unwrap(), opened["receipt"].as_str().unwrap());
    let args = ["audit", "receipt", "--audit-db", &url, "--message-id", id, "--receipt", receipt];
    let delivered = json(&ok(&run(&args, b"")));
    assert_eq!(delivered["type"], "delivered");
    assert_eq!(json(&ok(&run(&args, b""))), delivered, "recorded once");

    let summary = json(&ok(&run(&["audit", "verify", "--audit-db", &url], b"")));
    assert_eq!(summary["intact"], true);
    assert_eq!((summary["records"].as_u64(), summary["sealed"].as_u64()), (Some(7), Some(6)));
    assert_eq!(summary["senders"].as_array().unwrap().len(), 3);
    let head = summary["head"].as_str().unwrap();
    ok(&run(&["audit", "verify", "--audit-db", &url, "--anchor", head], b""));

    // A database without a log is not an empty one.
    let empty = server.create_database("empty");
    let o = run(&["audit", "verify", "--audit-db", &empty], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("holds no audit log"));
    // One log at a time; a token key needs a log.
    let file = dir.path().join("a.jsonl");
    let both = ["seal", "--to", &device_public, "--from", &senders[0].0, "--audit-db", &url, "--audit-log"];
    let o = run(&[&both[..], &[file.to_str().unwrap()]].concat(), MESSAGE);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["audit", "verify", file.to_str().unwrap(), "--audit-db", &url], b"");
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["seal", "--to", &device_public, "--from", &senders[0].0, "--token-key-file", "k"], MESSAGE);
    assert_eq!(o.status.code(), Some(2));
}

/// Makes a device key and a sender key in `dir`: the device's public key
/// and the sender's secret key file.
fn device_and_sender(dir: &std::path::Path) -> (String, String) {
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let printed = json(&ok(&run(&["keygen", "--secret-out", &path("device.key")], b"")));
    ok(&run(&["keygen", "--secret-out", &path("sender.key")], b""));
    (printed["public_key"].as_str().unwrap().to_owned(), path("sender.key"))
}

/// Writes `text` to `dir/name` and returns the path.
fn put(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn checkpoints_and_proofs_of_a_database_log_are_those_of_the_same_log_in_a_file() {
    let server = pg_server::PgServer::start();
    let url = server.create_database("proofs");
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (device, sender) = device_and_sender(dir.path());
    let seal = |n: usize| {
        let tos: Vec<&str> = std::iter::repeat_n(["--to", device.as_str()], n).flatten().collect();
        let args = [&["seal", "--from", &sender, "--audit-db", &url][..], &tos].concat();
        ok(&run(&args, MESSAGE));
    };
    let signing = path("log-signing.key");
    let printed =
        json(&ok(&run(&["audit", "keygen", "--name", "audit.example.com/fleet", "--secret-out", &signing], b"")));
    let vkey = printed["verifier_key"].as_str().unwrap().to_owned();
    let checkpoint = || ok(&run(&["audit", "checkpoint", "--audit-db", &url, "--signing-key", &signing], b""));

    seal(3);
    let old = put(dir.path(), "cp-old", &checkpoint());
    seal(5);
    let new = put(dir.path(), "cp-new", &checkpoint());
    assert!(std::fs::read_to_string(&new).unwrap().starts_with("audit.example.com/fleet\n8\n"));
    let checked = json(&ok(&run(&["audit", "verify", "--key", &vkey, "--checkpoint", &new], b"")));
    assert_eq!(checked["checkpoint"]["size"], 8);

    // The same records exported to a file give the same checkpoint body and the same proofs.
    let mut exported = Vec::new();
    for row in server.connect("proofs").query("SELECT line FROM pushseal_audit_records ORDER BY seq", &[]).unwrap() {
        exported.extend_from_slice(row.get::<_, &[u8]>(0));
        exported.push(b'\n');
    }
    let file = path("export.jsonl");
    std::fs::write(&file, &exported).unwrap();
    let from_file = ok(&run(&["audit", "checkpoint", &file, "--signing-key", &signing], b""));
    let body = |note: &str| note.split_once("\n\n").unwrap().0.to_owned();
    assert_eq!(body(&from_file), body(&std::fs::read_to_string(&new).unwrap()));

    for record in ["0", "4", "7"] {
        let proof = ok(&run(&["audit", "prove", "--audit-db", &url, "--record", record, "--checkpoint", &new], b""));
        assert_eq!(proof, ok(&run(&["audit", "prove", &file, "--record", record, "--checkpoint", &new], b"")));
        let proof = put(dir.path(), &format!("record-{record}.proof"), &proof);
        let included =
            json(&ok(&run(&["audit", "verify", "--key", &vkey, "--checkpoint", &new, "--proof", &proof], b"")));
        assert_eq!(included["included"], true);
        assert_eq!(included["record"].to_string(), record);
    }
    let grew = ok(&run(&["audit", "prove", "--audit-db", &url, "--from", &old, "--to", &new], b""));
    assert_eq!(grew, ok(&run(&["audit", "prove", &file, "--from", &old, "--to", &new], b"")));
    let grew = put(dir.path(), "grew.proof", &grew);
    let consistent =
        json(&ok(&run(&["audit", "verify", "--key", &vkey, "--from", &old, "--to", &new, "--proof", &grew], b"")));
    assert_eq!(consistent["consistent"], true);

    // A record past the checkpoint; PATH and --audit-db together; neither.
    let o = run(&["audit", "prove", "--audit-db", &url, "--record", "8", "--checkpoint", &new], b"");
    assert_eq!(o.status.code(), Some(1));
    let o = run(&["audit", "prove", &file, "--audit-db", &url, "--record", "1", "--checkpoint", &new], b"");
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["audit", "checkpoint", "--signing-key", &signing], b"");
    assert_eq!(o.status.code(), Some(2));

    // The database cut back to 6 records: the proofs name it.
    let mut db = server.connect("proofs");
    db.batch_execute(
        "DELETE FROM pushseal_audit_records WHERE seq >= 6; DELETE FROM pushseal_audit_tree WHERE idx >= 10",
    )
    .unwrap();
    let o = run(&["audit", "prove", "--audit-db", &url, "--from", &old, "--to", &new], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cut back"), "{}", String::from_utf8_lossy(&o.stderr));
    // A damaged record: no checkpoint is signed over it.
    db.execute("UPDATE pushseal_audit_records SET line = 'x' WHERE seq = 2", &[]).unwrap();
    let o = run(&["audit", "checkpoint", "--audit-db", &url, "--signing-key", &signing], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("broken"), "{}", String::from_utf8_lossy(&o.stderr));
    // A database without a log is not an empty one.
    let empty = server.create_database("empty");
    let o = run(&["audit", "checkpoint", "--audit-db", &empty, "--signing-key", &signing], b"");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("holds no audit log"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_password_comes_from_pgpassword_or_the_password_file_and_never_shows_in_an_error() {
    let options = pg_server::Options { password_user: Some(("fleet", "s3cret-pw")), ..Default::default() };
    let server = pg_server::PgServer::start_with(&options);
    server.create_database("pw");
    let url = format!("postgres://fleet@127.0.0.1:{}/pw", server.port());
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (device, sender) = device_and_sender(dir.path());
    // A seal with only these password sources (HOME: a directory of the test's).
    let seal = |env: &[(&str, &str)]| {
        let mut command = Command::new(BIN);
        command
            .args(["seal", "--to", &device, "--from", &sender, "--audit-db", &url])
            .env_remove("PGPASSWORD")
            .env_remove("PGPASSFILE")
            .env("HOME", &home)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), MESSAGE).unwrap();
        child.wait_with_output().unwrap()
    };
    let refused = |o: &Output, secret: &str| {
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("fleet@127.0.0.1") && !stderr.contains(secret), "{stderr}");
        assert!(o.stdout.is_empty(), "nothing handed out without its record");
    };
    refused(&seal(&[]), "s3cret-pw");
    refused(&seal(&[("PGPASSWORD", "wrong-pw")]), "wrong-pw");
    ok(&seal(&[("PGPASSWORD", "s3cret-pw")]));
    // ~/.pgpass, as libpq reads it; one others can read is refused.
    let pgpass = home.join(".pgpass");
    std::fs::write(&pgpass, format!("127.0.0.1:{}:pw:fleet:s3cret-pw\n", server.port())).unwrap();
    std::fs::set_permissions(&pgpass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    ok(&seal(&[]));
    std::fs::set_permissions(&pgpass, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let o = seal(&[]);
    refused(&o, "s3cret-pw");
    assert!(String::from_utf8_lossy(&o.stderr).contains("chmod 0600"));
    // PGPASSFILE names another file.
    let elsewhere = path("pgpass");
    std::fs::write(&elsewhere, "*:*:*:fleet:s3cret-pw\n").unwrap();
    std::fs::set_permissions(&elsewhere, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    ok(&seal(&[("PGPASSFILE", elsewhere.as_str())]));
    let summary = json(&ok(&run(&["audit", "verify", "--audit-db", &format!("{url}?passfile={elsewhere}")], b"")));
    assert_eq!(summary["sealed"], 3);
}
