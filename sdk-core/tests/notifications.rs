//! Notifications end to end through the public API: APNs and FCM round trips
//! (each sealed result carrying the message id and the digest of the receipt
//! the device computes), every error kind a device can meet, the exact size
//! limit, replay across restarts and processes, and key rotation.

mod targets;

use pushseal::padding::{BUCKETS, MAX_PLAINTEXT_LEN};
use pushseal::{
    ApnsOptions, ApnsPushType, BareEnvelope, CLOCK_SKEW_SECS, DeviceKeyring, Error, ErrorKind, FcmOptions,
    FileReplayStore, MemoryReplayStore, Message, MessageId, Payload, Sealed, Sender, SenderSecretKey, Target,
    verify_receipt,
};
use targets::{AnyTarget, Delivered, fcm_data};

const NOW: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn pair() -> (Sender, DeviceKeyring) {
    let sender = Sender::new(SenderSecretKey::generate().unwrap());
    let mut device = DeviceKeyring::generate().unwrap();
    device.trust_sender(sender.public_key()).unwrap();
    (sender, device)
}

/// The payload of `msg` sealed for `target` at `now`.
fn seal_at<T: Target>(sender: &Sender, device: &DeviceKeyring, msg: &Message, target: &T, now: u64) -> T::Payload {
    let eph = pushseal::hpke::Ephemeral::generate().unwrap();
    sender.seal_with(&device.public_key(), msg, target, MessageId::random().unwrap(), now, &eph).unwrap().payload
}

fn lab_message() -> Message {
    Message::new("Lab results", "Your results from Tuesday are ready.")
        .with_data("ref", "lab-7731")
        .with_thread_id("labs")
        .with_category("results")
        .with_badge(1)
        .with_sound("default")
        .with_ttl(3600)
}

#[test]
fn apns_round_trip_and_payload_shape() {
    let (sender, device) = pair();
    let opts = ApnsOptions { collapse_id: Some("labs".into()), ..ApnsOptions::default() };
    let req = seal_at(&sender, &device, &lab_message(), &opts, NOW);
    let body: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(body["aps"]["mutable-content"], 1);
    assert_eq!(body["aps"]["alert"]["title"], "New message");
    assert!(!req.body.contains("Lab results") && !req.body.contains("lab-7731"));
    assert_eq!(req.header("apns-push-type"), Some("alert"));
    assert_eq!(req.header("apns-priority"), Some("10"));
    assert_eq!(req.header("apns-expiration"), Some((NOW + 3600).to_string().as_str()));
    assert_eq!(req.header("apns-collapse-id"), Some("labs"));

    let n = device.open(Payload::ApnsJson(&req.body), &MemoryReplayStore::new(), NOW + 5).unwrap();
    assert_eq!(n.message, lab_message());
    assert_eq!((n.sent_at, n.expires_at), (NOW, NOW + 3600));
}

#[test]
fn apns_background_variant() {
    let (sender, device) = pair();
    let req = seal_at(&sender, &device, &lab_message(), &ApnsOptions::background(), NOW);
    let body: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(body["aps"], serde_json::json!({"content-available": 1}));
    assert_eq!(req.header("apns-push-type"), Some("background"));
    assert_eq!(req.header("apns-priority"), Some("5"));
    assert_eq!(ApnsOptions::background().push_type, ApnsPushType::Background);
    assert!(device.open(Payload::ApnsJson(&req.body), &MemoryReplayStore::new(), NOW).is_ok());
}

#[test]
fn fcm_round_trip_and_payload_shape() {
    let (sender, device) = pair();
    let msg = seal_at(&sender, &device, &lab_message(), &FcmOptions::with_token("device-token-1"), NOW);
    let v: serde_json::Value = serde_json::from_str(&msg.json).unwrap();
    assert_eq!(v["android"]["priority"], "high");
    assert_eq!(v["android"]["ttl"], "3600s");
    assert_eq!(v["token"], "device-token-1");
    assert!(v.get("notification").is_none(), "data-only");
    assert!(msg.request_body().starts_with("{\"message\":{"));
    let n = device.open(Payload::FcmData(&fcm_data(&msg.json)), &MemoryReplayStore::new(), NOW).unwrap();
    assert_eq!(n.message.title, "Lab results");
}

