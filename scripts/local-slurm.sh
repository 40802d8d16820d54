#!/usr/bin/env bash
# A real single-node Slurm cluster with accounting on this machine, for geryon's
# Slurm tests and for trying run-slurm by hand.
#
#   scripts/local-slurm.sh start    install what is missing (root), configure, start
#                                   every daemon, wait until the node is idle and
#                                   sacct answers; a re-run when all is up takes < 2 s
#   scripts/local-slurm.sh status   one line per daemon: running (pid) or stopped
#   scripts/local-slurm.sh stop     stop the daemons this script starts
#
# Daemons (no systemd needed): munged, mariadbd, slurmdbd, slurmctld, slurmd.
# Facts behind the settings: /work/shared/notes/slurm-local.md (the project's notes).
set -euo pipefail

readonly PACKAGES=(slurmctld slurmd slurm-client munge slurmdbd mariadb-server)
readonly CLUSTER=geryon
readonly CONF_DIR=/etc/slurm
readonly STATE_DIR=/var/lib/slurm
readonly LOG_DIR=/var/log/slurm
readonly DB_NAME=slurm_acct_db
readonly WAIT_SEC=${GERYON_SLURM_WAIT_SEC:-60}

# name:pidfile:comm — comm is what /proc/<pid>/comm must say for the pid to count.
readonly DAEMONS=(
  "munged:/run/munge/munged.pid:munged"
  "mariadbd:/run/mysqld/mysqld.pid:mariadbd"
  "slurmdbd:/run/slurmdbd.pid:slurmdbd"
  "slurmctld:/run/slurmctld.pid:slurmctld"
  "slurmd:/run/slurmd.pid:slurmd"
)

say() { echo "local-slurm: $*" >&2; }
die() { say "error: $*"; exit 1; }

# ---------------------------------------------------------------- daemon state

# The pid of a running daemon, or nothing. A pid file whose process is gone or is
# another program (daemons leave stale files in /run when they die) does not count.
daemon_pid() {
  local entry pidfile comm pid
  entry=$(daemon_entry "$1")
  pidfile=$(cut -d: -f2 <<<"$entry")
  comm=$(cut -d: -f3 <<<"$entry")
  [ -r "$pidfile" ] || return 0
  pid=$(tr -dc '0-9' <"$pidfile")
  [ -n "$pid" ] || return 0
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ]; then
    echo "$pid"
  fi
}

daemon_entry() {
  local entry
  for entry in "${DAEMONS[@]}"; do
    if [ "${entry%%:*}" = "$1" ]; then
      echo "$entry"
      return 0
    fi
  done
  die "unknown daemon $1"
}

is_running() { [ -n "$(daemon_pid "$1")" ]; }

drop_stale_pidfile() {
  local pidfile
  pidfile=$(daemon_entry "$1" | cut -d: -f2)
  if [ -e "$pidfile" ] && ! is_running "$1"; then
    say "removing stale pid file $pidfile"
    rm -f "$pidfile"
  fi
}

