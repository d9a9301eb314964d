//! `pushseal`: the PushSeal command-line tool.
//!
//! It makes keys, seals notifications into APNs requests, FCM messages or bare
//! envelopes, opens and inspects them, and tells the whole story in
//! `pushseal demo`. See `cli/README.md` and `pushseal --help`.
//!
//! # Key files
//!
//! A secret key file is one line of text: `pushseal-secret-key-v1:` followed
//! by the 43 characters of base64url (RFC 4648 section 5, no padding) of the
//! 32-byte X25519 secret key, then a newline. `pushseal keygen` creates it with
//! permissions 0600 and never overwrites a file. The same kind of key serves a
//! device (`open --secret`) and a sender (`seal --from`). A public key is the
//! 43 characters of base64url of the X25519 public key; its key id is 16
//! lowercase hex digits.
//!
//! Unless made with `keygen --v1-only`, a key file has a second line: the
//! version 2 (post-quantum, SPEC.md section 12) key, a device's X-Wing key
//! (`pushseal-device-secret-v2:`) or, with `keygen --sender`, a sender's
//! Ed25519 signing key (`pushseal-sender-secret-v2:`). A device registers
//! its registration text (both public keys, `seal --to`); a device pins a
//! version 2 sender by its `pushseal-sender-v2:` public key (`open --sender`).
//!
//! # Exit status
//!
//! 0 on success; 1 when an input is rejected (bad key, tampered, expired,
//! replayed, untrusted sender, malformed), with one line on standard error
//! that starts with `error:`; 2 for a usage error.

mod audit;
mod checkpoints;
mod commands;
mod demo;
mod devices;
mod error;
mod gateway;
mod input;
mod key_file;
mod mistakes;
mod output;
mod send;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory as _, Parser, Subcommand, ValueEnum};

use crate::error::CliError;
use crate::output::Out;

/// The text after every help: key files and exit status.
const AFTER_HELP: &str = "\
Key files:
  A secret key file is one line: \"pushseal-secret-key-v1:\" and 43 characters of
  base64url (the X25519 secret key), created by keygen with permissions 0600.
  The same kind of key serves devices (open --secret) and senders (seal --from).
  A public key is 43 characters of base64url; a key id is 16 hex digits.
  A second line holds the version 2 (post-quantum) key: a device's X-Wing key,
  or with keygen --sender a sender's Ed25519 signing key. A device registers
  its \"registration\" (both public keys); devices pin a sender's \"public_key_v2\".

