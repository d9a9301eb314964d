#!/usr/bin/env python3
"""Check that shared libraries load on devices with 16 KB memory pages.

    bindings/kotlin/check-page-alignment.py [--min BYTES] PATH...

Every PATH is a `.so` file or a folder searched for `.so` files (an AAR's
unpacked `jni/`, `kotlin/android/src/main/jniLibs/`). For each ELF file, every
`PT_LOAD` program header's `p_align` must be a power of two of at least
`--min` bytes (default 16384): Android 15+ on 16 KB-page devices, and Google
Play for apps targeting it, refuse a library whose LOAD segments are aligned
to less. Prints one line per file and exits 1 if any fails, 2 on bad usage.

Reads the program headers itself (32- and 64-bit, either byte order), so it
needs neither the NDK's `llvm-readelf` nor binutils.
"""

import argparse
import os
import struct
import sys

PT_LOAD = 1


class NotElf(Exception):
    """The file is not an ELF file this script can read."""


def load_alignments(data):
    """The `p_align` of every PT_LOAD program header of the ELF image `data`."""
    if len(data) < 16 or data[:4] != b"\x7fELF":
        raise NotElf("no ELF magic")
    ei_class, ei_data = data[4], data[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        raise NotElf("unknown ELF class or byte order")
    order = "<" if ei_data == 1 else ">"
    wide = ei_class == 2
    try:
        if wide:
            e_phoff, = struct.unpack_from(order + "Q", data, 32)
            e_phentsize, e_phnum = struct.unpack_from(order + "HH", data, 54)
        else:
            e_phoff, = struct.unpack_from(order + "I", data, 28)
            e_phentsize, e_phnum = struct.unpack_from(order + "HH", data, 42)
        alignments = []
        for i in range(e_phnum):
            at = e_phoff + i * e_phentsize
            p_type, = struct.unpack_from(order + "I", data, at)
            if p_type != PT_LOAD:
                continue
            # p_align is the last field: offset 48 (ELF64) or 28 (ELF32).
            p_align, = struct.unpack_from(order + ("Q" if wide else "I"), data, at + (48 if wide else 28))
            alignments.append(p_align)
    except struct.error as e:
        raise NotElf(f"program headers cut short ({e})") from e
    if not alignments:
        raise NotElf("no PT_LOAD program header")
    return alignments


def check(path, minimum):
    """(ok, line) for one file."""
    try:
        with open(path, "rb") as f:
            alignments = load_alignments(f.read())
    except (OSError, NotElf) as e:
        return False, f"FAIL {path}: {e}"
    bad = [a for a in alignments if a < minimum or a & (a - 1)]
    shown = ", ".join(f"{a:#x}" for a in alignments)
    if bad:
        return False, f"FAIL {path}: LOAD alignment {shown}; every one must be a power of two >= {minimum:#x}"
    return True, f"ok   {path}: LOAD alignment {shown}"


def libraries(paths):
    """Every .so named or found under the folders named."""
    for p in paths:
        if os.path.isdir(p):
            for folder, _, files in sorted(os.walk(p)):
                for name in sorted(files):
                    if name.endswith(".so"):
                        yield os.path.join(folder, name)
        else:
            yield p


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=int, default=16384, help="smallest allowed LOAD alignment in bytes (16384)")
    parser.add_argument("paths", nargs="+", help=".so files or folders holding them")
    args = parser.parse_args(argv)
    found = list(libraries(args.paths))
    if not found:
        print("no .so files found in " + " ".join(args.paths), file=sys.stderr)
        return 1
    failed = 0
    for path in found:
        ok, line = check(path, args.min)
        print(line)
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
