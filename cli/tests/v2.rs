//! Envelope version 2 (post-quantum, SPEC.md section 12) through the built
//! `pushseal` binary: keygen's device and sender key files with their
//! version 2 keys, seal's `--pq prefer|require|off` (each version checked
//! with `inspect`), open of both versions with a pinned version 2 sender,
//! `--v2-only`, and a one-line refusal for every mistake.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use tempfile::TempDir;

mod common;
use common::{json, ok, rejected_with, run, stderr};

const MESSAGE: &[u8] = br#"{"title": "Lab results", "body": "Your results from Tuesday are ready."}"#;

/// A key file made by `pushseal keygen` and the JSON line it printed.
struct Key {
    path: PathBuf,
    printed: Value,
}

impl Key {
    fn path(&self) -> &str {
        self.path.to_str().unwrap()
    }

    fn field(&self, name: &str) -> &str {
        self.printed[name].as_str().unwrap_or_else(|| panic!("keygen printed no {name}: {}", self.printed))
    }
}

fn keygen(dir: &Path, name: &str, flags: &[&str]) -> Key {
    let path = dir.join(name);
    let mut args = vec!["keygen", "--secret-out", path.to_str().unwrap()];
    args.extend_from_slice(flags);
    let printed = json(&ok(&run(&args, b"")));
    Key { path, printed }
}

/// A device with both keys and a sender with a signing key.
struct World {
    dir: TempDir,
    device: Key,
    sender: Key,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let device = keygen(dir.path(), "device.key", &[]);
    let sender = keygen(dir.path(), "sender.key", &["--sender"]);
    World { dir, device, sender }
}

impl World {
    fn seal(&self, to: &str, extra: &[&str]) -> Output {
        let mut args = vec!["seal", "--to", to, "--from", self.sender.path()];
        args.extend_from_slice(extra);
        run(&args, MESSAGE)
    }

    fn open(&self, sender: &str, extra: &[&str], payload: &[u8]) -> Output {
        let mut args = vec!["open", "--secret", self.device.path(), "--sender", sender];
        args.extend_from_slice(extra);
        run(&args, payload)
    }

    fn registration(&self) -> &str {
        self.device.field("registration")
    }
}

/// The envelope version of a payload, as `inspect` reads it.
fn version(platform: &str, payload: &[u8]) -> u64 {
    json(&ok(&run(&["inspect", "--platform", platform], payload)))["version"].as_u64().unwrap()
}

fn assert_is_the_message(opened: &str) {
    let n = json(opened);
    assert_eq!(
        (n["title"].as_str(), n["body"].as_str()),
        (Some("Lab results"), Some("Your results from Tuesday are ready."))
    );
}

