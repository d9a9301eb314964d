//! The FCM client against the FCM test gateway on loopback: every outcome
//! kind from FCM's errors, one access token shared and renewed before it
//! expires (on a clock the test moves), a refused or revoked service account
//! stopping the run with its email named, lost connections and recovery, and
//! exactly one outcome per message. The gateway's own checks (the OAuth2
//! assertion's signature, audience, scope and times) are exercised with a
//! bare h2 client. With an inbox, the gateway keeps what it accepted for
//! the phone to open.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use pushseal::{DeviceKeyring, FcmOptions, MemoryReplayStore, Message, Payload, Sender, SenderSecretKey};
use pushseal_delivery::fcm::{FcmClient, FcmEndpoint};
use pushseal_delivery::gateway::fcm::{FcmGateway, FcmGatewayOptions, TestServiceAccount};
use pushseal_delivery::gateway::inbox_path;
use pushseal_delivery::{
    ConfigError, Deliver, ManualClock, Outcome, OutcomeKind, Push, RetryPolicy, ServiceAccount, Trust,
};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

const PROJECT: &str = "pushseal-test";
const EMAIL: &str = "sender@pushseal-test.iam.gserviceaccount.com";
const START: u64 = 1_800_000_000;

/// The test's service account key, made once per run (RSA key generation
/// is the slow part of these tests).
fn account_key() -> &'static TestServiceAccount {
    static KEY: OnceLock<TestServiceAccount> = OnceLock::new();
    KEY.get_or_init(|| TestServiceAccount::generate().expect("a key can be made"))
}

/// A second key: an account the gateway does not know.
fn other_key() -> &'static TestServiceAccount {
    static KEY: OnceLock<TestServiceAccount> = OnceLock::new();
    KEY.get_or_init(|| TestServiceAccount::generate().expect("a key can be made"))
}

struct Setup {
    dir: tempfile::TempDir,
    gateway: FcmGateway,
    account_file: PathBuf,
    clock: ManualClock,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(START);
    let mut options = FcmGatewayOptions::new(PROJECT, EMAIL, account_key().public_key());
    options.clock = Arc::new(clock.clone());
    let gateway = FcmGateway::start(options, dir.path()).await.unwrap();
    let account_file = dir.path().join("service-account.json");
    account_key().write(&account_file, PROJECT, EMAIL, gateway.token_uri()).unwrap();
    Setup { dir, gateway, account_file, clock }
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        first_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        attempt_timeout: Duration::from_secs(5),
        total_deadline: Duration::from_secs(20),
    }
}

fn client(s: &Setup, account_file: &Path, retry: RetryPolicy) -> FcmClient {
    let account = ServiceAccount::from_file(account_file).unwrap();
    FcmClient::builder(account)
        .endpoint(s.gateway.endpoint())
        .trust(Trust::CaFile(s.gateway.ca_file().to_owned()))
        .clock(s.clock.clone())
        .retry(retry)
        .build()
        .unwrap()
}

fn sealer() -> (Sender, DeviceKeyring) {
    (Sender::new(SenderSecretKey::generate().unwrap()), DeviceKeyring::generate().unwrap())
}

fn push_to_token(sender: &Sender, device: &DeviceKeyring, token: &str) -> Push<pushseal::FcmMessage> {
    let msg = Message::new("Lab results", "Your results from Tuesday are ready.");
    let sealed = sender.seal_for_fcm(&device.public_key(), &msg, &FcmOptions::with_token(token)).unwrap();
    Push::new(token, sealed)
}

fn push_to_fid(sender: &Sender, device: &DeviceKeyring, fid: &str) -> Push<pushseal::FcmMessage> {
    let msg = Message::new("Lab results", "Your results from Tuesday are ready.");
    let sealed = sender.seal_for_fcm(&device.public_key(), &msg, &FcmOptions::with_fid(fid)).unwrap();
    Push::new(fid, sealed)
}

fn gone(reason: &str) -> Outcome {
    Outcome::TokenGone { reason: reason.into(), since: None }
}

fn names_the_account(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Misconfigured(ConfigError::ServiceAccountRefused { account, .. }) if account == EMAIL)
        && outcome.to_string().contains(EMAIL)
}

