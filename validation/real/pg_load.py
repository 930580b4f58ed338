"""Closed-loop pgbench points against PostgreSQL, directly or through PgBouncer.

One invocation runs one series (a pgbench script at one synchronous_commit setting, through
one port) over a list of client counts. For every point it:
  1. tidies the tables as pgbench itself would (VACUUM branches/tellers, TRUNCATE history)
     and forces a CHECKPOINT, so that no point inherits the previous one's dirty pages;
  2. snapshots the counters: pg_stat_wal, pg_stat_database, pg_stat_bgwriter, the CPU of the
     postmaster's process tree and of PgBouncer (/proc/<pid>/stat), the disk's flush count,
     the machine's load;
  3. runs pgbench -n -c C -j J -T D -P 1 -r -l and waits for it;
  4. snapshots again and reads the per-transaction logs (-l) for the latency percentiles.
The summary row is appended to --out; pgbench's own output and logs stay in --raw.

    python3 pg_load.py --series tpcb_sync_on --script tpcb-like --sync on \
        --port 5433 --target-port 5433 --postmaster-pid 1234 --clients 1,2,4 \
        --duration 15 --raw DIR --out postgres.csv
"""

import argparse
import glob
import os
import re
import resource
import subprocess
import time

import common

COLUMNS = [
    "series", "via", "script", "synchronous_commit", "clients", "threads", "duration_s",
    "scale", "max_connections", "pool_size", "pgbench_exit_code",
    "txns_ok", "txns_failed", "throughput_tps", "pgbench_tps", "tps_1s_min", "tps_1s_max",
    "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms", "commit_stmt_mean_ms",
    "initial_connection_ms", "errors_too_many_clients", "errors_no_connection",
    "errors_client_aborted",
    "errors_other", "first_error",
    "server_cpu_ms_per_txn", "pgbouncer_cpu_ms_per_txn", "client_cpu_ms_per_txn",
    "wal_syncs_per_commit", "wal_writes_per_commit", "wal_bytes_per_commit",
    "xact_commits", "checkpoints", "disk_flushes_per_commit",
    "fdatasync_probe_ms", "load1_before", "load1_after", "machine_cpu_busy_frac", "started_utc",
]

ERROR_CLASSES = [  # (column, pattern in pgbench's stderr)
    ("errors_too_many_clients", re.compile(
        r"too many clients|remaining connection slots are reserved|no more connections allowed")),
    ("errors_no_connection", re.compile(r"could not create connection for client")),
    ("errors_client_aborted", re.compile(r"client \d+ aborted")),
]


def psql(a, sql, port=None):
    """Run SQL statements (one -c each, so VACUUM stays outside a transaction block)."""
    cmd = ["psql", "-h", "127.0.0.1", "-p", str(port or a.port), "-U", a.user, "-d", a.db,
           "-AtXq", "-v", "ON_ERROR_STOP=1"]
    for stmt in sql if isinstance(sql, list) else [sql]:
        cmd += ["-c", stmt]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def server_counters(a):
    """Cumulative PostgreSQL counters whose deltas describe a point."""
    out = psql(a, "SELECT w.wal_sync, w.wal_write, w.wal_bytes, d.xact_commit, "
                  "b.checkpoints_timed + b.checkpoints_req "
                  "FROM pg_stat_wal w, pg_stat_database d, pg_stat_bgwriter b "
                  f"WHERE d.datname = '{a.db}'")
    keys = ["wal_sync", "wal_write", "wal_bytes", "xact_commit", "checkpoints"]
    return dict(zip(keys, (float(x) for x in out.split("|"))))


def read_logs(prefix):
    """Per-transaction pgbench logs -> (latencies ms of ok txns, failed count, starts, ends)."""
    lat, starts, ends = [], [], []
    failed = 0
    for path in glob.glob(prefix + ".*"):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 6:
                    continue
                end = int(parts[4]) + int(parts[5]) / 1e6  # when the transaction completed
                if not parts[2].isdigit():  # "failed", "serialization", "deadlock" (PG 15)
                    failed += 1
                    continue
                us = int(parts[2])
                lat.append(us / 1000)
                ends.append(end)
                starts.append(end - us / 1e6)
    return lat, failed, starts, ends


