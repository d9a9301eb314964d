//! `--audit-db` through the built `pushseal` binary, against a real
//! PostgreSQL server the test starts on 127.0.0.1: senders running at once
//! append to one log, a device's receipt is recorded in it, `audit verify
//! --audit-db` checks it; a database without a log and conflicting flags
//! are refused.

#[path = "../../audit-log/tests/pg_server/mod.rs"]
mod pg_server;

use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pushseal");

const MESSAGE: &[u8] = br#"{"title": "Appointment", "body": "Tomorrow at 9:00.", "data": {"ref": "appt-12"}}"#;

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A usage error exits before reading its input.
    let _ = std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin);
    child.wait_with_output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "status {:?}, stderr: {}", o.status, String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn json(s: &str) -> Value {
    serde_json::from_str(s.trim()).unwrap()
}

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
