"""The sender's audit log, through the Python bindings: the module is built with the
bindings' `server` feature, which the library apps ship leaves out."""

import json
import pathlib

import pytest

import pushseal
from pushseal import (
    AuditBreakKind,
    AuditDelivery,
    AuditLog,
    BatchDevice,
    DeviceKeyring,
    FcmOptions,
    Message,
    Payload,
    PushSealError,
    ReplayStore,
    Sender,
)

MESSAGE = Message(title="Lab results", body="Your results from Tuesday are ready.")



def batch_of(keys):
    """A batch's devices, with the batch's options."""
    return [BatchDevice(public_key=k) for k in keys]

def audited_sender(log):
    return Sender.with_audit_log(Sender.generate().secret_text(), log)


def device_for(sender):
    device = DeviceKeyring.generate()
    device.trust_sender(sender.public_key())
    return device


def records(log):
    return [json.loads(line) for line in pathlib.Path(log.path()).read_text().splitlines()]


def test_every_seal_writes_one_sealed_record_and_tokens_only_as_keyed_hashes(tmp_path):
    log = AuditLog.open(str(tmp_path / "audit.jsonl"), token_key=bytes([7]) * 32)
    sender = audited_sender(log)
    devices = [device_for(sender) for _ in range(2)]
    to = [d.public_key() for d in devices]

    apns = sender.seal_apns(to[0], MESSAGE)
    fcm = sender.seal_fcm(to[1], MESSAGE, FcmOptions(token="fcm-token"))
    envelope = sender.seal_envelope(to[0], MESSAGE)
    sender.seal_envelope(to[1], MESSAGE)
    batch = sender.seal_batch_apns(batch_of([to[0], "not a public key", to[1]]), MESSAGE)
    assert batch[1].error_kind == pushseal.ErrorKind.INVALID_ENCODING
    sender.seal_batch_apns(batch_of(to), MESSAGE)
    tokened = [BatchDevice(public_key=k, token=f"tok-{i}") for i, k in enumerate(to)]
    sender.seal_batch_fcm(tokened, MESSAGE)

    recs = records(log)
    assert len(recs) == 10, "one sealed record per notification handed out, none for the bad key"
    assert all(r["type"] == "sealed" for r in recs)
    assert [r["seq"] for r in recs] == list(range(10))
    assert [r["platform"] for r in recs[:4]] == ["apns", "fcm", "envelope", "envelope"]
    assert [r["message_id"] for r in recs[:3]] == [apns.sealed.message_id, fcm.sealed.message_id, envelope.sealed.message_id]
    assert recs[0]["receipt_digest"] == apns.sealed.receipt_digest
    assert (recs[1]["sender"], recs[1]["recipient"]) == (sender.key_id(), devices[1].key_id())
    assert len(recs[1]["token_hmac"]) == 64
    assert [i for i, r in enumerate(recs) if "token_hmac" in r] == [1, 8, 9]
    assert recs[8]["token_hmac"] != recs[9]["token_hmac"], "each device's record holds its own token's hash"
    text = pathlib.Path(log.path()).read_text()
    assert "Tuesday" not in text and "Lab results" not in text and "fcm-token" not in text and "tok-" not in text

    report = pushseal.verify_audit_log(log.path())
    assert report.intact and report.first_break is None and report.torn_tail is None
    assert (report.records, report.sealed, report.delivered) == (10, 10, 0)
    assert report.senders == [sender.key_id()]
    assert report.recipients == sorted(d.key_id() for d in devices)
    assert report.head == f"9:{recs[9]['hash']}"


def test_without_a_token_key_no_token_is_recorded_and_a_key_must_be_32_bytes(tmp_path):
    log = AuditLog.open(str(tmp_path / "audit.jsonl"))
    sender = audited_sender(log)
    sender.seal_fcm(device_for(sender).public_key(), MESSAGE, FcmOptions(token="fcm-token"))
    assert "token" not in pathlib.Path(log.path()).read_text()
    with pytest.raises(PushSealError.InvalidKeyLength):
        AuditLog.open(str(tmp_path / "audit.jsonl"), token_key=bytes(31))


