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
        assert_eq!(Envelope::parse(&bad[..1]).unwrap_err(), pushseal::Error::UnsupportedVersion(v));
        if v == 2 {
            // A version 1 envelope relabelled as version 2 is too short for its header.
            assert_eq!(open_bytes(&s.device, &bad).unwrap_err().kind(), ErrorKind::Truncated);
            continue;
        }
        assert_eq!(open_bytes(&s.device, &bad).unwrap_err(), pushseal::Error::UnsupportedVersion(v));
    }
}

/// Version 2 (SPEC.md section 12): a device holding keys of both versions.
mod v2 {
    use super::*;
    use pushseal::envelope_v2::{HEADER_LEN, MIN_LEN};
    use pushseal::{Registration, SenderSigningKey};

    struct SetupV2 {
        device: DeviceKeyring,
        v1: Vec<u8>,
        v2: Vec<u8>,
    }

    fn setup() -> SetupV2 {
        let sender =
            Sender::new(SenderSecretKey::generate().unwrap()).with_signing_key(SenderSigningKey::generate().unwrap());
        let mut device = DeviceKeyring::generate().unwrap();
        device.trust_sender(sender.public_key()).unwrap();
        device.trust_sender_v2(sender.verifying_key().unwrap());
        let msg = Message::new("Lab results", "Ready");
        let v2 = sender.seal(&device.registration(), &msg, &BareEnvelope).unwrap().envelope;
        let v1 = sender.seal(&device.public_key(), &msg, &BareEnvelope).unwrap().envelope;
        assert_eq!((v1[0], v2[0]), (1, 2));
        SetupV2 { device, v1, v2 }
    }

    #[test]
    fn mixed_versions_open_in_one_keyring_and_v1_can_be_refused() {
        let mut s = setup();
        open_bytes(&s.device, &s.v1).unwrap();
        open_bytes(&s.device, &s.v2).unwrap();
        s.device.accept_v1(false);
        assert_eq!(open_bytes(&s.device, &s.v1).unwrap_err(), pushseal::Error::VersionOneRefused);
        assert_eq!(open_bytes(&s.device, &s.v1).unwrap_err().kind(), ErrorKind::UnsupportedVersion);
        open_bytes(&s.device, &s.v2).unwrap();
    }

    #[test]
    fn every_truncation_is_typed_truncated_enc_included() {
        let s = setup();
        for len in 0..s.v2.len() {
            let err = open_bytes(&s.device, &s.v2[..len]).unwrap_err();
            let expected = if len < MIN_LEN { ErrorKind::Truncated } else { ErrorKind::InvalidSignature };
            assert_eq!(err.kind(), expected, "truncated to {len}: {err}");
        }
        // An enc cut short: the header ends before its 1,120 bytes.
        let err = open_bytes(&s.device, &s.v2[..HEADER_LEN - 1]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Truncated);
    }

    #[test]
    fn a_signature_of_the_wrong_length_is_refused() {
        let s = setup();
        // 63 bytes: one short. 65: one byte too many (read as part of ct).
        let short = &s.v2[..s.v2.len() - 1];
        assert_eq!(open_bytes(&s.device, short).unwrap_err().kind(), ErrorKind::InvalidSignature);
        let mut long = s.v2.clone();
        long.push(0);
        assert_eq!(open_bytes(&s.device, &long).unwrap_err().kind(), ErrorKind::InvalidSignature);
    }

    #[test]
    fn a_v2_header_naming_a_v1_key_is_an_unknown_recipient() {
        let s = setup();
        let mut bad = s.v2.clone();
        bad[1..9].copy_from_slice(&s.device.key_id().to_bytes());
        let err = open_bytes(&s.device, &bad).unwrap_err();
        assert_eq!(err, pushseal::Error::UnknownRecipientKey(s.device.key_id()));
        // And the reverse: a v1 header naming the v2 key.
        let mut bad = s.v1.clone();
        let v2_id = s.device.public_key_v2().unwrap().key_id();
        bad[1..9].copy_from_slice(&v2_id.to_bytes());
        assert_eq!(open_bytes(&s.device, &bad).unwrap_err(), pushseal::Error::UnknownRecipientKey(v2_id));
    }

