"""The PushSeal v2 envelope written again from SPEC.md section 12 and the drafts it cites alone:
X-Wing (draft-connolly-cfrg-xwing-kem-06) over `cryptography` (ML-KEM-768, X25519) and the
standard library's SHA-3, HPKE base mode (RFC 9180) with the KEM MLKEM768-X25519 of
draft-ietf-hpke-pq, Ed25519 (RFC 8032) with the stricter verification rules of section 12.1, the
v2 keys, key ids, texts and registration, and sealing and opening in the order section 12.5 gives.

Like spec_envelope.py (v1, whose RFC 9180 key schedule, HKDF, padding and notification rules this
module reuses, and whose opening it calls for a version 1 envelope), it shares no code with the
Rust core. `cryptography` keeps ML-KEM's lattice arithmetic inside: it has a random
`encapsulate`, not FIPS 203's derandomised `Encaps_internal`. So where a vector fixes the
encapsulation randomness, this module computes everything that randomness gives except the
ML-KEM ciphertext, which it takes from the vector; `mlkem_ciphertext_is_of` then proves that
ciphertext is the one `Encaps_internal` gives, through the re-encryption check of FIPS 203's
`Decaps` (see its doc comment).
"""

import hashlib
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

import spec_envelope as v1
from spec_envelope import (
    KEY_TEXT_WHITE_SPACE,
    MODE_BASE,
    SKEW,
    Context,
    SpecError,
    b64url_decode,
    b64url_encode,
    i2osp,
    key_schedule,
    parse_notification,
    public_key_from_text,
    unpad,
)

KEM_ID = 0x647A  # draft-ietf-hpke-pq: MLKEM768-X25519, X-Wing
KEM_SUITE_ID = b"KEM" + i2osp(KEM_ID, 2)  # RFC 9180 section 4.1
HPKE_SUITE_ID = b"HPKE" + i2osp(KEM_ID, 2) + i2osp(0x0001, 2) + i2osp(0x0003, 2)  # RFC 9180 section 5.1

# X-Wing sizes (draft-connolly-cfrg-xwing-kem-06 section 5; HPKE's Nsk, Npk, Nenc, Nsecret).
SECRET_KEY_LEN = 32
PUBLIC_KEY_LEN = 1216
CIPHERTEXT_LEN = 1120
SHARED_SECRET_LEN = 32
ENCAPSULATION_SEED_LEN = 64
MLKEM_PUBLIC_KEY_LEN = 1184  # FIPS 203 section 8, ML-KEM-768: ek
MLKEM_CIPHERTEXT_LEN = 1088  # FIPS 203 section 8, ML-KEM-768: c
XWING_LABEL = b"\\.//^\\"  # xwing-kem-06 section 5.3: the six ASCII characters \.//^\ (5c2e2f2f5e5c)
X25519_BASE = bytes([9]) + bytes(31)  # RFC 7748 section 4.1: u = 9


def x25519(k, u):  # RFC 7748 section 5
    """X25519(k, u), the all-zero output included: X-Wing does not check for it (SPEC.md section
    12.1, unlike version 1). `cryptography` raises instead of returning it, and for nothing else
    once u is 32 bytes, so its refusal is that output."""
    try:
        return X25519PrivateKey.from_private_bytes(k).exchange(X25519PublicKey.from_public_bytes(u))
    except ValueError:
        return bytes(32)


def x25519_public(k):  # RFC 7748 section 6.1: X25519(k, 9)
    return x25519(k, X25519_BASE)


def shake256(data, length):  # FIPS 202, SHAKE256(M, 8 * length)
    return hashlib.shake_256(data).digest(length)


def sha3_256(data):  # FIPS 202
    return hashlib.sha3_256(data).digest()


def expand_decapsulation_key(sk):  # xwing-kem-06 section 5.2
    """(sk_M, sk_X, pk_M, pk_X) from the 32-byte seed: SHAKE256(sk, 96) gives the 64-byte ML-KEM
    seed d || z (FIPS 203 KeyGen_internal) and the X25519 secret."""
    if len(sk) != SECRET_KEY_LEN:
        raise ValueError("an X-Wing secret key is 32 bytes")
    expanded = shake256(sk, 96)
    sk_M = MLKEM768PrivateKey.from_seed_bytes(expanded[0:64])
    sk_X = expanded[64:96]
    return sk_M, sk_X, sk_M.public_key().public_bytes_raw(), x25519_public(sk_X)


def public_key(sk):  # xwing-kem-06 section 5.2, GenerateKeyPairDerand's pk = pk_M || pk_X
    _, _, pk_M, pk_X = expand_decapsulation_key(sk)
    return pk_M + pk_X


