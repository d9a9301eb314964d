"""The vectors and the bindings against an envelope written from SPEC.md alone (spec_envelope.py).

The bindings cannot seal deterministically, so here the independent sender reproduces every
positive vector byte for byte, the independent device opens them and refuses every negative
bare envelope with the vector's error kind, and the independent side and the bindings exchange
fresh envelopes both ways.
"""

import json
import secrets
import time

import pytest

from pushseal import DeviceKeyring, Message, Payload, ReplayStore, Sender

import spec_envelope as spec
import vectors

POSITIVE = vectors.load("positive.json")
every_positive_vector = pytest.mark.parametrize("v", POSITIVE, ids=[v["name"] for v in POSITIVE])

# negative.json: the "open" vectors whose payload is a bare envelope (all but the APNs/FCM ones).
NEGATIVE_ENVELOPES = [
    v for v in vectors.load("negative.json") if v["operation"] == "open" and v["payload"]["kind"] == "envelope"
]
NEGATIVE_ENVELOPE_COUNT = 99

# (offset, bit mask, error kind) of a one-byte change: each header field, enc's top bit (which
# X25519 ignores, so only the header as AAD and the KEM context catch it), the ciphertext, the tag.
TAMPERING = [
    (0, 0x01, "unsupported_version"),
    (1, 0x01, "unknown_recipient_key"),
    (16, 0x80, "untrusted_sender"),
    (17, 0x01, "tampered"),
    (48, 0x80, "tampered"),
    (49, 0x01, "tampered"),
    (-17, 0x01, "tampered"),
    (-1, 0x80, "tampered"),
]


def h(text):
    return bytes.fromhex(text)


def keys(v):
    """(skS, pkS, skR, pkR) of a positive vector."""
    s, r = v["sender"], v["recipient"]
    return h(s["secret_key"]), h(s["public_key"]), h(r["secret_key"]), h(r["public_key"])


def open_kind(envelope, skR, pkS):
    """The error kind of opening `envelope` independently, or None if it opens."""
    try:
        spec.open_envelope(envelope, [skR], [pkS])
    except spec.SpecError as e:
        return e.kind
    return None


def test_every_vector_is_read():
    assert len(POSITIVE) == vectors.POSITIVE
    assert len(NEGATIVE_ENVELOPES) == NEGATIVE_ENVELOPE_COUNT


@every_positive_vector
def test_independent_sender_reproduces_the_vector(v):
    name, hp, hd = v["name"], v["hpke"], v["header"]
    skS, pkS, skR, pkR = keys(v)
    skE = h(v["ephemeral"]["secret_key"])
    assert spec.public_key(skS) == pkS and spec.public_key(skR) == pkR, name
    assert spec.key_id(pkS).hex() == v["sender"]["key_id"] == hd["sender_key_id"], name
    assert spec.key_id(pkR).hex() == v["recipient"]["key_id"] == hd["recipient_key_id"], name
    assert spec.derive_key_pair(h(v["ephemeral"]["ikm"])) == skE, name
    assert spec.public_key(skE) == h(v["ephemeral"]["public_key"]) == h(hd["enc"]), name
    assert spec.dh(skE, pkR) == h(hp["dh_ephemeral"]) and spec.dh(skS, pkR) == h(hp["dh_static"]), name
    assert spec.INFO == h(hp["info"]), name

    pt = spec.pad(v["plaintext"].encode("utf-8"))
    assert pt == h(v["padded_plaintext"]) and len(pt) == v["padded_len"], name
    sealed = spec.seal(skS, pkR, pt, skE)
    assert sealed.shared_secret == h(hp["shared_secret"]), name
    assert sealed.ctx.key_schedule_context == h(hp["key_schedule_context"]), name
    assert sealed.ctx.secret == h(hp["secret"]), name
    assert sealed.ctx.key == h(hp["key"]), name
    assert sealed.ctx.base_nonce == h(hp["base_nonce"]) == h(hp["nonce"]), name
    assert sealed.ctx.exporter_secret == h(hp["exporter_secret"]), name
    assert sealed.header == bytes([hd["version"]]) + h(hd["recipient_key_id"] + hd["sender_key_id"] + hd["enc"]), name
    assert sealed.header == h(v["aad"]), name
    assert sealed.envelope == h(v["aad"] + v["ciphertext"] + v["tag"]), name
    assert sealed.envelope == h(v["envelope"]) and len(sealed.envelope) == v["envelope_len"], name
    assert spec.b64url_encode(sealed.envelope) == v["envelope_base64url"], name

    r = spec.receipt(sealed.ctx, h(v["message_id"]))
    assert b"pushseal receipt v1" + h(v["message_id"]) == h(v["receipt"]["exporter_context"]), name
    assert r == h(v["receipt"]["receipt"]) and spec.b64url_encode(r) == v["receipt"]["receipt_base64url"], name
    assert spec.receipt_digest(r) == h(v["receipt"]["digest"]), name


