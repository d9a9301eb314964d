//! Zeroization through the bindings, observed: the calls a Swift, Kotlin or
//! Python app makes with secrets (keyring bytes in and out, storage, a
//! sender's secret text) leave no copy in heap memory the bindings free, up to
//! the values handed to the foreign side.
//!
//! The scanner is sdk-core's (`sdk-core/tests/heap_scan/mod.rs`): this binary
//! installs it as its global allocator. The values the calls return stand for
//! what crosses to the foreign side; each is also lowered the way UniFFI
//! lowers it (into the transfer buffer the foreign code reads) and lifted back
//! the way a foreign argument arrives. What stays out of reach, and is stated
//! in SECURITY.md: the one transfer buffer UniFFI's generated code frees after
//! the foreign side has copied it, and the foreign copy itself.

#[path = "../../sdk-core/tests/heap_scan/mod.rs"]
mod heap_scan;

use std::sync::Arc;

use heap_scan::{SERIAL, freed_blocks_holding};
use pushseal_ffi::{
    DeviceKeyring, KeyStorage, MaybeSecretBytes, MaybeSecretText, SecretBytes, SecretText, Sender,
    in_memory_key_storage,
};
use uniffi::{FfiConverter, RustBuffer};

const DEVICE_SECRET: [u8; 32] = *b"bindings-zeroize-device-secret!!";
const SENDER_SECRET: [u8; 32] = *b"bindings-zeroize-sender-secret!!";
const SIGNING_SEED: [u8; 32] = *b"bindings-zeroize-signing-seed-v2";

fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// A keyring's bytes holding `DEVICE_SECRET`, in a buffer that wipes itself.
fn stored_keyring() -> SecretBytes {
    let text = format!(r#"{{"format":"pushseal-keyring-v1","current":"{}"}}"#, b64(&DEVICE_SECRET));
    SecretBytes::from(text.into_bytes())
}

/// Lowers `value` into a transfer buffer, as a return value crosses to the
/// foreign side, and takes the buffer apart again without wiping it: the
/// buffer UniFFI's generated free releases. Returns its bytes for the caller
/// to wipe, so that the scan sees only what the bindings themselves free.
fn lowered<T: FfiConverter<pushseal_ffi::UniFfiTag, FfiType = RustBuffer>>(value: T) -> zeroize::Zeroizing<Vec<u8>> {
    zeroize::Zeroizing::new(T::lower(value).destroy_into_vec())
}

#[test]
fn the_scanner_sees_a_plain_secret_vec_in_the_bindings_binary() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let hits = freed_blocks_holding(&[("secret", &DEVICE_SECRET)], || {
        drop(std::hint::black_box(DEVICE_SECRET.to_vec()));
    });
    assert_eq!(hits, [("secret", 32)]);
}

#[test]
fn keyring_bytes_in_and_out_leave_no_secret_in_freed_heap_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let text = b64(&DEVICE_SECRET);
    let patterns = [("device secret bytes", &DEVICE_SECRET[..]), ("device secret text", text.as_bytes())];
    let stored = stored_keyring();
    let hits = freed_blocks_holding(&patterns, || {
        let keyring = DeviceKeyring::from_bytes(SecretBytes::from(stored.as_slice().to_vec())).unwrap();
        let out = keyring.to_bytes().unwrap();
        assert!(out.as_slice().windows(text.len()).any(|w| w == text.as_bytes()));
        // As a foreign argument arrives: a transfer buffer, lifted.
        let transfer = lowered(out);
        let lifted = SecretBytes::try_lift(RustBuffer::from_vec(transfer.to_vec())).unwrap();
        let again = DeviceKeyring::from_bytes(lifted).unwrap();
        assert_eq!(again.key_id(), keyring.key_id());
        drop(transfer);
        // Through a storage, saved and loaded back.
        let storage: Arc<dyn KeyStorage> = in_memory_key_storage();
        keyring.save(storage.clone()).unwrap();
        let loaded = DeviceKeyring::load_or_create(storage, None).unwrap();
        assert_eq!(loaded.key_id(), keyring.key_id());
    });
    assert!(hits.is_empty(), "keyring secrets left in freed heap blocks: {hits:?}");
}

