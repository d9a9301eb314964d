#!/usr/bin/env bash
# The storage costs in one command (BENCHMARKS.md, "Storage: the audit log,
# streamed batches and the replay store"):
#
#   bench/audit.sh            # a few minutes on 2 cores
#   SKIP_MILLION=1 bench/audit.sh
#
# 1. a batch of DEVICES (10,000) with the audit log off and on, the log on a
#    real disk (this checkout's filesystem), in alternating rounds;
# 2. 8 concurrent single-message sealers sharing one log handle, off and on;
# 3. streamed batches of 10,000 and 1,000,000 devices: ns per device, time to
#    the first result, peak RSS (each in a fresh process);
# 4. verifying a log of MILLION records: chain, Merkle tree and checkpoint;
# 5. the device's replay store: the cost of each open's write and sync on disk
#    and on tmpfs (/dev/shm), whose sync does nothing.
#
# Output: target/bench-report/audit.txt. Environment: DEVICES (10000),
# ROUNDS (5), THREADS (8), SEALS (400 per thread), MILLION (1000000),
# DISK_DIR (target/bench-audit), TMPFS_DIR (/dev/shm/pushseal-bench-$$).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/cargo-metadata.sh
source scripts/cargo-metadata.sh

devices="${DEVICES:-10000}"
rounds="${ROUNDS:-5}"
threads="${THREADS:-8}"
seals="${SEALS:-400}"
million="${MILLION:-1000000}"
target_dir="$(cargo_target_dir)"
out="$target_dir/bench-report"
disk="${DISK_DIR:-$target_dir/bench-audit}"
tmpfs="${TMPFS_DIR:-/dev/shm/pushseal-bench-$$}"
mkdir -p "$out" "$disk" "$tmpfs"
trap 'rm -rf "$tmpfs"' EXIT
run() { nice -n 5 "$@"; }

echo "==> build (release)" >&2
run cargo build --release -p pushseal-audit --example bench_audit >&2
bench="$target_dir/release/examples/bench_audit"

{
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown) date=$(date -u +%Y-%m-%dT%H:%MZ) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "disk=$(df --output=source,fstype "$disk" | tail -1 | tr -s ' ') tmpfs=$(df --output=fstype "$tmpfs" | tail -1)"
  run "$bench" batch "$disk" "$devices" "$rounds"
  run "$bench" concurrent "$disk" "$threads" "$seals" "$rounds"
  run "$bench" stream "$devices"
  run "$bench" stream "$devices" "$disk"
  if [[ "${SKIP_MILLION:-0}" != 1 ]]; then
    run "$bench" stream "$million"
    run "$bench" verify "$disk" "$million"
  fi
  run "$bench" replay "$disk" 1000
  run "$bench" replay "$tmpfs" 1000
} | tee "$out/audit.txt"
