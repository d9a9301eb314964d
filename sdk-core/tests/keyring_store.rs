//! `DeviceKeyring::load_or_create` through a `KeyringStore` of the test's
//! own: an empty store gets a new keyring, saved; a stored keyring loads as
//! it was, and is saved back only when retired keys past their deadline were
//! dropped (so no dead secret key stays in storage); a store that fails
//! passes its `Storage` error on; damaged bytes fail closed with
//! `InvalidKeyring` and are not overwritten.
//!
//! `DeviceKeyring::load_or_recreate` through the same store: it reports how
//! it came by the keyring; only `InvalidKeyring` (from the bytes or from the
//! store itself) deletes and makes a new keyring, once; a `Storage` error
//! deletes nothing.

use std::cell::{Cell, RefCell};

use pushseal::{DeviceKeyring, Error, ErrorKind, KeyringOrigin, KeyringStore, Result, SenderSecretKey};
use zeroize::Zeroizing;

const NOW: u64 = 1_767_225_600;

/// A store in memory that counts its saves and can be made to fail.
#[derive(Default)]
struct TestStore {
    bytes: RefCell<Option<Vec<u8>>>,
    saves: Cell<usize>,
    deletes: Cell<usize>,
    load_fails: bool,
    save_fails: bool,
    /// `load` fails with `InvalidKeyring` (its wrapping key is gone) until `delete`.
    wrapping_key_gone: Cell<bool>,
    delete_fails: bool,
}

impl TestStore {
    fn holding(bytes: &[u8]) -> Self {
        Self { bytes: RefCell::new(Some(bytes.to_vec())), ..Self::default() }
    }

    fn stored(&self) -> Option<Vec<u8>> {
        self.bytes.borrow().clone()
    }
}

impl KeyringStore for TestStore {
    fn load(&self) -> Result<Option<Zeroizing<Vec<u8>>>> {
        if self.load_fails {
            return Err(Error::Storage("the keychain is locked".into()));
        }
        if self.wrapping_key_gone.get() {
            return Err(Error::InvalidKeyring("the wrapping key is gone"));
        }
        Ok(self.bytes.borrow().clone().map(Zeroizing::new))
    }

    fn save(&self, bytes: &[u8]) -> Result<()> {
        if self.save_fails {
            return Err(Error::Storage("the disk is full".into()));
        }
        *self.bytes.borrow_mut() = Some(bytes.to_vec());
        self.saves.set(self.saves.get() + 1);
        Ok(())
    }

    fn delete(&self) -> Result<()> {
        if self.delete_fails {
            return Err(Error::Storage("the disk is read-only".into()));
        }
        *self.bytes.borrow_mut() = None;
        self.wrapping_key_gone.set(false);
        self.deletes.set(self.deletes.get() + 1);
        Ok(())
    }
}

#[test]
fn an_empty_store_gets_a_new_keyring_saved_once() {
    let store = TestStore::default();
    let created = DeviceKeyring::load_or_create(&store, NOW).unwrap();
    assert_eq!(store.saves.get(), 1);
    assert_eq!(store.stored().unwrap(), *created.to_bytes().unwrap());
    // The next start loads that keyring, and writes nothing.
    let loaded = DeviceKeyring::load_or_create(&store, NOW).unwrap();
    assert_eq!(loaded.key_id(), created.key_id());
    assert_eq!(store.saves.get(), 1);
    // Another empty store: another key.
    assert_ne!(DeviceKeyring::load_or_create(&TestStore::default(), NOW).unwrap().key_id(), created.key_id());
}

#[test]
fn a_stored_keyring_loads_as_it_was_without_a_save() {
    let mut device = DeviceKeyring::generate().unwrap();
    device.trust_sender(SenderSecretKey::generate().unwrap().public_key()).unwrap();
    device.rotate(NOW, 3600).unwrap();
    let bytes = device.to_bytes().unwrap();
    let store = TestStore::holding(&bytes);
    let loaded = DeviceKeyring::load_or_create(&store, NOW + 3600).unwrap();
    assert_eq!(loaded.key_id(), device.key_id());
    assert_eq!(loaded.retired_keys(), device.retired_keys(), "a key at its deadline still opens");
    assert_eq!(loaded.trusted_senders(), device.trusted_senders());
    assert_eq!(store.saves.get(), 0);
    assert_eq!(store.stored().unwrap(), *bytes);
}

