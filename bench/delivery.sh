#!/usr/bin/env bash
# Delivery throughput and memory in one command (BENCHMARKS.md, "Delivery:
# throughput and memory"), against the local APNs gateway on 127.0.0.1:
#
#   bench/delivery.sh [OUT_DIR]     # about 4 minutes on 2 cores
#   QUICK=1 bench/delivery.sh       # a few short rounds and 100,000 devices, to try it
#
# 1. bench_delivery throughput (delivery/examples/bench_delivery.rs): ROUNDS
#    rounds of three sends of PUSHES pushes each, IN_FLIGHT at a time, their
#    order turned every round: pre-sealed pushes through the crate's
#    ApnsClient, the same pushes on a bare h2 client (the floor), and the
#    streamed seal_and_deliver (sealing included). Short turns, many rounds:
#    on a shared machine the best turn is the quiet machine's rate, and each
#    round's ratio compares two sends made within a second of each other.
# 2. instructions a push under valgrind's callgrind, the client's and the
#    floor's (the sender's and the gateway's together: the work the 2 cores
#    share), which no load on the machine changes: the instructions of 3
#    rounds less those of 1, over the pushes of 2 rounds;
# 3. bench_delivery rss: a streamed send to DEVICES devices in a child
#    process, whose peak RSS (VmHWM) is the sender's alone (the gateway runs
#    in the parent).
#
# Output: OUT_DIR/delivery.txt (the program's lines) and OUT_DIR/delivery.md
# (the table); OUT_DIR defaults to target/bench-report. Environment: PUSHES
# (5000), ROUNDS (20), IN_FLIGHT (256, the crate's DEFAULT_MAX_IN_FLIGHT),
# DEVICES (1000000), CONNECTIONS (2, the client's default; the floor opens as
# many), GATEWAY_STREAMS (500: the streams a connection the gateway allows,
# the least APNs has been seen to advertise), SKIP_RSS=1, SKIP_CALLGRIND=1.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/cargo-metadata.sh
source scripts/cargo-metadata.sh

quick="${QUICK:-0}"
pushes="${PUSHES:-5000}"
rounds="${ROUNDS:-$([[ $quick == 1 ]] && echo 3 || echo 20)}"
in_flight="${IN_FLIGHT:-256}"
devices="${DEVICES:-$([[ $quick == 1 ]] && echo 100000 || echo 1000000)}"
target_dir="$(cargo_target_dir)"
out="${1:-$target_dir/bench-report}"
mkdir -p "$out"

echo "==> build (release): pushseal-delivery example bench_delivery" >&2
nice -n 5 cargo build --release -p pushseal-delivery --example bench_delivery >&2
bench="$target_dir/release/examples/bench_delivery"

{
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown) date=$(date -u +%Y-%m-%dT%H:%MZ)"
  # Not niced: the sender and the gateway both need the cores.
  "$bench" throughput "$pushes" "$rounds" "$in_flight"
  if [[ "${SKIP_CALLGRIND:-0}" != 1 ]]; then
    if command -v valgrind >/dev/null; then
      instructions() { # rounds side
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" throughput 1000 "$1" "$in_flight" "$2" 2>&1 |
          sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
      }
      for side in presealed floor; do
        a="$(instructions 1 "$side")"
        b="$(instructions 3 "$side")"
        echo "instructions side=$side per_push=$(((b - a) / 2000))"
      done
    else
      echo "valgrind is not installed: no instruction counts" >&2
    fi
  fi
  [[ "${SKIP_RSS:-0}" == 1 ]] || "$bench" rss "$devices" "$in_flight"
} | tee "$out/delivery.txt" >&2

python3 - "$out/delivery.txt" <<'PY' | tee "$out/delivery.md"
import sys

lines = [dict(p.split("=", 1) for p in line.split() if "=" in p) for line in open(sys.argv[1])]
head = next((l for l in lines if "in_flight" in l and "rounds" in l), {})
side = {l["side"]: l for l in lines if "per_s_best" in l}
ratio = next((l for l in lines if "time_best_rates" in l), {})
child = next((l for l in lines if "peak_rss_kib" in l), {})
instructions = {l["side"]: int(l["per_push"]) for l in lines if "per_push" in l}
loads = sorted(float(v.split("/")[0]) for l in lines for k, v in l.items() if k.startswith("load"))


def verdict(best_ok, median_ok):
    return "met" if median_ok else "met in the best turn" if best_ok else "not met"


print(f"| delivery to the local APNs gateway ({int(head.get('pushes', 0)):,} pushes a turn, "
      f"{head.get('rounds', '?')} rounds, {head.get('in_flight', '?')} in flight, "
      f"{head.get('connections', '?')} connections of {head.get('gateway_streams', '?')} streams) "
      "| best turn | median turn | goal | |")
print("|---|---|---|---|---|")
rows = {"presealed": ("pre-sealed pushes/s (ApnsClient)", 20000, "pre-sealed"),
        "floor": ("floor: bare h2 client, pushes/s", None, "floor"),
        "sealed_sent": ("sealed-and-sent/s (seal_and_deliver)", 8000, "sealed-and-sent")}
for name, (label, goal, _) in rows.items():
    if name in side:
        b, m = float(side[name]["per_s_best"]), float(side[name]["per_s_median"])
        print(f"| {label} | {b:,.0f} | {m:,.0f} | " +
              (f">= {goal:,} | {verdict(b >= goal, m >= goal)} |" if goal else "| |"))
if ratio:
    b, m = float(ratio["time_best_rates"]), float(ratio["time_median_of_rounds"])
    print(f"| time, client / floor (of the best turns; median of the rounds) | {b:.2f}x | {m:.2f}x | <= 1.15x | "
          f"{verdict(b <= 1.15, m <= 1.15 and b <= 1.15)} |")
for name, (_, _, short) in rows.items():
    if name in side:
        s = side[name]
        print(f"| CPU a push over all rounds, {short}: sender (gateway) | "
              f"{float(s['cpu_us']):.1f} us ({float(s['gateway_cpu_us']):.1f} us) | | | |")
for name, (_, goal, short) in rows.items():
    if name in side and goal:
        # What two cores of nothing else would give at this CPU time a push
        # (the sender's and the gateway's, both on this machine), if the send
        # kept both busy: an estimate, for a machine too loaded to show it.
        us = float(side[name]["cpu_us"]) + float(side[name]["gateway_cpu_us"])
        print(f"| {short}/s that 2 free cores give at this CPU a push (estimate) | {2e6 / us:,.0f} | | "
              f"(>= {goal:,}) | |")
if ratio:
    print(f"| the sender's CPU a push, client / floor | {float(ratio['cpu']):.2f}x | | | |")
if len(instructions) == 2:
    c, f = instructions["presealed"], instructions["floor"]
    print(f"| instructions a push, sender and gateway (callgrind): client {c:,}, floor {f:,} | {c / f:.2f}x | | "
          f"<= 1.15x | {'met' if c / f <= 1.15 else 'not met'} |")
if child:
    kib = int(child["peak_rss_kib"])
    print(f"| peak RSS of the sender, streamed send to {int(child['devices']):,} devices | "
          f"{kib / 1024:.1f} MiB | ({float(child['sealed_sent_per_s']):,.0f} devices/s) | < 64 MB | "
          f"{'met' if kib * 1024 < 64e6 else 'not met'} |")
if loads:
    print(f"\nLoad average (1 minute) during the run: {loads[0]:.1f} to {loads[-1]:.1f}, "
          f"on {head.get('nproc', '?')} cores.")
PY
