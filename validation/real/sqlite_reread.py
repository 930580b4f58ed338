"""What a SQLite transaction pays when another connection committed since its last one.

At the start of every transaction SQLite compares the database's change marker with the one it
saw last (the WAL-index header in WAL mode, the file change counter with a rollback journal);
if another connection changed it, the pager empties its page cache (pager.c,
`pagerBeginReadTransaction`, `pagerSharedLock`: `pager_reset`) and the transaction reads its
pages back. A connection's own commits leave the marker as it knows it.

This probe times it directly, on the database sqlite_load.py builds, with two connections A and
B in one process. For each of --rounds rounds, B commits one write (BEGIN IMMEDIATE; UPDATE one
random row; COMMIT, with synchronous=OFF so that no flush puts the process to sleep in between),
then A runs one transaction (a *stale* one: B committed since A's last), then another (a *fresh*
one: nobody committed in between). A's transaction is a read (the load's SELECT), then a write
(the load's write transaction). The cost is the difference of the medians, stale − fresh. One
row per mode and kind, appended to --out (measure.sh runs it after the SQLite loads):

    python3 validation/real/sqlite_reread.py --dir "$(mktemp -d)" --out tests/data/real/sqlite_reread.csv
"""

import argparse
import csv
import os
import random
import sqlite3
import statistics
import time

import sqlite_load

COLUMNS = [
    "mode", "journal_mode", "synchronous", "kind", "rounds",
    "fresh_p50_ms", "stale_p50_ms", "reread_ms", "started_utc",
]


def probe(db, mode, rounds, seed):
    """Median times of A's fresh and stale reads and writes, in ms, under `mode`."""
    sqlite_load.setup(db, mode)
    _, sync = sqlite_load.MODES[mode]
    a = sqlite3.connect(db, timeout=5, isolation_level=None)
    b = sqlite3.connect(db, timeout=5, isolation_level=None)
    a.execute(f"PRAGMA synchronous={sync}")
    # B's commits change the database as any commit does, without flushing: a flush would put
    # B's process to sleep and A would pay a cold cache after B's wake-up besides the read-back.
    b.execute("PRAGMA synchronous=OFF")
    rng = random.Random(seed)
    now = time.perf_counter_ns

    def key():
        return rng.randrange(1, sqlite_load.ROWS + 1)

    def write(c):
        c.execute("BEGIN IMMEDIATE")
        c.execute("UPDATE t SET val = val + 1 WHERE id = ?", (key(),))
        c.execute("COMMIT")

    def read(c):
        c.execute("SELECT val FROM t WHERE id = ?", (key(),)).fetchone()

    # Warm A's cache with the whole table: a fresh transaction finds its pages there.
    a.execute("SELECT count(*), sum(val) FROM t").fetchone()
    out = {}
    for kind, run in (("read", read), ("write", write)):
        fresh, stale = [], []
        for _ in range(rounds):
            write(b)
            t0 = now()
            run(a)
            t1 = now()
            run(a)
            t2 = now()
            stale.append(t1 - t0)
            fresh.append(t2 - t1)
        out[kind] = (statistics.median(fresh) / 1e6, statistics.median(stale) / 1e6)
    a.close()
    b.close()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True, help="a scratch folder for the database file")
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    db = os.path.join(a.dir, "reread.db")
    new = not os.path.exists(a.out)
    with open(a.out, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(COLUMNS)
        for mode in sorted(sqlite_load.MODES):
            started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            journal, sync = sqlite_load.MODES[mode]
            for kind, (fresh, stale) in probe(db, mode, a.rounds, a.seed).items():
                w.writerow([mode, journal, sync, kind, a.rounds, f"{fresh:.6f}", f"{stale:.6f}",
                            f"{stale - fresh:.6f}", started])
                print(f"{mode:10s} {kind:5s} fresh {fresh * 1e3:7.1f} us  stale {stale * 1e3:7.1f} us"
                      f"  reread {(stale - fresh) * 1e3:6.1f} us")
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)


if __name__ == "__main__":
    main()