Exit status:
  0  success
  1  rejected input: bad key, tampered, expired, replayed, untrusted sender,
     malformed (one line on standard error, starting with \"error:\")
  2  usage error";

/// `pushseal seal -h`: the examples.
const SEAL_EXAMPLES: &str = "\
Examples:
  echo '{\"title\":\"Lab results\",\"body\":\"Ready to view.\"}' \\
    | pushseal seal --to <DEVICE_PUBLIC_KEY> --from sender.key
  pushseal seal --platform fcm --token <FCM_TOKEN> --request-body \\
    --to <DEVICE_PUBLIC_KEY> --from sender.key < message.json
  pushseal seal --platform envelope --to <KEY_1> --to <KEY_2> --from sender.key < message.json";

/// `pushseal seal --help`: input, output and examples.
const SEAL_DETAILS: &str = "\
Input (standard input):
  {\"title\": \"Lab results\", \"body\": \"Your results are ready.\",
   \"data\": {\"ref\": \"lab-7731\"}, \"thread_id\": \"labs\", \"category\": \"results\",
   \"badge\": 1, \"sound\": \"default\"}
  title and body are required, the rest optional; no other field is accepted.
  A notification too large for the platform is rejected with the limit.

Output with several --to, or with --json-lines: one JSON line per device,
in the order of --to, all with the same message id:
  {\"to\": \"<device key id>\", \"version\": <1 or 2>, \"message_id\": \"<32 hex digits>\",
   \"expires_at\": <unix seconds>, \"payload\": <what a single --to prints>}
  (for --platform envelope, the payload is the envelope as a JSON string).
  A device that cannot be sealed to gets an \"error:\" line on standard
  error instead, and the exit status is then 1.

Examples:
  echo '{\"title\":\"Lab results\",\"body\":\"Ready to view.\"}' \\
    | pushseal seal --to <DEVICE_PUBLIC_KEY> --from sender.key
  pushseal seal --platform fcm --token <FCM_TOKEN> --request-body \\
    --to <DEVICE_PUBLIC_KEY> --from sender.key < message.json
  pushseal seal --platform envelope --to <KEY_1> --to <KEY_2> --from sender.key < message.json";

/// `pushseal open -h`: the examples.
const OPEN_EXAMPLES: &str = "\
Examples:
  pushseal open --secret device.key --sender <SENDER_PUBLIC_KEY> < apns-body.json
  pushseal open --platform fcm --secret device.key --sender <SENDER_PUBLIC_KEY> \\
    --replay-db device.replay < fcm-message.json";

/// `pushseal open --help`: input, output and examples.
const OPEN_DETAILS: &str = "\
Input (standard input): anything seal prints for the platform.
  apns      the request body (the app's userInfo), or seal's --headers form
  fcm       the message object, seal's --request-body form, or the data map
            {\"pushseal\": \"<envelope>\"}; every data value must be a string
  envelope  the envelope's base64url text
  A line of seal's several-device output works for each.

Output: one JSON line,
  {\"id\": \"<32 hex digits>\", \"sent_at\": <unix seconds>, \"expires_at\": <unix seconds>,
   \"title\": \"...\", \"body\": \"...\", \"data\": {...}, \"thread_id\": \"...\",
   \"category\": \"...\", \"badge\": 1, \"sound\": \"...\"}
  (the last five only when the sender set them). With --receipt, a last member
  \"receipt\": \"<22 characters of base64url>\": the delivery receipt to send
  back to the sender, which checks it with `pushseal audit receipt`.

Examples:
  pushseal open --secret device.key --sender <SENDER_PUBLIC_KEY> < apns-body.json
  pushseal open --platform fcm --secret device.key --sender <SENDER_PUBLIC_KEY> \\
    --replay-db device.replay < fcm-message.json";

/// End-to-end encrypted push notifications: keys, sealing, opening, inspecting.
///
/// PushSeal seals each notification on the sender's server to a key that only
/// the recipient device holds (HPKE, RFC 9180, mode auth), so APNs and FCM
/// carry ciphertext only; the app opens it after delivery.
///
/// Start with `pushseal demo`. Input is read from standard input (at most
/// 1 MiB); results are printed on standard output, errors on standard error.
#[derive(Debug, Parser)]
#[command(name = "pushseal", version, after_help = AFTER_HELP, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new secret key file and print its public key
    ///
    /// Writes a new random X25519 secret key to PATH, created with permissions
    /// 0600; an existing file is never overwritten. Prints its public key as
    /// one JSON line, {"public_key": ..., "key_id": ...}: the key in base64url
    /// (43 characters) and its id (16 hex digits). The key serves a device or a
    /// sender alike.
    ///
    /// Unless --v1-only, the file also holds a version 2 (post-quantum) key:
    /// a device's X-Wing key, printed as "registration" (what the device
    /// registers: both public keys) and "key_id_v2"; or with --sender an
    /// Ed25519 signing key, printed as "public_key_v2" (what devices pin with
    /// open --sender) and "key_id_v2".
    #[command(after_help = "Example:\n  pushseal keygen --secret-out device.key\n  \
        {\"public_key\":\"yK2OOKKCQkuLy5ULDohlZ5CWUCtitznlxHiBw-_nx14\",\"key_id\":\"e541db821c848733\"}")]
    Keygen(KeygenArgs),

    /// Print the public key of a secret key file
    ///
    /// Prints the public key of the secret key in PATH as keygen does, one JSON
    /// line {"public_key": ..., "key_id": ...}: what a device registers with its
    /// sender, or what a device trusts as a sender.
    #[command(name = "public-key", after_help = "Example:\n  pushseal public-key --secret sender.key")]
    PublicKey(PublicKeyArgs),

    /// Seal a notification (JSON on standard input) to one or more devices
    ///
    /// Reads the notification as JSON on standard input, seals it to each --to
    /// device with the sender key in --from, and prints the payload for
    /// --platform: the APNs request body (apns, the default), the FCM HTTP v1
    /// message object (fcm), or the bare envelope in base64url (envelope).
    ///
    /// Only generic text belongs in --fallback-title, --fallback-body and
    /// --collapse-id: the gateway and the lock screen see them.
    #[command(after_help = SEAL_EXAMPLES, after_long_help = SEAL_DETAILS)]
    Seal(SealArgs),

    /// Open a payload (on standard input) and print the notification
    ///
    /// Reads a payload on standard input, checks it as a device does (a
    /// PushSeal payload, a well-formed envelope for this device key, a trusted
    /// sender, an intact ciphertext, valid padding and JSON, not expired, not a
    /// replay) and prints the notification as JSON. The output is the decrypted
    /// text: handle it as the protected information it is.
    #[command(after_help = OPEN_EXAMPLES, after_long_help = OPEN_DETAILS)]
    Open(OpenArgs),

    /// Print the public header of a payload (on standard input) without decrypting
    ///
    /// Prints what anyone who carries the payload can read, as one JSON line:
    /// {"version", "recipient_key_id", "sender_key_id", "enc" (the HPKE
    /// encapsulated key, base64url), "envelope_bytes", "padded_plaintext_bytes"}.
    /// Needs no key. Standard input is read as for open.
    #[command(after_help = "Example:\n  pushseal inspect --platform fcm < fcm-message.json")]
    Inspect(InspectArgs),

    /// Run the whole story in one process, narrated step by step
    ///
    /// A device makes its keys (version 1, and version 2: post-quantum) and
    /// registers both public keys in one text; a sender seals a lab-results
    /// notification to that registration (version 2, signed) for APNs and
    /// for FCM; the gateway's view is shown (ciphertext only); the device
    /// opens it; then a tampered copy, a replay and a forged sender are each
    /// rejected, with their reasons. Sends nothing and writes no files.
    Demo,

    /// Check an audit log, record a delivery receipt in it, sign checkpoints and prove them
    ///
    /// `audit verify PATH` checks the hash chain of a log written by
    /// seal --audit-log and prints a summary (exit status 1 if it is broken);
    /// `audit receipt` checks a receipt printed by open --receipt against the
    /// log and appends a delivered record; `audit keygen`, `audit checkpoint`
    /// and `audit prove` sign the log's checkpoints and prove records and
    /// growth, which `audit verify --key` checks without the log.
    Audit(audit::AuditArgs),

    /// Run a local test gateway that answers as APNs or FCM does
    ///
    /// `gateway apns` listens on 127.0.0.1 over HTTP/2 and TLS, with a CA it
    /// makes at start and writes to --ca-file (trust that file, never turn
    /// verification off). It checks what APNs checks and answers as APNs
    /// does; the device token chooses the answer (64 hex digits: delivered;
    /// `unregistered`, `reason-<Reason>`, `retry-after-<secs>`, `stall`, ...:
    /// see pushseal-delivery's gateway documentation). Prints one JSON line,
    /// {"endpoint": "127.0.0.1:PORT", "ca_file": ...}, then serves until
    /// standard input closes or the process is ended.
    ///
    /// `gateway fcm` does the same as FCM HTTP v1 and Google's OAuth2 token
    /// endpoint, for a service account key file it makes (--new-account) with
    /// a token_uri pointing to it; the device chooses the answer
    /// (`unregistered`, `error-<CODE>`, `retry-after-<secs>`, ...; anything
    /// else is delivered). Its line also names the "service_account" file,
    /// the "project_id" and the "token_uri".
    #[command(subcommand)]
    Gateway(gateway::GatewayCommand),

    /// Seal a notification (JSON on standard input) to a list of devices and deliver it
    ///
    /// Reads the devices from --devices (JSON Lines), seals the notification
    /// to each, and delivers each through APNs (--apns-key) or FCM
    /// (--fcm-service-account), or through a local test gateway (--gateway,
    /// trusted through --gateway-ca). Prints one JSON line per device as its
    /// outcome comes. Exits 1 only for a configuration error, which stops the
    /// run; a device's failure is its line's outcome.
    #[command(after_long_help = send::SEND_DETAILS)]
    Send(send::SendArgs),
}

/// Arguments of `pushseal keygen`.
#[derive(Debug, Args)]
struct KeygenArgs {
    /// Where to write the new secret key (created with permissions 0600; must not exist)
    #[arg(long, value_name = "PATH")]
    secret_out: PathBuf,

    /// Make a sender's key: its version 2 key is an Ed25519 signing key (devices pin its "public_key_v2")
    #[arg(long, conflicts_with = "v1_only")]
    sender: bool,

    /// Make a version 1 key alone, without the version 2 (post-quantum) key
    #[arg(long)]
    v1_only: bool,
}

/// Arguments of `pushseal public-key`.
#[derive(Debug, Args)]
struct PublicKeyArgs {
    /// The secret key file
    #[arg(long, value_name = "PATH", allow_hyphen_values = true)]
    secret: PathBuf,
}

/// Where a payload goes, or where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Platform {
    /// Apple Push Notification service: the request body (JSON)
    Apns,
    /// Firebase Cloud Messaging: the HTTP v1 message object (JSON)
    Fcm,
    /// The bare envelope, base64url, for a transport of your own
    Envelope,
}

/// `--priority` of `pushseal seal --platform fcm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FcmPriorityArg {
    /// Delivered at once, waking the device: for a notification the user sees
    High,
    /// May wait until the device leaves Doze
    Normal,
}

/// Arguments of `pushseal seal`.
#[derive(Debug, Args)]
struct SealArgs {
    /// A device's registration (keygen's "registration": version 2 with --pq prefer) or version 1 public key (43
    /// characters); repeat for several devices
    #[arg(long, value_name = "PUBLIC_KEY", required = true, allow_hyphen_values = true)]
    to: Vec<String>,

    /// The sender's secret key file (made with keygen --sender to seal version 2)
    #[arg(long, value_name = "SECRET_PATH", allow_hyphen_values = true)]
    from: PathBuf,

    /// The payload to print
    #[arg(long, value_enum, default_value_t = Platform::Apns)]
    platform: Platform,

    /// Seconds the notification stays valid, 1 to 2419200 (28 days) [default: 86400]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=2_419_200))]
    ttl: Option<u64>,

    /// Print one JSON line per device even with a single --to
    #[arg(long)]
    json_lines: bool,

    /// APNs: the alert title shown if the app cannot open the payload [default: "New message"]
    #[arg(long, value_name = "TEXT", help_heading = "APNs options")]
    fallback_title: Option<String>,

    /// APNs: an alert body shown if the app cannot open the payload
    #[arg(long, value_name = "TEXT", help_heading = "APNs options")]
    fallback_body: Option<String>,

    /// APNs: a background (silent) push: content-available, priority 5, no alert
    #[arg(long, help_heading = "APNs options", conflicts_with_all = ["fallback_title", "fallback_body"])]
    background: bool,

    /// APNs: the apns-topic header (the app's bundle id)
    #[arg(long, value_name = "BUNDLE_ID", help_heading = "APNs options")]
    topic: Option<String>,

    /// APNs: print {"headers": {...}, "body": {...}} instead of the body alone
    #[arg(long, help_heading = "APNs options")]
    headers: bool,

    /// APNs apns-collapse-id (at most 64 bytes) or FCM android.collapse_key
    #[arg(long, value_name = "ID")]
    collapse_id: Option<String>,

    /// FCM: the device's registration token; repeat it once per --to, in the same order
    #[arg(long, value_name = "FCM_TOKEN", help_heading = "FCM options")]
    token: Vec<String>,

    /// FCM: print the whole request body {"message": {...}} instead of the message object
    #[arg(long, help_heading = "FCM options")]
    request_body: bool,

    /// FCM: android.priority; normal when the device will likely show nothing
    /// (its user turned notifications off, or the message only asks for a sync)
    /// [default: high]
    #[arg(long, value_enum, value_name = "PRIORITY", help_heading = "FCM options")]
    priority: Option<FcmPriorityArg>,

    #[command(flatten)]
    audit: audit::SealLogArgs,

    /// Which envelope version to seal: prefer (version 2 to a device whose registration carries a version 2
    /// key, version 1 to the others), require (version 2 only) or off (version 1 only)
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = PqArg::Prefer)]
    pq: PqArg,
}

