"""test-vectors/v2.json against envelope version 2 written from SPEC.md section 12 alone
(spec_envelope_v2.py), without the library.

The independent sender reproduces every positive vector byte for byte from its keys, eseed and
plaintext (the ML-KEM half of enc is the vector's, proved to be the encapsulation of eseed[0..32]:
spec_envelope_v2.py says how), the independent device opens them and refuses every negative one
with the vector's error kind, reads and refuses the key texts, and the sender vectors agree with
the size rules of section 12.6.
"""

import hashlib
import math

import pytest

import spec_envelope as v1
import spec_envelope_v2 as spec
import vector_files

if not (vector_files.DIR / "v2.json").exists():  # it comes with the crate's envelope version 2
    pytest.skip("test-vectors/v2.json is not there yet", allow_module_level=True)

V2 = vector_files.load_v2()
POSITIVE = V2["positive"]
NEGATIVE = V2["negative"]
every_positive_vector = pytest.mark.parametrize("v", POSITIVE, ids=[v["name"] for v in POSITIVE])


def h(text):
    return bytes.fromhex(text)


def test_every_section_is_read():
    assert sorted(V2) == ["key_texts", "negative", "positive", "sender"]
    assert sorted(v["padded_len"] for v in POSITIVE) == list(v1.BUCKETS)
    assert len(NEGATIVE) >= 10 and len(V2["key_texts"]) >= 10 and len(V2["sender"]) >= 6


@every_positive_vector
def test_independent_keys_agree_with_the_vector(v):
    name = v["name"]
    sk, seed = h(v["device_v2_seed"]), h(v["sender_v2_seed"])
    pk, A = h(v["device_v2_public_key"]), h(v["sender_v2_public_key"])
    assert spec.public_key(sk) == pk and spec.ed25519_public(seed) == A, name
    assert spec.device_key_id(pk).hex() == v["device_v2_key_id"], name
    assert spec.sender_key_id(A).hex() == v["sender_v2_key_id"], name
    assert spec.key_text(spec.DEVICE_PUBLIC_TEXT, pk) == v["device_v2_public_text"], name
    assert spec.key_text(spec.DEVICE_SECRET_TEXT, sk) == v["device_v2_secret_text"], name
    assert spec.key_text(spec.SENDER_PUBLIC_TEXT, A) == v["sender_v2_public_text"], name
    assert spec.key_text(spec.SENDER_SECRET_TEXT, seed) == v["sender_v2_secret_text"], name
    assert spec.device_public_key_from_text(v["device_v2_public_text"]) == pk, name
    assert spec.key_from_text(spec.DEVICE_SECRET_TEXT, v["device_v2_secret_text"]) == sk, name
    assert spec.sender_public_key_from_text(v["sender_v2_public_text"]) == A, name
    assert spec.key_from_text(spec.SENDER_SECRET_TEXT, v["sender_v2_secret_text"]) == seed, name
    pk_v1 = v1.public_key(h(v["device_v1_secret_key"]))
    assert spec.registration_text(pk_v1, pk) == v["registration"], name
    assert spec.registration_from_text(v["registration"]) == (pk_v1, pk), name


@every_positive_vector
def test_independent_sender_reproduces_the_vector(v):
    name = v["name"]
    seed, pk, eseed = h(v["sender_v2_seed"]), h(v["device_v2_public_key"]), h(v["eseed"])
    enc = h(v["enc"])
    ct_M = enc[: spec.MLKEM_CIPHERTEXT_LEN]
    assert spec.mlkem_ciphertext_is_of(h(v["device_v2_seed"]), ct_M, eseed[:32]), f"{name}: ct_M is of eseed"

    pt = v1.pad(v["plaintext"].encode("utf-8"))
    assert len(v["plaintext"].encode("utf-8")) == v["plaintext_len"] and len(pt) == v["padded_len"], name
    sealed = spec.seal(seed, pk, pt, eseed, ct_M)
    assert sealed.shared_secret == h(v["shared_secret"]), name
    assert sealed.header[17:] == enc, name
    assert sealed.ctx.key == h(v["key"]), name
    assert sealed.ctx.base_nonce == h(v["base_nonce"]), name
    assert sealed.ctx.exporter_secret == h(v["exporter_secret"]), name
    assert sealed.header == h(v["header"]), name
    assert sealed.ct == h(v["ciphertext"]), name
    assert hashlib.sha256(sealed.transcript).hexdigest() == v["transcript_sha256"], name
    assert sealed.signature == h(v["signature"]), name
    assert sealed.envelope == h(v["envelope"]) and len(sealed.envelope) == v["envelope_len"], name
    assert v1.b64url_encode(sealed.envelope) == v["envelope_base64url"], name

    message_id = h(v["message_id"])
    r = spec.receipt(sealed.ctx, message_id)
    assert v1.b64url_encode(r) == v["receipt_base64url"], name
    assert v1.receipt_digest(r).hex() == v["receipt_digest"], name


