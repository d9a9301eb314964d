//! Properties over generated inputs (proptest), through the public API:
//!
//! - sealing then opening gives back exactly the notification that was sealed,
//!   for any message within the size limit of its target, and any message
//!   over the limit is refused before sealing with the exact sizes;
//! - any single-bit change of an envelope is rejected, and nothing is recorded;
//! - padding never changes the opened text, whatever its length;
//! - a notification is accepted once, whichever transport carries it again.
//!
//! The replay store's own properties (no id accepted twice under any clock,
//! the size bound, the file store deciding as the memory store does) are in
//! `src/replay.rs`. Case counts are kept moderate so the suite stays quick in
//! debug builds; `PROPTEST_CASES` raises them for a longer run.

mod targets;

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use pushseal::envelope;
use pushseal::hpke::Ephemeral;
use pushseal::notification::MAX_TTL_SECS;
use pushseal::padding::{self, BUCKETS, MAX_PLAINTEXT_LEN};
use pushseal::{
    ApnsOptions, BareEnvelope, DeviceKeyring, DeviceSecretKey, Error, ErrorKind, FcmOptions, MemoryReplayStore,
    Message, MessageId, Payload, Sender, SenderSecretKey, Target,
};
use targets::AnyTarget;

const NOW: u64 = 1_767_225_600;

fn pair() -> (Sender, DeviceKeyring) {
    let sender = Sender::new(SenderSecretKey::from_bytes([0x5a; 32]));
    let mut device = DeviceKeyring::from_secret_key(DeviceSecretKey::from_bytes([0xa5; 32]));
    device.trust_sender(sender.public_key()).unwrap();
    (sender, device)
}

/// Text of any Unicode scalar values, up to `max` characters (so up to four
/// times as many bytes: long ones cross the size limit).
fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..=max).prop_map(String::from_iter)
}

prop_compose! {
    fn message()(
        title in text(60),
        body in prop_oneof![text(40), text(700), text(2100)],
        data in prop::collection::btree_map(text(12), text(40), 0..4),
        thread_id in prop::option::of(text(16)),
        category in prop::option::of(text(16)),
        badge in prop::option::of(any::<u32>()),
        sound in prop::option::of(text(8)),
        ttl in 1..=MAX_TTL_SECS,
    ) -> Message {
        Message { title, body, data, thread_id, category, badge, sound, ttl_secs: ttl }
    }
}

fn target() -> impl Strategy<Value = AnyTarget> {
    prop_oneof![
        Just(AnyTarget::Envelope),
        Just(AnyTarget::Apns(ApnsOptions::default())),
        Just(AnyTarget::Apns(ApnsOptions::background())),
        Just(AnyTarget::Fcm(FcmOptions::with_token("registration-token"))),
    ]
}

