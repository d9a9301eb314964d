#!/usr/bin/env bash
# Run the binding tests: Kotlin and Swift against the host library built by
# bindings/build.sh; Python against the package pip builds (maturin).
#
#   bindings/test.sh [all|rust|kotlin|android|python|swift|elf|versions]   (default: all)
#
# rust    cargo test -p pushseal-ffi --features server (the audit log too)
# kotlin  Maven (Kotlin compile + JUnit 5 via Surefire), JNA loads the .so
#         from <target>/release through -Djna.library.path; then `android`
# android the Android library (kotlin/android/pom.xml): the generated Kotlin,
#         kotlin/src/library and kotlin/android/src compiled against Robolectric's
#         android-all (Android 15, compileSdk 35), JUnit 4 tests under Robolectric
# python  venv in <target>/bindings-venv, pip install ./bindings/python (maturin
#         builds the library with the `server` feature and generates the module,
#         in this checkout's target dir, so build.sh's work is reused), pytest;
#         the sending tests start `pushseal gateway` (the CLI, built here)
# swift   swift test of the root Package.swift (Linux: links the host library;
#         `all` runs it where a Swift toolchain is installed, and says so where not)
# elf     the 16 KB page check of Android libraries (kotlin/check-page-alignment.py):
#         synthetic ELF files, the host library read the same as `readelf -lW`, and
#         JNA's libjnidispatch.so for every Android ABI, from the JNA AAR on Maven
#         Central (what an app ships beside the library)
# versions  one version everywhere (scripts/check-versions.py)
#
# Environment:
#   MVN_FLAGS      Maven flags, replace the default "-B -ntp -Dstyle.color=never"
#                  (e.g. add -o once ~/.m2 is warm, -Dmaven.repo.local=DIR).
#                  Not -q: it would hide Surefire's "Tests run:" summary.
#   PYTHON         interpreter used to create the venv (default: python3)
#   PUSHSEAL_VENV  venv location (default: <target>/bindings-venv)
set -euo pipefail

bindings_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$bindings_dir/.." && pwd)"
cd "$root"
# shellcheck source=scripts/cargo-metadata.sh
source "$root/scripts/cargo-metadata.sh"
# shellcheck source=scripts/python-bindings.sh
source "$root/scripts/python-bindings.sh"

mode="${1:-all}"
case "$mode" in
  all | rust | kotlin | android | python | swift | elf | versions) ;;
  *) echo "usage: $0 [all|rust|kotlin|android|python|swift|elf|versions]" >&2; exit 2 ;;
esac

target_dir="$(cargo_target_dir)"
native_dir="$target_dir/release"

need() { # file...
  for f in "$@"; do
    if [[ ! -f "$f" ]]; then
      echo "missing $f: run bindings/build.sh first" >&2
      exit 1
    fi
  done
}

run_rust() {
  echo "==> cargo test -p pushseal-ffi --features server"
  cargo test -p pushseal-ffi --features server
}

run_kotlin() {
  need "$native_dir/libpushseal_ffi.so" \
    "$bindings_dir/kotlin/src/main/kotlin/org/pushseal/pushseal_ffi.kt"
  # clean: kotlin-maven-plugin never deletes class files of removed sources.
  echo "==> mvn clean test (bindings/kotlin)"
  read -r -a mvn_flags <<<"${MVN_FLAGS:--B -ntp -Dstyle.color=never}"
  mvn -f "$bindings_dir/kotlin/pom.xml" "${mvn_flags[@]}" \
    -Dpushseal.native.dir="$native_dir" clean test 2>&1 | no_colour
}

run_android() {
  need "$native_dir/libpushseal_ffi.so" \
    "$bindings_dir/kotlin/src/main/kotlin/org/pushseal/pushseal_ffi.kt"
  echo "==> mvn clean test (bindings/kotlin/android: android-all + Robolectric)"
  read -r -a mvn_flags <<<"${MVN_FLAGS:--B -ntp -Dstyle.color=never}"
  mvn -f "$bindings_dir/kotlin/android/pom.xml" "${mvn_flags[@]}" \
    -Dpushseal.native.dir="$native_dir" clean test 2>&1 | no_colour
}

