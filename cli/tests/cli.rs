//! The built `pushseal` binary, run as a user or a script runs it: round trips
//! for each platform, several devices, every rejection with exit status 1,
//! replay protection, key files, usage errors, help, and hostile input.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

mod common;
use common::{BIN, json, ok, rejected_with, run, stderr, stdout};

/// Asserts a rejection: exit status 1, nothing on standard output, one line on
/// standard error starting "error:" and containing `reason`; no panic.
fn rejected(o: &Output, reason: &str) {
    rejected_with(o, &[reason]);
}

/// Asserts a usage error: exit status 2, nothing on standard output, no panic.
fn usage_error(o: &Output) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(o.stdout.is_empty(), "stdout: {}", stdout(o));
    assert!(err.starts_with("error: ") || err.contains("Usage: pushseal"), "stderr: {err}");
    assert!(!err.contains("panicked"), "stderr: {err}");
}

/// A key made by `pushseal keygen`.
struct Key {
    path: PathBuf,
    public: String,
    id: String,
}

impl Key {
    fn path(&self) -> &str {
        self.path.to_str().unwrap()
    }
}

fn keygen(dir: &Path, name: &str) -> Key {
    let path = dir.join(name);
    let printed = json(&ok(&run(&["keygen", "--secret-out", path.to_str().unwrap()], b"")));
    Key {
        path,
        public: printed["public_key"].as_str().unwrap().to_owned(),
        id: printed["key_id"].as_str().unwrap().to_owned(),
    }
}

/// A temporary directory with a device key and a sender key.
struct World {
    dir: TempDir,
    device: Key,
    sender: Key,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let device = keygen(dir.path(), "device.key");
    let sender = keygen(dir.path(), "sender.key");
    World { dir, device, sender }
}

const MESSAGE: &[u8] =
    br#"{"title": "Lab results", "body": "Your results from Tuesday are ready.", "data": {"ref": "lab-7731"}}"#;

impl World {
    fn seal(&self, platform: &str, extra: &[&str], message: &[u8]) -> Output {
        let mut args = vec!["seal", "--platform", platform, "--to", &self.device.public, "--from", self.sender.path()];
        args.extend_from_slice(extra);
        run(&args, message)
    }

    fn open(&self, platform: &str, extra: &[&str], payload: &[u8]) -> Output {
        let mut args =
            vec!["open", "--platform", platform, "--secret", self.device.path(), "--sender", &self.sender.public];
        args.extend_from_slice(extra);
        run(&args, payload)
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }
}

fn assert_is_the_message(opened: &str) {
    let n = json(opened);
    assert_eq!(n["title"], "Lab results");
    assert_eq!(n["body"], "Your results from Tuesday are ready.");
    assert_eq!(n["data"]["ref"], "lab-7731");
    assert_eq!(n["id"].as_str().unwrap().len(), 32);
    assert!(n["expires_at"].as_u64().unwrap() > n["sent_at"].as_u64().unwrap());
}

#[test]
fn keygen_writes_a_0600_key_file_and_public_key_reads_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "k.key");
    assert_eq!(key.public.len(), 43);
    assert_eq!(key.id.len(), 16);
    assert!(key.id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));

    let text = std::fs::read_to_string(&key.path).unwrap();
    assert!(text.starts_with("pushseal-secret-key-v1:"), "{text}");
    assert!(text.ends_with('\n'));
    // The version 1 key's line; the version 2 key's follows (tests/v2.rs).
    assert_eq!(text.lines().next().unwrap().len(), "pushseal-secret-key-v1:".len() + 43);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&key.path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    let again = json(&ok(&run(&["public-key", "--secret", key.path()], b"")));
    assert_eq!(again["public_key"], key.public.as_str());
    assert_eq!(again["key_id"], key.id.as_str());
    // The key line printed names the fields in the documented order.
    let printed = ok(&run(&["public-key", "--secret", key.path()], b""));
    assert!(printed.starts_with("{\"public_key\":"), "{printed}");
}

#[test]
fn keygen_refuses_to_overwrite_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("existing");
    std::fs::write(&path, "keep me\n").unwrap();
    rejected(&run(&["keygen", "--secret-out", path.to_str().unwrap()], b""), "already exists");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me\n");

    let key = keygen(dir.path(), "k.key");
    let before = std::fs::read(&key.path).unwrap();
    rejected(&run(&["keygen", "--secret-out", key.path()], b""), "already exists");
    assert_eq!(std::fs::read(&key.path).unwrap(), before);

    let missing_dir = dir.path().join("no-such-dir").join("k.key");
    rejected(&run(&["keygen", "--secret-out", missing_dir.to_str().unwrap()], b""), "cannot create");
}

#[test]
fn public_keys_that_start_with_a_hyphen_are_values() {
    // base64url has '-' in its alphabet: one key in 64 starts with it.
    let w = world();
    let hyphen_key = format!("-{}", "A".repeat(42));
    let o = run(&["seal", "--to", &hyphen_key, "--from", w.sender.path()], MESSAGE);
    assert!(o.status.success(), "{}", stderr(&o));
    let double_hyphen_key = format!("--{}", "A".repeat(41));
    let o = run(&["open", "--secret", w.device.path(), "--sender", &double_hyphen_key], b"x");
    rejected(&o, "not a PushSeal payload");
}

