#!/usr/bin/env bash
# The bindings' rows of bench/run.sh: the size of the stripped host library
# (profile release-size) and the time of one open through Python, through
# Kotlin on the JVM and through Swift, against the same open in native Rust.
#
#   bench/bindings.sh OUT_DIR      (bench/run.sh calls it; results in OUT_DIR/bindings.txt)
#
# All four open the same 2 KB envelope with a keyring loaded from the same
# bytes, each time with a fresh in-memory replay store, in a warm loop; each
# reports the best of its rounds in nanoseconds per open. They take turns,
# five times, and each keeps its best turn. It needs
# bindings/ (the pushseal-ffi crate and bindings/build.sh); without it, it says
# so and the rows stay "not measured yet".
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/cargo-metadata.sh
source scripts/cargo-metadata.sh
# shellcheck source=scripts/python-bindings.sh
source scripts/python-bindings.sh
out="${1:?usage: bench/bindings.sh OUT_DIR}"
mkdir -p "$out"
result="$out/bindings.txt"
: >"$result"
: >"$out/bindings-turns.txt"

if ! workspace_has_package pushseal-ffi || [[ ! -x bindings/build.sh ]]; then
  echo "no bindings/ (pushseal-ffi and bindings/build.sh) yet: bindings not measured"
  exit 0
fi
target_dir="$(cargo_target_dir)"
n="${BINDINGS_OPENS:-2000}"
rounds="${BINDINGS_ROUNDS:-3}"
turns="${BINDINGS_TURNS:-5}"

echo "==> size: cargo build --profile release-size -p pushseal-ffi"
nice cargo build -q --profile release-size -p pushseal-ffi
lib=""
for f in "$target_dir"/release-size/libpushseal_ffi.so "$target_dir"/release-size/libpushseal_ffi.dylib; do
  if [[ -f "$f" ]]; then lib="$f" && break; fi
done
[[ -n "$lib" ]] || { echo "no libpushseal_ffi in $target_dir/release-size"; exit 1; }
stripped="$out/$(basename "$lib")"
cp "$lib" "$stripped"
strip "$stripped" 2>/dev/null || true
echo "cdylib_stripped_bytes $(wc -c <"$stripped" | tr -d ' ')" | tee -a "$result"

echo "==> bindings/build.sh (host library and generated Kotlin)"
bindings/build.sh >/dev/null

fixture="$(mktemp -d)"
trap 'rm -rf "$fixture"' EXIT
nice cargo build -q --release -p pushseal --example bench_ops
ops="$target_dir/release/examples/bench_ops"
"$ops" fixture "$fixture"
native=("$ops" open-timed "$fixture" "$n" "$rounds")

echo "==> Python: install the bindings in $target_dir/bindings-venv (maturin builds them)"
python=()
venv="${PUSHSEAL_VENV:-$target_dir/bindings-venv}"
if install_python_bindings "$venv" "$target_dir"; then
  python=("$venv/bin/python" bench/bindings_open.py "$fixture" "$n" "$rounds")
else
  echo "bindings/python does not install: Python not measured"
fi

echo "==> Kotlin: compile the bindings and bench/OpenBench.java"
jvm=()
kotlin_prepare() {
  local pom=bindings/kotlin/pom.xml kt package classes
  kt="$(grep -rl --include='*.kt' '^package ' bindings/kotlin/src/main 2>/dev/null | head -1 || true)"
  if [[ ! -f "$pom" || -z "$kt" ]] || ! command -v mvn >/dev/null || ! command -v javac >/dev/null; then
    echo "no Kotlin bindings build (bindings/kotlin/pom.xml and generated sources), or no mvn/javac"
    return 1
  fi
  package="$(sed -n 's/^package \([A-Za-z0-9_.]*\).*/\1/p' "$kt" | head -1)"
  # MVN_FLAGS as bindings/test.sh takes them (offline/env.sh sets them for a vendor folder).
  local mvn_flags
  read -r -a mvn_flags <<<"${MVN_FLAGS:--B -ntp -Dstyle.color=never}"
  mvn_flags+=(-q)
  # Maven 3.8 writes colour resets even with -q and -Dstyle.color=never. The
  # classpath comes from maven-dependency-plugin: a vendor folder made by
  # offline/vendor.sh holds only what the tests resolve, so offline this
  # row is not measured.
  mvn -f "$pom" "${mvn_flags[@]}" -DskipTests -Dpushseal.native.dir="$target_dir/release" compile 2>&1 |
    sed 's/\x1b\[[0-9;]*m//g' &&
    mvn -f "$pom" "${mvn_flags[@]}" dependency:build-classpath -Dmdep.outputFile="$fixture/cp.txt" >/dev/null &&
    classes="bindings/kotlin/target/classes:$(cat "$fixture/cp.txt")" &&
    mkdir -p "$fixture/java" &&
    sed "s/@PACKAGE@/$package/g" bench/OpenBench.java >"$fixture/java/OpenBench.java" &&
    javac -d "$fixture/java" -cp "$classes" "$fixture/java/OpenBench.java" &&
    jvm=(java -Djna.library.path="$target_dir/release" -cp "$fixture/java:$classes" OpenBench "$fixture" "$n" "$rounds")
}
kotlin_prepare || echo "the JVM benchmark cannot run: Kotlin not measured"

echo "==> Swift: build bench/swift (the PushSeal package, release)"
swift=()
if command -v swift >/dev/null; then
  if swift build -q -c release --package-path bench/swift -Xlinker -L"$target_dir/release"; then
    swift=(env LD_LIBRARY_PATH="$target_dir/release" bench/swift/.build/release/OpenBench "$fixture" "$n" "$rounds")
  else
    echo "bench/swift does not build: Swift not measured"
  fi
else
  echo "no swift here: Swift not measured"
fi

# Native, Python, the JVM and Swift take turns, several times: the machine's slow
# and fast phases last seconds, and each keeps its best turn.
echo "==> open: native, Python, JVM in turn, $turns turns"
for _ in $(seq 1 "$turns"); do
  "${native[@]}" | tee -a "$out/bindings-turns.txt"
  if ((${#python[@]})); then "${python[@]}" | tee -a "$out/bindings-turns.txt" || echo "a Python turn failed"; fi
  if ((${#jvm[@]})); then "${jvm[@]}" | tee -a "$out/bindings-turns.txt" || echo "a JVM turn failed"; fi
  if ((${#swift[@]})); then "${swift[@]}" | tee -a "$out/bindings-turns.txt" || echo "a Swift turn failed"; fi
done
python3 - "$out/bindings-turns.txt" <<'PY' | tee -a "$result"
import sys
best = {}
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) == 2 and parts[0].endswith("_open_ns"):
        best[parts[0]] = min(best.get(parts[0], float("inf")), float(parts[1]))
for name, value in best.items():
    print(f"{name} {value:.0f}")
PY
