//! The APNs client against the local APNs gateway, both on loopback, over
//! real HTTP/2 and TLS: every outcome kind, provider token timing (with a
//! clock the test sets), lost connections and recovery, GOAWAY, a stalled
//! gateway, keep-alive, the concurrency rules, the choice of connection,
//! shutdown that drains, one outcome per message, and the gateway's inbox of
//! what it accepted.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use p256::pkcs8::EncodePrivateKey;
use pushseal::{
    ApnsOptions, ApnsRequest, DeviceKeyring, MemoryReplayStore, Message, Payload, Sealed, Sender, SenderSecretKey,
};
use pushseal_delivery::apns::{ApnsClient, ApnsClientBuilder};
use pushseal_delivery::gateway::apns::{ApnsGateway, ApnsGatewayOptions};
use pushseal_delivery::gateway::inbox_path;
use pushseal_delivery::{ApnsKey, ConfigError, Deliver, ManualClock, Outcome, Push, RetryPolicy, Trust};

const KEY_ID: &str = "ABC123DEFG";
const TEAM_ID: &str = "TEAM123456";
const TOPIC: &str = "com.example.clinic";
const START: u64 = 1_800_000_000;

fn key_pem(seed: u8) -> String {
    let key = p256::ecdsa::SigningKey::from_slice(&[seed; 32]).expect("a valid scalar");
    key.to_pkcs8_pem(Default::default()).expect("encodes").to_string()
}

fn key(seed: u8, key_id: &str) -> ApnsKey {
    ApnsKey::from_p8_pem(&key_pem(seed), key_id, TEAM_ID).expect("a valid key")
}

/// Fast retries, so failing cases end in milliseconds.
fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        first_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        attempt_timeout: Duration::from_secs(5),
        total_deadline: Duration::from_secs(20),
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    gateway: ApnsGateway,
    clock: ManualClock,
}

async fn gateway_with(adjust: impl FnOnce(&mut ApnsGatewayOptions)) -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(START);
    let mut options = ApnsGatewayOptions::new(TEAM_ID, KEY_ID, key(7, KEY_ID).verifying_key(), TOPIC);
    options.clock = Arc::new(clock.clone());
    adjust(&mut options);
    let gateway = ApnsGateway::start(options, &dir.path().join("ca.pem")).await.expect("gateway starts");
    Setup { _dir: dir, gateway, clock }
}

async fn gateway() -> Setup {
    gateway_with(|_| {}).await
}

impl Setup {
    fn client(&self) -> ApnsClientBuilder {
        ApnsClient::builder(key(7, KEY_ID))
            .topic(TOPIC)
            .endpoint(self.gateway.endpoint())
            .trust(Trust::CaFile(self.gateway.ca_file().to_owned()))
            .clock(self.clock.clone())
            .retry(quick_retry())
    }
}

fn sealed() -> Sealed<ApnsRequest> {
    let sender = Sender::new(SenderSecretKey::generate().expect("key"));
    let device = DeviceKeyring::generate().expect("keyring");
    let msg = Message::new("Lab results", "Your results from Tuesday are ready.");
    sender.seal_for_apns(&device.public_key(), &msg, &ApnsOptions::default()).expect("seals")
}

fn push(device: &str) -> Push<ApnsRequest> {
    Push::new(device, sealed())
}

fn hex_token(n: u32) -> String {
    format!("{n:064x}")
}

#[tokio::test]
async fn a_good_push_is_delivered_with_the_gateway_id() {
    let s = gateway().await;
    let client = s.client().build().unwrap();
    let outcome = client.deliver(&push(&hex_token(1))).await;
    let Outcome::Delivered { gateway_id } = outcome else { panic!("{outcome:?}") };
    assert_eq!(s.gateway.stats().delivered, [gateway_id]);
    let debug = format!("{client:?}");
    assert!(debug.contains(KEY_ID) && debug.contains("[redacted]"), "{debug}");
    let key_line = key_pem(7).lines().nth(1).unwrap().to_owned();
    assert!(!debug.contains(&key_line[..16]), "{debug}");
    s.gateway.stop().await;
}