#[test]
fn keygen_makes_a_device_file_with_its_x_wing_key_and_prints_the_registration() {
    let w = world();
    let registration = w.registration();
    assert!(registration.starts_with("pushseal-registration-v2:") && registration.len() == 1691, "{registration}");
    assert!(registration.contains(w.device.field("public_key")));
    let id = w.device.field("key_id_v2");
    assert!(id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) && id != w.device.field("key_id"));
    let text = std::fs::read_to_string(&w.device.path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{}", lines.len());
    assert!(lines[0].starts_with("pushseal-secret-key-v1:") && lines[1].starts_with("pushseal-device-secret-v2:"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&w.device.path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // public-key prints the same line.
    assert_eq!(json(&ok(&run(&["public-key", "--secret", w.device.path()], b""))), w.device.printed);
}

#[test]
fn keygen_sender_makes_a_signing_key_and_v1_only_makes_the_old_file() {
    let w = world();
    let pinned = w.sender.field("public_key_v2");
    assert!(pinned.starts_with("pushseal-sender-v2:") && pinned.len() == 19 + 43, "{pinned}");
    assert!(w.sender.printed.get("registration").is_none());
    let text = std::fs::read_to_string(&w.sender.path).unwrap();
    assert!(text.lines().nth(1).unwrap().starts_with("pushseal-sender-secret-v2:"));
    assert_eq!(json(&ok(&run(&["public-key", "--secret", w.sender.path()], b""))), w.sender.printed);

    let old = keygen(w.dir.path(), "old.key", &["--v1-only"]);
    let mut fields: Vec<&String> = old.printed.as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(fields, ["key_id", "public_key"]);
    assert_eq!(std::fs::read_to_string(&old.path).unwrap().lines().count(), 1);

    let both = w.dir.path().join("both.key");
    let o = run(&["keygen", "--secret-out", both.to_str().unwrap(), "--sender", "--v1-only"], b"");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!both.exists());
}

#[test]
fn seal_prefers_version_2_for_a_registration_and_open_opens_it_on_every_platform() {
    let w = world();
    let pinned = w.sender.field("public_key_v2");
    for platform in ["apns", "fcm", "envelope"] {
        let payload = ok(&w.seal(w.registration(), &["--platform", platform]));
        assert_eq!(version(platform, payload.as_bytes()), 2, "{platform}");
        assert_is_the_message(&ok(&w.open(pinned, &["--platform", platform], payload.as_bytes())));
    }
    // With the receipt, and with the version 2 sender named among others.
    let payload = ok(&w.seal(w.registration(), &[]));
    let args = [
        "open",
        "--secret",
        w.device.path(),
        "--sender",
        w.sender.field("public_key"),
        "--sender",
        pinned,
        "--receipt",
    ];
    let opened = json(&ok(&run(&args, payload.as_bytes())));
    assert_eq!(opened["receipt"].as_str().unwrap().len(), 22);
}

#[test]
fn seal_seals_version_1_to_a_version_1_key_and_with_pq_off() {
    let w = world();
    let v1_sender = w.sender.field("public_key");
    let to_old_app = ok(&w.seal(w.device.field("public_key"), &[]));
    assert_eq!(version("apns", to_old_app.as_bytes()), 1);
    assert_is_the_message(&ok(&w.open(v1_sender, &[], to_old_app.as_bytes())));

    let off = ok(&w.seal(w.registration(), &["--pq", "off"]));
    assert_eq!(version("apns", off.as_bytes()), 1);
    assert_is_the_message(&ok(&w.open(v1_sender, &[], off.as_bytes())));
    // A device that accepts version 2 only refuses it.
    rejected_with(&w.open(v1_sender, &["--v2-only"], off.as_bytes()), &["version 2 only"]);

    let required = ok(&w.seal(w.registration(), &["--pq", "require"]));
    assert_eq!(version("apns", required.as_bytes()), 2);
    assert_is_the_message(&ok(&w.open(w.sender.field("public_key_v2"), &["--v2-only"], required.as_bytes())));
}

#[test]
fn pq_require_refuses_a_version_1_key_and_a_sender_without_a_signing_key() {
    let w = world();
    rejected_with(
        &w.seal(w.device.field("public_key"), &["--pq", "require"]),
        &["--to is a version 1 public key", "--pq require", "registration", "--pq prefer"],
    );
    // Among several devices, the one without a version 2 key is named, and nothing is sealed.
    let args = [
        "seal",
        "--to",
        w.registration(),
        "--to",
        w.device.field("public_key"),
        "--from",
        w.sender.path(),
        "--pq",
        "require",
    ];
    rejected_with(&run(&args, MESSAGE), &["--to #2"]);

    let old_sender = keygen(w.dir.path(), "old-sender.key", &["--v1-only"]);
    let args = ["seal", "--to", w.registration(), "--from", old_sender.path(), "--pq", "require"];
    rejected_with(&run(&args, MESSAGE), &["has no signing key", "keygen", "--sender"]);
    // With prefer, a sender without a signing key seals version 1, as the core does.
    let args = ["seal", "--to", w.registration(), "--from", old_sender.path()];
    assert_eq!(version("apns", ok(&run(&args, MESSAGE)).as_bytes()), 1);

    // A device's key file cannot sign: refused where version 2 is wanted, fine for version 1.
    let other_device = keygen(w.dir.path(), "other-device.key", &[]);
    let args = ["seal", "--to", w.registration(), "--from", other_device.path()];
    rejected_with(&run(&args, MESSAGE), &["device's key file", "keygen --sender", "--pq off"]);
    let args = ["seal", "--to", w.registration(), "--from", other_device.path(), "--pq", "off"];
    assert_eq!(version("apns", ok(&run(&args, MESSAGE)).as_bytes()), 1);
    let bad = run(&["seal", "--to", w.registration(), "--from", w.sender.path(), "--pq", "maybe"], MESSAGE);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn several_devices_get_the_version_each_registered() {
    let w = world();
    let old_app = keygen(w.dir.path(), "old-app.key", &["--v1-only"]);
    let args = [
        "seal",
        "--platform",
        "envelope",
        "--to",
        w.registration(),
        "--to",
        old_app.field("public_key"),
        "--from",
        w.sender.path(),
    ];
    let out = ok(&run(&args, MESSAGE));
    let lines: Vec<Value> = out.lines().map(json).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["to"], w.device.field("key_id_v2"));
    assert_eq!(lines[1]["to"], old_app.field("key_id"));
    let versions: Vec<u64> =
        lines.iter().map(|l| version("envelope", l["payload"].as_str().unwrap().as_bytes())).collect();
    assert_eq!(versions, [2, 1]);
    // Each line says the version it sealed.
    assert_eq!((lines[0]["version"].as_u64(), lines[1]["version"].as_u64()), (Some(2), Some(1)));
}

#[test]
fn open_refuses_an_unpinned_version_2_sender_and_a_forged_signature() {
    let w = world();
    let payload = ok(&w.seal(w.registration(), &["--platform", "envelope"]));
    // Trusting the sender's version 1 key does not trust its version 2 key.
    rejected_with(
        &w.open(w.sender.field("public_key"), &["--platform", "envelope"], payload.as_bytes()),
        &["untrusted sender"],
    );
    let other = keygen(w.dir.path(), "other-sender.key", &["--sender"]);
    rejected_with(
        &w.open(other.field("public_key_v2"), &["--platform", "envelope"], payload.as_bytes()),
        &["untrusted sender"],
    );
    // One character of the signature changed.
    let mut tampered = payload.trim().to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'Q' } else { 'A' });
    rejected_with(
        &w.open(w.sender.field("public_key_v2"), &["--platform", "envelope"], tampered.as_bytes()),
        &["invalid signature"],
    );
    // A device key file without its version 2 key does not hold the key it was sealed to.
    let v1_file = w.dir.path().join("device-v1.key");
    let first = std::fs::read_to_string(&w.device.path).unwrap().lines().next().unwrap().to_owned();
    std::fs::write(&v1_file, format!("{first}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&v1_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let args = [
        "open",
        "--platform",
        "envelope",
        "--secret",
        v1_file.to_str().unwrap(),
        "--sender",
        w.sender.field("public_key_v2"),
    ];
    rejected_with(&run(&args, payload.as_bytes()), &["unknown recipient key"]);
}

