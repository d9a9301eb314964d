"""Envelope version 2 written from SPEC.md section 12 alone (spec_envelope_v2.py) against the
bindings, both ways: the independent sender seals to keyrings made through the bindings (every
positive vector's, and new ones) and the bindings open it; the bindings seal version 2 to
registrations and the independent device opens it; for random messages too. The same bytes each
way: key ids, key texts, the registration, the receipt and its digest.
"""

import json
import secrets
import time

import pytest

import spec_envelope as v1
import spec_envelope_v2 as spec
import vectors
from pushseal import BatchDevice, DeviceKeyring, Message, Payload, Pq, PushSealError, ReplayStore, Sender

V2 = vectors.load_v2()
ROUNDS = 12


def h(text):
    return bytes.fromhex(text)


def random_notification(now):
    """A notification of random length, over every padding bucket but the last."""
    return {
        "id": secrets.token_hex(16),
        "sent_at": now,
        "expires_at": now + 600,
        "title": "Results " + secrets.token_hex(4),
        "body": "Ready \u2713 " + secrets.token_urlsafe(24 + secrets.randbelow(900)),
        "data": {"ref": secrets.token_hex(8), "screen": "results"},
        "badge": secrets.randbelow(100),
    }


def assert_opened_is(opened, n):
    assert (opened.id, opened.sent_at, opened.expires_at) == (n["id"], vectors.at(n["sent_at"]), vectors.at(n["expires_at"]))
    assert (opened.title, opened.body, opened.data, opened.badge) == (n["title"], n["body"], n["data"], n["badge"])
    assert (opened.thread_id, opened.category, opened.sound) == (None, None, None)


def independent_sender_of(device):
    """A new Ed25519 seed the device pins through the bindings, by the independent key text."""
    seed = secrets.token_bytes(32)
    A = spec.ed25519_public(seed)
    device.trust_sender_v2(spec.key_text(spec.SENDER_PUBLIC_TEXT, A))
    assert device.trusted_senders_v2() == [spec.key_text(spec.SENDER_PUBLIC_TEXT, A)]
    return seed


def test_a_binding_keyrings_registration_reads_as_the_independent_one():
    device = DeviceKeyring.generate()
    pk_v1, pk_v2 = spec.registration_from_text(device.registration())
    assert spec.registration_text(pk_v1, pk_v2) == device.registration()
    assert v1.b64url_encode(pk_v1) == device.public_key()
    assert spec.key_text(spec.DEVICE_PUBLIC_TEXT, pk_v2) == device.public_key_v2()
    assert spec.device_key_id(pk_v2).hex() == device.key_id_v2()
    # The keyring's bytes hold the X-Wing seed of that key (section 12.8).
    seed = v1.b64url_decode(json.loads(device.to_bytes())["current_v2"])
    assert spec.public_key(seed) == pk_v2


def test_independent_sender_to_binding_device_for_random_messages():
    device = DeviceKeyring.generate()
    seed = independent_sender_of(device)
    _, pk_v2 = spec.registration_from_text(device.registration())
    for _ in range(ROUNDS):
        n = random_notification(int(time.time()))
        sealed = spec.seal(seed, pk_v2, v1.pad(v1.encode_notification(n)))
        text = v1.b64url_encode(sealed.envelope)
        assert_opened_is(device.open(Payload.ENVELOPE(text), ReplayStore.in_memory()), n)
        with_receipt = device.open_with_receipt(Payload.FCM({"pushseal": text}), ReplayStore.in_memory())
        assert with_receipt.receipt == v1.b64url_encode(spec.receipt(sealed.ctx, h(n["id"])))
        # One byte changed anywhere: the bindings refuse it.
        damaged = bytearray(sealed.envelope)
        damaged[secrets.randbelow(len(damaged))] ^= 1 << secrets.randbelow(8)
        with pytest.raises(PushSealError) as error:
            device.open(Payload.ENVELOPE(v1.b64url_encode(bytes(damaged))), ReplayStore.in_memory())
        assert error.value.kind().spec_name() in {
            "invalid_signature",
            "tampered",
            "unknown_recipient_key",
            "untrusted_sender",
            "unsupported_version",
        }


@pytest.mark.parametrize("v", V2["positive"], ids=lambda v: v["name"])
def test_independent_sender_seals_each_vectors_plaintext_to_its_keyring_through_the_bindings(v):
    keyring = DeviceKeyring.from_bytes(v["keyring"].encode("utf-8"))
    # Fresh encapsulation randomness, the vector's keys: another envelope of the same notification.
    sealed = spec.seal(h(v["sender_v2_seed"]), h(v["device_v2_public_key"]), v1.pad(v["plaintext"].encode("utf-8")))
    assert sealed.envelope != h(v["envelope"]) and len(sealed.envelope) == v["envelope_len"]
    text = v1.b64url_encode(sealed.envelope)
    opened = keyring.open_with_receipt(Payload.ENVELOPE(text), ReplayStore.in_memory(), vectors.at(v["now"]))
    n = v1.parse_notification(v["plaintext"].encode("utf-8"))
    assert (opened.notification.id, opened.notification.title, opened.notification.body) == (n["id"], n["title"], n["body"])
    assert opened.receipt == v1.b64url_encode(spec.receipt(sealed.ctx, h(v["message_id"])))
    assert opened.receipt != v["receipt_base64url"], "the receipt is of this envelope's exporter"