#[tokio::test]
async fn every_outcome_kind_from_the_gateways_answers() {
    let s = gateway().await;
    let client = s.client().build().unwrap();
    let cases: Vec<(&str, Outcome)> = vec![
        ("unregistered", Outcome::TokenGone { reason: "Unregistered".into(), since: Some(START - 86_400) }),
        ("reason-BadDeviceToken", Outcome::TokenGone { reason: "BadDeviceToken".into(), since: None }),
        ("reason-DeviceTokenNotForTopic", Outcome::TokenGone { reason: "DeviceTokenNotForTopic".into(), since: None }),
        ("not-a-token", Outcome::TokenGone { reason: "BadDeviceToken".into(), since: None }),
        ("reason-BadCollapseId", Outcome::Rejected { reason: "BadCollapseId".into() }),
        ("reason-BadTopic", Outcome::Rejected { reason: "BadTopic".into() }),
        ("reason-PayloadTooLarge", Outcome::Rejected { reason: "PayloadTooLarge".into() }),
        ("reason-ServiceUnavailable", Outcome::Failed { reason: "ServiceUnavailable".into(), attempts: 3 }),
        ("reason-InternalServerError", Outcome::Failed { reason: "InternalServerError".into(), attempts: 3 }),
        ("reason-Shutdown", Outcome::Failed { reason: "Shutdown".into(), attempts: 3 }),
        (
            "reason-TooManyProviderTokenUpdates",
            Outcome::Failed { reason: "TooManyProviderTokenUpdates".into(), attempts: 3 },
        ),
    ];
    for (device, expected) in cases {
        assert_eq!(client.deliver(&push(device)).await, expected, "{device}");
    }
    for reason in ["InvalidProviderToken", "MissingProviderToken", "BadCertificate", "Forbidden"] {
        let outcome = client.deliver(&push(&format!("reason-{reason}"))).await;
        let Outcome::Misconfigured(ConfigError::ApnsKeyRefused { key_id, team_id, reason: r }) = &outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!((key_id.as_str(), team_id.as_str(), r.as_str()), (KEY_ID, TEAM_ID, reason));
        assert!(outcome.kind().stops_run());
    }
    s.gateway.stop().await;
}

#[tokio::test]
async fn a_passing_failure_is_retried_until_it_passes() {
    let s = gateway().await;
    let client = s.client().build().unwrap();
    let outcome = client.deliver(&push("flaky-2-ServiceUnavailable")).await;
    assert!(matches!(outcome, Outcome::Delivered { .. }), "{outcome:?}");
    assert_eq!(s.gateway.stats().requests, 3);
    s.gateway.stop().await;
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let s = gateway().await;
    let client = s.client().retry(RetryPolicy { max_attempts: 2, ..quick_retry() }).build().unwrap();
    let start = Instant::now();
    let outcome = client.deliver(&push("retry-after-1")).await;
    assert_eq!(outcome, Outcome::Failed { reason: "TooManyRequests".into(), attempts: 2 });
    // The backoff alone is at most 40 ms; Retry-After asked for a second.
    assert!(start.elapsed() >= Duration::from_secs(1), "{:?}", start.elapsed());
    s.gateway.stop().await;
}

#[tokio::test]
async fn the_gateway_checks_headers_and_payload_size_as_apns_does() {
    let s = gateway().await;
    let client = s.client().build().unwrap();
    let with = |edit: &dyn Fn(&mut ApnsRequest)| {
        let mut p = push(&hex_token(2));
        edit(&mut p.sealed.payload);
        p
    };
    let set = |name: &'static str, value: String| {
        move |r: &mut ApnsRequest| {
            r.headers.retain(|(n, _)| n != name);
            r.headers.push((name.to_owned(), value.clone()));
        }
    };
    let cases: Vec<(Push<ApnsRequest>, &str)> = vec![
        (with(&set("apns-topic", "com.example.other".into())), "TopicDisallowed"),
        (with(&set("apns-push-type", "loud".into())), "InvalidPushType"),
        (with(&set("apns-priority", "7".into())), "BadPriority"),
        (with(&set("apns-expiration", "tomorrow".into())), "BadExpirationDate"),
        (with(&set("apns-collapse-id", "c".repeat(65))), "BadCollapseId"),
        (with(&|r: &mut ApnsRequest| r.headers.retain(|(n, _)| n != "apns-push-type")), "InvalidPushType"),
        (with(&|r: &mut ApnsRequest| r.body = format!("{{\"pad\":\"{}\"}}", "x".repeat(4090))), "PayloadTooLarge"),
        (with(&|r: &mut ApnsRequest| r.body.clear()), "PayloadEmpty"),
    ];
    for (p, reason) in cases {
        assert_eq!(client.deliver(&p).await, Outcome::Rejected { reason: reason.into() }, "{reason}");
    }
    // Exactly 4096 bytes passes.
    let at_limit = with(&|r: &mut ApnsRequest| r.body = format!("{{\"pad\":\"{}\"}}", "x".repeat(4096 - 10)));
    assert_eq!(at_limit.sealed.payload.body.len(), 4096);
    assert!(matches!(client.deliver(&at_limit).await, Outcome::Delivered { .. }));
    s.gateway.stop().await;
}

