"""The official draft-ietf-hpke-pq vector for envelope v2's suite (MLKEM768-X25519, HKDF-SHA256,
ChaCha20Poly1305, base mode) through the X-Wing and HPKE of spec_envelope_v2.py: key derivation,
encapsulation from the vector's randomness and decapsulation, the key schedule, every encryption
at its sequence number in both directions, and every export. No part of it uses the library.
"""

import hashlib

import pytest

import spec_envelope_v2 as spec
import vector_files

HPKE_PQ = vector_files.load_hpke_pq()
every_entry = pytest.mark.parametrize("v", HPKE_PQ, ids=[f"kem-{v['kem_id']:#06x}" for v in HPKE_PQ])


def h(text):
    return bytes.fromhex(text)


def sender_side(v):
    """The sender's shared secret, enc and context, from pkR and ikmE (the encapsulation
    randomness) alone; only the ML-KEM ciphertext is the vector's (spec_envelope_v2.py says why)."""
    enc = h(v["enc"])
    ss, enc_out = spec.encapsulate_derand(h(v["pkRm"]), h(v["ikmE"]), enc[: spec.MLKEM_CIPHERTEXT_LEN])
    return ss, enc_out, spec.hpke_key_schedule(ss, h(v["info"]))


def test_the_file_holds_the_suite_of_envelope_v2():
    assert len(HPKE_PQ) == vector_files.HPKE_PQ_ENTRIES
    for v in HPKE_PQ:
        assert (v["mode"], v["kem_id"], v["kdf_id"], v["aead_id"]) == (0, spec.KEM_ID, 1, 3)
        assert h(v["suite_id"]) == spec.HPKE_SUITE_ID == bytes.fromhex("48504b45647a00010003")
        assert "psk" not in v and "psk_id" not in v and "ikmS" not in v
    assert sum(len(v["encryptions"]) for v in HPKE_PQ) == vector_files.HPKE_PQ_ENCRYPTIONS
    assert sum(len(v["exports"]) for v in HPKE_PQ) == vector_files.HPKE_PQ_EXPORTS


@every_entry
def test_sizes_and_the_label(v):
    assert len(h(v["skRm"])) == spec.SECRET_KEY_LEN
    assert len(h(v["pkRm"])) == spec.PUBLIC_KEY_LEN == spec.MLKEM_PUBLIC_KEY_LEN + 32
    assert len(h(v["enc"])) == spec.CIPHERTEXT_LEN == spec.MLKEM_CIPHERTEXT_LEN + 32
    assert len(h(v["ikmE"])) == spec.ENCAPSULATION_SEED_LEN
    assert len(h(v["shared_secret"])) == spec.SHARED_SECRET_LEN
    assert spec.XWING_LABEL == bytes.fromhex("5c2e2f2f5e5c")


@every_entry
def test_derive_key_pair(v):
    sk, pk = spec.derive_key_pair(h(v["ikmR"]))
    assert sk == h(v["skRm"]), "skRm"
    assert pk == h(v["pkRm"]), "pkRm"
    assert spec.public_key(h(v["skRm"])) == h(v["pkRm"]), "the public key of skRm"
    # The X25519 half of the key is X25519(SHAKE256(sk, 96)[64:96], 9).
    _, sk_X, pk_M, pk_X = spec.expand_decapsulation_key(sk)
    assert pk_X == spec.x25519_public(hashlib.shake_256(sk).digest(96)[64:96]) == h(v["pkRm"])[-32:]
    assert pk_M == h(v["pkRm"])[:-32]


@every_entry
def test_encapsulation_from_the_vector_randomness(v):
    enc, eseed = h(v["enc"]), h(v["ikmE"])
    ct_M, ct_X = enc[: spec.MLKEM_CIPHERTEXT_LEN], enc[spec.MLKEM_CIPHERTEXT_LEN :]
    # The X25519 half of enc is the ephemeral public key of eseed[32:64].
    assert ct_X == spec.x25519_public(eseed[32:64]), "ct_X"
    # The ML-KEM half is Encaps_internal(pk_M, eseed[0:32])'s ciphertext (FIPS 203 re-encryption check).
    assert spec.mlkem_ciphertext_is_of(h(v["skRm"]), ct_M, eseed[0:32]), "ct_M"
    assert not spec.mlkem_ciphertext_is_of(h(v["skRm"]), ct_M, bytes(32)), "another m"
    ss, enc_out, _ = sender_side(v)
    assert enc_out == enc, "enc"
    assert ss == h(v["shared_secret"]), "shared_secret, from pkR and ikmE"