#[test]
fn apns_and_fcm_results_carry_the_message_id_and_the_digest_of_the_devices_receipt() {
    let (sender, device) = pair();
    let msg = lab_message();
    let apns = sender.seal_for_apns(&device.public_key(), &msg, &ApnsOptions::default()).unwrap();
    let fcm = sender.seal_for_fcm(&device.public_key(), &msg, &FcmOptions::with_token("device-token-1")).unwrap();
    assert_eq!((apns.sender, fcm.sender), (sender.key_id(), sender.key_id()));
    assert_ne!(apns.message_id, fcm.message_id);
    let apns_receipt = receipt_checked_against(&apns, &device);
    let fcm_receipt = receipt_checked_against(&fcm, &device);
    // Each digest checks its own notification's receipt only.
    assert!(!verify_receipt(&apns.receipt_digest, &fcm_receipt));
    assert!(!verify_receipt(&fcm.receipt_digest, &apns_receipt));
}

/// Opens `sealed` on `device` and checks the result against what the device
/// saw: its message id and times, and the receipt, which verifies against
/// the result's digest. Returns the receipt.
fn receipt_checked_against<P: Delivered>(sealed: &Sealed<P>, device: &DeviceKeyring) -> pushseal::Receipt {
    let store = MemoryReplayStore::new();
    let (n, receipt) = sealed.payload.open_with_receipt(device, &store, pushseal::unix_now()).unwrap();
    assert_eq!(n.id, sealed.message_id);
    assert_eq!((n.sent_at, n.expires_at), (sealed.sent_at, sealed.expires_at));
    assert_eq!(sealed.recipient, device.key_id());
    assert_eq!(receipt.digest(), sealed.receipt_digest);
    assert!(verify_receipt(&sealed.receipt_digest, &receipt));
    receipt
}

