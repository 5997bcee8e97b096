# A throwaway single-node SLURM cluster on this machine, for tests/cluster/test_slurm.py (see docs/slurm.md).
#
#   source .ci/start_slurm.sh     # installs Debian's SLURM + MUNGE if missing, starts the daemons
#   ...                           # sbatch/squeue/scancel now talk to it; SNNCONV_SLURM=1 is exported
#   stop_slurm                    # cancels its jobs, stops the daemons it started (by PID)
#
# Sourced by .ci/run (which traps stop_slurm on exit); a developer can source it too. Needs root (apt,
# daemons) and Debian/Ubuntu. It writes /etc/slurm/slurm.conf and gres.conf (the jobs' own srun calls
# run with a scrubbed SLURM_* environment, so SLURM_CONF alone does not reach them), but refuses to
# replace such files that it did not write; state, logs and PID files live in $SNNCONV_SLURM_DIR
# (default /tmp/snnconv-slurm). The node is this machine (NodeAddr=127.0.0.1) with all its CPUs,
# ~90 % of its memory and one fake GPU (gres gpu:1 on /dev/null), so GPU requests are scheduled as on
# a GPU partition.
# Partitions: debug (default) and gpu, both on the one node. No slurmdbd, hence no sacct: job status
# comes from squeue, which keeps finished jobs for MinJobAge=300 s. Sourcing it again reuses running
# daemons. On failure it prints why and returns 0 without exporting SNNCONV_SLURM, so the rest of CI
# still runs and tests/cluster/test_slurm.py reports the missing cluster (a failure when CI=true).

_snnconv_slurm_log() { echo "[start_slurm] $*" >&2; }

