#!/usr/bin/env bash
# A real Slurm array over the four guides, merged and compared with one
# machine's run: the outputs must be byte-identical (`diff -r`).
#
# Installs slurm-wlm and munge from Debian's packages if missing, starts a
# one-node cluster in a temporary folder (munged, slurmctld, slurmd, all on
# this machine, as root, without cgroups: ProctrackType=proctrack/linuxproc,
# TaskPlugin=task/none), submits a 3-task `sbatch --wait --array`, runs
# `simulate merge`, and stops every daemon it started by its pid.
#
# Usage: bash validation/cluster/slurm.sh [SIMULATE]
#   SIMULATE: the simulate binary (default: target/release/simulate, built
#   if missing). Exit status 0 when the merged outputs equal the unsharded.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
simulate=${1:-$repo/target/release/simulate}
if [[ ! -x $simulate ]]; then
  cargo build --release --locked
fi
simulate=$(realpath "$simulate")

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    # Wait for each daemon we started to end, a few seconds at most.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [[ $status -ne 0 ]]; then
    for log in "$tmp"/*.log; do
      [[ -f $log ]] && { echo "== $log"; tail -n 30 "$log"; }
    done
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT

# munge: its own key, socket and state in the temporary folder.
mkdir -p "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$tmp/munge/munge.key"
chmod 0700 "$tmp/munge"
munged --force --foreground --socket="$tmp/munge/munge.socket" \
  --key-file="$tmp/munge/munge.key" --pid-file="$tmp/munge/munged.pid" \
  --seed-file="$tmp/munge/munged.seed" --log-file="$tmp/munged.log" 2>>"$tmp/munged.log" &
pids+=($!)

node=capsimnode
cpus=$(nproc)
mkdir -p "$tmp/state" "$tmp/spool"
export SLURM_CONF="$tmp/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=capsim
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$((20000 + RANDOM % 20000))
SlurmdPort=$((40000 + RANDOM % 20000))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
NodeName=$node NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=capsim Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF

for _ in $(seq 50); do [[ -S $tmp/munge/munge.socket ]] && break; sleep 0.1; done
# In the foreground (-D) so that $! is the daemon itself; its messages go
# to its log, shown if anything fails.
slurmctld -D -i -f "$SLURM_CONF" 2>>"$tmp/slurmctld.log" &
pids+=($!)
slurmd -D -N "$node" -f "$SLURM_CONF" 2>>"$tmp/slurmd.log" &
pids+=($!)
for i in $(seq 100); do
  if sinfo -h -N -o '%T' 2>/dev/null | grep -E '^idle' >/dev/null; then break; fi
  [[ $i -eq 100 ]] && { echo "slurm: the node did not come up"; exit 1; }
  sleep 0.2
done
echo "slurm: one-node cluster up ($(sinfo -h -o '%P %D %T'))"

guides=(scenarios/gigchain.toml scenarios/fixia.toml scenarios/fintech.toml scenarios/ferreteria.toml)
# The guides' point runs: a study's designs (their ranges) are not spread over shards yet.
point=(--designs 0)
cat >"$tmp/capsim.sbatch" <<JOB
#!/usr/bin/env bash
#SBATCH --job-name=capsim
#SBATCH --array=1-3
#SBATCH --cpus-per-task=1
#SBATCH --output=$tmp/task-%a.log
#SBATCH --chdir=$repo
exec "$simulate" --shard auto --quiet ${point[*]} ${guides[*]} --out "$tmp/sharded"
JOB
started=$(date +%s)
sbatch --wait "$tmp/capsim.sbatch"
echo "slurm: 3-task array done in $(( $(date +%s) - started )) s"
ls "$tmp/sharded/shards"
"$simulate" merge "$tmp/sharded" --quiet
"$simulate" --quiet "${point[@]}" "${guides[@]}" --out "$tmp/single"
diff -r -x shards "$tmp/single" "$tmp/sharded"
echo "slurm: merged outputs of a 3-task array are byte-identical to one machine's"
