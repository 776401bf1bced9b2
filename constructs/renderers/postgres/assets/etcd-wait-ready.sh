#!/bin/sh
# Patroni's ExecStartPre: waits until the etcd member at URL is healthy, i.e. it has a leader and a quorum of the
# members answers (whichever member is missing):
#   etcd-wait-ready.sh URL [CURL TLS OPTIONS...]
# Patroni exits at once when etcd does not answer as it starts. Gives up after PKH_WAIT_SECONDS (default 20) so
# systemd retries (Restart=on-failure). The etcd cluster version does not matter: Patroni runs through
# patroni-etcd-v3.py, which uses etcd's v3 API whatever version a cluster still missing a member reports (3.0).
set -eu

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

[ $# -ge 1 ] || { log "usage: ${0##*/} URL [CURL OPTIONS...]"; exit 2; }
url=$1
shift
wait_seconds=${PKH_WAIT_SECONDS:-20}
case $wait_seconds in
  '' | *[!0-9]*) log "PKH_WAIT_SECONDS must be a whole number of seconds"; exit 2 ;;
esac
deadline=$(($(date +%s) + wait_seconds))
while :; do
  health=$(curl -sS --max-time 2 "$@" "$url/health" 2>&1) || true
  case $health in
    *'"health":"true"'*) exit 0 ;;
  esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    log "etcd at $url has no quorum yet (${health:-no answer}); retrying later"
    exit 1
  fi
  sleep 1
done
