"""A sender and a device, both through the Python bindings (mirrors the Kotlin RoundTripTest)."""

import json
import datetime

import pytest

import pushseal
from pushseal import (
    ApnsOptions,
    BatchDevice,
    DeviceAction,
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
    opened = device.open(Payload.FCM(message["data"]), replay)
    assert opened.sent_at.tzinfo is not None and opened.expires_at - opened.sent_at == datetime.timedelta(days=1)
    assert opened.expires_at == push.sealed.expires_at
    with pytest.raises(PushSealError.Replayed) as info:
        device.open(Payload.FCM(message["data"]), replay)
    assert info.value.kind() == ErrorKind.REPLAYED and info.value.kind().spec_name() == "replayed"
    with pytest.raises(PushSealError) as info:
        device.open(Payload.FCM(message["data"]), ReplayStore.in_memory(), opened.expires_at + datetime.timedelta(hours=1))
    assert info.value.kind() == ErrorKind.EXPIRED


def test_each_payload_type_opens_once_through_one_open():
    sender = Sender.generate()
    device = device_for(sender)
    replay = ReplayStore.in_memory()

    apns = sender.seal_apns(device.public_key(), MESSAGE, ApnsOptions(collapse_id="labs"))
    assert apns.headers["apns-push-type"] == "alert"
    assert apns.headers["apns-collapse-id"] == "labs"
    assert "Tuesday" not in apns.body
    fcm = sender.seal_fcm(device.public_key(), MESSAGE, FcmOptions(token="fcm-token"))
    message = json.loads(fcm.message_json)
    assert message["token"] == "fcm-token"
    assert json.loads(fcm.request_body) == {"message": message}
    envelope = sender.seal_envelope(device.public_key(), MESSAGE)
    assert pushseal.inspect(envelope.envelope).recipient_key_id == device.key_id()
    assert pushseal.inspect(envelope.envelope).sender_key_id == sender.key_id()

    for payload, sealed in [
        (Payload.APNS(apns.body), apns.sealed),
        (Payload.FCM(message["data"]), fcm.sealed),
        (Payload.ENVELOPE(envelope.envelope), envelope.sealed),
    ]:
        assert sealed.recipient_key_id == device.key_id()
        opened = device.open(payload, replay)
        assert (opened.title, opened.body, opened.data) == (MESSAGE.title, MESSAGE.body, MESSAGE.data)
        assert opened.thread_id == "labs" and opened.badge == 3
        assert (opened.id, opened.sent_at, opened.expires_at) == (sealed.message_id, sealed.sent_at, sealed.expires_at)
        with pytest.raises(PushSealError.Replayed) as info:
            device.open(payload, replay)
        assert info.value.kind().device_action() == DeviceAction.DROP


def test_device_actions_are_the_cores():
    # Every core kind's action is checked against test-vectors/error-kinds.json
    # (test_vectors.py); INTERNAL, the bindings' own, fails safe.
    assert ErrorKind.INTERNAL.device_action() == DeviceAction.SHOW_FALLBACK
    sender = Sender.generate()
    push = sender.seal_apns(device_for(sender).public_key(), MESSAGE)
    with pytest.raises(PushSealError.UnknownRecipientKey) as info:
        device_for(sender).open(Payload.APNS(push.body), ReplayStore.in_memory())
    assert info.value.kind().device_action() == DeviceAction.REREGISTER


def test_receipts_match_the_senders_digest():
    sender = Sender.generate()
    device = device_for(sender)
    push = sender.seal_apns(device.public_key(), MESSAGE)
    opened = device.open_with_receipt(Payload.APNS(push.body), ReplayStore.in_memory())
    assert opened.notification.id == push.sealed.message_id
    assert pushseal.verify_receipt(push.sealed.receipt_digest, opened.receipt)
    other = sender.seal_apns(device.public_key(), MESSAGE)
    assert not pushseal.verify_receipt(other.sealed.receipt_digest, opened.receipt)
    with pytest.raises(PushSealError.InvalidEncoding):
        pushseal.verify_receipt(push.sealed.receipt_digest, "not a receipt")


def test_batch_gives_one_result_per_device_in_order():
    sender = Sender.generate()
    devices = [device_for(sender) for _ in range(5)]
    to = [d.public_key() for d in devices]
    to.insert(2, "not a public key")
    batch = [BatchDevice(public_key=k, token=f"token-{i}") for i, k in enumerate(to)]
    results = sender.seal_batch_fcm(batch, MESSAGE, FcmOptions(collapse_key="labs"))
    assert [r.index for r in results] == list(range(6))
    assert [r.token for r in results] == [f"token-{i}" for i in range(6)]
    assert [r.recipient_key_id for r in results] == [d.key_id() for d in devices[:2]] + [None] + [
        d.key_id() for d in devices[2:]
    ]
    assert results[2].fcm is None and results[2].apns is None
    assert results[2].error_kind == ErrorKind.INVALID_ENCODING and results[2].error_reason
    pushes = [r.fcm for r in results if r.fcm is not None]
    assert len(pushes) == 5 and all(r.apns is None for r in results)
    assert len({p.sealed.message_id for p in pushes}) == 1
    for device, push in zip(devices, pushes):
        data = json.loads(push.message_json)["data"]
        token = json.loads(push.message_json)["token"]
        assert to.index(device.public_key()) == int(token.split("-")[1]), "each device its own token"
        assert device.open(Payload.FCM(data), ReplayStore.in_memory()).body == MESSAGE.body
    with pytest.raises(PushSealError.UnknownRecipientKey):
        devices[1].open(Payload.FCM(json.loads(pushes[0].message_json)["data"]), ReplayStore.in_memory())

    apns = sender.seal_batch_apns([BatchDevice(public_key=d.public_key()) for d in devices], MESSAGE)
    assert all(r.apns is not None and r.fcm is None and r.error_kind is None for r in apns)
    # The same batch streamed: one result per device, in order, as each is sealed.
    stream = sender.stream_batch_fcm(batch, MESSAGE)
    streamed = []
    while (result := stream.next()) is not None:
        streamed.append(result)
    assert [r.index for r in streamed] == list(range(6))
    assert [r.fcm is None for r in streamed] == [r.fcm is None for r in results]
    payload = Payload.APNS(apns[4].apns.body)
    assert devices[4].open(payload, ReplayStore.in_memory()).title == MESSAGE.title


def test_an_fcm_batch_puts_each_token_on_its_own_message():
    sender = Sender.generate()
    devices = [device_for(sender) for _ in range(2)]
    batch = [BatchDevice(public_key=d.public_key(), token=t) for d, t in zip(devices, ["token-a", "token-b"])]
    results = sender.seal_batch_fcm(batch, MESSAGE)
    tokens = [json.loads(r.fcm.message_json)["token"] for r in results]
    assert tokens == ["token-a", "token-b"]
    for device, result in zip(devices, results):
        assert result.fcm.sealed.recipient_key_id == device.key_id()
        data = json.loads(result.fcm.message_json)["data"]
        assert device.open(Payload.FCM(data), ReplayStore.in_memory()).body == MESSAGE.body
    # One token in the batch's options would send every message to one device.
    refused = sender.seal_batch_fcm(batch, MESSAGE, FcmOptions(token="one-token"))
    assert [r.error_kind for r in refused] == [ErrorKind.INVALID_NOTIFICATION] * 2


def test_rotation_trust_and_replay_file(tmp_path):
    sender = Sender.from_secret_text(Sender.generate().secret_text())
    device = DeviceKeyring.generate()
    envelope = Payload.ENVELOPE(sender.seal_envelope(device.public_key(), MESSAGE).envelope)
    with pytest.raises(PushSealError.UntrustedSender):
        device.open(envelope, ReplayStore.in_memory())
    device.trust_sender(sender.public_key())
    assert device.trusted_senders() == [sender.public_key()]

    old_id = device.key_id()
    device.rotate(datetime.timedelta(hours=1))
    assert [k.key_id for k in device.retired_keys()] == [old_id]
    assert device.key_id() != old_id

    path = str(tmp_path / "replay.db")
    assert device.open(envelope, ReplayStore.open(path)).body == MESSAGE.body
    with pytest.raises(PushSealError.Replayed):
        device.open(envelope, ReplayStore.open(path))

    assert device.remove_sender(sender.key_id())
    assert not device.remove_sender(sender.key_id())
    with pytest.raises(PushSealError.InvalidEncoding):
        device.trust_sender("too short")
    with pytest.raises(PushSealError.ZeroSharedSecret):  # u = 0, a low-order point
        device.trust_sender("A" * 43)
    with pytest.raises(PushSealError.InvalidKeyring):
        DeviceKeyring.from_bytes(b"{}")