def test_binding_sender_to_independent_device_for_random_messages():
    sender = Sender.generate()
    device = DeviceKeyring.generate()
    device.trust_sender_v2(sender.public_key_v2())
    A = spec.sender_public_key_from_text(sender.public_key_v2())
    assert spec.sender_key_id(A).hex() == sender.key_id_v2()
    for _ in range(ROUNDS):
        now = int(time.time())
        n = random_notification(now)
        message = Message(title=n["title"], body=n["body"], data=n["data"], badge=n["badge"])
        result = sender.seal_envelope(device.registration(), message)
        assert result.sealed.version == 2
        envelope = v1.b64url_decode(result.envelope)
        keys = spec.keys_of_keyring(device.to_bytes().decode("utf-8"), now)
        pt, ctx, version = spec.open_envelope(envelope, keys)
        assert version == 2 and len(pt) in v1.BUCKETS
        opened = v1.parse_notification(v1.unpad(pt))
        assert (opened["title"], opened["body"], opened["data"], opened["badge"]) == (n["title"], n["body"], n["data"], n["badge"])
        assert (opened["id"], vectors.at(opened["expires_at"])) == (result.sealed.message_id, result.sealed.expires_at)
        assert envelope[1:9].hex() == result.sealed.recipient_key_id == device.key_id_v2()
        assert v1.receipt_digest(spec.receipt(ctx, h(opened["id"]))).hex() == result.sealed.receipt_digest
        assert spec.device_open(result.envelope, device.to_bytes().decode("utf-8"), now) == opened


def test_binding_sender_seals_to_an_independent_registration_with_an_independent_signing_key():
    # Every key made outside the bindings: the device's X-Wing seed and X25519 key, the sender's Ed25519 seed.
    device_seed, device_v1 = secrets.token_bytes(32), secrets.token_bytes(32)
    registration = spec.registration_text(v1.public_key(device_v1), spec.public_key(device_seed))
    signing_seed = secrets.token_bytes(32)
    sender = Sender.from_secret_text(
        Sender.generate().secret_text(), text_v2=spec.key_text(spec.SENDER_SECRET_TEXT, signing_seed), pq=Pq.REQUIRE
    )
    A = spec.ed25519_public(signing_seed)
    assert sender.public_key_v2() == spec.key_text(spec.SENDER_PUBLIC_TEXT, A)
    keys = spec.Keys(device_v2=(device_seed,), senders_v2=(A,), accept_v1=False)
    for _ in range(ROUNDS):
        body = secrets.token_urlsafe(1 + secrets.randbelow(1200))
        result = sender.seal_envelope(registration, Message(title="Lab results", body=body))
        pt, _, version = spec.open_envelope(v1.b64url_decode(result.envelope), keys)
        assert version == 2
        n = v1.parse_notification(v1.unpad(pt))
        assert (n["id"], n["title"], n["body"]) == (result.sealed.message_id, "Lab results", body)
    # The policy in the independent words: version 2 required, a version 1 key alone refused.
    with pytest.raises(PushSealError) as error:
        sender.seal_envelope(v1.b64url_encode(v1.public_key(device_v1)), Message(title="t", body="b"))
    assert error.value.kind().spec_name() == "unsupported_version"
    with pytest.raises(spec.SpecError) as spec_error:
        spec.version_for(v1.b64url_encode(v1.public_key(device_v1)), "require")
    assert spec_error.value.kind == "unsupported_version"


def test_a_batch_seals_version_2_to_registrations_and_version_1_to_keys_alone():
    sender = Sender.generate()
    devices = [DeviceKeyring.generate() for _ in range(4)]
    for device in devices:
        device.trust_sender(sender.public_key())
        device.trust_sender_v2(sender.public_key_v2())
    to = [
        BatchDevice(public_key=d.registration() if i % 2 == 0 else d.public_key(), token=f"token-{i}")
        for i, d in enumerate(devices)
    ]
    results = sender.seal_batch_fcm(to, Message(title="Lab results", body="Ready."))
    assert [r.fcm.sealed.version for r in results] == [2, 1, 2, 1]
    now = int(time.time())
    for device, result in zip(devices, results):
        text = json.loads(result.fcm.message_json)["data"]["pushseal"]
        keys = spec.keys_of_keyring(device.to_bytes().decode("utf-8"), now)
        pt, _, version = spec.open_envelope(v1.b64url_decode(text), keys)
        assert version == result.fcm.sealed.version
        assert v1.parse_notification(v1.unpad(pt))["id"] == result.fcm.sealed.message_id
        assert device.open(Payload.FCM({"pushseal": text}), ReplayStore.in_memory()).body == "Ready."
