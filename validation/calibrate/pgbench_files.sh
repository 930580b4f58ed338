#!/usr/bin/env bash
# Real pgbench files for the parsers of `simulate calibrate` (issue 13): pgbench's standard
# output with -r and -P (progress goes to stderr, captured with 2>&1) and its -l per-transaction
# logs, at c = 1, 2, 4, 8, written to tests/data/calibrate/pgbench/.
#
#   bash validation/calibrate/pgbench_files.sh      (as root; ~1 minute)
#
# As validation/real/measure.sh does: PostgreSQL runs as the system user capsim-measure, on a
# loopback port, in a fresh mktemp -d folder; on exit the postmaster is stopped by its recorded
# pid and the folder removed. Short points (3 s, scale 2, -j 1 so that each point writes one
# log file): these files test parsing, not capacity.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$REPO/tests/data/calibrate/pgbench"
MUSER=capsim-measure
[[ $EUID -eq 0 ]] || { echo "run as root (it switches to the user $MUSER)" >&2; exit 2; }
id -u "$MUSER" >/dev/null 2>&1 || useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$MUSER"
PGBIN="$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -n 1)"
TMP="$(mktemp -d /var/tmp/capsim-calibrate.XXXXXX)"
chown "$MUSER:" "$TMP"; chmod 700 "$TMP"
PID=""
cleanup() {
  local rc=$?; set +e
  if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
    kill -INT "$PID"
    for ((i = 0; i < 300; i++)); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$TMP"; exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
as_user() {
  setpriv --reuid="$MUSER" --regid="$MUSER" --init-groups \
    env -i PATH="$PGBIN:/usr/sbin:/usr/bin:/bin" HOME="$TMP" LC_ALL=C.UTF-8 "$@"
}
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
as_user initdb -D "$TMP/pgdata" -U capsim --auth=trust -E UTF8 --no-sync >/dev/null
cat >>"$TMP/pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$TMP'
CONF
as_user pg_ctl -D "$TMP/pgdata" -l "$TMP/postgres.log" -w -t 60 start >/dev/null
PID="$(head -n 1 "$TMP/pgdata/postmaster.pid")"
as_user createdb -h 127.0.0.1 -p "$PORT" -U capsim bench
as_user pgbench -h 127.0.0.1 -p "$PORT" -U capsim -i -s 2 -q bench >/dev/null 2>&1
mkdir -p "$OUT"
for c in 1 2 4 8; do
  mkdir -p "$TMP/c$c"; chown "$MUSER:" "$TMP/c$c"
  ( cd "$TMP/c$c" && as_user pgbench -h 127.0.0.1 -p "$PORT" -U capsim -c "$c" -j 1 -T 3 \
      -P 1 -r -l --log-prefix="$TMP/c$c/pgbench_log" bench ) >"$OUT/tpcb_c$c.txt" 2>&1
  mv "$TMP/c$c"/pgbench_log.* "$OUT/tpcb_c$c.log"
done
echo "pgbench $(as_user pgbench --version | awk '{print $3}'); command for each point: pgbench -c C -j 1 -T 3 -P 1 -r -l bench 2>&1 (scale 2)" >"$OUT/COMMAND"
