#!/bin/sh
# Stand-in for systemctl (and timedatectl) inside the rolling-update lab's hosts, which have no systemd: the lab
# bind-mounts this file over /usr/bin/systemctl and /usr/bin/timedatectl. It runs the REAL daemons the generated
# scripts manage (haproxy, keepalived, named, PostgreSQL clusters as postgresql@<version>-<cluster>, etcd, patroni),
# with their own reload mechanisms, so a rolling update exercises what a real host would do: HAProxy's seamless
# master-worker reload (SIGUSR2), Keepalived's and Patroni's SIGHUP, `rndc reload`, `pg_ctlcluster reload`.
#
# Every call is appended to $PKH_STANDIN_DIR/journal.log as "<epoch ms> <host> <program> <arguments>", the only way a
# test can tell which host was touched when. Daemon output goes to $PKH_STANDIN_DIR/<unit>.log (the PostgreSQL
# server's log too, instead of /var/log/postgresql).
# timedatectl is a logged no-op: a script must not change the real machine's clock or time zone.
set -u

STATE=${PKH_STANDIN_DIR:-/run/pkh-systemctl}
PROGRAM=${0##*/}
mkdir -p "$STATE/enabled"
printf '%s %s %s %s\n' "$(date +%s%3N)" "$(uname -n)" "$PROGRAM" "$*" >>"$STATE/journal.log"

if [ "$PROGRAM" = timedatectl ]; then
  exit 0
fi

quiet=false
now=false
property=
value_only=false

say() {
  [ "$quiet" = true ] || printf '%s\n' "$*"
}

fail() {
  printf '%s\n' "$*" >&2
}

# The unit name systemctl would print: a name without a type is a service.
full_name() {
  case "$1" in
    *.service | *.socket | *.target | *.timer | *.mount | *.path) echo "$1" ;;
    *) echo "$1.service" ;;
  esac
}

# The unit's canonical name (haproxy, keepalived, named, postgresql@<version>-<cluster>, etcd or patroni),
# or nothing when this stand-in does not know it.
unit_of() {
  case "${1%.service}" in
    haproxy) echo haproxy ;;
    keepalived) echo keepalived ;;
    # bind9 is only an alias of named on Debian 12 (systemctl enable refuses it; see enable below).
    named | bind9) echo named ;;
    # Debian's template unit: the instance is "<version>-<cluster>" (the version has no dash, the cluster may).
    postgresql@?*-?*)
      instance=${1%.service}
      instance=${instance#postgresql@}
      case "${instance%%-*}" in
        *[!0-9.]*) ;;
        *) if command -v pg_ctlcluster >/dev/null; then echo "postgresql@$instance"; fi ;;
      esac
      ;;
    etcd) if command -v etcd >/dev/null; then echo etcd; fi ;;
    patroni) if [ -x /usr/bin/patroni ]; then echo patroni; fi ;;
    # The metrics exporters every host runs (node_exporter) and DNS servers add (bind_exporter), when installed.
    prometheus-node-exporter | prometheus-bind-exporter) if [ -x "/usr/bin/${1%.service}" ]; then echo "${1%.service}"; fi ;;
    # The project's own timers (textfile metrics): active or not, nothing runs (their schedule is minutes away).
    pkh-*.timer) echo "$1" ;;
    *) ;;
  esac
}

