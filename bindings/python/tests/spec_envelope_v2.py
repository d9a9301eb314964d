"""The PushSeal v2 envelope written again from SPEC.md and the drafts it cites alone: X-Wing
(draft-connolly-cfrg-xwing-kem-06) over `cryptography` (ML-KEM-768, X25519) and the standard
library's SHA-3, and HPKE base mode (RFC 9180) with the KEM MLKEM768-X25519 of draft-ietf-hpke-pq.

Like spec_envelope.py (v1, whose RFC 9180 key schedule and HKDF this module reuses), it shares no
code with the Rust core. `cryptography` keeps ML-KEM's lattice arithmetic inside: it has a
random `encapsulate`, not FIPS 203's derandomised `Encaps_internal`. So where a vector fixes the
encapsulation randomness, this module computes everything that randomness gives except the
ML-KEM ciphertext, which it takes from the vector; `mlkem_ciphertext_is_of` then proves that
ciphertext is the one `Encaps_internal` gives, through the re-encryption check of FIPS 203's
`Decaps` (see its doc comment).
"""

import hashlib
import os

from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from spec_envelope import MODE_BASE, SpecError, i2osp, key_schedule

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
    """X25519(k, u). `cryptography` refuses to return the all-zero output; X-Wing itself does not
    check for it (ML-KEM's shared secret carries the combiner then), so this implementation cannot
    follow a peer there and names the refusal as v1 does."""
    try:
        return X25519PrivateKey.from_private_bytes(k).exchange(X25519PublicKey.from_public_bytes(u))
    except ValueError:
        raise SpecError("zero_shared_secret") from None


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