def test_a_valid_receipt_is_recorded_once_and_an_invalid_one_is_refused_with_nothing_appended(tmp_path):
    log = AuditLog.open(str(tmp_path / "audit.jsonl"))
    sender = audited_sender(log)
    device = device_for(sender)
    push = sender.seal_fcm(device.public_key(), MESSAGE, FcmOptions(token="fcm-token"))
    other = sender.seal_fcm(device.public_key(), MESSAGE)
    data = json.loads(push.message_json)["data"]
    opened = device.open_with_receipt(Payload.FCM(data), ReplayStore.in_memory())

    before = pathlib.Path(log.path()).read_bytes()
    # The receipt of one notification proves nothing about another.
    with pytest.raises(PushSealError.InvalidReceipt):
        log.record_delivery(other.sealed.message_id, opened.receipt)
    # Nothing was sealed with this id.
    with pytest.raises(PushSealError.InvalidReceipt):
        log.record_delivery("ab" * 16, opened.receipt)
    with pytest.raises(PushSealError.InvalidEncoding):
        log.record_delivery(push.sealed.message_id, "not a receipt")
    with pytest.raises(PushSealError.InvalidEncoding):
        log.record_delivery("not an id", opened.receipt)
    assert pathlib.Path(log.path()).read_bytes() == before, "a refused receipt appends nothing"

    delivered = log.record_delivery(push.sealed.message_id, opened.receipt, now=1_000)
    assert delivered == AuditDelivery(
        seq=2, time=1_000, message_id=push.sealed.message_id, recipient_key_id=device.key_id()
    )
    last = records(log)[-1]
    assert (last["type"], last["receipt"]) == ("delivered", opened.receipt)
    # Recorded again: the first record, nothing appended.
    assert log.record_delivery(push.sealed.message_id, opened.receipt, now=2_000) == delivered
    assert len(records(log)) == 3

    report = pushseal.verify_audit_log(log.path())
    assert report.intact
    assert (report.records, report.sealed, report.delivered) == (3, 2, 1)


def test_verify_reports_intact_then_the_first_tampered_line_and_catches_a_cut_end_with_the_anchor(tmp_path):
    log = AuditLog.open(str(tmp_path / "audit.jsonl"))
    sender = audited_sender(log)
    to = [device_for(sender).public_key() for _ in range(3)]
    assert all(r.apns is not None for r in sender.seal_batch_apns(batch_of(to), MESSAGE))
    intact = pushseal.verify_audit_log(log.path())
    assert intact.intact and intact.records == 3
    head = intact.head
    assert pushseal.verify_audit_log(log.path(), head).intact

    path = pathlib.Path(log.path())
    lines = path.read_text().splitlines()
    tampered = lines[1].replace('"ttl":86400', '"ttl":60')
    assert tampered != lines[1]
    path.write_text("\n".join([lines[0], tampered, lines[2]]) + "\n")
    report = pushseal.verify_audit_log(log.path(), head)
    assert not report.intact
    assert report.records == 1
    broken = report.first_break
    assert (broken.line, broken.expected_seq, broken.kind) == (2, 1, AuditBreakKind.HASH_MISMATCH)
    assert broken.reason

    # Cutting records off the end leaves a valid chain: only the anchor tells.
    path.write_text(lines[0] + "\n")
    assert pushseal.verify_audit_log(log.path()).intact
    assert pushseal.verify_audit_log(log.path(), head).first_break.kind == AuditBreakKind.ANCHOR_MISSING

    with pytest.raises(PushSealError.InvalidEncoding):
        pushseal.verify_audit_log(log.path(), "not an anchor")
    # A deleted log is not an empty one.
    with pytest.raises(PushSealError.Storage):
        pushseal.verify_audit_log(str(tmp_path / "missing.jsonl"))


def test_a_log_to_record_deliveries_in_must_exist(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    # A deleted log is not an empty one: no delivery can be checked against it.
    with pytest.raises(PushSealError.Storage):
        AuditLog.open_existing(path)
    sender = audited_sender(AuditLog.open(path))
    sender.seal_envelope(device_for(sender).public_key(), MESSAGE)
    assert AuditLog.open_existing(path).path() == path


def test_nothing_is_handed_out_without_its_record(tmp_path):
    path = tmp_path / "audit.jsonl"
    # A last line that is not a record: the log refuses to append after it.
    path.write_text("not a record\n")
    sender = audited_sender(AuditLog.open(str(path)))
    device = device_for(sender)
    with pytest.raises(PushSealError.Storage):
        sender.seal_apns(device.public_key(), MESSAGE)
    with pytest.raises(PushSealError.Storage):
        sender.seal_envelope(device.public_key(), MESSAGE)
    with pytest.raises(PushSealError.Storage):
        sender.seal_batch_apns(batch_of([device.public_key()]), MESSAGE)
    assert path.read_text() == "not a record\n"


def test_an_actor_is_recorded_on_every_record_and_a_bad_one_refused(tmp_path):
    log = AuditLog.open(str(tmp_path / "audit.jsonl"))
    service = log.with_actor("svc-lab-results")
    assert (log.actor(), service.actor()) == (None, "svc-lab-results")
    sender = audited_sender(service)
    sender.seal_envelope(device_for(sender).public_key(), MESSAGE)
    audited_sender(log).seal_envelope(device_for(sender).public_key(), MESSAGE)
    written = records(log)
    assert written[0]["actor"] == "svc-lab-results"
    assert "actor" not in written[1]
    for bad in ["", "two\nlines", "x" * 129]:
        with pytest.raises(PushSealError.InvalidEncoding):
            log.with_actor(bad)
    assert pushseal.verify_audit_log(log.path()).intact
