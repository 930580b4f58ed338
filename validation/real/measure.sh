#!/usr/bin/env bash
# Measure real SQLite, PostgreSQL and PgBouncer under closed-loop concurrency (issue 12, item 1).
#
#   bash validation/real/measure.sh [--quick] [--only sqlite|postgres|pgbouncer[,...]] [--keep-raw DIR]
#                                   [--scheduler rr|fair] [--out DIR]
#
# Run as root on demand (about 30 minutes in full; --quick is a ~3-minute smoke test), never in
# CI. It installs what is missing with apt-get, creates the system user capsim-measure (PostgreSQL
# refuses to run as root), starts PostgreSQL and PgBouncer on loopback ports in a fresh mktemp -d
# folder as that user, runs the loads, writes tidy CSVs, and on exit stops every server it started
# by its recorded pid and removes the folder. The full run writes tests/data/real/*.csv; --quick
# writes target/measure-quick/ so that a smoke test never overwrites measured data. --out DIR
# writes a full run's CSVs to DIR instead (repeat passes: tests/data/real/pass2, pass3, whose
# spread against the first pass is the measurement's own repeatability).
#
# --scheduler rr (the default) runs everything measured (servers, pgbench, the SQLite drivers)
# under SCHED_RR priority 1 with a 4 ms quantum, so that other work on a shared machine cannot
# delay them: a process woken by its flush otherwise waits a 4 ms scheduler tick behind CPU-bound
# neighbours (see tests/data/real/README.md). Among themselves the measured processes still
# time-slice, as on a dedicated machine. --scheduler fair measures as an ordinary process.
set -euo pipefail

QUICK=0
ONLY=all
KEEP_RAW=""
SCHEDULER=rr
OUT_DIR=""
RR_QUANTUM_MS=4
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --only) ONLY="${2:?--only needs sqlite, postgres or pgbouncer}"; shift ;;
    --keep-raw) KEEP_RAW="${2:?--keep-raw needs a folder}"; shift ;;
    --scheduler) SCHEDULER="${2:?--scheduler needs rr or fair}"; shift ;;
    --out) OUT_DIR="${2:?--out needs a folder}"; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "measure.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
IFS=, read -ra SECTIONS <<<"$ONLY"
for section in "${SECTIONS[@]}"; do
  case "$section" in all|sqlite|postgres|pgbouncer) ;; *) echo "measure.sh: bad --only $section" >&2; exit 2 ;; esac
done
case "$SCHEDULER" in rr|fair) ;; *) echo "measure.sh: bad --scheduler $SCHEDULER (rr or fair)" >&2; exit 2 ;; esac
want() { [[ $ONLY == all || ",$ONLY," == *",$1,"* ]]; }   # is this section part of the run?
if [[ $EUID -ne 0 ]]; then
  echo "measure.sh: run as root (it installs packages and switches to the user capsim-measure)" >&2
  exit 2
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
COMMAND="bash validation/real/measure.sh"
if [[ $QUICK == 1 ]]; then COMMAND+=" --quick"; fi
if [[ $ONLY != all ]]; then COMMAND+=" --only $ONLY"; fi
if [[ $SCHEDULER != rr ]]; then COMMAND+=" --scheduler $SCHEDULER"; fi
if [[ -n $OUT_DIR ]]; then COMMAND+=" --out $OUT_DIR"; fi
MUSER=capsim-measure
PY=/usr/bin/python3  # Debian's python, linked to Debian's libsqlite3 (not a pyenv build)

# ---- the plan: levels and durations (the full run is sized to take about 30 minutes) ----------
if [[ $QUICK == 1 ]]; then
  OUT="$REPO/target/measure-quick"
  SQLITE_SECONDS=1; SQLITE_PROCS="1 8"; REREAD_ROUNDS=1000
  PG_SECONDS=2; PG_SCALE=2
  PG_CLIENTS="1,8,150"; BOUNCER_CLIENTS="1,50,200"
else
  OUT="$REPO/tests/data/real"
  SQLITE_SECONDS=6; SQLITE_PROCS="1 2 4 8 16 32 64"; REREAD_ROUNDS=20000
  # pgbench's documentation: a scale below the client count mostly measures row-lock contention
  # on pgbench_branches; 100 covers the 90 direct clients and initialises in about a minute.
  PG_SECONDS=15; PG_SCALE=100
  PG_CLIENTS="1,2,4,8,16,32,64,90,150"; BOUNCER_CLIENTS="1,2,4,8,16,32,64,100,200,300,400,500"
