"""The PushSeal v1 envelope written again from SPEC.md and RFC 9180 alone, over `cryptography`
(X25519, ChaCha20Poly1305) and the standard library (HMAC-SHA256, SHA-256, base64, json).

It shares no code with the Rust core, so the tests can hold the core, the bindings and the
vectors against the specification: a byte that SPEC.md does not pin down shows up as a failure.
Names follow the specification; errors carry its error kinds (SPEC.md section 9).
"""

import base64
import hashlib
import hmac
import json
import math
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

VERSION = 0x01
HEADER_LEN = 49
TAG_LEN = 16
INFO = b"pushseal envelope v1"
BUCKETS = (256, 512, 1024, 2048)
SKEW = 300
MAX_TTL = 2419200  # SPEC.md section 5: the longest TTL, 28 days
MAX_ENVELOPE_TEXT = 2818  # SPEC.md section 4.3: the text of the largest envelope, 2113 bytes
DEFAULT_TTL = 86400
SECRET_KEY_PREFIX = "pushseal-secret-key-v1:"
MODE_BASE, MODE_PSK, MODE_AUTH, MODE_AUTH_PSK = 0x00, 0x01, 0x02, 0x03  # RFC 9180 section 5


class SpecError(Exception):
    """A failure, named by its SPEC.md section 9 error kind."""

    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind


def i2osp(n, w):  # SPEC.md section 1
    return n.to_bytes(w, "big")


KEM_SUITE_ID = b"KEM" + i2osp(0x0020, 2)  # RFC 9180 section 4.1
HPKE_SUITE_ID = b"HPKE" + i2osp(0x0020, 2) + i2osp(0x0001, 2) + i2osp(0x0003, 2)  # RFC 9180 section 5.1


def b64url_encode(data):  # SPEC.md section 1: RFC 4648 section 5, no padding
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):  # SPEC.md section 1: URL-safe alphabet only, no padding, canonical
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise SpecError("invalid_encoding")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(data) != text:
        raise SpecError("invalid_encoding")
    return data


KEY_TEXT_WHITE_SPACE = " \t\n\r"  # SPEC.md section 3.1: these four, and no other character, around a key text


def secret_key_from_text(text):  # SPEC.md section 3.1
    text = text.strip(KEY_TEXT_WHITE_SPACE)
    if len(text) != 66 or not text.startswith(SECRET_KEY_PREFIX):
        raise SpecError("invalid_encoding")
    return b64url_decode(text[len(SECRET_KEY_PREFIX) :])


def public_key_from_text(text):  # SPEC.md section 3.1; any wrong length is invalid_encoding (section 9)
    text = text.strip(KEY_TEXT_WHITE_SPACE)
    if len(text) != 43:
        raise SpecError("invalid_encoding")
    return b64url_decode(text)


def public_key(sk):  # RFC 7748 section 6.1
    return X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes_raw()


def key_id(pk):  # SPEC.md section 3.2
    return hashlib.sha256(b"pushseal-v1 key id" + pk).digest()[:8]


def dh(sk, pk):  # RFC 7748 section 6.1; SPEC.md section 2 rejects the all-zero output
    peer = X25519PublicKey.from_public_bytes(pk)
    try:
        out = X25519PrivateKey.from_private_bytes(sk).exchange(peer)
    except ValueError:  # `cryptography` refuses the all-zero output itself
        raise SpecError("zero_shared_secret") from None
    if not any(out):
        raise SpecError("zero_shared_secret")
    return out


def hkdf_extract(salt, ikm):  # RFC 5869 section 2.2
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand(prk, info, length):  # RFC 5869 section 2.3
    okm, t, i = b"", b"", 0
    while len(okm) < length:
        i += 1
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        okm += t
    return okm[:length]


def labeled_extract(suite_id, salt, label, ikm):  # RFC 9180 section 4
    return hkdf_extract(salt, b"HPKE-v1" + suite_id + label + ikm)


def labeled_expand(suite_id, prk, label, info, length):  # RFC 9180 section 4
    return hkdf_expand(prk, i2osp(length, 2) + b"HPKE-v1" + suite_id + label + info, length)


def extract_and_expand(dh_out, kem_context):  # RFC 9180 section 4.1
    eae_prk = labeled_extract(KEM_SUITE_ID, b"", b"eae_prk", dh_out)
    return labeled_expand(KEM_SUITE_ID, eae_prk, b"shared_secret", kem_context, 32)


