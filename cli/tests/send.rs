//! `pushseal send` against the local gateways (`pushseal gateway apns|fcm`)
//! on loopback: one JSON line per device with its outcome (delivered,
//! token_gone, not_sealed), never the push token or the notification; the
//! outcomes recorded in the audit log; exit status 0 whatever the devices'
//! outcomes, and 1 with one line naming the key or the account for a
//! configuration error (a wrong .p8, a service account the gateway does not
//! know) or a device list that is not one (before anything is sent).

#[path = "../../audit-log/tests/pg_server/mod.rs"]
mod pg_server;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use pushseal_delivery::gateway::apns::new_test_key_pem;
use pushseal_delivery::gateway::fcm::TestServiceAccount;

const BIN: &str = env!("CARGO_BIN_EXE_pushseal");
const NOTIFICATION: &str = r#"{"title":"Lab results","body":"Ready to view."}"#;
const APNS_TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A running `pushseal gateway`, stopped (its input closed) on drop.
struct Gateway {
    child: Child,
    started: serde_json::Value,
}

impl Gateway {
    fn start(args: &[&str], dir: &Path) -> Self {
        let mut child = Command::new(BIN)
            .arg("gateway")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let started = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        Self { child, started }
    }

    fn endpoint(&self) -> String {
        format!("https://{}", self.started["endpoint"].as_str().unwrap())
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Makes a key with `pushseal keygen` and returns its public key.
fn keygen(dir: &Path, name: &str) -> String {
    let out = Command::new(BIN).args(["keygen", "--secret-out", name]).current_dir(dir).output().unwrap();
    assert!(out.status.success());
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    line["public_key"].as_str().unwrap().to_owned()
}

fn send(dir: &Path, args: &[impl AsRef<std::ffi::OsStr>]) -> Output {
    let mut child = Command::new(BIN)
        .arg("send")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The command may stop before it reads its input (a configuration error).
    let _ = std::io::Write::write_all(&mut child.stdin.take().unwrap(), NOTIFICATION.as_bytes());
    child.wait_with_output().unwrap()
}

/// The lines printed, by their "line" (the device's line in the list).
fn outcomes(out: &Output) -> Vec<serde_json::Value> {
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let mut lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    lines.sort_by_key(|l| l["line"].as_u64());
    lines
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn apns_gateway(dir: &Path) -> Gateway {
    Gateway::start(
        &[
            "apns",
            "--new-key",
            "--apns-key",
            "AuthKey_TEST123456.p8",
            "--key-id",
            "TEST123456",
            "--team-id",
            "TEAM123456",
            "--topic",
            "com.example.clinic",
            "--ca-file",
            "gateway-ca.pem",
        ],
        dir,
    )
}

fn apns_args<'a>(gateway: &'a str, key: &'a str) -> Vec<&'a str> {
    vec![
        "--devices",
        "devices.jsonl",
        "--from",
        "sender.key",
        "--apns-key",
        key,
        "--key-id",
        "TEST123456",
        "--team-id",
        "TEAM123456",
        "--topic",
        "com.example.clinic",
        "--gateway",
        gateway,
        "--gateway-ca",
        "gateway-ca.pem",
    ]
}

#[test]
fn apns_send_prints_each_outcome_and_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = apns_gateway(dir.path());
    keygen(dir.path(), "sender.key");
    let device = keygen(dir.path(), "device.key");
    write(
        dir.path(),
        "devices.jsonl",
        &format!(
            "{{\"public_key\":\"{device}\",\"token\":\"{APNS_TOKEN}\"}}\n\
             {{\"public_key\":\"{device}\",\"token\":\"unregistered\"}}\n\
             {{\"public_key\":\"not-a-key\",\"token\":\"{APNS_TOKEN}\"}}\n"
        ),
    );
    let endpoint = gateway.endpoint();
    let mut args = apns_args(&endpoint, "AuthKey_TEST123456.p8");
    args.extend(["--audit-log", "audit.jsonl"]);
    let out = send(dir.path(), &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains(APNS_TOKEN) && !stdout.contains("Lab results"), "{stdout}");

    let lines = outcomes(&out);
    assert_eq!(lines.len(), 3, "{stdout}");
    let device_id = lines[0]["to"].as_str().unwrap();
    assert_eq!(device_id.len(), 16);
    assert_eq!(lines[0]["outcome"], "delivered");
    assert!(!lines[0]["gateway_id"].as_str().unwrap().is_empty());
    assert_eq!(lines[1]["outcome"], "token_gone");
    assert_eq!(lines[1]["reason"], "Unregistered");
    assert!(lines[1]["since"].is_u64());
    assert_eq!(lines[1]["to"], device_id);
    assert_eq!(lines[0]["message_id"], lines[1]["message_id"]);
    assert_eq!(lines[2]["outcome"], "not_sealed");
    assert!(lines[2]["to"].is_null() && lines[2]["message_id"].is_null());

    // The log holds both sealed records and both outcomes, linked by message id.
    let log = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(!log.contains(APNS_TOKEN), "{log}");
    let events: Vec<String> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["type"].as_str().unwrap().to_owned())
        .collect();
    let count = |e: &str| events.iter().filter(|x| *x == e).count();
    assert_eq!((count("sealed"), count("sent"), count("token_gone")), (2, 1, 1), "{log}");
    assert!(log.contains(lines[0]["message_id"].as_str().unwrap()));
    let verify = Command::new(BIN).args(["audit", "verify", "audit.jsonl"]).current_dir(dir.path()).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}

#[test]
fn senders_with_one_audit_database_share_one_apns_provider_token() {
    let server = pg_server::PgServer::start();
    let url = server.create_database("fleet");
    let dir = tempfile::tempdir().unwrap();
    let gateway = apns_gateway(dir.path());
    keygen(dir.path(), "sender.key");
    let device = keygen(dir.path(), "device.key");
    write(dir.path(), "devices.jsonl", &format!("{{\"public_key\":\"{device}\",\"token\":\"{APNS_TOKEN}\"}}\n"));
    let endpoint = gateway.endpoint();
    let mut args = apns_args(&endpoint, "AuthKey_TEST123456.p8");
    args.extend(["--audit-db", &url]);
    let token = || {
        let rows = server.connect("fleet").query("SELECT name, value FROM pushseal_shared_values", &[]).unwrap();
        rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, Vec<u8>>(1))).collect::<Vec<_>>()
    };
    // Two sender processes, one after the other, within the token's period.
    for run in 0..2 {
        let out = send(dir.path(), &args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(outcomes(&out)[0]["outcome"], "delivered", "run {run}");
    }
    let shared = token();
    assert_eq!(shared.len(), 1, "one token for the team and key");
    assert_eq!(shared[0].0, "apns-provider-token/TEAM123456/TEST123456");
    // The second process used the first one's token: it is still the one stored.
    let stored = String::from_utf8(shared[0].1.clone()).unwrap();
    let out = send(dir.path(), &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(token()[0].1.clone()).unwrap(), stored);
}