#[test]
fn every_device_error_kind() {
    let (sender, device) = pair();
    let msg = lab_message();
    let env = |now| seal_at(&sender, &device, &msg, &BareEnvelope, now);
    let open = |d: &DeviceKeyring, text: &str, now| {
        d.open(Payload::Envelope(text), &MemoryReplayStore::new(), now).unwrap_err().kind()
    };

    assert_eq!(
        device.open(Payload::ApnsJson("{\"aps\":{}}"), &MemoryReplayStore::new(), NOW).unwrap_err().kind(),
        ErrorKind::NotPushSeal
    );
    let other_device = DeviceKeyring::generate().unwrap();
    assert_eq!(open(&other_device, &env(NOW), NOW), ErrorKind::UnknownRecipientKey);
    let mut no_trust = DeviceKeyring::from_bytes(&device.to_bytes().unwrap()).unwrap();
    no_trust.remove_sender(sender.key_id());
    assert_eq!(open(&no_trust, &env(NOW), NOW), ErrorKind::UntrustedSender);

    // A forger who knows the device's public key and claims the real sender's key id.
    let forger = Sender::new(SenderSecretKey::generate().unwrap());
    let forged = forger.seal_envelope(&device.public_key(), &msg).unwrap();
    let mut bytes = forged.envelope.clone();
    bytes[9..17].copy_from_slice(&sender.key_id().to_bytes());
    assert_eq!(open(&device, &b64(&bytes), NOW), ErrorKind::Tampered);

    let text = env(NOW);
    assert_eq!(open(&device, &text, NOW + 3600 + CLOCK_SKEW_SECS + 1), ErrorKind::Expired);
    assert!(device.open(Payload::Envelope(&text), &MemoryReplayStore::new(), NOW + 3600 + CLOCK_SKEW_SECS).is_ok());
    assert_eq!(open(&device, &text, NOW - CLOCK_SKEW_SECS - 1), ErrorKind::NotYetValid);

    let replay = MemoryReplayStore::new();
    device.open(Payload::Envelope(&text), &replay, NOW).unwrap();
    assert_eq!(device.open(Payload::Envelope(&text), &replay, NOW).unwrap_err(), Error::Replayed);

    let mut padded_text = text.clone();
    padded_text.push('=');
    assert_eq!(open(&device, &padded_text, NOW), ErrorKind::InvalidEncoding);
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A message whose encoded JSON is exactly `len` bytes.
fn message_of_encoded_len(len: usize) -> Message {
    let base = Message::new("", "").with_ttl(3600);
    let stamped = pushseal::Notification {
        id: MessageId::from_bytes([0; 16]),
        sent_at: NOW,
        expires_at: NOW + 3600,
        message: base.clone(),
    };
    let overhead = serde_json::to_vec(&stamped).unwrap().len();
    Message { body: "x".repeat(len - overhead), ..base }
}

#[test]
fn the_size_limit_is_exact_for_every_target() {
    let (sender, device) = pair();
    let long_fallback = ApnsOptions { fallback_title: "N".repeat(1500), ..ApnsOptions::default() };
    for target in [
        AnyTarget::Envelope,
        AnyTarget::Apns(ApnsOptions::default()),
        AnyTarget::Apns(long_fallback),
        AnyTarget::Fcm(FcmOptions::with_token("t".repeat(200))),
    ] {
        let max = target.max_plaintext_len().unwrap();
        assert!(BUCKETS.iter().any(|&b| b - 1 == max), "{max}");
        let fits = message_of_encoded_len(max);
        let Ok(sealed) = target.seal(&sender, &device.public_key(), &fits) else { panic!("{max} should fit") };
        let size = sealed.payload.gateway_len();
        assert!(matches!(target, AnyTarget::Envelope) || size <= 4096, "{size}");
        let err = target.seal(&sender, &device.public_key(), &message_of_encoded_len(max + 1)).unwrap_err();
        assert_eq!(err, Error::PayloadTooLarge { size: max + 1, max_plaintext: max });
    }
    assert_eq!(ApnsOptions::default().max_plaintext_len().unwrap(), MAX_PLAINTEXT_LEN);
    assert_eq!(
        ApnsOptions { fallback_title: "N".repeat(1500), ..Default::default() }.max_plaintext_len().unwrap(),
        1023
    );
}

#[test]
fn padding_hides_length_within_a_bucket() {
    let (sender, device) = pair();
    let sizes: Vec<usize> = ["positive", "negative", "inconclusive, please call us"]
        .iter()
        .map(|r| sender.seal_envelope(&device.public_key(), &Message::new("Result", *r)).unwrap())
        .map(|s| s.envelope.len())
        .collect();
    assert!(sizes.iter().all(|&s| s == sizes[0]), "{sizes:?}");
    assert_eq!(sizes[0], 49 + 256 + 16);
}

#[test]
fn replay_is_rejected_across_a_restart_and_across_handles() {
    let (sender, device) = pair();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replay.db");
    let text = seal_at(&sender, &device, &lab_message(), &BareEnvelope, NOW);
    {
        let store = FileReplayStore::open(&path).unwrap();
        device.open(Payload::Envelope(&text), &store, NOW).unwrap();
    }
    // A new process: a new handle on the same file.
    let restarted = FileReplayStore::open(&path).unwrap();
    assert_eq!(device.open(Payload::Envelope(&text), &restarted, NOW).unwrap_err(), Error::Replayed);

    // Two handles (an app and its extension) racing on the same notification: exactly one wins.
    let second = seal_at(&sender, &device, &lab_message(), &BareEnvelope, NOW);
    let results: Vec<bool> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (path, second, device) = (&path, &second, &device);
                scope.spawn(move || {
                    let store = FileReplayStore::open(path).unwrap();
                    device.open(Payload::Envelope(second), &store, NOW).is_ok()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|&&ok| ok).count(), 1, "{results:?}");
}

#[test]
fn rotation_keeps_the_old_key_until_its_deadline() {
    let (sender, mut device) = pair();
    let old_pk = device.public_key();
    let to_old = seal_at(&sender, &device, &lab_message(), &BareEnvelope, NOW);
    device.rotate(NOW, 7 * 86400).unwrap();
    assert_ne!(device.public_key(), old_pk);
    assert_eq!(device.retired_keys(), vec![(old_pk.key_id(), NOW + 7 * 86400)]);

    // Survives serialization (the app stores the keyring in the Keychain).
    let device = DeviceKeyring::from_bytes(&device.to_bytes().unwrap()).unwrap();
    let open = |text: &str, now| device.open(Payload::Envelope(text), &MemoryReplayStore::new(), now);
    assert!(open(&to_old, NOW + 60).is_ok(), "old key still opens before its deadline");
    let to_new = seal_at(&sender, &device, &lab_message(), &BareEnvelope, NOW);
    assert!(open(&to_new, NOW + 60).is_ok());

    // After the deadline the old key is gone, even for a message that has not expired.
    let eph = pushseal::hpke::Ephemeral::generate().unwrap();
    let long = lab_message().with_ttl(28 * 86400);
    let late =
        sender.seal_with(&old_pk, &long, &BareEnvelope, MessageId::random().unwrap(), NOW, &eph).unwrap().payload;
    let deadline = NOW + 7 * 86400;
    assert!(open(&late, deadline).is_ok());
    assert_eq!(open(&late, deadline + 1).unwrap_err().kind(), ErrorKind::UnknownRecipientKey);

    // Senders rotate too: trusting a second key keeps both working.
    let mut device = device;
    let sender2 = Sender::new(SenderSecretKey::generate().unwrap());
    device.trust_sender(sender2.public_key()).unwrap();
    let from2 = seal_at(&sender2, &device, &lab_message(), &BareEnvelope, NOW);
    assert!(device.open(Payload::Envelope(&from2), &MemoryReplayStore::new(), NOW).is_ok());
    assert!(device.remove_sender(sender.key_id()));
    assert_eq!(open_with(&device, &to_new).unwrap_err().kind(), ErrorKind::UntrustedSender);
}

fn open_with(device: &DeviceKeyring, text: &str) -> pushseal::Result<pushseal::Notification> {
    device.open(Payload::Envelope(text), &MemoryReplayStore::new(), NOW)
}

#[test]
fn batch_seals_each_device_its_own_envelope() {
    let sender = Sender::new(SenderSecretKey::generate().unwrap());
    let devices: Vec<DeviceKeyring> = (0..9)
        .map(|_| {
            let mut d = DeviceKeyring::generate().unwrap();
            d.trust_sender(sender.public_key()).unwrap();
            d
        })
        .collect();
    let keys: Vec<_> = devices.iter().map(|d| d.public_key()).collect();
    let sealed = sender.seal_batch(&keys, &lab_message(), &FcmOptions::default()).unwrap();
    assert_eq!(sealed.len(), devices.len());
    for (device, s) in devices.iter().zip(&sealed) {
        let s = s.as_ref().unwrap();
        assert_eq!(s.recipient, device.key_id());
        let data = fcm_data(&s.payload.json);
        let n = device.open(Payload::FcmData(&data), &MemoryReplayStore::new(), pushseal::unix_now()).unwrap();
        assert_eq!(n.id, sealed[0].as_ref().unwrap().message_id);
    }
    let envelopes: std::collections::HashSet<_> = sealed.iter().map(|s| s.as_ref().unwrap().envelope.clone()).collect();
    assert_eq!(envelopes.len(), devices.len());
}
