#!/usr/bin/env bash
# A private single-node Slurm for Crunch Guard's Slurm tests and for trying `dispatch-slurm` on a
# laptop (Debian/Ubuntu, as root; no systemd, no cgroups needed).
#
#   src/ci/slurm.sh start WORKDIR   install slurm-wlm + munge if missing, configure, start munged,
#                                   slurmctld and slurmd, wait until the node is idle and a trivial
#                                   job has run; prints the environment to use (as `env` does)
#   src/ci/slurm.sh env WORKDIR     prints `export SLURM_CONF=… CRUNCHGUARD_SLURM=1` for eval
#   src/ci/slurm.sh stop WORKDIR    stops the three daemons started in WORKDIR
#
# Everything lives under WORKDIR (configuration, munge key and socket, state, spool, logs, pid
# files); the ports are picked free at start. Nothing in /etc is changed, so it does not disturb a
# Slurm already installed on the machine.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|env WORKDIR" >&2
  exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
dir=$2
case "$dir" in
  /*) ;;
  *) dir="$(pwd)/$dir" ;;
esac
conf="$dir/slurm.conf"

log() { echo "slurm.sh: $*" >&2; }

print_env() {
  echo "export SLURM_CONF=$conf"
  echo "export CRUNCHGUARD_SLURM=1"
}

install_if_missing() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null \
      && command -v sbatch >/dev/null; then
    return
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "slurm-wlm and munge are missing; install them (apt-get install slurm-wlm munge) as root"
    exit 1
  fi
  log "installing slurm-wlm and munge"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  # Below the kernel's ephemeral range: a port there can be taken at any moment by an outgoing
  # connection, which the listen check below cannot see (seen once: slurmd's bind failed).
  local p low
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$low" -gt 12000 ] 2>/dev/null || low=32768
  for _ in $(seq 1 200); do
    p=$((10000 + RANDOM % (low - 10002)))
    if port_free "$p" && port_free "$((p + 1))"; then
      echo "$p"
      return
    fi
  done
  log "no free port found"
  exit 1
}

pid_alive() {
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

write_conf() {
  local node ctl_port d_port cpus mem
  node=$(hostname -s)
  ctl_port=$(free_port)
  d_port=$((ctl_port + 1))
  # More CPUs and memory than the machine has (config_overrides): the example runner's jobs are
  # light, and the tests run several at once.
  cpus=16
  mem=32000
  cat >"$conf" <<EOF
# Written by src/ci/slurm.sh: a private single-node Slurm.
ClusterName=crunchguard
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket.2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=30
DefMemPerCPU=256
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
PlugStackConfig=$dir/plugstack.conf
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  : >"$dir/plugstack.conf"
}

start_munge() {
  local m="$dir/munge"
  mkdir -p "$m"
  chmod 0700 "$m"
  if [ ! -f "$m/munge.key" ]; then
    dd if=/dev/urandom of="$m/munge.key" bs=1024 count=1 status=none
    chmod 0400 "$m/munge.key"
  fi
  if pid_alive "$m/munged.pid"; then
    return
  fi
  munged --force --socket="$m/munge.socket.2" --key-file="$m/munge.key" --pid-file="$m/munged.pid" \
    --log-file="$m/munged.log" --seed-file="$m/munged.seed"
}

wait_until() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      log "timed out after ${seconds}s waiting for $what; logs in $dir/log"
      tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.2
  done
}

node_idle() {
  [ "$(SLURM_CONF=$conf sinfo -h -N -o %T 2>/dev/null | head -n 1)" = idle ]
}

check_job=""

# Submits a trivial job once, then succeeds when it has completed (sbatch --wait polls too slowly).
trivial_job_done() {
  if [ -z "$check_job" ]; then
    check_job=$(SLURM_CONF=$conf timeout 10 sbatch --parsable --job-name=slurm-sh-check --output=/dev/null --wrap=true) || return 1
  fi
  SLURM_CONF=$conf timeout 10 scontrol show job -o "$check_job" 2>/dev/null | grep -q 'JobState=COMPLETED'
}

start() {
  install_if_missing
  mkdir -p "$dir"/{state,spool,log,run}
  local t0=$SECONDS
  if pid_alive "$dir/run/slurmctld.pid" && pid_alive "$dir/run/slurmd.pid"; then
    log "already running in $dir"
  else
    write_conf
    start_munge
    SLURM_CONF=$conf slurmctld -f "$conf" -i
    SLURM_CONF=$conf slurmd -f "$conf"
  fi
  wait_until "the node to be idle" 60 node_idle
  wait_until "a trivial job to run" 60 trivial_job_done
  log "Slurm is up in $dir ($((SECONDS - t0))s)"
  print_env
}

stop_pid() {
  local f=$1
  if pid_alive "$f"; then
    local pid
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || return 0
      sleep 0.25
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

stop() {
  if [ -f "$conf" ]; then
    # jobs still running would outlive slurmd (linuxproc does not reap them): cancel them first
    SLURM_CONF=$conf timeout 10 scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
  fi
  stop_pid "$dir/run/slurmd.pid"
  stop_pid "$dir/run/slurmctld.pid"
  stop_pid "$dir/munge/munged.pid"
  log "stopped Slurm in $dir"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  *) usage ;;
esac
