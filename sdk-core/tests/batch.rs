//! `Sender::seal_batch` over several threads: every device gets its own
//! envelope, results keep the order of the devices, and one bad device key
//! fails alone.

use pushseal::{
    DeviceKeyring, DevicePublicKey, ErrorKind, MemoryReplayStore, Message, Payload, Sealed, Sender, SenderSecretKey,
    Target,
};

#[test]
fn a_large_batch_keeps_the_order_of_its_devices() {
    let sender = Sender::new(SenderSecretKey::generate().unwrap());
    // Enough devices for several slices of work on every core.
    let devices: Vec<DeviceKeyring> = (0..300)
        .map(|_| {
            let mut d = DeviceKeyring::generate().unwrap();
            d.trust_sender(sender.public_key()).unwrap();
            d
        })
        .collect();
    let mut keys: Vec<DevicePublicKey> = devices.iter().map(DeviceKeyring::public_key).collect();
    let bad = 137;
    keys[bad] = DevicePublicKey::from_bytes([0; 32]);
    let msg = Message::new("Clinic closed", "The clinic is closed today.");
    let sealed = sender.seal_batch(&keys, &msg, &Target::Envelope).unwrap();
    assert_eq!(sealed.len(), keys.len());
    let mut ids = std::collections::HashSet::new();
    for (i, (device, result)) in devices.iter().zip(&sealed).enumerate() {
        if i == bad {
            assert_eq!(result.as_ref().unwrap_err().kind(), ErrorKind::ZeroSharedSecret);
            continue;
        }
        let s = result.as_ref().unwrap();
        assert_eq!(s.recipient, device.key_id(), "device {i}");
        ids.insert(s.message_id);
        let Sealed::Envelope(text) = &s.payload else { panic!("an envelope") };
        let n = device.open(Payload::Envelope(text), &MemoryReplayStore::new(), pushseal::unix_now()).unwrap();
        assert_eq!(n.message.body, msg.body);
    }
    assert_eq!(ids.len(), 1, "one message id for the whole batch");
}
