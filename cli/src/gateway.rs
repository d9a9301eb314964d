//! `pushseal gateway`: a local test gateway, so that a full send can be
//! tried with no Apple or Google account.

use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use pushseal_delivery::apns::ApnsEndpoint;
use pushseal_delivery::fcm::FcmEndpoint;
use pushseal_delivery::gateway::apns::{ApnsGateway, ApnsGatewayOptions, new_test_key_pem};
use pushseal_delivery::gateway::fcm::{FcmGateway, FcmGatewayOptions, TestServiceAccount};
use pushseal_delivery::{ApnsKey, ServiceAccount};

use crate::error::CliError;
use crate::output::Out;

/// The gateways.
#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// A local APNs: HTTP/2 over TLS on 127.0.0.1
    #[command(
        after_help = "Example:\n  pushseal gateway apns --new-key --apns-key AuthKey_TEST123456.p8 --key-id TEST123456 \\\n    \
        --team-id TEAM123456 --topic com.example.clinic --ca-file gateway-ca.pem"
    )]
    Apns(ApnsArgs),

    /// A local FCM HTTP v1 and its OAuth2 token endpoint: HTTP/2 over TLS on 127.0.0.1
    ///
    /// With --new-account, makes a test service account (a new RSA key) and
    /// writes its key file to --service-account once the gateway listens,
    /// its token_uri pointing to the gateway. Without it, the key file given
    /// must be one made so (its token_uri names the port to listen on).
    #[command(
        after_help = "Example:\n  pushseal gateway fcm --new-account --service-account service-account.json \\\n    \
        --ca-file gateway-ca.pem"
    )]
    Fcm(FcmArgs),
}

/// Arguments of `pushseal gateway apns`.
#[derive(Debug, Args)]
pub struct ApnsArgs {
    /// The .p8 key whose provider tokens the gateway accepts (its public half is used)
    #[arg(long, value_name = "FILE")]
    apns_key: PathBuf,
    /// First write a new test key to --apns-key (which must not exist)
    #[arg(long)]
    new_key: bool,
    /// The key id provider tokens must name (10 characters)
    #[arg(long)]
    key_id: String,
    /// The team id provider tokens must be issued by (10 characters)
    #[arg(long)]
    team_id: String,
    /// The only apns-topic accepted (the app's bundle id)
    #[arg(long)]
    topic: String,
    /// Where to write the gateway's CA certificate (PEM), which clients trust
    #[arg(long, value_name = "PATH")]
    ca_file: PathBuf,
    /// The port on 127.0.0.1 (default: any free one)
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Keep the body of each accepted notification in DIR (created if missing), as TOKEN.APNS_ID.json (the device token and the apns-id), to open with `pushseal open`
    #[arg(long, value_name = "DIR")]
    inbox: Option<PathBuf>,
}

/// Arguments of `pushseal gateway fcm`.
#[derive(Debug, Args)]
pub struct FcmArgs {
    /// The service account key file (JSON) whose assertions the token endpoint accepts
    #[arg(long, value_name = "FILE")]
    service_account: PathBuf,
    /// First make a new test account and write its key file to --service-account (which must not exist)
    #[arg(long)]
    new_account: bool,
    /// The Firebase project of a new test account
    #[arg(long, value_name = "ID", default_value = "pushseal-test", requires = "new_account")]
    project_id: String,
    /// Where to write the gateway's CA certificate (PEM), which clients trust
    #[arg(long, value_name = "PATH")]
    ca_file: PathBuf,
    /// The port on 127.0.0.1 (default: any free one with --new-account, else the key file's token_uri's)
    #[arg(long)]
    port: Option<u16>,
    /// Keep the body of each accepted message in DIR (created if missing), as TARGET.N.json (the token or fid, and the message number), to open with `pushseal open --platform fcm`
    #[arg(long, value_name = "DIR")]
    inbox: Option<PathBuf>,
}

pub fn run(out: &mut Out, command: &GatewayCommand) -> Result<(), CliError> {
    match command {
        GatewayCommand::Apns(args) => apns(out, args),
        GatewayCommand::Fcm(args) => fcm(out, args),
    }
}

fn failed(what: &str, e: io::Error) -> CliError {
    CliError::rejected(format!("{what}: {e}"))
}

/// The `--inbox` directory, created if missing.
fn inbox(dir: Option<&PathBuf>) -> Result<Option<PathBuf>, CliError> {
    let Some(dir) = dir else { return Ok(None) };
    std::fs::create_dir_all(dir).map_err(|e| failed(&format!("cannot make the inbox {}", dir.display()), e))?;
    Ok(Some(dir.clone()))
}

/// Creates `path` for a secret (mode 0600 on Unix), refusing an existing file.
fn create_secret_file(path: &Path) -> Result<File, CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map_err(|e| failed(&format!("cannot write a new key to {} (it must not exist)", path.display()), e))
}

/// Serves on a runtime of its own until standard input closes; `start`
/// starts the gateway, prints what a sender needs, and hands back how to stop it.
fn serve<F, S>(start: impl FnOnce() -> F) -> Result<(), CliError>
where
    F: std::future::Future<Output = Result<S, CliError>>,
    S: std::future::Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| failed("cannot start the runtime", e))?;
    runtime.block_on(async {
        let stop = start().await?;
        // Serve until standard input closes.
        let _ = tokio::task::spawn_blocking(|| io::copy(&mut io::stdin().lock(), &mut io::sink())).await;
        stop.await;
        Ok(())
    })
}

