//! The log as a transparency log, through the public API: checkpoints of a
//! real log verify and prove what they claim, a log cut back or rewritten
//! after a kept checkpoint is named as such, hostile proofs fail, and Go's
//! own verifiers (`golang.org/x/mod/sumdb/note` and `sumdb/tlog`) accept
//! PushSeal's checkpoints and proofs.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use pushseal::{BareEnvelope, DeviceKeyring, Message, Sender, SenderSecretKey};
use pushseal_audit::checkpoint::{Checkpoint, LogSigningKey};
use pushseal_audit::merkle::ProofError;
use pushseal_audit::{AuditLog, Comparison, Hash256, LogTree, Proof, ProofFileError};

const ORIGIN: &str = "audit.example.com/pushseal";

struct Log {
    _dir: tempfile::TempDir,
    path: PathBuf,
    log: AuditLog,
    sender: Sender,
    key: LogSigningKey,
}

fn log_with(records: usize) -> Log {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    let sender = Sender::new(SenderSecretKey::from_bytes([0x21; 32]));
    let l = Log { _dir: dir, path, log, sender, key: LogSigningKey::generate(ORIGIN).unwrap() };
    l.append(records);
    l
}

impl Log {
    fn append(&self, records: usize) {
        let phone = DeviceKeyring::generate().unwrap().public_key();
        for _ in 0..records {
            self.log.seal(&self.sender, &phone, &Message::new("t", "b"), &BareEnvelope).unwrap();
        }
    }

    fn checkpoint(&self) -> (String, Checkpoint) {
        let note = LogTree::read(&self.path).unwrap().checkpoint(&self.key).unwrap();
        let cp = self.key.verifier_key().open(note.as_bytes(), &[]).unwrap().checkpoint;
        (note, cp)
    }
}

/// Rewrites record `at` (its `time`) and recomputes every hash after it,
/// as someone who controls the file could: the chain stays valid.
fn rewrite_from(path: &Path, at: usize) {
    let text = fs::read_to_string(path).unwrap();
    let mut prev: Option<Hash256> = None;
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i < at {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let (prefix, _) = line.rsplit_once(",\"hash\":\"").unwrap();
        let mut prefix = prefix.to_owned();
        if let Some(p) = prev {
            let start = prefix.find("\"prev\":\"").unwrap() + 8;
            prefix.replace_range(start..start + 64, &p.to_string());
        }
        if i == at {
            prefix = prefix.replacen("\"time\":", "\"time\":1", 1);
        }
        let hash = Hash256::sha256(prefix.as_bytes());
        out.push_str(&format!("{prefix},\"hash\":\"{hash}\"}}\n"));
        prev = Some(hash);
    }
    fs::write(path, out).unwrap();
}

#[test]
fn checkpoints_and_proofs_of_a_real_log_verify() {
    let l = log_with(5);
    let (_, old) = l.checkpoint();
    l.append(8);
    let tree = LogTree::read(&l.path).unwrap();
    assert_eq!((tree.size(), tree.report().records), (13, 13));
    let (_, new) = l.checkpoint();
    assert_eq!((old.size, new.size, new.origin.as_str()), (5, 13, ORIGIN));
    for record in 0..13 {
        let proof = tree.prove_inclusion(record, &new).unwrap();
        let checked = proof.verify(&new).unwrap();
        assert_eq!(checked.seq, record);
        // The JSON form round-trips, and says what it is.
        let file = Proof::Inclusion(proof.clone());
        let json = serde_json::to_string(&file).unwrap();
        assert!(json.starts_with("{\"type\":\"inclusion\",\"record\":"), "{json}");
        assert_eq!(serde_json::from_str::<Proof>(&json).unwrap(), file);
        // Not a proof for the older checkpoint, and not for another record.
        assert!(proof.verify(&old).is_err());
        let mut moved = proof.clone();
        moved.record = (record + 1) % 13;
        assert!(moved.verify(&new).is_err());
    }
    let proof = tree.prove_consistency(&old, &new).unwrap();
    proof.verify(&old, &new).unwrap();
    let file = Proof::Consistency(proof.clone());
    let json = serde_json::to_string(&file).unwrap();
    assert!(json.starts_with("{\"type\":\"consistency\",\"old_size\":5,\"new_size\":13,"), "{json}");
    assert_eq!(serde_json::from_str::<Proof>(&json).unwrap(), file);
    assert!(proof.verify(&new, &old).is_err());
    assert_eq!(tree.compare(&old, 0).unwrap(), Comparison::Matches { size: 5 });
}