#[test]
fn two_keys_differ() {
    let w = world();
    assert_ne!(w.device.public, w.sender.public);
    assert_ne!(w.device.id, w.sender.id);
}

#[test]
fn apns_round_trip() {
    let w = world();
    let body = ok(&w.seal("apns", &[], MESSAGE));
    assert_eq!(body.lines().count(), 1);
    let v = json(&body);
    assert_eq!(v["aps"]["mutable-content"], 1);
    assert_eq!(v["aps"]["alert"]["title"], "New message");
    assert!(!body.contains("Lab results") && !body.contains("lab-7731"), "plaintext in the payload: {body}");
    assert_is_the_message(&ok(&w.open("apns", &[], body.as_bytes())));
    // apns is the default platform on both sides.
    let default_body = ok(&run(&["seal", "--to", &w.device.public, "--from", w.sender.path()], MESSAGE));
    let opened =
        ok(&run(&["open", "--secret", w.device.path(), "--sender", &w.sender.public], default_body.as_bytes()));
    assert_is_the_message(&opened);
}

#[test]
fn apns_options_and_headers_form() {
    let w = world();
    let printed = ok(&w.seal(
        "apns",
        &[
            "--headers",
            "--fallback-title",
            "Clinic",
            "--collapse-id",
            "labs",
            "--topic",
            "org.example.app",
            "--ttl",
            "600",
        ],
        MESSAGE,
    ));
    let v = json(&printed);
    assert_eq!(v["headers"]["apns-push-type"], "alert");
    assert_eq!(v["headers"]["apns-priority"], "10");
    assert_eq!(v["headers"]["apns-collapse-id"], "labs");
    assert_eq!(v["headers"]["apns-topic"], "org.example.app");
    assert_eq!(v["body"]["aps"]["alert"]["title"], "Clinic");
    let n = json(&ok(&w.open("apns", &[], printed.as_bytes())));
    assert_eq!(n["expires_at"].as_u64().unwrap() - n["sent_at"].as_u64().unwrap(), 600);
    assert_eq!(v["headers"]["apns-expiration"].as_str().unwrap(), n["expires_at"].as_u64().unwrap().to_string());

    let background = json(&ok(&w.seal("apns", &["--background", "--headers"], MESSAGE)));
    assert_eq!(background["headers"]["apns-push-type"], "background");
    assert_eq!(background["headers"]["apns-priority"], "5");
    assert_eq!(background["body"]["aps"]["content-available"], 1);
    assert!(background["body"]["aps"].get("alert").is_none());
}