# Sets pg_version and pg_cluster from a postgresql@<version>-<cluster> unit.
pg_instance() {
  pg_version=${1#postgresql@}
  pg_version=${pg_version%%-*}
  pg_cluster=${1#postgresql@*-}
}

# A column of the cluster's pg_lsclusters line (5: owner, 6: data directory); empty when there is no such cluster.
pg_column() {
  pg_instance "$1"
  pg_lsclusters -h "$pg_version" "$pg_cluster" 2>/dev/null | awk -v column="$2" 'NR == 1 { print $column }'
}

# The file holding a unit's main process id: HAProxy's master, Keepalived's parent, named, the postmaster (its own
# postmaster.pid in the data directory), etcd and patroni (the process the stand-in started).
pid_file() {
  case "$1" in
    haproxy) echo /run/haproxy.pid ;;
    keepalived) echo /run/keepalived.pid ;;
    named) echo "$STATE/named.pid" ;;
    postgresql@*)
      data=$(pg_column "$1" 6)
      if [ -n "$data" ]; then echo "$data/postmaster.pid"; fi
      ;;
    etcd | patroni | prometheus-node-exporter | prometheus-bind-exporter) echo "$STATE/$1.pid" ;;
  esac
}

main_pid() {
  file=$(pid_file "$1")
  [ -n "$file" ] && [ -s "$file" ] && head -n 1 "$file"
}

# True when the process exists and is not a zombie (a dead daemon not yet reaped must not count as running).
alive() {
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
  state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null)
  [ -n "$state" ] && [ "$state" != Z ]
}

active() {
  case "$1" in
    *.timer) [ -e "$STATE/$1.active" ] ;;
    *) alive "$(main_pid "$1")" ;;
  esac
}

# Running and serving: named only once it logged "running" since its last start (it loads its zones first), as
# named.service's start returns only then.
# shellcheck disable=SC2317 # called through wait_for
ready() {
  active "$1" || return 1
  case "$1" in
    named) awk '/ --- start$/ { ready = 0 } / running$/ { ready = 1 } END { exit !ready }' "$STATE/named.log" ;;
    *) ;;
  esac
}

# shellcheck disable=SC2317 # called through wait_for
dead() {
  ! alive "$1"
}

