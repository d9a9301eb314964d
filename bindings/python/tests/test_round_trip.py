"""A sender and a device, both through the Python bindings (mirrors the Kotlin RoundTripTest)."""

import json
import datetime

import pytest

import pushseal
from pushseal import (
    ApnsOptions,
    BatchDevice,
    DeviceKeyring,
    ErrorKind,
    FcmOptions,
    FcmPriority,
    Message,
    Payload,
    PushSealError,
    ReplayStore,
    Sender,
)

MESSAGE = Message(
    title="Lab results",
    body="Your results from Tuesday are ready.",
    data={"screen": "results", "id": "42"},
    thread_id="labs",
    badge=3,
)


def device_for(sender):
    device = DeviceKeyring.generate()
    device.trust_sender(sender.public_key())
    return device


def test_errors_have_a_kind_times_are_datetimes_and_fcm_takes_a_priority():
    sender = Sender.generate()
    device = device_for(sender)
    push = sender.seal_fcm(device.public_key(), MESSAGE, FcmOptions(priority=FcmPriority.NORMAL))
    message = json.loads(push.message_json)
    assert message["android"]["priority"] == "normal"
    replay = ReplayStore.in_memory()
    opened = device.open_fcm(message["data"], replay)
    assert opened.sent_at.tzinfo is not None and opened.expires_at - opened.sent_at == datetime.timedelta(days=1)
    assert opened.expires_at == push.expires_at
    with pytest.raises(PushSealError.Replayed) as info:
        device.open_fcm(message["data"], replay)
    assert info.value.kind() == ErrorKind.REPLAYED and info.value.kind().spec_name() == "replayed"
    with pytest.raises(PushSealError) as info:
        device.open(Payload.FCM(message["data"]), ReplayStore.in_memory(), opened.expires_at + datetime.timedelta(hours=1))
    assert info.value.kind() == ErrorKind.EXPIRED


def test_apns_fcm_and_envelope_open_once_each():
    sender = Sender.generate()
    device = device_for(sender)
    replay = ReplayStore.in_memory()

    apns = sender.seal_apns(device.public_key(), MESSAGE, ApnsOptions(collapse_id="labs"))
    assert apns.headers["apns-push-type"] == "alert"
    assert apns.headers["apns-collapse-id"] == "labs"
    assert "Tuesday" not in apns.body
    opened = device.open_apns(apns.body, replay)
    assert (opened.title, opened.body, opened.data) == (MESSAGE.title, MESSAGE.body, MESSAGE.data)
    assert opened.thread_id == "labs" and opened.badge == 3
    assert opened.id == apns.message_id and opened.expires_at == apns.expires_at
    with pytest.raises(PushSealError.Replayed):
        device.open_apns(apns.body, replay)

    fcm = sender.seal_fcm(device.public_key(), MESSAGE, FcmOptions(token="fcm-token"))
    message = json.loads(fcm.message_json)
    assert message["token"] == "fcm-token"
    assert json.loads(fcm.request_body) == {"message": message}
    assert device.open_fcm(message["data"], replay).body == MESSAGE.body

    envelope = sender.seal_envelope(device.public_key(), MESSAGE)
    assert pushseal.inspect(envelope).recipient_key_id == device.key_id()
    assert pushseal.inspect(envelope).sender_key_id == sender.key_id()
    assert device.open(Payload.ENVELOPE(envelope), replay).title == MESSAGE.title


def test_receipts_match_the_senders_digest():
    sender = Sender.generate()
    device = device_for(sender)
    push = sender.seal_apns(device.public_key(), MESSAGE)
    opened = device.open_with_receipt(Payload.APNS(push.body), ReplayStore.in_memory())
    assert opened.notification.id == push.message_id
    assert pushseal.verify_receipt(push.receipt_digest, opened.receipt)
    other = sender.seal_apns(device.public_key(), MESSAGE)
    assert not pushseal.verify_receipt(other.receipt_digest, opened.receipt)
    with pytest.raises(PushSealError.InvalidEncoding):
        pushseal.verify_receipt(push.receipt_digest, "not a receipt")


def test_batch_gives_one_result_per_device_in_order():
    sender = Sender.generate()
    devices = [device_for(sender) for _ in range(5)]
    to = [d.public_key() for d in devices]
    to.insert(2, "not a public key")
    batch = [BatchDevice(public_key=k, token=f"token-{i}") for i, k in enumerate(to)]
    results = sender.seal_batch_fcm(batch, MESSAGE, FcmOptions(collapse_key="labs"))
    assert [r.recipient for r in results] == to
    assert results[2].push is None
    assert results[2].error_kind == "invalid_encoding" and results[2].error_reason
    pushes = [r.push for r in results if r.push is not None]
    assert len(pushes) == 5
    assert len({p.message_id for p in pushes}) == 1
    for device, push in zip(devices, pushes):
        data = json.loads(push.message_json)["data"]
        token = json.loads(push.message_json)["token"]
        assert to.index(device.public_key()) == int(token.split("-")[1]), "each device its own token"
        assert device.open_fcm(data, ReplayStore.in_memory()).body == MESSAGE.body
    with pytest.raises(PushSealError.UnknownRecipientKey):
        devices[1].open_fcm(json.loads(pushes[0].message_json)["data"], ReplayStore.in_memory())

    apns = sender.seal_batch_apns([BatchDevice(public_key=d.public_key()) for d in devices], MESSAGE)
    assert all(r.push is not None and r.error_kind is None for r in apns)
    # The same batch streamed: one result per device, in order, as each is sealed.
    stream = sender.stream_batch_fcm(batch, MESSAGE)
    streamed = []
    while (result := stream.next()) is not None:
        streamed.append(result)
    assert [r.recipient for r in streamed] == to
    assert [r.push is None for r in streamed] == [r.push is None for r in results]
    assert devices[4].open_apns(apns[4].push.body, ReplayStore.in_memory()).title == MESSAGE.title


def test_rotation_trust_and_replay_file(tmp_path):
    sender = Sender.from_secret_text(Sender.generate().secret_text())
    device = DeviceKeyring.generate()
    envelope = sender.seal_envelope(device.public_key(), MESSAGE)
    with pytest.raises(PushSealError.UntrustedSender):
        device.open_envelope(envelope, ReplayStore.in_memory())
    device.trust_sender(sender.public_key())
    assert device.trusted_senders() == [sender.public_key()]

    old_id = device.key_id()
    device.rotate(datetime.timedelta(hours=1))
    assert [k.key_id for k in device.retired_keys()] == [old_id]
    assert device.key_id() != old_id

    path = str(tmp_path / "replay.db")
    assert device.open_envelope(envelope, ReplayStore.open(path)).body == MESSAGE.body
    with pytest.raises(PushSealError.Replayed):
        device.open_envelope(envelope, ReplayStore.open(path))

    assert device.remove_sender(sender.key_id())
    assert not device.remove_sender(sender.key_id())
    with pytest.raises(PushSealError.InvalidEncoding):
        device.trust_sender("too short")
    with pytest.raises(PushSealError.ZeroSharedSecret):  # u = 0, a low-order point
        device.trust_sender("A" * 43)
    with pytest.raises(PushSealError.InvalidKeyring):
        DeviceKeyring.from_bytes(b"{}")