#[tokio::test]
async fn a_wrong_key_or_key_id_stops_the_run_naming_the_key() {
    let s = gateway().await;
    for (seed, kid) in [(8, KEY_ID), (7, "ZZZ999ZZZZ")] {
        let client = ApnsClient::builder(key(seed, kid))
            .topic(TOPIC)
            .endpoint(s.gateway.endpoint())
            .trust(Trust::CaFile(s.gateway.ca_file().to_owned()))
            .clock(s.clock.clone())
            .build()
            .unwrap();
        let outcome = client.deliver(&push(&hex_token(3))).await;
        assert!(outcome.kind().stops_run(), "{outcome:?}");
        let text = outcome.to_string();
        assert!(text.contains(kid) && text.contains("InvalidProviderToken"), "{text}");
    }
    assert!(s.gateway.stats().delivered.is_empty());
    s.gateway.stop().await;
}

#[tokio::test]
async fn a_gateway_whose_ca_is_not_trusted_is_a_configuration_error() {
    let s = gateway().await;
    let client = s.client().trust(Trust::PublicRoots).build().unwrap();
    let outcome = client.deliver(&push(&hex_token(4))).await;
    let Outcome::Misconfigured(ConfigError::Tls(why)) = &outcome else { panic!("{outcome:?}") };
    assert!(why.contains("not trusted"), "{why}");
    assert_eq!(s.gateway.stats().requests, 0);
    s.gateway.stop().await;
}

#[tokio::test]
async fn one_provider_token_for_all_connections_and_workers_replaced_after_fifty_minutes() {
    let s = gateway().await;
    let client = s.client().connections(4).build().unwrap();
    let send_many = |n: u32| {
        let client = client.clone();
        async move {
            let tasks: Vec<_> = (0..n)
                .map(|i| {
                    let client = client.clone();
                    tokio::spawn(async move { client.deliver(&push(&hex_token(i))).await })
                })
                .collect();
            for task in tasks {
                assert!(matches!(task.await.unwrap(), Outcome::Delivered { .. }));
            }
        }
    };
    send_many(40).await;
    let stats = s.gateway.stats();
    assert_eq!(stats.token_issue_times, BTreeSet::from([START]));
    assert!(stats.connections > 1 && stats.connections <= 4, "{}", stats.connections);

    s.clock.advance(50 * 60 - 1);
    send_many(8).await;
    assert_eq!(s.gateway.stats().token_issue_times.len(), 1);
    s.clock.advance(1);
    send_many(8).await;
    assert_eq!(s.gateway.stats().token_issue_times, BTreeSet::from([START, START + 50 * 60]));
    s.gateway.stop().await;
}

#[tokio::test]
async fn an_expired_provider_token_is_replaced_once_but_never_before_twenty_minutes() {
    let s = gateway().await;
    let client = s.client().build().unwrap();
    assert!(matches!(client.deliver(&push(&hex_token(5))).await, Outcome::Delivered { .. }));

    // 25 minutes on, APNs holds the token expired: one refresh, then delivered.
    s.clock.advance(25 * 60);
    s.gateway.expire_tokens_issued_before(START + 1);
    assert!(matches!(client.deliver(&push(&hex_token(6))).await, Outcome::Delivered { .. }));
    let stats = s.gateway.stats();
    assert_eq!(stats.expired_token_answers, 1);
    assert_eq!(stats.token_issue_times, BTreeSet::from([START, START + 25 * 60]));

    // 5 minutes later APNs refuses the new token too: too soon to refresh, so
    // a configuration error that names the key and the clock.
    s.clock.advance(5 * 60);
    s.gateway.expire_tokens_issued_before(START + 30 * 60 + 1);
    let outcome = client.deliver(&push(&hex_token(7))).await;
    assert!(outcome.kind().stops_run(), "{outcome:?}");
    let text = outcome.to_string();
    assert!(text.contains(KEY_ID) && text.contains("clock"), "{text}");
    assert_eq!(s.gateway.stats().token_issue_times.len(), 2);
    s.gateway.stop().await;
}

#[tokio::test]
async fn a_connection_lost_mid_request_is_not_resent_and_the_next_push_reconnects() {
    let s = gateway().await;
    let client = s.client().connections(1).build().unwrap();
    assert!(matches!(client.deliver(&push(&hex_token(8))).await, Outcome::Delivered { .. }));
    let outcome = client.deliver(&push("drop")).await;
    let Outcome::Failed { reason, attempts: 1 } = &outcome else { panic!("{outcome:?}") };
    assert!(reason.contains("may have delivered"), "{reason}");
    assert_eq!(s.gateway.stats().requests, 2);
    assert!(matches!(client.deliver(&push(&hex_token(9))).await, Outcome::Delivered { .. }));
    assert_eq!(s.gateway.stats().connections, 2);
    s.gateway.stop().await;
}

