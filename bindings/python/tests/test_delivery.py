"""Sending from Python (`ApnsDelivery`, `FcmDelivery`: the module's `server`
build) against the project's real local gateways, over HTTP/2 and TLS on
127.0.0.1: each device of a send gets exactly one outcome, of the delivery
crate's kinds, with the fields `pushseal send` prints; the device token
chooses the gateway's answer (delivery/src/gateway/apns.rs and fcm.rs); a
configuration error raises a `DeliveryError` that names the key id or the
service account and holds no key material; an audit log records each outcome
linked to its `sealed` record; the gateway's certificate is verified."""

import json
import pathlib
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import gateways
import pushseal
from pushseal import (
    ApnsDelivery,
    AuditLog,
    BatchDevice,
    DeliveryError,
    DeviceKeyring,
    ErrorKind,
    FcmDelivery,
    Message,
    Sender,
)

MESSAGE = Message("Lab results", "Your results from Tuesday are ready.")
HEX_TOKEN = "a1" * 32  # 64 hex digits: the APNs gateway delivers it


@pytest.fixture(scope="module")
def apns(tmp_path_factory):
    gateway = gateways.start_apns(tmp_path_factory.mktemp("apns"))
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def fcm(tmp_path_factory):
    gateway = gateways.start_fcm(tmp_path_factory.mktemp("fcm"))
    yield gateway
    gateway.stop()


def apns_delivery(gateway):
    return ApnsDelivery.from_p8_file(
        gateway.key_file,
        gateways.KEY_ID,
        gateways.TEAM_ID,
        gateways.TOPIC,
        gateway=gateway.url,
        gateway_ca=gateway.ca_file,
    )


def fcm_delivery(gateway):
    return FcmDelivery.from_service_account_file(
        gateway.service_account, gateway=gateway.url, gateway_ca=gateway.ca_file
    )


def keyring_for(sender):
    device = DeviceKeyring.generate()
    device.trust_sender(sender.public_key())
    return device


def by_index(stream, count):
    """Every outcome of `stream`, by index: exactly one per device."""
    outcomes = list(stream)
    assert sorted(o.index for o in outcomes) == list(range(count)), [o.index for o in outcomes]
    assert stream.next() is None, "a stream ends once"
    return {o.index: o for o in outcomes}


def test_each_apns_device_gets_one_outcome_of_the_kind_its_token_asks_for(apns):
    sender = Sender.generate()
    devices = [keyring_for(sender) for _ in range(4)]
    tokens = [HEX_TOKEN, "unregistered", "not-a-device-token", "reason-BadCollapseId"]
    to = [BatchDevice(public_key=d.registration(), token=t) for d, t in zip(devices, tokens)]
    to.append(BatchDevice(public_key="not a public key", token=HEX_TOKEN))

    outcomes = by_index(apns_delivery(apns).send(sender, to, MESSAGE), len(to))

    delivered, gone, bad_token, rejected, not_sealed = (outcomes[i] for i in range(5))
    assert delivered.kind == "delivered"
    assert delivered.gateway_id and delivered.reason is None
    assert (gone.kind, gone.reason) == ("token_gone", "Unregistered")
    # The gateway says the token went away a day ago.
    assert timedelta(hours=23) < datetime.now(timezone.utc) - gone.since < timedelta(hours=25)
    assert (bad_token.kind, bad_token.reason, bad_token.since) == ("token_gone", "BadDeviceToken", None)
    assert (rejected.kind, rejected.reason) == ("rejected", "BadCollapseId")
    assert not_sealed.kind == "not_sealed"
    assert not_sealed.error_kind == ErrorKind.INVALID_ENCODING
    assert (not_sealed.message_id, not_sealed.recipient_key_id) == (None, None)
    for i, device in enumerate(devices):
        assert outcomes[i].recipient_key_id in (device.key_id(), device.key_id_v2())
        assert outcomes[i].device == tokens[i]
    assert len({outcomes[i].message_id for i in range(4)}) == 1, "one message id for the whole send"
    assert len(delivered.message_id) == 32


def test_a_send_reads_the_same_batch_devices_as_a_batch_seal_and_honours_its_options(apns):
    sender = Sender.generate()
    device = keyring_for(sender)
    to = [BatchDevice(public_key=device.public_key(), token=HEX_TOKEN, collapse_id="c" * 65)]
    # A collapse id over APNs' 64 bytes: the core refuses it before anything is sent.
    (outcome,) = apns_delivery(apns).send(sender, to, MESSAGE)
    assert (outcome.kind, outcome.error_kind) == ("not_sealed", ErrorKind.INVALID_NOTIFICATION)
    # A message the bindings refuse (no TTL) fails each device, nothing sent.
    stream = apns_delivery(apns).send(sender, to * 2, Message("t", "b", ttl=timedelta(0)))
    assert [o.kind for o in stream] == ["not_sealed", "not_sealed"]