@every_entry
def test_decapsulation_and_key_schedule(v):
    ss, ctx = spec.setup_base_r(h(v["enc"]), h(v["skRm"]), h(v["info"]))
    assert ss == h(v["shared_secret"]), "shared_secret, from skR and enc"
    assert ctx.key == h(v["key"]), "key"
    assert ctx.base_nonce == h(v["base_nonce"]), "base_nonce"
    assert ctx.exporter_secret == h(v["exporter_secret"]), "exporter_secret"
    _, _, ctx_s = sender_side(v)
    assert ctx_s == ctx, "the sender's context"


@every_entry
def test_every_encryption_at_its_sequence_number(v):
    _, _, ctx = sender_side(v)
    _, ctx_r = spec.setup_base_r(h(v["enc"]), h(v["skRm"]), h(v["info"]))
    for seq, e in enumerate(v["encryptions"]):
        aad, pt, ct = h(e["aad"]), h(e["pt"]), h(e["ct"])
        assert ctx.nonce(seq) == h(e["nonce"]), f"encryption {seq}: nonce"
        assert ctx.seal(aad, pt, seq) == ct, f"encryption {seq}: ct"
        assert ctx_r.open(aad, ct, seq) == pt, f"encryption {seq}: pt"
    with pytest.raises(spec.SpecError):
        ctx_r.open(h(v["encryptions"][0]["aad"]), h(v["encryptions"][0]["ct"]), 1)


@every_entry
def test_every_export(v):
    _, _, ctx = sender_side(v)
    _, ctx_r = spec.setup_base_r(h(v["enc"]), h(v["skRm"]), h(v["info"]))
    for i, x in enumerate(v["exports"]):
        want = h(x["exported_value"])
        assert ctx.export(h(x["exporter_context"]), x["L"]) == want, f"export {i}"
        assert ctx_r.export(h(x["exporter_context"]), x["L"]) == want, f"export {i}, receiver"


@every_entry
def test_one_changed_bit_of_enc_changes_the_shared_secret(v):
    # Each half of enc is bound: ML-KEM's implicit rejection and the combiner's ct_X.
    enc, sk, want = h(v["enc"]), h(v["skRm"]), h(v["shared_secret"])
    for offset in (0, spec.MLKEM_CIPHERTEXT_LEN - 1, spec.MLKEM_CIPHERTEXT_LEN, spec.CIPHERTEXT_LEN - 2):
        changed = bytearray(enc)
        changed[offset] ^= 0x01
        assert spec.decapsulate(sk, bytes(changed)) != want, f"byte {offset}"


def test_fresh_encapsulations_decapsulate():
    sk, pk = spec.derive_key_pair(b"pushseal x-wing round trip")
    seen = set()
    for _ in range(8):
        ss, enc = spec.encapsulate(pk)
        assert len(enc) == spec.CIPHERTEXT_LEN and spec.decapsulate(sk, enc) == ss
        seen.add(ss)
    assert len(seen) == 8
    info = b"pushseal round trip"
    _, enc, ctx = spec.setup_base_s(pk, info)
    _, ctx_r = spec.setup_base_r(enc, sk, info)
    assert ctx_r.open(b"aad", ctx.seal(b"aad", b"hello")) == b"hello"
    other_sk, _ = spec.derive_key_pair(b"another device")
    assert spec.decapsulate(other_sk, enc) != spec.decapsulate(sk, enc)


def test_wrong_lengths_are_refused():
    sk, pk = spec.derive_key_pair(b"lengths")
    with pytest.raises(ValueError):
        spec.encapsulate(pk[:-1])
    with pytest.raises(ValueError):
        spec.decapsulate(sk, bytes(spec.CIPHERTEXT_LEN - 1))
    with pytest.raises(ValueError):
        spec.public_key(sk + b"\x00")
