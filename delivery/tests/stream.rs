//! A batch sealed and delivered as one stream against the local APNs
//! gateway: one report per device, a bounded number in flight, sealing
//! failures reported without a send, and a configuration error that stops
//! the run.

use std::collections::BTreeSet;
use std::sync::Arc;

use p256::pkcs8::EncodePrivateKey;
use pushseal::{ApnsOptions, BatchDevice, DeviceKeyring, Message, Sender, SenderSecretKey};
use pushseal_delivery::apns::ApnsClient;
use pushseal_delivery::gateway::apns::{ApnsGateway, ApnsGatewayOptions};
use pushseal_delivery::{ApnsKey, ConfigError, NOT_SENT, Outcome, OutcomeKind, Report, Trust, seal_and_deliver};

const TOPIC: &str = "com.example.clinic";

fn key(seed: u8) -> ApnsKey {
    let pem = p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap().to_pkcs8_pem(Default::default()).unwrap();
    ApnsKey::from_p8_pem(&pem, "ABC123DEFG", "TEAM123456").unwrap()
}

fn devices(n: usize) -> Vec<BatchDevice> {
    let key = DeviceKeyring::generate().unwrap().public_key();
    (0..n)
        .map(|i| match i {
            7 => BatchDevice::parse("not a public key").with_token(format!("{i:064x}")),
            11 => BatchDevice::new(key).with_token("unregistered"),
            _ => BatchDevice::new(key).with_token(format!("{i:064x}")),
        })
        .collect()
}

fn client(gateway: &ApnsGateway, key_seed: u8) -> ApnsClient {
    ApnsClient::builder(key(key_seed))
        .topic(TOPIC)
        .endpoint(gateway.endpoint())
        .trust(Trust::CaFile(gateway.ca_file().to_owned()))
        .build()
        .unwrap()
}

async fn run(
    gateway: &ApnsGateway,
    key_seed: u8,
    n: usize,
    max_in_flight: usize,
) -> (Result<(), ConfigError>, Vec<Report>) {
    let client = client(gateway, key_seed);
    let sender = Arc::new(Sender::new(SenderSecretKey::generate().unwrap()));
    let msg = Message::new("Appointment", "Tomorrow 10:00");
    let mut reports = Vec::new();
    let result =
        seal_and_deliver(&client, sender, msg, ApnsOptions::default(), devices(n), max_in_flight, |r| reports.push(r))
            .await;
    if let Ok(summary) = &result {
        assert_eq!(summary.count(OutcomeKind::Delivered), n as u64 - 2);
        assert_eq!(summary.count(OutcomeKind::TokenGone), 1);
        assert_eq!(summary.not_sealed, 1);
    }
    (result.map(|_| ()), reports)
}

async fn start(dir: &std::path::Path) -> ApnsGateway {
    let options = ApnsGatewayOptions::new("TEAM123456", "ABC123DEFG", key(7).verifying_key(), TOPIC);
    ApnsGateway::start(options, &dir.join("ca.pem")).await.unwrap()
}

#[tokio::test]
async fn every_device_gets_one_report_with_at_most_the_bound_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path()).await;
    let (result, reports) = run(&gateway, 7, 300, 16).await;
    assert_eq!(result, Ok(()));
    assert_eq!(reports.len(), 300);
    let indices: BTreeSet<_> = reports.iter().map(|r| r.index).collect();
    assert_eq!(indices, (0..300).collect());
    for r in &reports {
        match r.index {
            7 => assert!(r.result.is_err() && r.message_id.is_none(), "{r:?}"),
            11 => assert!(matches!(r.result, Ok(Outcome::TokenGone { .. })), "{r:?}"),
            _ => assert!(matches!(r.result, Ok(Outcome::Delivered { .. })), "{r:?}"),
        }
    }
    let stats = gateway.stats();
    assert_eq!(stats.delivered.len(), 298);
    assert!(stats.peak_concurrent <= 16, "{}", stats.peak_concurrent);
    gateway.stop().await;
}

#[tokio::test]
async fn a_configuration_error_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path()).await;
    let (result, reports) = run(&gateway, 8, 300, 4).await;
    let Err(ConfigError::ApnsKeyRefused { reason, .. }) = result else { panic!("{result:?}") };
    assert_eq!(reason, "InvalidProviderToken");
    // Only what was in flight when it stopped was sent; what was sealed
    // after it ends failed, not sent.
    let misconfigured = reports.iter().filter(|r| matches!(r.result, Ok(Outcome::Misconfigured(_)))).count();
    assert!((1..=8).contains(&misconfigured), "{misconfigured}");
    for r in reports.iter().filter(|r| !matches!(r.result, Ok(Outcome::Misconfigured(_)))) {
        match &r.result {
            Ok(Outcome::Failed { reason, attempts: 0 }) if reason == NOT_SENT => assert!(r.message_id.is_some()),
            Err(_) => assert_eq!(r.index, 7),
            other => panic!("{other:?}"),
        }
    }
    let indices: BTreeSet<_> = reports.iter().map(|r| r.index).collect();
    assert_eq!(indices.len(), reports.len(), "a device reported twice");
    assert!(gateway.stats().requests <= 8);
    assert!(gateway.stats().delivered.is_empty());
    gateway.stop().await;
}