/// The exact plaintext JSON the sender encodes, measured independently.
fn encoded_len(msg: &Message, id: MessageId, now: u64) -> usize {
    let mut v = serde_json::to_value(msg).unwrap();
    let fields = v.as_object_mut().unwrap();
    let mut stamped = serde_json::Map::new();
    stamped.insert("id".into(), id.to_string().into());
    stamped.insert("sent_at".into(), now.into());
    stamped.insert("expires_at".into(), (now + msg.ttl_secs).into());
    stamped.append(fields);
    serde_json::to_vec(&stamped).unwrap().len()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Seal then open is the identity within the size limit; past it, sealing
    /// fails with the encoded size and the target's exact maximum.
    #[test]
    fn seal_then_open_is_the_identity(
        msg in message(),
        target in target(),
        id in any::<[u8; 16]>(),
        ikm in any::<[u8; 32]>(),
        skew in 0..=pushseal::CLOCK_SKEW_SECS,
    ) {
        let (sender, device) = pair();
        let id = MessageId::from_bytes(id);
        let eph = Ephemeral::derive(&ikm).unwrap();
        let size = encoded_len(&msg, id, NOW);
        let max = target.max_plaintext_len().unwrap();
        match target.seal_with(&sender, &device.public_key(), &msg, id, NOW, &eph) {
            Ok(sealed) => {
                prop_assert!(size <= max, "sealed {size} bytes over the limit {max}");
                let store = MemoryReplayStore::new();
                let n = sealed.payload.open(&device, &store, NOW + skew).unwrap();
                prop_assert_eq!(&n.message, &msg);
                prop_assert_eq!((n.id, n.sent_at, n.expires_at), (id, NOW, NOW + msg.ttl_secs));
                prop_assert_eq!(sealed.expires_at, NOW + msg.ttl_secs);
                let padded = sealed.envelope.len() - envelope::MIN_LEN;
                prop_assert_eq!(Some(padded), padding::padded_len(size));
            }
            Err(e) => {
                prop_assert!(size > max, "refused {size} bytes within the limit {max}: {e}");
                prop_assert_eq!(e, Error::PayloadTooLarge { size, max_plaintext: max });
            }
        }
    }

    /// Flipping any one bit of a valid envelope makes it fail to open, with a
    /// rejection from the envelope checks or the cryptography, and the replay
    /// store records nothing.
    #[test]
    fn any_single_bit_change_is_rejected(
        msg in message().prop_filter("fits", |m| m.body.len() < 600),
        ikm in any::<[u8; 32]>(),
        bit in any::<prop::sample::Index>(),
    ) {
        let (sender, device) = pair();
        let eph = Ephemeral::derive(&ikm).unwrap();
        let id = MessageId::from_bytes([7; 16]);
        let sealed = sender.seal_with(&device.public_key(), &msg, &BareEnvelope, id, NOW, &eph).unwrap();
        let mut bytes = sealed.envelope.clone();
        let bit = bit.index(bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        let store = MemoryReplayStore::new();
        let err = device.open(Payload::Envelope(&URL_SAFE_NO_PAD.encode(&bytes)), &store, NOW).unwrap_err();
        let expected = [
            ErrorKind::UnsupportedVersion,
            ErrorKind::UnknownRecipientKey,
            ErrorKind::UntrustedSender,
            ErrorKind::ZeroSharedSecret,
            ErrorKind::Tampered,
        ];
        prop_assert!(expected.contains(&err.kind()), "bit {bit}: {err:?}");
        prop_assert!(store.is_empty());
        // The original still opens: the rejection changed nothing.
        prop_assert!(device.open(Payload::Envelope(&URL_SAFE_NO_PAD.encode(&sealed.envelope)), &store, NOW).is_ok());
    }

    /// Padding is invisible to the reader: any plaintext comes back unchanged
    /// from the bucket it is padded to, and a notification sealed with any
    /// valid amount of padding opens to the same notification.
    #[test]
    fn padding_never_changes_the_opened_text(
        plaintext in prop::collection::vec(any::<u8>(), 0..=MAX_PLAINTEXT_LEN),
        title in text(30),
        body in text(120),
        extra in 0usize..1200,
    ) {
        let mut padded = plaintext.clone();
        padding::pad_in_place(&mut padded, 0).unwrap();
        prop_assert!(BUCKETS.contains(&padded.len()));
        prop_assert_eq!(padding::unpad(&padded).unwrap(), plaintext.as_slice());

        let (sender, device) = pair();
        let msg = Message::new(title, body).with_ttl(3600);
        let eph = Ephemeral::derive(b"padding property").unwrap();
        let id = MessageId::from_bytes([9; 16]);
        let sealed = sender.seal_with(&device.public_key(), &msg, &BareEnvelope, id, NOW, &eph).unwrap();
        let env = envelope::Envelope::parse(&sealed.envelope).unwrap();
        let secret = DeviceSecretKey::from_bytes([0xa5; 32]);
        let bucketed = env.open(&secret, &sender.public_key()).unwrap();
        let json = padding::unpad(&bucketed).unwrap();
        // The same JSON with a shorter or longer run of zeros after its 0x80.
        let mut repadded = json.to_vec();
        repadded.push(0x80);
        repadded.resize(json.len() + 1 + extra, 0);
        let resealed = envelope::seal(&SenderSecretKey::from_bytes([0x5a; 32]), &device.public_key(), &repadded).unwrap();
        let store = MemoryReplayStore::new();
        let n = device.open(Payload::Envelope(&URL_SAFE_NO_PAD.encode(&resealed)), &store, NOW).unwrap();
        prop_assert_eq!(&n.message, &msg);
        prop_assert_eq!(n.id, id);
    }

    /// Whichever transport carries a notification again (the same envelope as
    /// APNs JSON, as FCM data, as bare text), the device accepts it once.
    #[test]
    fn a_notification_is_accepted_once_whatever_carries_it(
        msg in message().prop_filter("fits", |m| m.body.len() < 600),
        order in Just([0usize, 1, 2]).prop_shuffle(),
        first in 0usize..3,
    ) {
        let (sender, device) = pair();
        let eph = Ephemeral::derive(b"replay property").unwrap();
        let sealed =
            sender.seal_with(&device.public_key(), &msg, &BareEnvelope, MessageId::from_bytes([3; 16]), NOW, &eph);
        let text = URL_SAFE_NO_PAD.encode(sealed.unwrap().envelope);
        let apns = format!(r#"{{"aps":{{"content-available":1}},"pushseal":"{text}"}}"#);
        let fcm = HashMap::from([("pushseal".to_owned(), text.clone())]);
        let carriers = [Payload::Envelope(&text), Payload::ApnsJson(&apns), Payload::FcmData(&fcm)];
        let store = MemoryReplayStore::new();
        let mut accepted = 0;
        for i in std::iter::once(first).chain(order) {
            match device.open(carriers[i], &store, NOW) {
                Ok(_) => accepted += 1,
                Err(e) => prop_assert_eq!(e, Error::Replayed),
            }
        }
        prop_assert_eq!(accepted, 1);
        prop_assert_eq!(store.len(), 1);
    }
}

#[test]
fn the_message_strategy_reaches_both_sides_of_the_limit() {
    // A guard on the generators above: over many draws they must produce
    // messages that fit and messages that do not, or the identity property
    // would test only one side of the limit.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut fits, mut over) = (0, 0);
    let id = MessageId::from_bytes([0; 16]);
    for _ in 0..400 {
        let msg = message().new_tree(&mut runner).unwrap().current();
        if encoded_len(&msg, id, NOW) <= BareEnvelope.max_plaintext_len().unwrap() {
            fits += 1;
        } else {
            over += 1;
        }
    }
    assert!(fits > 40 && over > 10, "fits {fits}, over {over}");
}
