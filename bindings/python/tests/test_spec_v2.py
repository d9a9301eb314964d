"""SPEC.md section 12 (envelope version 2) held against the independent implementation of
spec_envelope_v2.py alone, without the library: its sizes and tables, the key texts and the
registration, the order of the opening steps (the signature before any decapsulation), what a
stolen device key cannot do, and the strict Ed25519 and ML-KEM key checks of section 12.1.
"""

import math
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

import spec_envelope as v1
import spec_envelope_v2 as spec

NOW = 1767225600


def notification(body="Ready", ttl=600):
    return {"id": secrets.token_hex(16), "sent_at": NOW, "expires_at": NOW + ttl, "title": "Results", "body": body}


def plaintext(n):
    return v1.pad(v1.encode_notification(n))


class Party:
    """A device with keys of both versions and a v2 sender it trusts, and that sender."""

    def __init__(self):
        self.device_sk = secrets.token_bytes(32)
        self.device_pk = spec.public_key(self.device_sk)
        self.device_v1_sk = X25519PrivateKey.generate().private_bytes_raw()
        self.sender_seed = secrets.token_bytes(32)
        self.sender_A = spec.ed25519_public(self.sender_seed)
        self.keys = spec.Keys(device_v2=(self.device_sk,), senders_v2=(self.sender_A,), device_v1=(self.device_v1_sk,))

    def seal(self, pt):
        return spec.seal(self.sender_seed, self.device_pk, pt)

    def open_kind(self, envelope, keys=None):
        try:
            spec.open_envelope(envelope, keys or self.keys)
        except spec.SpecError as e:
            return e.kind
        return None


@pytest.fixture(scope="module")
def party():
    return Party()


def test_constants_are_the_ones_section_12_gives():
    assert spec.HPKE_SUITE_ID.hex() == "48504b45647a00010003"
    assert spec.INFO.hex() == "70757368" "7365616c" "20656e76" "656c6f70" "65207632" and len(spec.INFO) == 20
    assert len(spec.SIGNATURE_LABEL) == 30
    assert spec.HEADER_LEN == 1137 and spec.MIN_ENVELOPE_LEN == 1217
    # Section 12.5: every transcript field but the last has a fixed length.
    assert [len(spec.SIGNATURE_LABEL), len(spec.HPKE_SUITE_ID), spec.PUBLIC_KEY_LEN, 32, spec.HEADER_LEN] == [
        30,
        10,
        1216,
        32,
        1137,
    ]


def test_the_sizes_table_of_section_12_6():
    defaults = {"push_type": "alert", "fallback_title": "New message", "fallback_body": None}
    rows = []
    for bucket in v1.BUCKETS:
        envelope_len = spec.HEADER_LEN + bucket + spec.TAG_LEN + spec.SIGNATURE_LEN
        text = "A" * math.ceil(4 * envelope_len / 3)
        apns = len(v1.apns_body(defaults, text).encode("utf-8"))
        fcm = len('{"pushseal":""}') + len(text)
        rows.append((bucket, envelope_len, len(text), apns, fcm, apns <= 4096 and fcm <= 4096))
    assert rows == [
        (256, 1473, 1964, 2039, 1979, True),
        (512, 1729, 2306, 2381, 2321, True),
        (1024, 2241, 2988, 3063, 3003, True),
        (2048, 3265, 4354, 4429, 4369, False),
    ]
    assert spec.MAX_ENVELOPE_TEXT == rows[-1][2]
    # Section 12.6: 1,152 bytes and 1,536 characters more than version 1, in every bucket.
    for bucket, envelope_len, text_len, *_ in rows:
        v1_len = v1.HEADER_LEN + bucket + v1.TAG_LEN
        assert envelope_len - v1_len == 1152 and text_len - math.ceil(4 * v1_len / 3) == 1536
    # With a fallback title of T escaped bytes: the 1,024 bucket fits APNs up to 1,044, the 256 one up to 2,068.
    for title_len, fits in ((1044, 1024), (1045, 512), (1726, 512), (1727, 256), (2068, 256)):
        opts = {"push_type": "alert", "fallback_title": "t" * title_len, "fallback_body": None}
        largest = max(b for b, e, *_ in rows if len(v1.apns_body(opts, "A" * math.ceil(4 * e / 3))) <= 4096)
        assert largest == fits, title_len
    opts = {"push_type": "alert", "fallback_title": "t" * 2069, "fallback_body": None}
    assert all(len(v1.apns_body(opts, "A" * math.ceil(4 * e / 3))) > 4096 for _, e, *_ in rows)