def derive_key_pair(ikm):  # RFC 9180 section 7.1.3; returns sk, whose pk is public_key(sk)
    dkp_prk = labeled_extract(KEM_SUITE_ID, b"", b"dkp_prk", ikm)
    return labeled_expand(KEM_SUITE_ID, dkp_prk, b"sk", b"", 32)


def encap(pkR, skE):  # RFC 9180 section 4.1, Encap with a given ephemeral key
    enc = public_key(skE)
    return extract_and_expand(dh(skE, pkR), enc + pkR), enc


def decap(enc, skR):  # RFC 9180 section 4.1, Decap
    return extract_and_expand(dh(skR, enc), enc + public_key(skR))


def auth_encap(pkR, skS, skE):  # RFC 9180 section 4.1, AuthEncap with a given ephemeral key
    enc = public_key(skE)
    kem_context = enc + pkR + public_key(skS)
    return extract_and_expand(dh(skE, pkR) + dh(skS, pkR), kem_context), enc


def auth_decap(enc, skR, pkS):  # RFC 9180 section 4.1, AuthDecap
    kem_context = enc + public_key(skR) + pkS
    return extract_and_expand(dh(skR, enc) + dh(skR, pkS), kem_context)


@dataclass(frozen=True)
class Context:
    """An HPKE context; an envelope uses sequence number 0 only (SPEC.md section 2)."""

    key_schedule_context: bytes
    secret: bytes
    key: bytes
    base_nonce: bytes
    exporter_secret: bytes
    suite_id: bytes = HPKE_SUITE_ID  # RFC 9180 section 5.1: the suite the exporter's labels name

    def nonce(self, seq):  # RFC 9180 section 5.2, ComputeNonce: base_nonce XOR I2OSP(seq, Nn)
        return bytes(a ^ b for a, b in zip(self.base_nonce, i2osp(seq, 12)))

    def seal(self, aad, pt, seq=0):  # RFC 9180 section 5.2
        return ChaCha20Poly1305(self.key).encrypt(self.nonce(seq), pt, aad)

    def open(self, aad, ct, seq=0):  # RFC 9180 section 5.2
        try:
            return ChaCha20Poly1305(self.key).decrypt(self.nonce(seq), ct, aad)
        except InvalidTag:
            raise SpecError("tampered") from None

    def export(self, exporter_context, length):  # RFC 9180 section 5.3
        return labeled_expand(self.suite_id, self.exporter_secret, b"sec", exporter_context, length)


def key_schedule(mode, shared_secret, info, psk=b"", psk_id=b"", suite_id=HPKE_SUITE_ID):  # RFC 9180 section 5.1
    if bool(psk) != bool(psk_id) or bool(psk) != (mode in (MODE_PSK, MODE_AUTH_PSK)):  # VerifyPSKInputs
        raise ValueError("psk and psk_id do not match the mode")
    psk_id_hash = labeled_extract(suite_id, b"", b"psk_id_hash", psk_id)
    info_hash = labeled_extract(suite_id, b"", b"info_hash", info)
    ksc = bytes([mode]) + psk_id_hash + info_hash
    secret = labeled_extract(suite_id, shared_secret, b"secret", psk)
    return Context(
        key_schedule_context=ksc,
        secret=secret,
        key=labeled_expand(suite_id, secret, b"key", ksc, 32),
        base_nonce=labeled_expand(suite_id, secret, b"base_nonce", ksc, 12),
        exporter_secret=labeled_expand(suite_id, secret, b"exp", ksc, 32),
        suite_id=suite_id,
    )


def pad(m):  # SPEC.md section 6
    bucket = next((b for b in BUCKETS if b > len(m)), None)
    if bucket is None:
        raise SpecError("payload_too_large")
    return m + b"\x80" + bytes(bucket - len(m) - 1)


def unpad(pt):  # SPEC.md section 6
    m = pt.rstrip(b"\x00")
    if not m.endswith(b"\x80"):
        raise SpecError("malformed_padding")
    return m[:-1]


@dataclass(frozen=True)
class Sealed:
    shared_secret: bytes
    ctx: Context
    header: bytes
    envelope: bytes


