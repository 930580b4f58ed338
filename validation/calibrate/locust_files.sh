#!/usr/bin/env bash
# Real Locust --csv files for the parsers of `simulate calibrate` (issue 13), written to
# tests/data/calibrate/locust/: a headless run of validation/calibrate/locustfile.py (1, 2, 4,
# 8 users, 5 s each) against validation/calibrate/tiny_server.py on 127.0.0.1, which is
# stopped by its pid on exit. Needs `pip install locust`. ~25 s.
#
#   bash validation/calibrate/locust_files.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$(cd "$HERE/../.." && pwd)/tests/data/calibrate/locust"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 "$HERE/tiny_server.py" "$PORT" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
sleep 1
mkdir -p "$OUT"
TMP="$(mktemp -d)"
locust -f "$HERE/locustfile.py" --headless --host "http://127.0.0.1:$PORT" \
  --csv "$TMP/steps" --csv-full-history --only-summary --loglevel WARNING >/dev/null 2>&1 || true
cp "$TMP/steps_stats.csv" "$TMP/steps_stats_history.csv" "$OUT/"
rm -rf "$TMP"
echo "locust $(locust --version 2>&1 | awk '{print $2}'); locust -f validation/calibrate/locustfile.py --headless --host http://127.0.0.1:PORT --csv steps --csv-full-history --only-summary" >"$OUT/COMMAND"
