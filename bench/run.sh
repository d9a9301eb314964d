#!/usr/bin/env bash
# PushSeal's performance report in one command, on a clean clone:
#
#   bench/run.sh                 # about 10 minutes on 2 cores
#   QUICK=1 bench/run.sh         # one short round, for trying the script (noisy)
#
# 1. criterion (sdk-core/benches/pushseal.rs), ROUNDS times over the whole suite,
#    so that every benchmark is sampled in several of the machine's fast and slow
#    phases; each benchmark's samples are pooled and summarised by their p10;
# 2. the same operations interleaved in short turns (sdk-core/examples/bench_ops.rs
#    interleave: 20 runs of each operation in turn, a few hundred rounds), so that
#    a ratio's two sides always run within milliseconds of each other: the
#    primary ratios are the minimum batch of each side;
# 3. instruction counts under valgrind's callgrind for the floor ratios, which do
#    not drift (sdk-core/examples/bench_ops.rs: the difference between 5 and 25 runs);
# 4. Sender::seal_batch to 10,000 devices on one core (taskset) and on all cores;
# 5. the bindings' open against native Rust, through Python and Kotlin, when
#    bindings/ is there (bench/bindings.sh);
# 6. the size of the stripped host bindings library (profile release-size) and
#    the peak memory of `pushseal open` in a fresh process (/usr/bin/time -v).
#
# Everything goes to target/bench-report/; the table is printed at the end and
# kept in target/bench-report/table.md. Environment: ROUNDS (default 8),
# MEASURE_SECS (default 0.5), INTERLEAVE_ROUNDS (300), SKIP_CALLGRIND=1,
# SKIP_BATCH=1, DEVICES (10000).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
# shellcheck source=scripts/cargo-metadata.sh
source "$root/scripts/cargo-metadata.sh"

quick="${QUICK:-0}"
rounds="${ROUNDS:-$([[ $quick == 1 ]] && echo 1 || echo 8)}"
measure="${MEASURE_SECS:-$([[ $quick == 1 ]] && echo 0.3 || echo 0.5)}"
samples="$([[ $quick == 1 ]] && echo 10 || echo 20)"
devices="${DEVICES:-10000}"
interleave_rounds="${INTERLEAVE_ROUNDS:-$([[ $quick == 1 ]] && echo 20 || echo 300)}"
target_dir="$(cargo_target_dir)"
out="$target_dir/bench-report"
rm -rf "$out"
mkdir -p "$out"
# Benchmarks share the machine: stay out of the way of interactive work.
run() { nice -n 5 "$@"; }

step() { printf '\n==> %s\n' "$*" >&2; }

step "machine"
{
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "nproc=$(nproc)"
  echo "flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512ifma|sha_ni|adx|bmi2)$' | tr '\n' ' ')"
  echo "rustc=$(rustc --version)"
  echo "kernel=$(uname -r)"
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
} | tee "$out/machine.txt" >&2

step "build (release profile: LTO, one codegen unit)"
run cargo bench -p pushseal --bench pushseal --no-run >&2
run cargo build --release -p pushseal --example bench_ops >&2
ops="$target_dir/release/examples/bench_ops"

step "criterion: $rounds round(s), ${measure}s per benchmark"
for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds" >&2
  CRITERION_HOME="$out/criterion/round-$r" run cargo bench -q -p pushseal --bench pushseal -- \
    --warm-up-time 0.2 --measurement-time "$measure" --sample-size "$samples" --noplot \
    >"$out/criterion-round-$r.log" 2>&1 || { tail -20 "$out/criterion-round-$r.log" >&2; exit 1; }
done

step "interleaved: every operation in turn, 20 runs each, $interleave_rounds rounds"
for size in 256 2048; do
  run "$ops" interleave "$size" "$interleave_rounds" 20 | tee -a "$out/interleave.txt" >&2
done