run_python() {
  local venv="${PUSHSEAL_VENV:-$target_dir/bindings-venv}"
  install_python_bindings "$venv" "$target_dir"
  # test_delivery.py sends to the local gateways that `pushseal gateway` runs.
  echo "==> cargo build -p pushseal-cli (the test gateways)"
  cargo build -q -p pushseal-cli
  echo "==> pytest (bindings/python/tests)"
  # src/ layout: `import pushseal` can only resolve to the installed copy.
  (cd "$bindings_dir/python" && PUSHSEAL_CLI="$target_dir/debug/pushseal" "$venv/bin/python" -m pytest)
}

run_swift() {
  need "$native_dir/libpushseal_ffi.so" "$bindings_dir/swift/Sources/PushSeal/PushSeal.swift"
  echo "==> swift test (Package.swift: bindings/swift/Tests)"
  # The package's C module links libpushseal_ffi (bindings/swift/linux/module.modulemap):
  # the linker finds the host library here, and so does the test process.
  # XCTest only: the suites have no Swift Testing tests, whose empty run would
  # print a misleading "0 tests" summary.
  LD_LIBRARY_PATH="$native_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    swift test --quiet --package-path "$root" --disable-swift-testing -Xlinker -L"$native_dir" 2>&1 \
    | xctest_summary
}

# Maven 3.8 writes colour resets even in batch mode with -Dstyle.color=never.
no_colour() {
  sed 's/\x1b\[[0-9;]*m//g'
}

# XCTest's output less its line per passing test: suites' summaries and
# failures stay (the exit status is swift test's, through pipefail).
xctest_summary() {
  grep -vE "^Test (Case|Suite) '.*' (started|passed)" || true
}

run_elf() {
  need "$native_dir/libpushseal_ffi.so"
  echo "==> python3 kotlin/check_page_alignment_test.py (16 KB pages)"
  python3 "$bindings_dir/kotlin/check_page_alignment_test.py" "$native_dir/libpushseal_ffi.so"

  echo "==> 16 KB pages: JNA's libjnidispatch.so for every Android ABI (the JNA AAR)"
  # The AAR the library's POM names (kotlin/android/pom.xml fetches the same version).
  read -r -a mvn_flags <<<"${MVN_FLAGS:--B -ntp -Dstyle.color=never}"
  mvn -f "$bindings_dir/kotlin/android/pom.xml" "${mvn_flags[@]}" -q dependency:copy@jna-aar 2>&1 | no_colour
  local unpacked
  unpacked="$(mktemp -d)"
  python3 -m zipfile -e "$bindings_dir/kotlin/android/target/jna-aar/jna.aar" "$unpacked"
  # Every ABI the AAR ships (kotlin/build-aar.sh) must have JNA's library beside ours.
  for abi in arm64-v8a armeabi-v7a x86_64; do
    if [[ ! -f "$unpacked/jni/$abi/libjnidispatch.so" ]]; then
      echo "JNA's AAR has no libjnidispatch.so for $abi" >&2
      rm -rf "$unpacked"
      exit 1
    fi
  done
  local status=0
  python3 "$bindings_dir/kotlin/check-page-alignment.py" "$unpacked/jni" || status=$?
  rm -rf "$unpacked"
  return "$status"
}

run_versions() {
  echo "==> one version everywhere (scripts/check-versions.py)"
  python3 "$root/scripts/check-versions.py"
}

case "$mode" in
  all)
    run_versions; run_rust; run_kotlin; run_android; run_python; run_elf
    if command -v swift >/dev/null 2>&1; then run_swift; else echo "swift is not installed here: the Swift package's tests are skipped"; fi
    ;;
  rust) run_rust ;;
  kotlin) run_kotlin; run_android ;;
  android) run_android ;;
  versions) run_versions ;;
  python) run_python ;;
  swift) run_swift ;;
  elf) run_elf ;;
esac