def combiner(ss_M, ss_X, ct_X, pk_X):  # xwing-kem-06 section 5.3
    return sha3_256(ss_M + ss_X + ct_X + pk_X + XWING_LABEL)


def split_public_key(pk):
    if len(pk) != PUBLIC_KEY_LEN:
        raise ValueError("an X-Wing public key is 1,216 bytes")
    return pk[0:MLKEM_PUBLIC_KEY_LEN], pk[MLKEM_PUBLIC_KEY_LEN:PUBLIC_KEY_LEN]


def mlkem_shared_secret_of(pk_M, m):  # FIPS 203 Algorithm 17, ML-KEM.Encaps_internal steps 1 and 3
    """K of (K, r) = G(m || H(ek)): G is SHA3-512, H is SHA3-256."""
    return hashlib.sha3_512(m + sha3_256(pk_M)).digest()[0:32]


def mlkem_ciphertext_is_of(sk, ct_M, m):
    """True when ct_M is ML-KEM.Encaps_internal(pk_M, m)'s ciphertext, for the recipient key sk.

    FIPS 203 Algorithm 18 (Decaps_internal) decrypts c to m', re-encrypts m' with the randomness
    r' that G(m' || H(ek)) gives, and returns K' of the same G only when that re-encryption equals
    c (otherwise J(z || c), an unrelated value). So Decaps returning G(m || H(ek))'s K means m' = m
    and c = K-PKE.Encrypt(ek, m, r): the ciphertext Encaps_internal(ek, m) makes."""
    sk_M, _, pk_M, _ = expand_decapsulation_key(sk)
    return sk_M.decapsulate(ct_M) == mlkem_shared_secret_of(pk_M, m)


def encapsulate_derand(pk, eseed, ct_M):  # xwing-kem-06 section 5.4, EncapsulateDerand
    """(ss, ct) for the 64-byte eseed: eseed[0:32] is ML-KEM's m, eseed[32:64] the X25519
    ephemeral secret. ct_M is ML-KEM.Encaps_internal(pk_M, eseed[0:32])'s ciphertext, which
    `cryptography` cannot compute: the caller has it, and checks it with mlkem_ciphertext_is_of."""
    if len(eseed) != ENCAPSULATION_SEED_LEN or len(ct_M) != MLKEM_CIPHERTEXT_LEN:
        raise ValueError("an X-Wing encapsulation seed is 64 bytes, an ML-KEM-768 ciphertext 1,088")
    pk_M, pk_X = split_public_key(pk)
    ek_X = eseed[32:64]
    ct_X = x25519_public(ek_X)
    ss_X = x25519(ek_X, pk_X)
    ss_M = mlkem_shared_secret_of(pk_M, eseed[0:32])
    return combiner(ss_M, ss_X, ct_X, pk_X), ct_M + ct_X


def encapsulate(pk):  # xwing-kem-06 section 5.4, Encapsulate, with fresh randomness
    pk_M, pk_X = split_public_key(pk)
    ss_M, ct_M = MLKEM768PublicKey.from_public_bytes(pk_M).encapsulate()
    ek_X = os.urandom(32)
    ct_X = x25519_public(ek_X)
    ss_X = x25519(ek_X, pk_X)
    return combiner(ss_M, ss_X, ct_X, pk_X), ct_M + ct_X


def decapsulate(sk, ct):  # xwing-kem-06 section 5.5
    if len(ct) != CIPHERTEXT_LEN:
        raise ValueError("an X-Wing ciphertext is 1,120 bytes")
    sk_M, sk_X, _, pk_X = expand_decapsulation_key(sk)
    ct_M, ct_X = ct[0:MLKEM_CIPHERTEXT_LEN], ct[MLKEM_CIPHERTEXT_LEN:CIPHERTEXT_LEN]
    ss_M = sk_M.decapsulate(ct_M)
    ss_X = x25519(sk_X, ct_X)
    return combiner(ss_M, ss_X, ct_X, pk_X)


def shake256_labeled_derive(suite_id, ikm, label, context, length):  # draft-ietf-hpke-pq, single-stage KDF
    """SHAKE256(ikm || "HPKE-v1" || suite_id || I2OSP(len(label), 2) || label || I2OSP(L, 2) || context, L)."""
    labeled_ikm = ikm + b"HPKE-v1" + suite_id + i2osp(len(label), 2) + label + i2osp(length, 2) + context
    return shake256(labeled_ikm, length)