if [[ "${SKIP_CALLGRIND:-0}" != 1 ]]; then
  if ! command -v valgrind >/dev/null && command -v apt-get >/dev/null; then
    step "installing valgrind"
    (apt-get install -y -q valgrind || { apt-get update -q && apt-get install -y -q valgrind; }) >&2 || true
  fi
  if command -v valgrind >/dev/null; then
    step "callgrind: instructions per operation"
    instructions() { # op size n
      valgrind --tool=callgrind --callgrind-out-file=/dev/null "$ops" "$1" "$2" "$3" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
    }
    for size in 256 2048; do
      for op in floor-seal floor-open floor-seal-ladder floor-open-ladder seal seal-apns seal-cached open open-apns \
        hpke-seal hpke-open; do
        a="$(instructions "$op" "$size" 5)"
        b="$(instructions "$op" "$size" 25)"
        echo "$op $size $(((b - a) / 20))" | tee -a "$out/callgrind.txt" >&2
      done
    done
  else
    echo "valgrind is not available: no instruction counts" >&2
  fi
fi

if [[ "${SKIP_BATCH:-0}" != 1 ]]; then
  step "batch: $devices devices"
  # Not niced: a speed-up needs the cores; each run takes a few seconds. The
  # control runs one single-threaded process per core at once: what the
  # machine itself gives two independent workers (vCPUs may share a core).
  for _ in 1 2 3; do
    if command -v taskset >/dev/null; then
      taskset -c 0 "$ops" batch "$devices" 3 | sed 's/^/one_core /' | tee -a "$out/batch.txt" >&2
    fi
    # With the CPU use of the process: near 200% on 2 cores when its threads run in parallel.
    /usr/bin/time -f "all_cores_cpu_percent %P" -o "$out/batch-cpu.txt" "$ops" batch "$devices" 3 |
      sed 's/^/all_cores /' | tee -a "$out/batch.txt" >&2
    tr -d '%' <"$out/batch-cpu.txt" | tee -a "$out/batch.txt" >&2
    if command -v taskset >/dev/null && [[ "$(nproc)" -ge 2 ]]; then
      taskset -c 0 "$ops" batch "$devices" 3 >"$out/control-0.txt" &
      taskset -c 1 "$ops" batch "$devices" 3 >"$out/control-1.txt"
      wait
      python3 -c 'import re,sys; print("two_processes threads=2 devices_per_second=%.0f" % sum(
        float(re.search(r"devices_per_second=(\S+)", open(f).read()).group(1)) for f in sys.argv[1:]))' \
        "$out/control-0.txt" "$out/control-1.txt" | tee -a "$out/batch.txt" >&2
    fi
    sleep 5
  done
fi

step "bindings"
if [[ -x bench/bindings.sh ]]; then
  bench/bindings.sh "$out" >&2 || echo "bench/bindings.sh failed: bindings rows not measured" >&2
fi

step "peak memory of one open in a fresh process"
if workspace_has_package pushseal-cli; then
  run cargo build --release -p pushseal-cli >&2
  cli="$target_dir/release/pushseal"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  "$cli" keygen --secret-out "$tmp/device.key" >"$tmp/device.json"
  "$cli" keygen --secret-out "$tmp/sender.key" >"$tmp/sender.json"
  pk() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["public_key"])' "$1"; }
  python3 -c 'import json; print(json.dumps({"title": "Lab results", "body": "Your results are ready. " * 72}))' |
    "$cli" seal --to "$(pk "$tmp/device.json")" --from "$tmp/sender.key" >"$tmp/body.json"
  /usr/bin/time -v "$cli" open --secret "$tmp/device.key" --sender "$(pk "$tmp/sender.json")" \
    <"$tmp/body.json" >/dev/null 2>"$tmp/time.txt"
  sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/peak_rss_kib \1/p' "$tmp/time.txt" |
    tee "$out/memory.txt" >&2
else
  echo "no pushseal-cli package yet: peak memory not measured" >&2
fi

step "report"
python3 bench/report.py "$out" | tee "$out/table.md"