def test_a_wrong_apns_key_raises_a_configuration_error_naming_the_key(apns):
    other = ec.generate_private_key(ec.SECP256R1())
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    delivery = ApnsDelivery.from_p8_pem(
        pem, gateways.KEY_ID, gateways.TEAM_ID, gateways.TOPIC, gateway=apns.url, gateway_ca=apns.ca_file
    )
    sender = Sender.generate()
    to = [BatchDevice(public_key=keyring_for(sender).public_key(), token=HEX_TOKEN) for _ in range(3)]
    stream = delivery.send(sender, to, MESSAGE)
    seen = []
    with pytest.raises(DeliveryError.ApnsKeyRefused) as raised:
        for outcome in stream:
            seen.append(outcome)
    text = str(raised.value)
    assert gateways.KEY_ID in text and gateways.TEAM_ID in text and "InvalidProviderToken" in text, text
    assert raised.value.reason == text
    body = "".join(pem.splitlines()[1:-1])
    assert body[:40] not in text and body[:40] not in repr(raised.value)
    # The messages in flight when the run stopped end first, never as delivered.
    assert all(o.kind in ("misconfigured", "failed") for o in seen), [o.kind for o in seen]
    assert len(seen) <= len(to)
    assert stream.next() is None, "after the error, the stream has ended"


def test_bad_credentials_and_settings_raise_before_anything_is_sent(apns, tmp_path):
    missing = str(tmp_path / "AuthKey_NONE.p8")
    with pytest.raises(DeliveryError.Credential, match="AuthKey_NONE.p8"):
        ApnsDelivery.from_p8_file(missing, gateways.KEY_ID, gateways.TEAM_ID, gateways.TOPIC)
    with pytest.raises(DeliveryError.Credential, match="PKCS#8"):
        ApnsDelivery.from_p8_pem("not a key", gateways.KEY_ID, gateways.TEAM_ID, gateways.TOPIC)
    # The key file is read first: a bad id is reported as that credential's.
    with pytest.raises(DeliveryError.Credential, match="not an Apple key id"):
        ApnsDelivery.from_p8_file(apns.key_file, "short", gateways.TEAM_ID, gateways.TOPIC)
    pem = pathlib.Path(apns.key_file).read_text()
    with pytest.raises(DeliveryError.Setting, match="not an Apple team id"):
        ApnsDelivery.from_p8_pem(pem, gateways.KEY_ID, "team", gateways.TOPIC)
    with pytest.raises(DeliveryError.Setting, match="topic"):
        ApnsDelivery.from_p8_file(apns.key_file, gateways.KEY_ID, gateways.TEAM_ID, "")
    with pytest.raises(DeliveryError.Setting, match="gateway_ca"):
        ApnsDelivery.from_p8_file(
            apns.key_file, gateways.KEY_ID, gateways.TEAM_ID, gateways.TOPIC, gateway_ca=apns.ca_file
        )
    with pytest.raises(DeliveryError.Setting, match="https"):
        ApnsDelivery.from_p8_file(
            apns.key_file, gateways.KEY_ID, gateways.TEAM_ID, gateways.TOPIC, gateway="http://127.0.0.1:1"
        )
    with pytest.raises(DeliveryError.Setting, match="sandbox"):
        ApnsDelivery.from_p8_file(
            apns.key_file, gateways.KEY_ID, gateways.TEAM_ID, gateways.TOPIC, sandbox=True, gateway=apns.url
        )
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    with pytest.raises(DeliveryError.Tls, match="no certificate"):
        ApnsDelivery.from_p8_file(
            apns.key_file, gateways.KEY_ID, gateways.TEAM_ID, gateways.TOPIC, gateway=apns.url, gateway_ca=str(empty)
        )
    with pytest.raises(DeliveryError.Credential, match="service account"):
        FcmDelivery.from_service_account_json("{}")


def test_the_gateway_certificate_is_verified(apns):
    # No CA file: the public roots, which do not hold the gateway's CA.
    delivery = ApnsDelivery.from_p8_file(
        apns.key_file, gateways.KEY_ID, gateways.TEAM_ID, gateways.TOPIC, gateway=apns.url
    )
    sender = Sender.generate()
    stream = delivery.send(sender, [BatchDevice(public_key=keyring_for(sender).public_key(), token=HEX_TOKEN)], MESSAGE)
    outcomes = []
    with pytest.raises(DeliveryError.Tls, match="not trusted") as raised:
        for outcome in stream:
            outcomes.append(outcome)
    assert "CA file" in str(raised.value), "the message says what to do"
    assert [o.kind for o in outcomes] == ["misconfigured"]


