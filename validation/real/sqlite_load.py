"""Closed-loop load on one SQLite database file from K separate processes.

Each worker process opens its own connection (Python's sqlite3 module, which links Debian's
libsqlite3) and runs transactions back to back, with no think time, until the end of the
point. A write is BEGIN IMMEDIATE; UPDATE one random row; COMMIT. A read is one autocommit
SELECT of a random row by key. SQLite's own busy handler (sqlite3_busy_timeout, set by
connect(timeout=...)) does the waiting, so a blocked writer sleeps and retries on SQLite's
backoff schedule and fails with SQLITE_BUSY once the timeout is spent.

Every transaction is recorded (start ns, end ns, type, outcome) in a binary file per worker;
the parent merges them into one summary row per point, appended to a CSV.

    python3 sqlite_load.py setup --db F --mode wal_normal
    python3 sqlite_load.py point --db F --mode wal_normal --workload write --busy-ms 5000 \
        --procs 8 --duration 6 --raw DIR --out sqlite.csv --device vda
"""

import argparse
import array
import multiprocessing
import os
import random
import resource
import sqlite3
import time
import zlib

import common

ROWS = 10_000  # small table: the file stays in the page cache, the cost is locking and flushing
MODES = {  # mode -> (journal_mode, synchronous)
    "wal_normal": ("WAL", "NORMAL"),
    "wal_full": ("WAL", "FULL"),
    "delete": ("DELETE", "FULL"),  # rollback journal; FULL is SQLite's default synchronous
}
READ, WRITE = 0, 1
OK, BUSY, OTHER = 0, 1, 2
SQLITE_BUSY = 5

COLUMNS = [
    "mode", "journal_mode", "synchronous", "workload", "busy_timeout_ms", "processes",
    "duration_s", "txns_ok", "txns_busy", "txns_other_error", "busy_fraction",
    "throughput_tps", "write_tps", "read_tps",
    "p50_ms", "p95_ms", "p99_ms", "max_ms",
    "write_p50_ms", "write_p95_ms", "write_p99_ms", "write_max_ms",
    "read_p50_ms", "read_p99_ms", "read_max_ms", "busy_wait_p50_ms",
    "client_cpu_ms_per_txn", "disk_flushes_per_write", "first_other_error",
    "fdatasync_probe_ms", "load1_before", "load1_after", "machine_cpu_busy_frac", "started_utc",
    "client_voluntary_switches_per_txn", "client_involuntary_switches_per_txn",
]