fn apns(out: &mut Out, args: &ApnsArgs) -> Result<(), CliError> {
    if args.new_key {
        let pem = new_test_key_pem().map_err(|e| failed("cannot make a test key", e))?;
        create_secret_file(&args.apns_key)?
            .write_all(pem.as_bytes())
            .map_err(|e| failed(&format!("cannot write {}", args.apns_key.display()), e))?;
    }
    let key = ApnsKey::from_p8_file(&args.apns_key, &args.key_id, &args.team_id)
        .map_err(|e| CliError::rejected(e.to_string()))?;
    let mut options = ApnsGatewayOptions::new(&args.team_id, &args.key_id, key.verifying_key(), &args.topic);
    options.port = args.port;
    options.inbox = inbox(args.inbox.as_ref())?;
    drop(key);
    serve(|| async {
        let gateway = ApnsGateway::start(options, &args.ca_file).await.map_err(|e| failed("cannot start", e))?;
        let ApnsEndpoint::Host { host, port } = gateway.endpoint() else {
            return Err(CliError::rejected("the gateway has no local endpoint"));
        };
        let line = serde_json::json!({ "endpoint": format!("{host}:{port}"), "ca_file": args.ca_file });
        out.line(&line.to_string())?;
        out.flush()?;
        how_to_send(
            &format!(
                "--apns-key {} --key-id {} --team-id {} --topic {}",
                args.apns_key.display(),
                args.key_id,
                args.team_id,
                args.topic
            ),
            &format!("{host}:{port}"),
            &args.ca_file,
        );
        Ok(gateway.stop())
    })
}

/// The port of a local gateway's token endpoint, `https://127.0.0.1:PORT/token`.
fn token_uri_port(token_uri: &str) -> Option<u16> {
    token_uri.strip_prefix("https://127.0.0.1:")?.strip_suffix("/token")?.parse().ok()
}

fn fcm(out: &mut Out, args: &FcmArgs) -> Result<(), CliError> {
    let file = &args.service_account;
    let inbox_dir = inbox(args.inbox.as_ref())?;
    // A new account's key file is created now (so an existing one is never
    // overwritten) and written once the gateway's token_uri is known.
    let (options, new_account) = if args.new_account {
        let created = create_secret_file(file)?;
        let account = TestServiceAccount::generate().map_err(|e| failed("cannot make a test account", e))?;
        let email = format!("sender@{}.iam.gserviceaccount.com", args.project_id);
        let mut options = FcmGatewayOptions::new(&args.project_id, &email, account.public_key());
        options.port = args.port.unwrap_or(0);
        (options, Some((created, account)))
    } else {
        let account = ServiceAccount::from_file(file).map_err(|e| CliError::rejected(e.to_string()))?;
        let port = token_uri_port(account.token_uri()).ok_or_else(|| {
            CliError::rejected(format!(
                "{}: its token_uri is not a local gateway's (https://127.0.0.1:PORT/token); make a test account \
                 with --new-account",
                file.display()
            ))
        })?;
        if args.port.is_some_and(|p| p != port) {
            return Err(CliError::rejected(format!(
                "--port differs from the port of {}'s token_uri ({port}); leave --port out",
                file.display()
            )));
        }
        let mut options = FcmGatewayOptions::new(account.project_id(), account.client_email(), account.public_key());
        options.port = port;
        (options, None)
    };
    let mut options = options;
    options.inbox = inbox_dir;
    let (project_id, email) = (options.project_id.clone(), options.client_email.clone());
    serve(|| async {
        let gateway =
            FcmGateway::start_with_ca_file(options, &args.ca_file).await.map_err(|e| failed("cannot start", e))?;
        if let Some((mut created, account)) = new_account {
            let json = account
                .key_file_json(&project_id, &email, gateway.token_uri())
                .map_err(|e| failed("cannot make the key file", e))?;
            created
                .write_all(json.as_bytes())
                .and_then(|()| created.sync_all())
                .map_err(|e| failed(&format!("cannot write {}", file.display()), e))?;
        }
        let FcmEndpoint::Host { host, port } = gateway.endpoint() else {
            return Err(CliError::rejected("the gateway has no local endpoint"));
        };
        let line = serde_json::json!({
            "endpoint": format!("{host}:{port}"),
            "ca_file": args.ca_file,
            "service_account": file,
            "project_id": project_id,
            "token_uri": gateway.token_uri(),
        });
        out.line(&line.to_string())?;
        out.flush()?;
        how_to_send(&format!("--fcm-service-account {}", file.display()), &format!("{host}:{port}"), &args.ca_file);
        Ok(gateway.stop())
    })
    .inspect_err(|_| {
        // A key file made for a gateway that did not start is removed.
        if args.new_account && std::fs::metadata(file).is_ok_and(|m| m.len() == 0) {
            let _ = std::fs::remove_file(file);
        }
    })
}

/// Tells the user, on standard error, how to send to the gateway at
/// `endpoint` with the credentials of `credentials` (options of `pushseal send`).
fn how_to_send(credentials: &str, endpoint: &str, ca_file: &Path) {
    let _ = writeln!(
        io::stderr(),
        "gateway listening on https://{endpoint}; send to it (devices.jsonl: one {{\"public_key\": ..., \"token\": ...}} \
         a line) with\n  pushseal send --devices devices.jsonl --from sender.key {credentials} \\\n    --gateway \
         https://{endpoint} --gateway-ca {} < message.json\nit serves until its standard input closes",
        ca_file.display()
    );
}
