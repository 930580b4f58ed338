"""Shared helpers for the real-system measurements of validation/real/.

Everything here reads counters the kernel already keeps (/proc/loadavg, /proc/stat,
/proc/diskstats, /proc/<pid>/stat), so the drivers can take a snapshot before and after
each load point and report deltas. The machine is shared with other engineers, so every
point also records the load average and the whole machine's CPU busy fraction.
"""

import csv
import math
import os
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def loadavg1():
    """The 1-minute load average: how busy the shared machine was around a point."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def machine_cpu_ticks():
    """(busy, total) clock ticks of all CPUs since boot, from the first line of /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal
    return total - idle, total


def busy_fraction(before, after):
    """Fraction of all CPU time that was busy between two machine_cpu_ticks() snapshots."""
    busy = after[0] - before[0]
    total = after[1] - before[1]
    return busy / total if total else float("nan")


def disk_flushes(device):
    """Completed flush requests of a block device (field 16 of /proc/diskstats, kernel ≥ 5.5).

    This counts what reached the device, whoever sent it: on a shared machine it is an upper
    bound for the flushes of the load under test.
    """
    with open("/proc/diskstats") as f:
        for line in f:
            parts = line.split()
            if parts[2] == device:
                return int(parts[18]) if len(parts) > 18 else 0
    return 0


def _stat_fields(pid):
    """Fields 3.. of /proc/<pid>/stat (after the command name, which may contain spaces)."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    return data[data.rindex(")") + 2:].split()


def process_cpu_s(pid):
    """utime + stime of one process, in seconds."""
    try:
        rest = _stat_fields(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def tree_cpu_s(root_pid):
    """CPU seconds ever used by a server and its children, alive or already reaped.

    PostgreSQL forks one backend per connection and the backend exits at disconnect; the
    postmaster reaps it, so its time lands in the postmaster's cutime/cstime. The total is
    postmaster (self + reaped children) + live children (self); the difference of two such
    totals is the CPU the server spent in between, backends that came and went included.
    """
    rest = _stat_fields(root_pid)
    total = sum(int(x) for x in rest[11:15])  # utime stime cutime cstime
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == root_pid:
            continue
        try:
            child = _stat_fields(int(name))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(child[1]) == root_pid:
            total += int(child[11]) + int(child[12])
    return total / CLK_TCK


def percentile(sorted_values, q):
    """Nearest-rank percentile of an already sorted list (q in 0..100); NaN when empty."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def fmt(value, digits=6):
    """A CSV cell: floats rounded to significant digits, NaN and None as empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        return f"{value:.{digits}g}"
    return str(value)


def append_row(path, columns, row):
    """Append one row to a CSV file, writing the header first if the file is new.

    A file begun with other columns (an older version of the driver) is refused rather than
    given rows that do not line up with its header.
    """
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    if not new:
        with open(path, newline="") as f:
            header = next(csv.reader(f), [])
        if header != list(columns):
            raise SystemExit(f"{path}: its header has other columns than this driver writes; "
                             "write to a new file (--out)")
    with open(path, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(columns)
        w.writerow([fmt(row.get(c)) for c in columns])


def flush_probe_ms(folder, n=20):
    """Median time of one 8 kB write + fdatasync in folder, in ms.

    Flush latency is the figure that decides durable commit rates, and on a shared virtual
    disk it drifts with the neighbours' I/O: each point measures it just before its load.
    """
    path = os.path.join(folder, "flush-probe.tmp")
    block = b"\0" * 8192
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.pwrite(fd, block, 0)
        os.fsync(fd)  # the file's size and blocks exist before timing starts
        times = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            os.pwrite(fd, block, 0)
            os.fdatasync(fd)
            times.append((time.perf_counter_ns() - t0) / 1e6)
    finally:
        os.close(fd)
        os.remove(path)
    times.sort()
    return times[len(times) // 2]