#[tokio::test]
async fn every_fcm_answer_ends_in_its_outcome_kind() {
    let s = setup().await;
    let client = client(&s, &s.account_file, fast_retry());
    let (sender, device) = sealer();
    let token = "dGVzdC1kZXZpY2U6APA91bH-registration_token.1";

    let delivered = client.deliver(&push_to_token(&sender, &device, token)).await;
    let Outcome::Delivered { gateway_id } = &delivered else { panic!("{delivered:?}") };
    assert!(gateway_id.starts_with(&format!("projects/{PROJECT}/messages/")), "{gateway_id}");
    let by_fid = client.deliver(&push_to_fid(&sender, &device, "cXkz4lrZQbOb3p0IU5Zm-F")).await;
    assert_eq!(by_fid.kind(), OutcomeKind::Delivered, "{by_fid:?}");

    let cases = [
        ("unregistered", gone("UNREGISTERED")),
        ("invalid", gone("INVALID_ARGUMENT")),
        (
            "error-INVALID_ARGUMENT",
            Outcome::Rejected { reason: "INVALID_ARGUMENT: The gateway was asked for this error.".into() },
        ),
        (
            "error-SENDER_ID_MISMATCH",
            Outcome::Rejected { reason: "SENDER_ID_MISMATCH: The gateway was asked for this error.".into() },
        ),
        ("error-UNAVAILABLE", Outcome::Failed { reason: "UNAVAILABLE".into(), attempts: 3 }),
        ("error-INTERNAL", Outcome::Failed { reason: "INTERNAL".into(), attempts: 3 }),
        ("error-QUOTA_EXCEEDED", Outcome::Failed { reason: "QUOTA_EXCEEDED".into(), attempts: 3 }),
    ];
    for (device_token, expected) in cases {
        let outcome = client.deliver(&push_to_token(&sender, &device, device_token)).await;
        assert_eq!(outcome, expected, "{device_token}");
    }
    // An installation id FCM no longer knows is gone like a token.
    assert_eq!(client.deliver(&push_to_fid(&sender, &device, "unregistered")).await, gone("UNREGISTERED"));
    // A failure that passes is retried to delivery.
    let flaky = client.deliver(&push_to_token(&sender, &device, "flaky-2-UNAVAILABLE")).await;
    assert_eq!(flaky.kind(), OutcomeKind::Delivered, "{flaky:?}");
    // THIRD_PARTY_AUTH_ERROR is the sender's setup: it stops the run and names the account.
    let auth = client.deliver(&push_to_token(&sender, &device, "error-THIRD_PARTY_AUTH_ERROR")).await;
    assert!(names_the_account(&auth), "{auth:?}");
    assert!(auth.kind().stops_run());

    // Over FCM's 4,096-byte data limit (which the core never seals): rejected, not retried.
    let big = push_to_token(&sender, &device, token);
    let sent_before = s.gateway.stats().sends;
    let big = Push::new(
        token,
        big.sealed.map_payload(|p| pushseal::FcmMessage {
            json: p
                .json
                .replace("\"data\":{\"pushseal\":\"", &format!("\"data\":{{\"pushseal\":\"{}", "A".repeat(4096))),
        }),
    );
    let too_big = client.deliver(&big).await;
    assert_eq!(too_big, Outcome::Rejected { reason: "INVALID_ARGUMENT: Message is too big".into() });
    assert_eq!(s.gateway.stats().sends, sent_before + 1);

    // A push whose message was sealed for another device is refused before sending.
    let mismatched = Push::new("another-token", push_to_token(&sender, &device, token).sealed);
    assert_eq!(client.deliver(&mismatched).await.kind(), OutcomeKind::Rejected);
    // One access token for all of it.
    assert_eq!(s.gateway.stats().grants, 1);
    s.gateway.stop().await;
}