/// `--pq` of `pushseal seal`: the sender's version policy (SPEC.md section 12.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PqArg {
    /// Version 2 (post-quantum) to devices that registered a version 2 key, version 1 to the others
    Prefer,
    /// Version 2 only: a device that registered no version 2 key is refused
    Require,
    /// Version 1 only
    Off,
}

/// Arguments of `pushseal open`.
#[derive(Debug, Args)]
struct OpenArgs {
    /// The device's secret key file
    #[arg(long, value_name = "PATH", allow_hyphen_values = true)]
    secret: PathBuf,

    /// A trusted sender's public key: version 2 ("public_key_v2", pushseal-sender-v2:...) or version 1 (43
    /// characters); repeat to trust several
    #[arg(long, value_name = "PUBLIC_KEY", required = true, allow_hyphen_values = true)]
    sender: Vec<String>,

    /// The kind of payload on standard input
    #[arg(long, value_enum, default_value_t = Platform::Apns)]
    platform: Platform,

    /// Remember opened message ids in this file (created if missing): a payload opens only once
    #[arg(long, value_name = "PATH")]
    replay_db: Option<PathBuf>,

    /// Check expiry as of this unix time instead of the system clock (to see what a device would do)
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,

    /// Also print the delivery receipt (a last "receipt" member) for the sender's audit log
    #[arg(long)]
    receipt: bool,

