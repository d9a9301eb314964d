#!/usr/bin/env python3
"""Give the generated Kotlin the names Java callers expect.

    python3 bindings/kotlin/java-names.py path/to/pushseal_ffi.kt

UniFFI 0.32's Kotlin has no option for these, so bindings/build.sh runs this
on the file it generates (the same every time; the file is not committed):

- `@file:JvmName("PushSeal")`: top-level functions are `PushSeal.verifyReceipt(...)`
  in Java, not `Pushseal_ffiKt.verifyReceipt(...)`.
- `@JvmStatic` on every constructor function of an object's companion:
  `DeviceKeyring.generate()`, not `DeviceKeyring.Companion.generate()`.
- `@JvmOverloads` on those constructors and on top-level functions with
  default arguments: Java may leave trailing defaults out
  (`PushSeal.loadOrRecreateKeyring(storage)`).

What it cannot do: methods (`keyring.open(payload, replay, now)`) take their
defaults from the generated interface (`DeviceKeyringInterface`), and Kotlin
allows no `@JvmOverloads` on an interface method or its override, so Java
passes every argument of a method (`null` for `now`). Records and enums are
untouched: their Java names are already plain (`new Message(...)`,
`ErrorKind.REPLAYED`).

Fails (exit 1) when the file does not look as expected, so that a UniFFI
upgrade that changes its output is noticed at once, not in a Java build.
"""

import re
import sys

JVM_NAME = "PushSeal"

# A function declaration as UniFFI writes it, on one line, perhaps after the
# end of its doc comment and an @Throws: `... fun \`name\`(args)...`.
FUN = re.compile(r"\bfun `(?P<name>\w+)`\((?P<args>.*?)\)")
# What its body calls: the scaffolding's symbol says what the function is.
CALLS = re.compile(r"_fn_(?P<kind>func|constructor|method)_\w+\(")
LOOKAHEAD = 12


def annotate(text):
    lines = text.split("\n")
    out = []
    package_seen = False
    statics = overloads = 0
    for index, line in enumerate(lines):
        if line.startswith("package ") and not package_seen:
            out.append(f'@file:JvmName("{JVM_NAME}")')
            out.append("")
            package_seen = True
        match = FUN.search(line)
        if match and "override fun" not in line:
            kind = None
            for later in lines[index + 1 : index + 1 + LOOKAHEAD]:
                if FUN.search(later):
                    break
                call = CALLS.search(later)
                if call:
                    kind = call.group("kind")
                    break
            annotations = []
            if kind == "constructor":
                annotations.append("@JvmStatic")
                statics += 1
            if kind in ("constructor", "func") and " = " in match.group("args"):
                annotations.append("@JvmOverloads")
                overloads += 1
            if annotations:
                at = match.start()
                line = line[:at] + " ".join(annotations) + " " + line[at:]
        out.append(line)
    if not package_seen or statics == 0 or overloads == 0:
        raise SystemExit(
            f"java-names.py: unexpected generated Kotlin (package line: {package_seen}, "
            f"@JvmStatic: {statics}, @JvmOverloads: {overloads}): check UniFFI's output"
        )
    return "\n".join(out), statics, overloads


def main(argv):
    if len(argv) != 1:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    path = argv[0]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if f'@file:JvmName("{JVM_NAME}")' in text:
        return 0
    annotated, statics, overloads = annotate(text)
    with open(path, "w", encoding="utf-8") as f:
        f.write(annotated)
    print(f"   Java names: @file:JvmName(\"{JVM_NAME}\"), {statics} @JvmStatic, {overloads} @JvmOverloads")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
