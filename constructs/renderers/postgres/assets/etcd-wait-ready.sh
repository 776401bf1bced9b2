#!/bin/sh
# Patroni's ExecStartPre: waits until the etcd member at URL serves a cluster that agreed on version 3.4 or later:
#   etcd-wait-ready.sh URL [CURL TLS OPTIONS...]
# Patroni 3.0 picks its etcd API path once, from the cluster version: started while a new cluster has not agreed
# on it yet ("not_decided", or "3.0" for its first seconds), it crashes or talks to an API path etcd 3.4 does not
# serve until it is restarted. Gives up after PKH_WAIT_SECONDS (default 20) so systemd retries (Restart=on-failure).
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
  cluster=$(curl -fsS --max-time 2 "$@" "$url/version" 2>/dev/null | sed -n 's/.*"etcdcluster":"\([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p') || cluster=
  major=${cluster%%.*}
  minor=${cluster#*.}
  if [ -n "$cluster" ] && { [ "$major" -gt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -ge 4 ]; }; }; then
    exit 0
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    log "etcd at $url has no cluster at version 3.4 or later yet (cluster version: ${cluster:-none}); retrying later"
    exit 1
  fi
  sleep 1
done