#[test]
fn retired_keys_past_their_deadline_are_dropped_and_saved_back() {
    let mut device = DeviceKeyring::generate().unwrap();
    device.rotate(NOW, 60).unwrap();
    let (dead, _) = device.retired_keys()[0];
    device.rotate(NOW, 7200).unwrap();
    let (alive, _) = device.retired_keys()[1];
    let store = TestStore::holding(&device.to_bytes().unwrap());

    let loaded = DeviceKeyring::load_or_create(&store, NOW + 61).unwrap();
    assert_eq!(loaded.retired_keys(), vec![(alive, NOW + 7200)]);
    assert_eq!(store.saves.get(), 1, "saved back once, without the dead key");
    let stored = DeviceKeyring::from_bytes(&store.stored().unwrap()).unwrap();
    assert_eq!(stored.retired_keys(), vec![(alive, NOW + 7200)]);
    assert!(stored.retired_keys().iter().all(|(id, _)| *id != dead));
    assert_eq!(stored.key_id(), device.key_id());

    // Nothing more to drop: no second save.
    DeviceKeyring::load_or_create(&store, NOW + 61).unwrap();
    assert_eq!(store.saves.get(), 1);
}

#[test]
fn a_failing_store_passes_its_storage_error_on() {
    let stored = DeviceKeyring::generate().unwrap().to_bytes().unwrap();
    let locked = TestStore { load_fails: true, ..TestStore::holding(&stored) };
    assert_eq!(DeviceKeyring::load_or_create(&locked, NOW).unwrap_err().kind(), ErrorKind::Storage);
    assert_eq!((locked.saves.get(), locked.stored().unwrap()), (0, stored.to_vec()), "nothing overwritten");

    // A new keyring that cannot be saved is not handed out: the next start would make another.
    let full = TestStore { save_fails: true, ..TestStore::default() };
    assert_eq!(DeviceKeyring::load_or_create(&full, NOW).unwrap_err().kind(), ErrorKind::Storage);
    assert_eq!(full.stored(), None);

    // Nor is a pruned one whose save fails.
    let mut device = DeviceKeyring::generate().unwrap();
    device.rotate(NOW, 60).unwrap();
    let full = TestStore { save_fails: true, ..TestStore::holding(&device.to_bytes().unwrap()) };
    assert_eq!(DeviceKeyring::load_or_create(&full, NOW + 61).unwrap_err().kind(), ErrorKind::Storage);
}

#[test]
fn damaged_bytes_fail_closed_and_are_not_overwritten() {
    let good = DeviceKeyring::generate().unwrap().to_bytes().unwrap();
    let mut truncated = good.to_vec();
    truncated.truncate(good.len() / 2);
    let other_format = String::from_utf8(good.to_vec()).unwrap().replace("pushseal-keyring-v2", "pushseal-keyring-v9");
    for damaged in [b"".to_vec(), b"\xff\xfe".to_vec(), truncated, other_format.into_bytes()] {
        let store = TestStore::holding(&damaged);
        let err = DeviceKeyring::load_or_create(&store, NOW).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidKeyring, "{err}");
        assert_eq!(err.kind().device_action().name(), "reregister");
        assert_eq!((store.saves.get(), store.stored().unwrap()), (0, damaged), "the damaged bytes stay");
    }
}

#[test]
fn load_or_recreate_says_how_it_came_by_the_keyring() {
    let store = TestStore::default();
    let (created, origin) = DeviceKeyring::load_or_recreate(&store, NOW).unwrap();
    assert_eq!(origin, KeyringOrigin::Created);
    assert!(origin.needs_registration());
    assert_eq!(store.stored().unwrap(), *created.to_bytes().unwrap());

    let (loaded, origin) = DeviceKeyring::load_or_recreate(&store, NOW).unwrap();
    assert_eq!((loaded.key_id(), origin), (created.key_id(), KeyringOrigin::Loaded));
    assert!(!origin.needs_registration());
    assert_eq!((store.saves.get(), store.deletes.get()), (1, 0));
}

#[test]
fn load_or_recreate_replaces_bytes_that_are_not_a_keyring_once() {
    let good = DeviceKeyring::generate().unwrap().to_bytes().unwrap();
    let text = String::from_utf8(good.to_vec()).unwrap();
    let other_format = text
        .replace("pushseal-keyring-v1", "pushseal-keyring-v9")
        .replace("pushseal-keyring-v2", "pushseal-keyring-v9");
    for damaged in [b"\xff\xfe".to_vec(), other_format.into_bytes()] {
        let store = TestStore::holding(&damaged);
        let (fresh, origin) = DeviceKeyring::load_or_recreate(&store, NOW).unwrap();
        assert_eq!(origin, KeyringOrigin::Recreated);
        assert!(origin.needs_registration());
        assert!(fresh.trusted_senders().is_empty());
        assert_eq!((store.deletes.get(), store.saves.get()), (1, 1));
        assert_eq!(store.stored().unwrap(), *fresh.to_bytes().unwrap());
        // The next start loads the new keyring: recreated once, not at every start.
        let (again, origin) = DeviceKeyring::load_or_recreate(&store, NOW).unwrap();
        assert_eq!((again.key_id(), origin), (fresh.key_id(), KeyringOrigin::Loaded));
        assert_eq!(store.deletes.get(), 1);
    }
}