@every_positive_vector
def test_plaintext_agrees_with_the_message(v):
    name, m = v["name"], v["message"]
    ttl = spec.DEFAULT_TTL if m["ttl_secs"] is None else m["ttl_secs"]
    want = {"id": v["message_id"], "sent_at": v["sent_at"], "expires_at": v["sent_at"] + ttl}
    want.update(title=m["title"], body=m["body"])
    want.update((f, m[f]) for f in ("data", "thread_id", "category", "badge", "sound") if m[f] not in (None, {}))
    plaintext = v["plaintext"].encode("utf-8")
    assert spec.parse_notification(plaintext) == want, name
    assert len(plaintext) == v["plaintext_len"], name
    assert spec.encode_notification(want) == plaintext, name
    absent = {"data": {}, "thread_id": None, "category": None, "badge": None, "sound": None}
    assert {**absent, **want} == v["expected"], name


@every_positive_vector
def test_independent_device_opens_the_vector(v):
    name = v["name"]
    _, pkS, skR, _ = keys(v)
    envelope = spec.b64url_decode(v["envelope_base64url"])
    assert envelope == h(v["envelope"]), name
    pt, ctx = spec.open_envelope(envelope, [skR], [pkS])
    assert pt == h(v["padded_plaintext"]), name
    assert spec.unpad(pt) == v["plaintext"].encode("utf-8"), name
    assert spec.receipt(ctx, h(v["message_id"])) == h(v["receipt"]["receipt"]), name
    # The whole device (keyring, unpadding, notification rules, clock) at the vector's `now`.
    opened = spec.device_open(v["envelope_base64url"], v["keyring"]["serialized"], v["now"])
    assert opened == spec.parse_notification(v["plaintext"].encode("utf-8")), name


@every_positive_vector
def test_one_changed_byte_fails_the_independent_open(v):
    name = v["name"]
    _, pkS, skR, _ = keys(v)
    envelope = h(v["envelope"])
    assert open_kind(envelope, skR, pkS) is None, name
    for offset, mask, kind in TAMPERING:
        changed = bytearray(envelope)
        changed[offset] ^= mask
        assert open_kind(bytes(changed), skR, pkS) == kind, f"{name}: byte {offset} ^ {mask:#04x}"
    assert open_kind(envelope[:-1], skR, pkS) == "tampered", f"{name}: one byte short"
    assert open_kind(envelope + b"\x00", skR, pkS) == "tampered", f"{name}: one byte more"
    assert open_kind(envelope[:64], skR, pkS) == "truncated", f"{name}: no room for a tag"


@pytest.mark.parametrize("v", NEGATIVE_ENVELOPES, ids=[v["name"] for v in NEGATIVE_ENVELOPES])
def test_independent_device_refuses_negative_envelopes(v):
    with pytest.raises(spec.SpecError) as error:
        spec.device_open(v["payload"]["value"], v["keyring"], v["now"])
    expected = v["expected_error"]
    value = v["payload"]["value"]
    text = value.get("pushseal") if isinstance(value, dict) else value
    if isinstance(text, str) and spec.MAX_ENVELOPE_TEXT < len(text.encode()) <= 4354:
        # The vectors are written for a device that also opens version 2 (cap 4354);
        # this one opens version 1 only, whose cap is 2818 (SPEC.md section 4.3).
        expected = "payload_too_large"
    assert error.value.kind == expected, v["name"]


def random_notification(now):
    return {
        "id": secrets.token_hex(16),
        "sent_at": now,
        "expires_at": now + 600,
        "title": "Results " + secrets.token_hex(4),
        "body": "Ready \u2713 " + secrets.token_urlsafe(24 + secrets.randbelow(400)),
        "data": {"ref": secrets.token_hex(8), "screen": "results"},
        "badge": secrets.randbelow(100),
    }


def test_independent_sender_to_binding_device():
    sender = Sender.generate()
    device = DeviceKeyring.generate()
    device.trust_sender(sender.public_key())
    skS = spec.secret_key_from_text(sender.secret_text())
    assert spec.b64url_encode(spec.public_key(skS)) == sender.public_key()
    pkR = spec.b64url_decode(device.public_key())
    assert spec.key_id(pkR).hex() == device.key_id()
    assert spec.key_id(spec.public_key(skS)).hex() == sender.key_id()

    n = random_notification(int(time.time()))
    sealed = spec.seal(skS, pkR, spec.pad(spec.encode_notification(n)), secrets.token_bytes(32))
    text = spec.b64url_encode(sealed.envelope)
    opened = device.open(Payload.ENVELOPE(text), ReplayStore.in_memory())
    assert (opened.id, opened.sent_at, opened.expires_at) == (n["id"], vectors.at(n["sent_at"]), vectors.at(n["expires_at"]))
    assert (opened.title, opened.body, opened.data, opened.badge) == (n["title"], n["body"], n["data"], n["badge"])
    assert (opened.thread_id, opened.category, opened.sound) == (None, None, None)

    with_receipt = device.open_with_receipt(Payload.ENVELOPE(text), ReplayStore.in_memory())
    assert with_receipt.receipt == spec.b64url_encode(spec.receipt(sealed.ctx, h(n["id"])))