def parse_stdout(text):
    """The figures pgbench prints at the end of a run (-r adds per-statement latencies)."""
    def grab(pattern):
        m = re.search(pattern, text, re.M)
        return float(m.group(1)) if m else None
    return {
        "pgbench_tps": grab(r"^tps = ([\d.]+)"),
        "initial_connection_ms": grab(r"^initial connection time = ([\d.]+) ms"),
        "commit_stmt_mean_ms": grab(r"^\s*([\d.]+)\s+(?:\d+\s+)?END;"),
    }


def one_point(a, clients):
    """Run pgbench at one client count and append the summary row."""
    tag = f"{a.series}_c{clients}"
    point_dir = os.path.join(a.raw, tag)
    os.makedirs(point_dir, exist_ok=True)
    prep = ["CHECKPOINT"]
    if a.script == "tpcb-like":  # what pgbench's own vacuum step does, done directly
        prep = ["VACUUM pgbench_branches", "VACUUM pgbench_tellers",
                "TRUNCATE pgbench_history"] + prep
    psql(a, prep)

    probe = common.flush_probe_ms(point_dir)
    before = server_counters(a)
    load_before = common.loadavg1()
    cpu_before = common.machine_cpu_ticks()
    flush_before = common.disk_flushes(a.device)
    tree_before = common.tree_cpu_s(a.postmaster_pid)
    bouncer_before = common.process_cpu_s(a.bouncer_pid) if a.bouncer_pid else 0.0
    ru_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    threads = min(a.threads, clients)
    prefix = os.path.join(point_dir, "log")
    cmd = ["pgbench", "-h", "127.0.0.1", "-p", str(a.target_port), "-U", a.bench_user, "-n",
           "-b", a.script, "-c", str(clients), "-j", str(threads), "-T", str(a.duration),
           "-P", "1", "-r", "-l", f"--log-prefix={prefix}", a.db]
    with open(os.path.join(point_dir, "cmd.txt"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    with open(os.path.join(point_dir, "stdout.txt"), "w") as out, \
            open(os.path.join(point_dir, "stderr.txt"), "w") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        try:
            code = proc.wait(timeout=a.duration + 180)
        except subprocess.TimeoutExpired:  # never leave a pgbench behind
            proc.kill()
            code = proc.wait()
    ru_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    time.sleep(2)  # backends exit and are reaped; idle ones flush their stats within ~1 s
    tree_after = common.tree_cpu_s(a.postmaster_pid)
    bouncer_after = common.process_cpu_s(a.bouncer_pid) if a.bouncer_pid else 0.0
    flush_after = common.disk_flushes(a.device)
    cpu_after = common.machine_cpu_ticks()
    load_after = common.loadavg1()
    after = server_counters(a)

    with open(os.path.join(point_dir, "stdout.txt")) as f:
        stdout = f.read()
    with open(os.path.join(point_dir, "stderr.txt")) as f:
        stderr_lines = [l for l in f if "progress:" not in l]
    error_lines = [l.strip() for l in stderr_lines if "error" in l.lower() or "FATAL" in l]
    errors = {col: sum(1 for l in error_lines if pat.search(l)) for col, pat in ERROR_CLASSES}
    classified = sum(1 for l in error_lines if any(p.search(l) for _, p in ERROR_CLASSES))

    lat, failed, starts, ends = read_logs(prefix)
    lat.sort()
    n = len(lat)
    first = min(starts) if n else 0.0
    window = (max(ends) - first) if n else 0.0
    per_second = {}
    for e in ends:
        second = int(e - first)
        per_second[second] = per_second.get(second, 0) + 1
    full_seconds = [per_second.get(s, 0) for s in range(int(window))]  # whole seconds only
    commits = after["xact_commit"] - before["xact_commit"]
    pc = common.percentile
    row = {
        "series": a.series, "via": "pgbouncer" if a.bouncer_pid else "direct",
        "script": a.script, "synchronous_commit": a.sync_actual, "clients": clients,
        "threads": threads, "duration_s": a.duration, "scale": a.scale,
        "max_connections": a.max_connections, "pool_size": a.pool_size if a.bouncer_pid else "",
        "pgbench_exit_code": code, "txns_ok": n, "txns_failed": failed,
        "throughput_tps": n / window if window else 0.0,
        "tps_1s_min": min(full_seconds) if full_seconds else None,
        "tps_1s_max": max(full_seconds) if full_seconds else None,
        "p50_ms": pc(lat, 50), "p95_ms": pc(lat, 95), "p99_ms": pc(lat, 99),
        "max_ms": lat[-1] if lat else None, "mean_ms": sum(lat) / n if n else None,
        **parse_stdout(stdout), **errors,
        "errors_other": len(error_lines) - classified,
        "first_error": error_lines[0].replace(",", ";")[:200] if error_lines else "",
        "server_cpu_ms_per_txn": (tree_after - tree_before) * 1000 / n if n else None,
        "pgbouncer_cpu_ms_per_txn":
            (bouncer_after - bouncer_before) * 1000 / n if n and a.bouncer_pid else None,
        "client_cpu_ms_per_txn": ((ru_after.ru_utime - ru_before.ru_utime)
                                  + (ru_after.ru_stime - ru_before.ru_stime)) * 1000 / n
        if n else None,
        "wal_syncs_per_commit": (after["wal_sync"] - before["wal_sync"]) / commits
        if commits else None,
        "wal_writes_per_commit": (after["wal_write"] - before["wal_write"]) / commits
        if commits else None,
        "wal_bytes_per_commit": (after["wal_bytes"] - before["wal_bytes"]) / commits
        if commits else None,
        "xact_commits": int(commits), "checkpoints": int(after["checkpoints"] - before["checkpoints"]),
        "disk_flushes_per_commit": (flush_after - flush_before) / commits if commits else None,
        "fdatasync_probe_ms": probe,
        "load1_before": load_before, "load1_after": load_after,
        "machine_cpu_busy_frac": common.busy_fraction(cpu_before, cpu_after),
        "started_utc": started,
    }
    common.append_row(a.out, COLUMNS, row)
    print(f"pg {tag}: exit={code} {row['throughput_tps']:.0f} tps p99={common.fmt(row['p99_ms'])}"
          f" ms errors={len(error_lines)} load={load_before}->{load_after}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", required=True)
    ap.add_argument("--script", choices=["tpcb-like", "select-only"], required=True)
    ap.add_argument("--sync", choices=["on", "off"], default="on")
    ap.add_argument("--port", type=int, required=True, help="PostgreSQL, for counters")
    ap.add_argument("--target-port", type=int, required=True, help="where pgbench connects")
    ap.add_argument("--postmaster-pid", type=int, required=True)
    ap.add_argument("--bouncer-pid", type=int, default=0)
    ap.add_argument("--clients", required=True, help="comma-separated client counts")
    ap.add_argument("--threads", type=int, default=2, help="pgbench -j (at most the clients)")
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--scale", type=int, default=0, help="recorded only")
    ap.add_argument("--max-connections", type=int, default=100, help="recorded only")
    ap.add_argument("--pool-size", type=int, default=20, help="recorded only")
    ap.add_argument("--user", default="capsim", help="superuser, for counters and upkeep")
    ap.add_argument("--bench-user", default="bench",
                    help="pgbench's role: an ordinary one, as an application's would be")
    ap.add_argument("--db", default="bench")
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="vda")
    a = ap.parse_args()
    # a per-database setting reaches every new backend, PgBouncer's pooled ones included
    psql(a, f"ALTER DATABASE {a.db} SET synchronous_commit TO {a.sync}")
    a.sync_actual = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(a.target_port), "-U", a.bench_user, "-d", a.db,
         "-AtXq", "-c", "SHOW synchronous_commit"],
        check=True, capture_output=True, text=True).stdout.strip()
    for c in (int(x) for x in a.clients.split(",")):
        one_point(a, c)


if __name__ == "__main__":
    main()
