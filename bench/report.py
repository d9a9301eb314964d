#!/usr/bin/env python3
"""Prints bench/run.sh's table (Markdown) from the files in its output folder.

Times: criterion's per-iteration times (sample.json: total time / iterations of
each sample), pooled over every round, summarised by their 10th percentile
(p10): the machine drifts between fast and ~1.4x slower phases lasting
seconds, and a low percentile of samples spread over several rounds is the
time of the fast phase for every benchmark alike. Ratios divide two p10s.
"""

import json
import math
import pathlib
import sys

out = pathlib.Path(sys.argv[1])
SIZES = (256, 2048)


def percentile(values, q):
    values = sorted(values)
    if not values:
        return math.nan
    k = (len(values) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def load_samples():
    """{(group, function, size): [ns per iteration, ...]} over all rounds."""
    pooled = {}
    for path in sorted(out.glob("criterion/round-*/*/*/*/new/sample.json")):
        group, function, size = path.parts[-5], path.parts[-4], path.parts[-3]
        data = json.loads(path.read_text())
        times = [t / i for t, i in zip(data["times"], data["iters"]) if i]
        pooled.setdefault((group, function, int(size)), []).extend(times)
    return pooled


def read_pairs(name):
    """`key value` lines (the last value of a key wins); {} if the file is missing."""
    path = out / name
    pairs = {}
    if path.exists():
        for line in path.read_text().split("\n"):
            parts = line.split()
            if len(parts) >= 2:
                pairs[" ".join(parts[:-1])] = parts[-1]
    return pairs


samples = load_samples()
p10 = {k: percentile(v, 0.10) for k, v in samples.items()}
low = {k: min(v) for k, v in samples.items()}
median = {k: percentile(v, 0.5) for k, v in samples.items()}
rounds = len(list(out.glob("criterion/round-*")))
callgrind = {}
for line in (out / "callgrind.txt").read_text().split("\n") if (out / "callgrind.txt").exists() else []:
    parts = line.split()
    if len(parts) == 3:
        callgrind[(parts[0], int(parts[1]))] = int(parts[2])


interleave = {}
for line in (out / "interleave.txt").read_text().split("\n") if (out / "interleave.txt").exists() else []:
    parts = line.split()
    if len(parts) == 4:
        fields = dict(f.split("=", 1) for f in parts[2:])
        interleave[(parts[0], int(parts[1]))] = (float(fields["min_ns"]), float(fields["p10_ns"]))


def t(group, function, size, table=p10):
    return table.get((group, function, size), math.nan)


def fmt_ratio(x):
    return "n/a" if math.isnan(x) else f"{x:.2f}x"


def verdict(values, limit, at_most=True):
    if not values or any(math.isnan(v) for v in values):
        return "not measured"
    ok = all((v <= limit) if at_most else (v >= limit) for v in values)
    return "met" if ok else "**not met**"


lines = []
p = lines.append
machine = read_pairs("machine.txt")
machine = {k: v for k, v in (l.split("=", 1) for l in (out / "machine.txt").read_text().split("\n") if "=" in l)}
p(f"Machine: {machine.get('cpu', '?')}, {machine.get('nproc', '?')} cores "
  f"({machine.get('flags', '').strip()}), {machine.get('rustc', '?')}, commit {machine.get('commit', '?')}, "
  f"{machine.get('date', '?')}. Criterion: {rounds} round(s), samples pooled, p10 of per-iteration times.")
p("")

# The ratios and their targets: (label, numerator, denominator, limit) as bench_ops operation names.
TARGETS = [
    ("seal (envelope) / floor seal", "seal", "floor-seal", 1.10),
    ("open (envelope) / floor open", "open", "floor-open", 1.10),
    ("seal (APNs payload) / floor seal", "seal-apns", "floor-seal", 1.20),
    ("open (APNs payload) / floor open", "open-apns", "floor-open", 1.20),
    ("seal (envelope) / hpke crate seal", "seal", "hpke-seal", 0.90),
    ("open (envelope) / hpke crate open", "open", "hpke-open", 0.90),
    ("cached seal / uncached seal (envelope)", "seal-cached", "seal", 0.60),
]
INFO = [
    ("seal (APNs payload) / hpke crate seal", "seal-apns", "hpke-seal"),
    ("open (APNs payload) / hpke crate open", "open-apns", "hpke-open"),
    ("floor seal, Montgomery ladder / floor seal", "floor-seal-ladder", "floor-seal"),
    ("floor open, Montgomery ladder / floor open", "floor-open-ladder", "floor-open"),
]
# The same operations in the criterion suite.
CRITERION = {"floor-seal": ("floor", "seal"), "floor-open": ("floor", "open"),
             "floor-seal-ladder": ("floor", "seal_ladder"), "floor-open-ladder": ("floor", "open_ladder"),
             "seal": ("pushseal", "seal_envelope"), "seal-apns": ("pushseal", "seal_apns"),
             "seal-cached": ("pushseal", "seal_envelope_cached"), "open": ("pushseal", "open_envelope"),
             "open-apns": ("pushseal", "open_apns"), "hpke-seal": ("hpke_crate", "seal"),
             "hpke-open": ("hpke_crate", "open")}


def ratio_table(title, value, note, judged=lambda label: True):
    """One table of every target and information ratio; `value(op, size)` is a cost."""
    p(f"| {title} | 256 B | 2 KB | target | |")
    p("|---|---|---|---|---|")
    for label, num, den, limit in TARGETS:
        values = [value(num, s) / value(den, s) for s in SIZES]
        target, met = (f"<= {limit:.2f}x", verdict(values, limit)) if judged(label) else ("(time target)", "")
        p(f"| {label} | {fmt_ratio(values[0])} | {fmt_ratio(values[1])} | {target} | {met} |")
    for label, num, den in INFO:
        values = [value(num, s) / value(den, s) for s in SIZES]
        p(f"| {label} | {fmt_ratio(values[0])} | {fmt_ratio(values[1])} | (information) | |")
    p("")
    p(note)
    p("")


ratio_table("ratio (time, interleaved, best batch)", lambda op, s: interleave.get((op, s), (math.nan,))[0],
            "Interleaved: every operation in turn, 20 runs each, for a few hundred rounds; each side's best batch.")
ratio_table("ratio (time, interleaved, p10 of batches)", lambda op, s: interleave.get((op, s), (0, math.nan))[1],
            "The same runs, each side's 10th percentile batch.")
ratio_table("ratio (time, criterion, pooled p10)", lambda op, s: t(*CRITERION[op], s),
            f"Criterion: {rounds} round(s) of the whole suite, each benchmark's samples pooled, their p10.")
if callgrind:
    ratio_table("ratio (instructions, callgrind)", lambda op, s: callgrind.get((op, s), math.nan),
                "Instructions per operation under valgrind, the cross-check of the floor ratios: stable from run "
                "to run. Valgrind hides the SHA extensions, so SHA-256 weighs more here than in time, and an "
                "AVX2 instruction does more work than most: the other ratios are judged in time only.",
                judged=lambda label: "floor" in label)

p("| more ratios (time, criterion, pooled p10) | 256 B | 2 KB | |")
p("|---|---|---|---|")
for label, num, den in [
    ("cached seal / uncached seal (APNs payload)", ("pushseal", "seal_apns_cached"), ("pushseal", "seal_apns")),
    ("seal (envelope) / sealed box seal (crypto_box)", ("pushseal", "seal_envelope"), ("crypto_box", "seal")),
    ("open (envelope) / sealed box open (crypto_box)", ("pushseal", "open_envelope"), ("crypto_box", "open")),
    ("envelope_seal (bytes API) / hpke crate seal", ("pushseal", "envelope_seal"), ("hpke_crate", "seal")),
    ("envelope_open (bytes API) / hpke crate open", ("pushseal", "envelope_open"), ("hpke_crate", "open")),
]:
    values = [t(*num, s) / t(*den, s) for s in SIZES]
    p(f"| {label} | {fmt_ratio(values[0])} | {fmt_ratio(values[1])} | (information) |")
p("")
p("| benchmark (criterion) | 256 B p10 | 2 KB p10 | 256 B median | 2 KB median | 2 KB interleaved best "
  "| 2 KB instructions |")
p("|---|---|---|---|---|---|---|")
CG = {("floor", "seal"): "floor-seal", ("floor", "open"): "floor-open", ("floor", "seal_ladder"): "floor-seal-ladder",
      ("floor", "open_ladder"): "floor-open-ladder", ("pushseal", "seal_envelope"): "seal",
      ("pushseal", "seal_apns"): "seal-apns", ("pushseal", "seal_envelope_cached"): "seal-cached",
      ("pushseal", "open_envelope"): "open", ("pushseal", "open_apns"): "open-apns",
      ("hpke_crate", "seal"): "hpke-seal", ("hpke_crate", "open"): "hpke-open"}
for group, function in sorted({(g, f) for g, f, _ in samples}, key=lambda k: (
        ["floor", "pushseal", "hpke_crate", "crypto_box"].index(k[0]) if k[0] in
        ["floor", "pushseal", "hpke_crate", "crypto_box"] else 9, k[1])):
    us = [t(group, function, s) / 1000 for s in SIZES]
    med = [t(group, function, s, median) / 1000 for s in SIZES]
    op = CG.get((group, function), "")
    ir = callgrind.get((op, 2048))
    il = interleave.get((op, 2048))
    p(f"| {group}/{function} | {us[0]:.2f} us | {us[1]:.2f} us | {med[0]:.2f} us | {med[1]:.2f} us | "
      f"{'' if il is None else f'{il[0] / 1000:.2f} us'} | {'' if ir is None else f'{ir:,}'} |")
p("")

raw = (out / "batch.txt").read_text().split("\n") if (out / "batch.txt").exists() else []
rates = {}
for line in raw:
    parts = line.split()
    if parts and not parts[0].endswith("_percent"):
        fields = dict(f.split("=", 1) for f in parts[1:] if "=" in f)
        rate = float(fields.get("devices_per_second", "nan"))
        if not rate <= rates.get(parts[0], (0.0,))[0]:
            rates[parts[0]] = (rate, fields.get("threads", "?"))
p("| other measurements | value | target | |")
p("|---|---|---|---|")
one, allc = rates.get("one_core", (math.nan, "1")), rates.get("all_cores", (math.nan, "?"))
p(f"| batch seal, APNs, one core | {one[0]:,.0f} devices/s | | |")
p(f"| batch seal, APNs, all cores ({allc[1]}) | {allc[0]:,.0f} devices/s | | |")
speedup = allc[0] / one[0] if one[0] and not math.isnan(one[0]) else math.nan
p(f"| batch speed-up, all cores / one core | {fmt_ratio(speedup)} | >= 1.80x on 2 cores | "
  f"{verdict([speedup], 1.8, at_most=False)} |")
cpu = [float(l.split()[1]) for l in raw if l.startswith("all_cores_cpu_percent") and len(l.split()) == 2]
if cpu:
    p(f"| CPU use of the all-cores batch process (whole run, key set-up included) | "
      f"{min(cpu):.0f}% to {max(cpu):.0f}% | (200% = both cores) | |")
two = rates.get("two_processes", (math.nan, "2"))[0]
if not math.isnan(two):
    p(f"| control: two single-threaded processes at once, one per core | {two:,.0f} devices/s in all, "
      f"{fmt_ratio(two / one[0])} of one core | (the machine's own limit) | |")
    p(f"| batch on all cores / the control | {fmt_ratio(allc[0] / two)} | | |")

# Envelope version 2 (issue 24): its seal and open against its floor and against version 1.
V2_TARGETS = [
    ("v2 seal (envelope) / v2 floor seal", "v2-seal", "v2-floor-seal", 1.10),
    ("v2 open (envelope) / v2 floor open", "v2-open", "v2-floor-open", 1.10),
]
V2_INFO = [
    ("v2 seal / v1 seal (envelope)", "v2-seal", "seal"),
    ("v2 open / v1 open (envelope)", "v2-open", "open"),
    ("v2 floor seal / v1 floor seal", "v2-floor-seal", "floor-seal"),
    ("v2 floor open / v1 floor open", "v2-floor-open", "floor-open"),
]
if any(op.startswith("v2-") for op, _ in interleave):
    p("")
    p(f"Envelope version 2 (X-Wing, Ed25519-signed sender). Interleaved: {machine.get('interleave_batch', '20')} "
      f"run(s) of each operation a turn, {machine.get('interleave_rounds', '?')} rounds; load average at the end "
      f"of the interleaved runs: {machine.get('load', '?')}.")
    p("")
    tables = [("ratio (time, interleaved, best batch)", lambda op, s: interleave.get((op, s), (math.nan,))[0], True),
              ("ratio (time, interleaved, p10 of batches)",
               lambda op, s: interleave.get((op, s), (0, math.nan))[1], True)]
    if any(op.startswith("v2-") for op, _ in callgrind):
        tables.append(("ratio (instructions, callgrind)", lambda op, s: callgrind.get((op, s), math.nan), False))
    for title, value, judged in tables:
        p(f"| {title} | 256 B | 2 KB | target | |")
        p("|---|---|---|---|---|")
        for label, num, den, limit in V2_TARGETS:
            values = [value(num, s) / value(den, s) for s in SIZES]
            p(f"| {label} | {fmt_ratio(values[0])} | {fmt_ratio(values[1])} | <= {limit:.2f}x | "
              f"{verdict(values, limit) if judged else '(cross-check)'} |")
        for label, num, den in V2_INFO:
            values = [value(num, s) / value(den, s) for s in SIZES]
            p(f"| {label} | {fmt_ratio(values[0])} | {fmt_ratio(values[1])} | (information) | |")
        p("")
    p("| operation (interleaved) | 256 B best | 2 KB best | 256 B p10 | 2 KB p10 | 2 KB instructions |")
    p("|---|---|---|---|---|---|")
    for op in ["floor-seal", "seal", "floor-open", "open", "v2-floor-seal", "v2-seal", "v2-floor-open", "v2-open",
               "v2-xwing-encap", "v2-xwing-decap", "v2-xwing-expand", "v2-ed25519-sign", "v2-ed25519-verify"]:
        best = [interleave.get((op, s), (math.nan, math.nan)) for s in SIZES]
        ir = callgrind.get((op, 2048))
        p(f"| {op} | {best[0][0] / 1000:.2f} us | {best[1][0] / 1000:.2f} us | {best[0][1] / 1000:.2f} us | "
          f"{best[1][1] / 1000:.2f} us | {'' if ir is None else f'{ir:,}'} |")
    p("")

v2_batch, v2_batch_cpu = {}, {}
for line in (out / "batch-v2.txt").read_text().split("\n") if (out / "batch-v2.txt").exists() else []:
    fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
    if "devices" in fields and "us_per_device" in fields:
        n, us = int(fields["devices"]), float(fields["us_per_device"])
        v2_batch[n] = min(us, v2_batch.get(n, math.inf))
        cpu = float(fields.get("cpu_us_per_device", "nan"))
        if not math.isnan(cpu):
            v2_batch_cpu[n] = min(cpu, v2_batch_cpu.get(n, math.inf))
cold = []
for line in (out / "cold-open.txt").read_text().split("\n") if (out / "cold-open.txt").exists() else []:
    parts = line.split()
    fields = dict(zip(parts[::2], parts[1::2]))
    if "cold_open_us" in fields and "peak_rss_kib" in fields:
        cold.append((float(fields["cold_open_us"]), int(fields["peak_rss_kib"]), float(fields.get("open_us", "nan"))))
if v2_batch or cold:
    p("| envelope version 2, other measurements | value | target | |")
    p("|---|---|---|---|")
    for n in sorted(v2_batch):
        p(f"| v2 batch seal, APNs, {n:,} registrations, all cores | {v2_batch[n]:.1f} us a device "
          f"({1e6 / v2_batch[n]:,.0f} devices/s) | | |")
    for n in sorted(v2_batch_cpu):
        p(f"| v2 batch seal, APNs, {n:,} registrations, CPU time (both threads) | {v2_batch_cpu[n]:.1f} us a device "
          f"| | |")
    if len(v2_batch) >= 2:
        smallest, largest = min(v2_batch), max(v2_batch)
        flat = v2_batch[largest] / v2_batch[smallest]
        p(f"| v2 batch, time a device at {largest:,} / at {smallest:,} | {fmt_ratio(flat)} | <= 1.10x (flat) | "
          f"{verdict([flat], 1.10)} |")
    if len(v2_batch_cpu) >= 2:
        smallest, largest = min(v2_batch_cpu), max(v2_batch_cpu)
        flat = v2_batch_cpu[largest] / v2_batch_cpu[smallest]
        p(f"| v2 batch, CPU time a device at {largest:,} / at {smallest:,} | {fmt_ratio(flat)} | <= 1.10x (flat) | "
          f"{verdict([flat], 1.10)} |")
    if cold:
        times = sorted(c[0] for c in cold)
        med = percentile(times, 0.5)
        rss = max(c[1] for c in cold)
        p(f"| cold open of one v2 envelope, fresh process, time from main's start ({len(cold)} runs) | "
          f"median {med / 1000:.2f} ms (fastest {times[0] / 1000:.2f}, slowest {times[-1] / 1000:.2f}; the open "
          f"alone: median {percentile([c[2] for c in cold], 0.5) / 1000:.2f} ms) | <= 5 ms | "
          f"{verdict([med / 1000], 5.0)} |")
        p(f"| cold open of one v2 envelope, peak memory (largest of {len(cold)}) | {rss / 1024:.1f} MiB "
          f"({rss:,} KiB) | <= 4 MB | {verdict([rss * 1024 / 1e6], 4.0)} |")
    p("")

bind = read_pairs("bindings.txt")
native = float(bind.get("native_open_ns", "nan"))
for lang in ("python", "kotlin", "swift"):
    v = float(bind.get(f"{lang}_open_ns", "nan"))
    ratio = v / native if native else math.nan
    shown = "not measured yet (no bindings)" if math.isnan(ratio) else \
        f"{fmt_ratio(ratio)} ({v / 1000:.1f} us vs {native / 1000:.1f} us native)"
    p(f"| open 2 KB through {lang.capitalize()} / native Rust | {shown} | <= 1.30x | {verdict([ratio], 1.3)} |")
size = float(bind.get("cdylib_stripped_bytes", "nan"))
shown = "not measured yet (no bindings)" if math.isnan(size) else f"{size / 1e6:.2f} MB ({int(size):,} bytes)"
p(f"| host bindings library, stripped (profile release-size) | {shown} | < 1.0 MB | "
  f"{verdict([size / 1e6], 1.0) if not math.isnan(size) else 'not measured'} |")
mem = float(read_pairs("memory.txt").get("peak_rss_kib", "nan"))
shown = "not measured yet (no CLI)" if math.isnan(mem) else f"{mem / 1024:.1f} MiB ({int(mem):,} KiB)"
p(f"| peak memory, `pushseal open` of one 2 KB notification (fresh process) | {shown} | < 8 MB | "
  f"{verdict([mem * 1024 / 1e6], 8.0) if not math.isnan(mem) else 'not measured'} |")

print("\n".join(lines))
