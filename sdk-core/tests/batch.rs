//! `Sender::seal_batch` over several threads: every device gets its own
//! envelope, results keep the order of the devices, and one bad device key
//! fails alone. A streamed batch yields exactly one result per device, each
//! with its own options, and hands results out before it has read all its
//! devices (its memory does not grow with the batch).

use std::sync::atomic::{AtomicUsize, Ordering};

use pushseal::{
    ApnsOptions, BATCH_WINDOW, BatchDevice, DeviceKeyring, DevicePublicKey, ErrorKind, FcmOptions, MemoryReplayStore,
    Message, Payload, Sealed, Sender, SenderSecretKey, Target,
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

#[test]
fn a_streamed_batch_yields_one_result_per_device_with_its_own_options() {
    let sender = Sender::new(SenderSecretKey::generate().unwrap());
    let keys: Vec<DevicePublicKey> = (0..7).map(|_| DeviceKeyring::generate().unwrap().public_key()).collect();
    let n = 3 * BATCH_WINDOW;
    let pulled = AtomicUsize::new(0);
    // Devices made as the batch reads them, each with its own token and collapse id.
    let devices = (0..n).map(|i| {
        pulled.fetch_add(1, Ordering::SeqCst);
        BatchDevice::new(keys[i % keys.len()]).with_token(format!("token-{i}")).with_collapse_id(format!("c{i}"))
    });
    let target = Target::Fcm(FcmOptions { token: None, collapse_key: Some("batch".into()), ..FcmOptions::default() });
    let (mut next, mut pulled_at_first) = (0, None);
    sender
        .seal_batch_chunked(devices, &Message::new("t", "b"), &target, |chunk| {
            pulled_at_first.get_or_insert(pulled.load(Ordering::SeqCst));
            for r in chunk.drain(..) {
                assert_eq!(r.index, next, "one result per device, in order");
                next += 1;
                let Sealed::Fcm(message) = r.sealed.unwrap().payload else { panic!("not FCM") };
                let json: serde_json::Value = serde_json::from_str(&message.json).unwrap();
                assert_eq!(json["token"], format!("token-{}", r.index));
                assert_eq!(json["android"]["collapse_key"], format!("c{}", r.index));
                assert_eq!(r.token, Some(format!("token-{}", r.index)));
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(next, n);
    let first = pulled_at_first.unwrap();
    assert!(first <= 2 * BATCH_WINDOW, "the first results came out after reading {first} of {n} devices");

    // An APNs batch takes each device's collapse id; a failing consumer stops the batch.
    let devices = keys.iter().map(|k| BatchDevice::new(*k).with_collapse_id("mine"));
    let mut seen = 0;
    let stopped =
        sender.seal_batch_chunked(devices, &Message::new("t", "b"), &Target::Apns(ApnsOptions::default()), |c| {
            for r in c.drain(..) {
                let Sealed::Apns(request) = r.sealed.unwrap().payload else { panic!("not APNs") };
                assert_eq!(request.header("apns-collapse-id"), Some("mine"));
                seen += 1;
            }
            Err(pushseal::Error::Storage("stop".into()))
        });
    assert_eq!(stopped.unwrap_err().kind(), ErrorKind::Storage);
    assert!(seen >= 1 && seen <= keys.len());
}
