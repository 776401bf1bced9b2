#!/bin/sh
# Stand-in for systemctl (and timedatectl) inside the rolling-update lab's hosts, which have no systemd: the lab
# bind-mounts this file over /usr/bin/systemctl and /usr/bin/timedatectl. It runs the REAL daemons the generated
# scripts manage (haproxy, keepalived, named), with their own reload mechanisms, so a rolling update exercises what a
# real host would do: HAProxy's seamless master-worker reload (SIGUSR2), Keepalived's SIGHUP, `rndc reload`.
#
# Every call is appended to $PKH_STANDIN_DIR/journal.log as "<epoch ms> <host> <program> <arguments>", the only way a
# test can tell which host was touched when. Daemon output goes to $PKH_STANDIN_DIR/<unit>.log.
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

say() {
  [ "$quiet" = true ] || printf '%s\n' "$*"
}

fail() {
  printf '%s\n' "$*" >&2
}

# The unit's canonical name (haproxy, keepalived or named), or nothing when this stand-in does not know it.
unit_of() {
  case "${1%.service}" in
    haproxy) echo haproxy ;;
    keepalived) echo keepalived ;;
    # bind9 is only an alias of named on Debian 12 (systemctl enable refuses it; see enable below).
    named | bind9) echo named ;;
    *) ;;
  esac
}

# The main process id of a unit: HAProxy's master, Keepalived's parent, named.
pid_file() {
  case "$1" in
    haproxy) echo /run/haproxy.pid ;;
    keepalived) echo /run/keepalived.pid ;;
    named) echo "$STATE/named.pid" ;;
  esac
}

main_pid() {
  file=$(pid_file "$1")
  [ -s "$file" ] && head -n 1 "$file"
}

# True when the process exists and is not a zombie (a dead daemon not yet reaped must not count as running).
alive() {
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
  state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null)
  [ -n "$state" ] && [ "$state" != Z ]
}

active() {
  alive "$(main_pid "$1")"
}

# Running and serving: named only once it logged "running" since its last start (it loads its zones first), as
# named.service's start returns only then.
# shellcheck disable=SC2317 # called through wait_for
ready() {
  active "$1" || return 1
  [ "$1" != named ] || awk '/ --- start$/ { ready = 0 } / running$/ { ready = 1 } END { exit !ready }' "$STATE/named.log"
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

start_unit() {
  active "$1" && return 0
  log_event "$1" start
  case "$1" in
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
  esac
  if ! wait_for ready "$1"; then
    fail "Job for $1.service failed because the control process exited with error code."
    return 1
  fi
}

stop_unit() {
  pid=$(main_pid "$1")
  alive "$pid" || return 0
  log_event "$1" stop
  kill -TERM "$pid" 2>/dev/null
  if ! wait_for dead "$pid"; then
    kill -KILL "$pid" 2>/dev/null
    wait_for dead "$pid" || return 1
  fi
  rm -f "$(pid_file "$1")"
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
    keepalived) kill -HUP "$pid" ;;
    named)
      if [ -r /etc/bind/rndc.key ] || [ -r /etc/bind/rndc.conf ]; then
        rndc reload >>"$STATE/named.log" 2>&1 || kill -HUP "$pid"
      else
        kill -HUP "$pid"
      fi
      ;;
  esac
}

# Runs one verb on one unit name, as systemctl would.
run_verb() {
  verb=$1
  name=$2
  unit=$(unit_of "$name")
  if [ -z "$unit" ]; then
    fail "Unit ${name%.service}.service not found."
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
      if active "$unit"; then say "● $unit.service - active (running), main pid $(main_pid "$unit")"; else say "○ $unit.service - inactive (dead)"; return 3; fi
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
    reload-or-restart)
      if active "$unit"; then reload_unit "$unit"; else start_unit "$unit"; fi
      ;;
    try-reload-or-restart)
      if active "$unit"; then reload_unit "$unit"; fi
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
  enable | disable | is-enabled | is-active | status | start | stop | restart | try-restart | reload | reload-or-restart | try-reload-or-restart) ;;
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
