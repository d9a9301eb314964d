//! `pushseal send`: seals a notification to every device of a list and
//! delivers each through APNs or FCM (or a local test gateway), printing one
//! JSON line per outcome as it comes.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{ArgGroup, Args};
use pushseal::{Message, Sender};
use pushseal_audit::{AuditLog, AuditTarget, PgStore};
use pushseal_delivery::apns::{ApnsClient, ApnsEndpoint};
use pushseal_delivery::fcm::{FcmClient, FcmEndpoint};
use pushseal_delivery::{
    ApnsKey, ConfigError, DEFAULT_MAX_IN_FLIGHT, Deliver, Report, ServiceAccount, Trust, seal_and_deliver,
    seal_and_deliver_audited,
};
use serde_json::{Value, json};

use crate::FcmPriorityArg;
use crate::audit::SealLogArgs;
use crate::commands::{PayloadOptions, sender_and_message};
use crate::devices::{Addressing, DeviceList};
use crate::error::CliError;
use crate::output::Out;

/// `pushseal send --help`: input, output and examples.
pub const SEND_DETAILS: &str = "\
Input:
  the notification as JSON on standard input, as for seal;
  --devices FILE: JSON Lines, one device a line,
    {\"public_key\": \"<its public key or registration text>\", \"token\": \"<push token>\"}
  (an FCM device may give \"fid\", its Firebase Installation ID, instead of \"token\").

Output: one JSON line per device as its outcome comes, not in the list's order:
  {\"line\": <its line in --devices>, \"to\": \"<device key id>\", \"message_id\": \"<32 hex digits>\",
   \"outcome\": \"delivered\", \"gateway_id\": \"...\"}
  outcome is delivered (gateway_id), token_gone (reason, since: stop pushing to
  that device), rejected (reason: fix the message), failed (reason, attempts: send
  again later), misconfigured (reason), or not_sealed (reason: nothing was sent).
  No line holds the notification or the push token.

Exit status: 0 whatever the devices' outcomes; 1 for a configuration error
(wrong key, key id, team or service account, unreadable files, an audit log
that cannot be written): the run stops and one line on standard error says
what to fix. Devices sealed but not yet sent when it stopped end failed with
reason not_sent and 0 attempts (send to them again once it is fixed); devices
after them get no line.

Examples:
  pushseal send --devices devices.jsonl --from sender.key --apns-key AuthKey_ABC123DEFG.p8 \\
    --key-id ABC123DEFG --team-id TEAM123456 --topic com.example.clinic < message.json
  pushseal send --devices devices.jsonl --from sender.key \\
    --fcm-service-account service-account.json --audit-log audit.jsonl < message.json";

/// Arguments of `pushseal send`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("service").required(true).args(["apns_key", "fcm_service_account"])))]
pub struct SendArgs {
    /// The device list: JSON Lines, {"public_key": ..., "token": ...} a line
    #[arg(long, value_name = "FILE")]
    devices: PathBuf,

    /// The sender's secret key file
    #[arg(long, value_name = "SECRET_PATH", allow_hyphen_values = true)]
    from: PathBuf,

    /// Seconds the notification stays valid, 1 to 2419200 (28 days) [default: 86400]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=2_419_200))]
    ttl: Option<u64>,

    /// APNs apns-collapse-id (at most 64 bytes) or FCM android.collapse_key
    #[arg(long, value_name = "ID")]
    collapse_id: Option<String>,

    /// APNs: the team's .p8 token signing key
    #[arg(long, value_name = "FILE", help_heading = "APNs", requires_all = ["key_id", "team_id", "topic"])]
    apns_key: Option<PathBuf>,

    /// APNs: the key's id (10 characters)
    #[arg(long, value_name = "ID", help_heading = "APNs", requires = "apns_key")]
    key_id: Option<String>,

    /// APNs: the team id (10 characters)
    #[arg(long, value_name = "ID", help_heading = "APNs", requires = "apns_key")]
    team_id: Option<String>,

    /// APNs: the apns-topic (the app's bundle id)
    #[arg(long, value_name = "BUNDLE_ID", help_heading = "APNs", requires = "apns_key")]
    topic: Option<String>,

    /// APNs: send to Apple's development host (apps built for development)
    #[arg(long, help_heading = "APNs", requires = "apns_key", conflicts_with = "gateway")]
    sandbox: bool,

    /// APNs: the alert title shown if the app cannot open the payload [default: "New message"]
    #[arg(long, value_name = "TEXT", help_heading = "APNs", requires = "apns_key")]
    fallback_title: Option<String>,

    /// APNs: an alert body shown if the app cannot open the payload
    #[arg(long, value_name = "TEXT", help_heading = "APNs", requires = "apns_key")]
    fallback_body: Option<String>,

    /// APNs: a background (silent) push: content-available, priority 5, no alert
    #[arg(
        long,
        help_heading = "APNs",
        requires = "apns_key",
        conflicts_with_all = ["fallback_title", "fallback_body"]
    )]
    background: bool,

    /// FCM: the service account's JSON key file (from the Firebase console)
    #[arg(long, value_name = "FILE", help_heading = "FCM")]
    fcm_service_account: Option<PathBuf>,

    /// FCM: android.priority [default: high]
    #[arg(long, value_enum, value_name = "PRIORITY", help_heading = "FCM", requires = "fcm_service_account")]
    priority: Option<FcmPriorityArg>,

    /// Send to this test gateway (https://127.0.0.1:PORT, or what `pushseal gateway` prints) instead of Apple's or Google's host
    #[arg(long, value_name = "URL", help_heading = "Test gateway")]
    gateway: Option<String>,

    /// Trust only the CA certificate in this file (the one `pushseal gateway` wrote), not the public roots
    #[arg(long, value_name = "FILE", help_heading = "Test gateway", requires = "gateway")]
    gateway_ca: Option<PathBuf>,

    #[command(flatten)]
    audit: SealLogArgs,
}

/// A configuration error, as the command reports it.
fn config_error(e: &ConfigError) -> CliError {
    CliError::rejected(e.to_string())
}

/// The host and port of `--gateway`: `https://HOST:PORT`, or `HOST:PORT`.
fn gateway_host_port(text: &str) -> Result<(String, u16), CliError> {
    let bad = |why: &str| CliError::rejected(format!("--gateway {text:?}: {why}"));
    let rest = text.strip_prefix("https://").unwrap_or(text).trim_end_matches('/');
    if rest.contains("://") {
        return Err(bad("only https:// (a gateway speaks HTTP/2 over TLS)"));
    }
    let (host, port) = rest.rsplit_once(':').ok_or_else(|| bad("give HOST:PORT, such as https://127.0.0.1:8443"))?;
    let port = port.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| bad("the port is not 1 to 65535"))?;
    if host.is_empty() {
        return Err(bad("the host is missing"));
    }
    Ok((host.to_owned(), port))
}