fi
if [[ -n $OUT_DIR ]]; then
  mkdir -p "$OUT_DIR"
  OUT="$(cd "$OUT_DIR" && pwd)"
fi
MAX_CONNECTIONS=100
POOL_SIZE=20

# ---- stop everything we started, by pid, whatever happens --------------------------------------
TMP=""
OLD_RR_QUANTUM=""
SERVER_PIDS=()   # pid:signal pairs; PostgreSQL's fast shutdown is SIGINT, PgBouncer's SIGTERM
DRIVER_PID=""    # the load driver running now (a session leader: its pgbench goes with it)
cleanup() {
  local rc=$?
  set +e
  if [[ -n "$DRIVER_PID" ]] && kill -0 "$DRIVER_PID" 2>/dev/null; then
    kill -TERM -- "-$DRIVER_PID" 2>/dev/null
  fi
  local entry pid sig i
  for entry in "${SERVER_PIDS[@]}"; do
    pid="${entry%%:*}"; sig="${entry##*:}"
    kill -0 "$pid" 2>/dev/null || continue
    kill "-$sig" "$pid"
    for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { echo "measure.sh: pid $pid did not stop; SIGKILL" >&2; kill -KILL "$pid"; }
  done
  if [[ -n "$OLD_RR_QUANTUM" ]]; then echo "$OLD_RR_QUANTUM" >/proc/sys/kernel/sched_rr_timeslice_ms; fi
  if [[ -n "$TMP" && -d "$TMP" ]]; then
    if [[ -n "$KEEP_RAW" ]]; then mkdir -p "$KEEP_RAW" && cp -r "$TMP/raw" "$TMP"/*.log "$KEEP_RAW"/ 2>/dev/null; fi
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # turn signals into an exit, so that the EXIT trap runs

log() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# ---- the scheduler: every process started from here on inherits this shell's policy ----------
if [[ $SCHEDULER == rr ]]; then
  OLD_RR_QUANTUM="$(cat /proc/sys/kernel/sched_rr_timeslice_ms)"
  echo "$RR_QUANTUM_MS" >/proc/sys/kernel/sched_rr_timeslice_ms
  chrt -r -p 1 $$ >/dev/null
  log "measured processes run SCHED_RR priority 1, quantum $(cat /proc/sys/kernel/sched_rr_timeslice_ms) ms"
fi

# ---- packages and user -------------------------------------------------------------------------
need=()
for pkg in postgresql postgresql-contrib pgbouncer; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [[ ${#need[@]} -gt 0 ]]; then
  log "installing ${need[*]}"
  # Debian's postinst would create and start a cluster on 5432 and a pgbouncer service: a
  # policy-rc.d that answers 101 keeps the install from starting anything we would not stop.
  made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  [[ $made_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d
fi
if ! id -u "$MUSER" >/dev/null 2>&1; then
  useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$MUSER"
fi
PGBIN="$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -n 1)"

TMP="$(mktemp -d /var/tmp/capsim-measure.XXXXXX)"   # /var/tmp: on disk, never a tmpfs
chown "$MUSER:" "$TMP"
chmod 700 "$TMP"
mkdir -p "$OUT"
RES="$TMP/results"

# Run a command as $MUSER with a clean environment. setsid makes it a session leader, so the
# cleanup can end it and its children (pgbench) by its process group id.
as_user() {
  setpriv --reuid="$MUSER" --regid="$MUSER" --init-groups \
    env -i PATH="$PGBIN:/usr/sbin:/usr/bin:/bin" HOME="$TMP" LC_ALL=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 "$@"
}
run_driver() {
  setsid setpriv --reuid="$MUSER" --regid="$MUSER" --init-groups \
    env -i PATH="$PGBIN:/usr/sbin:/usr/bin:/bin" HOME="$TMP" LC_ALL=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 \
    "$PY" "$@" &
  DRIVER_PID=$!
  wait "$DRIVER_PID"
  DRIVER_PID=""
}
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

as_user mkdir -p "$RES" "$TMP/raw"
DEVICE="$(lsblk -no PKNAME "$(findmnt -no SOURCE --target "$TMP")" 2>/dev/null | head -n 1)"
[[ -n "$DEVICE" ]] || DEVICE="$(basename "$(findmnt -no SOURCE --target "$TMP")")"
STARTED_UTC="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
START_S=$SECONDS
LOAD_START="$(cat /proc/loadavg)"
log "temp folder $TMP on /dev/$DEVICE; load $LOAD_START"

# ---- SQLite -------------------------------------------------------------------------------------
if want sqlite; then
  cd "$HERE"
  for mode in wal_normal wal_full delete; do
    as_user "$PY" sqlite_load.py setup --db "$TMP/sqlite.db" --mode "$mode"
    for workload in write rw80; do
      for busy in 5000 50; do
        for k in $SQLITE_PROCS; do
          run_driver sqlite_load.py point --db "$TMP/sqlite.db" --mode "$mode" \
            --workload "$workload" --busy-ms "$busy" --procs "$k" --duration "$SQLITE_SECONDS" \
            --raw "$TMP/raw/sqlite" --out "$RES/sqlite.csv" --device "$DEVICE"
        done
      done
    done
  done
  rm -f "$TMP"/sqlite.db*
  # What a transaction pays when another connection committed since its last (SQLite empties its
  # page cache): the model's database.reread_ms.
  run_driver sqlite_reread.py --dir "$TMP/reread" --out "$RES/sqlite_reread.csv" \
    --rounds "$REREAD_ROUNDS"
fi

# ---- PostgreSQL and PgBouncer --------------------------------------------------------------------
if want postgres || want pgbouncer; then
  PGPORT="$(free_port)"
  as_user initdb -D "$TMP/pgdata" -U capsim --auth=trust -E UTF8 --no-sync >"$TMP/initdb.log"
  # Checkpoints only when forced between points (long timeout, large max_wal_size), so that a
  # point's numbers are its own; everything else is PostgreSQL's default.
  cat >>"$TMP/pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$TMP'
max_connections = $MAX_CONNECTIONS
shared_buffers = 512MB
checkpoint_timeout = 30min
max_wal_size = 8GB
CONF
  as_user pg_ctl -D "$TMP/pgdata" -l "$TMP/postgres.log" -w -t 60 start >/dev/null
  POSTMASTER_PID="$(head -n 1 "$TMP/pgdata/postmaster.pid")"
  SERVER_PIDS+=("$POSTMASTER_PID:INT")
  log "PostgreSQL $(as_user postgres --version | awk '{print $3}') pid $POSTMASTER_PID on 127.0.0.1:$PGPORT"
  # pgbench connects as an ordinary role, as an application would: superusers may also take
  # the superuser_reserved_connections (3), ordinary roles get max_connections - 3
  as_user psql -h 127.0.0.1 -p "$PGPORT" -U capsim -d postgres -AtXq -c "CREATE ROLE bench LOGIN"
  as_user createdb -h 127.0.0.1 -p "$PGPORT" -U capsim -O bench bench
  log "pgbench -i -s $PG_SCALE (server-side generation)"
  as_user pgbench -h 127.0.0.1 -p "$PGPORT" -U bench -i -s "$PG_SCALE" -I dtGvp -q bench \
    >"$TMP/pgbench-init.log" 2>&1
  PGARGS=(--port "$PGPORT" --postmaster-pid "$POSTMASTER_PID" --duration "$PG_SECONDS"
          --scale "$PG_SCALE" --max-connections "$MAX_CONNECTIONS" --pool-size "$POOL_SIZE"
          --raw "$TMP/raw/pg" --device "$DEVICE")
  cd "$HERE"

  if want postgres; then
    # c above max_connections is measured on purpose: pgbench's reaction is part of the data
    run_driver pg_load.py "${PGARGS[@]}" --target-port "$PGPORT" --out "$RES/postgres.csv" \
      --series tpcb_sync_on --script tpcb-like --sync on --clients "$PG_CLIENTS"
    run_driver pg_load.py "${PGARGS[@]}" --target-port "$PGPORT" --out "$RES/postgres.csv" \
      --series tpcb_sync_off --script tpcb-like --sync off --clients "$PG_CLIENTS"
    run_driver pg_load.py "${PGARGS[@]}" --target-port "$PGPORT" --out "$RES/postgres.csv" \
      --series select_only --script select-only --sync on --clients "$PG_CLIENTS"
  fi

  if want pgbouncer; then
    BPORT="$(free_port)"
    printf '"bench" ""\n"capsim" ""\n' >"$TMP/userlist.txt"
    # transaction pooling with PgBouncer's default pool size; max_client_conn raised above the
    # largest client count so that the pool, not the client limit, is what is measured
    cat >"$TMP/pgbouncer.ini" <<INI
[databases]
bench = host=127.0.0.1 port=$PGPORT dbname=bench
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BPORT
unix_socket_dir =
auth_type = trust
auth_file = $TMP/userlist.txt
admin_users = capsim
pool_mode = transaction
default_pool_size = $POOL_SIZE
max_client_conn = 600
logfile = $TMP/pgbouncer.log
pidfile = $TMP/pgbouncer.pid
INI
    chown "$MUSER:" "$TMP/userlist.txt" "$TMP/pgbouncer.ini"
    as_user pgbouncer -d "$TMP/pgbouncer.ini"
    for _ in $(seq 50); do [[ -s "$TMP/pgbouncer.pid" ]] && break; sleep 0.1; done
    BOUNCER_PID="$(cat "$TMP/pgbouncer.pid")"
    SERVER_PIDS=("$BOUNCER_PID:TERM" "${SERVER_PIDS[@]}")   # stop the pooler before the server
    log "PgBouncer pid $BOUNCER_PID on 127.0.0.1:$BPORT"
    run_driver pg_load.py "${PGARGS[@]}" --target-port "$BPORT" --bouncer-pid "$BOUNCER_PID" \
      --out "$RES/pgbouncer.csv" --series bouncer_tpcb_sync_on --script tpcb-like --sync on \
      --clients "$BOUNCER_CLIENTS"
    run_driver pg_load.py "${PGARGS[@]}" --target-port "$BPORT" --bouncer-pid "$BOUNCER_PID" \
      --out "$RES/pgbouncer.csv" --series bouncer_select_only --script select-only --sync on \
      --clients "$BOUNCER_CLIENTS"
  fi
fi

# ---- the machine's facts -----------------------------------------------------------------------
log "machine facts"
FSYNC="$(as_user "$PGBIN/pg_test_fsync" -s 1 -f "$TMP/fsync.test" 2>/dev/null |
  awk '/one 8kB write/ {s = 1} s && $1 == "fdatasync" {print $2; exit}')" || FSYNC=""
{
  echo "key,value"
  echo "command,$COMMAND"
  echo "started_utc,$STARTED_UTC"
  echo "finished_utc,$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "elapsed_s,$((SECONDS - START_S))"
  echo "nproc,$(nproc)"
  echo "cpu_model,$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "memory_gib,$(awk '/MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)"
  echo "kernel,$(uname -r)"
  if [[ $SCHEDULER == rr ]]; then
    echo "scheduler,SCHED_RR priority 1 (quantum ${RR_QUANTUM_MS} ms) for every measured process"
  else
    echo "scheduler,SCHED_OTHER (the fair scheduler) for every measured process"
  fi
  echo "os,$(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release)"
  echo "disk_device,$DEVICE"
  echo "disk_rotational_flag,$(cat "/sys/block/$DEVICE/queue/rotational" 2>/dev/null)"
  echo "disk_write_cache,$(cat "/sys/block/$DEVICE/queue/write_cache" 2>/dev/null)"
  echo "filesystem,$(findmnt -no FSTYPE --target "$TMP")"
  echo "fdatasync_8kb_ops_per_s,$FSYNC"
  echo "sqlite_version,$("$PY" -c 'import sqlite3; print(sqlite3.sqlite_version)')"
  echo "sqlite_client,Python $("$PY" -c 'import platform; print(platform.python_version())') sqlite3 module (Debian libsqlite3-0 $(dpkg-query -W -f='${Version}' libsqlite3-0))"
  echo "postgres_version,$(as_user "$PGBIN/postgres" --version | awk '{print $3}')"
  echo "pgbench_version,$(as_user "$PGBIN/pgbench" --version | awk '{print $3}')"
  echo "pgbouncer_version,$(pgbouncer --version | awk 'NR == 1 {print $2}')"
  echo "pgbench_scale,$PG_SCALE"
  echo "sqlite_seconds_per_point,$SQLITE_SECONDS"
  echo "pg_seconds_per_point,$PG_SECONDS"
  echo "max_connections,$MAX_CONNECTIONS"
  echo "pgbouncer_default_pool_size,$POOL_SIZE"
  echo "loadavg_start,$LOAD_START"
  echo "loadavg_end,$(cat /proc/loadavg)"
  echo "shared_machine,yes: other engineers compile Rust on the same 2 cores; see load1_* per row"
} >"$RES/machine.csv"

cp "$RES"/*.csv "$OUT"/
log "done in $((SECONDS - START_S)) s; CSVs in $OUT"
