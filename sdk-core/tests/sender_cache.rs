//! The sender's static-DH cache: a cached seal is byte-for-byte the seal
//! without a cache, every cached seal opens, and the cache stays bounded.

use pushseal::hpke::Ephemeral;
use pushseal::{
    BareEnvelope, DeviceKeyring, DevicePublicKey, ErrorKind, MemoryReplayStore, Message, MessageId, Payload, Sender,
    SenderSecretKey,
};

const SENDER: [u8; 32] = [0x5e; 32];

fn device(trusting: &Sender) -> DeviceKeyring {
    let mut d = DeviceKeyring::generate().unwrap();
    d.trust_sender(trusting.public_key()).unwrap();
    d
}

#[test]
fn a_cached_seal_is_the_uncached_seal() {
    let plain = Sender::new(SenderSecretKey::from_bytes(SENDER));
    let cached = Sender::with_cache(SenderSecretKey::from_bytes(SENDER), 8);
    let to = device(&plain).public_key();
    let msg = Message::new("Refill due", "Tap to review.");
    // The first seal fills the cache, the next ones use it.
    for round in 0..3u8 {
        let eph = Ephemeral::derive(&[round; 32]).unwrap();
        let id = MessageId::from_bytes([round; 16]);
        let a = plain.seal_with(&to, &msg, &BareEnvelope, id, 1_767_225_600, &eph).unwrap();
        let b = cached.seal_with(&to, &msg, &BareEnvelope, id, 1_767_225_600, &eph).unwrap();
        assert_eq!(a, b, "round {round}");
        assert_eq!(cached.cached_devices(), 1);
    }
}

#[test]
fn cached_seals_open_on_every_device() {
    let sender = Sender::with_cache(SenderSecretKey::generate().unwrap(), 4);
    let devices: Vec<_> = (0..6).map(|_| device(&sender)).collect();
    let store = MemoryReplayStore::new();
    let now = pushseal::unix_now();
    for round in 0..3 {
        for (i, d) in devices.iter().enumerate() {
            let msg = Message::new("Lab results", format!("round {round} device {i}"));
            let text = sender.seal(&d.public_key(), &msg, &BareEnvelope).unwrap().payload;
            let n = d.open(Payload::Envelope(&text), &store, now).unwrap();
            assert_eq!(n.message.body, msg.body);
            assert!(sender.cached_devices() <= 4);
        }
    }
    assert_eq!(sender.cached_devices(), 4);
}

#[test]
fn the_cache_is_bounded_and_capacity_zero_caches_nothing() {
    let msg = Message::new("t", "b");
    for capacity in [0, 1, 2, 5] {
        let sender = Sender::with_cache(SenderSecretKey::generate().unwrap(), capacity);
        let to: Vec<DevicePublicKey> = (0..12).map(|_| device(&sender).public_key()).collect();
        // Sealing to the first device between every other keeps it "used".
        for pk in &to {
            sender.seal(pk, &msg, &BareEnvelope).unwrap();
            sender.seal(&to[0], &msg, &BareEnvelope).unwrap();
            assert!(sender.cached_devices() <= capacity, "capacity {capacity}");
        }
        assert_eq!(sender.cached_devices(), capacity, "capacity {capacity}");
        if capacity > 0 {
            assert!(format!("{sender:?}").contains(&format!("devices: {capacity}")));
        }
    }
}

#[test]
fn a_batch_through_the_cache_opens() {
    let sender = Sender::with_cache(SenderSecretKey::generate().unwrap(), 64);
    let devices: Vec<_> = (0..40).map(|_| device(&sender)).collect();
    let keys: Vec<_> = devices.iter().map(DeviceKeyring::public_key).collect();
    let msg = Message::new("Clinic closed", "The clinic is closed today.");
    for _ in 0..2 {
        // One message id for the whole batch: each device has a replay store of its own.
        let sealed = sender.seal_batch(&keys, &msg, &BareEnvelope).unwrap();
        for (d, s) in devices.iter().zip(sealed) {
            let text = s.unwrap().payload;
            let n = d.open(Payload::Envelope(&text), &MemoryReplayStore::new(), pushseal::unix_now()).unwrap();
            assert_eq!(n.message.body, msg.body);
        }
    }
    assert_eq!(sender.cached_devices(), 40);
}

#[test]
fn a_low_order_device_key_is_refused_and_not_cached() {
    let sender = Sender::with_cache(SenderSecretKey::generate().unwrap(), 4);
    let bad = DevicePublicKey::from_bytes([0; 32]);
    let err = sender.seal(&bad, &Message::new("t", "b"), &BareEnvelope).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ZeroSharedSecret);
    assert_eq!(sender.cached_devices(), 0);
}