_snnconv_slurm_install() {
  local missing=0 bin
  for bin in sbatch squeue scancel sinfo slurmctld slurmd munged; do
    command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || missing=1
  done
  [ "$missing" = 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    _snnconv_slurm_log "SLURM is not installed and installing it needs root"
    return 1
  fi
  local pkgs="slurm-wlm slurmctld slurmd slurm-client munge" apt_log="$SNNCONV_SLURM_DIR/apt.log"
  local apt=(apt-get -o DPkg::Lock::Timeout=600 -y -qq --no-install-recommends)
  _snnconv_slurm_log "installing $pkgs (log: $apt_log)"
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install $pkgs >"$apt_log" 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq update >>"$apt_log" 2>&1
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install $pkgs >>"$apt_log" 2>&1 || {
      _snnconv_slurm_log "apt-get install failed; last lines of $apt_log:"
      tail -n 5 "$apt_log" >&2
      return 1
    }
  fi
}

_SNNCONV_SLURM_MARK="# Written by .ci/start_slurm.sh"

_snnconv_slurm_write_conf() {
  local d=$SNNCONV_SLURM_DIR etc=/etc/slurm host cpus mem_mb f
  for f in slurm.conf gres.conf; do
    if [ -e "$etc/$f" ] && ! head -n 1 "$etc/$f" | grep -qF "$_SNNCONV_SLURM_MARK"; then
      _snnconv_slurm_log "$etc/$f exists and was not written by this script: not touching a real SLURM setup"
      return 1
    fi
  done
  host=$(hostname -s)
  cpus=$(nproc)
  mem_mb=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
  mkdir -p "$etc" "$d/state" "$d/spool" "$d/log" || return 1
  cat >"$etc/slurm.conf" <<EOF || return 1
$_SNNCONV_SLURM_MARK: a single-node test cluster (container without cgroup delegation).
ClusterName=snnconv
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=${SNNCONV_SLURMCTLD_PORT:-6817}
SlurmdPort=${SNNCONV_SLURMD_PORT:-6818}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=300
DefMemPerCPU=1000
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
GresTypes=gpu
NodeName=snnconv NodeHostname=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=snnconv Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=snnconv MaxTime=INFINITE State=UP
EOF
  cat >"$etc/gres.conf" <<EOF || return 1
$_SNNCONV_SLURM_MARK: a fake GPU, scheduled like a real one, backed by nothing.
NodeName=snnconv Name=gpu File=/dev/null Count=1
EOF
}

_snnconv_slurm_alive() {  # a PID file whose process runs
  [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

_snnconv_slurm_start() {
  local d=$SNNCONV_SLURM_DIR i state
  mkdir -p "$d" || return 1
  _snnconv_slurm_install || return 1
  export PATH="$PATH:/usr/sbin"
  export SLURM_CONF=/etc/slurm/slurm.conf

  # MUNGE (authentication between the SLURM commands and daemons); reuse a running one.
  if ! (munge -n | unmunge) >/dev/null 2>&1; then
    [ -s /etc/munge/munge.key ] || { mungekey --create --keyfile /etc/munge/munge.key 2>/dev/null ||
      create-munge-key -f >/dev/null 2>&1; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null
    if command -v runuser >/dev/null 2>&1 && id munge >/dev/null 2>&1; then
      runuser -u munge -- munged --pid-file=/run/munge/munged.pid || return 1
    else
      munged --force --pid-file=/run/munge/munged.pid || return 1
    fi
    cp /run/munge/munged.pid "$d/munged.pid"  # ours: stop_slurm stops it
    for i in $(seq 50); do (munge -n | unmunge) >/dev/null 2>&1 && break; sleep 0.1; done
    (munge -n | unmunge) >/dev/null 2>&1 || { _snnconv_slurm_log "munged did not start"; return 1; }
  fi

  if _snnconv_slurm_alive "$d/slurmctld.pid" && _snnconv_slurm_alive "$d/slurmd.pid"; then
    _snnconv_slurm_log "reusing the running cluster in $d"
  else
    _snnconv_slurm_write_conf || return 1
    slurmctld -c -f "$SLURM_CONF" || { _snnconv_slurm_log "slurmctld failed: see $d/log/slurmctld.log"; return 1; }
    slurmd -N snnconv -f "$SLURM_CONF" || { _snnconv_slurm_log "slurmd failed: see $d/log/slurmd.log"; return 1; }
  fi

  local deadline=$((SECONDS + 30))  # for the node to register
  while :; do
    state=$(timeout 5 sinfo -h -N -n snnconv -o %t 2>/dev/null | head -n 1)
    case "$state" in idle|mix|alloc) break ;; esac
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.1
  done
  case "$state" in
    idle|mix|alloc) ;;
    *) _snnconv_slurm_log "node not ready (state '${state:-none}'): see $d/log/"; return 1 ;;
  esac
  export SNNCONV_SLURM=1
  _snnconv_slurm_log "SLURM $(sinfo -V | awk '{print $2}') up: node snnconv ($(nproc) CPUs, gpu:1), partitions debug*/gpu, SLURM_CONF=$SLURM_CONF"
}

stop_slurm() {
  local d=${SNNCONV_SLURM_DIR:-/tmp/snnconv-slurm} f pid i
  if [ -s "$d/slurmctld.pid" ] && command -v scancel >/dev/null 2>&1; then
    timeout 10 scancel --user="$(id -un)" 2>/dev/null || true  # the jobs of this throwaway cluster
    sleep 1
  fi
  for f in slurmd slurmctld munged; do
    [ -s "$d/$f.pid" ] || continue
    pid=$(cat "$d/$f.pid")
    if kill "$pid" 2>/dev/null; then
      for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$d/$f.pid"
  done
  unset SNNCONV_SLURM
  return 0
}

SNNCONV_SLURM_DIR=${SNNCONV_SLURM_DIR:-/tmp/snnconv-slurm}
export SNNCONV_SLURM_DIR
_snnconv_slurm_t0=$(date +%s.%N)
if _snnconv_slurm_start; then
  _snnconv_slurm_log "ready in $(awk -v a="$_snnconv_slurm_t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
else
  _snnconv_slurm_log "WARNING: no SLURM cluster; tests/cluster/test_slurm.py will skip (or fail when CI=true)"
fi
unset _snnconv_slurm_t0