    /// Refuse version 1 envelopes, as a device does once all its senders seal version 2
    #[arg(long)]
    v2_only: bool,
}

/// Arguments of `pushseal inspect`.
#[derive(Debug, Args)]
struct InspectArgs {
    /// The kind of payload on standard input
    #[arg(long, value_enum, default_value_t = Platform::Apns)]
    platform: Platform,
}

/// Prints a one-line notice instead of Rust's panic message and backtrace.
/// The exit status stays 101, so a panic is never mistaken for a rejection.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let _ =
            writeln!(std::io::stderr(), "error: internal error{place}; this is a bug in pushseal, please report it");
    }));
}

fn run(command: Command, out: &mut Out) -> Result<(), CliError> {
    match command {
        Command::Keygen(a) => commands::keygen(out, &a),
        Command::PublicKey(a) => commands::public_key(out, &a.secret),
        Command::Seal(a) => commands::seal(out, &a),
        Command::Open(a) => commands::open(out, &a),
        Command::Inspect(a) => commands::inspect(out, a.platform),
        Command::Demo => demo::run(out),
        Command::Audit(a) => audit::run(out, &a),
        Command::Gateway(g) => gateway::run(out, &g),
        Command::Send(a) => send::send(out, &a),
    }
}

fn main() -> ExitCode {
    quiet_panics();
    let cli = Cli::try_parse().unwrap_or_else(|e| e.exit());
    let mut out = Out::stdout();
    let result = run(cli.command, &mut out).and_then(|()| out.flush());
    match result {
        Ok(()) | Err(CliError::StdoutClosed) => ExitCode::SUCCESS,
        Err(CliError::Usage { command, message }) => {
            let mut cmd = Cli::command();
            cmd.build();
            let err = match cmd.find_subcommand_mut(command) {
                Some(sub) => sub.error(clap::error::ErrorKind::ArgumentConflict, message),
                None => cmd.error(clap::error::ErrorKind::ArgumentConflict, message),
            };
            err.exit()
        }
        Err(CliError::Rejected(message)) => {
            let _ = writeln!(std::io::stderr(), "error: {message}");
            ExitCode::from(1)
        }
        Err(CliError::Reported) => ExitCode::from(1),
    }
}