#[test]
fn hostile_proofs_fail_with_their_reason() {
    let l = log_with(7);
    let (_, cp) = l.checkpoint();
    let tree = LogTree::read(&l.path).unwrap();
    let proof = tree.prove_inclusion(3, &cp).unwrap();
    let mut short = proof.clone();
    short.hashes.pop();
    assert_eq!(short.verify(&cp), Err(ProofFileError::Proof(ProofError::WrongLength)));
    let mut long = proof.clone();
    long.hashes.push(cp.root);
    assert_eq!(long.verify(&cp), Err(ProofFileError::Proof(ProofError::WrongLength)));
    let mut altered = proof.clone();
    altered.line = altered.line.replacen("\"ttl\":", "\"ttl\":9", 1);
    assert_eq!(altered.verify(&cp), Err(ProofFileError::BadRecord));
    let mut swapped = proof.clone();
    swapped.hashes.swap(0, 1);
    assert_eq!(swapped.verify(&cp), Err(ProofFileError::Proof(ProofError::Mismatch)));
    let mut other_size = proof;
    other_size.tree_size = 8;
    assert_eq!(other_size.verify(&cp), Err(ProofFileError::WrongCheckpoint));
    for bad in [
        "{}",
        "{\"type\":\"consistency\",\"old_size\":1,\"hashes\":[]}",
        "{\"type\":\"consistency\",\"old_size\":1,\"new_size\":2,\"hashes\":[],\"extra\":1}",
        "{\"type\":\"exclusion\"}",
        "[]",
        "{\"type\":\"inclusion\",\"record\":-1}",
    ] {
        assert!(serde_json::from_str::<Proof>(bad).is_err(), "{bad}");
    }
    // A record past the checkpoint, an older checkpoint given as the newer.
    assert!(tree.prove_inclusion(7, &cp).is_err());
    let old = Checkpoint::new(ORIGIN, 3, tree.root_at(3).unwrap());
    assert!(tree.prove_consistency(&cp, &old).is_err());
    let other = Checkpoint::new("other.example/log", 3, tree.root_at(3).unwrap());
    assert!(tree.prove_consistency(&other, &cp).is_err());
}

#[test]
fn a_log_cut_back_after_a_kept_checkpoint_names_the_first_missing_record() {
    let l = log_with(10);
    let (_, kept) = l.checkpoint();
    let text = fs::read_to_string(&l.path).unwrap();
    let first_six: String = text.lines().take(6).map(|line| format!("{line}\n")).collect();
    fs::write(&l.path, first_six).unwrap();
    let tree = LogTree::read(&l.path).unwrap();
    // The chain alone sees a valid, shorter log.
    assert!(tree.report().is_intact());
    let found = tree.compare(&kept, 0).unwrap();
    assert_eq!(found, Comparison::CutBack { size: 10, records: 6, first_missing: 6 });
    assert!(found.to_string().contains("record 6 is the first missing"), "{found}");
    assert!(tree.prove_inclusion(2, &kept).unwrap_err().to_string().contains("cut back"));
}

