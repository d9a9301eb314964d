#!/usr/bin/env bash
# Builds PushSeal's libFuzzer targets and runs each for a bounded time, seeded
# with inputs made from the fixture keys and with the values in test-vectors/.
#
#   sdk-core/fuzz/run.sh smoke [SECONDS]        every target, SECONDS each (default 5): the CI gate
#   sdk-core/fuzz/run.sh run SECONDS [TARGET..] the named targets (default all), SECONDS each
#   sdk-core/fuzz/run.sh build                  build only
#   sdk-core/fuzz/run.sh list                   the target names
#
# Works on the stable toolchain: coverage comes from LLVM's SanitizerCoverage
# pass (stable -C flags), the engine from the libfuzzer-sys crate. With
# SANITIZER=address and a nightly toolchain installed, the targets are built
# with AddressSanitizer too (nightly only: -Zsanitizer). Extra libFuzzer flags
# go in FUZZ_FLAGS. Exits non-zero if any target finds a crash, a leak, a
# timeout or an out-of-memory input; the input is saved under
# sdk-core/fuzz/artifacts/<target>/.
#
# Corpora grow in sdk-core/fuzz/corpus/<target>/ (not committed) and each
# run's log goes to sdk-core/fuzz/logs/<target>.log. One summary line per
# target is printed: executions, corpus size, coverage, and the verdict.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
targets=(envelope_parse open_envelope open_apns open_fcm open_plaintext unpad keyring replay_file open_v2 open_v2_plaintext key_texts)

mode="${1:-smoke}"
case "$mode" in
  list) printf '%s\n' "${targets[@]}"; exit 0 ;;
  build) seconds=0; selected=() ;;
  smoke) seconds="${2:-5}"; selected=("${targets[@]}") ;;
  run)
    seconds="${2:?usage: run.sh run SECONDS [TARGET...]}"
    shift 2
    if [ "$#" -gt 0 ]; then selected=("$@"); else selected=("${targets[@]}"); fi
    ;;
  *) echo "usage: run.sh smoke [SECONDS] | run SECONDS [TARGET...] | build | list" >&2; exit 2 ;;
esac
for t in "${selected[@]+"${selected[@]}"}"; do
  [[ " ${targets[*]} " == *" $t "* ]] || { echo "unknown target: $t" >&2; exit 2; }
done

host="$(rustc -vV | sed -n 's/^host: //p')"
flags="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
flags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table"
flags+=" -Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
toolchain=()
export CARGO_TARGET_DIR="$here/target"
if [ "${SANITIZER:-none}" = address ]; then
  toolchain=(+nightly)
  flags+=" -Zsanitizer=address"
  CARGO_TARGET_DIR="$here/target/asan"
fi

echo "== building the fuzz targets (${SANITIZER:-no} sanitizer)"
(cd "$here" && RUSTFLAGS="$flags" cargo "${toolchain[@]}" build --release --locked --bins --target "$host" --quiet)
bin="$CARGO_TARGET_DIR/$host/release"
[ "$mode" = build ] && exit 0

echo "== writing seeds"
seeds="$here/target/seeds"
rm -rf "$seeds"
(cd "$root" && CARGO_TARGET_DIR="$root/target" PUSHSEAL_FUZZ_SEEDS="$seeds" cargo test --quiet -p pushseal --test fuzz_regressions \
  -- --exact every_seed_passes_its_target >/dev/null)

mkdir -p "$here/logs"
failed=0
for t in "${selected[@]}"; do
  corpus="$here/corpus/$t"
  artifacts="$here/artifacts/$t"
  mkdir -p "$corpus" "$artifacts" "$here/regressions/$t"
  log="$here/logs/$t.log"
  # The scratch folder of the replay target's file: memory-backed where there is one.
  tmp="${TMPDIR:-/tmp}"
  [ -d /dev/shm ] && [ -w /dev/shm ] && tmp=/dev/shm
  set +e
  TMPDIR="$tmp" "$bin/$t" "$corpus" "$seeds/$t" "$here/regressions/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 ${FUZZ_FLAGS:-} >"$log" 2>&1
  status=$?
  set -e
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
  units="$(ls "$corpus" | wc -l)"
  if [ "$status" -eq 0 ]; then
    verdict="no finding"
  else
    verdict="FINDING (exit $status, see $log and $artifacts/)"
    failed=1
  fi
  printf '%-17s %6ss  execs %-10s corpus %-6s cov %-6s %s\n' "$t" "$seconds" "${execs:-?}" "$units" "${cov:-?}" "$verdict"
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz: a target found an input that breaks a rule: add it to sdk-core/fuzz/regressions/<target>/" >&2
  exit 1
fi