def test_binding_sender_to_independent_device():
    sender = Sender.generate()
    device = DeviceKeyring.generate()
    skR = spec.b64url_decode(json.loads(device.to_bytes())["current"])  # the keyring format, SPEC.md section 8.2
    assert spec.b64url_encode(spec.public_key(skR)) == device.public_key()
    pkS = spec.b64url_decode(sender.public_key())
    message = Message(title="Lab results", body="Ready \u2713 " + secrets.token_urlsafe(24), data={"ref": "lab-7731"})

    result = sender.seal_envelope(device.public_key(), message)
    sealed = result.sealed
    envelope = spec.b64url_decode(result.envelope)
    assert envelope[1:9] == spec.key_id(spec.public_key(skR)) and envelope[9:17] == spec.key_id(pkS)
    pt, ctx = spec.open_envelope(envelope, [skR], [pkS])
    assert len(pt) in spec.BUCKETS
    n = spec.parse_notification(spec.unpad(pt))
    assert (n["title"], n["body"], n["data"]) == (message.title, message.body, message.data)
    assert (n["id"], vectors.at(n["expires_at"])) == (sealed.message_id, sealed.expires_at)
    assert n["expires_at"] - n["sent_at"] == spec.DEFAULT_TTL
    assert spec.receipt_digest(spec.receipt(ctx, h(n["id"]))).hex() == sealed.receipt_digest


@every_positive_vector
def test_independent_sender_writes_the_platform_payloads(v):
    # SPEC.md sections 7.1 and 7.2: the wrapper bytes, members sorted, strings escaped as in 11.1.
    text = v["envelope_base64url"]
    assert spec.apns_body(v["apns"]["options"], text) == v["apns"]["body"], v["name"]
    assert len(v["apns"]["body"].encode("utf-8")) == v["apns"]["body_len"], v["name"]
    ttl = v["message"]["ttl_secs"]
    assert spec.fcm_message(v["fcm"]["options"], ttl, text) == v["fcm"]["message"], v["name"]
    assert spec.apns_envelope_text(v["apns"]["body"]) == text, v["name"]


APNS_NEGATIVE = [v for v in vectors.load("negative.json") if v["operation"] == "open" and v["payload"]["kind"] == "apns"]


@pytest.mark.parametrize("v", [v for v in APNS_NEGATIVE if v["expected_error"] == "not_pushseal"], ids=lambda v: v["name"])
def test_independent_device_refuses_apns_payloads_that_carry_no_envelope(v):
    # SPEC.md section 7.4, read independently: duplicates, lone surrogates, 1e400, nesting past 64.
    with pytest.raises(spec.SpecError) as info:
        spec.apns_envelope_text(v["payload"]["value"])
    assert info.value.kind == "not_pushseal", v["name"]


def test_independent_device_reads_the_strict_apns_sequence():
    # The strict-apns-json sequence: the payload of each step either has its envelope or is not_pushseal.
    (seq,) = [s for s in vectors.load("replay-sequences.json") if s["name"] == "strict-apns-json"]
    kinds = []
    for step in seq["steps"]:
        try:
            spec.apns_envelope_text(step["payload"]["value"])
            kinds.append(None)
        except spec.SpecError as e:
            kinds.append(e.kind)
    assert kinds == ["not_pushseal", None, None]


def test_independent_device_reads_the_number_edges_sequence():
    # SPEC.md section 7.4: a number is refused exactly when it rounds to infinity; Python's float() rounds correctly.
    (seq,) = [s for s in vectors.load("replay-sequences.json") if s["name"] == "apns-number-edges"]
    for step in seq["steps"]:
        refused = step.get("expected_error") == "not_pushseal"
        try:
            spec.apns_envelope_text(step["payload"]["value"])
            assert not refused, step["description"]
        except spec.SpecError as e:
            assert refused and e.kind == "not_pushseal", step["description"]


@pytest.mark.parametrize("v", vectors.load("key-texts.json"), ids=lambda v: v["name"])
def test_independent_reader_of_key_texts(v):
    # SPEC.md section 3.1 read independently: only space, tab, LF and CR are trimmed.
    try:
        if v["role"] == "public":
            got = spec.b64url_encode(spec.public_key_from_text(v["text"]))
        elif v["role"] == "secret":
            got = spec.b64url_encode(spec.public_key(spec.secret_key_from_text(v["text"])))
        else:
            r = spec.receipt_from_text(v["text"])
            assert spec.receipt_digest(r).hex() == v["receipt_digest"], v["name"]
            got = spec.b64url_encode(r)
    except spec.SpecError as e:
        assert e.kind == v["expected_error"], v["name"]
        return
    assert got == v.get("expected_public_key", v.get("expected_receipt")), v["name"]
