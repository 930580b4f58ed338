#!/usr/bin/env python3
"""How far the measurement repeats: the same plan measured in several passes.

    python3 validation/real/repeatability.py tests/data/real

reads the first pass (DIR/*.csv) and its repeats (DIR/pass2/, DIR/pass3/, ..., each written by
`bash validation/real/measure.sh --out DIR/passN`) and prints a Markdown table: per series, over
its load levels, the median and the largest spread of throughput, p50 and p99 across the passes,
a level's spread being (largest - smallest) / median; and, before it, each pass's time, load
and throughput against the first pass's (drift or scatter). No model can be judged more finely than
its data repeat: a prediction within 15 % of one pass may be 30 % off the next.
"""
import csv
import os
import statistics
import sys


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def levels(folder):
    """(series, level) -> (throughput, p50, p99) of one pass."""
    out = {}
    for r in rows(os.path.join(folder, "sqlite.csv")):
        name = f"sqlite_{r['mode']}_{r['workload']}_{r['busy_timeout_ms']}ms"
        out[(name, int(r["processes"]))] = tuple(
            float(r[c]) for c in ("throughput_tps", "p50_ms", "p99_ms"))
    for file in ("postgres.csv", "pgbouncer.csv"):
        for r in rows(os.path.join(folder, file)):
            if r["pgbench_exit_code"] != "0" or not r["p50_ms"]:
                continue
            out[(r["series"], int(r["clients"]))] = tuple(
                float(r[c]) for c in ("throughput_tps", "p50_ms", "p99_ms"))
    return out


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else "tests/data/real"
    folders = [top]
    n = 2
    while os.path.exists(os.path.join(top, f"pass{n}", "sqlite.csv")):
        folders.append(os.path.join(top, f"pass{n}"))
        n += 1
    if len(folders) < 2:
        sys.exit(f"{top}: no repeat passes (pass2/, pass3/ …) to compare")
    passes = [levels(f) for f in folders]
    series = sorted({s for s, _ in passes[0]})
    print(f"{len(folders)} passes: {', '.join(folders)}\n")
    # Each pass: when, how loaded the machine was, and whether it drifted from the first
    # (the median ratio of its levels' throughput to the first pass's) or scattered (the range).
    for folder, p in zip(folders, passes):
        facts = {r["key"]: r["value"] for r in rows(os.path.join(folder, "machine.csv"))}
        loads = [float(r["load1_before"]) for file in ("sqlite.csv", "postgres.csv", "pgbouncer.csv")
                 for r in rows(os.path.join(folder, file))]
        ratios = [p[k][0] / passes[0][k][0] for k in passes[0] if k in p]
        print(f"- {folder}: {facts['started_utc']} to {facts['finished_utc']}, 1-minute load "
              f"median {statistics.median(loads):.1f}; throughput / first pass's: median "
              f"{statistics.median(ratios):.2f}, {min(ratios):.2f}-{max(ratios):.2f}")
    common = [k for k in passes[0] if all(k in p for p in passes)]
    moves = [statistics.median(p[k][0] for p in passes) / passes[0][k][0] - 1 for k in common]
    print(f"- the median over the passes moves a level's throughput from the first pass's by "
          f"{100 * statistics.median(abs(m) for m in moves):.0f}% in the median, "
          f"{100 * min(moves):+.0f}% to {100 * max(moves):+.0f}%\n")
    print("| series | levels | throughput median spread | worst | p50 median spread | worst "
          "| p99 median spread | worst |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for s in series:
        keys = sorted(k for k in passes[0] if k[0] == s and all(k in p for p in passes))
        spreads = [[], [], []]
        for k in keys:
            for i in range(3):
                v = [p[k][i] for p in passes]
                spreads[i].append((max(v) - min(v)) / statistics.median(v))
        cells = []
        for sp in spreads:
            cells += [f"{100 * statistics.median(sp):.0f}%", f"{100 * max(sp):.0f}%"]
        print(f"| {s} | {len(keys)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