def test_key_texts_and_registration_have_the_stated_lengths(party):
    assert len(spec.key_text(spec.DEVICE_PUBLIC_TEXT, party.device_pk)) == 1641
    assert len(spec.key_text(spec.DEVICE_SECRET_TEXT, party.device_sk)) == 69
    assert len(spec.key_text(spec.SENDER_PUBLIC_TEXT, party.sender_A)) == 62
    assert len(spec.key_text(spec.SENDER_SECRET_TEXT, party.sender_seed)) == 69
    pk_v1 = v1.public_key(party.device_v1_sk)
    text = spec.registration_text(pk_v1, party.device_pk)
    assert len(text) == 1691
    assert spec.registration_from_text(" \t" + text + "\r\n") == (pk_v1, party.device_pk)
    assert spec.registration_from_text(v1.b64url_encode(pk_v1) + "\n") == (pk_v1, None)
    assert spec.device_public_key_from_text(spec.key_text(spec.DEVICE_PUBLIC_TEXT, party.device_pk)) == party.device_pk
    assert spec.sender_public_key_from_text(spec.key_text(spec.SENDER_PUBLIC_TEXT, party.sender_A)) == party.sender_A
    # Every form is distinct: a key given in another's place is refused.
    for form, key in (
        (spec.DEVICE_PUBLIC_TEXT, party.device_pk),
        (spec.DEVICE_SECRET_TEXT, party.device_sk),
        (spec.SENDER_PUBLIC_TEXT, party.sender_A),
        (spec.SENDER_SECRET_TEXT, party.sender_seed),
    ):
        for other in (spec.DEVICE_PUBLIC_TEXT, spec.DEVICE_SECRET_TEXT, spec.SENDER_PUBLIC_TEXT, spec.SENDER_SECRET_TEXT):
            if other != form:
                with pytest.raises(spec.SpecError, match="invalid_encoding"):
                    spec.key_from_text(other, spec.key_text(form, key))


def test_bad_registrations_are_invalid_encoding(party):
    pk_v1 = v1.public_key(party.device_v1_sk)
    good = spec.registration_text(pk_v1, party.device_pk)
    bad_ek = bytearray(party.device_pk)
    bad_ek[0], bad_ek[1] = 0x01, 0x0D  # the first coefficient is 0xd01 = 3329 = q
    for text in (
        good[:-1],
        good + "A",
        good.replace("pushseal-registration-v2:", "pushseal-registration-v3:"),
        good.replace(".", ":"),  # base64url has no ".": this is the separator
        "\u00a0" + good,
        good[:100] + " " + good[101:],
        spec.registration_text(pk_v1, bytes(bad_ek)),
        spec.key_text(spec.DEVICE_PUBLIC_TEXT, party.device_pk),  # a device key text is not a registration
    ):
        with pytest.raises(spec.SpecError, match="invalid_encoding"):
            spec.registration_from_text(text)


def test_version_policies(party):
    pk_v1 = v1.public_key(party.device_v1_sk)
    both = spec.registration_text(pk_v1, party.device_pk)
    alone = v1.b64url_encode(pk_v1)
    assert spec.version_for(both) == (2, party.device_pk)
    assert spec.version_for(alone) == (1, pk_v1)
    assert spec.version_for(both, "require") == (2, party.device_pk)
    with pytest.raises(spec.SpecError, match="unsupported_version"):
        spec.version_for(alone, "require")
    assert spec.version_for(both, "off") == (1, pk_v1)


def test_seal_then_open_with_receipt(party):
    n = notification("Ready \u2713 " + secrets.token_urlsafe(200))
    assert len(plaintext(n)) == 512
    sealed = party.seal(plaintext(n))
    assert len(sealed.envelope) == spec.HEADER_LEN + 512 + spec.TAG_LEN + spec.SIGNATURE_LEN
    assert sealed.envelope[0] == 2 and sealed.envelope[1:9] == spec.device_key_id(party.device_pk)
    assert sealed.envelope[9:17] == spec.sender_key_id(party.sender_A)
    pt, ctx, version = spec.open_envelope(sealed.envelope, party.keys)
    assert version == 2 and v1.parse_notification(v1.unpad(pt)) == n
    message_id = bytes.fromhex(n["id"])
    assert spec.receipt(ctx, message_id) == spec.receipt(sealed.ctx, message_id)
    assert spec.receipt(ctx, message_id) != v1.receipt(ctx, message_id)  # its own label