#[test]
fn apns_send_with_a_wrong_key_stops_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = apns_gateway(dir.path());
    keygen(dir.path(), "sender.key");
    let device = keygen(dir.path(), "device.key");
    let line = format!("{{\"public_key\":\"{device}\",\"token\":\"{APNS_TOKEN}\"}}\n");
    write(dir.path(), "devices.jsonl", &line.repeat(20));
    write(dir.path(), "AuthKey_OTHER.p8", &new_test_key_pem().unwrap());
    let endpoint = gateway.endpoint();
    let out = send(dir.path(), &apns_args(&endpoint, "AuthKey_OTHER.p8"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains("TEST123456") && stderr.contains("TEAM123456"),
        "{stderr}"
    );
    // The run stopped: no device was delivered, and what was sealed but not
    // sent says so.
    let lines = outcomes(&out);
    assert!(lines.iter().any(|l| l["outcome"] == "misconfigured"), "{}", String::from_utf8_lossy(&out.stdout));
    for line in &lines {
        let not_sent = line["outcome"] == "failed" && line["reason"] == "not_sent" && line["attempts"] == 0;
        assert!(line["outcome"] == "misconfigured" || not_sent, "{line}");
    }
}

#[test]
fn a_device_list_that_is_not_one_stops_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = apns_gateway(dir.path());
    keygen(dir.path(), "sender.key");
    let device = keygen(dir.path(), "device.key");
    let endpoint = gateway.endpoint();
    let good = format!("{{\"public_key\":\"{device}\",\"token\":\"{APNS_TOKEN}\"}}\n");
    for (bad, says) in [
        (format!("{{\"public_key\":\"{device}\"}}\n"), "line 2: has no \"token\""),
        (format!("{{\"public_key\":\"{device}\",\"fid\":\"f\"}}\n"), "line 2: has an \"fid\""),
        ("\n".to_owned(), "line 2: is empty"),
        ("[1]\n".to_owned(), "line 2: is not a device"),
    ] {
        write(dir.path(), "devices.jsonl", &format!("{good}{bad}{good}"));
        let out = send(dir.path(), &apns_args(&endpoint, "AuthKey_TEST123456.p8"));
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("devices.jsonl") && stderr.contains(says), "{says}: {stderr}");
        assert!(out.stdout.is_empty());
    }

    // Usage: a gateway reached over plain HTTP is refused.
    write(dir.path(), "devices.jsonl", &good);
    let out = send(dir.path(), &apns_args("http://127.0.0.1:1", "AuthKey_TEST123456.p8"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only https://"));
}

#[test]
fn fcm_send_to_tokens_and_installation_ids_and_a_refused_account() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::start(
        &["fcm", "--new-account", "--service-account", "sa.json", "--ca-file", "gateway-ca.pem"],
        dir.path(),
    );
    keygen(dir.path(), "sender.key");
    let device = keygen(dir.path(), "device.key");
    write(
        dir.path(),
        "devices.jsonl",
        &format!(
            "{{\"public_key\":\"{device}\",\"token\":\"device-1\"}}\n\
             {{\"public_key\":\"{device}\",\"token\":\"unregistered\"}}\n\
             {{\"public_key\":\"{device}\",\"fid\":\"installation-1\"}}\n"
        ),
    );
    let endpoint = gateway.endpoint();
    let args = |account: &'static str| {
        vec![
            "--devices".to_owned(),
            "devices.jsonl".into(),
            "--from".into(),
            "sender.key".into(),
            "--fcm-service-account".into(),
            account.into(),
            "--gateway".into(),
            endpoint.clone(),
            "--gateway-ca".into(),
            "gateway-ca.pem".into(),
        ]
    };
    let run = |account: &'static str| send(dir.path(), &args(account));
    let out = run("sa.json");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = outcomes(&out);
    let kinds: Vec<&str> = lines.iter().map(|l| l["outcome"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["delivered", "token_gone", "delivered"]);
    assert!(lines[0]["gateway_id"].as_str().unwrap().starts_with("projects/pushseal-test/messages/"));
    assert_eq!(lines[1]["reason"], "UNREGISTERED");

    // A key the gateway does not know, under the same account's name.
    let account: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("sa.json")).unwrap()).unwrap();
    let token_uri = gateway.started["token_uri"].as_str().unwrap();
    let email = account["client_email"].as_str().unwrap();
    TestServiceAccount::generate()
        .unwrap()
        .write(&dir.path().join("other.json"), "pushseal-test", email, token_uri)
        .unwrap();
    let out = run("other.json");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: ") && stderr.contains(email), "{stderr}");
}
