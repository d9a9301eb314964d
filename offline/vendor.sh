#!/usr/bin/env bash
# Makes the vendor folder that offline/env.sh builds from, on a machine that
# reaches the crates registry, Maven Central and PyPI. Carry the folder into
# the network with no outside access, then `source offline/env.sh DIR`.
#
#   offline/vendor.sh OUT_DIR
#
# OUT_DIR receives:
#   crates.tar.gz      crates/: cargo vendor of Cargo.lock and sdk-core/fuzz/Cargo.lock,
#                      each crate at its locked version (--versioned-dirs)
#   maven-repo.tar.gz  repository/: a Maven local repository with every plugin and
#                      dependency that bindings/kotlin (JVM and Android, Robolectric's
#                      android-all included), the 16 KB check of JNA's AAR and
#                      android-sample/sample-logic resolve, filled by running them
#   go-modules.tar.gz  gomod/: a Go module cache with what audit-log/tests/go-verifier
#                      needs (golang.org/x/mod), for the checkpoint interop test
#   wheels/            the Python packages the tests and the module's build install
#   MANIFEST.md        the commit and the lockfiles' sha256 it was made from
#
# It needs what .ci/run needs (Rust, Java 17 + Maven, Python 3), and runs
# bindings/build.sh to give the Kotlin tests their native library.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:?usage: offline/vendor.sh OUT_DIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"

echo "==> crates (both lockfiles)"
cargo vendor --locked --versioned-dirs -s sdk-core/fuzz/Cargo.toml "$work/crates" >/dev/null
tar czf "$out/crates.tar.gz" -C "$work" crates

echo "==> Maven repository (the Kotlin bindings' and the Android sample logic's builds)"
CARGO_BUILD_FLAGS=--locked bindings/build.sh >/dev/null
maven=(-B -ntp -Dstyle.color=never -Dmaven.repo.local="$work/repository")
MVN_FLAGS="${maven[*]}" bindings/test.sh kotlin >/dev/null
MVN_FLAGS="${maven[*]}" bindings/test.sh elf >/dev/null
mvn "${maven[@]}" -q -f android-sample/sample-logic/pom.xml test >/dev/null
tar czf "$out/maven-repo.tar.gz" -C "$work" repository

echo "==> Go modules (the checkpoint interop test's verifier)"
if command -v go >/dev/null 2>&1; then
  (cd audit-log/tests/go-verifier && GOMODCACHE="$work/gomod" GOFLAGS=-modcacherw go mod download)
  tar czf "$out/go-modules.tar.gz" -C "$work" gomod
else
  echo "go is not installed: no go-modules.tar.gz (the interop test skips, saying so)"
fi

echo "==> Python wheels"
python3 -m pip download -q -d "$out/wheels" -r offline/python-requirements.txt

{
  echo "# PushSeal vendor folder"
  echo
  echo "Made by offline/vendor.sh from commit $(git rev-parse HEAD 2>/dev/null || echo unknown)."
  echo
  echo "| lockfile | sha256 |"
  echo "|---|---|"
  for f in Cargo.lock sdk-core/fuzz/Cargo.lock; do
    echo "| \`$f\` | \`$(sha256sum "$f" | cut -d' ' -f1)\` |"
  done
} >"$out/MANIFEST.md"
echo "==> $out"
ls -l "$out"