#[test]
fn version_2_texts_in_the_wrong_place_are_refused_in_one_line() {
    let w = world();
    let registration = w.registration();
    let pinned = w.sender.field("public_key_v2");
    rejected_with(&w.seal(&registration[..registration.len() - 5], &[]), &["--to is not a valid registration text"]);
    let device_v2 = format!("pushseal-device-v2:{}", registration.split('.').nth(1).unwrap());
    rejected_with(&w.seal(&device_v2, &[]), &["version 2 public key alone", "registration"]);
    rejected_with(&w.seal(pinned, &[]), &["sender's version 2 public key"]);
    let secret = std::fs::read_to_string(&w.sender.path).unwrap();
    let signing_secret = secret.lines().nth(1).unwrap();
    rejected_with(&w.seal(signing_secret, &[]), &["is a secret key"]);
    rejected_with(&w.open(signing_secret, &[], b""), &["--sender is a secret key"]);
    rejected_with(&w.open(registration, &[], b""), &["--sender is a device's public key"]);
    rejected_with(&w.open(&pinned[..pinned.len() - 1], &[], b""), &["--sender is not a valid version 2 sender key"]);
}

#[test]
fn damaged_key_files_are_refused_without_showing_a_key() {
    let w = world();
    let text = std::fs::read_to_string(&w.device.path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let write = |name: &str, contents: String| {
        let path = w.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        path.to_str().unwrap().to_owned()
    };
    let cases = [
        (write("junk.key", format!("{}\nnot a key\n", lines[0])), "second line is not a version 2 secret key"),
        (write("three.key", format!("{text}{}\n", lines[1])), "more than two keys"),
        (write("cut.key", format!("{}\n{}\n", lines[0], &lines[1][..lines[1].len() - 2])), "version 2 device key"),
    ];
    for (path, reason) in cases {
        let o = run(&["public-key", "--secret", &path], b"");
        rejected_with(&o, &[reason]);
        assert!(!stderr(&o).contains(&lines[1][27..]), "a secret key was shown");
    }
}

#[test]
fn demo_seals_version_2_and_says_so() {
    let out = ok(&run(&["demo"], b""));
    for needle in [
        "envelope version    2 (post-quantum",
        "header     version 2",
        "refused (invalid_signature)",
        "refused (replayed)",
        "refused (untrusted_sender)",
        "envelope version    1",
        "Your blood test results from Tuesday are ready to view.",
    ] {
        assert!(out.contains(needle), "demo lacks {needle:?}:\n{out}");
    }
}

#[test]
fn help_names_the_version_2_options() {
    let cases: [(&str, &[&str]); 3] = [
        ("keygen", &["--sender", "--v1-only", "registration", "public_key_v2", "key_id_v2"]),
        ("seal", &["--pq", "prefer", "require", "off", "registration"]),
        ("open", &["--v2-only", "pushseal-sender-v2:"]),
    ];
    for (command, needles) in cases {
        let help = ok(&run(&[command, "--help"], b""));
        for needle in needles {
            assert!(help.contains(needle), "{command} --help lacks {needle:?}");
        }
    }
    assert!(ok(&run(&["--help"], b"")).contains("version 2 (post-quantum)"));
}