#[test]
fn fcm_round_trip_in_every_form() {
    let w = world();
    let message = ok(&w.seal("fcm", &["--token", "device-token-1"], MESSAGE));
    let v = json(&message);
    assert_eq!(v["android"]["priority"], "high");
    assert_eq!(v["android"]["ttl"], "86400s");
    assert_eq!(v["token"], "device-token-1");
    assert!(v["data"]["pushseal"].is_string());
    assert!(!message.contains("Lab results"));
    assert_is_the_message(&ok(&w.open("fcm", &[], message.as_bytes())));

    let request = ok(&w.seal("fcm", &["--request-body"], MESSAGE));
    assert!(json(&request)["message"]["data"]["pushseal"].is_string());
    assert_is_the_message(&ok(&w.open("fcm", &[], request.as_bytes())));

    // --priority normal changes android.priority and nothing else the gateway sees.
    let normal = json(&ok(&w.seal("fcm", &["--priority", "normal", "--token", "device-token-1"], MESSAGE)));
    assert_eq!(normal["android"]["priority"], "normal");
    assert_eq!(normal["android"]["ttl"], "86400s");
    assert_eq!(json(&ok(&w.seal("fcm", &["--priority", "high"], MESSAGE)))["android"]["priority"], "high");

    // The data map alone, as the app's FirebaseMessagingService gets it.
    let data = json(&ok(&w.seal("fcm", &[], MESSAGE)))["data"].to_string();
    assert_is_the_message(&ok(&w.open("fcm", &[], data.as_bytes())));

    // SPEC.md section 7.4: every value of the data map is a string, wherever
    // the map is; a data map with another value is refused, not filtered.
    let text = json(&data)["pushseal"].as_str().unwrap().to_owned();
    for payload in [
        format!(r#"{{"pushseal":"{text}","x":1}}"#),
        format!(r#"{{"data":{{"pushseal":"{text}","x":null}}}}"#),
        format!(r#"{{"message":{{"data":{{"pushseal":"{text}","x":{{}}}}}}}}"#),
    ] {
        rejected(&w.open("fcm", &[], payload.as_bytes()), "not a string (FCM data values are strings)");
    }
    // String values the app adds beside "pushseal", and keys named "data" and "message", are fine.
    let extra = format!(r#"{{"data":"d","message":"m","pushseal":"{text}","x":"1"}}"#);
    assert_is_the_message(&ok(&w.open("fcm", &[], extra.as_bytes())));
    // A request body's data map is message.data, not the message itself.
    let bare = format!(r#"{{"message":{{"pushseal":"{text}"}}}}"#);
    rejected(&w.open("fcm", &[], bare.as_bytes()), "has no \"data\" object");
}

#[test]
fn envelope_round_trip() {
    let w = world();
    let envelope = ok(&w.seal("envelope", &[], MESSAGE));
    let text = envelope.trim();
    assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{text}");
    assert_is_the_message(&ok(&w.open("envelope", &[], envelope.as_bytes())));
}

#[test]
fn inspect_shows_the_header_without_a_key() {
    let w = world();
    for platform in ["apns", "fcm", "envelope"] {
        let payload = ok(&w.seal(platform, &[], MESSAGE));
        let v = json(&ok(&run(&["inspect", "--platform", platform], payload.as_bytes())));
        assert_eq!(v["version"], 1);
        assert_eq!(v["recipient_key_id"], w.device.id.as_str());
        assert_eq!(v["sender_key_id"], w.sender.id.as_str());
        assert_eq!(v["padded_plaintext_bytes"], 256);
        assert_eq!(v["envelope_bytes"], 49 + 256 + 16);
        assert_eq!(v["enc"].as_str().unwrap().len(), 43);
    }
}

#[test]
fn several_devices_get_one_line_each() {
    let w = world();
    let others = [keygen(w.dir.path(), "d2.key"), keygen(w.dir.path(), "d3.key")];
    for platform in ["apns", "fcm", "envelope"] {
        let out = ok(&run(
            &[
                "seal",
                "--platform",
                platform,
                "--from",
                w.sender.path(),
                "--to",
                &w.device.public,
                "--to",
                &others[0].public,
                "--to",
                &others[1].public,
            ],
            MESSAGE,
        ));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        let ids = [&w.device.id, &others[0].id, &others[1].id];
        let keys = [&w.device, &others[0], &others[1]];
        let mut message_ids = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let v = json(line);
            assert_eq!(v["to"], ids[i].as_str(), "order of --to");
            message_ids.push(v["message_id"].as_str().unwrap().to_owned());
            // Each device opens its own line, and no other device's.
            for (j, key) in keys.iter().enumerate() {
                let o = run(
                    &["open", "--platform", platform, "--secret", key.path(), "--sender", &w.sender.public],
                    line.as_bytes(),
                );
                if i == j {
                    let n = json(&ok(&o));
                    assert_eq!(n["id"], v["message_id"]);
                    assert_eq!(n["expires_at"], v["expires_at"]);
                } else {
                    rejected(&o, "unknown recipient key id");
                }
            }
        }
        assert!(message_ids.windows(2).all(|p| p[0] == p[1]), "one message id for all: {message_ids:?}");
    }
}

#[test]
fn json_lines_and_fcm_tokens_per_device() {
    let w = world();
    let other = keygen(w.dir.path(), "d2.key");
    let one = ok(&w.seal("envelope", &["--json-lines"], MESSAGE));
    assert_eq!(json(&one)["to"], w.device.id.as_str());

    let out = ok(&run(
        &[
            "seal",
            "--platform",
            "fcm",
            "--from",
            w.sender.path(),
            "--to",
            &w.device.public,
            "--token",
            "tok-1",
            "--to",
            &other.public,
            "--token",
            "tok-2",
        ],
        MESSAGE,
    ));
    let tokens: Vec<Value> = out.lines().map(|l| json(l)["payload"]["token"].clone()).collect();
    assert_eq!(tokens, ["tok-1", "tok-2"]);
}

#[test]
fn replay_db_rejects_a_second_open() {
    let w = world();
    let db = w.path("replay.db");
    let body = ok(&w.seal("apns", &[], MESSAGE));
    assert_is_the_message(&ok(&w.open("apns", &["--replay-db", &db], body.as_bytes())));
    rejected(&w.open("apns", &["--replay-db", &db], body.as_bytes()), "replayed");
    // The same message as an FCM payload carries another id and opens.
    let fcm = ok(&w.seal("fcm", &[], MESSAGE));
    assert_is_the_message(&ok(&w.open("fcm", &["--replay-db", &db], fcm.as_bytes())));
    // Without --replay-db each run starts with an empty store.
    assert_is_the_message(&ok(&w.open("apns", &[], body.as_bytes())));
}

/// The envelope text inside an APNs body, with the character at `at` changed.
fn altered(body: &str, at: usize) -> String {
    let mut v = json(body);
    let text = v["pushseal"].as_str().unwrap().to_owned();
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    v["pushseal"] = Value::String(String::from_utf8(bytes).unwrap());
    v.to_string()
}

#[test]
fn every_rejection_exits_1_with_its_reason() {
    let w = world();
    let body = ok(&w.seal("apns", &[], MESSAGE));

    // Tampered: a character of the ciphertext changed.
    rejected(&w.open("apns", &[], altered(&body, 120).as_bytes()), "authentication failed");
    // A changed recipient key id.
    rejected(&w.open("apns", &[], altered(&body, 3).as_bytes()), "unknown recipient key id");

    // Expired, and from the future, as a device with that clock would see it.
    let n = json(&ok(&w.open("apns", &[], body.as_bytes())));
    let late = (n["expires_at"].as_u64().unwrap() + 301).to_string();
    rejected(&w.open("apns", &["--now", &late], body.as_bytes()), "expired");
    let early = (n["sent_at"].as_u64().unwrap() - 301).to_string();
    rejected(&w.open("apns", &["--now", &early], body.as_bytes()), "in the future");

    // Untrusted sender: the device trusts someone else.
    let stranger = keygen(w.dir.path(), "stranger.key");
    let o = run(&["open", "--secret", w.device.path(), "--sender", &stranger.public], body.as_bytes());
    rejected(&o, &format!("untrusted sender key id {}", w.sender.id));
    // A forged sender: sealed with another key, the device trusting only the real one.
    let forged = ok(&run(&["seal", "--to", &w.device.public, "--from", stranger.path()], MESSAGE));
    rejected(&w.open("apns", &[], forged.as_bytes()), &format!("untrusted sender key id {}", stranger.id));
    // Several trusted senders: either one opens.
    let o = run(
        &["open", "--secret", w.device.path(), "--sender", &w.sender.public, "--sender", &stranger.public],
        forged.as_bytes(),
    );
    assert_is_the_message(&ok(&o));

    // The wrong device key.
    rejected(
        &run(&["open", "--secret", stranger.path(), "--sender", &w.sender.public], body.as_bytes()),
        "unknown recipient key id",
    );

    // Malformed payloads.
    rejected(&w.open("apns", &[], b"{\"aps\":{}}"), "not a PushSeal payload");
    rejected(&w.open("apns", &[], b"{\"pushseal\":\"not base64!\"}"), "invalid encoding");
    rejected(&w.open("apns", &[], b"{\"pushseal\":\"AQID\"}"), "truncated");
    rejected(&w.open("envelope", &[], b"Aw"), "unsupported envelope version 3");
    rejected(&w.open("envelope", &[], b"Ag"), "version 2 header (enc) needs 1137 bytes");
    rejected(&w.open("fcm", &[], b"[1, 2]"), "not a PushSeal payload");
    rejected(&w.open("apns", &[], ok(&w.seal("fcm", &[], MESSAGE)).as_bytes()), "not a PushSeal payload");
}

#[test]
fn bad_keys_exit_1() {
    let w = world();
    let from = w.sender.path();
    rejected(&run(&["seal", "--to", "not-a-key", "--from", from], MESSAGE), "--to: invalid encoding");
    rejected(
        &run(&["seal", "--to", &w.device.public, "--to", &w.device.public[..42], "--from", from], MESSAGE),
        "--to #2: invalid encoding",
    );
    rejected(&run(&["open", "--secret", w.device.path(), "--sender", "x"], b""), "--sender: invalid encoding");

    // A secret key where a public key belongs is refused, and not echoed.
    let secret = std::fs::read_to_string(&w.device.path).unwrap();
    let o = run(&["seal", "--to", secret.trim(), "--from", from], MESSAGE);
    rejected(&o, "is a secret key");
    let key_part = &secret.trim()["pushseal-secret-key-v1:".len()..];
    assert!(!stderr(&o).contains(key_part));

    // Key files that are missing, not key files, or damaged.
    rejected(&run(&["seal", "--to", &w.device.public, "--from", &w.path("missing.key")], MESSAGE), "cannot open");
    let junk = w.path("junk.key");
    std::fs::write(&junk, b"\xff\xfe\x00junk").unwrap();
    set_private(&junk);
    rejected(&run(&["public-key", "--secret", &junk], b""), "is not a PushSeal secret key file");
    let damaged = w.path("damaged.key");
    std::fs::write(&damaged, format!("{}\n", &secret.trim()[..60])).unwrap();
    set_private(&damaged);
    let o = run(&["open", "--secret", &damaged, "--sender", &w.sender.public], b"");
    rejected(&o, "invalid encoding");
    assert!(!stderr(&o).contains(&secret.trim()[23..60]), "the key file's contents are never echoed");
    rejected(&run(&["public-key", "--secret", w.dir.path().to_str().unwrap()], b""), "cannot read key file");

    // A low-order point as a device key cannot be sealed to.
    let zero_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    rejected(&run(&["seal", "--to", zero_key, "--from", from], MESSAGE), "low-order point");
}

/// `text` with its last character replaced by the next one of the base64url
/// alphabet: the same length and alphabet, but a non-canonical encoding
/// (the last character of a 32- or 16-byte value has its lowest bits clear).
fn last_character_typo(text: &str) -> String {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = ALPHABET.find(text.chars().last().unwrap()).unwrap();
    let typo = ALPHABET.as_bytes()[last + 1] as char;
    format!("{}{typo}", &text[..text.len() - 1])
}

#[test]
fn common_mistakes_get_messages_that_say_what_to_do() {
    let w = world();
    let from = w.sender.path();
    let body = ok(&w.seal("apns", &[], MESSAGE));

    // Opening with the sender's key file instead of the device's: both key ids named.
    let o = run(&["open", "--secret", from, "--sender", &w.sender.public], body.as_bytes());
    let expected = format!(
        "unknown recipient key id {}: {from} holds the sender's key (key id {}, which sealed this payload)",
        w.device.id, w.sender.id
    );
    rejected(&o, &expected);
    assert!(stderr(&o).contains("open it with the device's secret key"), "{}", stderr(&o));
    // With another device's key file: the key id in the file, and what to do.
    let other = keygen(w.dir.path(), "other.key");
    let o = run(&["open", "--secret", other.path(), "--sender", &w.sender.public], body.as_bytes());
    rejected(&o, &format!("holds key id {}; open it with the secret key of key id {}", other.id, w.device.id));

    // Sealing to the sender's own public key is refused.
    let o = run(&["seal", "--to", &w.sender.public, "--from", from], MESSAGE);
    rejected(&o, &format!("--to is the public key of the sender key in {from} (key id {})", w.sender.id));
    let o = run(&["seal", "--to", &w.device.public, "--to", &w.sender.public, "--from", from], MESSAGE);
    rejected(&o, "--to #2 is the public key of the sender key");

    // keygen's whole JSON line, a key file's name, or --to and --from swapped.
    let line = ok(&run(&["public-key", "--secret", w.device.path()], b""));
    rejected(&run(&["seal", "--to", line.trim(), "--from", from], MESSAGE), "keygen's whole JSON line");
    rejected(&run(&["seal", "--to", from, "--from", from], MESSAGE), "names a file, not a public key");
    rejected(
        &run(&["seal", "--to", &w.device.public, "--from", &w.sender.public], MESSAGE),
        "a public key was given where a secret key file belongs",
    );
    rejected(
        &run(&["open", "--secret", &w.device.public, "--sender", &w.sender.public], body.as_bytes()),
        "a public key was given where a secret key file belongs",
    );
    // Also for a public key that starts with "-" (one in 64 do): a value, not an option.
    let dash = format!("-{}", "A".repeat(42));
    for args in
        [["seal", "--to", &w.device.public, "--from", &dash], ["open", "--secret", &dash, "--sender", &w.sender.public]]
    {
        rejected(&run(&args, body.as_bytes()), "a public key was given where a secret key file belongs");
    }

    // A typo in the last character: the length is right, the encoding is not canonical.
    let typo = last_character_typo(&w.device.public);
    let o = run(&["seal", "--to", &typo, "--from", from], MESSAGE);
    rejected(&o, "--to: invalid encoding: it is not canonical base64url");
    assert!(stderr(&o).contains("check it for a typo") && !stderr(&o).contains("long"), "{}", stderr(&o));
    rejected(&run(&["seal", "--to", &w.device.public[..40], "--from", from], MESSAGE), "it is 40 characters long");

    // The other platform's payload: a hint to pass --platform.
    let fcm_request = ok(&w.seal("fcm", &["--request-body"], MESSAGE));
    rejected(&run(&["inspect"], fcm_request.as_bytes()), "this looks like an FCM message: pass --platform fcm");
    rejected(&w.open("envelope", &[], body.as_bytes()), "this looks like an APNs payload: pass --platform apns");
    let envelope = ok(&w.seal("envelope", &[], MESSAGE));
    rejected(&run(&["inspect", "--platform", "fcm"], envelope.as_bytes()), "pass --platform envelope");
}

fn set_private(path: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(unix)]
#[test]
fn a_key_file_other_users_can_read_gets_a_warning() {
    use std::os::unix::fs::PermissionsExt as _;
    let w = world();
    std::fs::set_permissions(&w.device.path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = run(&["public-key", "--secret", w.device.path()], b"");
    assert!(o.status.success());
    assert!(stderr(&o).starts_with("warning: other users can access key file"), "{}", stderr(&o));
}

#[test]
fn a_failed_device_in_a_batch_is_reported_and_the_others_are_sealed() {
    let w = world();
    let zero_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let o = run(
        &["seal", "--platform", "envelope", "--from", w.sender.path(), "--to", &w.device.public, "--to", zero_key],
        MESSAGE,
    );
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(json(&lines[0])["to"], w.device.id.as_str());
    assert!(stderr(&o).starts_with("error: device key id "), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
}

#[test]
fn notifications_that_do_not_fit_are_rejected() {
    let w = world();
    rejected(&w.seal("apns", &[], br#"{"title": "a"}"#), "no \"body\" field");
    rejected(&w.seal("apns", &[], br#"{"title": "a", "body": "b", "extra": "SECRET-VALUE"}"#), "no other field");
    let o = w.seal("apns", &[], br#"{"title": "a", "body": "b", "badge": "SECRET-VALUE"}"#);
    rejected(&o, "does not fit the format");
    assert!(!stderr(&o).contains("SECRET-VALUE"), "the input is never quoted");
    rejected(&w.seal("apns", &[], br#"{"title": "a", "body": "b", "data": {"k": 1}}"#), "does not fit");
    rejected(&w.seal("apns", &[], br#"["title", "body"]"#), "not a JSON object");
    rejected(&w.seal("apns", &[], br#"{"title": "a", "body": "b"} trailing"#), "not valid JSON");
    let big = format!(r#"{{"title": "a", "body": "{}"}}"#, "x".repeat(3000));
    rejected(&w.seal("apns", &[], big.as_bytes()), "too large");
    rejected(&w.seal("envelope", &[], big.as_bytes()), "too large");
}

/// Inputs no one should send, for every command that reads standard input.
fn hostile_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let mut junk = Vec::with_capacity(4096);
    let mut state: u32 = 0x1234_5678;
    for _ in 0..4096 {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        junk.push((state >> 24) as u8);
    }
    vec![
        ("empty", Vec::new()),
        ("white space", b" \n\t\r\n".to_vec()),
        ("binary junk", junk),
        ("huge", vec![b'A'; 4 << 20]),
        ("huge JSON", [b"{\"title\":\"".as_slice(), &vec![b'x'; 2 << 20], b"\",\"body\":\"b\"}"].concat()),
        ("deep arrays", vec![b'['; 500_000]),
        ("deep objects", b"{\"pushseal\":".repeat(50_000)),
        (
            "deep in a field",
            [b"{\"title\":\"a\",\"body\":\"b\",\"data\":".as_slice(), &b"{\"k\":".repeat(10_000)].concat(),
        ),
        ("non-UTF-8", b"{\"title\":\"\xff\xfe\",\"body\":\"\xc3\x28\"}".to_vec()),
        ("NUL bytes", vec![0; 1000]),
        ("JSON null", b"null".to_vec()),
        ("JSON string", b"\"AQID\"".to_vec()),
        ("a number", b"1e999999".to_vec()),
        ("lone surrogate", br#"{"title":"\ud800","body":"b","pushseal":"\ud800"}"#.to_vec()),
    ]
}

#[test]
fn hostile_stdin_never_panics() {
    let w = world();
    for (name, input) in hostile_inputs() {
        let mut outputs = vec![("seal", w.seal("apns", &[], &input))];
        for platform in ["apns", "fcm", "envelope"] {
            outputs.push(("open", w.open(platform, &[], &input)));
            outputs.push(("inspect", run(&["inspect", "--platform", platform], &input)));
        }
        for (command, o) in outputs {
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(1), "{command} with {name}: {err}");
            assert!(o.stdout.is_empty(), "{command} with {name}");
            assert!(err.starts_with("error: "), "{command} with {name}: {err}");
            assert_eq!(err.lines().count(), 1, "{command} with {name}: {err}");
            assert!(!err.contains("panicked") && !err.contains("internal error"), "{command} with {name}: {err}");
        }
    }
}

#[test]
fn stdin_limits_have_their_own_messages() {
    let w = world();
    rejected(&w.seal("apns", &[], &vec![b' '; 2 << 20]), "larger than 1 MiB");
    rejected(&w.open("apns", &[], b"{\"pushseal\":\"\xff\"}"), "not UTF-8");
    rejected(&w.seal("apns", &[], b""), "standard input is empty");
    rejected(&run(&["inspect"], b""), "standard input is empty");
    rejected(&run(&["inspect"], &vec![b'['; 10_000]), "more than 64 deep");
}

#[test]
fn usage_errors_exit_2() {
    let w = world();
    let (to, from) = (w.device.public.as_str(), w.sender.path());
    usage_error(&run(&[], b""));
    usage_error(&run(&["seal"], b""));
    usage_error(&run(&["frobnicate"], b""));
    usage_error(&run(&["keygen"], b""));
    usage_error(&run(&["seal", "--from", from], MESSAGE));
    usage_error(&run(&["seal", "--to", to], MESSAGE));
    usage_error(&run(&["seal", "--to", to, "--from", from, "--platform", "sms"], MESSAGE));
    usage_error(&run(&["seal", "--to", to, "--from", from, "--ttl", "0"], MESSAGE));
    usage_error(&run(&["seal", "--to", to, "--from", from, "--ttl", "2419201"], MESSAGE));
    usage_error(&run(&["seal", "--to", to, "--from", from, "--ttl", "soon"], MESSAGE));
    usage_error(&run(&["seal", "--to", to, "--from", from, "--platform", "fcm", "--background"], MESSAGE));
    usage_error(&run(&["seal", "--to", to, "--from", from, "--platform", "fcm", "--headers"], MESSAGE));
    usage_error(&run(&["seal", "--to", to, "--from", from, "--token", "t"], MESSAGE));
    usage_error(&run(&["seal", "--to", to, "--from", from, "--priority", "normal"], MESSAGE));
    usage_error(&run(&["seal", "--to", to, "--from", from, "--platform", "fcm", "--priority", "low"], MESSAGE));
    usage_error(&run(&["seal", "--to", to, "--from", from, "--platform", "envelope", "--collapse-id", "c"], MESSAGE));
    usage_error(&run(&["seal", "--to", to, "--from", from, "--background", "--fallback-title", "x"], MESSAGE));
    usage_error(&run(&["seal", "--to", to, "--to", to, "--from", from, "--platform", "fcm", "--token", "t"], MESSAGE));
    usage_error(&run(&["open", "--secret", w.device.path()], b""));
    usage_error(&run(&["open", "--sender", to, "--secret", w.device.path(), "--now", "-1"], b""));
    usage_error(&run(&["inspect", "--platform", "apn"], b""));
    let o = run(&["seal", "--to", to, "--from", from, "--platform", "fcm", "--background"], MESSAGE);
    assert!(stderr(&o).contains("--background needs --platform apns"), "{}", stderr(&o));
    assert!(stderr(&o).contains("Usage: pushseal seal"), "{}", stderr(&o));
}

#[cfg(unix)]
#[test]
fn non_utf8_arguments_are_usage_errors_or_rejections() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt as _;
    let bad = OsStr::from_bytes(b"\xff\xfe");
    let o = Command::new(BIN)
        .args([OsStr::new("seal"), OsStr::new("--from"), OsStr::new("k"), OsStr::new("--to"), bad])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = Command::new(BIN).args([OsStr::new("public-key"), OsStr::new("--secret"), bad]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("error: cannot open key file"));
}

#[test]
fn help_is_complete() {
    let top = ok(&run(&["--help"], b""));
    for needle in [
        "keygen",
        "public-key",
        "seal",
        "open",
        "inspect",
        "demo",
        "pushseal-secret-key-v1:",
        "0600",
        "Exit status",
        "usage error",
    ] {
        assert!(top.contains(needle), "--help lacks {needle:?}");
    }
    let cases: [(&str, &[&str]); 6] = [
        ("keygen", &["--secret-out", "0600", "never overwritten", "public_key", "key_id"]),
        ("public-key", &["--secret", "public_key"]),
        (
            "seal",
            &[
                "--to",
                "--from",
                "--platform",
                "--ttl",
                "--json-lines",
                "--fallback-title",
                "--background",
                "--topic",
                "--headers",
                "--collapse-id",
                "--token",
                "--request-body",
                "apns",
                "fcm",
                "envelope",
                "\"title\"",
                "message_id",
                "Examples:",
            ],
        ),
        ("open", &["--secret", "--sender", "--platform", "--replay-db", "--now", "\"sent_at\"", "Examples:"]),
        ("inspect", &["--platform", "recipient_key_id", "padded_plaintext_bytes"]),
        ("demo", &["tampered", "replay", "forged"]),
    ];
    for (command, needles) in cases {
        let long = ok(&run(&[command, "--help"], b""));
        let short = ok(&run(&[command, "-h"], b""));
        let via_help = ok(&run(&["help", command], b""));
        assert_eq!(long, via_help);
        assert!(short.contains("Usage: pushseal"), "{command} -h");
        for needle in needles {
            assert!(long.contains(needle), "{command} --help lacks {needle:?}");
        }
    }
    let version = ok(&run(&["--version"], b""));
    assert!(version.starts_with("pushseal "), "{version}");
}

#[test]
fn demo_tells_the_story_and_rejects_the_three_attacks() {
    let out = ok(&run(&["demo"], b""));
    for needle in [
        "APNs body",
        "FCM message",
        "\"mutable-content\":1",
        "refused (invalid_signature)",
        "refused (replayed)",
        "refused (untrusted_sender)",
    ] {
        assert!(out.contains(needle), "demo lacks {needle:?}:\n{out}");
    }
    // The gateway's view holds no plaintext; the opened notification does.
    let gateway = out.find("4. What the gateways").unwrap();
    let opened = out.find("5. The phone opens them").unwrap();
    assert!(!out[gateway..opened].contains("blood test"), "{out}");
    assert!(out[opened..].contains("Your blood test results from Tuesday are ready to view."), "{out}");
    assert!(!out.contains('\u{1b}'), "no terminal escapes when not on a terminal");
}

/// Runs `pushseal args` with a standard output whose reader is already gone.
#[cfg(unix)]
fn with_closed_stdout(args: &[&str], stdin: &[u8]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child =
        Command::new(BIN).args(args).stdin(Stdio::piped()).stdout(writer).stderr(Stdio::piped()).spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().unwrap()
}

#[cfg(unix)]
#[test]
fn a_closed_stdout_stops_quietly() {
    let w = world();
    for (args, input) in [
        (vec!["demo"], &b""[..]),
        (vec!["--help"], b""),
        (vec!["seal", "--help"], b""),
        (vec!["seal", "--to", &w.device.public, "--from", w.sender.path()], MESSAGE),
    ] {
        let o = with_closed_stdout(&args, input);
        let err = stderr(&o);
        assert!(!err.contains("panicked") && !err.contains("internal error"), "{args:?}: {err}");
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
    }
}

#[test]
fn payload_json_is_read_whole_and_strictly() {
    // SPEC.md section 7.4: a member name twice anywhere, or a string with no
    // UTF-8 form in a member the device does not use, is not a payload.
    let w = world();
    let body = ok(&w.seal("apns", &[], MESSAGE));
    let body = body.trim();
    let (aps, pushseal) = body.split_once(r#","pushseal":"#).unwrap();
    let text = pushseal.trim_end_matches('}');
    assert_is_the_message(&ok(&w.open("apns", &[], body.as_bytes())));
    for (payload, reason) in [
        (format!(r#"{aps},"pushseal":1,"pushseal":{text}}}"#), "member name twice"),
        (format!(r#"{aps},"pushseal":"xx","pushseal":{text}}}"#), "member name twice"),
        (format!(r#"{aps},"pushseal":{text},"push\u0073eal":{text}}}"#), "member name twice"),
        (body.replace(r#""mutable-content":1"#, r#""mutable-content":1,"mutable-content":1"#), "member name twice"),
        (format!(r#"{aps},"x":"\ud800","pushseal":{text}}}"#), "UTF-8 form"),
        (format!(r#"{aps},"x":1e400,"pushseal":{text}}}"#), "finite numbers"),
    ] {
        let o = w.open("apns", &[], payload.as_bytes());
        rejected(&o, "not a PushSeal payload: its JSON");
        rejected(&o, reason);
    }
    // The FCM input too, around the data map and inside it.
    let fcm = ok(&w.seal("fcm", &[], MESSAGE));
    assert_is_the_message(&ok(&w.open("fcm", &[], fcm.as_bytes())));
    let data = json(&fcm)["data"]["pushseal"].as_str().unwrap().to_owned();
    for payload in [
        format!(r#"{{"data":{{"pushseal":"xx","pushseal":"{data}"}}}}"#),
        format!(r#"{{"pushseal":"{data}","pushseal":"{data}"}}"#),
        format!(r#"{{"android":{{"ttl":"1s","ttl":"2s"}},"data":{{"pushseal":"{data}"}}}}"#),
    ] {
        rejected(&w.open("fcm", &[], payload.as_bytes()), "member name twice");
    }
}

#[test]
fn options_that_leave_no_room_say_so() {
    // SPEC.md section 7.3: with a fallback title this long even the smallest
    // APNs body is over 4096 bytes; that is an invalid option, not a size.
    let w = world();
    let title = "x".repeat(3605);
    let o = w.seal("apns", &["--fallback-title", &title], MESSAGE);
    rejected(&o, "invalid notification: the APNs fallback title and body leave no room for a notification");
    assert!(!stderr(&o).contains("0 bytes"), "{}", stderr(&o));
    // One character shorter, the 256-byte bucket's body is exactly 4096 bytes.
    let title = "x".repeat(3604);
    let body = ok(&w.seal("apns", &["--fallback-title", &title], MESSAGE));
    assert_eq!(body.trim_end().len(), 4096);
    assert_is_the_message(&ok(&w.open("apns", &[], body.as_bytes())));
}

#[test]
fn envelope_input_may_end_in_one_line_ending_and_nothing_else() {
    // cli/README.md, "Input": a bare envelope text loses one final "\n" or
    // "\r\n"; any other white space is part of the text, which then is not
    // canonical base64url (as in the vectors base64-leading-space and
    // base64-trailing-newline, which are the library's input, not a file's).
    let w = world();
    let envelope = ok(&w.seal("envelope", &[], MESSAGE));
    let text = envelope.strip_suffix('\n').unwrap();
    assert!(!text.contains(char::is_whitespace));
    for ok_input in [text.to_owned(), format!("{text}\n"), format!("{text}\r\n")] {
        assert_is_the_message(&ok(&w.open("envelope", &[], ok_input.as_bytes())));
    }
    for bad in [
        format!(" {text}"),
        format!("\t{text}\n"),
        format!("{text} "),
        format!("{text}\n\n"),
        format!("{text}\r"),
        format!("{text}\u{a0}"),
    ] {
        rejected(&w.open("envelope", &[], bad.as_bytes()), "invalid encoding");
    }
    // JSON forms may have white space around them, as JSON may.
    assert_is_the_message(&ok(&w.open("envelope", &[], format!(" \"{text}\" \n\n").as_bytes())));

    // Nothing (or one line ending alone) is not a payload, on every platform.
    for platform in ["envelope", "apns", "fcm"] {
        for empty in [&b""[..], b"\n", b"\r\n"] {
            rejected(&w.open(platform, &[], empty), "not a PushSeal payload: standard input is empty");
            rejected(
                &run(&["inspect", "--platform", platform], empty),
                "not a PushSeal payload: standard input is empty",
            );
        }
    }
}