def seal(skS, pkR, pt, skE):  # SPEC.md section 4.1
    shared_secret, enc = auth_encap(pkR, skS, skE)
    ctx = key_schedule(MODE_AUTH, shared_secret, INFO)
    header = bytes([VERSION]) + key_id(pkR) + key_id(public_key(skS)) + enc
    return Sealed(shared_secret, ctx, header, header + ctx.seal(header, pt))


def open_envelope(envelope, device_keys, sender_keys):  # SPEC.md section 4.2, its steps in order
    if len(envelope) < 1:
        raise SpecError("truncated")
    if envelope[0] != VERSION:
        raise SpecError("unsupported_version")
    if len(envelope) < HEADER_LEN + TAG_LEN:  # steps 3 and 4
        raise SpecError("truncated")
    header, ct = envelope[:HEADER_LEN], envelope[HEADER_LEN:]
    skR = next((sk for sk in device_keys if key_id(public_key(sk)) == header[1:9]), None)
    if skR is None:
        raise SpecError("unknown_recipient_key")
    pkS = next((pk for pk in sender_keys if key_id(pk) == header[9:17]), None)
    if pkS is None:
        raise SpecError("untrusted_sender")
    ctx = key_schedule(MODE_AUTH, auth_decap(header[17:HEADER_LEN], skR, pkS), INFO)
    return ctx.open(header, ct), ctx


def receipt(ctx, message_id):  # SPEC.md section 10.1; message_id is the 16 bytes, not hex
    return ctx.export(b"pushseal receipt v1" + message_id, 16)


def receipt_digest(r):  # SPEC.md section 10.1
    return hashlib.sha256(b"pushseal receipt digest v1" + r).digest()


def receipt_from_text(text):  # SPEC.md section 10.1; white space as around a key text (section 3.1)
    r = b64url_decode(text.strip(KEY_TEXT_WHITE_SPACE))
    if len(r) != 16:
        raise SpecError("invalid_encoding")
    return r


FIELDS = {  # SPEC.md section 5, in the order of its table: name -> (JSON type, required)
    "id": (str, True),
    "sent_at": (int, True),
    "expires_at": (int, True),
    "title": (str, True),
    "body": (str, True),
    "data": (dict, False),
    "thread_id": (str, False),
    "category": (str, False),
    "badge": (int, False),
    "sound": (str, False),
}
SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def json_string(s):  # SPEC.md section 11.1: only `"`, `\` and U+0000..U+001F are escaped
    return '"' + "".join(SHORT_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if c < " " else c) for c in s) + '"'


def encode_notification(n):  # SPEC.md section 11.1: table order, absent fields and empty data left out
    members = []
    for name in FIELDS:
        value = n.get(name)
        if value is None or value == {}:
            continue
        if isinstance(value, dict):
            keys = sorted(value, key=lambda k: k.encode("utf-8"))
            text = "{" + ",".join(json_string(k) + ":" + json_string(value[k]) for k in keys) + "}"
        elif isinstance(value, int):
            text = str(value)
        else:
            text = json_string(value)
        members.append(json_string(name) + ":" + text)
    return ("{" + ",".join(members) + "}").encode("utf-8")


def _object_once(pairs):  # SPEC.md section 5: no field given twice, in `data` too
    if len({k for k, _ in pairs}) != len(pairs):
        raise SpecError("malformed")
    return dict(pairs)


def _no_constant(_):  # NaN and Infinity are not RFC 8259 JSON
    raise SpecError("malformed")


def _unsigned(text):  # SPEC.md section 5: an integer has no sign, fraction or exponent
    if text.startswith("-"):
        raise SpecError("malformed")
    return int(text)


def parse_notification(m):  # SPEC.md section 5, the receiver's rules
    try:
        n = json.loads(
            m.decode("utf-8"), object_pairs_hook=_object_once, parse_constant=_no_constant, parse_int=_unsigned
        )
        if not isinstance(n, dict) or not set(n) <= set(FIELDS):
            raise SpecError("malformed")
        strings = []
        for name, (kind, required) in FIELDS.items():
            if name not in n:
                if required:
                    raise SpecError("malformed")
                continue
            value = n[name]
            if type(value) is not kind:  # `type`, not isinstance: true is not an integer here
                raise SpecError("malformed")
            if kind is int and not 0 <= value < 2 ** (32 if name == "badge" else 64):
                raise SpecError("malformed")
            if kind is str:
                strings.append(value)
            if kind is dict:
                if not all(type(v) is str for v in value.values()):
                    raise SpecError("malformed")
                strings += [*value, *value.values()]
        if not re.fullmatch(r"[0-9a-f]{32}", n["id"]) or n["expires_at"] < n["sent_at"]:
            raise SpecError("malformed")
        if n["expires_at"] - n["sent_at"] > MAX_TTL:  # the TTL bound
            raise SpecError("malformed")
        for s in strings:
            s.encode("utf-8")  # a lone surrogate escape (`\ud800`) has no UTF-8 form
    except ValueError:  # invalid UTF-8, invalid JSON, trailing data, a lone surrogate
        raise SpecError("malformed") from None
    return n


