"""The official RFC 9180 vectors for PushSeal's suite, all four modes, through the HPKE of
spec_envelope.py: key derivation, Encap and Decap, the key schedule, every encryption at its
sequence number in both directions, and every export.
"""

import pytest

import spec_envelope as spec
import vector_files

RFC9180 = vector_files.load_rfc9180()
MODE_NAMES = {spec.MODE_BASE: "base", spec.MODE_PSK: "psk", spec.MODE_AUTH: "auth", spec.MODE_AUTH_PSK: "auth_psk"}
every_mode = pytest.mark.parametrize("v", RFC9180, ids=[MODE_NAMES.get(v["mode"], str(v["mode"])) for v in RFC9180])


def h(text):
    return bytes.fromhex(text)


def is_auth(v):
    return v["mode"] in (spec.MODE_AUTH, spec.MODE_AUTH_PSK)


def sender_context(v):
    """The sender's shared secret, enc and context, from the keys DeriveKeyPair gives."""
    skE, pkR = spec.derive_key_pair(h(v["ikmE"])), spec.public_key(spec.derive_key_pair(h(v["ikmR"])))
    if is_auth(v):
        ss, enc = spec.auth_encap(pkR, spec.derive_key_pair(h(v["ikmS"])), skE)
    else:
        ss, enc = spec.encap(pkR, skE)
    return ss, enc, spec.key_schedule(v["mode"], ss, h(v["info"]), h(v.get("psk", "")), h(v.get("psk_id", "")))


def receiver_context(v):
    """The receiver's shared secret and context, from skR (and pkS) and the vector's enc alone."""
    skR = h(v["skRm"])
    ss = spec.auth_decap(h(v["enc"]), skR, h(v["pkSm"])) if is_auth(v) else spec.decap(h(v["enc"]), skR)
    return ss, spec.key_schedule(v["mode"], ss, h(v["info"]), h(v.get("psk", "")), h(v.get("psk_id", "")))


def test_the_file_holds_every_mode_of_the_suite():
    assert sorted(v["mode"] for v in RFC9180) == sorted(MODE_NAMES)
    assert len(RFC9180) == vector_files.RFC9180_MODES
    assert all((v["kem_id"], v["kdf_id"], v["aead_id"]) == (0x20, 1, 3) for v in RFC9180)
    assert sum(len(v["encryptions"]) for v in RFC9180) == vector_files.RFC9180_ENCRYPTIONS
    assert sum(len(v["exports"]) for v in RFC9180) == vector_files.RFC9180_EXPORTS
    for v in RFC9180:  # the psk inputs are present exactly in the psk modes, the sender key in the auth modes
        mode = MODE_NAMES[v["mode"]]
        assert ("psk" in v) == ("psk_id" in v) == (v["mode"] in (spec.MODE_PSK, spec.MODE_AUTH_PSK)), mode
        assert ("ikmS" in v) == ("skSm" in v) == ("pkSm" in v) == is_auth(v), mode


@every_mode
def test_derive_key_pair(v):
    mode = MODE_NAMES[v["mode"]]
    for who in "ERS" if is_auth(v) else "ER":
        sk = spec.derive_key_pair(h(v[f"ikm{who}"]))
        assert sk == h(v[f"sk{who}m"]), f"{mode}: sk{who}m"
        assert spec.public_key(sk) == h(v[f"pk{who}m"]), f"{mode}: pk{who}m"


@every_mode
def test_encap_decap_and_key_schedule(v):
    mode = MODE_NAMES[v["mode"]]
    ss, enc, ctx = sender_context(v)
    assert enc == h(v["pkEm"]) == h(v["enc"]), f"{mode}: enc"
    assert ss == h(v["shared_secret"]), f"{mode}: shared_secret"
    assert ctx.key_schedule_context == h(v["key_schedule_context"]), f"{mode}: key_schedule_context"
    assert ctx.secret == h(v["secret"]), f"{mode}: secret"
    assert ctx.key == h(v["key"]), f"{mode}: key"
    assert ctx.base_nonce == h(v["base_nonce"]), f"{mode}: base_nonce"
    assert ctx.exporter_secret == h(v["exporter_secret"]), f"{mode}: exporter_secret"
    ss_r, ctx_r = receiver_context(v)
    assert ss_r == ss, f"{mode}: the receiver's shared_secret"
    assert ctx_r == ctx, f"{mode}: the receiver's context"


@every_mode
def test_every_encryption_at_its_sequence_number(v):
    mode = MODE_NAMES[v["mode"]]
    _, _, ctx = sender_context(v)
    _, ctx_r = receiver_context(v)
    for seq, e in enumerate(v["encryptions"]):
        aad, pt, ct = h(e["aad"]), h(e["pt"]), h(e["ct"])
        assert ctx.nonce(seq) == h(e["nonce"]), f"{mode}: encryption {seq}: nonce"
        assert ctx.seal(aad, pt, seq) == ct, f"{mode}: encryption {seq}: ct"
        assert ctx_r.open(aad, ct, seq) == pt, f"{mode}: encryption {seq}: pt"
    # The sequence number is bound: the first ciphertext does not open as the second.
    with pytest.raises(spec.SpecError):
        ctx_r.open(h(v["encryptions"][0]["aad"]), h(v["encryptions"][0]["ct"]), 1)


@every_mode
def test_every_export(v):
    mode = MODE_NAMES[v["mode"]]
    _, _, ctx = sender_context(v)
    _, ctx_r = receiver_context(v)
    for i, x in enumerate(v["exports"]):
        want = h(x["exported_value"])
        assert ctx.export(h(x["exporter_context"]), x["L"]) == want, f"{mode}: export {i}"
        assert ctx_r.export(h(x["exporter_context"]), x["L"]) == want, f"{mode}: export {i}, receiver"


def test_psk_inputs_must_match_the_mode():  # RFC 9180 section 5.1, VerifyPSKInputs
    ss = bytes(32)
    for mode, psk, psk_id in [
        (spec.MODE_BASE, b"psk", b"id"),
        (spec.MODE_AUTH, b"psk", b"id"),
        (spec.MODE_PSK, b"", b""),
        (spec.MODE_PSK, b"psk", b""),
        (spec.MODE_AUTH_PSK, b"", b"id"),
    ]:
        with pytest.raises(ValueError):
            spec.key_schedule(mode, ss, b"", psk, psk_id)
    assert spec.key_schedule(spec.MODE_BASE, ss, b"").key != spec.key_schedule(spec.MODE_AUTH, ss, b"").key
