#!/usr/bin/env python3
"""Tests of check-page-alignment.py: what it reads equals what `readelf -lW`
reads on the host build of libpushseal_ffi.so, and it accepts 16 KB-aligned
libraries and refuses 4 KB-aligned ones (32- and 64-bit, either byte order).

    python3 bindings/kotlin/check_page_alignment_test.py [HOST_LIBRARY]

HOST_LIBRARY defaults to <cargo target dir>/release/libpushseal_ffi.so
(bindings/build.sh builds it); PUSHSEAL_HOST_LIBRARY overrides it too.
"""

import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
spec = importlib.util.spec_from_file_location("check_page_alignment", os.path.join(HERE, "check-page-alignment.py"))
checker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(checker)


def host_library():
    if os.environ.get("PUSHSEAL_HOST_LIBRARY"):
        return os.environ["PUSHSEAL_HOST_LIBRARY"]
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    return os.path.join(json.loads(meta.stdout)["target_directory"], "release", "libpushseal_ffi.so")


def elf(alignments, wide=True, order="<"):
    """A minimal ELF image: a header and one PT_LOAD (type 1) per alignment,
    with a PT_DYNAMIC (type 2) between them, which must be ignored."""
    types = [1] * len(alignments)
    types.insert(1, 2)
    aligns = list(alignments)
    aligns.insert(1, 8)
    ident = b"\x7fELF" + bytes([2 if wide else 1, 1 if order == "<" else 2, 1]) + bytes(9)
    if wide:
        phoff, phentsize = 64, 56
        header = ident + struct.pack(order + "HHIQQQIHHHHHH", 3, 183, 1, 0, phoff, 0, 0, 64, phentsize, len(types), 0, 0, 0)
        phdrs = b"".join(struct.pack(order + "IIQQQQQQ", t, 5, 0, 0, 0, 0x100, 0x100, a) for t, a in zip(types, aligns))
    else:
        phoff, phentsize = 52, 32
        header = ident + struct.pack(order + "HHIIIIIHHHHHH", 3, 40, 1, 0, phoff, 0, 0, 52, phentsize, len(types), 0, 0, 0)
        phdrs = b"".join(struct.pack(order + "IIIIIIII", t, 0, 0, 0, 0x100, 0x100, 5, a) for t, a in zip(types, aligns))
    assert len(header) == phoff
    return header + phdrs


class SyntheticLibraries(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_reads_every_load_header_in_every_layout(self):
        for wide in (True, False):
            for order in ("<", ">"):
                self.assertEqual(checker.load_alignments(elf([0x4000, 0x1000], wide, order)), [0x4000, 0x1000])

    def test_16k_passes_and_4k_fails(self):
        ok = self.write("jni/arm64-v8a/libok.so", elf([0x4000, 0x4000]))
        big = self.write("jni/x86_64/libbig.so", elf([0x10000, 0x10000], wide=True))
        old = self.write("jni/armeabi-v7a/libold.so", elf([0x4000, 0x1000], wide=False))
        self.assertTrue(checker.check(ok, 16384)[0])
        self.assertTrue(checker.check(big, 16384)[0])
        passed, line = checker.check(old, 16384)
        self.assertFalse(passed)
        self.assertIn("0x1000", line)
        self.assertEqual(checker.main([ok, big]), 0)
        # A folder: every .so under it is checked; one bad one fails the run.
        self.assertEqual(sorted(checker.libraries([self.dir])), sorted([ok, big, old]))
        self.assertEqual(checker.main([self.dir]), 1)

    def test_not_a_power_of_two_and_not_elf_fail(self):
        self.assertFalse(checker.check(self.write("odd.so", elf([0x6000])), 16384)[0])
        self.assertFalse(checker.check(self.write("text.so", b"INPUT(-lfoo)\n"), 16384)[0])
        self.assertFalse(checker.check(self.write("cut.so", elf([0x4000])[:70]), 16384)[0])
        self.assertEqual(checker.main([os.path.join(self.dir, "missing.so")]), 1)


class HostBuild(unittest.TestCase):
    def test_agrees_with_readelf_on_the_host_library(self):
        lib = host_library()
        self.assertTrue(os.path.isfile(lib), f"{lib} is missing: run bindings/build.sh first")
        readelf = shutil.which("readelf")
        if readelf is None:
            self.skipTest("readelf is not installed")
        out = subprocess.run([readelf, "-lW", lib], check=True, capture_output=True, text=True).stdout
        expected = [int(line.split()[-1], 16) for line in out.splitlines() if line.split()[:1] == ["LOAD"]]
        with open(lib, "rb") as f:
            self.assertEqual(checker.load_alignments(f.read()), expected)
        # The verdict follows the smallest alignment readelf shows.
        smallest = min(expected)
        self.assertTrue(checker.check(lib, smallest)[0])
        self.assertFalse(checker.check(lib, smallest * 2)[0])
        print(f"\nhost {os.path.basename(lib)}: LOAD alignment {', '.join(hex(a) for a in expected)}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        os.environ["PUSHSEAL_HOST_LIBRARY"] = sys.argv.pop(1)
    unittest.main(verbosity=2)
