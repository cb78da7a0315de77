#!/usr/bin/env bash
# A real single-node SLURM cluster (slurmctld + slurmd + munged) on this machine, for regression tests.
#
#   bash scripts/slurm-local.sh start    # install if needed, start the daemons, wait until the node is idle
#   bash scripts/slurm-local.sh status   # sinfo
#   bash scripts/slurm-local.sh stop     # stop slurmd, slurmctld (and munged if this script started it)
#
# Installs Debian's `slurm-wlm` and `munge` with apt-get when slurmctld/slurmd/munged/sbatch are missing,
# creates /etc/munge/munge.key if missing, and starts the daemons directly (no systemd). They run as root
# (munged as user munge), so a non-root caller is re-run under sudo.
# State (slurm.conf, logs, pid files, spool, job state) goes to ${SQUEEZEFLOW_SLURM_DIR:-/tmp/squeezeflow-slurm}.
# The node is this machine's short hostname, addressed as 127.0.0.1; one partition `debug` (default),
# select/cons_tres + CR_CPU so 1-CPU array tasks run side by side; no cgroups, no accounting.
# `start` prints `export SLURM_CONF=<dir>/slurm.conf` on stdout (everything else goes to stderr), so:
#
#   eval "$(bash scripts/slurm-local.sh start)"       # or: export SLURM_CONF=/tmp/squeezeflow-slurm/slurm.conf
#   sbatch --wait --array=1-2 --output="$SLURM_DIR/out-%A_%a.txt" --wrap 'echo task $SLURM_ARRAY_TASK_ID'
#   bash scripts/slurm-local.sh stop
#
# Both start and stop are idempotent; status exits 1 when slurmctld is not running.
# Note: `sbatch --wait` polls the controller after 2 s and then every ~10 s; to wait tighter, poll
# `squeue -h -j JOBID` (accounting is off, so sacct does not work) or use srun.
set -euo pipefail

DIR="${SQUEEZEFLOW_SLURM_DIR:-/tmp/squeezeflow-slurm}"
CONF="$DIR/slurm.conf"
NODE="$(hostname -s)"
export SLURM_CONF="$CONF"
log() { echo "slurm-local: $*" >&2; }
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
munge_ok() { command -v munge >/dev/null 2>&1 && munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
die() {
  log "ERROR: $*"
  for f in "$DIR/slurmctld.log" "$DIR/slurmd.log" "$DIR/munged.log"; do
    [ -s "$f" ] && { echo "--- tail $f" >&2; tail -n 20 "$f" >&2; }
  done
  exit 1
}

if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { log "need root (or sudo): slurmd runs as root"; exit 1; }
  exec sudo -E SQUEEZEFLOW_SLURM_DIR="$DIR" bash "$0" "$@"
fi

install_pkgs() {
  local need=()
  for c in slurmctld slurmd sbatch; do command -v $c >/dev/null 2>&1 || need=(slurm-wlm); done
  command -v munged >/dev/null 2>&1 || need+=(munge)
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    log "creating /etc/munge/munge.key"
    install -d -o munge -g munge -m 0700 /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
  fi
  munge_ok && return 0
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
  runuser -u munge -- munged --force >"$DIR/munged.log" 2>&1 || die "munged failed to start"
  cp /run/munge/munged.pid "$DIR/munged.pid"   # marks munged as ours, so stop ends it
  for _ in $(seq 50); do munge_ok && return 0; sleep 0.1; done
  die "munged does not answer"
}

write_conf() {
  local cpus mem
  cpus="$(nproc)"
  mem="$(free -m | awk '/^Mem:/ {print int($2 * 0.9)}')"
  mkdir -p "$DIR/state" "$DIR/spool"
  cat >"$CONF.new" <<EOF
# Written by scripts/slurm-local.sh: single-node test cluster, everything under $DIR
ClusterName=squeezeflow
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MailProg=/bin/true
ReturnToService=2
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$CONF.new" "$CONF"
}

wait_idle() {
  local st
  for _ in $(seq 60); do
    st="$(sinfo -h -n "$NODE" -o %t 2>/dev/null || true)"
    case "$st" in
      idle|mix|alloc|comp) log "node $NODE is $st"; return 0 ;;
      down|drain|drng|fail) scontrol update nodename="$NODE" state=resume 2>/dev/null || true ;;
    esac
    sleep 0.5
  done
  sinfo >&2 || true
  die "node $NODE not idle after 30 s (state: '${st:-none}')"
}

cmd_start() {
  install_pkgs
  mkdir -p "$DIR"
  start_munge
  write_conf
  if ! pid_alive "$DIR/slurmctld.pid"; then
    slurmctld -c -f "$CONF" || die "slurmctld failed to start"
  fi
  for _ in $(seq 50); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
  scontrol ping 2>/dev/null | grep -q UP || die "slurmctld does not answer"
  if ! pid_alive "$DIR/slurmd.pid"; then
    slurmd -f "$CONF" || die "slurmd failed to start"
  fi
  wait_idle
  echo "export SLURM_CONF=$CONF"
}

stop_pid() {  # stop_pid NAME PIDFILE
  pid_alive "$2" || { rm -f "$2"; return 0; }; local pid; pid="$(cat "$2")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$2"
  log "stopped $1 ($pid)"
}

cmd_stop() {
  stop_pid slurmd "$DIR/slurmd.pid"
  stop_pid slurmctld "$DIR/slurmctld.pid"
  stop_pid munged "$DIR/munged.pid"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status)
    pid_alive "$DIR/slurmctld.pid" || { log "not running (no live slurmctld pid in $DIR)"; exit 1; }
    sinfo ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
