"""A KeyStorage written in Python (mirrors the Kotlin KeyStorageTest)."""

import pytest

import pushseal
from pushseal import DeviceKeyring, KeyringOrigin, KeyStorage, Message, Payload, PushSealError, ReplayStore, Sender

import vectors


class DictKeyStorage(KeyStorage):
    """KeyStorage implemented in Python and handed to Rust."""

    def __init__(self, stored=None):
        self.stored = stored
        self.loads = 0
        self.saves = 0

    def load(self):
        self.loads += 1
        return self.stored

    def save(self, data):
        self.saves += 1
        self.stored = bytes(data)

    def delete(self):
        self.deletes = getattr(self, "deletes", 0) + 1
        self.stored = None


class FailingKeyStorage(KeyStorage):
    def load(self):
        raise PushSealError.Storage("the storage is locked")

    def save(self, data):
        raise PushSealError.Storage("read-only")

    def delete(self):
        raise PushSealError.Storage("read-only")


class BuggyKeyStorage(KeyStorage):
    def load(self):
        raise RuntimeError("not a PushSealError")

    def save(self, data):
        pass

    def delete(self):
        pass


def test_keyring_loaded_through_python_storage_opens_a_vector_notification():
    v = next(v for v in vectors.load("positive.json") if v["name"] == "data-map-and-options")
    storage = DictKeyStorage(v["keyring"]["serialized"].encode("utf-8"))
    keyring = DeviceKeyring.load_or_create(storage)
    # SPEC.md section 12.8: a stored version 1 keyring gains a version 2 key and is saved back.
    assert (storage.loads, storage.saves) == (1, 1)
    assert b'"format":"pushseal-keyring-v2"' in storage.stored
    opened = keyring.open(pushseal.Payload.FCM(v["fcm"]["data"]), ReplayStore.in_memory(), vectors.at(v["now"]))
    assert opened == vectors.notification(v["expected"])


def test_load_or_create_creates_once_and_reloads():
    storage = DictKeyStorage()
    first = DeviceKeyring.load_or_create(storage)
    assert storage.saves == 1
    assert storage.stored == first.to_bytes()

    sender = Sender.generate()
    first.trust_sender(sender.public_key())
    first.save(storage)
    assert storage.saves == 2

    second = DeviceKeyring.load_or_create(storage)
    assert storage.saves == 2
    assert second.public_key() == first.public_key()
    assert second.trusted_senders() == [sender.public_key()]
    sealed = sender.seal_envelope(second.public_key(), Message(title="Refill due", body="Tap to review."))
    assert second.open(Payload.ENVELOPE(sealed.envelope), ReplayStore.in_memory()).title == "Refill due"


def test_storage_errors_reach_the_caller():
    with pytest.raises(PushSealError.Storage) as info:
        DeviceKeyring.load_or_create(FailingKeyStorage())
    assert info.value.reason == "the storage is locked"
    with pytest.raises(PushSealError.Storage):
        DeviceKeyring.generate().save(FailingKeyStorage())
    with pytest.raises(PushSealError.Internal):
        DeviceKeyring.load_or_create(BuggyKeyStorage())
    with pytest.raises(PushSealError.InvalidKeyring):
        DeviceKeyring.load_or_create(DictKeyStorage(b"not a keyring"))


def test_in_memory_storage_from_the_library():
    storage = pushseal.in_memory_key_storage()
    assert storage.load() is None
    keyring = DeviceKeyring.load_or_create(storage)
    assert storage.load() is not None
    assert DeviceKeyring.load_or_create(storage).key_id() == keyring.key_id()


def test_load_or_recreate_keyring_replaces_only_a_keyring_that_cannot_be_read():
    storage = DictKeyStorage()
    first = pushseal.load_or_recreate_keyring(storage)
    assert first.origin == KeyringOrigin.CREATED and first.origin.needs_registration()
    again = pushseal.load_or_recreate_keyring(storage)
    assert again.origin == KeyringOrigin.LOADED and not again.origin.needs_registration()
    assert again.keyring.key_id() == first.keyring.key_id()

    damaged = DictKeyStorage(b"not a keyring")
    recreated = pushseal.load_or_recreate_keyring(damaged)
    assert recreated.origin == KeyringOrigin.RECREATED
    assert damaged.deletes == 1
    assert damaged.stored == recreated.keyring.to_bytes()

    # Unreachable now: raised as it was, nothing deleted.
    with pytest.raises(PushSealError.Storage):
        pushseal.load_or_recreate_keyring(FailingKeyStorage())
