//! The audit trail from the command line: `pushseal audit verify` and
//! `pushseal audit receipt`, and the pieces `seal --audit-log` and
//! `open --receipt` use.

use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args, Subcommand};
use pushseal::{MessageId, Notification, Receipt, unix_now};
use pushseal_audit::{Actor, Anchor, AuditLog, PgStore, RecordStore, TokenKey, verify_log};

use crate::checkpoints;
use crate::error::CliError;
use crate::output::Out;

/// `pushseal audit verify --help`: the output.
const VERIFY_DETAILS: &str = "\
Output: one JSON line,
  {\"intact\": true, \"records\": 12, \"lines\": 12, \"sealed\": 9, \"delivered\": 3,
   \"recovered\": 0, \"senders\": [\"<key id>\", ...], \"recipients\": [\"<key id>\", ...],
   \"head\": \"<seq>:<hash>\", \"first_break\": null, \"torn_tail\": null}
  first_break, when the chain is broken: {\"line\", \"offset\", \"expected_seq\",
  \"kind\", \"reason\"}; the exit status is then 1. torn_tail, when the last line
  was cut short by a crash: {\"line\", \"offset\", \"bytes\"}; it is not a break
  (earlier records stay valid) and the next append repairs it, on the record.
  Keep head somewhere else and pass it back with --anchor to also catch
  records removed from the end of the log.

With --key VKEY (the log's verifier key), it checks signed checkpoints:
  PATH --checkpoint KEPT...       compares the log with checkpoints kept from it:
                                  one line each, {\"status\": \"matches\"|\"cut_back\"|
                                  \"rewritten\", ...}, naming the first missing or
                                  changed record; exit status 1 unless all match
  --checkpoint FILE               the checkpoint's signatures (no log needed)
  --checkpoint FILE --proof P     an inclusion proof from audit prove
  --from OLD --to NEW --proof P   a consistency proof: the log only grew
  --witness WKEY                  also report this witness's cosignatures

--audit-db URL (here and in seal, audit receipt, checkpoint and prove) takes
libpq's connection string and settings: across a network,
  postgres://USER@HOST:PORT/DB?sslmode=verify-full&sslrootcert=CA.pem
(sslmode=require encrypts without checking the server's certificate; prefer,
the default, uses TLS when the server offers it; disable never). The password:
the string's, else PGPASSWORD, else the password file (passfile=FILE,
PGPASSFILE, ~/.pgpass, mode 0600). No message shows the password.

Examples (HEAD: the \"head\" an earlier verify printed, kept elsewhere):
  pushseal audit verify audit.jsonl --anchor \"$HEAD\"
  pushseal audit verify --key \"$VKEY\" --checkpoint cp-new --proof record-41.proof
  pushseal audit verify audit.jsonl --key \"$VKEY\" --checkpoint cp-old --checkpoint cp-new";

/// `pushseal audit receipt --help`: the output.
const RECEIPT_DETAILS: &str = "\
The receipt is what `pushseal open --receipt` (or the app, through the SDK)
printed after opening the notification: 22 characters of base64url. It is
checked against the receipt digest of the log's sealed record for the message;
only the device that holds the recipient's secret key can compute it. Recording
the same delivery again prints the first record and appends nothing.

Output: the delivered record, as the JSON line written to the log.

Example:
  pushseal audit receipt --log audit.jsonl --message-id <32 hex digits> --receipt <RECEIPT>";

/// Arguments of `pushseal audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

/// The subcommands of `pushseal audit`.
#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check an audit log's hash chain and print a summary
    ///
    /// Checks every record's hash, seq and prev, and every delivery against
    /// its sealed record; prints the counts, the senders and recipients, the
    /// head to keep elsewhere, and the first broken link if there is one (exit
    /// status 1).
    #[command(after_long_help = VERIFY_DETAILS)]
    Verify(VerifyArgs),

    /// Check a device's delivery receipt and append a delivered record
    #[command(after_long_help = RECEIPT_DETAILS)]
    Receipt(ReceiptArgs),

    /// Make the log's checkpoint signing key (its own key, not a sealing key)
    #[command(after_long_help = checkpoints::KEYGEN_DETAILS)]
    Keygen(checkpoints::KeygenArgs),

    /// Print a signed checkpoint of the log (C2SP tlog-checkpoint, signed-note)
    #[command(after_long_help = checkpoints::CHECKPOINT_DETAILS)]
    Checkpoint(checkpoints::CheckpointArgs),

    /// Prove a record is in a checkpoint, or that the log only grew between two checkpoints
    #[command(after_long_help = checkpoints::PROVE_DETAILS)]
    Prove(checkpoints::ProveArgs),
}

/// Arguments of `pushseal audit verify`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("log").args(["path", "audit_db"])))]
struct VerifyArgs {
    /// The audit log (JSON Lines, as written by seal --audit-log); without it, checks checkpoints and proofs alone
    #[arg(value_name = "PATH", required_unless_present_any = ["key", "audit_db"])]
    path: Option<PathBuf>,

    /// Or the audit log in this PostgreSQL database (postgres://USER@HOST:PORT/DB)
    #[arg(long, value_name = "URL")]
    audit_db: Option<String>,

    /// A head printed by an earlier verify and kept elsewhere: also catches records removed from the end
    #[arg(long, value_name = "SEQ:HASH", requires = "log")]
    anchor: Option<String>,

    #[command(flatten)]
    check: checkpoints::CheckArgs,
}

/// Arguments of `pushseal audit receipt`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("where").required(true).args(["log", "audit_db"])))]
struct ReceiptArgs {
    /// The audit log the notification was sealed with
    #[arg(long, value_name = "PATH")]
    log: Option<PathBuf>,

    /// Or the PostgreSQL database whose audit log it was sealed with (postgres://USER@HOST:PORT/DB)
    #[arg(long, value_name = "URL")]
    audit_db: Option<String>,

    /// The notification's message id (32 hex digits)
    #[arg(long, value_name = "ID")]
    message_id: String,

    /// The receipt the device sent back (22 characters of base64url)
    #[arg(long, value_name = "RECEIPT", allow_hyphen_values = true)]
    receipt: String,

    /// Record the delivery at this unix time instead of the system clock
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,

    /// Record who recorded the delivery: a pseudonymous id (1-128 bytes, no control characters), never PHI
    #[arg(long, value_name = "ID")]
    actor: Option<String>,
}

/// `pushseal audit`.
pub fn run(out: &mut Out, args: &AuditArgs) -> Result<(), CliError> {
    match &args.command {
        AuditCommand::Verify(a) => verify(out, a),
        AuditCommand::Receipt(a) => receipt(out, a),
        AuditCommand::Keygen(a) => checkpoints::keygen(out, a),
        AuditCommand::Checkpoint(a) => checkpoints::checkpoint(out, a),
        AuditCommand::Prove(a) => checkpoints::prove(out, a),
    }
}

/// `pushseal audit verify`.
fn verify(out: &mut Out, args: &VerifyArgs) -> Result<(), CliError> {
    let Some(at) = LogAt::from_args(args.path.as_deref(), args.audit_db.as_deref()) else {
        return checkpoints::verify_without_log(out, &args.check);
    };
    let anchor = match &args.anchor {
        Some(text) => Some(text.parse::<Anchor>().map_err(|e| CliError::rejected(format!("--anchor: {e}")))?),
        None => None,
    };
    let report = match at {
        LogAt::Db(url) => PgStore::connect_existing(url)?.verify(anchor)?,
        LogAt::File(path) => verify_log(path, anchor)?,
    };
    let json =
        serde_json::to_string(&report).map_err(|_| CliError::rejected("the report cannot be printed as JSON"))?;
    out.line(&json)?;
    match &report.first_break {
        None if args.check.any() => match at {
            LogAt::File(path) => checkpoints::compare_with_log(out, path, &args.check),
            LogAt::Db(_) => Err(CliError::rejected(
                "checkpoints and proofs are checked against a log file or alone; for a database log, check them \
                 without --audit-db",
            )),
        },
        None => Ok(()),
        Some(broken) => {
            out.flush()?;
            Err(CliError::rejected(format!("the audit log is broken at {broken}")))
        }
    }
}

/// `pushseal audit receipt`.
fn receipt(out: &mut Out, args: &ReceiptArgs) -> Result<(), CliError> {
    // A malformed value is rejected input, as a malformed --to is (exit status 1).
    let id: MessageId = pushseal::trim_pasted_text(&args.message_id)
        .parse()
        .map_err(|e| CliError::rejected(format!("--message-id: {e}")))?;
    let receipt: Receipt = args.receipt.parse().map_err(|_: pushseal::Error| {
        CliError::rejected(format!(
            "--receipt: invalid encoding: {}",
            crate::mistakes::describe_base64(&args.receipt, receipt_len(), "a receipt")
        ))
    })?;
    // A missing log is an error, not an empty one (the crate's rule).
    let log = match LogAt::from_args(args.log.as_deref(), args.audit_db.as_deref()) {
        Some(LogAt::Db(url)) => AuditLog::with_store(PgStore::connect_existing(url)?),
        Some(LogAt::File(path)) => AuditLog::open_existing(path)?,
        None => return Err(CliError::rejected("give the audit log: --log PATH or --audit-db URL")),
    };
    let log = with_actor(log, args.actor.as_deref())?;
    let record = log.record_delivery(id, &receipt, args.now.unwrap_or_else(unix_now))?;
    out.line(String::from_utf8_lossy(&record.to_line()).trim_end())
}

/// Where an audit log is: a file (`--audit-log`, `--log`, `PATH`) or a
/// PostgreSQL database (`--audit-db`); clap lets a command take only one.
#[derive(Debug, Clone, Copy)]
pub enum LogAt<'a> {
    /// A file of JSON Lines.
    File(&'a Path),
    /// A PostgreSQL connection string.
    Db(&'a str),
}

impl<'a> LogAt<'a> {
    /// The log a command's arguments name, if any.
    pub fn from_args(path: Option<&'a Path>, db: Option<&'a str>) -> Option<Self> {
        db.map(Self::Db).or(path.map(Self::File))
    }
}

/// The audit options of `seal` and `send`.
#[derive(Debug, Args)]
pub struct SealLogArgs {
    /// Record each sealed message (with send, then its outcome) in this audit log (created if missing)
    #[arg(long, value_name = "PATH", help_heading = "Audit options", group = "audit")]
    audit_log: Option<PathBuf>,

    /// The same, to the audit log in this PostgreSQL database (postgres://USER@HOST:PORT/DB), shared by a fleet of senders (send shares its APNs provider token there too)
    #[arg(long, value_name = "URL", help_heading = "Audit options", group = "audit")]
    audit_db: Option<String>,

    /// Record each push token as HMAC-SHA256 under this key (43 characters of base64url), never in clear
    #[arg(long, value_name = "PATH", help_heading = "Audit options", requires = "audit")]
    token_key_file: Option<PathBuf>,

    /// Record who triggered this send: a pseudonymous id (1-128 bytes, no control characters), never PHI
    #[arg(long, value_name = "ID", help_heading = "Audit options", requires = "audit")]
    actor: Option<String>,
}

impl SealLogArgs {
    /// The PostgreSQL database of `--audit-db`, if given.
    pub fn database(&self) -> Option<&str> {
        self.audit_db.as_deref()
    }

    /// The log these options name, if any.
    pub fn log(&self) -> Result<Option<AuditLog>, CliError> {
        seal_log(
            LogAt::from_args(self.audit_log.as_deref(), self.audit_db.as_deref()),
            self.token_key_file.as_deref(),
            self.actor.as_deref(),
        )
    }
}

/// The log of `seal --audit-log` or `seal --audit-db` (none without them;
/// clap refuses `--token-key-file` without one), with the token key of
/// `--token-key-file` if given, and the actor of `--actor`. The crate's token policy decides the rest:
/// with a key, each device's push token is recorded as its keyed hash;
/// without one, no token.
fn seal_log(
    at: Option<LogAt<'_>>,
    token_key_file: Option<&Path>,
    actor: Option<&str>,
) -> Result<Option<AuditLog>, CliError> {
    let log = match at {
        None => return Ok(None),
        Some(LogAt::File(path)) => AuditLog::open(path)?,
        Some(LogAt::Db(url)) => AuditLog::with_store(PgStore::connect(url)?),
    };
    let mut log = with_actor(log, actor)?;
    if let Some(key_path) = token_key_file {
        let key = TokenKey::read_file(key_path).map_err(|e| CliError::rejected(format!("--token-key-file: {e}")))?;
        log = log.with_token_key(key);
    }
    Ok(Some(log))
}

/// `log`, recording `actor` (from `--actor`) if given.
fn with_actor(log: AuditLog, actor: Option<&str>) -> Result<AuditLog, CliError> {
    match actor {
        None => Ok(log),
        Some(id) => Ok(log.with_actor(Actor::new(id).map_err(|e| CliError::rejected(format!("--actor: {e}")))?)),
    }
}

/// A receipt's length in bytes, read from its type.
fn receipt_len() -> usize {
    Receipt::from_bytes(Default::default()).to_bytes().len()
}

/// The JSON line of `open --receipt`: the notification's object with a last
/// member `"receipt"`.
pub fn with_receipt(notification: &Notification, receipt: &Receipt) -> Result<String, CliError> {
    let json = serde_json::to_string(notification)
        .map_err(|_| CliError::rejected("the notification cannot be printed as JSON"))?;
    let body = json.strip_suffix('}').ok_or_else(|| CliError::rejected("the notification is not a JSON object"))?;
    Ok(format!("{body},\"receipt\":\"{receipt}\"}}"))
}
