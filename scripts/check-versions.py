#!/usr/bin/env python3
"""Fails when a published artifact's version differs from the Cargo workspace's.

    python3 scripts/check-versions.py

The version is written once, in the root Cargo.toml ([workspace.package]
version); every crate takes it from there (version.workspace = true). The
other artifacts each write it once more, where their tools read it, and this
check (a step of bindings/test.sh, so of every CI run) holds them equal:

    bindings/kotlin/android/build.gradle.kts   the AAR on Maven Central
    bindings/python/pyproject.toml             the wheel on PyPI
    bindings/README.md                         the Swift package's `from:` snippet
    bindings/kotlin/pom.xml, android/pom.xml   the JVM and Robolectric builds
    android-sample/app/build.gradle.kts        the artifact the sample names
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# (file, pattern whose one group is the version, what it is)
PLACES = [
    ("bindings/kotlin/android/build.gradle.kts", r'(?m)^version = "([^"]+)"', "the AAR (Gradle)"),
    ("bindings/python/pyproject.toml", r'(?ms)^\[project\].*?^version = "([^"]+)"', "the Python package"),
    ("bindings/README.md", r'\.package\(url: "https://github\.com/pushseal/pushseal", from: "([^"]+)"\)', "the Swift package snippet"),
    ("bindings/kotlin/pom.xml", r"<artifactId>pushseal-kotlin</artifactId>\s*<version>([^<]+)</version>", "the JVM build"),
    ("bindings/kotlin/android/pom.xml", r"(?s)<artifactId>pushseal-android-robolectric</artifactId>\s*(?:<!--.*?-->\s*)?<version>([^<]+)</version>", "the Robolectric build"),
    ("android-sample/app/build.gradle.kts", r'org\.pushseal:pushseal-android:([^"`)]+)', "the sample's dependency"),
]


def workspace_version() -> str:
    text = (ROOT / "Cargo.toml").read_text(encoding="utf-8")
    found = re.search(r'(?ms)^\[workspace\.package\].*?^version = "([^"]+)"', text)
    if not found:
        sys.exit("check-versions: no [workspace.package] version in Cargo.toml")
    return found.group(1)


def main() -> int:
    want = workspace_version()
    wrong = []
    for path, pattern, what in PLACES:
        text = (ROOT / path).read_text(encoding="utf-8")
        found = re.findall(pattern, text)
        if not found:
            wrong.append(f"{path}: no version found for {what} (the pattern in scripts/check-versions.py is stale)")
        for version in found:
            if version != want:
                wrong.append(f"{path}: {what} is {version}")
    if wrong:
        print(f"versions differ from Cargo.toml's {want}: set each to {want}", file=sys.stderr)
        for line in wrong:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"one version everywhere: {want} ({len(PLACES) + 1} places)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
