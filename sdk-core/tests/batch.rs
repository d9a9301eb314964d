//! `Sender::seal_batch` over several threads: every device gets its own
//! envelope, results keep the order of the devices, and one bad device key
//! (or key text) fails alone, in its place. A streamed batch yields exactly
//! one result per device, each with its own options (its own FCM token, its
//! own collapse id, on its message only), and hands results out before it has
//! read all its devices (its memory does not grow with the batch). A token in
//! the batch's FCM options would send every device's message to one device:
//! it fails every device.

use std::sync::atomic::{AtomicUsize, Ordering};

use pushseal::{
    ApnsOptions, BATCH_WINDOW, BareEnvelope, BatchDevice, DeviceKeyring, DevicePublicKey, ErrorKind, FcmOptions,
    MemoryReplayStore, Message, Payload, Sender, SenderSecretKey,
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
    let sealed = sender.seal_batch(&keys, &msg, &BareEnvelope).unwrap();
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
        let n = device.open(Payload::Envelope(&s.payload), &MemoryReplayStore::new(), pushseal::unix_now()).unwrap();
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
    let target = FcmOptions { token: None, collapse_key: Some("batch".into()), ..FcmOptions::default() };
    let (mut next, mut pulled_at_first) = (0, None);
    sender
        .seal_batch_chunked(devices, &Message::new("t", "b"), &target, |chunk| {
            pulled_at_first.get_or_insert(pulled.load(Ordering::SeqCst));
            for r in chunk.drain(..) {
                assert_eq!(r.index, next, "one result per device, in order");
                next += 1;
                let message = r.sealed.unwrap().payload;
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
    let stopped = sender.seal_batch_chunked(devices, &Message::new("t", "b"), &ApnsOptions::default(), |c| {
        for r in c.drain(..) {
            assert_eq!(r.sealed.unwrap().payload.header("apns-collapse-id"), Some("mine"));
            seen += 1;
        }
        Err(pushseal::Error::Storage("stop".into()))
    });
    assert_eq!(stopped.unwrap_err().kind(), ErrorKind::Storage);
    assert!(seen >= 1 && seen <= keys.len());
}

/// Devices that trust one sender, and that sender.
fn devices_of(n: usize) -> (Sender, Vec<DeviceKeyring>) {
    let sender = Sender::new(SenderSecretKey::generate().unwrap());
    let devices = (0..n)
        .map(|_| {
            let mut d = DeviceKeyring::generate().unwrap();
            d.trust_sender(sender.public_key()).unwrap();
            d
        })
        .collect();
    (sender, devices)
}

#[test]
fn an_fcm_batch_puts_each_devices_own_token_on_its_own_message() {
    let (sender, devices) = devices_of(5);
    let batch =
        devices.iter().enumerate().map(|(i, d)| BatchDevice::new(d.public_key()).with_token(format!("tok-{i}")));
    let mut results = Vec::new();
    sender
        .seal_batch_chunked(batch, &Message::new("t", "b"), &FcmOptions::default(), |chunk| {
            results.append(chunk);
            Ok(())
        })
        .unwrap();
    assert_eq!(results.len(), devices.len());
    for (i, (device, r)) in devices.iter().zip(results).enumerate() {
        assert_eq!((r.index, r.recipient, r.token.as_deref()), (i, Some(device.key_id()), Some(&*format!("tok-{i}"))));
        let message = r.sealed.unwrap().payload;
        let json: serde_json::Value = serde_json::from_str(&message.json).unwrap();
        assert_eq!(json["token"], format!("tok-{i}"), "device {i} carries its own token");
        // And the message is that device's: it opens there.
        let data = serde_json::from_value(json["data"].clone()).unwrap();
        device.open(Payload::FcmData(&data), &MemoryReplayStore::new(), pushseal::unix_now()).unwrap();
    }
}

#[test]
fn an_fcm_batch_whose_options_carry_a_token_fails_every_device() {
    let (sender, devices) = devices_of(3);
    let keys: Vec<DevicePublicKey> = devices.iter().map(DeviceKeyring::public_key).collect();
    let one_token = FcmOptions::with_token("one-device-token");
    let results = sender.seal_batch(&keys, &Message::new("t", "b"), &one_token).unwrap();
    assert_eq!(results.len(), keys.len());
    for r in &results {
        let err = r.as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidNotification, "{err}");
        assert!(err.to_string().contains("BatchDevice"), "the message says where tokens go: {err}");
    }
    // Even when every device brings its own token as well.
    let with_tokens = keys.iter().map(|k| BatchDevice::new(*k).with_token("own"));
    let results = sender.seal_batch(with_tokens, &Message::new("t", "b"), &one_token).unwrap();
    assert!(results.iter().all(|r| r.as_ref().unwrap_err().kind() == ErrorKind::InvalidNotification));
    // One device alone may still be sealed with its token in the options.
    sender.seal_for_fcm(&keys[0], &Message::new("t", "b"), &one_token).unwrap();
}

#[test]
fn a_devices_collapse_id_is_on_its_own_message_only() {
    let (sender, devices) = devices_of(4);
    // Devices 1 and 3 bring their own collapse id; 0 and 2 take the batch's (or none).
    let batch = || {
        devices.iter().enumerate().map(|(i, d)| {
            let device = BatchDevice::new(d.public_key());
            if i % 2 == 1 { device.with_collapse_id(format!("own-{i}")) } else { device }
        })
    };
    let expected = |i: usize, batch: Option<&str>| {
        if i % 2 == 1 { Some(format!("own-{i}")) } else { batch.map(str::to_owned) }
    };
    let msg = Message::new("t", "b");
    for batch_id in [None, Some("batch")] {
        let apns = ApnsOptions { collapse_id: batch_id.map(str::to_owned), ..ApnsOptions::default() };
        for (i, r) in sender.seal_batch(batch(), &msg, &apns).unwrap().into_iter().enumerate() {
            let request = r.unwrap().payload;
            assert_eq!(request.header("apns-collapse-id").map(str::to_owned), expected(i, batch_id), "APNs device {i}");
        }
        let fcm = FcmOptions { collapse_key: batch_id.map(str::to_owned), ..FcmOptions::default() };
        for (i, r) in sender.seal_batch(batch(), &msg, &fcm).unwrap().into_iter().enumerate() {
            let json: serde_json::Value = serde_json::from_str(&r.unwrap().payload.json).unwrap();
            let key = json["android"]["collapse_key"].as_str().map(str::to_owned);
            assert_eq!(key, expected(i, batch_id), "FCM device {i}");
        }
    }
}

#[test]
fn a_key_text_that_does_not_parse_fails_that_device_alone_in_its_place() {
    let (sender, devices) = devices_of(3);
    let bad = 1;
    let mut texts: Vec<String> = devices.iter().map(|d| d.public_key().to_base64()).collect();
    texts[bad] = "not a device key".to_owned();
    let batch = texts.iter().enumerate().map(|(i, t)| BatchDevice::parse(t).with_token(format!("tok-{i}")));
    let mut results = Vec::new();
    sender
        .seal_batch_chunked(batch, &Message::new("t", "b"), &BareEnvelope, |chunk| {
            results.append(chunk);
            Ok(())
        })
        .unwrap();
    assert_eq!(results.len(), devices.len());
    for (i, (device, r)) in devices.iter().zip(results).enumerate() {
        assert_eq!(r.index, i);
        assert_eq!(r.token, Some(format!("tok-{i}")));
        if i == bad {
            assert_eq!(r.recipient, None);
            assert_eq!(r.sealed.unwrap_err().kind(), ErrorKind::InvalidEncoding);
        } else {
            assert_eq!(r.recipient, Some(device.key_id()));
            let text = r.sealed.unwrap().payload;
            device.open(Payload::Envelope(&text), &MemoryReplayStore::new(), pushseal::unix_now()).unwrap();
        }
    }
}
