#!/usr/bin/env bash
# Build the native library and (re)generate the Kotlin and Swift bindings.
#
#   bindings/build.sh            # from anywhere inside the checkout
#
# Produces:
#   <target>/release/libpushseal_ffi.so                 host library (cdylib), as apps get it
#   <target>/debug/uniffi-bindgen                       the generator (also what maturin runs)
#   bindings/kotlin/src/main/kotlin/org/pushseal/pushseal_ffi.kt      (gitignored)
#   bindings/swift/Sources/PushSeal/PushSeal.swift                     (committed:
#   bindings/swift/Headers/{PushSealFFI.h,module.modulemap}             SwiftPM users
#                                                                       have no Rust)
#
# The Python module is built by `pip install ./bindings/python` (maturin runs
# cargo and the same generator); bindings/test.sh python does that.
#
#   bindings/build.sh --check    also fail if the committed Swift sources
#                                differ from what the generator writes
#
# Environment:
#   CARGO_TARGET_DIR     honoured (target dir is read from `cargo metadata`)
#   CARGO_BUILD_FLAGS    extra flags for the cargo builds, e.g. "--locked"
set -euo pipefail

bindings_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$bindings_dir/.." && pwd)"
# uniffi-bindgen runs `cargo metadata` to find bindings/uniffi.toml: stay in the workspace.
cd "$root"
# shellcheck source=scripts/cargo-metadata.sh
source "$root/scripts/cargo-metadata.sh"

case "$(uname -s)" in
  Darwin) lib_file=libpushseal_ffi.dylib ;;
  *) lib_file=libpushseal_ffi.so ;;
esac

target_dir="$(cargo_target_dir)"
lib="$target_dir/release/$lib_file"
bindgen="$target_dir/debug/uniffi-bindgen"

check=false
case "${1:-}" in
  "") ;;
  --check) check=true ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

read -r -a cargo_flags <<<"${CARGO_BUILD_FLAGS:-}"

# The generator is built as maturin builds it for the Python package (`cargo
# run --bin uniffi-bindgen` from the workspace root, dev profile), so that the
# two share one build: with no -p, features are unified over the whole
# workspace, and -p would make other artifacts. The workspace's Cargo.toml
# leaves the generator's own dependencies unoptimised (at opt-level 3 they
# take many minutes from cold on 2 cores).
echo "==> cargo build --bin uniffi-bindgen"
cargo build --bin uniffi-bindgen "${cargo_flags[@]}"

# The library must keep its symbol table: bindgen reads the UNIFFI_META_*
# symbols from it ("No UniFFI metadata found" on a stripped library).
generate() { # language out_dir
  "$bindgen" generate "$lib" --language "$1" --out-dir "$2" --no-format
}

swift_tmp="$(mktemp -d)"
trap 'rm -rf "$swift_tmp"' EXIT

echo "==> cargo build --release -p pushseal-ffi (the library apps ship)"
cargo build --release -p pushseal-ffi "${cargo_flags[@]}"

echo "==> Kotlin"
kotlin_out="$bindings_dir/kotlin/src/main/kotlin"
rm -rf "$kotlin_out"
generate kotlin "$kotlin_out"
# Plain Java names (DeviceKeyring.generate(), PushSeal.verifyReceipt(...)): see there.
python3 "$bindings_dir/kotlin/java-names.py" "$kotlin_out/org/pushseal/pushseal_ffi.kt"

echo "==> Swift (committed; compiled by the Swift package on macOS / Linux with Swift)"
swift_dir="$bindings_dir/swift"
generate swift "$swift_tmp"
# The XCFramework wants the module map named module.modulemap (build-xcframework.sh).
mkdir -p "$swift_dir/Sources/PushSeal" "$swift_dir/Headers"
swift_files=(Sources/PushSeal/PushSeal.swift Headers/PushSealFFI.h Headers/module.modulemap)
cp "$swift_tmp/PushSeal.swift" "$swift_tmp/new-PushSeal.swift"
cp "$swift_tmp/PushSealFFI.modulemap" "$swift_tmp/new-module.modulemap"
cp "$swift_tmp/PushSealFFI.h" "$swift_tmp/new-PushSealFFI.h"
stale=()
for f in "${swift_files[@]}"; do
  new="$swift_tmp/new-$(basename "$f")"
  if ! cmp -s "$new" "$swift_dir/$f"; then
    stale+=("bindings/swift/$f")
    cp "$new" "$swift_dir/$f"
  fi
done
if ((${#stale[@]})); then
  echo "   rewritten: ${stale[*]}"
  if $check; then
    echo "error: the committed Swift bindings were stale (rewritten now; review and commit them)" >&2
    exit 1
  fi
fi

# Kotlin needs no copy: Maven/Surefire points JNA at $target_dir/release.
echo "==> done"