def derive_key_pair(ikm):  # draft-ietf-hpke-pq, DeriveKeyPair for the hybrid KEMs; returns (sk, pk)
    sk = shake256_labeled_derive(KEM_SUITE_ID, ikm, b"DeriveKeyPair", b"", SECRET_KEY_LEN)
    return sk, public_key(sk)


def hpke_key_schedule(shared_secret, info):  # RFC 9180 section 5.1, base mode, this suite
    return key_schedule(MODE_BASE, shared_secret, info, suite_id=HPKE_SUITE_ID)


def setup_base_s(pk, info):  # RFC 9180 section 5.1.1, SetupBaseS; returns (shared_secret, enc, context)
    shared_secret, enc = encapsulate(pk)
    return shared_secret, enc, hpke_key_schedule(shared_secret, info)


def setup_base_r(enc, sk, info):  # RFC 9180 section 5.1.1, SetupBaseR; returns (shared_secret, context)
    shared_secret = decapsulate(sk, enc)
    return shared_secret, hpke_key_schedule(shared_secret, info)


# ---------------------------------------------------------------------------------------------
# Envelope version 2, SPEC.md section 12.

VERSION = 0x02
HEADER_LEN = 1 + 8 + 8 + CIPHERTEXT_LEN  # section 12.4: 1,137
TAG_LEN = 16
SIGNATURE_LEN = 64
MIN_ENVELOPE_LEN = HEADER_LEN + TAG_LEN + SIGNATURE_LEN  # section 12.5, step 4: 1,217
MAX_ENVELOPE_TEXT = 4354  # section 12.6: the text of the largest version 2 envelope (3,265 bytes)
V1_MAX_ENVELOPE_LEN = 2113  # section 12.5, step 2: the largest version 1 envelope
INFO = b"pushseal envelope v2"  # section 12.5, info2
SIGNATURE_LABEL = b"pushseal-v2 envelope signature"  # section 12.5, sig_label
RECEIPT_LABEL = b"pushseal receipt v2"  # section 12.7
DEVICE_KEY_ID_LABEL = b"pushseal-v2 device key id"  # section 12.2
SENDER_KEY_ID_LABEL = b"pushseal-v2 sender key id"  # section 12.2
KEYRING_FORMAT = "pushseal-keyring-v2"  # section 12.8
V1_KEYRING_FORMAT = "pushseal-keyring-v1"  # section 8.2, which a version 2 device still loads

# Section 12.2: the text forms, as (prefix, length in characters).
DEVICE_PUBLIC_TEXT = ("pushseal-device-v2:", 1641)
DEVICE_SECRET_TEXT = ("pushseal-device-secret-v2:", 69)
SENDER_PUBLIC_TEXT = ("pushseal-sender-v2:", 62)
SENDER_SECRET_TEXT = ("pushseal-sender-secret-v2:", 69)
REGISTRATION_PREFIX = "pushseal-registration-v2:"  # section 12.3
REGISTRATION_LEN = 1691


# Ed25519, RFC 8032 section 5.1, with the verification rules of section 12.1.
ED25519_P = 2**255 - 19
ED25519_L = 2**252 + 27742317777372353535851937790883648493
ED25519_D = -121665 * pow(121666, ED25519_P - 2, ED25519_P) % ED25519_P
ED25519_SMALL_ORDER = frozenset(  # section 12.1: the eight encodings of the points of small order
    bytes.fromhex(x)
    for x in (
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    )
)


