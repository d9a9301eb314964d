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
#    and version 2 (X-Wing, signed) to 1,000, 10,000 and 100,000 registrations;
#    then the cold open of one version 2 envelope in a fresh process (time from
#    main's start, peak memory by /usr/bin/time -v);
# 5. the bindings' open against native Rust, through Python and Kotlin, when
#    bindings/ is there (bench/bindings.sh);
# 6. the size of the stripped host bindings library (profile release-size) and
#    the peak memory of `pushseal open` in a fresh process (/usr/bin/time -v).
#
# Everything goes to target/bench-report/; the table is printed at the end and
# kept in target/bench-report/table.md. Environment: ROUNDS (default 8),
# MEASURE_SECS (default 0.5), INTERLEAVE_ROUNDS (300), SKIP_CALLGRIND=1,
# INTERLEAVE_BATCH (20), SKIP_BATCH=1, DEVICES (10000), V2_DEVICES ("1000 10000 100000"). V2_ONLY=1 measures
# what envelope version 2's rows need (bench_ops alone: the interleaved table, its
# instruction counts, the version 2 batch and cold open) and skips criterion, the
# version 1 batch, the bindings and the CLI's memory.
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
v2_only="${V2_ONLY:-0}"
v2_devices="${V2_DEVICES:-$([[ $quick == 1 ]] && echo "1000 10000" || echo "1000 10000 100000")}"
interleave_rounds="${INTERLEAVE_ROUNDS:-$([[ $quick == 1 ]] && echo 20 || echo 300)}"
# Runs of each operation per turn. On a machine loaded by other work, a turn
# longer than the scheduler's time slice (a few ms) is often cut by another
# process: a batch of 2 and 1,000 rounds keeps every turn within one slice.
interleave_batch="${INTERLEAVE_BATCH:-20}"
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
[[ $v2_only == 1 ]] || run cargo bench -p pushseal --bench pushseal --no-run >&2
run cargo build --release -p pushseal --example bench_ops >&2
ops="$target_dir/release/examples/bench_ops"

step "criterion: $rounds round(s), ${measure}s per benchmark"
[[ $v2_only == 1 ]] && rounds=0
for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds" >&2
  CRITERION_HOME="$out/criterion/round-$r" run cargo bench -q -p pushseal --bench pushseal -- \
    --warm-up-time 0.2 --measurement-time "$measure" --sample-size "$samples" --noplot \
    >"$out/criterion-round-$r.log" 2>&1 || { tail -20 "$out/criterion-round-$r.log" >&2; exit 1; }
done

step "interleaved: every operation in turn, $interleave_batch runs each, $interleave_rounds rounds"
for size in 256 2048; do
  run "$ops" interleave "$size" "$interleave_rounds" "$interleave_batch" | tee -a "$out/interleave.txt" >&2
done
echo "interleave_batch=$interleave_batch" >>"$out/machine.txt"
echo "interleave_rounds=$interleave_rounds" >>"$out/machine.txt"
echo "load=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"

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
    callgrind_ops="floor-seal floor-open floor-seal-ladder floor-open-ladder seal seal-apns seal-cached open open-apns
      hpke-seal hpke-open v2-floor-seal v2-floor-open v2-seal v2-open"
    [[ $v2_only == 1 ]] && callgrind_ops="floor-seal floor-open seal open v2-floor-seal v2-floor-open v2-seal v2-open"
    for size in 256 2048; do
      for op in $callgrind_ops; do
        a="$(instructions "$op" "$size" 5)"
        b="$(instructions "$op" "$size" 25)"
        echo "$op $size $(((b - a) / 20))" | tee -a "$out/callgrind.txt" >&2
      done
    done
  else
    echo "valgrind is not available: no instruction counts" >&2
  fi
fi

if [[ "${SKIP_BATCH:-0}" != 1 && $v2_only != 1 ]]; then
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

if [[ "${SKIP_BATCH:-0}" != 1 ]]; then
  step "batch, envelope version 2: $v2_devices devices"
  # Each size in turn, three times over, each keeping its best: every size
  # sees the machine's fast and slow phases alike. The registrations are
  # parsed before the clock starts; each size takes about as many devices
  # in all (20 rounds of 1,000, one of 100,000).
  for _ in 1 2 3; do
    for n in $v2_devices; do
      "$ops" batch "$n" "$((n >= 20000 ? 1 : 20000 / n))" v2 | sed 's/^/v2 /' | tee -a "$out/batch-v2.txt" >&2
    done
  done
fi

step "cold open of a version 2 envelope in a fresh process"
# The notification extension's case: a process that reads a keyring's bytes,
# loads it and opens one envelope (bench_ops cold-open), ten times; the time
# is measured inside the process from main's start, the peak memory by
# /usr/bin/time -v.
cold="$(mktemp -d)"
"$ops" fixture "$cold"
for _ in $(seq 1 10); do
  /usr/bin/time -v "$ops" cold-open "$cold" 2>"$cold/time.txt" | tr '\n' ' ' >>"$out/cold-open.txt"
  sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/peak_rss_kib \1/p' "$cold/time.txt" >>"$out/cold-open.txt"
done
rm -rf "$cold"
cat "$out/cold-open.txt" >&2

step "bindings"
if [[ -x bench/bindings.sh && $v2_only != 1 ]]; then
  bench/bindings.sh "$out" >&2 || echo "bench/bindings.sh failed: bindings rows not measured" >&2
fi

step "peak memory of one open in a fresh process"
if [[ $v2_only != 1 ]] && workspace_has_package pushseal-cli; then
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
elif [[ $v2_only == 1 ]]; then
  echo "V2_ONLY=1: the CLI's peak memory is not measured" >&2
else
  echo "no pushseal-cli package yet: peak memory not measured" >&2
fi

step "report"
python3 bench/report.py "$out" | tee "$out/table.md"
