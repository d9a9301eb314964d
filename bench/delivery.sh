#!/usr/bin/env bash
# Delivery throughput and memory in one command (BENCHMARKS.md, "Delivery:
# throughput and memory"), against the local APNs gateway on 127.0.0.1:
#
#   bench/delivery.sh [OUT_DIR]     # about 5 minutes on 2 cores (bench/run.sh calls it)
#   QUICK=1 bench/delivery.sh       # one short round and 100,000 devices, to try it (noisy)
#
# 1. bench_delivery throughput (delivery/examples/bench_delivery.rs): ROUNDS
#    rounds of three sends of PUSHES pushes each, IN_FLIGHT at a time, their
#    order turned every round: pre-sealed pushes through the crate's
#    ApnsClient, the same requests on a bare h2 client (the floor), and the
#    streamed seal_and_deliver (sealing included); pushes/s, the sending
#    side's CPU time per push, the ratios crate / floor, the load average;
# 2. bench_delivery rss: a streamed send to DEVICES devices in a child
#    process, whose peak RSS (VmHWM) is the sender's alone (the gateway runs
#    in the parent).
#
# Output: OUT_DIR/delivery.txt (the program's lines) and OUT_DIR/delivery.md
# (the table); OUT_DIR defaults to target/bench-report. Environment: PUSHES
# (20000), ROUNDS (6), IN_FLIGHT (256, the crate's DEFAULT_MAX_IN_FLIGHT),
# DEVICES (1000000), SKIP_RSS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/cargo-metadata.sh
source scripts/cargo-metadata.sh

quick="${QUICK:-0}"
pushes="${PUSHES:-$([[ $quick == 1 ]] && echo 5000 || echo 20000)}"
rounds="${ROUNDS:-$([[ $quick == 1 ]] && echo 1 || echo 6)}"
in_flight="${IN_FLIGHT:-256}"
devices="${DEVICES:-$([[ $quick == 1 ]] && echo 100000 || echo 1000000)}"
target_dir="$(cargo_target_dir)"
out="${1:-$target_dir/bench-report}"
mkdir -p "$out"
run() { nice -n 5 "$@"; }

echo "==> build (release): pushseal-delivery example bench_delivery" >&2
run cargo build --release -p pushseal-delivery --example bench_delivery >&2
bench="$target_dir/release/examples/bench_delivery"

{
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown) date=$(date -u +%Y-%m-%dT%H:%MZ) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
  # Not niced: both sides and the gateway need the cores, and take turns.
  "$bench" throughput "$pushes" "$rounds" "$in_flight"
  [[ "${SKIP_RSS:-0}" == 1 ]] || "$bench" rss "$devices" "$in_flight"
} | tee "$out/delivery.txt" >&2

python3 - "$out/delivery.txt" <<'EOF' | tee "$out/delivery.md"
import sys

lines = [dict(p.split("=", 1) for p in line.split() if "=" in p) for line in open(sys.argv[1])]
head = next((l for l in lines if "pushes" in l and "in_flight" in l), {})
side = {l["side"]: l for l in lines if "side" in l}
ratio = next((l for l in lines if "time_best_rates" in l), {})
child = next((l for l in lines if "peak_rss_kib" in l), {})
loads = [l.get("load_start") or l.get("load_end") or l.get("load") for l in lines]
loads = sorted(float(x.split("/")[0]) for x in loads if x)


def met(ok):
    return "met" if ok else "not met"


print(f"| delivery, APNs gateway on this machine ({int(head.get('pushes', 0)):,} pushes a send, "
      f"{head.get('rounds', '?')} rounds, {head.get('in_flight', '?')} in flight) | best | median | target | |")
print("|---|---|---|---|---|")
targets = {"presealed": ("pre-sealed pushes/s (ApnsClient)", "pre-sealed", 20000),
           "floor": ("floor: bare h2 client, pushes/s", "floor", None),
           "sealed_sent": ("sealed-and-sent/s (seal_and_deliver)", "sealed-and-sent", 8000)}
for name, (label, _, target) in targets.items():
    if name in side:
        b, m = float(side[name]["per_s_best"]), float(side[name]["per_s_median"])
        print(f"| {label} | {b:,.0f} | {m:,.0f} | " + (f">= {target:,} | {met(b >= target)} |" if target else "| |"))
for name, (_, short, _) in targets.items():
    if name in side:
        s = side[name]
        print(f"| {short}: the sender's CPU a push (the gateway's, median) | {float(s['cpu_us_best']):.1f} us | "
              f"{float(s['cpu_us_median']):.1f} us ({float(s['gateway_cpu_us_median']):.1f} us) | | |")
if ratio:
    b, m = float(ratio["time_best_rates"]), float(ratio["time_median_of_rounds"])
    print(f"| time, crate / floor (best rates; median of the rounds' ratios) | {b:.2f}x | {m:.2f}x | <= 1.15x | "
          f"{met(m <= 1.15)} |")
    b, m = float(ratio["cpu_best"]), float(ratio["cpu_median_of_rounds"])
    print(f"| the sender's CPU a push, crate / floor | {b:.2f}x | {m:.2f}x | (cross-check) | |")
if child:
    kib = int(child["peak_rss_kib"])
    print(f"| peak RSS, streamed send to {int(child['devices']):,} devices, the sender's process | "
          f"{kib / 1024:.1f} MiB ({kib:,} KiB) | at {float(child['sealed_sent_per_s']):,.0f} devices/s | < 64 MB | "
          f"{met(kib * 1024 < 64e6)} |")
if loads:
    print(f"\nLoad average (1 minute) during the run: {loads[0]:.1f} to {loads[-1]:.1f}, on {head.get('nproc', '?')} cores.")
EOF