/// `pushseal send`.
pub fn send(out: &mut Out, args: &SendArgs) -> Result<(), CliError> {
    let addressing = if args.apns_key.is_some() { Addressing::Apns } else { Addressing::Fcm };
    let gateway = args.gateway.as_deref().map(gateway_host_port).transpose()?;
    let trust = args.gateway_ca.clone().map_or(Trust::PublicRoots, Trust::CaFile);
    let list = DeviceList::check(&args.devices, addressing)?;
    let log = args.audit.log()?;
    let (sender, message) = sender_and_message(&args.from, args.ttl)?;
    let options = PayloadOptions {
        background: args.background,
        fallback_title: args.fallback_title.as_ref(),
        fallback_body: args.fallback_body.as_ref(),
        collapse_id: args.collapse_id.as_ref(),
        topic: None,
        priority: args.priority,
    };
    // With --audit-db the fleet shares one APNs provider token through that
    // database too (its own connection, opened here, off the runtime).
    let fleet = match (&args.apns_key, args.audit.database()) {
        (Some(_), Some(url)) => Some(Arc::new(PgStore::connect_existing(url)?)),
        _ => None,
    };
    let run = Run { sender: Arc::new(sender), message, list: &list, log: log.as_ref() };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::rejected(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        if let (Some(key_file), Some(key_id), Some(team_id), Some(topic)) =
            (&args.apns_key, &args.key_id, &args.team_id, &args.topic)
        {
            let key = ApnsKey::from_p8_file(key_file, key_id, team_id).map_err(|e| config_error(&e))?;
            let endpoint = match gateway {
                Some((host, port)) => ApnsEndpoint::Host { host, port },
                None if args.sandbox => ApnsEndpoint::Sandbox,
                None => ApnsEndpoint::Production,
            };
            let mut client = ApnsClient::builder(key).topic(topic).endpoint(endpoint).trust(trust);
            if let Some(store) = fleet {
                client = client.share_token_through(store);
            }
            let client = client.build().map_err(|e| config_error(&e))?;
            let result = run.deliver(out, &client, options.apns()).await;
            client.shutdown().await;
            result
        } else if let Some(file) = &args.fcm_service_account {
            let account = ServiceAccount::from_file(file).map_err(|e| config_error(&e))?;
            let endpoint = gateway.map_or(FcmEndpoint::Google, |(host, port)| FcmEndpoint::Host { host, port });
            let client =
                FcmClient::builder(account).endpoint(endpoint).trust(trust).build().map_err(|e| config_error(&e))?;
            let result = run.deliver(out, &client, options.fcm()).await;
            client.shutdown().await;
            result
        } else {
            // clap requires --apns-key (with its three companions) or --fcm-service-account.
            Err(CliError::usage(
                "send",
                "give --apns-key with --key-id, --team-id and --topic, or --fcm-service-account",
            ))
        }
    })
}

