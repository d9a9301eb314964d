//! Hostile input to the parser and to open: truncations, every single-bit
//! flip, wrong versions, low-order X25519 points and random bytes are all
//! rejected with a typed error, and nothing panics.

use std::collections::HashMap;

use pushseal::envelope::{Envelope, HEADER_LEN};
use pushseal::{
    BareEnvelope, DeviceKeyring, ErrorKind, MemoryReplayStore, Message, Payload, Sender, SenderSecretKey, unix_now,
};

struct Setup {
    sender: Sender,
    device: DeviceKeyring,
    envelope: Vec<u8>,
}

fn setup() -> Setup {
    let sender = Sender::new(SenderSecretKey::generate().unwrap());
    let mut device = DeviceKeyring::generate().unwrap();
    device.trust_sender(sender.public_key()).unwrap();
    let sealed = sender.seal(&device.public_key(), &Message::new("Lab results", "Ready"), &BareEnvelope).unwrap();
    Setup { sender, device, envelope: sealed.envelope }
}

fn open_bytes(device: &DeviceKeyring, bytes: &[u8]) -> pushseal::Result<pushseal::Notification> {
    let text = base64_url(bytes);
    device.open(Payload::Envelope(&text), &MemoryReplayStore::new(), unix_now())
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The X25519 u-coordinates of small order (and their non-canonical forms):
/// every one must give the all-zero shared secret and be rejected.
const LOW_ORDER_POINTS: [[u8; 32]; 7] = {
    let mut points = [[0u8; 32]; 7];
    // 0
    // 1
    points[1][0] = 1;
    // 325606250916557431795983626356110631294008115727848805560023387167927233504 (order 8)
    points[2] = [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09,
        0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
    ];
    // 39382357235489614581723060781553021112529911719440698176882885853963445705823 (order 8)
    points[3] = [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44,
        0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57,
    ];
    // p - 1, p, p + 1
    let mut i = 4;
    while i < 7 {
        let mut p = [0xffu8; 32];
        p[31] = 0x7f;
        p[0] = 0xec + (i as u8 - 4);
        points[i] = p;
        i += 1;
    }
    points
};

#[test]
fn every_truncation_is_a_typed_error() {
    let s = setup();
    for len in 0..s.envelope.len() {
        let err = open_bytes(&s.device, &s.envelope[..len]).unwrap_err();
        let expected = if len == 0 || len < HEADER_LEN + 16 { ErrorKind::Truncated } else { ErrorKind::Tampered };
        assert_eq!(err.kind(), expected, "truncated to {len}: {err}");
    }
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let s = setup();
    let mut kinds = HashMap::new();
    for bit in 0..s.envelope.len() * 8 {
        let mut bad = s.envelope.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let err = open_bytes(&s.device, &bad).unwrap_err();
        let expected = match bit / 8 {
            0 => ErrorKind::UnsupportedVersion,
            1..=8 => ErrorKind::UnknownRecipientKey,
            9..=16 => ErrorKind::UntrustedSender,
            _ => ErrorKind::Tampered,
        };
        // A flip in enc may land on a low-order point only for crafted keys; a
        // random enc flip is always an authentication failure.
        assert_eq!(err.kind(), expected, "bit {bit}: {err}");
        *kinds.entry(err.kind()).or_insert(0) += 1;
    }
    assert_eq!(kinds.values().sum::<usize>(), s.envelope.len() * 8);
}

#[test]
fn every_wrong_version_is_rejected() {
    let s = setup();
    for v in (0..=255u8).filter(|&v| v != 1) {
        let mut bad = s.envelope.clone();
        bad[0] = v;
        assert_eq!(open_bytes(&s.device, &bad).unwrap_err(), pushseal::Error::UnsupportedVersion(v));
        assert_eq!(Envelope::parse(&bad[..1]).unwrap_err(), pushseal::Error::UnsupportedVersion(v));
    }
}

#[test]
fn low_order_points_give_zero_shared_secret() {
    let s = setup();
    for point in LOW_ORDER_POINTS {
        let mut bad = s.envelope.clone();
        bad[17..49].copy_from_slice(&point);
        let err = open_bytes(&s.device, &bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ZeroSharedSecret, "{point:02x?}");
    }
    // A low-order device public key: the sender refuses to seal to it.
    for point in LOW_ORDER_POINTS {
        let to = pushseal::DevicePublicKey::from_bytes(point);
        let err = s.sender.seal(&to, &Message::new("t", "b"), &BareEnvelope).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ZeroSharedSecret);
    }
    // A low-order sender key: the device refuses to trust it, and its list is unchanged.
    let mut device = s.device;
    for point in LOW_ORDER_POINTS {
        let err = device.trust_sender(pushseal::SenderPublicKey::from_bytes(point)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ZeroSharedSecret, "{point:02x?}");
    }
    assert_eq!(device.trusted_senders(), &[s.sender.public_key()]);
}

#[test]
fn random_bytes_and_junk_payloads_never_panic() {
    let s = setup();
    let replay = MemoryReplayStore::new();
    let mut buf = vec![0u8; 4096];
    for round in 0..2000 {
        let len = round % 700;
        getrandom::fill(&mut buf[..len]).unwrap();
        let bytes = &buf[..len];
        assert!(Envelope::parse(bytes).is_ok() || len < HEADER_LEN + 16 || bytes[0] != 1);
        assert!(open_bytes(&s.device, bytes).is_err());
        let text = String::from_utf8_lossy(bytes);
        assert!(s.device.open(Payload::ApnsJson(&text), &replay, unix_now()).is_err());
        assert!(s.device.open(Payload::Envelope(&text), &replay, unix_now()).is_err());
        let map = HashMap::from([("pushseal".to_owned(), text.into_owned())]);
        assert!(s.device.open(Payload::FcmData(&map), &replay, unix_now()).is_err());
    }
}

#[test]
fn hostile_platform_payloads_are_typed() {
    let s = setup();
    let replay = MemoryReplayStore::new();
    let now = unix_now();
    let cases: [(&str, ErrorKind); 8] = [
        ("", ErrorKind::NotPushSeal),
        ("[]", ErrorKind::NotPushSeal),
        ("{\"aps\":{}}", ErrorKind::NotPushSeal),
        ("{\"pushseal\":5}", ErrorKind::NotPushSeal),
        ("{\"pushseal\":\"***\"}", ErrorKind::InvalidEncoding),
        ("{\"pushseal\":\"AQ==\"}", ErrorKind::InvalidEncoding),
        ("{\"pushseal\":\"\"}", ErrorKind::Truncated),
        (&"[".repeat(100_000), ErrorKind::NotPushSeal),
    ];
    for (json, kind) in cases {
        let err = s.device.open(Payload::ApnsJson(json), &replay, now).unwrap_err();
        assert_eq!(err.kind(), kind, "{}: {err}", &json[..json.len().min(40)]);
    }
    // An array holding a valid envelope is still not a userInfo object.
    let valid = base64_url(&s.envelope);
    let err = s.device.open(Payload::ApnsJson(&format!("[\"{valid}\"]")), &replay, now).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotPushSeal);
    assert!(s.device.open(Payload::ApnsJson(&format!("{{\"pushseal\":\"{valid}\"}}")), &replay, now).is_ok());
    let empty = HashMap::new();
    assert_eq!(s.device.open(Payload::FcmData(&empty), &replay, now).unwrap_err().kind(), ErrorKind::NotPushSeal);
}