#[tokio::test]
async fn a_stopped_audited_run_gives_every_sealed_message_one_outcome_record() {
    use pushseal_audit::{AuditEvent, AuditLog, AuditRecord, verify_log};
    use pushseal_delivery::seal_and_deliver_audited;

    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path()).await;
    // Key 8 is not the gateway's: the first answer stops the run.
    let client = client(&gateway, 8);
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    let sender = Arc::new(Sender::new(SenderSecretKey::generate().unwrap()));
    let msg = Message::new("Appointment", "Tomorrow 10:00");
    let mut reports = Vec::new();
    let result = seal_and_deliver_audited(&client, &log, sender, msg, ApnsOptions::default(), devices(300), 4, |r| {
        reports.push(r)
    })
    .await;
    assert!(matches!(result, Err(ConfigError::ApnsKeyRefused { .. })), "{result:?}");

    let text = std::fs::read_to_string(&path).unwrap();
    let records: Vec<AuditRecord> = text.lines().map(|l| AuditRecord::parse_line(l.as_bytes()).unwrap()).collect();
    let sealed = records.iter().filter(|r| matches!(r.event, AuditEvent::Sealed(_))).count();
    let not_sent = records
        .iter()
        .filter(|r| matches!(&r.event, AuditEvent::Failed(o) if o.reason.as_deref() == Some(NOT_SENT)))
        .count();
    // One outcome record per sealed record (the verifier refuses a second
    // one or one without its sealed record), and one report for each.
    assert_eq!(records.len(), 2 * sealed, "{text}");
    assert!(verify_log(&path, None).unwrap().is_intact());
    assert_eq!(reports.iter().filter(|r| r.message_id.is_some()).count(), sealed);
    let reported_not_sent = reports
        .iter()
        .filter(|r| matches!(&r.result, Ok(Outcome::Failed { reason, .. }) if reason == NOT_SENT))
        .count();
    assert_eq!(reported_not_sent, not_sent);
    assert!(gateway.stats().delivered.is_empty());
    gateway.stop().await;
}

#[tokio::test]
async fn an_audited_send_records_each_outcome_after_its_durable_sealed_record() {
    use pushseal_audit::{AuditEvent, AuditLog, AuditRecord, TokenKey, verify_log};
    use pushseal_delivery::seal_and_deliver_audited;

    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path()).await;
    let client = client(&gateway, 7);
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap().with_token_key(TokenKey::from_bytes(&[5; 32]).unwrap());
    let sender = Arc::new(Sender::new(SenderSecretKey::generate().unwrap()));
    let msg = Message::new("Appointment", "Tomorrow 10:00");
    let key = DeviceKeyring::generate().unwrap().public_key();
    let tokens = ["a".repeat(64), "unregistered".into(), "reason-BadCollapseId".into(), "b".repeat(64)];
    let devices: Vec<_> = tokens.iter().map(|t| BatchDevice::new(key).with_token(t.clone())).collect();
    let mut reports = Vec::new();
    let summary =
        seal_and_deliver_audited(&client, &log, sender, msg, ApnsOptions::default(), devices, 2, |r| reports.push(r))
            .await
            .unwrap();
    assert_eq!(reports.len(), 4);
    assert_eq!(
        (
            summary.count(OutcomeKind::Delivered),
            summary.count(OutcomeKind::TokenGone),
            summary.count(OutcomeKind::Rejected)
        ),
        (2, 1, 1)
    );

    let text = std::fs::read_to_string(&path).unwrap();
    for token in &tokens {
        assert!(!text.contains(token.as_str()), "a device token is in clear in the log");
    }
    assert!(!text.contains("Tomorrow") && !text.contains("Appointment"));
    let records: Vec<AuditRecord> = text.lines().map(|l| AuditRecord::parse_line(l.as_bytes()).unwrap()).collect();
    let mut sealed = Vec::new();
    let mut events = Vec::new();
    for record in &records {
        match &record.event {
            AuditEvent::Sealed(s) => sealed.push((s.message_id, s.recipient, s.token_hmac)),
            AuditEvent::Sent(o) | AuditEvent::TokenGone(o) | AuditEvent::Rejected(o) | AuditEvent::Failed(o) => {
                // Its sealed record came first, with the same message, device key and token hash.
                assert!(sealed.contains(&(o.message_id, o.recipient, o.token_hmac)), "{record:?}");
                assert!(o.token_hmac.is_some());
                let name = match &record.event {
                    AuditEvent::Sent(_) => "sent",
                    AuditEvent::TokenGone(_) => "token_gone",
                    AuditEvent::Rejected(_) => "rejected",
                    _ => "failed",
                };
                events.push((name, o.reason.clone(), o.gateway_id.is_some(), o.since.is_some()));
            }
            other => panic!("unexpected record {other:?}"),
        }
    }
    assert_eq!(sealed.len(), 4);
    events.sort();
    assert_eq!(
        events,
        [
            ("rejected", Some("BadCollapseId".into()), false, false),
            ("sent", None, true, false),
            ("sent", None, true, false),
            ("token_gone", Some("Unregistered".into()), false, true),
        ]
    );
    let report = verify_log(&path, None).unwrap();
    assert!(report.is_intact());
    assert_eq!((report.records, report.sealed), (8, 4));
    gateway.stop().await;
}
