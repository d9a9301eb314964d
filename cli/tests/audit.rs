//! The audit trail through the built `pushseal` binary: `seal --audit-log`,
//! `open --receipt`, `audit receipt` and `audit verify`, including a broken
//! chain (exit status 1) and a receipt that does not match.

use std::fs;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

mod common;
use common::{json, ok, run, stderr, stdout};

const MESSAGE: &[u8] =
    br#"{"title": "Biopsy result", "body": "Your biopsy result is benign.", "data": {"case": "path-5531-benign"}}"#;

struct Key {
    path: String,
    public: String,
    id: String,
}

fn keygen(dir: &Path, name: &str) -> Key {
    let path = dir.join(name).to_str().unwrap().to_owned();
    let printed = json(&ok(&run(&["keygen", "--secret-out", &path], b"")));
    Key { path, public: printed["public_key"].as_str().unwrap().into(), id: printed["key_id"].as_str().unwrap().into() }
}

fn verify(log: &str, extra: &[&str]) -> (Output, Value) {
    let mut args = vec!["audit", "verify", log];
    args.extend_from_slice(extra);
    let o = run(&args, b"");
    let summary = json(&stdout(&o));
    (o, summary)
}

#[test]
fn seal_open_receipt_and_verify_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (device, other, sender) =
        (keygen(dir.path(), "device.key"), keygen(dir.path(), "other.key"), keygen(dir.path(), "sender.key"));
    let log = dir.path().join("audit.jsonl").to_str().unwrap().to_owned();
    let token_key = dir.path().join("token.key");
    fs::write(&token_key, format!("{}\n", "A".repeat(42) + "E")).unwrap();
    let token_key = token_key.to_str().unwrap();

    // Seal for FCM to two devices, with token hashes, and for APNs to one.
    let fcm = ok(&run(
        &[
            "seal",
            "--platform",
            "fcm",
            "--to",
            &device.public,
            "--to",
            &other.public,
            "--token",
            "fcm-token-device",
            "--token",
            "fcm-token-other",
            "--from",
            &sender.path,
            "--audit-log",
            &log,
            "--token-key-file",
            token_key,
        ],
        MESSAGE,
    ));
    let apns = ok(&run(&["seal", "--to", &device.public, "--from", &sender.path, "--audit-log", &log], MESSAGE));
    let written = fs::read_to_string(&log).unwrap();
    assert_eq!(written.lines().count(), 3);
    for secret in ["Biopsy", "benign", "path-5531", "fcm-token-device", "fcm-token-other"] {
        assert!(!written.contains(secret), "the log holds {secret:?}");
    }
    assert_eq!(written.matches("\"token_hmac\"").count(), 2);
    // Each device's message and record carry its own token (its keyed hash in the log).
    let tokens: Vec<Value> = fcm.lines().map(|l| json(l)["payload"]["token"].clone()).collect();
    assert_eq!(tokens, ["fcm-token-device", "fcm-token-other"]);
    let hmacs: Vec<Value> = written.lines().take(2).map(|l| json(l)["token_hmac"].clone()).collect();
    assert_ne!(hmacs[0], hmacs[1]);

    // The device opens the APNs payload and prints its receipt.
    let opened = json(&ok(&run(
        &["open", "--secret", &device.path, "--sender", &sender.public, "--receipt"],
        apns.trim().as_bytes(),
    )));
    assert_eq!(opened["title"], "Biopsy result");
    let receipt = opened["receipt"].as_str().unwrap().to_owned();
    let id = opened["id"].as_str().unwrap().to_owned();
    assert_eq!(receipt.len(), 22);

    // Another device's receipt for its own copy of the FCM message is not this one's.
    let other_line = json(fcm.lines().nth(1).unwrap());
    let other_opened = json(&ok(&run(
        &["open", "--platform", "fcm", "--secret", &other.path, "--sender", &sender.public, "--receipt"],
        other_line.to_string().as_bytes(),
    )));
    let other_receipt = other_opened["receipt"].as_str().unwrap();
    let mismatch = run(&["audit", "receipt", "--log", &log, "--message-id", &id, "--receipt", other_receipt], b"");
    assert_eq!(mismatch.status.code(), Some(1));
    assert!(stderr(&mismatch).starts_with("error: invalid delivery receipt"), "{}", stderr(&mismatch));

    // The real receipt is recorded once.
    let delivered =
        json(&ok(&run(&["audit", "receipt", "--log", &log, "--message-id", &id, "--receipt", &receipt], b"")));
    assert_eq!(
        (delivered["type"].as_str(), delivered["recipient"].as_str()),
        (Some("delivered"), Some(device.id.as_str()))
    );
    let again = json(&ok(&run(&["audit", "receipt", "--log", &log, "--message-id", &id, "--receipt", &receipt], b"")));
    assert_eq!(again, delivered);

    let (o, summary) = verify(&log, &[]);
    ok(&o);
    assert_eq!(summary["intact"], true);
    assert_eq!(
        (summary["records"].as_u64(), summary["sealed"].as_u64(), summary["delivered"].as_u64()),
        (Some(4), Some(3), Some(1))
    );
    assert_eq!(summary["senders"], serde_json::json!([sender.id]));
    assert_eq!(summary["recipients"].as_array().unwrap().len(), 2);
    assert_eq!(summary["first_break"], Value::Null);
    let head = summary["head"].as_str().unwrap().to_owned();
    assert!(head.starts_with("3:"));

    // Cut the last record: intact alone, broken against the anchor.
    let lines: Vec<&str> = written.lines().collect();
    let all = fs::read_to_string(&log).unwrap();
    let shorter: String = all.lines().take(3).map(|l| format!("{l}\n")).collect();
    fs::write(&log, &shorter).unwrap();
    let (o, summary) = verify(&log, &["--anchor", &head]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(summary["first_break"]["kind"], "anchor_missing");

    // Edit a record: broken at that line, exit status 1, one error line.
    let edited = shorter.replacen(&lines[1][..40], &lines[1][..40].replace("\"seq\":1", "\"seq\":7"), 1);
    fs::write(&log, &edited).unwrap();
    let (o, summary) = verify(&log, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!((summary["intact"].as_bool(), summary["first_break"]["line"].as_u64()), (Some(false), Some(2)));
    let err = stderr(&o);
    assert!(err.starts_with("error: the audit log is broken at line 2") && err.lines().count() == 1, "{err}");

    // A torn last line is reported, and is not a break.
    fs::write(&log, &shorter[..shorter.len() - 20]).unwrap();
    let (o, summary) = verify(&log, &[]);
    ok(&o);
    assert_eq!((summary["records"].as_u64(), summary["torn_tail"]["line"].as_u64()), (Some(2), Some(3)));
}

#[test]
fn usage_and_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let sender = keygen(dir.path(), "sender.key");
    let device = keygen(dir.path(), "device.key");
    let log = dir.path().join("audit.jsonl").to_str().unwrap().to_owned();
    let missing = run(&["audit", "verify", dir.path().join("nope").to_str().unwrap()], b"");
    assert_eq!(missing.status.code(), Some(1));
    // A malformed value is rejected input (1), like a malformed --to; a
    // missing option or options that do not go together are usage errors (2).
    let bad_anchor = run(&["audit", "verify", &log, "--anchor", "x"], b"");
    assert_eq!(bad_anchor.status.code(), Some(1));
    let no_log = run(&["seal", "--to", &device.public, "--from", &sender.path, "--token-key-file", "k"], MESSAGE);
    assert_eq!(no_log.status.code(), Some(2));
    let bad_id = run(&["audit", "receipt", "--log", &log, "--message-id", "zz", "--receipt", &"A".repeat(22)], b"");
    assert_eq!(bad_id.status.code(), Some(1));
    let id = "0".repeat(32);
    let bad_receipt = run(&["audit", "receipt", "--log", &log, "--message-id", &id, "--receipt", "AAAA"], b"");
    assert_eq!(bad_receipt.status.code(), Some(1));
    assert!(stderr(&bad_receipt).starts_with("error: --receipt: invalid encoding: it is 4 characters long"));
    // A typo in a receipt's last character: not canonical, though 22 characters.
    let typo = run(&["audit", "receipt", "--log", &log, "--message-id", &id, "--receipt", &"AB".repeat(11)], b"");
    assert_eq!(typo.status.code(), Some(1));
    assert!(stderr(&typo).contains("not canonical base64url"), "{}", stderr(&typo));
    let short_key = dir.path().join("short.key");
    fs::write(&short_key, "AAAA").unwrap();
    let o = run(
        &[
            "seal",
            "--to",
            &device.public,
            "--from",
            &sender.path,
            "--audit-log",
            &log,
            "--token-key-file",
            short_key.to_str().unwrap(),
        ],
        MESSAGE,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "nothing is printed without its record");
}

