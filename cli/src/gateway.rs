//! `pushseal gateway`: a local test gateway, so that a full send can be
//! tried with no Apple or Google account.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use pushseal_delivery::ApnsKey;
use pushseal_delivery::apns::ApnsEndpoint;
use pushseal_delivery::gateway::apns::{ApnsGateway, ApnsGatewayOptions, new_test_key_pem};

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
}

pub fn run(out: &mut Out, command: &GatewayCommand) -> Result<(), CliError> {
    match command {
        GatewayCommand::Apns(args) => apns(out, args),
    }
}

fn apns(out: &mut Out, args: &ApnsArgs) -> Result<(), CliError> {
    let failed = |what: &str, e: std::io::Error| CliError::rejected(format!("{what}: {e}"));
    if args.new_key {
        let pem = new_test_key_pem().map_err(|e| failed("cannot make a test key", e))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(&args.apns_key).and_then(|mut f| std::io::Write::write_all(&mut f, pem.as_bytes())).map_err(
            |e| failed(&format!("cannot write a new key to {} (it must not exist)", args.apns_key.display()), e),
        )?;
    }
    let key = ApnsKey::from_p8_file(&args.apns_key, &args.key_id, &args.team_id)
        .map_err(|e| CliError::rejected(e.to_string()))?;
    let mut options = ApnsGatewayOptions::new(&args.team_id, &args.key_id, key.verifying_key(), &args.topic);
    options.port = args.port;
    drop(key);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| failed("cannot start the runtime", e))?;
    runtime.block_on(async {
        let gateway = ApnsGateway::start(options, &args.ca_file).await.map_err(|e| failed("cannot start", e))?;
        let ApnsEndpoint::Host { host, port } = gateway.endpoint() else {
            return Err(CliError::rejected("the gateway has no local endpoint"));
        };
        let line = serde_json::json!({ "endpoint": format!("{host}:{port}"), "ca_file": args.ca_file });
        out.line(&line.to_string())?;
        out.flush()?;
        // Serve until standard input closes.
        let _ = tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink())).await;
        gateway.stop().await;
        Ok(())
    })
}
