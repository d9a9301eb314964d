//! Every envelope version 2 vector of `test-vectors/v2.json` (SPEC.md
//! section 12), through the public API: positive vectors open to their
//! plaintext with their receipt and are sealed again byte for byte; negative
//! vectors fail with their error kind; sender vectors seal or refuse as
//! stated; version 2 key texts are refused.

use pushseal::xwing::Eseed;
use pushseal::{
    ApnsOptions, BareEnvelope, DeviceKeyring, DevicePublicKeyV2, DeviceSecretKeyV2, ErrorKind, FcmOptions,
    MemoryReplayStore, Message, MessageId, Payload, Pq, Registration, Sender, SenderSecretKey, SenderSigningKey,
    SenderVerifyingKey,
};
use serde_json::Value;

fn file() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../test-vectors/v2.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["vectors"][0].clone()
}

fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap_or_else(|| panic!("missing {field}"))
}

fn h<const N: usize>(v: &Value, field: &str) -> [u8; N] {
    hex::decode(s(v, field)).unwrap().try_into().unwrap()
}

fn kind(v: &Value) -> ErrorKind {
    ErrorKind::from_name(s(v, "error_kind")).unwrap()
}

#[test]
fn positive_v2_vectors_open_and_seal_again_byte_for_byte() {
    let vectors = file()["positive"].as_array().unwrap().clone();
    assert_eq!(vectors.len(), 4);
    for v in &vectors {
        let name = s(v, "name");
        let keyring = DeviceKeyring::from_bytes(s(v, "keyring").as_bytes()).unwrap();
        let device = DeviceSecretKeyV2::from_seed(&h(v, "device_v2_seed"));
        assert_eq!(device.public_key().as_bytes().to_vec(), hex::decode(s(v, "device_v2_public_key")).unwrap());
        assert_eq!(device.key_id().to_string(), s(v, "device_v2_key_id"));
        assert_eq!(device.public_key().to_string(), s(v, "device_v2_public_text"));
        assert_eq!(s(v, "device_v2_public_text").parse::<DevicePublicKeyV2>().unwrap(), *device.public_key());
        assert_eq!(
            DeviceSecretKeyV2::from_secret_text(s(v, "device_v2_secret_text")).unwrap().key_id(),
            device.key_id()
        );
        assert_eq!(keyring.registration().to_string(), s(v, "registration"));
        let registration: Registration = s(v, "registration").parse().unwrap();
        assert_eq!(registration.v2(), Some(device.public_key()));
        let signer = SenderSigningKey::from_seed(&h(v, "sender_v2_seed"));
        assert_eq!(signer.key_id().to_string(), s(v, "sender_v2_key_id"));
        assert_eq!(signer.verifying_key().to_string(), s(v, "sender_v2_public_text"));
        assert_eq!(s(v, "sender_v2_public_text").parse::<SenderVerifyingKey>().unwrap(), signer.verifying_key());
        assert_eq!(
            SenderSigningKey::from_secret_text(s(v, "sender_v2_secret_text")).unwrap().key_id(),
            signer.key_id()
        );

        // The device opens it, with the stated receipt.
        let now = v["now"].as_u64().unwrap();
        let text = s(v, "envelope_base64url");
        let (n, receipt) = keyring.open_with_receipt(Payload::Envelope(text), &MemoryReplayStore::new(), now).unwrap();
        assert_eq!(n.id.to_string(), s(v, "message_id"), "{name}");
        assert_eq!(receipt.to_string(), s(v, "receipt_base64url"), "{name}");
        let envelope = hex::decode(s(v, "envelope")).unwrap();
        assert_eq!(envelope.len() as u64, v["envelope_len"].as_u64().unwrap());
        assert_eq!(&envelope[..1137], hex::decode(s(v, "header")).unwrap().as_slice());
        assert_eq!(&envelope[envelope.len() - 64..], hex::decode(s(v, "signature")).unwrap().as_slice());

        // The sender seals the same bytes from the same inputs.
        let parsed: Value = serde_json::from_str(s(v, "plaintext")).unwrap();
        let id: MessageId = s(v, "message_id").parse().unwrap();
        let sent_at = v["sent_at"].as_u64().unwrap();
        let msg = Message::new(parsed["title"].as_str().unwrap(), parsed["body"].as_str().unwrap())
            .with_ttl(parsed["expires_at"].as_u64().unwrap() - sent_at);
        let sender = Sender::new(SenderSecretKey::generate().unwrap()).with_signing_key(signer);
        let eseed = Eseed::from_bytes(h(v, "eseed"));
        let again = sender.seal_v2_with(device.public_key(), &msg, &BareEnvelope, id, sent_at, &eseed).unwrap();
        assert_eq!(again.envelope, envelope, "{name}");
        assert_eq!(again.receipt_digest.to_string(), s(v, "receipt_digest"), "{name}");
    }
}

