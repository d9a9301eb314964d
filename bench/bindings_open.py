"""Times one open through the Python bindings, as bench/bindings.sh asks.

usage: bindings_open.py FIXTURE_DIR N ROUNDS    prints "python_open_ns <best round's ns per open>"

FIXTURE_DIR holds keyring.bin and envelope.txt from `bench_ops fixture`. Each
open gets a fresh in-memory replay store, made before the timed loop, as in the
native and JVM loops.
"""

import pathlib
import sys
import time

import pushseal

fixture, n, rounds = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
keyring = pushseal.DeviceKeyring.from_bytes((fixture / "keyring.bin").read_bytes())
envelope = pushseal.Payload.ENVELOPE((fixture / "envelope.txt").read_text())
best = float("inf")
# One warm-up round, not counted.
for round in range(max(rounds, 1) + 1):
    stores = [pushseal.ReplayStore.in_memory() for _ in range(n)]
    start = time.perf_counter_ns()
    for store in stores:
        keyring.open(envelope, store)
    if round > 0:
        best = min(best, (time.perf_counter_ns() - start) / n)
print(f"python_open_ns {best:.0f}")