def test_every_field_is_bound(party):
    envelope = party.seal(plaintext(notification())).envelope
    other_device = Party()
    cases = [
        (0, 0x01, "unsupported_version"),  # 0x03
        (1, 0x01, "unknown_recipient_key"),
        (9, 0x01, "untrusted_sender"),
        (17, 0x01, "invalid_signature"),  # enc: the ML-KEM half
        (spec.HEADER_LEN - 1, 0x01, "invalid_signature"),  # enc: the X25519 half
        (spec.HEADER_LEN, 0x01, "invalid_signature"),  # ct
        (-65, 0x01, "invalid_signature"),  # the tag's last byte
        (-64, 0x01, "invalid_signature"),  # R
        (-1, 0x01, "invalid_signature"),  # S
    ]
    for offset, mask, kind in cases:
        changed = bytearray(envelope)
        changed[offset] ^= mask
        assert party.open_kind(bytes(changed)) == kind, f"byte {offset} ^ {mask:#04x}"
    # A version byte of 0x01 makes it a version 1 envelope, whose rid names no version 1 key.
    assert party.open_kind(b"\x01" + envelope[1:]) == "unknown_recipient_key"
    assert party.open_kind(envelope[: spec.HEADER_LEN - 1]) == "truncated"  # a truncated enc
    assert party.open_kind(envelope[: spec.MIN_ENVELOPE_LEN - 1]) == "truncated"
    assert party.open_kind(envelope[:-1]) == "invalid_signature"
    assert party.open_kind(b"") == "truncated"
    assert party.open_kind(b"\x03") == "unsupported_version"
    # Another device that trusts the same sender: its key id differs.
    assert other_device.open_kind(envelope, spec.Keys(device_v2=(other_device.device_sk,), senders_v2=(party.sender_A,))) == (
        "unknown_recipient_key"
    )


def test_the_signature_is_checked_before_decryption(party):
    # A changed ciphertext with a valid signature over it would be `tampered`; unsigned, it never
    # reaches the AEAD.
    sealed = party.seal(plaintext(notification()))
    ct = bytearray(sealed.ct)
    ct[0] ^= 1
    resigned = sealed.header + bytes(ct)
    resigned += spec.ed25519_sign(party.sender_seed, spec.transcript_of(party.device_pk, party.sender_A, sealed.header, bytes(ct)))
    assert party.open_kind(resigned) == "tampered"
    assert party.open_kind(sealed.header + bytes(ct) + sealed.signature) == "invalid_signature"


def test_a_stolen_device_key_forges_nothing(party):
    # Key-compromise impersonation (section 12.10): with skR alone an attacker builds a valid HPKE
    # ciphertext, but cannot sign as the trusted sender.
    n = notification("forged")
    _, enc, ctx = spec.setup_base_s(party.device_pk, spec.INFO)
    header = bytes([2]) + spec.device_key_id(party.device_pk) + spec.sender_key_id(party.sender_A) + enc
    ct = ctx.seal(header, plaintext(n))
    attacker = secrets.token_bytes(32)
    forged = header + ct + spec.ed25519_sign(attacker, spec.transcript_of(party.device_pk, party.sender_A, header, ct))
    assert party.open_kind(forged) == "invalid_signature"
    # Another trusted sender cannot claim an envelope: re-signing under its key changes sid.
    second = secrets.token_bytes(32)
    second_A = spec.ed25519_public(second)
    keys = spec.Keys(device_v2=(party.device_sk,), senders_v2=(party.sender_A, second_A))
    sealed = party.seal(plaintext(n))
    claimed_header = sealed.header[:9] + spec.sender_key_id(second_A) + sealed.header[17:]
    claimed = claimed_header + sealed.ct
    claimed += spec.ed25519_sign(second, spec.transcript_of(party.device_pk, second_A, claimed_header, sealed.ct))
    assert party.open_kind(claimed, keys) == "tampered"
    kept = sealed.header + sealed.ct + spec.ed25519_sign(second, sealed.transcript)
    assert party.open_kind(kept, keys) == "invalid_signature"


def test_a_version_1_key_id_in_a_version_2_header(party):
    pk_v1 = v1.public_key(party.device_v1_sk)
    envelope = party.seal(plaintext(notification())).envelope
    changed = envelope[:1] + v1.key_id(pk_v1) + envelope[9:]
    assert party.open_kind(changed) == "unknown_recipient_key"


def test_version_1_beside_version_2(party):
    sender_v1 = X25519PrivateKey.generate().private_bytes_raw()
    keys = spec.Keys(
        device_v2=(party.device_sk,),
        senders_v2=(party.sender_A,),
        device_v1=(party.device_v1_sk,),
        senders_v1=(v1.public_key(sender_v1),),
    )
    n = notification()
    sealed = v1.seal(sender_v1, v1.public_key(party.device_v1_sk), plaintext(n), secrets.token_bytes(32))
    pt, _, version = spec.open_envelope(sealed.envelope, keys)
    assert version == 1 and v1.parse_notification(v1.unpad(pt)) == n
    refusing = spec.Keys(**{**keys.__dict__, "accept_v1": False})
    assert party.open_kind(sealed.envelope, refusing) == "unsupported_version"
    assert party.open_kind(b"\x01" + bytes(2113), keys) == "payload_too_large"
    assert party.open_kind(b"\x01" + bytes(2112), keys) == "unknown_recipient_key"