def setup(db, mode):
    """Create a fresh database with ROWS rows in the given journal mode."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    journal, _ = MODES[mode]
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(f"PRAGMA journal_mode={journal}")  # WAL is persistent in the file
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, val INTEGER NOT NULL, pad TEXT)")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO t VALUES (?, 0, ?)", ((i, "x" * 100) for i in range(1, ROWS + 1)))
    conn.execute("COMMIT")
    conn.close()


def worker(db, mode, workload, busy_ms, start_ns, end_ns, seed, raw_path):
    """One process: a closed loop of transactions from start_ns until end_ns."""
    _, sync = MODES[mode]
    conn = sqlite3.connect(db, timeout=busy_ms / 1000, isolation_level=None)
    conn.execute(f"PRAGMA synchronous={sync}")
    rng = random.Random(seed)
    starts, ends = array.array("q"), array.array("q")
    kinds, outcomes = array.array("b"), array.array("b")
    errors = []
    while time.perf_counter_ns() < start_ns:  # line up all workers on one start instant
        time.sleep(0.001)
    now = time.perf_counter_ns
    while True:
        t0 = now()
        if t0 >= end_ns:
            break
        kind = WRITE if workload == "write" or rng.random() < 0.2 else READ
        key = rng.randrange(1, ROWS + 1)
        try:
            if kind == WRITE:
                conn.execute("BEGIN IMMEDIATE")  # take the write lock up front, as apps should
                conn.execute("UPDATE t SET val = val + 1 WHERE id = ?", (key,))
                conn.execute("COMMIT")
            else:
                conn.execute("SELECT val FROM t WHERE id = ?", (key,)).fetchone()
            outcome = OK
        except sqlite3.Error as e:
            code = getattr(e, "sqlite_errorcode", None)
            # extended codes (BUSY_RECOVERY, BUSY_SNAPSHOT, ...) keep SQLITE_BUSY in the low byte
            outcome = BUSY if code is not None and code & 0xFF == SQLITE_BUSY else OTHER
            if outcome == OTHER and len(errors) < 3:
                errors.append(f"{getattr(e, 'sqlite_errorname', type(e).__name__)}: {e}")
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        t1 = now()
        starts.append(t0)
        ends.append(t1)
        kinds.append(kind)
        outcomes.append(outcome)
    conn.close()
    with open(raw_path, "wb") as f:
        array.array("q", [len(starts)]).tofile(f)
        for a in (starts, ends, kinds, outcomes):
            a.tofile(f)
    if errors:
        with open(raw_path + ".err", "w") as f:
            f.write("\n".join(errors))


def read_raw(path):
    """The four arrays a worker wrote."""
    with open(path, "rb") as f:
        n = array.array("q")
        n.fromfile(f, 1)
        out = []
        for code in ("q", "q", "b", "b"):
            a = array.array(code)
            a.fromfile(f, n[0])
            out.append(a)
    return out


def point(a):
    """Run one load point with a.procs processes and append its summary row to a.out."""
    os.makedirs(a.raw, exist_ok=True)
    journal, sync = MODES[a.mode]
    # start every point from an empty WAL, so that checkpoints fall the same way each time
    conn = sqlite3.connect(a.db, isolation_level=None)
    if journal == "WAL":
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()

    probe = common.flush_probe_ms(a.raw)
    load_before = common.loadavg1()
    cpu_before = common.machine_cpu_ticks()
    flush_before = common.disk_flushes(a.device)
    ru_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    ctx = multiprocessing.get_context("fork")  # separate processes, as separate app workers are
    start_ns = time.perf_counter_ns() + int((0.3 + 0.01 * a.procs) * 1e9)
    end_ns = start_ns + int(a.duration * 1e9)
    tag = f"{a.mode}_{a.workload}_b{a.busy_ms}_k{a.procs}"
    paths = [os.path.join(a.raw, f"{tag}_{i}.bin") for i in range(a.procs)]
    procs = [
        ctx.Process(target=worker, args=(a.db, a.mode, a.workload, a.busy_ms, start_ns, end_ns,
                                         zlib.crc32(f"{a.seed}/{tag}/{i}".encode()), paths[i]))
        for i in range(a.procs)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()

    ru_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    flush_after = common.disk_flushes(a.device)
    cpu_after = common.machine_cpu_ticks()
    load_after = common.loadavg1()

    lat = {READ: [], WRITE: []}
    busy_waits = []
    ok_in_window = {READ: 0, WRITE: 0}
    n_ok = n_busy = n_other = 0
    for path in paths:
        starts, ends, kinds, outcomes = read_raw(path)
        for t0, t1, k, o in zip(starts, ends, kinds, outcomes):
            if o == OK:
                n_ok += 1
                lat[k].append((t1 - t0) / 1e6)
                if t1 <= end_ns:
                    ok_in_window[k] += 1
            elif o == BUSY:
                n_busy += 1
                busy_waits.append((t1 - t0) / 1e6)
            else:
                n_other += 1
    errors = []
    for path in paths:
        if os.path.exists(path + ".err"):
            with open(path + ".err") as f:
                errors.extend(f.read().splitlines())
    both = sorted(lat[READ] + lat[WRITE])
    for k in lat:
        lat[k].sort()
    busy_waits.sort()
    cpu_s = (ru_after.ru_utime - ru_before.ru_utime) + (ru_after.ru_stime - ru_before.ru_stime)
    n_writes_ok = len(lat[WRITE])
    pc = common.percentile
    row = {
        "mode": a.mode, "journal_mode": journal, "synchronous": sync, "workload": a.workload,
        "busy_timeout_ms": a.busy_ms, "processes": a.procs, "duration_s": a.duration,
        "txns_ok": n_ok, "txns_busy": n_busy, "txns_other_error": n_other,
        "busy_fraction": n_busy / max(1, n_ok + n_busy + n_other),
        "throughput_tps": (ok_in_window[READ] + ok_in_window[WRITE]) / a.duration,
        "write_tps": ok_in_window[WRITE] / a.duration,
        "read_tps": ok_in_window[READ] / a.duration,
        "p50_ms": pc(both, 50), "p95_ms": pc(both, 95), "p99_ms": pc(both, 99),
        "max_ms": both[-1] if both else None,
        "write_p50_ms": pc(lat[WRITE], 50), "write_p95_ms": pc(lat[WRITE], 95),
        "write_p99_ms": pc(lat[WRITE], 99),
        "write_max_ms": lat[WRITE][-1] if lat[WRITE] else None,
        "read_p50_ms": pc(lat[READ], 50), "read_p99_ms": pc(lat[READ], 99),
        "read_max_ms": lat[READ][-1] if lat[READ] else None,
        "busy_wait_p50_ms": pc(busy_waits, 50),
        "client_cpu_ms_per_txn": cpu_s * 1000 / max(1, n_ok),
        "disk_flushes_per_write": (flush_after - flush_before) / n_writes_ok if n_writes_ok else None,
        "first_other_error": errors[0].replace(",", ";") if errors else "",
        "fdatasync_probe_ms": probe,
        "load1_before": load_before, "load1_after": load_after,
        "machine_cpu_busy_frac": common.busy_fraction(cpu_before, cpu_after),
        "started_utc": started,
        # How often the workers gave up a core (slept: busy handler, flush) and had it taken
        # (their quantum spent): what a context switch's cost is multiplied by.
        "client_voluntary_switches_per_txn":
            (ru_after.ru_nvcsw - ru_before.ru_nvcsw) / max(1, n_ok),
        "client_involuntary_switches_per_txn":
            (ru_after.ru_nivcsw - ru_before.ru_nivcsw) / max(1, n_ok),
    }
    common.append_row(a.out, COLUMNS, row)
    print(f"sqlite {tag}: {row['throughput_tps']:.0f} tps ok={n_ok} busy={n_busy} "
          f"other={n_other} p99={common.fmt(row['p99_ms'])} ms load={load_before}->{load_after}",
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=["setup", "point"])
    ap.add_argument("--db", required=True)
    ap.add_argument("--mode", choices=sorted(MODES), required=True)
    ap.add_argument("--workload", choices=["write", "rw80"], default="write")
    ap.add_argument("--busy-ms", type=int, default=5000)
    ap.add_argument("--procs", type=int, default=1)
    ap.add_argument("--duration", type=float, default=6.0)
    ap.add_argument("--raw", default=".")
    ap.add_argument("--out", default="sqlite.csv")
    ap.add_argument("--device", default="vda", help="block device for the flush counter")
    ap.add_argument("--seed", type=int, default=12)
    a = ap.parse_args()
    if a.action == "setup":
        setup(a.db, a.mode)
    else:
        point(a)


if __name__ == "__main__":
    main()