def device_open(text, keyring_json, now):  # SPEC.md section 8.1 steps 2 to 7, bare envelope, new replay store
    if len(text.encode("utf-8")) > MAX_ENVELOPE_TEXT:  # section 4.3: bytes, counted before decoding
        raise SpecError("payload_too_large")
    keyring = json.loads(keyring_json)  # SPEC.md section 8.2
    device_keys = [b64url_decode(keyring["current"])]
    device_keys += [b64url_decode(r["key"]) for r in keyring["retired"] if now <= r["usable_until"]]
    sender_keys = [b64url_decode(pk) for pk in keyring["trusted_senders"]]
    pt, _ = open_envelope(b64url_decode(text), device_keys, sender_keys)
    n = parse_notification(unpad(pt))
    if now > n["expires_at"] + SKEW:
        raise SpecError("expired")
    if n["sent_at"] > now + SKEW:
        raise SpecError("not_yet_valid")
    if n["expires_at"] <= 0:  # section 8.3: a new store's floor is 0
        raise SpecError("replayed")
    return n


def apns_body(options, envelope_text):  # SPEC.md section 7.1, members sorted, no white space
    if options["push_type"] == "background":
        aps = '{"content-available":1}'
    else:
        alert = []
        if options["fallback_body"] is not None:
            alert.append('"body":' + json_string(options["fallback_body"]))
        alert.append('"title":' + json_string(options["fallback_title"]))
        aps = '{"alert":{' + ",".join(alert) + '},"mutable-content":1}'
    return '{"aps":' + aps + ',"pushseal":' + json_string(envelope_text) + "}"


def fcm_message(options, ttl, envelope_text):  # SPEC.md section 7.2, members sorted, no white space
    android = []
    if options["collapse_key"] is not None:
        android.append('"collapse_key":' + json_string(options["collapse_key"]))
    android += ['"priority":"high"', '"ttl":' + json_string(f"{ttl}s")]
    text = '{"android":{' + ",".join(android) + '},"data":{"pushseal":' + json_string(envelope_text) + "}"
    if options["token"] is not None:
        text += ',"token":' + json_string(options["token"])
    return text + "}"


MAX_DEPTH = 64  # SPEC.md section 7.4


def _payload_object(pairs):  # SPEC.md section 7.4: no name twice; names have a UTF-8 form
    if len({k for k, _ in pairs}) != len(pairs):
        raise SpecError("not_pushseal")
    for k, _ in pairs:
        k.encode("utf-8")
    return dict(pairs)


def _finite(text):  # SPEC.md section 7.4: every number is finite as a binary64
    if not math.isfinite(float(text)):
        raise SpecError("not_pushseal")
    return float(text)


def _not_json(_):  # NaN and Infinity are not RFC 8259 JSON
    raise SpecError("not_pushseal")


def _check_payload_value(value, depth):
    if isinstance(value, str):
        value.encode("utf-8")  # a lone surrogate escape has no UTF-8 form
    elif isinstance(value, (list, dict)):
        if depth > MAX_DEPTH:
            raise SpecError("not_pushseal")
        for item in value.values() if isinstance(value, dict) else value:
            _check_payload_value(item, depth + 1)


def apns_envelope_text(body):  # SPEC.md section 7.4: the whole payload is read, then its "pushseal" string
    try:
        value = json.loads(
            body, object_pairs_hook=_payload_object, parse_constant=_not_json, parse_int=_finite, parse_float=_finite
        )
        _check_payload_value(value, 1)
    except (ValueError, OverflowError, RecursionError):  # invalid JSON, a lone surrogate, 10**400
        raise SpecError("not_pushseal") from None
    if not isinstance(value, dict) or not isinstance(value.get("pushseal"), str):
        raise SpecError("not_pushseal")
    return value["pushseal"]
