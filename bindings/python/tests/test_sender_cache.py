"""The sender's DH cache, through the Python bindings (mirrors the Kotlin SenderCacheTest)."""

import pushseal
from pushseal import BatchDevice, DeviceKeyring, Message, Payload, ReplayStore, Sender

MESSAGE = Message(title="Lab results", body="Your results from Tuesday are ready.")


def device_for(sender):
    device = DeviceKeyring.generate()
    device.trust_sender(sender.public_key())
    return device


def test_a_cached_senders_envelopes_open():
    sender = Sender.from_secret_text(Sender.generate().secret_text(), cache_devices=2)
    devices = [device_for(sender) for _ in range(3)]
    replay = ReplayStore.in_memory()
    for _ in range(2):
        for device in devices:
            sealed = sender.seal_envelope(device.public_key(), MESSAGE)
            assert device.open(Payload.ENVELOPE(sealed.envelope), replay).body == MESSAGE.body
    assert sender.cached_devices() == 2, "the cache holds at most its capacity"
    assert Sender.generate().cached_devices() == 0
    # The same key without a cache seals envelopes the same devices open.
    uncached = Sender.from_secret_text(sender.secret_text())
    sealed = uncached.seal_envelope(devices[0].public_key(), MESSAGE)
    assert devices[0].open(Payload.ENVELOPE(sealed.envelope), replay).title == MESSAGE.title


def test_a_cached_senders_batch_opens_on_each_device():
    sender = Sender.from_secret_text(Sender.generate().secret_text(), cache_devices=8)
    devices = [device_for(sender) for _ in range(4)]
    for _ in range(2):
        results = sender.seal_batch_apns([BatchDevice(public_key=d.public_key()) for d in devices], MESSAGE)
        pushes = [r.apns for r in results]
        assert all(p is not None for p in pushes)
        assert len({p.sealed.message_id for p in pushes}) == 1, "one message id for the whole batch"
        for device, push in zip(devices, pushes):
            opened = device.open_with_receipt(Payload.APNS(push.body), ReplayStore.in_memory())
            assert opened.notification.id == push.sealed.message_id
            assert pushseal.verify_receipt(push.sealed.receipt_digest, opened.receipt)
    assert sender.cached_devices() == 4