#[tokio::test]
async fn a_429_honours_retry_after_then_ends_failed() {
    let s = setup().await;
    let client = client(&s, &s.account_file, RetryPolicy { max_attempts: 2, ..fast_retry() });
    let (sender, device) = sealer();
    let started = Instant::now();
    let outcome = client.deliver(&push_to_token(&sender, &device, "retry-after-1")).await;
    assert_eq!(outcome, Outcome::Failed { reason: "QUOTA_EXCEEDED".into(), attempts: 2 });
    // The backoff alone would be at most 5 ms: the wait came from Retry-After.
    assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(s.gateway.stats().sends, 2);
    s.gateway.stop().await;
}

#[tokio::test]
async fn one_access_token_is_shared_and_renewed_five_minutes_before_it_expires() {
    let s = setup().await;
    let client = client(&s, &s.account_file, fast_retry());
    let (sender, device) = sealer();
    let mut workers = tokio::task::JoinSet::new();
    for i in 0..24 {
        let (client, push) = (client.clone(), push_to_token(&sender, &device, &format!("device-{i}")));
        workers.spawn(async move { client.deliver(&push).await });
    }
    while let Some(outcome) = workers.join_next().await {
        assert_eq!(outcome.unwrap().kind(), OutcomeKind::Delivered);
    }
    // 24 concurrent first sends, one grant: the others waited for it.
    assert_eq!(s.gateway.stats().grants, 1);

    // The token lives an hour; it is kept while more than 5 minutes remain.
    s.clock.advance(3600 - 300 - 1);
    assert_eq!(client.deliver(&push_to_token(&sender, &device, "device-a")).await.kind(), OutcomeKind::Delivered);
    assert_eq!(s.gateway.stats().grants, 1);
    s.clock.advance(1);
    assert_eq!(client.deliver(&push_to_token(&sender, &device, "device-b")).await.kind(), OutcomeKind::Delivered);
    let stats = s.gateway.stats();
    assert_eq!(stats.grants, 2);
    assert_eq!(stats.assertion_times.into_iter().collect::<Vec<_>>(), [START, START + 3300]);
    assert_eq!(stats.unauthenticated, 0, "no request carried an expired token");

    // Tokens revoked at Google's end: one 401, one new grant, delivered.
    s.gateway.revoke_access_tokens();
    assert_eq!(client.deliver(&push_to_token(&sender, &device, "device-c")).await.kind(), OutcomeKind::Delivered);
    let stats = s.gateway.stats();
    assert_eq!((stats.grants, stats.unauthenticated), (3, 1));
    s.gateway.stop().await;
}

#[tokio::test]
async fn a_refused_or_wrong_service_account_stops_the_run_and_names_it() {
    let s = setup().await;
    let (sender, device) = sealer();
    for status in [400, 401, 403] {
        s.gateway.refuse_grants(status);
        let client = client(&s, &s.account_file, fast_retry());
        let outcome = client.deliver(&push_to_token(&sender, &device, "device-1")).await;
        assert!(names_the_account(&outcome), "{status}: {outcome:?}");
        assert!(outcome.to_string().contains(&status.to_string()), "{outcome}");
    }
    // Refused grants are not retried: one request each.
    assert_eq!((s.gateway.stats().refused_grants, s.gateway.stats().sends), (3, 0));
    s.gateway.refuse_grants(0);

    // A key file whose key the gateway does not know (deleted, or another account's).
    let wrong = s.dir.path().join("wrong.json");
    other_key().write(&wrong, PROJECT, EMAIL, s.gateway.token_uri()).unwrap();
    let client = client(&s, &wrong, fast_retry());
    let outcome = client.deliver(&push_to_token(&sender, &device, "device-1")).await;
    assert!(names_the_account(&outcome), "{outcome:?}");
    assert!(outcome.to_string().contains("invalid_grant"), "{outcome}");

    // Neither the outcome, the client's Debug nor the account's shows the key.
    let text = std::fs::read_to_string(&wrong).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let pem = json["private_key"].as_str().unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    for shown in [format!("{outcome:?}"), outcome.to_string(), format!("{client:?}")] {
        assert!(!shown.contains(&body[..40]), "{shown}");
    }
    assert!(format!("{client:?}").contains(EMAIL));
    s.gateway.stop().await;
}

