#!/bin/sh
# The state the writer endpoint's servers start in, for haproxy.service (a drop-in runs it):
#   haproxy-writer-state.sh down     ExecStartPre: every server starts DOWN, and comes UP at its first passed check
#   haproxy-writer-state.sh save     ExecReload, before the reload signal: the running worker's state, so the new
#                                    worker starts where the old one was (no connection fails while it checks)
#   haproxy-writer-state.sh settle   ExecReload, after the signal: once the new worker serves (it read the state),
#                                    back to "down" for whatever starts HAProxy next
# Why: HAProxy before 3.1 has no `init-state` and starts a checked server UP until its first check fails; the writer
# backend balances `first`, so a replica listed first would get connections for about a second after every start
# or reload. The backend loads its servers' state from STATE (`load-server-state-from-file local`).
# The runtime API is spoken through the admin socket with curl (telnet over a Unix socket), which every host has.
# Environment (tests): PKH_HAPROXY_SOCKET, PKH_WRITER_STATE, PKH_WRITER_DOWN_STATE, PKH_WRITER_BACKEND,
# PKH_SETTLE_SECONDS (default 15).
set -eu

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

socket=${PKH_HAPROXY_SOCKET:-/run/haproxy/admin.sock}
state=${PKH_WRITER_STATE:-/var/lib/haproxy/postgres-writer.state}
down_state=${PKH_WRITER_DOWN_STATE:-/etc/haproxy/postgres-writer-down.state}
backend=${PKH_WRITER_BACKEND:-postgres_writer}
settle_seconds=${PKH_SETTLE_SECONDS:-15}
worker_file=$state.worker

# cli COMMAND: the runtime API's answer (empty when HAProxy does not answer within 2 s).
cli() {
  printf '%s\n' "$1" | curl -s --max-time 2 --unix-socket "$socket" telnet://localhost 2>/dev/null || true
}
# worker_pid: the pid of the worker answering on the admin socket (empty: none answers).
worker_pid() {
  cli 'show info' | sed -n 's/^Pid: \([0-9][0-9]*\).*/\1/p'
}
# install_state FILE: STATE becomes a copy of FILE, atomically (HAProxy never reads half a file).
install_state() {
  cp "$1" "$state.tmp"
  mv -f "$state.tmp" "$state"
}

case ${1:-} in
  down)
    install_state "$down_state"
    ;;
  save)
    worker_pid > "$worker_file"
    cli "show servers state $backend" > "$state.saved"
    # Version 1 of the format, then a header, then a line per server of this backend; anything else (the backend
    # is new in this reload, HAProxy does not answer) leaves every server DOWN.
    if [ "$(sed -n 1p "$state.saved")" = 1 ] && awk -v backend="$backend" 'NR > 2 && $2 == backend { found = 1 } END { exit !found }' "$state.saved"; then
      install_state "$state.saved"
    else
      log "no state of backend $backend from the running HAProxy: its servers start DOWN"
      install_state "$down_state"
    fi
    rm -f "$state.saved"
    ;;
  settle)
    old=$(cat "$worker_file" 2>/dev/null || true)
    deadline=$(($(date +%s) + settle_seconds))
    until pid=$(worker_pid) && [ -n "$pid" ] && [ "$pid" != "$old" ]; do
      if [ "$(date +%s)" -ge "$deadline" ]; then
        install_state "$down_state"
        log "no new HAProxy worker answered within $settle_seconds s (the reload failed?)"
        exit 1
      fi
      sleep 0.1
    done
    install_state "$down_state"
    rm -f "$worker_file"
    ;;
  *)
    log "usage: ${0##*/} down|save|settle"
    exit 2
    ;;
esac