# Poll a command until it succeeds, at most WAIT_SEC seconds.
wait_for() {
  local what=$1 log=$2
  shift 2
  local deadline=$((SECONDS + WAIT_SEC))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "$what not ready after ${WAIT_SEC}s; see $log"
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------- installation

install_packages() {
  local missing=() pkg
  for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
      missing+=("$pkg")
    fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run this script as root"
  say "installing ${missing[*]}"
  # The packages try to start their services; without systemd that fails harmlessly.
  export DEBIAN_FRONTEND=noninteractive
  local apt_log=/var/log/geryon-local-slurm-apt.log
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"; } >"$apt_log" 2>&1; then
    tail -n 20 "$apt_log" >&2
    die "apt-get install ${missing[*]} failed; full output in $apt_log"
  fi
}

ensure_users_and_dirs() {
  id slurm >/dev/null 2>&1 || useradd --system --no-create-home --shell /bin/false slurm
  install -d -o slurm -g slurm -m 755 "$STATE_DIR" "$STATE_DIR/slurmctld" \
    "$STATE_DIR/slurmd" "$LOG_DIR"
  install -d -o munge -g munge -m 755 /run/munge
  install -d -o mysql -g mysql -m 755 /run/mysqld
  install -d -m 755 "$CONF_DIR"
}

# ---------------------------------------------------------------- configuration

# Replace a file only when its content changes; report whether it did (exit 0).
replace_if_changed() {
  local target=$1 mode=$2 owner=$3 tmp
  tmp=$(mktemp "$target.XXXXXX")
  cat >"$tmp"
  if [ -f "$target" ] && cmp -s "$tmp" "$target"; then
    rm -f "$tmp"
    return 1
  fi
  chmod "$mode" "$tmp"
  chown "$owner" "$tmp"
  mv -f "$tmp" "$target"
  say "wrote $target"
  return 0
}

node_hardware() {
  # `slurmd -C` prints e.g. "NodeName=x CPUs=2 Boards=1 ... RealMemory=24105".
  local line cpus mem
  line=$(slurmd -C | head -n 1)
  cpus=$(grep -o 'CPUs=[0-9]*' <<<"$line" | cut -d= -f2)
  mem=$(grep -o 'RealMemory=[0-9]*' <<<"$line" | cut -d= -f2)
  [ -n "$cpus" ] && [ -n "$mem" ] || die "could not read CPUs/RealMemory from slurmd -C"
  echo "CPUs=$cpus RealMemory=$mem"
}

write_slurm_conf() {
  local hardware
  hardware=$(node_hardware)
  # task/affinity: the plugin runs `srun --cpu-bind=q`, which task/none rejects.
  # DefMemPerCPU: without it every job gets the whole node's memory and runs alone.
  # KillWait/OverTimeLimit: a job over its time limit is killed promptly (tests).
  replace_if_changed "$CONF_DIR/slurm.conf" 644 root:root <<EOF
# Written by geryon's scripts/local-slurm.sh; rewritten on start.
ClusterName=$CLUSTER
SlurmctldHost=localhost
AuthType=auth/munge
CryptoType=crypto/munge
SlurmUser=slurm
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=$STATE_DIR/slurmctld
SlurmdSpoolDir=$STATE_DIR/slurmd
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
MailProg=/bin/true
KillWait=5
OverTimeLimit=0
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoreFlags=job_comment
NodeName=localhost NodeAddr=127.0.0.1 $hardware State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP DefMemPerCPU=1000
EOF
}

# The database password is made once and kept in slurmdbd.conf.
db_password() {
  local conf=$CONF_DIR/slurmdbd.conf
  if [ -r "$conf" ] && grep -q '^StoragePass=' "$conf"; then
    grep '^StoragePass=' "$conf" | head -n 1 | cut -d= -f2-
  else
    od -An -N12 -tx1 /dev/urandom | tr -d ' \n'
  fi
}

write_slurmdbd_conf() {
  local password=$1
  replace_if_changed "$CONF_DIR/slurmdbd.conf" 600 slurm:slurm <<EOF
# Written by geryon's scripts/local-slurm.sh.
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
PidFile=/run/slurmdbd.pid
LogFile=$LOG_DIR/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$password
StorageLoc=$DB_NAME
EOF
}

# ---------------------------------------------------------------- starting

start_munge() {
  if is_running munged; then return 0; fi
  drop_stale_pidfile munged
  [ -f /etc/munge/munge.key ] || die "/etc/munge/munge.key is missing (reinstall munge)"
  say "starting munged"
  runuser -u munge -- /usr/sbin/munged
  wait_for "munge" /var/log/munge/munged.log sh -c 'munge -n | unmunge'
}

start_mariadb() {
  if is_running mariadbd; then return 0; fi
  drop_stale_pidfile mariadbd
  if [ ! -d /var/lib/mysql/mysql ]; then
    say "initialising the MariaDB data directory"
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  fi
  say "starting mariadbd"
  setsid -f /usr/sbin/mariadbd --user=mysql --pid-file=/run/mysqld/mysqld.pid \
    >>/var/log/slurm/mariadbd.log 2>&1 </dev/null
  wait_for "MariaDB" /var/log/slurm/mariadbd.log mariadb-admin ping
}

ensure_db_user() {
  local password=$1
  mariadb -u root <<EOF
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$password';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$password';
GRANT ALL ON \`$DB_NAME\`.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
EOF
}

start_slurmdbd() {
  if is_running slurmdbd; then return 0; fi
  drop_stale_pidfile slurmdbd
  say "starting slurmdbd"
  /usr/sbin/slurmdbd
  wait_for "slurmdbd" "$LOG_DIR/slurmdbd.log" sacctmgr -n show cluster
}

start_slurmctld() {
  if is_running slurmctld; then return 0; fi
  drop_stale_pidfile slurmctld
  say "starting slurmctld"
  /usr/sbin/slurmctld
  wait_for "slurmctld" "$LOG_DIR/slurmctld.log" scontrol ping
}

start_slurmd() {
  if is_running slurmd; then return 0; fi
  drop_stale_pidfile slurmd
  say "starting slurmd"
  /usr/sbin/slurmd -N localhost
}

node_usable() {
  local state
  state=$(sinfo -h -N -n localhost -o '%t' 2>/dev/null | head -n 1)
  case "$state" in
    idle | mix | alloc | comp) return 0 ;;
    *) return 1 ;;
  esac
}

# A node left drained or down by an earlier crash is put back to service.
resume_node() {
  local state
  state=$(sinfo -h -N -n localhost -o '%t' 2>/dev/null | head -n 1)
  case "$state" in
    drain* | down* | drng*)
      say "node is $state; resuming it"
      scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true
      ;;
  esac
}

all_up() {
  local entry
  for entry in "${DAEMONS[@]}"; do
    is_running "${entry%%:*}" || return 1
  done
  node_usable && sacct -n -X -S now >/dev/null 2>&1
}

restart_slurm_daemons() {
  say "configuration changed; restarting the Slurm daemons"
  stop_daemon slurmd
  stop_daemon slurmctld
  stop_daemon slurmdbd
}

cmd_start() {
  install_packages
  [ "$(id -u)" = 0 ] || {
    all_up && exit 0
    die "the cluster is not up and starting it needs root"
  }
  ensure_users_and_dirs
  local password changed=0
  password=$(db_password)
  write_slurm_conf && changed=1
  write_slurmdbd_conf "$password" && changed=1
  if [ "$changed" = 0 ] && all_up; then
    return 0
  fi
  [ "$changed" = 1 ] && restart_slurm_daemons
  start_munge
  start_mariadb
  ensure_db_user "$password"
  start_slurmdbd
  start_slurmctld
  start_slurmd
  wait_for "node localhost" "$LOG_DIR/slurmd.log" node_usable_or_resume
  wait_for "sacct" "$LOG_DIR/slurmdbd.log" sacct -n -X -S now
  say "cluster '$CLUSTER' is up: $(sinfo -h -o '%P %a %D %t')"
}

node_usable_or_resume() {
  node_usable && return 0
  resume_node
  return 1
}

# ---------------------------------------------------------------- stop / status

stop_daemon() {
  local name=$1 pid deadline
  pid=$(daemon_pid "$name")
  if [ -z "$pid" ]; then
    drop_stale_pidfile "$name"
    return 0
  fi
  say "stopping $name ($pid)"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 20))
  while [ -d "/proc/$pid" ] && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.2
  done
  if [ -d "/proc/$pid" ]; then
    say "$name ($pid) ignored SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  drop_stale_pidfile "$name"
}

cmd_stop() {
  local i
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
    stop_daemon "${DAEMONS[$i]%%:*}"
  done
}

cmd_status() {
  local entry name pid down=0
  for entry in "${DAEMONS[@]}"; do
    name=${entry%%:*}
    pid=$(daemon_pid "$name")
    if [ -n "$pid" ]; then
      printf '%-10s running (pid %s)\n' "$name" "$pid"
    else
      printf '%-10s stopped\n' "$name"
      down=1
    fi
  done
  if [ "$down" = 0 ]; then
    printf '%-10s %s\n' "node" "$(sinfo -h -N -n localhost -o '%t' 2>/dev/null || echo '?')"
  fi
  return "$down"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
