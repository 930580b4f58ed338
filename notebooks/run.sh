#!/usr/bin/env bash
# Execute notebooks/capacity.ipynb top to bottom against a quick run, as CI
# does: install the pinned Python packages into a virtualenv, simulate a
# small scenario into a temporary folder, run every cell with nbclient.
#
# Environment (all optional):
#   PYTHON          interpreter to build the virtualenv with (default python3)
#   NOTEBOOK_VENV   reuse this virtualenv (default: a fresh one in the temp folder)
#   SIMULATE        the `simulate` binary (default: cargo run --release)
#   NOTEBOOK_KEEP   write the executed notebook here, with its outputs
#                   (default: output/capacity.executed.ipynb, beside simulate's results;
#                   empty to keep nothing)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

venv="${NOTEBOOK_VENV:-$work/venv}"
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"

if [ -n "${SIMULATE:-}" ]; then
    simulate=("$SIMULATE")
else
    simulate=(cargo run --release --quiet --manifest-path "$root/Cargo.toml" --)
fi
# A few loads across the knee of every phase, two replications each: seconds, not minutes.
"${simulate[@]}" "$root/scenarios/examples/shop_growth.toml" --out "$work/out" --quiet --no-plots \
    --users 100,1000,5000,10000,20000,50000 --replications 2 --measured-requests 5000

CAPSIM_OUT="$work/out" NOTEBOOK="$here/capacity.ipynb" KEEP="${NOTEBOOK_KEEP-$root/output/capacity.executed.ipynb}" \
    "$venv/bin/python" - <<'PY'
import os
import nbformat
from nbclient import NotebookClient

nb = nbformat.read(os.environ["NOTEBOOK"], as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": os.path.dirname(os.environ["NOTEBOOK"])}}).execute()
if os.environ["KEEP"]:
    nbformat.write(nb, os.environ["KEEP"])
    print(f"executed copy, with its charts: {os.environ['KEEP']}")
print(f"notebooks/capacity.ipynb: {len(nb.cells)} cells ran without error")
PY
