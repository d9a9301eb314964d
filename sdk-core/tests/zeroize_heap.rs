//! Zeroization, observed: no secret key and no plaintext is left behind in
//! heap memory that PushSeal frees.
//!
//! The library itself forbids `unsafe`; this test binary alone installs a
//! global allocator (`heap_scan/mod.rs`, the one piece of `unsafe` in the test
//! suites, shared with `bindings/tests/zeroize_heap.rs`) that wraps the system
//! allocator and, while a test thread has armed it, scans every block that
//! thread frees *before* handing it back, for the bytes of a known secret. Freed memory is never read: the block still belongs to the
//! program when it is scanned. A buffer that zeroizes itself on drop is
//! all zeros by then; one that does not is caught holding the secret.
//!
//! What this cannot see: copies on the stack and in registers (the key types
//! zeroize those fields on drop, which only a debugger could observe) and
//! memory the application itself keeps, such as the [`pushseal::Notification`]
//! an open returns, which the app owns and shows.
//!
//! A known limit, stated in SECURITY.md: when a text field of a notification
//! contains a character that JSON must escape (a quote, a backslash, a control
//! character such as a newline), `serde_json` unescapes it in an internal
//! scratch buffer that it frees without zeroizing. The plaintext test below
//! therefore uses text without escapes; with a newline in the body, this
//! scanner reports that scratch buffer.

mod heap_scan;
mod targets;

use heap_scan::{SERIAL, freed_blocks_holding};
use targets::AnyTarget;

use pushseal::hpke::Ephemeral;
use pushseal::{
    BareEnvelope, DeviceKeyring, DeviceSecretKey, MemoryReplayStore, Message, MessageId, Sender, SenderSecretKey,
};

const DEVICE_SECRET: [u8; 32] = *b"zeroize-test-device-secret-key!!";
const SENDER_SECRET: [u8; 32] = *b"zeroize-test-sender-secret-key!!";
const PLAINTEXT_TITLE: &str = "ZEROIZE-TITLE-7f3a9c";
const PLAINTEXT_BODY: &str = "ZEROIZE-BODY-diagnosis-e51b2d-8c04";

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn the_scanner_sees_a_secret_left_in_a_freed_buffer() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let hits = freed_blocks_holding(&[("secret", &DEVICE_SECRET)], || {
        let leaky = DEVICE_SECRET.to_vec();
        drop(std::hint::black_box(leaky));
        let clean = zeroize::Zeroizing::new(DEVICE_SECRET.to_vec());
        drop(std::hint::black_box(clean));
    });
    assert_eq!(hits, [("secret", 32)], "the plain Vec is caught and the Zeroizing one is not");
}

#[test]
fn secret_keys_leave_no_copy_in_freed_heap_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let text_body = b64(&DEVICE_SECRET);
    let patterns = [("device secret bytes", &DEVICE_SECRET[..]), ("device secret text", text_body.as_bytes())];
    let hits = freed_blocks_holding(&patterns, || {
        let key = DeviceSecretKey::from_bytes(DEVICE_SECRET);
        let text = key.to_secret_text();
        let mut padded = zeroize::Zeroizing::new(String::with_capacity(text.len() + 3));
        padded.push_str("  ");
        padded.push_str(&text);
        padded.push('\n');
        let back = DeviceSecretKey::from_secret_text(&padded).unwrap();
        assert_eq!(back.key_id(), key.key_id());
        let bytes = key.to_bytes();
        let again = DeviceSecretKey::from_slice(bytes.as_ref()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let debug = format!("{key:?} {back:?}");
        assert!(debug.contains("[redacted]"));
    });
    assert!(hits.is_empty(), "secret key material left in freed heap blocks: {hits:?}");
}

