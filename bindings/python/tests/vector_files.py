"""Where test-vectors/ is and how its files are read, without the library: the official HPKE
vectors test the code written from the specifications alone (spec_envelope.py,
spec_envelope_v2.py), so `pytest tests/test_rfc9180.py tests/test_hpke_pq.py` needs only
`cryptography`. vectors.py re-exports these for the tests that use the bindings too.
"""

import json
import os
import pathlib

# rfc9180-x25519-sha256-chacha20poly1305.json (the same counts as sdk-core/tests/rfc9180.rs).
RFC9180_MODES = 4
RFC9180_ENCRYPTIONS = 1028
RFC9180_EXPORTS = 12
# hpke-pq-mlkem768x25519-sha256-chacha20poly1305.json (test-vectors/SOURCES.md).
HPKE_PQ_ENTRIES = 1
HPKE_PQ_ENCRYPTIONS = 10
HPKE_PQ_EXPORTS = 5

DIR = pathlib.Path(
    os.environ.get("PUSHSEAL_VECTORS_DIR", pathlib.Path(__file__).resolve().parents[3] / "test-vectors")
)


def load(name):
    """The `vectors` array of one file, after checking the schema version."""
    file = json.loads((DIR / name).read_text(encoding="utf-8"))
    assert file["version"] == 1, name
    return file["vectors"]


def load_v2():
    """v2.json, the envelope version 2 vectors: its sections (positive, negative, sender, key_texts)."""
    (sections,) = load("v2.json")
    return sections


def load_rfc9180():
    """The official RFC 9180 vectors for PushSeal's suite: a bare array, as upstream (test-vectors/SOURCES.md)."""
    return json.loads((DIR / "rfc9180-x25519-sha256-chacha20poly1305.json").read_text(encoding="utf-8"))


def load_hpke_pq():
    """The official draft-ietf-hpke-pq vector for envelope v2's suite: a bare array, as upstream (test-vectors/SOURCES.md)."""
    return json.loads((DIR / "hpke-pq-mlkem768x25519-sha256-chacha20poly1305.json").read_text(encoding="utf-8"))