    #[test]
    fn malformed_enc_and_every_sampled_bit_flip_fail_the_signature_first() {
        let s = setup();
        let mut kinds = HashMap::new();
        for bit in (0..s.v2.len() * 8).step_by(3) {
            let mut bad = s.v2.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let err = open_bytes(&s.device, &bad).unwrap_err();
            let expected = match bit / 8 {
                0 => ErrorKind::UnsupportedVersion,
                1..=8 => ErrorKind::UnknownRecipientKey,
                9..=16 => ErrorKind::UntrustedSender,
                _ => ErrorKind::InvalidSignature,
            };
            assert_eq!(err.kind(), expected, "bit {bit}: {err}");
            *kinds.entry(err.kind()).or_insert(0) += 1;
        }
        // An enc of all zeros or all ones (an X25519 part of small order included).
        for fill in [0x00, 0xff] {
            let mut bad = s.v2.clone();
            bad[17..HEADER_LEN].fill(fill);
            assert_eq!(open_bytes(&s.device, &bad).unwrap_err().kind(), ErrorKind::InvalidSignature);
        }
        assert!(kinds[&ErrorKind::InvalidSignature] > 1000);
    }

    #[test]
    fn registration_texts_from_hostile_input_never_panic() {
        let s = setup();
        let text = s.device.registration().to_string();
        for len in (0..text.len()).step_by(11) {
            assert!(text[..len].parse::<Registration>().is_err(), "{len}");
        }
        assert!("".parse::<Registration>().is_err());
        assert!(format!("{text}.").parse::<Registration>().is_err());
    }

    /// A stored keyring of both versions, damaged in one version 2 field at
    /// a time: each is refused as `invalid_keyring` (SPEC.md section 12.8:
    /// damaged files fail closed), and the intact one still opens both versions.
    #[test]
    fn a_mixed_keyring_damaged_in_a_version_2_field_is_invalid_keyring() {
        let mut s = setup();
        s.device.rotate(unix_now(), 3600).unwrap();
        let good = String::from_utf8(s.device.to_bytes().unwrap().to_vec()).unwrap();
        let stored: serde_json::Value = serde_json::from_str(&good).unwrap();
        let current_v2 = stored["current_v2"].as_str().unwrap();
        let retired_v2 = stored["retired_v2"][0]["key"].as_str().unwrap();
        let sender_v2 = stored["trusted_senders_v2"][0].as_str().unwrap();
        // The Ed25519 identity point: of small order, it would verify forged signatures.
        let small_order = base64_url(&[&[1u8][..], &[0; 31]].concat());
        let damaged = [
            good.replace(current_v2, &current_v2[..42]),
            good.replace(current_v2, &format!("{}=", &current_v2[..42])),
            good.replace(retired_v2, "not base64url at all, and not 43 characters"),
            good.replace(sender_v2, &small_order),
            good.replace(sender_v2, &current_v2[..40]),
            good.replace("\"accept_v1\":true", "\"accept_v1\":\"yes\""),
            good.replace("\"trusted_senders_v2\":[", "\"trusted_senders_v2\":[7,"),
            good.replace("\"retired_v2\":[", "\"retired_v2\":[{\"key\":\"\"},"),
        ];
        for (i, bytes) in damaged.iter().enumerate() {
            assert_ne!(bytes, &good, "case {i} changed nothing");
            let err = DeviceKeyring::from_bytes(bytes.as_bytes()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidKeyring, "case {i}: {err:?}");
        }
        let back = DeviceKeyring::from_bytes(good.as_bytes()).unwrap();
        open_bytes(&back, &s.v2).unwrap();
        open_bytes(&back, &s.v1).unwrap();
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