def test_credentials_are_not_shown(apns):
    pem = pathlib.Path(apns.key_file).read_text()
    delivery = ApnsDelivery.from_p8_pem(
        pem, gateways.KEY_ID, gateways.TEAM_ID, gateways.TOPIC, gateway=apns.url, gateway_ca=apns.ca_file
    )
    body = "".join(pem.splitlines()[1:-1])
    for shown in (repr(delivery), str(delivery)):
        assert body[:40] not in shown and "PRIVATE KEY" not in shown


def records(path):
    return [json.loads(line) for line in pathlib.Path(path).read_text().splitlines()]


def test_the_audit_log_records_each_outcome_linked_to_its_sealed_record(apns, tmp_path):
    log = AuditLog.open(str(tmp_path / "audit.jsonl"))
    sender = Sender.with_audit_log(Sender.generate().secret_text(), log)
    devices = [keyring_for(sender) for _ in range(3)]
    tokens = [HEX_TOKEN, "unregistered", "reason-BadTopic"]
    to = [BatchDevice(public_key=d.public_key(), token=t) for d, t in zip(devices, tokens)]

    outcomes = by_index(apns_delivery(apns).send(sender, to, MESSAGE), 3)

    assert [outcomes[i].kind for i in range(3)] == ["delivered", "token_gone", "rejected"]
    message_id = outcomes[0].message_id
    written = records(log.path())
    sealed = [r for r in written if r["type"] == "sealed"]
    assert sorted(r["recipient"] for r in sealed) == sorted(d.key_id() for d in devices)
    assert {r["message_id"] for r in sealed} == {message_id}
    by_recipient = {r["recipient"]: r for r in written if r["type"] in ("sent", "token_gone", "rejected", "failed")}
    assert len(by_recipient) == 3
    for i, device in enumerate(devices):
        record = by_recipient[device.key_id()]
        assert record["type"] == ["sent", "token_gone", "rejected"][i]
        assert record["message_id"] == message_id
        # Each outcome comes after its sealed record.
        assert record["seq"] > next(r["seq"] for r in sealed if r["recipient"] == device.key_id())
    assert by_recipient[devices[0].key_id()]["gateway_id"] == outcomes[0].gateway_id
    assert by_recipient[devices[1].key_id()]["reason"] == "Unregistered"
    assert by_recipient[devices[2].key_id()]["reason"] == "BadTopic"
    text = pathlib.Path(log.path()).read_text()
    assert "Tuesday" not in text and HEX_TOKEN not in text, "no notification text or token in clear"
    report = pushseal.verify_audit_log(log.path())
    assert report.intact and report.sealed == 3 and report.records == 6


def test_a_log_given_to_send_records_for_a_sender_without_one_and_another_log_is_refused(apns, tmp_path):
    log = AuditLog.open(str(tmp_path / "audit.jsonl"))
    sender = Sender.generate()
    device = keyring_for(sender)
    to = [BatchDevice(public_key=device.public_key(), token=HEX_TOKEN)]
    (outcome,) = apns_delivery(apns).send(sender, to, MESSAGE, audit_log=log)
    assert outcome.kind == "delivered"
    assert [r["type"] for r in records(log.path())] == ["sealed", "sent"]

    audited = Sender.with_audit_log(Sender.generate().secret_text(), log)
    other = AuditLog.open(str(tmp_path / "other.jsonl"))
    with pytest.raises(DeliveryError.Setting, match="own audit log"):
        apns_delivery(apns).send(audited, to, MESSAGE, audit_log=other)
    assert not pathlib.Path(other.path()).exists() or records(other.path()) == []


def test_an_audit_log_that_cannot_be_written_stops_the_send_before_anything_is_sent(apns, tmp_path):
    # The log's path is a folder: no record can be appended to it.
    folder = tmp_path / "not-a-file"
    folder.mkdir()
    log = AuditLog.open(str(folder))
    sender = Sender.generate()
    to = [BatchDevice(public_key=keyring_for(sender).public_key(), token=HEX_TOKEN)]
    stream = apns_delivery(apns).send(sender, to, MESSAGE, audit_log=log)
    outcomes = []
    with pytest.raises(DeliveryError.AuditLog) as raised:
        for outcome in stream:
            outcomes.append(outcome)
    assert outcomes == [], "nothing is sent that is not on the record"
    assert "audit log" in str(raised.value)


