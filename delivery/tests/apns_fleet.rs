//! A fleet of APNs senders sharing one provider token through the audit
//! log's PostgreSQL database: several clients (each with its own database
//! connection, as separate processes have) against the local APNs gateway
//! and a real PostgreSQL server, both on loopback, with a clock the test sets.

#[path = "../../audit-log/tests/pg_server/mod.rs"]
mod pg_server;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use p256::pkcs8::EncodePrivateKey;
use pg_server::PgServer;
use pushseal::{ApnsOptions, ApnsRequest, DeviceKeyring, Message, Sender, SenderSecretKey};
use pushseal_audit::PgStore;
use pushseal_delivery::apns::ApnsClient;
use pushseal_delivery::gateway::apns::{ApnsGateway, ApnsGatewayOptions};
use pushseal_delivery::{ApnsKey, Deliver, ManualClock, Outcome, Push, RetryPolicy, Trust};

const KEY_ID: &str = "ABC123DEFG";
const TEAM_ID: &str = "TEAM123456";
const TOPIC: &str = "com.example.clinic";
const START: u64 = 1_800_000_000;

fn key() -> ApnsKey {
    let signing = p256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("a valid scalar");
    let pem = signing.to_pkcs8_pem(Default::default()).expect("encodes");
    ApnsKey::from_p8_pem(&pem, KEY_ID, TEAM_ID).expect("a valid key")
}

fn push(n: u32) -> Push<ApnsRequest> {
    let sender = Sender::new(SenderSecretKey::generate().expect("key"));
    let device = DeviceKeyring::generate().expect("keyring");
    let msg = Message::new("Lab results", "Your results from Tuesday are ready.");
    let sealed = sender.seal_for_apns(&device.public_key(), &msg, &ApnsOptions::default()).expect("seals");
    Push::new(format!("{n:064x}"), sealed)
}

struct Fleet {
    _dir: tempfile::TempDir,
    gateway: ApnsGateway,
    clock: ManualClock,
    url: String,
}

impl Fleet {
    /// The gateway, and the audit database made (off the runtime: the
    /// store's client is synchronous) before the test's runtime starts.
    async fn start(url: String) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = ManualClock::new(START);
        let mut options = ApnsGatewayOptions::new(TEAM_ID, KEY_ID, key().verifying_key(), TOPIC);
        options.clock = Arc::new(clock.clone());
        let gateway = ApnsGateway::start(options, &dir.path().join("ca.pem")).await.expect("gateway starts");
        Fleet { _dir: dir, gateway, clock, url }
    }

    /// One sender process: its own client, its own database connection.
    async fn sender(&self) -> ApnsClient {
        let url = self.url.clone();
        let store = tokio::task::spawn_blocking(move || PgStore::connect_existing(&url)).await.unwrap();
        let store = Arc::new(store.expect("the audit database"));
        ApnsClient::builder(key())
            .topic(TOPIC)
            .endpoint(self.gateway.endpoint())
            .trust(Trust::CaFile(self.gateway.ca_file().to_owned()))
            .clock(self.clock.clone())
            .retry(RetryPolicy {
                max_attempts: 2,
                first_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(20),
                attempt_timeout: Duration::from_secs(10),
                total_deadline: Duration::from_secs(30),
            })
            .share_token_through(store)
            .build()
            .expect("client")
    }
}

/// Every sender sends `per_sender` pushes at once.
async fn send_from_all(senders: &[ApnsClient], per_sender: u32) {
    let tasks: Vec<_> = senders
        .iter()
        .enumerate()
        .flat_map(|(s, client)| {
            (0..per_sender).map(move |i| {
                let client = client.clone();
                tokio::spawn(async move { client.deliver(&push(s as u32 * 1000 + i)).await })
            })
        })
        .collect();
    for task in tasks {
        let outcome = task.await.expect("the task ends");
        assert!(matches!(outcome, Outcome::Delivered { .. }), "{outcome:?}");
    }
}

/// A new audit database on `server`, and a runtime for the test.
fn database_and_runtime(server: &PgServer) -> (String, tokio::runtime::Runtime) {
    let url = server.create_database("fleet");
    PgStore::connect(&url).expect("the audit database");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    (url, runtime)
}

#[test]
fn a_fleet_makes_one_token_per_period_and_replaces_a_refused_one_once() {
    let server = PgServer::start();
    let (url, runtime) = database_and_runtime(&server);
    runtime.block_on(a_fleet_makes_one_token_per_period(url));
}

async fn a_fleet_makes_one_token_per_period(url: String) {
    let fleet = Fleet::start(url).await;
    let mut senders = Vec::new();
    for _ in 0..3 {
        senders.push(fleet.sender().await);
    }

    send_from_all(&senders, 6).await;
    assert_eq!(fleet.gateway.stats().token_issue_times, BTreeSet::from([START]));

    // Within the period every process keeps the fleet's token.
    fleet.clock.advance(50 * 60 - 1);
    send_from_all(&senders, 2).await;
    assert_eq!(fleet.gateway.stats().token_issue_times, BTreeSet::from([START]));

    // Past it, one new token for the whole fleet.
    fleet.clock.advance(1);
    send_from_all(&senders, 2).await;
    let renewed = START + 50 * 60;
    assert_eq!(fleet.gateway.stats().token_issue_times, BTreeSet::from([START, renewed]));

    // APNs holds the fleet's token expired 25 minutes on: the first sender
    // to hear it makes one new token, the others take that one.
    fleet.clock.advance(25 * 60);
    fleet.gateway.expire_tokens_issued_before(renewed + 1);
    for (i, client) in senders.iter().enumerate() {
        let outcome = client.deliver(&push(9000 + i as u32)).await;
        assert!(matches!(outcome, Outcome::Delivered { .. }), "{outcome:?}");
    }
    let stats = fleet.gateway.stats();
    assert_eq!(stats.token_issue_times, BTreeSet::from([START, renewed, renewed + 25 * 60]));
    assert_eq!(stats.expired_token_answers, 3);
    for client in &senders {
        client.shutdown().await;
    }
    fleet.gateway.stop().await;
}

#[test]
fn without_the_database_a_push_fails_rather_than_use_a_token_of_its_own() {
    let mut server = PgServer::start();
    let (url, runtime) = database_and_runtime(&server);
    let (fleet, client) = runtime.block_on(async {
        let fleet = Fleet::start(url).await;
        let client = fleet.sender().await;
        (fleet, client)
    });
    server.stop();
    runtime.block_on(async {
        let outcome = client.deliver(&push(1)).await;
        let Outcome::Failed { reason, attempts: 2 } = &outcome else { panic!("{outcome:?}") };
        assert!(reason.contains("fleet's provider token"), "{reason}");
        assert_eq!(fleet.gateway.stats().requests, 0);
    });
    // Back up: the same client sends with the fleet's token.
    server.restart();
    runtime.block_on(async {
        let outcome = client.deliver(&push(2)).await;
        assert!(matches!(outcome, Outcome::Delivered { .. }), "{outcome:?}");
        assert_eq!(fleet.gateway.stats().token_issue_times, BTreeSet::from([START]));
        client.shutdown().await;
        fleet.gateway.stop().await;
    });
}