#[test]
fn a_log_rewritten_after_kept_checkpoints_is_named_between_them() {
    let l = log_with(4);
    let (_, early) = l.checkpoint();
    l.append(1);
    let (_, late) = l.checkpoint();
    l.append(3);
    // Record 4, the only one between the two checkpoints, is rewritten and
    // every later hash recomputed: the chain is valid again.
    rewrite_from(&l.path, 4);
    let tree = LogTree::read(&l.path).unwrap();
    assert!(tree.report().is_intact());
    assert_eq!(tree.size(), 8);
    assert_eq!(tree.compare(&early, 0).unwrap(), Comparison::Matches { size: 4 });
    let found = tree.compare(&late, early.size).unwrap();
    assert_eq!(found, Comparison::Rewritten { size: 5, differs_from: 4, differs_to: 4 });
    assert!(found.to_string().contains("record 4 is not the one"), "{found}");
    // The rewritten log cannot prove it extends the kept checkpoint.
    assert!(tree.prove_consistency(&late, &early).is_err());
    let new = Checkpoint::new(ORIGIN, 8, tree.root_at(8).unwrap());
    assert!(tree.prove_consistency(&late, &new).unwrap_err().to_string().contains("rewritten"));
}

#[test]
fn a_broken_log_gets_no_checkpoint() {
    let l = log_with(3);
    let text = fs::read_to_string(&l.path).unwrap();
    fs::write(&l.path, text.replacen("\"ttl\":", "\"ttl\":1", 1)).unwrap();
    let err = LogTree::read(&l.path).unwrap().checkpoint(&l.key).unwrap_err();
    assert!(err.to_string().contains("broken"), "{err}");
}

/// Go's verifiers accept PushSeal's checkpoints and proofs. Skipped, saying
/// so, where `go` is not installed.
#[test]
fn gos_note_and_tlog_accept_pushseals_checkpoints_and_proofs() {
    if Command::new("go").arg("version").output().is_err() {
        eprintln!("SKIPPED: go is not installed; the Go verifier interop check did not run");
        return;
    }
    let l = log_with(6);
    let (old_note, old) = l.checkpoint();
    l.append(11);
    let (new_note, new) = l.checkpoint();
    let tree = LogTree::read(&l.path).unwrap();
    let dir = l.path.parent().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        fs::write(&p, text).unwrap();
        p
    };
    let vkey = write("log.vkey", &l.key.verifier_key().to_string());
    let new_path = write("new.checkpoint", &new_note);
    let old_path = write("old.checkpoint", &old_note);
    let inclusion = serde_json::to_string(&Proof::Inclusion(tree.prove_inclusion(9, &new).unwrap())).unwrap();
    let consistency = serde_json::to_string(&Proof::Consistency(tree.prove_consistency(&old, &new).unwrap())).unwrap();
    let inc_path = write("inclusion.json", &inclusion);
    let cons_path = write("consistency.json", &consistency);
    let run = |checkpoint: &Path| {
        Command::new("go")
            .args(["run", "."])
            .args([&vkey, checkpoint, &old_path, &inc_path, &cons_path])
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go-verifier"))
            .output()
            .unwrap()
    };
    let out = run(&new_path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the Go verifier refused: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
    // And it is a real check: an altered checkpoint fails there too.
    let altered = write("altered.checkpoint", &new_note.replacen("\n17\n", "\n18\n", 1));
    let out = run(&altered);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("note.Open"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// SPEC.md section 10.4's example: its two records, its key and its
/// checkpoint, byte for byte (computed there with an independent Ed25519).
#[test]
fn the_spec_example_checkpoint_is_what_the_library_signs() {
    let spec = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../SPEC.md")).unwrap();
    let section = spec.split("### 10.2 Audit log").nth(1).unwrap().split("### 10.3").next().unwrap();
    let lines: Vec<&str> = section.lines().filter(|l| l.starts_with("{\"seq\":")).collect();
    assert_eq!(lines.len(), 2);
    let mut tree = pushseal_audit::merkle::MemoryHashes::default();
    for line in &lines {
        tree.append_leaf(pushseal_audit::merkle::leaf_hash(line.as_bytes())).unwrap();
    }
    let example = spec.split("### 10.4 Signed checkpoints").nth(1).unwrap();
    let blocks: Vec<&str> = example.split("```").collect();
    let key = LogSigningKey::from_text(blocks[1]).unwrap();
    let note = blocks[3].trim_start_matches('\n');
    assert!(example.contains(&key.verifier_key().to_string()));
    assert!(example.contains(&tree.root().to_string()));
    assert_eq!(key.sign(&Checkpoint::new(key.origin(), 2, tree.root())), note);
}