@every_positive_vector
def test_independent_device_opens_the_vector(v):
    name = v["name"]
    keys = spec.keys_of_keyring(v["keyring"], v["now"])
    pt, ctx, version = spec.open_envelope(v1.b64url_decode(v["envelope_base64url"]), keys)
    assert version == 2 and v1.unpad(pt) == v["plaintext"].encode("utf-8"), name
    assert v1.b64url_encode(spec.receipt(ctx, h(v["message_id"]))) == v["receipt_base64url"], name
    opened = spec.device_open(v["envelope_base64url"], v["keyring"], v["now"])
    assert opened == v1.parse_notification(v["plaintext"].encode("utf-8")), name
    assert opened["id"] == v["message_id"] and opened["sent_at"] == v["sent_at"], name


@pytest.mark.parametrize("v", NEGATIVE, ids=[v["name"] for v in NEGATIVE])
def test_independent_device_refuses_negative_envelopes(v):
    with pytest.raises(spec.SpecError) as error:
        spec.device_open(v["envelope_base64url"], v["keyring"], v["now"])
    assert error.value.kind == v["error_kind"], v["name"]


READERS = {
    "device_v2_public": spec.device_public_key_from_text,
    "device_v2_secret": lambda text: spec.key_from_text(spec.DEVICE_SECRET_TEXT, text),
    "sender_v2_public": spec.sender_public_key_from_text,
    "sender_v2_secret": lambda text: spec.key_from_text(spec.SENDER_SECRET_TEXT, text),
    "registration": spec.registration_from_text,
}


@pytest.mark.parametrize("v", V2["key_texts"], ids=lambda v: v["name"])
def test_independent_reader_of_v2_key_texts(v):
    with pytest.raises(spec.SpecError) as error:
        READERS[v["kind"]](v["text"])
    assert error.value.kind == v["error_kind"], v["name"]


DEFAULT_OPTIONS = {  # section 7.1 and 7.2 with the default options
    "apns": lambda text: v1.apns_body({"push_type": "alert", "fallback_title": "New message", "fallback_body": None}, text),
    "fcm": lambda text: '{"pushseal":"' + text + '"}',
    "envelope": None,
}


def largest_plaintext(target):  # section 7.3 with the envelope sizes of section 12.6
    def fits(bucket):
        envelope_len = spec.HEADER_LEN + bucket + spec.TAG_LEN + spec.SIGNATURE_LEN
        text = "A" * math.ceil(4 * envelope_len / 3)
        payload = DEFAULT_OPTIONS[target]
        return payload is None or len(payload(text).encode("utf-8")) <= 4096

    return max(b for b in v1.BUCKETS if fits(b)) - 1


@pytest.mark.parametrize("v", V2["sender"], ids=lambda v: v["name"])
def test_sender_vectors_follow_the_size_rules(v):
    name = v["name"]
    if "registration" in v:  # the version policy of section 12.3
        with pytest.raises(spec.SpecError) as error:
            spec.version_for(v["registration"], v["pq"])
        assert error.value.kind == v["error_kind"], name
        return
    largest = largest_plaintext(v["target"])
    assert largest == v["max_plaintext_len"], name
    if v["plaintext_len"] <= largest:
        assert v["error_kind"] is None, name
        bucket = next(b for b in v1.BUCKETS if b > v["plaintext_len"])
        assert spec.HEADER_LEN + bucket + spec.TAG_LEN + spec.SIGNATURE_LEN == v["envelope_len"], name
    else:
        assert v["error_kind"] == "payload_too_large" and v["envelope_len"] is None, name