/// The transfer buffer a foreign `KeyStorage.load` fills with `bytes`: the
/// wire form of `Option<Vec<u8>>` (tag 1, an i32 big-endian length, the
/// bytes), sized exactly so that making it leaves no partial copy.
fn loaded_transfer(bytes: &[u8]) -> RustBuffer {
    let mut wire = Vec::with_capacity(1 + 4 + bytes.len());
    wire.push(1);
    wire.extend_from_slice(&i32::try_from(bytes.len()).unwrap().to_be_bytes());
    wire.extend_from_slice(bytes);
    RustBuffer::from_vec(wire)
}

#[test]
fn keyring_bytes_a_foreign_storage_loads_leave_no_copy_in_freed_heap_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let text = b64(&DEVICE_SECRET);
    let patterns = [("device secret bytes", &DEVICE_SECRET[..]), ("device secret text", text.as_bytes())];
    let stored = stored_keyring();
    let hits = freed_blocks_holding(&patterns, || {
        let lifted = MaybeSecretBytes::try_lift(loaded_transfer(stored.as_slice())).unwrap();
        let keyring = DeviceKeyring::from_bytes(lifted.0.unwrap()).unwrap();
        assert_eq!(keyring.public_key().len(), 43);
    });
    assert!(hits.is_empty(), "loaded keyring secrets left in freed heap blocks: {hits:?}");
    // UniFFI's own `Option` reads the same buffer and frees it unwiped: what
    // `MaybeSecretBytes` is for.
    let hits = freed_blocks_holding(&patterns, || {
        let lifted = <Option<SecretBytes> as uniffi::Lift<pushseal_ffi::UniFfiTag>>::try_lift(loaded_transfer(
            stored.as_slice(),
        ));
        drop(lifted.unwrap());
    });
    assert!(!hits.is_empty(), "the scanner sees the copy a plain Option leaves");
}

#[test]
fn a_senders_secret_text_leaves_no_copy_in_freed_heap_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let body = b64(&SENDER_SECRET);
    let text = format!("pushseal-secret-key-v1:{body}");
    let patterns = [("sender secret bytes", &SENDER_SECRET[..]), ("sender secret text", body.as_bytes())];
    let hits = freed_blocks_holding(&patterns, || {
        let sender = Sender::from_secret_text(SecretText::from(text.clone()), 4, MaybeSecretText(None), None).unwrap();
        let out = sender.secret_text();
        assert_eq!(out.as_str(), text);
        drop(lowered(out));
        let key = sender.public_key();
        drop(sender);
        let again = Sender::from_secret_text(SecretText::from(text.clone()), 0, MaybeSecretText(None), None).unwrap();
        assert_eq!(again.public_key(), key);
        let generated = Sender::generate().unwrap();
        drop(generated.secret_text());
    });
    assert!(hits.is_empty(), "sender secrets left in freed heap blocks: {hits:?}");
}

#[test]
fn a_senders_version_2_secret_text_leaves_no_copy_in_freed_heap_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let v1 = SecretText::from(format!("pushseal-secret-key-v1:{}", b64(&SENDER_SECRET)));
    let v1_text = v1.as_str().to_owned();
    let body = b64(&SIGNING_SEED);
    let text = format!("pushseal-sender-secret-v2:{body}");
    let patterns = [("signing seed", &SIGNING_SEED[..]), ("signing secret text", body.as_bytes())];
    let hits = freed_blocks_holding(&patterns, || {
        // As a foreign argument arrives: a transfer buffer, lifted.
        let transfer = lowered(MaybeSecretText(Some(SecretText::from(text.clone()))));
        let lifted = MaybeSecretText::try_lift(RustBuffer::from_vec(transfer.to_vec())).unwrap();
        drop(transfer);
        let sender = Sender::from_secret_text(SecretText::from(v1_text.clone()), 0, lifted, None).unwrap();
        let out = sender.secret_text_v2();
        assert_eq!(out.0.as_ref().map(SecretText::as_str), Some(text.as_str()));
        drop(lowered(out));
        drop(sender);
        drop(Sender::generate().unwrap().secret_text_v2());
    });
    assert!(hits.is_empty(), "version 2 sender secrets left in freed heap blocks: {hits:?}");
}