#[test]
fn negative_v2_vectors_fail_with_their_kind() {
    let vectors = file()["negative"].as_array().unwrap().clone();
    assert_eq!(vectors.len(), 15);
    for v in &vectors {
        let keyring = DeviceKeyring::from_bytes(s(v, "keyring").as_bytes()).unwrap();
        let got = keyring.open(
            Payload::Envelope(s(v, "envelope_base64url")),
            &MemoryReplayStore::new(),
            v["now"].as_u64().unwrap(),
        );
        assert_eq!(got.unwrap_err().kind(), kind(v), "{}", s(v, "name"));
    }
}

#[test]
fn sender_v2_vectors_seal_or_refuse_as_stated() {
    let vectors = file()["sender"].as_array().unwrap().clone();
    assert_eq!(vectors.len(), 7);
    let device = DeviceKeyring::generate().unwrap();
    let sender =
        Sender::new(SenderSecretKey::generate().unwrap()).with_signing_key(SenderSigningKey::generate().unwrap());
    for v in &vectors {
        let name = s(v, "name");
        if s(v, "pq") == "require" {
            let registration: Registration = s(v, "registration").parse().unwrap();
            let strict = Sender::new(SenderSecretKey::generate().unwrap())
                .with_signing_key(SenderSigningKey::generate().unwrap())
                .with_pq(Pq::Require);
            let err = strict.seal_envelope(&registration, &Message::new("t", "b")).unwrap_err();
            assert_eq!(err.kind(), kind(v), "{name}");
            continue;
        }
        let len = v["plaintext_len"].as_u64().unwrap() as usize;
        let max = v["max_plaintext_len"].as_u64().unwrap() as usize;
        // A body of filler that makes the notification exactly `len` bytes.
        let empty = r#"{"id":"00000000000000000000000000000000","sent_at":1767225600,"expires_at":1767312000,"title":"t","body":""}"#.len();
        let msg = Message::new("t", "x".repeat(len - empty));
        let registration = device.registration();
        let result = match s(v, "target") {
            "apns" => sender.seal_for_apns(&registration, &msg, &ApnsOptions::default()).map(|s| s.envelope.len()),
            "fcm" => sender.seal_for_fcm(&registration, &msg, &FcmOptions::default()).map(|s| s.envelope.len()),
            _ => sender.seal(&registration, &msg, &BareEnvelope).map(|s| s.envelope.len()),
        };
        match v["error_kind"].as_str() {
            None => assert_eq!(result.unwrap() as u64, v["envelope_len"].as_u64().unwrap(), "{name}"),
            Some(k) => {
                let err = result.unwrap_err();
                assert_eq!(err.kind().name(), k, "{name}");
                assert_eq!(err, pushseal::Error::PayloadTooLarge { size: len, max_plaintext: max }, "{name}");
            }
        }
    }
}

#[test]
fn v2_key_texts_are_refused() {
    let vectors = file()["key_texts"].as_array().unwrap().clone();
    assert_eq!(vectors.len(), 13);
    for v in &vectors {
        let text = s(v, "text");
        let err = match s(v, "kind") {
            "sender_v2_public" => text.parse::<SenderVerifyingKey>().map(|_| ()).unwrap_err(),
            "device_v2_public" => text.parse::<DevicePublicKeyV2>().map(|_| ()).unwrap_err(),
            "device_v2_secret" => DeviceSecretKeyV2::from_secret_text(text).map(|_| ()).unwrap_err(),
            "sender_v2_secret" => SenderSigningKey::from_secret_text(text).map(|_| ()).unwrap_err(),
            other => panic!("kind {other}"),
        };
        assert_eq!(err.kind(), kind(v), "{}", s(v, "name"));
    }
}