#[tokio::test]
async fn a_lost_connection_fails_that_message_once_and_the_next_one_goes_through() {
    let s = setup().await;
    let retry = RetryPolicy { attempt_timeout: Duration::from_millis(300), max_attempts: 2, ..fast_retry() };
    let client = client(&s, &s.account_file, retry);
    let (sender, device) = sealer();
    assert_eq!(client.deliver(&push_to_token(&sender, &device, "device-1")).await.kind(), OutcomeKind::Delivered);

    // Dropped after it was sent: FCM may have it, so it is not sent again.
    let dropped = client.deliver(&push_to_token(&sender, &device, "drop")).await;
    let Outcome::Failed { reason, attempts: 1 } = &dropped else { panic!("{dropped:?}") };
    assert!(reason.contains("not sent again"), "{reason}");
    let sends = s.gateway.stats().sends;
    for i in 0..4 {
        let outcome = client.deliver(&push_to_token(&sender, &device, &format!("after-{i}"))).await;
        assert_eq!(outcome.kind(), OutcomeKind::Delivered, "{outcome:?}");
    }
    assert_eq!(s.gateway.stats().sends, sends + 4);

    // GOAWAY after an answer: the messages after it are delivered (on another
    // of the pool's connections or a new one: which is the pool's choice).
    assert_eq!(client.deliver(&push_to_token(&sender, &device, "goaway")).await.kind(), OutcomeKind::Delivered);
    let sends = s.gateway.stats().sends;
    for i in 0..2 {
        let outcome = client.deliver(&push_to_token(&sender, &device, &format!("later-{i}"))).await;
        assert_eq!(outcome.kind(), OutcomeKind::Delivered, "{outcome:?}");
    }
    assert_eq!(s.gateway.stats().sends, sends + 2);

    // A stalled gateway: each attempt times out, then the message fails.
    let stalled = client.deliver(&push_to_token(&sender, &device, "stall")).await;
    assert_eq!(stalled, Outcome::Failed { reason: "timeout".into(), attempts: 2 });

    // Nothing listening where FCM should be: connection failures are retried
    // and end failed, not misconfigured.
    let port_gone = FcmEndpoint::Host { host: "127.0.0.1".into(), port: 1 };
    let account = ServiceAccount::from_file(&s.account_file).unwrap();
    let unreachable = FcmClient::builder(account)
        .endpoint(port_gone)
        .trust(Trust::CaFile(s.gateway.ca_file().to_owned()))
        .clock(s.clock.clone())
        .retry(fast_retry())
        .build()
        .unwrap();
    let outcome = unreachable.deliver(&push_to_token(&sender, &device, "device-1")).await;
    let Outcome::Failed { reason, attempts: 3 } = &outcome else { panic!("{outcome:?}") };
    assert!(reason.contains("cannot connect"), "{reason}");
    s.gateway.stop().await;
}

#[tokio::test]
async fn every_message_ends_in_exactly_one_outcome() {
    let s = setup().await;
    let client = client(&s, &s.account_file, fast_retry());
    let (sender, device) = sealer();
    let kinds = ["ok", "unregistered", "invalid", "error-INVALID_ARGUMENT", "error-UNAVAILABLE", "flaky-1-INTERNAL"];
    let mut workers = tokio::task::JoinSet::new();
    let total = 120;
    for i in 0..total {
        let kind = kinds[i % kinds.len()];
        let device_token = if kind == "flaky-1-INTERNAL" { format!("flaky-1-INTERNAL-{i}") } else { kind.to_owned() };
        let device_token = if kind == "ok" { format!("device-{i}") } else { device_token };
        let (client, push) = (client.clone(), push_to_token(&sender, &device, &device_token));
        workers.spawn(async move { (i, client.deliver(&push).await) });
    }
    let mut seen = vec![0u32; total];
    let mut delivered = 0;
    while let Some(done) = workers.join_next().await {
        let (i, outcome) = done.unwrap();
        seen[i] += 1;
        let expected = match kinds[i % kinds.len()] {
            "ok" | "flaky-1-INTERNAL" => OutcomeKind::Delivered,
            "unregistered" | "invalid" => OutcomeKind::TokenGone,
            "error-INVALID_ARGUMENT" => OutcomeKind::Rejected,
            _ => OutcomeKind::Failed,
        };
        assert_eq!(outcome.kind(), expected, "{i}: {outcome:?}");
        delivered += u64::from(expected == OutcomeKind::Delivered);
    }
    assert!(seen.iter().all(|&n| n == 1));
    // The gateway delivered each of those once: no message was sent twice after a 200.
    let names = s.gateway.stats().delivered;
    assert_eq!(names.len() as u64, delivered);
    client.shutdown().await;
    let after = client.deliver(&push_to_token(&sender, &device, "device-late")).await;
    assert_eq!(after, Outcome::Failed { reason: "the client is shutting down".into(), attempts: 0 });
    s.gateway.stop().await;
}

