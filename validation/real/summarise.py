"""Print Markdown tables of the shapes in tests/data/real/*.csv (for its README).

    python3 validation/real/summarise.py [tests/data/real]

One line per series: throughput at each concurrency level, the peak and where it is, and the
column that explains the shape (busy fraction, WAL syncs per commit, p50 latency).
"""

import csv
import os
import sys


def rows(folder, name):
    path = os.path.join(folder, name)
    return list(csv.DictReader(open(path))) if os.path.exists(path) else []


def num(x):
    return float(x) if x not in ("", None) else float("nan")


def show(v):
    """Readable cell: whole numbers from 100 up, three significant digits below."""
    if v != v:  # NaN: nothing was measured
        return "—"
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"


def table(title, key_cols, level_col, value_col, data, extra=None):
    """Series as rows, levels as columns, value_col in the cells; peak at the end."""
    series = {}
    for r in data:
        series.setdefault(tuple(r[c] for c in key_cols), []).append(r)
    levels = sorted({int(r[level_col]) for r in data})
    print(f"\n### {title} (columns: {level_col})\n")
    head = key_cols + [str(n) for n in levels] + ["max", f"at {level_col}"]
    if extra:
        head.append(extra[0])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for key, rs in series.items():
        by = {int(r[level_col]): r for r in rs}
        cells = [show(num(by[n][value_col])) if n in by else "" for n in levels]
        best = max(rs, key=lambda r: num(r[value_col]))
        line = list(key) + cells + [show(num(best[value_col])), best[level_col]]
        if extra:
            line.append(extra[1](rs))
        print("| " + " | ".join(line) + " |")


def span(col, fmt="{:.3g}"):
    """min–max of a column over a series, as text."""
    def f(rs):
        vals = [num(r[col]) for r in rs if r[col] not in ("",)]
        return f"{fmt.format(min(vals))}–{fmt.format(max(vals))}" if vals else ""
    return f


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "tests/data/real"
    s = rows(folder, "sqlite.csv")
    if s:
        keys = ["mode", "workload", "busy_timeout_ms"]
        table("SQLite throughput (tps) by processes K", keys, "processes", "throughput_tps", s,
              ("busy fraction", span("busy_fraction")))
        table("SQLite p99 latency (ms) of successful transactions", keys, "processes", "p99_ms", s)
    p = rows(folder, "postgres.csv")
    if p:
        table("PostgreSQL direct throughput (tps) by clients c", ["series"], "clients",
              "throughput_tps", p, ("WAL syncs/commit", span("wal_syncs_per_commit")))
        table("PostgreSQL direct p99 (ms)", ["series"], "clients", "p99_ms", p)
        table("PostgreSQL WAL syncs per commit", ["series"], "clients", "wal_syncs_per_commit", p)
        table("PostgreSQL server CPU ms per transaction", ["series"], "clients",
              "server_cpu_ms_per_txn", p)
    b = rows(folder, "pgbouncer.csv")
    if b:
        table("Through PgBouncer: throughput (tps) by clients c", ["series"], "clients",
              "throughput_tps", b)
        table("Through PgBouncer: p50 (ms)", ["series"], "clients", "p50_ms", b)
        table("Through PgBouncer: p99 (ms)", ["series"], "clients", "p99_ms", b)
        table("PgBouncer CPU ms per transaction", ["series"], "clients",
              "pgbouncer_cpu_ms_per_txn", b)


if __name__ == "__main__":
    main()
