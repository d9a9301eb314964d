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
#    and on tmpfs (/dev/shm), whose sync does nothing;
# 6. with PostgreSQL (initdb and pg_ctl installed; SKIP_PG=1 leaves it out): a
#    server of its own on 127.0.0.1 in a temporary directory, the batch of
#    DEVICES with the log in it, and inclusion proofs on a log of PG_RECORDS
#    (1,000,000) records.
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
pg_dir=""
# A PostgreSQL server of the benchmark's own, on 127.0.0.1 only, as an
# unprivileged user when run as root (PostgreSQL refuses root).
pg() { # program args...
  local program="$pg_bin/$1"; shift
  if [[ $(id -u) = 0 ]]; then runuser -u "$(id -u postgres >/dev/null 2>&1 && echo postgres || echo nobody)" -- "$program" "$@"
  else "$program" "$@"; fi
}
pg_start() {
  pg_dir=$(mktemp -d /tmp/pushseal-bench-pg-XXXXXX)
  [[ $(id -u) = 0 ]] && chown "$(id -u postgres >/dev/null 2>&1 && echo postgres || echo nobody)" "$pg_dir"
  pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  (cd "$pg_dir" && pg initdb -D "$pg_dir/data" -U pushseal -A trust -E UTF8 --locale=C --no-instructions >/dev/null)
  (cd "$pg_dir" && pg pg_ctl -D "$pg_dir/data" -l "$pg_dir/log" -w -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1" start >/dev/null)
  (cd "$pg_dir" && pg createdb -h 127.0.0.1 -p "$pg_port" -U pushseal bench)
  pg_url="postgres://pushseal@127.0.0.1:$pg_port/bench"
}
pg_stop() {
  if [[ -n "$pg_dir" ]]; then (cd "$pg_dir" && pg pg_ctl -D "$pg_dir/data" -m fast -w stop >/dev/null) || true; rm -rf "$pg_dir"; fi
}
trap 'rm -rf "$tmpfs"; pg_stop' EXIT
run() { nice -n 5 "$@"; }

echo "==> build (release)" >&2
pg_bin=""
if [[ "${SKIP_PG:-0}" != 1 ]]; then
  pg_bin=$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1)")" 2>/dev/null || true)
  [[ -x "$pg_bin/pg_ctl" ]] || { echo "PostgreSQL not found: its part is skipped (apt-get install postgresql)" >&2; pg_bin=""; }
fi
features=(); [[ -n "$pg_bin" ]] && features=(--features postgres)
run cargo build --release -p pushseal-audit --example bench_audit "${features[@]}" >&2
bench="$target_dir/release/examples/bench_audit"
[[ -z "$pg_bin" ]] || pg_start

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
  if [[ -n "$pg_bin" ]]; then
    echo "postgresql=$("$pg_bin/postgres" --version | awk '{print $3}') (synchronous_commit on, fsync on, this checkout's /tmp)"
    run "$bench" batch-pg "$pg_url" "$devices" "$rounds"
    run "$bench" prove-pg "$pg_url" "${PG_RECORDS:-1000000}" 1000
  fi
} | tee "$out/audit.txt"