def test_device_open_caps_the_text_before_decoding(party):
    keyring = (
        '{"format":"pushseal-keyring-v2","current":"' + v1.b64url_encode(party.device_v1_sk) + '","retired":[],'
        '"trusted_senders":[],"current_v2":"' + v1.b64url_encode(party.device_sk) + '","retired_v2":[],'
        '"trusted_senders_v2":["' + v1.b64url_encode(party.sender_A) + '"],"accept_v1":true}'
    )
    n = notification("x" * 1500)  # the 2,048 bucket: the largest envelope
    text = v1.b64url_encode(party.seal(plaintext(n)).envelope)
    assert len(text) == spec.MAX_ENVELOPE_TEXT
    assert spec.device_open(text, keyring, NOW + 5) == n
    with pytest.raises(spec.SpecError, match="payload_too_large"):
        spec.device_open(text + "A", keyring, NOW + 5)
    with pytest.raises(spec.SpecError, match="invalid_encoding"):
        spec.device_open(text[:-1] + "=", keyring, NOW + 5)


def test_ed25519_rules_of_section_12_1(party):
    message = b"pushseal"
    sig = spec.ed25519_sign(party.sender_seed, message)
    assert spec.ed25519_verify(party.sender_A, message, sig)
    # S + L: the same equation, refused (S must be below L).
    S = int.from_bytes(sig[32:], "little") + spec.ED25519_L
    assert S < 2**256 and not spec.ed25519_verify(party.sender_A, message, sig[:32] + S.to_bytes(32, "little"))
    # The eight small-order encodings all decode and are all refused, as A and as R.
    for point in spec.ED25519_SMALL_ORDER:
        assert spec.ed25519_decodes(point), point.hex()
        assert not spec.ed25519_point_ok(point)
        assert not spec.ed25519_verify(point, message, sig)
        assert not spec.ed25519_verify(party.sender_A, message, point + sig[32:])
        with pytest.raises(spec.SpecError, match="invalid_encoding"):
            spec.sender_public_key_from_text(spec.key_text(spec.SENDER_PUBLIC_TEXT, point))
    # Non-canonical encodings: y = p (the neutral point's y + p - 1 ... ) and x = 0 with the sign bit.
    p = spec.ED25519_P
    assert not spec.ed25519_decodes((p).to_bytes(32, "little"))
    assert not spec.ed25519_decodes((p + 1).to_bytes(32, "little"))  # y = 1 + p
    assert not spec.ed25519_decodes((1 | 1 << 255).to_bytes(32, "little"))  # y = 1, x = 0, sign set
    assert not spec.ed25519_decodes((p - 1 | 1 << 255).to_bytes(32, "little"))  # y = -1, x = 0, sign set
    assert not spec.ed25519_decodes((2).to_bytes(32, "little"))  # y = 2 gives no x
    assert spec.ed25519_decodes(party.sender_A)


def test_the_encapsulation_key_check(party):
    assert spec.mlkem_encapsulation_key_ok(party.device_pk[: spec.MLKEM_PUBLIC_KEY_LEN])
    for first_three, ok in ((b"\x00\x0d\x00", True), (b"\x01\x0d\x00", False), (b"\x00\x10\xd0", False), (b"\x00\xf0\xcf", True)):
        pk = first_three + party.device_pk[3:]
        assert spec.mlkem_encapsulation_key_ok(pk[: spec.MLKEM_PUBLIC_KEY_LEN]) == ok, first_three.hex()
        if not ok:
            with pytest.raises(spec.SpecError, match="invalid_encoding"):
                spec.device_public_key_from_text(spec.key_text(spec.DEVICE_PUBLIC_TEXT, pk))
    # rho (the last 32 bytes of ek_M) and pk_X may be anything.
    anything = party.device_pk[:1152] + bytes([0xFF]) * 64
    assert spec.check_device_public_key(anything) == anything


def test_no_all_zero_check_in_x_wing(party):
    # Section 12.1: unlike version 1, a small-order X25519 half gives ss_X = 0 and nothing fails.
    small_order = bytes(32)
    assert spec.x25519(secrets.token_bytes(32), small_order) == bytes(32)
    pk = party.device_pk[: spec.MLKEM_PUBLIC_KEY_LEN] + small_order
    ss, enc = spec.encapsulate(pk)
    assert len(enc) == spec.CIPHERTEXT_LEN and len(ss) == 32
    enc = party.seal(plaintext(notification())).header[17:]
    ss_zero = spec.decapsulate(party.device_sk, enc[: spec.MLKEM_CIPHERTEXT_LEN] + small_order)
    assert ss_zero != spec.decapsulate(party.device_sk, enc)