/// One POST with a bare h2 client (not this crate's), trusting the gateway's CA file.
async fn bare_post(
    gateway: &FcmGateway,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> (u16, serde_json::Value) {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(gateway.ca_file()).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let FcmEndpoint::Host { host, port } = gateway.endpoint() else { panic!("a loopback endpoint") };
    assert_eq!(host, "127.0.0.1");
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from(host.clone()).unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.unwrap();
    let (send, conn) = h2::client::handshake(tls).await.unwrap();
    tokio::spawn(conn);
    let mut send = send.ready().await.unwrap();
    let mut request = http::Request::post(format!("https://{host}:{port}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let (response, mut stream) = send.send_request(request.body(()).unwrap(), false).unwrap();
    stream.send_data(Bytes::from(body), true).unwrap();
    let response = response.await.unwrap();
    let status = response.status().as_u16();
    let mut recv = response.into_body();
    let mut text = Vec::new();
    while let Some(chunk) = recv.data().await {
        text.extend_from_slice(&chunk.unwrap());
    }
    (status, serde_json::from_slice(&text).unwrap())
}

#[tokio::test]
async fn the_token_endpoint_checks_the_assertion_as_google_does() {
    let s = setup().await;
    let account = ServiceAccount::from_file(&s.account_file).unwrap();
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let grant = |assertion: String| {
        format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}")
    };
    let claims = |aud: &str, scope: &str, iat: u64, exp: u64| serde_json::json!({ "iss": EMAIL, "aud": aud, "scope": scope, "iat": iat, "exp": exp });
    let uri = s.gateway.token_uri().to_owned();
    let scope = pushseal_delivery::fcm::SCOPE;
    let good = account.sign_assertion(&claims(&uri, scope, START, START + 3600));
    let (status, json) = bare_post(&s.gateway, "/token", &form, grant(good)).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["expires_in"], 3600);
    let access = json["access_token"].as_str().unwrap().to_owned();

    let refused = [
        (claims("https://oauth2.example/token", scope, START, START + 3600), "invalid_grant"),
        (claims(&uri, "https://www.googleapis.com/auth/cloud-platform", START, START + 3600), "invalid_scope"),
        (claims(&uri, scope, START, START + 7200), "invalid_grant"),
        (claims(&uri, scope, START - 7200, START - 3600), "invalid_grant"),
        (claims(&uri, scope, START + 600, START + 1200), "invalid_grant"),
    ];
    for (claims, error) in refused {
        let (status, json) = bare_post(&s.gateway, "/token", &form, grant(account.sign_assertion(&claims))).await;
        assert_eq!((status, json["error"].as_str()), (400, Some(error)), "{claims}");
    }
    // Signed by another key: the signature check refuses it.
    let other_file = s.dir.path().join("other.json");
    other_key().write(&other_file, PROJECT, EMAIL, &uri).unwrap();
    let other = ServiceAccount::from_file(&other_file).unwrap();
    let forged = other.sign_assertion(&claims(&uri, scope, START, START + 3600));
    let (status, json) = bare_post(&s.gateway, "/token", &form, grant(forged)).await;
    assert_eq!((status, json["error"].as_str()), (400, Some("invalid_grant")));
    let (status, json) = bare_post(&s.gateway, "/token", &form, "grant_type=password".into()).await;
    assert_eq!((status, json["error"].as_str()), (400, Some("unsupported_grant_type")));

    // The send endpoint wants the bearer token it granted, and the project's path.
    let path = format!("/v1/projects/{PROJECT}/messages:send");
    let body = r#"{"message":{"data":{"pushseal":"x"},"token":"device-1"}}"#.to_owned();
    let json_type = ("content-type", "application/json");
    let (status, json) = bare_post(&s.gateway, &path, &[json_type], body.clone()).await;
    assert_eq!((status, json["error"]["status"].as_str()), (401, Some("UNAUTHENTICATED")));
    let bearer = format!("Bearer {access}");
    let auth = ("authorization", bearer.as_str());
    let (status, json) = bare_post(&s.gateway, &path, &[json_type, auth], body.clone()).await;
    assert_eq!(status, 200, "{json}");
    let other_project = "/v1/projects/another-project/messages:send";
    let (status, json) = bare_post(&s.gateway, other_project, &[json_type, auth], body).await;
    assert_eq!((status, json["error"]["status"].as_str()), (403, Some("PERMISSION_DENIED")));
    // An hour later the access token has expired.
    s.clock.advance(3600);
    let body = r#"{"message":{"data":{"pushseal":"x"},"token":"device-1"}}"#.to_owned();
    let (status, _) = bare_post(&s.gateway, &path, &[json_type, auth], body).await;
    assert_eq!(status, 401);
    s.gateway.stop().await;
}

/// With an inbox, the gateway keeps each body it accepted under the token
/// (or installation id) and the message name, and the phone opens its data;
/// what it refused is not kept, and a body it cannot keep is answered 500
/// `INTERNAL`, not delivered.
#[tokio::test]
async fn the_inbox_keeps_each_accepted_body_for_the_phone_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let mut options = FcmGatewayOptions::new(PROJECT, EMAIL, account_key().public_key());
    options.inbox = Some(inbox.clone());
    let gateway = FcmGateway::start(options, dir.path()).await.unwrap();
    let account_file = dir.path().join("service-account.json");
    account_key().write(&account_file, PROJECT, EMAIL, gateway.token_uri()).unwrap();
    let client = FcmClient::builder(ServiceAccount::from_file(&account_file).unwrap())
        .endpoint(gateway.endpoint())
        .trust(Trust::CaFile(gateway.ca_file().to_owned()))
        .retry(fast_retry())
        .build()
        .unwrap();
    let (sender, mut phone) = sealer();
    phone.trust_sender(sender.public_key()).unwrap();
    let replay = MemoryReplayStore::new();

    let mut kept_files = Vec::new();
    for push in [push_to_token(&sender, &phone, "token-of-the-phone:APA91b"), push_to_fid(&sender, &phone, "cXkz4lrZ")]
    {
        let body = push.sealed.payload.request_body();
        let outcome = client.deliver(&push).await;
        let Outcome::Delivered { gateway_id } = outcome else { panic!("{outcome:?}") };
        let path = inbox_path(&inbox, &push.device, &gateway_id);
        let kept = std::fs::read_to_string(&path).expect("kept in the inbox");
        assert_eq!(kept, body);
        let request: serde_json::Value = serde_json::from_str(&kept).unwrap();
        let data: HashMap<String, String> = serde_json::from_value(request["message"]["data"].clone()).unwrap();
        let opened = phone.open(Payload::FcmData(&data), &replay, pushseal::unix_now()).unwrap();
        assert_eq!(opened.message.title, "Lab results");
        kept_files.push(path.file_name().unwrap().to_owned());
    }

    let gone = client.deliver(&push_to_token(&sender, &phone, "unregistered")).await;
    assert_eq!(gone, Outcome::TokenGone { reason: "UNREGISTERED".into(), since: None });
    let mut files: Vec<_> = std::fs::read_dir(&inbox).unwrap().map(|e| e.unwrap().file_name()).collect();
    files.sort();
    kept_files.sort();
    assert_eq!(files, kept_files);

    std::fs::remove_dir_all(&inbox).unwrap();
    let unkept = client.deliver(&push_to_token(&sender, &phone, "another-phone")).await;
    assert_eq!(unkept, Outcome::Failed { reason: "INTERNAL".into(), attempts: 3 });
    assert_eq!(gateway.stats().delivered.len(), 2);
    gateway.stop().await;
}