def test_each_fcm_device_gets_one_outcome_and_the_device_opens_what_was_sent(fcm):
    sender = Sender.generate()
    devices = [keyring_for(sender) for _ in range(4)]
    tokens = ["fcm-token-1", "unregistered", "invalid", "error-SENDER_ID_MISMATCH"]
    to = [BatchDevice(public_key=d.registration(), token=t) for d, t in zip(devices, tokens)]

    outcomes = by_index(fcm_delivery(fcm).send(sender, to, MESSAGE), 4)

    assert outcomes[0].kind == "delivered"
    assert outcomes[0].gateway_id.startswith("projects/pushseal-test/messages/")
    assert (outcomes[1].kind, outcomes[1].reason) == ("token_gone", "UNREGISTERED")
    assert (outcomes[2].kind, outcomes[2].reason) == ("token_gone", "INVALID_ARGUMENT")
    assert outcomes[3].kind == "rejected" and outcomes[3].reason.startswith("SENDER_ID_MISMATCH")
    for i, device in enumerate(devices):
        assert outcomes[i].device == tokens[i]
        assert outcomes[i].recipient_key_id in (device.key_id(), device.key_id_v2())


def test_a_service_account_fcm_refuses_raises_naming_the_account(fcm):
    account = json.loads(pathlib.Path(fcm.service_account).read_text())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    account["private_key"] = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    delivery = FcmDelivery.from_service_account_json(json.dumps(account), gateway=fcm.url, gateway_ca=fcm.ca_file)
    sender = Sender.generate()
    to = [BatchDevice(public_key=keyring_for(sender).public_key(), token="fcm-token") for _ in range(2)]
    with pytest.raises(DeliveryError.ServiceAccountRefused) as raised:
        list(delivery.send(sender, to, MESSAGE))
    assert account["client_email"] in str(raised.value)
    assert "PRIVATE KEY" not in str(raised.value)


def test_many_devices_stream_through_one_delivery_object(fcm):
    delivery = fcm_delivery(fcm)
    sender = Sender.generate()
    key = keyring_for(sender).public_key()
    to = [BatchDevice(public_key=key, token=f"fcm-token-{i}") for i in range(600)]
    for _ in range(2):
        outcomes = by_index(delivery.send(sender, to, MESSAGE), len(to))
        assert {o.kind for o in outcomes.values()} == {"delivered"}
        assert len({o.gateway_id for o in outcomes.values()}) == len(to)
    # Several threads send through one object at once.
    results = {}

    def send_from_thread(n):
        results[n] = [o.kind for o in delivery.send(sender, to[:50], MESSAGE)]

    threads = [threading.Thread(target=send_from_thread, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert results == {n: ["delivered"] * 50 for n in range(3)}
    # A stream dropped before its end stops the send; the object sends again.
    stream = delivery.send(sender, to, MESSAGE)
    assert stream.next().kind == "delivered"
    del stream
    (outcome,) = delivery.send(sender, to[:1], MESSAGE)
    assert outcome.kind == "delivered"


README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
MARKER = "<!-- bindings/python/tests/test_delivery.py runs this block against the gateway -->"


def readme_blocks():
    """The README's sending examples: each Python block after the marker."""
    text = README.read_text()
    blocks = []
    for part in text.split(MARKER)[1:]:
        code = part.split("```python\n", 1)[1].split("```", 1)[0]
        blocks.append(code)
    assert len(blocks) == 2, "the README's APNs and FCM examples"
    return blocks


@pytest.mark.parametrize("which", ["apns", "fcm"])
def test_the_readme_examples_run_as_written(which, apns, fcm):
    # As written, but for the port: the gateway here listens on a free one,
    # not the README's --port 8443, which may be taken.
    gateway, code = {"apns": (apns, readme_blocks()[0]), "fcm": (fcm, readme_blocks()[1])}[which]
    assert "https://127.0.0.1:8443" in code
    code = code.replace("https://127.0.0.1:8443", gateway.url)
    ran = subprocess.run([sys.executable, "-c", code], cwd=gateway.workdir, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    if which == "apns":
        lines = sorted(ran.stdout.splitlines())
        assert lines[0].startswith("0 delivered "), ran.stdout
        assert lines[1].startswith("1 stop pushing to this token: Unregistered "), ran.stdout
        report = pushseal.verify_audit_log(str(gateway.workdir / "audit.jsonl"))
        assert report.intact and report.sealed >= 2