def ed25519_decodes(b):  # RFC 8032 section 5.1.3: whether the 32 bytes decode to a point
    p = ED25519_P
    if len(b) != 32:
        return False
    y = int.from_bytes(b, "little") & ((1 << 255) - 1)
    sign = b[31] >> 7
    if y >= p:  # step 1: a non-canonical y
        return False
    u, v = (y * y - 1) % p, (ED25519_D * y * y + 1) % p
    x = u * pow(v, 3, p) * pow(u * pow(v, 7, p), (p - 5) // 8, p) % p  # step 2
    if (v * x * x - u) % p != 0:  # step 3
        if (v * x * x + u) % p != 0:
            return False  # u / v has no square root
        x = x * pow(2, (p - 1) // 4, p) % p
    return not (x == 0 and sign == 1)  # step 4


def ed25519_point_ok(b):  # section 12.1: decodes, and is not of small order
    return ed25519_decodes(b) and bytes(b) not in ED25519_SMALL_ORDER


def ed25519_public(seed):  # RFC 8032 section 5.1.5
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def ed25519_sign(seed, message):  # RFC 8032 section 5.1.6
    return Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def ed25519_verify(A, message, sig):  # RFC 8032 section 5.1.7 with the rules of section 12.1
    """A and R decode and are not of small order, S < L, then [S]B = R + [k]A. `cryptography`
    checks the equation cofactorless (it recomputes R and compares the bytes); the rules before
    it are checked here, since a library may accept more than they do."""
    if len(sig) != SIGNATURE_LEN or not ed25519_point_ok(A) or not ed25519_point_ok(sig[:32]):
        return False
    if int.from_bytes(sig[32:], "little") >= ED25519_L:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(A).verify(sig, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def mlkem_encapsulation_key_ok(ek_M):  # FIPS 203 section 7.2, the modulus check (section 12.1)
    """Every 12-bit coefficient of ByteDecode12(ek_M[0:1152]) is below q = 3329, so encoding them
    again gives the same bytes; the last 32 bytes (rho) may be anything."""
    if len(ek_M) != MLKEM_PUBLIC_KEY_LEN:
        return False
    for i in range(0, 384 * 3, 3):
        b0, b1, b2 = ek_M[i], ek_M[i + 1], ek_M[i + 2]
        if b0 | (b1 & 0x0F) << 8 >= 3329 or b1 >> 4 | b2 << 4 >= 3329:
            return False
    return True


def device_key_id(pk):  # section 12.2, device_key_id_v2
    return hashlib.sha256(DEVICE_KEY_ID_LABEL + pk).digest()[:8]


def sender_key_id(A):  # section 12.2, sender_key_id_v2
    return hashlib.sha256(SENDER_KEY_ID_LABEL + A).digest()[:8]


def key_text(form, key):  # section 12.2
    prefix, _ = form
    return prefix + b64url_encode(key)


def key_from_text(form, text):  # section 12.2, with every rule of section 3.1
    prefix, length = form
    text = text.strip(KEY_TEXT_WHITE_SPACE)
    if len(text) != length or not text.startswith(prefix):
        raise SpecError("invalid_encoding")
    return b64url_decode(text[len(prefix) :])


def check_device_public_key(pk):  # section 12.1: the encapsulation key check; pk_X may be anything
    if len(pk) != PUBLIC_KEY_LEN or not mlkem_encapsulation_key_ok(pk[:MLKEM_PUBLIC_KEY_LEN]):
        raise SpecError("invalid_encoding")
    return pk


def check_sender_public_key(A):  # section 12.2: A decodes and is not of small order
    if not ed25519_point_ok(A):
        raise SpecError("invalid_encoding")
    return A


def device_public_key_from_text(text):
    return check_device_public_key(key_from_text(DEVICE_PUBLIC_TEXT, text))


def sender_public_key_from_text(text):
    return check_sender_public_key(key_from_text(SENDER_PUBLIC_TEXT, text))


def registration_text(pk_v1, pk_v2):  # section 12.3
    return REGISTRATION_PREFIX + b64url_encode(pk_v1) + "." + b64url_encode(pk_v2)


def registration_from_text(text):  # section 12.3; returns (pk_v1, pk_v2), pk_v2 None for a v1 key alone
    stripped = text.strip(KEY_TEXT_WHITE_SPACE)
    if len(stripped) == 43:
        return public_key_from_text(stripped), None
    if len(stripped) != REGISTRATION_LEN or not stripped.startswith(REGISTRATION_PREFIX):
        raise SpecError("invalid_encoding")
    rest = stripped[len(REGISTRATION_PREFIX) :]
    if rest[43] != ".":
        raise SpecError("invalid_encoding")
    return b64url_decode(rest[:43]), check_device_public_key(b64url_decode(rest[44:]))


POLICIES = ("prefer", "require", "off")  # section 12.3


def version_for(registration, policy="prefer"):  # section 12.3: the version a sender seals
    if policy not in POLICIES:
        raise ValueError(f"a policy is one of {POLICIES}")
    pk_v1, pk_v2 = registration_from_text(registration)
    if policy == "off" or (policy == "prefer" and pk_v2 is None):
        return 1, pk_v1
    if pk_v2 is None:  # require
        raise SpecError("unsupported_version")
    return 2, pk_v2


@dataclass(frozen=True)
class Sealed:
    shared_secret: bytes
    ctx: Context
    header: bytes
    ct: bytes
    transcript: bytes
    signature: bytes
    envelope: bytes


def transcript_of(pkR, A, header, ct):  # section 12.5
    return SIGNATURE_LABEL + HPKE_SUITE_ID + pkR + A + header + ct


def seal(seed, pkR, pt, eseed=None, ct_M=None):  # section 12.5
    """Seals pt to pkR as the sender whose Ed25519 seed is `seed`. With eseed (and the ML-KEM
    ciphertext it gives, see encapsulate_derand) the envelope is that of those fixed bytes."""
    if eseed is None:
        shared_secret, enc = encapsulate(pkR)
    else:
        shared_secret, enc = encapsulate_derand(pkR, eseed, ct_M)
    ctx = hpke_key_schedule(shared_secret, INFO)
    A = ed25519_public(seed)
    header = bytes([VERSION]) + device_key_id(pkR) + sender_key_id(A) + enc
    ct = ctx.seal(header, pt)
    transcript = transcript_of(pkR, A, header, ct)
    signature = ed25519_sign(seed, transcript)
    return Sealed(shared_secret, ctx, header, ct, transcript, signature, header + ct + signature)


@dataclass(frozen=True)
class Keys:
    """What a device opens with: its usable device keys and its trusted sender keys, of both
    versions (section 12.8), and whether it still accepts version 1."""

    device_v2: tuple = ()  # X-Wing seeds
    senders_v2: tuple = ()  # Ed25519 public keys A
    device_v1: tuple = ()  # X25519 secret keys
    senders_v1: tuple = ()  # X25519 public keys
    accept_v1: bool = True


def open_envelope(envelope, keys):  # section 12.5, its steps in order; returns (pt, ctx, version)
    if len(envelope) < 1:  # step 1
        raise SpecError("truncated")
    if envelope[0] == v1.VERSION:  # step 2, a version 1 envelope
        if not keys.accept_v1:
            raise SpecError("unsupported_version")
        if len(envelope) > V1_MAX_ENVELOPE_LEN:
            raise SpecError("payload_too_large")
        pt, ctx = v1.open_envelope(envelope, keys.device_v1, keys.senders_v1)
        return pt, ctx, 1
    if envelope[0] != VERSION:
        raise SpecError("unsupported_version")
    if len(envelope) < HEADER_LEN or len(envelope) < MIN_ENVELOPE_LEN:  # steps 3 and 4
        raise SpecError("truncated")
    header, ct, sig = envelope[:HEADER_LEN], envelope[HEADER_LEN:-SIGNATURE_LEN], envelope[-SIGNATURE_LEN:]
    skR = next((sk for sk in keys.device_v2 if device_key_id(public_key(sk)) == header[1:9]), None)  # step 5
    if skR is None:
        raise SpecError("unknown_recipient_key")
    A = next((A for A in keys.senders_v2 if sender_key_id(A) == header[9:17]), None)  # step 6
    if A is None:
        raise SpecError("untrusted_sender")
    if not ed25519_verify(A, transcript_of(public_key(skR), A, header, ct), sig):  # step 7
        raise SpecError("invalid_signature")
    _, ctx = setup_base_r(header[17:HEADER_LEN], skR, INFO)  # step 8
    return ctx.open(header, ct), ctx, 2  # step 9


def receipt(ctx, message_id):  # section 12.7; message_id is the 16 bytes, not hex
    return ctx.export(RECEIPT_LABEL + message_id, 16)


def keys_of_keyring(keyring_json, now):  # section 12.8 (and 8.2): the keys a stored keyring holds at `now`
    keyring = json.loads(keyring_json)
    if keyring["format"] not in (V1_KEYRING_FORMAT, KEYRING_FORMAT):
        raise SpecError("invalid_keyring")

    def usable(current, retired):
        keys = [b64url_decode(current)] if current is not None else []
        return tuple(keys + [b64url_decode(r["key"]) for r in retired if now <= r["usable_until"]])

    return Keys(
        device_v2=usable(keyring.get("current_v2"), keyring.get("retired_v2", [])),
        senders_v2=tuple(b64url_decode(A) for A in keyring.get("trusted_senders_v2", [])),
        device_v1=usable(keyring["current"], keyring["retired"]),
        senders_v1=tuple(b64url_decode(pk) for pk in keyring["trusted_senders"]),
        accept_v1=keyring.get("accept_v1", True),
    )


def device_open(text, keyring_json, now):  # section 8.1 steps 2 to 7 by section 12.8, bare envelope, new replay store
    if len(text) > MAX_ENVELOPE_TEXT:  # section 12.6: refused before decoding
        raise SpecError("payload_too_large")
    keys = keys_of_keyring(keyring_json, now)
    pt, _, _ = open_envelope(b64url_decode(text), keys)
    n = parse_notification(unpad(pt))
    if now > n["expires_at"] + SKEW:
        raise SpecError("expired")
    if n["sent_at"] > now + SKEW:
        raise SpecError("not_yet_valid")
    if n["expires_at"] <= 0:  # section 8.3: a new store's floor is 0
        raise SpecError("replayed")
    return n
