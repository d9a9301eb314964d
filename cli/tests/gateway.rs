//! `pushseal gateway apns` starts a local APNs, and `pushseal gateway fcm` a
//! local FCM with its token endpoint, that a client reaches with the CA file
//! (and the service account key file) they wrote; each stops when its
//! standard input closes. With `--inbox`, what a gateway accepted is kept
//! there.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use pushseal::{ApnsOptions, DeviceKeyring, FcmOptions, Message, Sender, SenderSecretKey};
use pushseal_delivery::apns::{ApnsClient, ApnsEndpoint};
use pushseal_delivery::fcm::{FcmClient, FcmEndpoint};
use pushseal_delivery::gateway::inbox_path;
use pushseal_delivery::{ApnsKey, Deliver, Outcome, Push, ServiceAccount, Trust};

#[test]
fn gateway_apns_serves_a_real_client_until_its_input_closes() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("AuthKey_TEST123456.p8");
    let ca_file = dir.path().join("gateway-ca.pem");
    let inbox = dir.path().join("inbox");
    let args = |key: &std::path::Path| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pushseal"));
        cmd.args(["gateway", "apns", "--new-key", "--apns-key"]).arg(key).args([
            "--key-id",
            "TEST123456",
            "--team-id",
            "TEAM123456",
            "--topic",
            "com.example.clinic",
            "--ca-file",
        ]);
        cmd.arg(&ca_file).arg("--inbox").arg(&inbox);
        cmd
    };
    let mut child = args(&key_file).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let started: serde_json::Value = serde_json::from_str(&line).unwrap();
    let endpoint = started["endpoint"].as_str().unwrap();
    let port: u16 = endpoint.strip_prefix("127.0.0.1:").unwrap().parse().unwrap();
    assert_eq!(started["ca_file"].as_str().unwrap(), ca_file.to_str().unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let key = ApnsKey::from_p8_file(&key_file, "TEST123456", "TEAM123456").unwrap();
        let client = ApnsClient::builder(key)
            .topic("com.example.clinic")
            .endpoint(ApnsEndpoint::Host { host: "127.0.0.1".into(), port })
            .trust(Trust::CaFile(ca_file.clone()))
            .build()
            .unwrap();
        let sender = Sender::new(SenderSecretKey::generate().unwrap());
        let device = DeviceKeyring::generate().unwrap().public_key();
        let sealed = || sender.seal_for_apns(&device, &Message::new("Hi", "There"), &ApnsOptions::default()).unwrap();
        let push = Push::new("ab".repeat(32), sealed());
        let delivered = client.deliver(&push).await;
        let Outcome::Delivered { gateway_id } = &delivered else { panic!("{delivered:?}") };
        // --inbox keeps the body the gateway accepted, to open as the phone would.
        let kept = std::fs::read_to_string(inbox_path(&inbox, &push.device, gateway_id)).unwrap();
        assert_eq!(kept, push.sealed.payload.body);
        let gone = client.deliver(&Push::new("unregistered", sealed())).await;
        assert!(matches!(gone, Outcome::TokenGone { since: Some(_), .. }), "{gone:?}");
    });

    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());

    // A second start does not overwrite the key.
    let again = args(&key_file).stdin(Stdio::null()).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("must not exist"), "{err}");
}

/// `pushseal gateway fcm --new-account` writes a service account key file
/// whose token_uri is the gateway's; an FCM client that trusts the CA file
/// gets an access token from it and sends. Started again with that key file
/// (and no --new-account), it listens where the file says.
#[test]
fn gateway_fcm_writes_a_service_account_that_a_real_client_sends_with() {
    let dir = tempfile::tempdir().unwrap();
    let account_file = dir.path().join("service-account.json");
    let ca_file = dir.path().join("gateway-ca.pem");
    let start = |new_account: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pushseal"));
        cmd.args(["gateway", "fcm"]);
        if new_account {
            cmd.arg("--new-account");
        }
        cmd.arg("--service-account").arg(&account_file).arg("--ca-file").arg(&ca_file);
        let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let started: serde_json::Value = serde_json::from_str(&line).unwrap();
        (child, started)
    };
    let send_one = |port: u16| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let account = ServiceAccount::from_file(&account_file).unwrap();
            assert_eq!(account.project_id(), "pushseal-test");
            let client = FcmClient::builder(account)
                .endpoint(FcmEndpoint::Host { host: "127.0.0.1".into(), port })
                .trust(Trust::CaFile(ca_file.clone()))
                .build()
                .unwrap();
            let sender = Sender::new(SenderSecretKey::generate().unwrap());
            let device = DeviceKeyring::generate().unwrap().public_key();
            let sealed = |token: &str| {
                sender.seal_for_fcm(&device, &Message::new("Hi", "There"), &FcmOptions::with_token(token)).unwrap()
            };
            let delivered = client.deliver(&Push::new("device-1", sealed("device-1"))).await;
            assert!(matches!(delivered, Outcome::Delivered { .. }), "{delivered:?}");
            let gone = client.deliver(&Push::new("unregistered", sealed("unregistered"))).await;
            assert!(matches!(gone, Outcome::TokenGone { .. }), "{gone:?}");
            client.shutdown().await;
        });
    };

    let (mut child, started) = start(true);
    let port: u16 = started["endpoint"].as_str().unwrap().strip_prefix("127.0.0.1:").unwrap().parse().unwrap();
    assert_eq!(started["ca_file"].as_str().unwrap(), ca_file.to_str().unwrap());
    assert_eq!(started["service_account"].as_str().unwrap(), account_file.to_str().unwrap());
    assert_eq!(started["token_uri"].as_str().unwrap(), format!("https://127.0.0.1:{port}/token"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&account_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    send_one(port);
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());

    // A second --new-account does not overwrite the key file.
    let again = Command::new(env!("CARGO_BIN_EXE_pushseal"))
        .args(["gateway", "fcm", "--new-account", "--service-account"])
        .arg(&account_file)
        .arg("--ca-file")
        .arg(&ca_file)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("must not exist"), "{err}");

    // Without --new-account, the key file's token_uri says where to listen.
    let (mut child, restarted) = start(false);
    assert_eq!(restarted["endpoint"], started["endpoint"]);
    send_one(port);
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}