#[test]
fn load_or_recreate_replaces_a_keyring_its_store_says_is_gone() {
    let store = TestStore::holding(&DeviceKeyring::generate().unwrap().to_bytes().unwrap());
    store.wrapping_key_gone.set(true);
    let (fresh, origin) = DeviceKeyring::load_or_recreate(&store, NOW).unwrap();
    assert_eq!(origin, KeyringOrigin::Recreated);
    assert_eq!(store.deletes.get(), 1);
    assert_eq!(store.stored().unwrap(), *fresh.to_bytes().unwrap());
}

#[test]
fn load_or_recreate_deletes_nothing_on_a_storage_error() {
    let stored = DeviceKeyring::generate().unwrap().to_bytes().unwrap();
    let locked = TestStore { load_fails: true, ..TestStore::holding(&stored) };
    assert_eq!(DeviceKeyring::load_or_recreate(&locked, NOW).unwrap_err().kind(), ErrorKind::Storage);
    assert_eq!((locked.deletes.get(), locked.saves.get()), (0, 0));
    assert_eq!(locked.stored().unwrap(), stored.to_vec(), "the keys that may still work stay");

    // A delete that fails hands out no new keyring (the next start tries again).
    let stuck = TestStore { delete_fails: true, ..TestStore::holding(b"damaged") };
    assert_eq!(DeviceKeyring::load_or_recreate(&stuck, NOW).unwrap_err().kind(), ErrorKind::Storage);
    assert_eq!((stuck.saves.get(), stuck.stored().unwrap()), (0, b"damaged".to_vec()));
}

/// Version 2 keys (SPEC.md section 12.8): a keyring stored before version 2
/// gets a version 2 key at load, saved back; both versions rotate and
/// retire together; the v2 settings survive a round trip.
#[test]
fn a_version_1_keyring_gains_a_version_2_key_at_load() {
    let v1_only = DeviceKeyring::from_secret_key(pushseal::DeviceSecretKey::generate().unwrap());
    let bytes = v1_only.to_bytes().unwrap();
    assert!(String::from_utf8(bytes.to_vec()).unwrap().contains("\"pushseal-keyring-v1\""));
    let store = TestStore::holding(&bytes);
    let loaded = DeviceKeyring::load_or_create(&store, NOW).unwrap();
    assert_eq!(store.saves.get(), 1, "saved back with its new key");
    assert_eq!(loaded.key_id(), v1_only.key_id());
    let v2 = loaded.public_key_v2().unwrap().key_id();
    assert!(loaded.registration().v2().is_some());
    // The saved keyring is the version 2 format and keeps that key.
    let again = DeviceKeyring::load_or_create(&store, NOW).unwrap();
    assert_eq!(store.saves.get(), 1);
    assert_eq!(again.public_key_v2().unwrap().key_id(), v2);
}

#[test]
fn both_versions_rotate_retire_and_round_trip() {
    let mut device = DeviceKeyring::generate().unwrap();
    let signer = pushseal::SenderSigningKey::generate().unwrap();
    device.trust_sender_v2(signer.verifying_key());
    device.accept_v1(false);
    let old_v2 = device.public_key_v2().unwrap().key_id();
    device.rotate(NOW, 60).unwrap();
    assert_ne!(device.public_key_v2().unwrap().key_id(), old_v2);
    assert_eq!(device.retired_keys_v2(), vec![(old_v2, NOW + 60)]);
    let back = DeviceKeyring::from_bytes(&device.to_bytes().unwrap()).unwrap();
    assert_eq!(back.retired_keys_v2(), device.retired_keys_v2());
    assert_eq!(back.trusted_senders_v2(), device.trusted_senders_v2());
    assert!(!back.accepts_v1());
    assert_eq!(back.registration(), device.registration());
    // Past the deadline, load_or_create drops the retired keys of both versions.
    let store = TestStore::holding(&device.to_bytes().unwrap());
    let pruned = DeviceKeyring::load_or_create(&store, NOW + 61).unwrap();
    assert!(pruned.retired_keys().is_empty() && pruned.retired_keys_v2().is_empty());
    assert_eq!(store.saves.get(), 1);
    // A version 1 keyring may not carry version 2 fields.
    let text = String::from_utf8(device.to_bytes().unwrap().to_vec()).unwrap();
    let mixed = text.replace("pushseal-keyring-v2", "pushseal-keyring-v1");
    assert_eq!(DeviceKeyring::from_bytes(mixed.as_bytes()).unwrap_err().kind(), ErrorKind::InvalidKeyring);
}