#[tokio::test]
async fn after_goaway_every_push_is_delivered_exactly_once_on_a_new_connection() {
    let s = gateway().await;
    // One attempt each: a push the old connection did not take must move to
    // a new one within its attempt, not fail.
    let client = s.client().connections(1).retry(RetryPolicy { max_attempts: 1, ..quick_retry() }).build().unwrap();
    assert!(matches!(client.deliver(&push(&hex_token(10))).await, Outcome::Delivered { .. }));
    let workers: Vec<_> = (0..3u32)
        .map(|w| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for i in 0..20u32 {
                    let device = if w == 0 && i == 5 { "goaway".to_owned() } else { format!("delay-2-{w}-{i}") };
                    outcomes.push(client.deliver(&push(&device)).await);
                }
                outcomes
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for worker in workers {
        outcomes.extend(worker.await.unwrap());
    }
    assert_eq!(outcomes.len(), 60);
    assert!(outcomes.iter().all(|o| matches!(o, Outcome::Delivered { .. })), "{outcomes:?}");
    let stats = s.gateway.stats();
    let unique: BTreeSet<_> = stats.delivered.iter().collect();
    assert_eq!(unique.len(), stats.delivered.len(), "a message was delivered twice");
    assert_eq!(stats.delivered.len(), 61);
    assert!(stats.connections >= 2, "{}", stats.connections);
    s.gateway.stop().await;
}

#[tokio::test]
async fn a_refused_stream_is_sent_again_at_once_within_its_attempt() {
    let s = gateway().await;
    let client = s.client().retry(RetryPolicy { max_attempts: 1, ..quick_retry() }).build().unwrap();
    assert!(matches!(client.deliver(&push("refuse-2")).await, Outcome::Delivered { .. }));
    assert_eq!(s.gateway.stats().requests, 3);
    // More refusals than one attempt moves for: the attempt fails, unsent.
    let outcome = client.deliver(&push("refuse-9")).await;
    let Outcome::Failed { reason, attempts: 1 } = &outcome else { panic!("{outcome:?}") };
    assert!(reason.contains("did not process"), "{reason}");
    s.gateway.stop().await;
}

#[tokio::test]
async fn a_stalled_gateway_ends_in_failed_after_the_attempt_deadlines() {
    let s = gateway().await;
    let policy = RetryPolicy { max_attempts: 2, attempt_timeout: Duration::from_millis(300), ..quick_retry() };
    let client = s.client().retry(policy).build().unwrap();
    let start = Instant::now();
    assert_eq!(client.deliver(&push("stall")).await, Outcome::Failed { reason: "timeout".into(), attempts: 2 });
    assert!(start.elapsed() >= Duration::from_millis(600));
    // The gateway still answers other pushes.
    assert!(matches!(client.deliver(&push(&hex_token(12))).await, Outcome::Delivered { .. }));
    s.gateway.stop().await;
}

#[tokio::test]
async fn one_request_until_the_first_succeeds_then_up_to_the_servers_limit() {
    let s = gateway_with(|o| o.max_concurrent_streams = 4).await;
    let client = s.client().connections(1).build().unwrap();
    let tasks: Vec<_> = (0..16u32)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.deliver(&push(&format!("delay-100-{i}"))).await })
        })
        .collect();
    for task in tasks {
        assert!(matches!(task.await.unwrap(), Outcome::Delivered { .. }));
    }
    let stats = s.gateway.stats();
    assert_eq!(stats.peak_concurrent_before_first_ok, 1);
    assert!(stats.peak_concurrent >= 2 && stats.peak_concurrent <= 4, "{}", stats.peak_concurrent);
    s.gateway.stop().await;
}

#[tokio::test]
async fn a_push_goes_to_the_connection_with_streams_free_not_behind_a_stalled_one() {
    // One stream a connection: a stalled request fills its connection, and a
    // request sent there would wait in its queue until the stall ends.
    let s = gateway_with(|o| o.max_concurrent_streams = 1).await;
    let policy = RetryPolicy {
        max_attempts: 1,
        attempt_timeout: Duration::from_secs(60),
        total_deadline: Duration::from_secs(60),
        ..quick_retry()
    };
    let client = s.client().connections(2).retry(policy).build().unwrap();
    // Both connections open and warm.
    for i in 0..2 {
        assert!(matches!(client.deliver(&push(&hex_token(30 + i))).await, Outcome::Delivered { .. }));
    }
    assert_eq!(s.gateway.stats().connections, 2);
    let stalled = {
        let client = client.clone();
        tokio::spawn(async move { client.deliver(&push("stall")).await })
    };
    while s.gateway.stats().requests < 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Every push goes to the other connection: none waits out the stall.
    for i in 0..4 {
        let sent = tokio::time::timeout(Duration::from_secs(10), client.deliver(&push(&hex_token(40 + i)))).await;
        assert!(matches!(sent, Ok(Outcome::Delivered { .. })), "push {i}: {sent:?}");
    }
    stalled.abort();
    s.gateway.stop().await;
}