#[test]
fn keyrings_leave_no_secret_in_freed_heap_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let retired = *b"zeroize-test-retired-secret-ky!!";
    let (current_text, retired_text) = (b64(&DEVICE_SECRET), b64(&retired));
    let patterns = [
        ("current key bytes", &DEVICE_SECRET[..]),
        ("current key text", current_text.as_bytes()),
        ("retired key bytes", &retired[..]),
        ("retired key text", retired_text.as_bytes()),
    ];
    // A keyring large enough that its serialized form outgrows any first guess.
    let mut senders = Vec::new();
    for i in 0..12u8 {
        senders.push(SenderSecretKey::from_bytes([i + 1; 32]).public_key().to_base64());
    }
    let stored = format!(
        r#"{{"format":"pushseal-keyring-v1","current":"{current_text}","retired":[{{"key":"{retired_text}","usable_until":4000000000}}],"trusted_senders":["{}"]}}"#,
        senders.join("\",\"")
    );
    let stored = zeroize::Zeroizing::new(stored.into_bytes());
    let hits = freed_blocks_holding(&patterns, || {
        let keyring = DeviceKeyring::from_bytes(&stored).unwrap();
        assert_eq!(keyring.trusted_senders().len(), 12);
        let bytes = keyring.to_bytes().unwrap();
        let again = DeviceKeyring::from_bytes(&bytes).unwrap();
        assert_eq!(again.key_id(), keyring.key_id());
        let debug = format!("{again:?}");
        assert!(!debug.contains(&current_text));
    });
    assert!(hits.is_empty(), "keyring secrets left in freed heap blocks: {hits:?}");
}

#[test]
fn sealing_and_opening_leave_no_plaintext_in_freed_heap_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let sender = Sender::new(SenderSecretKey::from_bytes(SENDER_SECRET));
    let mut device = DeviceKeyring::from_secret_key(DeviceSecretKey::from_bytes(DEVICE_SECRET));
    device.trust_sender(sender.public_key()).unwrap();
    let msg = Message::new(PLAINTEXT_TITLE, PLAINTEXT_BODY).with_data("ref", "ZEROIZE-DATA-0b9e41aa");
    let patterns = [
        ("title", PLAINTEXT_TITLE.as_bytes()),
        ("body", PLAINTEXT_BODY.as_bytes()),
        ("data", &b"ZEROIZE-DATA-0b9e41aa"[..]),
        ("device secret", &DEVICE_SECRET[..]),
        ("sender secret", &SENDER_SECRET[..]),
    ];
    let store = MemoryReplayStore::new();
    let mut opened = Vec::new();
    let hits = freed_blocks_holding(&patterns, || {
        let now = pushseal::unix_now();
        for target in AnyTarget::all() {
            let eph = Ephemeral::generate().unwrap();
            let sealed = target.seal_with(&sender, &device.public_key(), &msg, MessageId::random().unwrap(), now, &eph);
            // The app owns the notification it gets: keep it past the scan.
            opened.push(sealed.unwrap().payload.open(&device, &store, now).unwrap());
        }
    });
    assert!(opened.iter().all(|n| n.message.body == PLAINTEXT_BODY));
    assert!(hits.is_empty(), "plaintext or keys left in freed heap blocks: {hits:?}");
}

#[test]
fn a_sender_cache_leaves_no_dh_value_in_freed_heap_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let devices: Vec<_> = (1..=4u8).map(|i| DeviceSecretKey::from_bytes([i; 32]).public_key()).collect();
    // DH(skS, pkR) for each device, computed independently of PushSeal.
    let sender_secret = x25519_dalek::StaticSecret::from(SENDER_SECRET);
    let values: Vec<[u8; 32]> = devices
        .iter()
        .map(|pk| sender_secret.diffie_hellman(&x25519_dalek::PublicKey::from(pk.to_bytes())).to_bytes())
        .collect();
    let names = ["dh 1", "dh 2", "dh 3", "dh 4"];
    let patterns: Vec<_> = names.iter().zip(&values).map(|(n, v)| (*n, &v[..])).collect();
    let msg = Message::new("t", "b");
    let hits = freed_blocks_holding(&patterns, || {
        // Capacity 2 for 4 devices: entries are evicted, then the rest go with the sender.
        let sender = Sender::with_cache(SenderSecretKey::from_bytes(SENDER_SECRET), 2);
        for pk in devices.iter().chain(&devices) {
            sender.seal(pk, &msg, &BareEnvelope).unwrap();
        }
        assert_eq!(sender.cached_devices(), 2);
        drop(sender);
    });
    assert!(hits.is_empty(), "cached DH values left in freed heap blocks: {hits:?}");
}