# Waits up to about five seconds until a command (a function and its arguments) succeeds; systemd too returns only
# once a unit is up.
wait_for() {
  i=0
  while [ "$i" -lt 50 ]; do
    if "$@"; then
      return 0
    fi
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

# A mark in a unit's log, "<epoch ms> --- <event>", between the daemon's own lines.
log_event() {
  printf '%s --- %s\n' "$(date +%s%3N)" "$2" >>"$STATE/$1.log"
}

haproxy_check() {
  haproxy -c -q -f /etc/haproxy/haproxy.cfg >>"$STATE/haproxy.log" 2>&1
}

# Starts a PostgreSQL cluster as Debian's postgresql@.service does (pg_ctlcluster daemonizes the postmaster and returns
# once it accepts connections), with two differences a lab needs:
# - the server's log goes to the unit's log (pg_ctl's last -l wins over pg_ctlcluster's /var/log/postgresql file,
#   which pg_ctlcluster still creates, empty), when the cluster owner may write it there;
# - the postmaster gets its own IPC namespace and /dev/shm: the hosts share this machine's, where a postmaster killed
#   by the lab's teardown would leave its System V segment and its /dev/shm/PostgreSQL.* segments behind. Both now go
#   with the postmaster's last process (its mount namespace is a copy of the host's: same overlays, same /run).
pg_start() {
  pg_instance "$1"
  log="$STATE/$1.log"
  owner=$(pg_column "$1" 5)
  set -- pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$pg_cluster" start
  if [ -n "$owner" ] && chown "$owner" "$log" 2>/dev/null && runuser -u "$owner" -- test -w "$log" 2>/dev/null; then
    set -- "$@" -- -l "$log"
  fi
  # shellcheck disable=SC2016 # expanded by the inner shell
  unshare --ipc --mount sh -c 'mount -t tmpfs -o mode=1777,nosuid,nodev pkh-shm /dev/shm && exec "$@"' pkh-postgres "$@" \
    </dev/null >>"$log" 2>&1
}

# The EnvironmentFile= lines of a unit's drop-ins, in order (a later file wins, as in systemd; a leading - means optional).
unit_environment_files() {
  for dropin in /etc/systemd/system/"$1".service.d/*.conf; do
    [ -r "$dropin" ] && sed -n 's/^EnvironmentFile=//p' "$dropin"
  done
}

# etcd and patroni as their Debian units run them (etcd.service as Type=exec through the datastore's drop-in, so the
# start does not wait for a quorum; patroni.service as user postgres), with the drop-ins' environment files and
# ExecStartPre.
unit_exec_start() {
  # In a session of its own (setsid), like every daemon of the stand-in: the caller's SSH session ends long before a
  # retried ExecStartPre passes, and its hangup must not end the unit. The environment files are split on purpose.
  # shellcheck disable=SC2016,SC2046
  setsid sh -c '
    unit=$1
    state=$2
    shift 2
    set -a
    for file in "$@"; do
      [ -r "${file#-}" ] && . "${file#-}"
    done
    set +a
    # ExecStartPre= with Restart=on-failure, RestartSec=5s and no start limit: retried until it passes.
    pre=$(cat /etc/systemd/system/"$unit".service.d/*.conf 2>/dev/null | sed -n "s/^ExecStartPre=//p")
    if [ -n "$pre" ]; then
      until sh -c "$pre"; do sleep 5; done
      # systemd reads EnvironmentFile= before each command it runs: a file an ExecStartPre writes reaches ExecStart.
      set -a
      for file in "$@"; do
        [ -r "${file#-}" ] && . "${file#-}"
      done
      set +a
    fi
    case "$unit" in
      etcd) exec etcd ;;
      # The drop-in'"'"'s ExecStart= when it sets one (the datastore runs Patroni through its etcd v3 wrapper).
      patroni)
        start=$(cat /etc/systemd/system/patroni.service.d/*.conf 2>/dev/null | sed -n "s/^ExecStart=//p" | sed "/^\$/d" | tail -n 1)
        exec setpriv --reuid=postgres --regid=postgres --init-groups ${start:-/usr/bin/patroni /etc/patroni/config.yml} ;;
    esac
  ' sh "$1" "$STATE" $(unit_environment_files "$1") </dev/null >>"$STATE/$1.log" 2>&1 &
  echo "$!" >"$STATE/$1.pid"
}

start_unit() {
  active "$1" && return 0
  log_event "$1" start
  case "$1" in
    *.timer)
      : >"$STATE/$1.active"
      return 0
      ;;
    haproxy)
      # As haproxy.service's ExecStartPre: an invalid file fails the start before anything runs.
      haproxy_check || return 1
      mkdir -p /run/haproxy
      # Master-worker, daemonized (HAProxy detaches itself): the master's pid stays the same across reloads.
      if ! haproxy -W -D -p /run/haproxy.pid -f /etc/haproxy/haproxy.cfg </dev/null >>"$STATE/haproxy.log" 2>&1; then
        fail "Job for haproxy.service failed because the control process exited with error code."
        return 1
      fi
      ;;
    keepalived)
      # In the foreground under setsid (detached from the caller's session), so its log reaches a file: daemonized,
      # Keepalived would only log to syslog, which the hosts do not have. It writes its own pid files.
      rm -f /run/keepalived.pid
      setsid keepalived --dont-fork --log-console --log-detail -f /etc/keepalived/keepalived.conf -p /run/keepalived.pid \
        -r /run/keepalived_vrrp.pid -c /run/keepalived_checkers.pid </dev/null >>"$STATE/keepalived.log" 2>&1 &
      ;;
    named)
      user=
      if id -u bind >/dev/null 2>&1; then
        user=bind
        mkdir -p /run/named
        chown bind: /run/named
      fi
      # -g: foreground with the log on stderr (there is no syslog); the stand-in keeps the pid itself.
      setsid named -g ${user:+-u "$user"} -c /etc/bind/named.conf </dev/null >>"$STATE/named.log" 2>&1 &
      echo "$!" >"$STATE/named.pid"
      ;;
    postgresql@*)
      if ! pg_start "$1"; then
        fail "Job for $1.service failed because the control process exited with error code."
        return 1
      fi
      ;;
    etcd | patroni) unit_exec_start "$1" ;;
    prometheus-node-exporter | prometheus-bind-exporter)
      # As their Debian units: /usr/bin/<unit> $ARGS, ARGS from /etc/default/<unit> (split into words on purpose).
      # shellcheck disable=SC2016
      setsid sh -c 'ARGS=; . "/etc/default/$1"; exec "/usr/bin/$1" $ARGS' sh "$1" </dev/null >>"$STATE/$1.log" 2>&1 &
      echo "$!" >"$STATE/$1.pid"
      ;;
  esac
  if ! wait_for ready "$1"; then
    fail "Job for $(full_name "$1") failed because the control process exited with error code."
    return 1
  fi
}

# The ExecStop= lines of a unit's drop-ins, run in order before the stop signal, as systemd runs them for an active
# unit (e.g. Keepalived's VIP handover); their output goes to the unit's log. A failing one does not stop the stop.
unit_exec_stop() {
  cat /etc/systemd/system/"$1".service.d/*.conf 2>/dev/null | sed -n 's/^ExecStop=//p' | while IFS= read -r command; do
    if [ -n "$command" ]; then
      log_event "$1" "exec-stop $command"
      sh -c "$command" </dev/null >>"$STATE/$1.log" 2>&1 || true
    fi
  done
}

stop_unit() {
  case "$1" in
    *.timer)
      rm -f "$STATE/$1.active"
      return 0
      ;;
  esac
  pid=$(main_pid "$1")
  alive "$pid" || return 0
  log_event "$1" stop
  unit_exec_stop "$1"
  case "$1" in
    postgresql@*)
      # As postgresql@.service's ExecStop (fast: sessions are ended, not waited for); postgres removes its pid file.
      # Should it fail, the SIGKILL below ends it, as systemd would after its stop timeout.
      pg_instance "$1"
      pg_ctlcluster --skip-systemctl-redirect -m fast "$pg_version" "$pg_cluster" stop </dev/null >>"$STATE/$1.log" 2>&1
      ;;
    *) kill -TERM "$pid" 2>/dev/null ;;
  esac
  if ! wait_for dead "$pid"; then
    kill -KILL "$pid" 2>/dev/null
    wait_for dead "$pid" || return 1
  fi
  case "$1" in
    postgresql@*) ;;
    *) rm -f "$(pid_file "$1")" ;;
  esac
}

# Worker processes of HAProxy's master, for telling when a reload has started new ones.
haproxy_workers() {
  pgrep -P "$1" | sort | tr '\n' ' '
}

# True once the master ($1) has workers other than the ones before the reload ($2).
# shellcheck disable=SC2317 # called through wait_for
haproxy_reloaded() {
  workers=$(haproxy_workers "$1")
  [ -n "$workers" ] && [ "$workers" != "$2" ]
}

reload_unit() {
  if ! active "$1"; then
    fail "$1.service is not active, cannot reload."
    return 1
  fi
  log_event "$1" reload
  pid=$(main_pid "$1")
  case "$1" in
    haproxy)
      # As haproxy.service's ExecReload: check the file first, so an invalid one leaves the running HAProxy alone.
      haproxy_check || return 1
      before=$(haproxy_workers "$pid")
      kill -USR2 "$pid"
      # The master re-executes itself and starts new workers; return once they exist, as systemd would.
      wait_for haproxy_reloaded "$pid" "$before" ||
        fail "haproxy: no new worker after the reload"
      ;;
    keepalived | patroni) kill -HUP "$pid" ;;
    named)
      if [ -r /etc/bind/rndc.key ] || [ -r /etc/bind/rndc.conf ]; then
        rndc reload >>"$STATE/named.log" 2>&1 || kill -HUP "$pid"
      else
        kill -HUP "$pid"
      fi
      ;;
    # As postgresql@.service's ExecReload: SIGHUP to the postmaster, which keeps running (and its pid).
    postgresql@*)
      pg_instance "$1"
      pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$pg_cluster" reload </dev/null >>"$STATE/$1.log" 2>&1
      ;;
  esac
}

# Runs one verb on one unit name, as systemctl would.
run_verb() {
  verb=$1
  name=$2
  unit=$(unit_of "$name")
  if [ -z "$unit" ]; then
    fail "Unit $(full_name "${name%.service}") not found."
    return 5
  fi
  case "$verb" in
    enable)
      if [ "${name%.service}" = bind9 ]; then
        fail "Failed to enable unit: Refusing to operate on alias name or linked unit file: bind9.service"
        return 1
      fi
      : >"$STATE/enabled/$unit"
      if [ "$now" = true ]; then start_unit "$unit"; fi
      ;;
    disable)
      rm -f "$STATE/enabled/$unit"
      if [ "$now" = true ]; then stop_unit "$unit"; fi
      ;;
    is-enabled)
      if [ -e "$STATE/enabled/$unit" ]; then say enabled; else say disabled; return 1; fi
      ;;
    is-active)
      if active "$unit"; then say active; else say inactive; return 3; fi
      ;;
    status)
      if active "$unit"; then say "● $(full_name "$unit") - active (running), main pid $(main_pid "$unit")"; else say "○ $(full_name "$unit") - inactive (dead)"; return 3; fi
      ;;
    start) start_unit "$unit" ;;
    stop) stop_unit "$unit" ;;
    restart)
      stop_unit "$unit" && start_unit "$unit"
      ;;
    try-restart)
      if active "$unit"; then stop_unit "$unit" && start_unit "$unit"; fi
      ;;
    reload) reload_unit "$unit" ;;
    # Only the main process id (systemd's MainPID: 0 when the unit does not run).
    show)
      [ "$property" = MainPID ] || { fail "systemctl stand-in: show knows only --property=MainPID"; return 1; }
      pid=0
      if active "$unit"; then pid=$(main_pid "$unit"); fi
      if [ "$value_only" = true ]; then echo "$pid"; else echo "MainPID=$pid"; fi
      ;;
    reload-or-restart)
      if ! active "$unit"; then
        start_unit "$unit"
      else
        reload_unit "$unit"
      fi
      ;;
    try-reload-or-restart)
      if ! active "$unit"; then
        :
      else
        reload_unit "$unit"
      fi
      ;;
  esac
}

verb=
units=
for arg in "$@"; do
  case "$arg" in
    -q | --quiet) quiet=true ;;
    --now) now=true ;;
    --no-block | --no-pager | --no-ask-password | --system | --no-legend) ;;
    --property=*) property=${arg#--property=} ;;
    --value) value_only=true ;;
    -*)
      fail "systemctl: unrecognized option '$arg'"
      exit 1
      ;;
    *)
      if [ -z "$verb" ]; then verb=$arg; else units="$units $arg"; fi
      ;;
  esac
done

case "$verb" in
  daemon-reload) exit 0 ;;
  enable | disable | is-enabled | is-active | status | start | stop | restart | try-restart | reload | reload-or-restart | try-reload-or-restart | show) ;;
  '')
    fail "systemctl stand-in: a command is required"
    exit 1
    ;;
  *)
    fail "Unknown command verb '$verb'."
    exit 1
    ;;
esac
if [ -z "$units" ]; then
  fail "Too few arguments."
  exit 1
fi

# As systemctl: every unit is acted on; the status is the first failure's (is-active: any unit not active).
status=0
for name in $units; do
  run_verb "$verb" "$name"
  result=$?
  if [ "$result" -ne 0 ] && [ "$status" -eq 0 ]; then
    status=$result
  fi
done
exit "$status"