#[tokio::test]
async fn keep_alive_pings_hold_an_idle_connection_open() {
    // Wide margins: a loaded machine may wake the pinger late.
    let s = gateway_with(|o| o.idle_timeout = Duration::from_millis(1200)).await;
    let pinging = s.client().connections(1).keep_alive(Duration::from_millis(200), Duration::from_secs(1)).build();
    let silent = s.client().connections(1).keep_alive(Duration::from_secs(60), Duration::from_secs(1)).build();
    for (client, connections) in [(pinging.unwrap(), 1), (silent.unwrap(), 2)] {
        let before = s.gateway.stats().connections;
        assert!(matches!(client.deliver(&push(&hex_token(13))).await, Outcome::Delivered { .. }));
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(matches!(client.deliver(&push(&hex_token(14))).await, Outcome::Delivered { .. }));
        assert_eq!(s.gateway.stats().connections - before, connections);
    }
    s.gateway.stop().await;
}

#[tokio::test]
async fn shutdown_waits_for_every_push_in_flight() {
    let s = gateway().await;
    let client = s.client().build().unwrap();
    let tasks: Vec<_> = (0..10u32)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.deliver(&push(&format!("delay-300-{i}"))).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    client.shutdown().await;
    for task in &tasks {
        assert!(task.is_finished(), "shutdown returned with a push in flight");
    }
    for task in tasks {
        assert!(matches!(task.await.unwrap(), Outcome::Delivered { .. }));
    }
    let after = client.deliver(&push(&hex_token(15))).await;
    assert_eq!(after, Outcome::Failed { reason: "the client is shutting down".into(), attempts: 0 });
    assert_eq!(s.gateway.stats().delivered.len(), 10);
    s.gateway.stop().await;
}

/// With an inbox, the gateway keeps each body it accepted under the device
/// token and the `apns-id`, and the phone opens it; what it refused is not
/// kept, and a body it cannot keep is answered 500, not delivered.
#[tokio::test]
async fn the_inbox_keeps_each_accepted_body_for_the_phone_to_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).expect("inbox");
    let s = gateway_with(|options| options.inbox = Some(inbox.clone())).await;
    let client = s.client().build().unwrap();
    let sender = Sender::new(SenderSecretKey::generate().expect("key"));
    let mut phone = DeviceKeyring::generate().expect("keyring");
    phone.trust_sender(sender.public_key()).expect("trusted");
    let msg = Message::new("Lab results", "Your results from Tuesday are ready.");
    let seal = || sender.seal_for_apns(&phone.public_key(), &msg, &ApnsOptions::default()).expect("seals");

    let sealed = seal();
    let body = sealed.payload.body.clone();
    let token = hex_token(7);
    let outcome = client.deliver(&Push::new(token.clone(), sealed)).await;
    let Outcome::Delivered { gateway_id } = outcome else { panic!("{outcome:?}") };
    let kept = std::fs::read_to_string(inbox_path(&inbox, &token, &gateway_id)).expect("kept in the inbox");
    assert_eq!(kept, body);
    let opened = phone.open(Payload::ApnsJson(&kept), &MemoryReplayStore::new(), pushseal::unix_now()).expect("opens");
    assert_eq!(opened.message.body, "Your results from Tuesday are ready.");

    let gone = client.deliver(&push("unregistered")).await;
    assert!(matches!(gone, Outcome::TokenGone { .. }), "{gone:?}");
    let files: Vec<_> = std::fs::read_dir(&inbox).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files, [inbox_path(&inbox, &token, &gateway_id).file_name().unwrap().to_owned()]);

    std::fs::remove_dir_all(&inbox).expect("inbox removed");
    let unkept = client.deliver(&Push::new(hex_token(8), seal())).await;
    assert_eq!(unkept, Outcome::Failed { reason: "InternalServerError".into(), attempts: 3 });
    assert_eq!(s.gateway.stats().delivered, [gateway_id]);
    s.gateway.stop().await;
}
