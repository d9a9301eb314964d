"""Every envelope version 2 vector in test-vectors/v2.json (SPEC.md section 12), through the
Python bindings (mirrors the Kotlin VectorsV2Test): positive vectors open through the same `open`
as version 1, to their plaintext and receipt; negative vectors fail with their kind; sender
vectors seal or refuse as stated; version 2 key texts are refused."""

import base64
import json

import pytest

import pushseal
from pushseal import DeviceKeyring, Message, Payload, Pq, PushSealError, ReplayStore, Sender

import vectors

V2 = vectors.load_v2()
# The same counts as sdk-core/tests/vectors_v2.rs.
POSITIVE, NEGATIVE, SENDER, KEY_TEXTS = 4, 15, 7, 13


def payloads(envelope):
    """The payloads a platform delivers around one envelope text (SPEC.md section 7)."""
    apns = json.dumps({"aps": {"content-available": 1}, "pushseal": envelope}, separators=(",", ":"))
    return [Payload.ENVELOPE(envelope), Payload.FCM({"pushseal": envelope}), Payload.APNS(apns)]


def test_every_section_has_its_count():
    counts = (len(V2["positive"]), len(V2["negative"]), len(V2["sender"]), len(V2["key_texts"]))
    assert counts == (POSITIVE, NEGATIVE, SENDER, KEY_TEXTS)


@pytest.mark.parametrize("v", V2["positive"], ids=lambda v: v["name"])
def test_positive_vectors_open_through_the_same_open_as_version_1(v):
    name = v["name"]
    keyring = DeviceKeyring.from_bytes(v["keyring"].encode("utf-8"))
    assert keyring.to_bytes().decode("utf-8") == v["keyring"], name
    assert keyring.registration() == v["registration"], name
    assert keyring.public_key_v2() == v["device_v2_public_text"], name
    assert keyring.key_id_v2() == v["device_v2_key_id"], name
    assert keyring.trusted_senders_v2() == [v["sender_v2_public_text"]], name

    plaintext = json.loads(v["plaintext"])
    expected = pushseal.OpenedNotification(
        id=v["message_id"],
        sent_at=vectors.at(v["sent_at"]),
        expires_at=vectors.at(plaintext["expires_at"]),
        title=plaintext["title"],
        body=plaintext["body"],
        data={},
        thread_id=None,
        category=None,
        badge=None,
        sound=None,
    )
    now = vectors.at(v["now"])
    envelope = v["envelope_base64url"]
    for payload in payloads(envelope):
        opened = keyring.open_with_receipt(payload, ReplayStore.in_memory(), now)
        assert opened.notification == expected, f"{name} {payload}"
        assert opened.receipt == v["receipt_base64url"], name
        assert pushseal.verify_receipt(v["receipt_digest"], opened.receipt), name
        assert keyring.open(payload, ReplayStore.in_memory(), now) == expected, name

    info = pushseal.inspect(envelope)
    assert (info.version, info.recipient_key_id, info.sender_key_id) == (2, v["device_v2_key_id"], v["sender_v2_key_id"])
    assert info.padded_len == v["padded_len"], name

    # The sender's texts read back as the vector's keys.
    sender = Sender.from_secret_text(Sender.generate().secret_text(), text_v2=v["sender_v2_secret_text"])
    assert sender.public_key_v2() == v["sender_v2_public_text"], name
    assert sender.key_id_v2() == v["sender_v2_key_id"], name
    assert sender.secret_text_v2() == v["sender_v2_secret_text"], name


@pytest.mark.parametrize("v", V2["negative"], ids=lambda v: v["name"])
def test_negative_vectors_fail_with_their_kind(v):
    keyring = DeviceKeyring.from_bytes(v["keyring"].encode("utf-8"))
    with pytest.raises(PushSealError) as info:
        keyring.open(Payload.ENVELOPE(v["envelope_base64url"]), ReplayStore.in_memory(), vectors.at(v["now"]))
    assert vectors.error_kind(info.value) == v["error_kind"], f"{v['name']}: {info.value}"


# A notification's JSON with an empty body: the filler makes it exactly the vector's length.
EMPTY = len('{"id":"00000000000000000000000000000000","sent_at":1767225600,"expires_at":1767312000,"title":"t","body":""}')


@pytest.mark.parametrize("v", V2["sender"], ids=lambda v: v["name"])
def test_sender_vectors_seal_or_refuse_as_stated(v):
    name = v["name"]
    if v["pq"] == "require":
        generated = Sender.generate()
        strict = Sender.from_secret_text(generated.secret_text(), text_v2=generated.secret_text_v2(), pq=Pq.REQUIRE)
        with pytest.raises(PushSealError) as info:
            strict.seal_envelope(v["registration"], Message(title="t", body="b"))
        assert vectors.error_kind(info.value) == v["error_kind"], name
        return
    device = DeviceKeyring.generate()
    sender = Sender.generate()
    device.trust_sender_v2(sender.public_key_v2())
    message = Message(title="t", body="x" * (v["plaintext_len"] - EMPTY))
    to = device.registration()

    def seal():
        if v["target"] == "apns":
            return sender.seal_apns(to, message).sealed
        if v["target"] == "fcm":
            return sender.seal_fcm(to, message).sealed
        sealed = sender.seal_envelope(to, message)
        envelope = base64.urlsafe_b64decode(sealed.envelope + "=" * (-len(sealed.envelope) % 4))
        assert len(envelope) == v["envelope_len"], name
        device.open(Payload.ENVELOPE(sealed.envelope), ReplayStore.in_memory())
        return sealed.sealed

    if v["error_kind"] is None:
        assert seal().version == 2, name
    else:
        with pytest.raises(PushSealError) as info:
            seal()
        assert vectors.error_kind(info.value) == v["error_kind"], f"{name}: {info.value}"


@pytest.mark.parametrize("v", V2["key_texts"], ids=lambda v: v["name"])
def test_version_2_key_texts_are_refused(v):
    text = v["text"]
    keyring = DeviceKeyring.generate()
    if v["kind"] == "sender_v2_public":
        attempt = lambda: keyring.trust_sender_v2(text)  # noqa: E731
    elif v["kind"] == "device_v2_public":
        # A device's version 2 key reaches a sender inside its registration.
        body = text.removeprefix("pushseal-device-v2:")
        registration = f"pushseal-registration-v2:{keyring.public_key()}.{body}"
        attempt = lambda: Sender.generate().seal_envelope(registration, Message(title="t", body="b"))  # noqa: E731
    elif v["kind"] == "sender_v2_secret":
        attempt = lambda: Sender.from_secret_text(Sender.generate().secret_text(), text_v2=text)  # noqa: E731
    elif v["kind"] == "device_v2_secret":
        pytest.skip("the bindings read a device's version 2 secret key only inside keyring bytes")
    else:
        raise AssertionError(f"{v['name']}: unknown kind {v['kind']}")
    with pytest.raises(PushSealError) as info:
        attempt()
    assert vectors.error_kind(info.value) == v["error_kind"], f"{v['name']}: {info.value}"
    assert keyring.trusted_senders_v2() == []