#[test]
fn token_hmac_is_the_hex_hmac_sha256_of_the_token_under_the_key_file_bytes() {
    // SPEC.md section 10.2's example: the key is 31 bytes 00 then 01, the
    // token "fcm-token-device"; the value was computed apart, with Python's
    // hmac module. The key file may have space, tab, LF and CR around it.
    let dir = tempfile::tempdir().unwrap();
    let (device, sender) = (keygen(dir.path(), "device.key"), keygen(dir.path(), "sender.key"));
    let log = dir.path().join("audit.jsonl").to_str().unwrap().to_owned();
    let token_key = dir.path().join("token.key");
    fs::write(&token_key, format!(" \t{}\r\n", "A".repeat(42) + "E")).unwrap();
    let token_key = token_key.to_str().unwrap();
    let seal = |key: &str| {
        run(
            &[
                "seal",
                "--platform",
                "fcm",
                "--to",
                &device.public,
                "--token",
                "fcm-token-device",
                "--from",
                &sender.path,
                "--audit-log",
                &log,
                "--token-key-file",
                key,
            ],
            MESSAGE,
        )
    };
    ok(&seal(token_key));
    let line = fs::read_to_string(&log).unwrap();
    let expected = "26250543dd1e231c6421125f79467475ff6f9c3371ba8271400e41fc334efdd0";
    let record = json(&line);
    let digest = record["receipt_digest"].as_str().unwrap();
    // Last before the hash, right after the receipt digest.
    assert!(line.contains(&format!(r#""receipt_digest":"{digest}","token_hmac":"{expected}","hash":""#)), "{line}");

    // Any other white space around the key text makes the file invalid.
    let bad = dir.path().join("bad.key");
    fs::write(&bad, format!("{}\u{a0}\n", "A".repeat(42) + "E")).unwrap();
    let o = seal(bad.to_str().unwrap());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("a token key is 43 characters of base64url"), "{}", stderr(&o));
}

#[test]
fn a_batch_gives_each_device_its_own_token_and_each_record_its_own_token_hash() {
    // Two devices, two --token: each FCM message carries its own device's
    // token, and each sealed record holds the keyed hash of that token (and
    // of no other), never the token itself. The printed report reads back.
    let dir = tempfile::tempdir().unwrap();
    let sender = keygen(dir.path(), "sender.key");
    let devices = [keygen(dir.path(), "d1.key"), keygen(dir.path(), "d2.key")];
    let log = dir.path().join("audit.jsonl").to_str().unwrap().to_owned();
    let key_text = "A".repeat(42) + "E";
    let token_key = dir.path().join("token.key");
    fs::write(&token_key, &key_text).unwrap();
    let tokens = ["fcm-token-first-device", "fcm-token-second-device"];
    let out = ok(&run(
        &[
            "seal",
            "--platform",
            "fcm",
            "--from",
            &sender.path,
            "--to",
            &devices[0].public,
            "--token",
            tokens[0],
            "--to",
            &devices[1].public,
            "--token",
            tokens[1],
            "--audit-log",
            &log,
            "--token-key-file",
            token_key.to_str().unwrap(),
        ],
        MESSAGE,
    ));
    let lines: Vec<Value> = out.lines().map(json).collect();
    let records: Vec<Value> = fs::read_to_string(&log).unwrap().lines().map(json).collect();
    assert_eq!((lines.len(), records.len()), (2, 2));
    let key = pushseal_audit::TokenKey::from_text(&key_text).unwrap();
    for (i, device) in devices.iter().enumerate() {
        assert_eq!(lines[i]["to"], device.id.as_str());
        assert_eq!(lines[i]["payload"]["token"], tokens[i], "each message carries its own device's token");
        assert_eq!(records[i]["recipient"], device.id.as_str());
        assert_eq!(records[i]["message_id"], lines[i]["message_id"]);
        assert_eq!(records[i]["token_hmac"], key.hmac(tokens[i]).to_string().as_str(), "its own token's hash");
    }
    assert_ne!(records[0]["token_hmac"], records[1]["token_hmac"]);
    let text = fs::read_to_string(&log).unwrap();
    assert!(tokens.iter().all(|t| !text.contains(t)), "no token in clear: {text}");

    let (o, summary) = verify(&log, &[]);
    assert_eq!(o.status.code(), Some(0));
    let report: pushseal_audit::VerifyReport = serde_json::from_value(summary.clone()).unwrap();
    assert_eq!((report.intact, report.sealed, report.recipients.len()), (true, 2, 2));
    assert_eq!(serde_json::to_value(&report).unwrap(), summary, "the printed report is the crate's serde form");
}

/// Writes `text` to `dir/name` and returns the path.
fn put(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn checkpoints_and_proofs_check_without_the_log_and_catch_a_cut_log() {
    let dir = tempfile::tempdir().unwrap();
    let (device, sender) = (keygen(dir.path(), "device.key"), keygen(dir.path(), "sender.key"));
    let log = dir.path().join("audit.jsonl").to_str().unwrap().to_owned();
    let seal = || ok(&run(&["seal", "--to", &device.public, "--from", &sender.path, "--audit-log", &log], MESSAGE));
    let signing = dir.path().join("log-signing.key").to_str().unwrap().to_owned();
    let printed =
        json(&ok(&run(&["audit", "keygen", "--name", "audit.example.com/pushseal", "--secret-out", &signing], b"")));
    let vkey = printed["verifier_key"].as_str().unwrap().to_owned();
    assert!(vkey.starts_with("audit.example.com/pushseal+"), "{vkey}");
    assert!(fs::read_to_string(&signing).unwrap().starts_with("PRIVATE+KEY+audit.example.com/pushseal+"));
    // The signing key is never overwritten.
    assert!(!run(&["audit", "keygen", "--name", "x.example/log", "--secret-out", &signing], b"").status.success());

    for _ in 0..3 {
        seal();
    }
    let old = put(dir.path(), "cp-old", &ok(&run(&["audit", "checkpoint", &log, "--signing-key", &signing], b"")));
    for _ in 0..4 {
        seal();
    }
    let new = put(dir.path(), "cp-new", &ok(&run(&["audit", "checkpoint", &log, "--signing-key", &signing], b"")));
    let note = fs::read_to_string(&new).unwrap();
    assert!(note.starts_with("audit.example.com/pushseal\n7\n"), "{note}");
    assert!(note.contains("\n\n\u{2014} audit.example.com/pushseal "), "{note}");

    // The checkpoint alone, an inclusion proof, a consistency proof: no log.
    let checked = json(&ok(&run(&["audit", "verify", "--key", &vkey, "--checkpoint", &new], b"")));
    assert_eq!(checked["checkpoint"]["size"], 7);
    let proof = ok(&run(&["audit", "prove", &log, "--record", "5", "--checkpoint", &new], b""));
    assert!(proof.starts_with("{\"type\":\"inclusion\",\"record\":5,\"tree_size\":7,"), "{proof}");
    let inclusion = put(dir.path(), "record-5.proof", &proof);
    let included =
        json(&ok(&run(&["audit", "verify", "--key", &vkey, "--checkpoint", &new, "--proof", &inclusion], b"")));
    assert_eq!((included["included"].as_bool(), included["record"].as_u64()), (Some(true), Some(5)));
    assert_eq!(included["line"]["seq"], 5);
    // Not a proof for the older checkpoint.
    let wrong = run(&["audit", "verify", "--key", &vkey, "--checkpoint", &old, "--proof", &inclusion], b"");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(stderr(&wrong).contains("not proved"), "{}", stderr(&wrong));
    let grew = put(dir.path(), "grew.proof", &ok(&run(&["audit", "prove", &log, "--from", &old, "--to", &new], b"")));
    let consistent =
        json(&ok(&run(&["audit", "verify", "--key", &vkey, "--from", &old, "--to", &new, "--proof", &grew], b"")));
    assert_eq!(consistent["consistent"], true);
    let swapped = run(&["audit", "verify", "--key", &vkey, "--from", &new, "--to", &old, "--proof", &grew], b"");
    assert_eq!(swapped.status.code(), Some(1));

    // Another log's key, an altered checkpoint, a hostile proof file.
    let other = dir.path().join("other.key").to_str().unwrap().to_owned();
    let other_vkey = json(&ok(&run(&["audit", "keygen", "--name", "other.example/log", "--secret-out", &other], b"")))
        ["verifier_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = run(&["audit", "verify", "--key", &other_vkey, "--checkpoint", &new], b"");
    assert!(stderr(&o).contains("another log"), "{}", stderr(&o));
    let altered = put(dir.path(), "cp-altered", &note.replacen("\n7\n", "\n8\n", 1));
    let o = run(&["audit", "verify", "--key", &vkey, "--checkpoint", &altered], b"");
    assert!(stderr(&o).contains("does not verify"), "{}", stderr(&o));
    let junk = put(dir.path(), "junk.proof", &"[".repeat(70_000));
    let o = run(&["audit", "verify", "--key", &vkey, "--checkpoint", &new, "--proof", &junk], b"");
    assert!(stderr(&o).contains("longer than"), "{}", stderr(&o));

    // The log with its kept checkpoints: it matches both.
    let o = run(&["audit", "verify", &log, "--key", &vkey, "--checkpoint", &old, "--checkpoint", &new], b"");
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(out.matches("\"status\":\"matches\"").count(), 2, "{out}");

    // Cut back to 5 records: still a valid chain, but the kept checkpoint of 7
    // names record 5 as the first missing.
    let written = fs::read_to_string(&log).unwrap();
    let five: String = written.lines().take(5).map(|l| format!("{l}\n")).collect();
    fs::write(&log, five).unwrap();
    let (o, _) = verify(&log, &[]);
    assert!(o.status.success(), "the chain alone sees nothing");
    let o = run(&["audit", "verify", &log, "--key", &vkey, "--checkpoint", &new, "--checkpoint", &old], b"");
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("\"status\":\"cut_back\""), "{out}");
    assert!(out.contains("\"first_missing\":5"), "{out}");
    assert!(stderr(&o).contains("record 5 is the first missing"), "{}", stderr(&o));
    let o = run(&["audit", "prove", &log, "--from", &old, "--to", &new], b"");
    assert!(stderr(&o).contains("cut back"), "{}", stderr(&o));
}

#[test]
fn an_actor_is_recorded_and_a_bad_one_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (device, sender) = (keygen(dir.path(), "device.key"), keygen(dir.path(), "sender.key"));
    let log = dir.path().join("audit.jsonl").to_str().unwrap().to_owned();
    let seal = |actor: &str| {
        run(&["seal", "--to", &device.public, "--from", &sender.path, "--audit-log", &log, "--actor", actor], MESSAGE)
    };
    ok(&seal("svc-lab-results"));
    let written = fs::read_to_string(&log).unwrap();
    assert!(written.contains(",\"actor\":\"svc-lab-results\",\"hash\":"), "{written}");
    for bad in ["", "two\nlines", &"x".repeat(129)] {
        let o = seal(bad);
        assert_eq!(o.status.code(), Some(1), "{bad:?}");
        assert!(stderr(&o).contains("--actor"), "{}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
    assert_eq!(fs::read_to_string(&log).unwrap(), written);
    let o = run(&["seal", "--to", &device.public, "--from", &sender.path, "--actor", "svc"], MESSAGE);
    assert_eq!(o.status.code(), Some(2), "--actor needs --audit-log");
    let (o, summary) = verify(&log, &[]);
    assert!(o.status.success());
    assert_eq!(summary["sealed"], 1);
}