/// What one run seals and to whom.
struct Run<'a> {
    sender: Arc<Sender>,
    message: Message,
    list: &'a DeviceList,
    log: Option<&'a AuditLog>,
}

impl Run<'_> {
    /// Seals to every device of the list and delivers through `client`,
    /// printing each outcome's line as it comes.
    async fn deliver<D, T>(self, out: &mut Out, client: &D, target: T) -> Result<(), CliError>
    where
        D: Deliver<Payload = T::Payload> + Clone + 'static,
        T: AuditTarget + 'static,
    {
        let devices = self.list.devices()?;
        let mut write_error = None;
        let print = |report: Report| {
            if write_error.is_none()
                && let Err(e) = out.line(&outcome_line(&report).to_string())
            {
                write_error = Some(e);
            }
        };
        let (sender, message) = (self.sender, self.message);
        let done = match self.log {
            Some(log) => {
                seal_and_deliver_audited(client, log, sender, message, target, devices, DEFAULT_MAX_IN_FLIGHT, print)
                    .await
            }
            None => seal_and_deliver(client, sender, message, target, devices, DEFAULT_MAX_IN_FLIGHT, print).await,
        };
        done.map_err(|e| config_error(&e))?;
        if let Some(e) = write_error {
            return Err(e);
        }
        if self.list.changed() {
            return Err(CliError::rejected(format!(
                "the device list {} changed while it was being sent: the devices after those printed were not sent",
                self.list.path().display()
            )));
        }
        Ok(())
    }
}

/// The line printed for one device: never the notification or the token.
fn outcome_line(report: &Report) -> Value {
    let mut line = json!({
        "line": report.index + 1,
        "to": report.recipient.map(|id| id.to_string()),
        "message_id": report.message_id.map(|id| id.to_string()),
    });
    let fields = match &report.result {
        Err(e) => json!({ "outcome": "not_sealed", "reason": e.to_string() }),
        Ok(outcome) => outcome.to_json(),
    };
    if let (Value::Object(line), Value::Object(fields)) = (&mut line, fields) {
        line.extend(fields);
    }
    line
}
