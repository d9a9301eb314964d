//! The log as a transparency log from the command line: `pushseal audit
//! keygen`, `checkpoint`, `prove`, and the checkpoint and proof checks of
//! `audit verify` (SPEC.md sections 10.3 to 10.5).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args};
use pushseal_audit::checkpoint::{
    Checkpoint, LogSigningKey, LogVerifierKey, MAX_NOTE_LEN, VerifiedCheckpoint, WitnessKey,
};
use pushseal_audit::{Comparison, LogTree, PgStore, Proof, RecordStore};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::audit::LogAt;
use crate::error::CliError;
use crate::output::Out;

/// The longest proof file read: an inclusion proof holds one record line
/// (at most 4096 bytes, escaped) and at most 65 hashes.
const MAX_PROOF_FILE: u64 = 64 * 1024;

/// `pushseal audit keygen --help`: the output.
pub const KEYGEN_DETAILS: &str = "\
The log signing key signs the log's checkpoints. It is a key of its own, not a
sender's sealing key: keep its file secret (mode 0600), on the machine that
signs checkpoints. Publish the verifier key to whoever checks the log.

Output: {\"verifier_key\": \"<name>+<8 hex digits>+<base64>\"}

Example:
  pushseal audit keygen --name audit.example.com/pushseal --secret-out log-signing.key";

/// `pushseal audit checkpoint --help`: the output.
pub const CHECKPOINT_DETAILS: &str = "\
Checks the log (as audit verify does; a broken log gets no checkpoint) and
prints a signed checkpoint of all its records: a C2SP tlog-checkpoint signed as
a C2SP signed-note, which Go's sumdb/note and other verifiers of that format
read. Keep it, publish it, or hand it to witnesses: whoever holds it can later
prove that the log only grew, and catch a log cut back or rewritten.

With --audit-db URL instead of PATH, it signs the log in that PostgreSQL
database the same way (the tree is read from the stored hashes, after the
same checks of the whole log).

Examples:
  pushseal audit checkpoint audit.jsonl --signing-key log-signing.key > checkpoint-$(date +%s)
  pushseal audit checkpoint --audit-db \"$AUDIT_DB\" --signing-key log-signing.key > checkpoint-$(date +%s)";

/// `pushseal audit prove --help`: the output.
pub const PROVE_DETAILS: &str = "\
With --record N --checkpoint FILE: the inclusion proof of record N in the tree
the checkpoint signed, with the record's line:
  {\"type\":\"inclusion\",\"record\":N,\"tree_size\":M,\"line\":\"...\",\"hashes\":[...]}
With --from OLD --to NEW: the consistency proof that NEW's tree extends OLD's:
  {\"type\":\"consistency\",\"old_size\":M,\"new_size\":N,\"hashes\":[...]}
Fails (exit status 1), saying how, if the log is no longer the one a
checkpoint signed. With --audit-db URL instead of PATH, the proof is read from
the log in that PostgreSQL database (O(log n) rows): the same proof, byte for
byte, as from the same records in a file.

Examples:
  pushseal audit prove audit.jsonl --record 41 --checkpoint cp-new > record-41.proof
  pushseal audit prove audit.jsonl --from cp-old --to cp-new > grew.proof
  pushseal audit prove --audit-db \"$AUDIT_DB\" --record 41 --checkpoint cp-new > record-41.proof";

/// Arguments of `pushseal audit keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The log's name, the origin of its checkpoints: a schema-less URL such as audit.example.com/pushseal
    #[arg(long, value_name = "NAME")]
    name: String,

    /// Where to write the new signing key (created with mode 0600; never overwritten)
    #[arg(long, value_name = "PATH")]
    secret_out: PathBuf,
}

/// Arguments of `pushseal audit checkpoint`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("where").required(true).args(["log", "audit_db"])))]
pub struct CheckpointArgs {
    /// The audit log
    #[arg(value_name = "PATH")]
    log: Option<PathBuf>,

    /// Or the audit log in this PostgreSQL database (postgres://USER@HOST:PORT/DB)
    #[arg(long, value_name = "URL")]
    audit_db: Option<String>,

    /// The log signing key (from audit keygen)
    #[arg(long, value_name = "PATH")]
    signing_key: PathBuf,
}

/// Arguments of `pushseal audit prove`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("where").required(true).args(["log", "audit_db"])))]
pub struct ProveArgs {
    /// The audit log
    #[arg(value_name = "PATH")]
    log: Option<PathBuf>,

    /// Or the audit log in this PostgreSQL database (postgres://USER@HOST:PORT/DB)
    #[arg(long, value_name = "URL")]
    audit_db: Option<String>,

    /// The record (its seq) to prove included
    #[arg(long, value_name = "N", requires = "checkpoint", conflicts_with_all = ["from", "to"])]
    record: Option<u64>,

    /// The checkpoint the record is proved to be in
    #[arg(long, value_name = "FILE", requires = "record")]
    checkpoint: Option<PathBuf>,

    /// The older checkpoint, to prove that the log only grew since
    #[arg(long, value_name = "FILE", requires = "to")]
    from: Option<PathBuf>,

    /// The newer checkpoint
    #[arg(long, value_name = "FILE", requires = "from")]
    to: Option<PathBuf>,
}

/// The checkpoint options of `pushseal audit verify`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The log's verifier key (name+hexid+base64, printed by audit keygen), to check checkpoints with
    #[arg(long, value_name = "VKEY")]
    pub key: Option<String>,

    /// A checkpoint: checked alone, with --proof (inclusion), or, with the log, compared with it (repeatable)
    #[arg(long, value_name = "FILE", requires = "key")]
    pub checkpoint: Vec<PathBuf>,

    /// A proof from audit prove: inclusion (with --checkpoint) or consistency (with --from and --to)
    #[arg(long, value_name = "FILE", requires = "key")]
    pub proof: Option<PathBuf>,

    /// The older checkpoint of a consistency proof
    #[arg(long, value_name = "FILE", requires_all = ["to", "proof"], conflicts_with = "checkpoint")]
    pub from: Option<PathBuf>,

    /// The newer checkpoint of a consistency proof
    #[arg(long, value_name = "FILE", requires = "from")]
    pub to: Option<PathBuf>,

    /// A witness's verifier key (name+hexid+base64 of type 0x04): report its cosignatures (repeatable)
    #[arg(long, value_name = "VKEY", requires = "key")]
    pub witness: Vec<String>,
}

impl CheckArgs {
    /// Whether any checkpoint option was given.
    pub fn any(&self) -> bool {
        self.key.is_some()
    }
}

/// `pushseal audit keygen`.
pub fn keygen(out: &mut Out, args: &KeygenArgs) -> Result<(), CliError> {
    let key = LogSigningKey::generate(&args.name).map_err(|e| CliError::rejected(format!("--name: {e}")))?;
    crate::commands::write_new_key_file(&args.secret_out, key.to_text().as_bytes())?;
    out.line(&json!({ "verifier_key": key.verifier_key().to_string() }).to_string())
}

/// `pushseal audit checkpoint`.
pub fn checkpoint(out: &mut Out, args: &CheckpointArgs) -> Result<(), CliError> {
    // The key's text is a secret: wiped once read.
    let text = Zeroizing::new(read_limited(&args.signing_key, 1024, "--signing-key")?);
    let key = LogSigningKey::from_text(&text).map_err(|e| CliError::rejected(format!("--signing-key: {e}")))?;
    let note = match Tree::at(args.log.as_deref(), args.audit_db.as_deref())? {
        Tree::File(tree) => tree.checkpoint(&key)?,
        Tree::Db(store) => {
            // As for a file: what a checkpoint signs must be a log that verifies.
            if let Some(broken) = store.verify(None)?.first_break {
                return Err(CliError::rejected(format!(
                    "the audit log is broken at {broken}; no checkpoint is signed over a broken log"
                )));
            }
            store.checkpoint(&key)?
        }
    };
    out.line(note.trim_end_matches('\n'))
}

/// `pushseal audit prove`.
pub fn prove(out: &mut Out, args: &ProveArgs) -> Result<(), CliError> {
    let proof = match (args.record, &args.checkpoint, &args.from, &args.to) {
        (Some(record), Some(cp), None, None) => {
            let cp = read_checkpoint_body(cp, "--checkpoint")?;
            Proof::Inclusion(match Tree::at(args.log.as_deref(), args.audit_db.as_deref())? {
                Tree::File(tree) => tree.prove_inclusion(record, &cp)?,
                Tree::Db(store) => store.prove_inclusion(record, &cp)?,
            })
        }
        (None, None, Some(from), Some(to)) => {
            let (old, new) = (read_checkpoint_body(from, "--from")?, read_checkpoint_body(to, "--to")?);
            Proof::Consistency(match Tree::at(args.log.as_deref(), args.audit_db.as_deref())? {
                Tree::File(tree) => tree.prove_consistency(&old, &new)?,
                Tree::Db(store) => store.prove_consistency(&old, &new)?,
            })
        }
        _ => return Err(CliError::usage("prove", "give --record N --checkpoint FILE, or --from OLD --to NEW")),
    };
    out.line(&serde_json::to_string(&proof).map_err(|_| CliError::rejected("the proof cannot be printed as JSON"))?)
}

/// The log a checkpoint or a proof is made from: a file's tree, read and
/// checked whole, or a database's stored tree, read as needed.
#[allow(clippy::large_enum_variant)] // one at a time, for one command
enum Tree {
    File(LogTree),
    Db(PgStore),
}

impl Tree {
    fn at(path: Option<&Path>, db: Option<&str>) -> Result<Self, CliError> {
        match LogAt::from_args(path, db) {
            Some(LogAt::File(path)) => Ok(Self::File(LogTree::read(path)?)),
            // A database without a log is not an empty log.
            Some(LogAt::Db(url)) => Ok(Self::Db(PgStore::connect_existing(url)?)),
            None => Err(CliError::rejected("give the audit log: PATH or --audit-db URL")),
        }
    }
}

/// `pushseal audit verify` without a log: a checkpoint, an inclusion proof
/// or a consistency proof.
pub fn verify_without_log(out: &mut Out, args: &CheckArgs) -> Result<(), CliError> {
    let (key, witnesses) = keys(args)?;
    let proof = args.proof.as_deref().map(read_proof).transpose()?;
    match (proof, &args.checkpoint[..], &args.from, &args.to) {
        (None, [cp], None, None) => {
            let cp = open_checkpoint(&key, &witnesses, cp, "--checkpoint")?;
            out.line(&json!({ "checkpoint": describe(&cp) }).to_string())
        }
        (Some(Proof::Inclusion(proof)), [cp], None, None) => {
            let cp = open_checkpoint(&key, &witnesses, cp, "--checkpoint")?;
            let record = proof
                .verify(&cp.checkpoint)
                .map_err(|e| CliError::rejected(format!("the record is not proved to be in the checkpoint: {e}")))?;
            let line: Value = serde_json::from_str(&proof.line).unwrap_or(Value::Null);
            out.line(
                &json!({ "included": true, "record": record.seq, "checkpoint": describe(&cp), "line": line })
                    .to_string(),
            )
        }
        (Some(Proof::Consistency(proof)), [], Some(from), Some(to)) => {
            let old = open_checkpoint(&key, &witnesses, from, "--from")?;
            let new = open_checkpoint(&key, &witnesses, to, "--to")?;
            proof.verify(&old.checkpoint, &new.checkpoint).map_err(|e| {
                CliError::rejected(format!(
                    "the log of --to does not extend the log of --from (cut back or rewritten in between): {e}"
                ))
            })?;
            out.line(&json!({ "consistent": true, "from": describe(&old), "to": describe(&new) }).to_string())
        }
        (Some(Proof::Inclusion(_)), _, _, _) => {
            Err(CliError::usage("verify", "an inclusion proof is checked with one --checkpoint"))
        }
        (Some(Proof::Consistency(_)), _, _, _) => {
            Err(CliError::usage("verify", "a consistency proof is checked with --from OLD --to NEW"))
        }
        _ => Err(CliError::usage(
            "verify",
            "give --checkpoint FILE [--proof FILE], or --from OLD --to NEW --proof FILE, or a log and --checkpoint",
        )),
    }
}

/// `pushseal audit verify LOG --key K --checkpoint KEPT...`: compares the
/// log with each kept checkpoint, smallest first; prints one line each and
/// fails if the log was cut back or rewritten.
pub fn compare_with_log(out: &mut Out, log: &Path, args: &CheckArgs) -> Result<(), CliError> {
    if args.proof.is_some() || args.from.is_some() {
        return Err(CliError::usage("verify", "with a log, give only --checkpoint (kept checkpoints to compare with)"));
    }
    let (key, witnesses) = keys(args)?;
    let mut kept = args
        .checkpoint
        .iter()
        .map(|p| open_checkpoint(&key, &witnesses, p, "--checkpoint").map(|c| (p, c.checkpoint)))
        .collect::<Result<Vec<_>, _>>()?;
    kept.sort_by_key(|(_, c)| c.size);
    let tree = LogTree::read(log)?;
    let (mut matched, mut first_failure) = (0, None);
    for (path, cp) in &kept {
        let found = tree.compare(cp, matched)?;
        let mut line = serde_json::to_value(&found).unwrap_or(Value::Null);
        if let Some(obj) = line.as_object_mut() {
            obj.insert("checkpoint".into(), Value::String(path.display().to_string()));
        }
        out.line(&line.to_string())?;
        match found {
            Comparison::Matches { size } => matched = size,
            other => {
                first_failure.get_or_insert(other);
            }
        }
    }
    match first_failure {
        None => Ok(()),
        Some(found) => {
            out.flush()?;
            Err(CliError::rejected(found.to_string()))
        }
    }
}

fn keys(args: &CheckArgs) -> Result<(LogVerifierKey, Vec<WitnessKey>), CliError> {
    let key = args.key.as_deref().ok_or_else(|| CliError::usage("verify", "give the log's verifier key with --key"))?;
    let key: LogVerifierKey = key.parse().map_err(|e| CliError::rejected(format!("--key: {e}")))?;
    let witnesses = args
        .witness
        .iter()
        .map(|w| w.parse().map_err(|e| CliError::rejected(format!("--witness: {e}"))))
        .collect::<Result<_, _>>()?;
    Ok((key, witnesses))
}

/// The JSON of a checked checkpoint.
fn describe(cp: &VerifiedCheckpoint) -> Value {
    let cosigned: Vec<Value> =
        cp.cosignatures.iter().map(|c| json!({ "witness": c.witness, "time": c.time })).collect();
    json!({
        "origin": cp.checkpoint.origin,
        "size": cp.checkpoint.size,
        "root": cp.checkpoint.root.to_string(),
        "cosigned_by": cosigned,
    })
}

fn open_checkpoint(
    key: &LogVerifierKey,
    witnesses: &[WitnessKey],
    path: &Path,
    flag: &str,
) -> Result<VerifiedCheckpoint, CliError> {
    let note = read_limited(path, MAX_NOTE_LEN as u64, flag)?;
    key.open(note.as_bytes(), witnesses).map_err(|e| CliError::rejected(format!("{flag} {}: {e}", path.display())))
}

/// A checkpoint's body, its signature unchecked: the prover only needs to
/// know which tree to prove against (the verifier checks the signature).
fn read_checkpoint_body(path: &Path, flag: &str) -> Result<Checkpoint, CliError> {
    let note = read_limited(path, MAX_NOTE_LEN as u64, flag)?;
    let body = note.split_once("\n\n").map_or(note.as_str(), |(body, _)| body);
    Checkpoint::parse_body(&format!("{body}\n"))
        .map_err(|e| CliError::rejected(format!("{flag} {}: {e}", path.display())))
}

fn read_proof(path: &Path) -> Result<Proof, CliError> {
    let text = read_limited(path, MAX_PROOF_FILE, "--proof")?;
    serde_json::from_str(&text).map_err(|e| {
        CliError::rejected(format!("--proof {}: not a proof printed by audit prove ({e})", path.display()))
    })
}

/// Reads a UTF-8 file of at most `limit` bytes.
fn read_limited(path: &Path, limit: u64, flag: &str) -> Result<String, CliError> {
    let shown = path.display();
    let file =
        std::fs::File::open(path).map_err(|e| CliError::rejected(format!("{flag}: cannot read {shown}: {e}")))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::rejected(format!("{flag}: cannot read {shown}: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(CliError::rejected(format!("{flag}: {shown} is longer than {limit} bytes: not what it should be")));
    }
    String::from_utf8(bytes).map_err(|_| CliError::rejected(format!("{flag}: {shown} is not UTF-8 text")))
}
