#!/bin/sh
# proxmox-k3s-ha: a datastore node's converge step runs this after it wrote Patroni's environment file, before it
# reloads Patroni. Patroni reads its own passwords (superuser, replication, rewind, REST API) from that file only when
# it starts, and PostgreSQL keeps the roles' passwords: when the file holds other values than the running Patroni's
# environment, this
#   1. sets the roles' new passwords on the primary (here, or from a replica over the network as the superuser), as
#      SCRAM verifiers built here (postgres-scram-verifier.py): no password reaches the server, the wire or a log.
#      Every node whose Patroni changes does it (idempotent), so the primary has them before the first replica's
#      Patroni connects with one, whichever node the rollout takes first;
#   2. on the primary, when it has replicas, hands the primary over first (Patroni's switchover): Patroni 3.0, started
#      beside a running primary, rewrites postgresql.conf without synchronous_standby_names while etcd still names the
#      synchronous standby, and never sets it again, so commits would silently stop waiting for the standby;
#   3. restarts Patroni in maintenance mode (Patroni's pause: it leaves PostgreSQL running and keeps the leader key
#      when it stops), waits until it runs again, and resumes. A failure after the pause resumes too.
# Values are compared and handed on through standard input and the environment, never printed or put in arguments.
# Usage (as root): patroni-rotate-passwords.sh ENV_FILE API_URL CA_FILE PSQL LOCAL_CONNSTRING PRIMARY_OPTIONS SUPERUSER_VARIABLE:ROLE VARIABLE:[ROLE]...
#   API_URL  this node's Patroni REST API; CA_FILE its CA for curl, or - without TLS
#   LOCAL_CONNSTRING  libpq settings reaching this node's PostgreSQL as the superuser (peer);
#   PRIMARY_OPTIONS   libpq settings, besides host, reaching the primary from here as the superuser (password)
#   VARIABLE:ROLE     a password variable of ENV_FILE and the role it belongs to (none for the REST API's)
set -eu

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ $# -ge 7 ] || die "usage: ${0##*/} ENV_FILE API_URL CA_FILE PSQL LOCAL_CONNSTRING PRIMARY_OPTIONS SUPERUSER_VARIABLE:ROLE VARIABLE:[ROLE]..."
env_file=$1 api=$2 ca=$3 psql=$4 local_connstring=$5 primary_options=$6
shift 6
superuser_variable=${1%%:*}
here=$(dirname "$0")

pid=$(systemctl show --property=MainPID --value patroni)
case $pid in
  '' | 0 | *[!0-9]*) die "Patroni runs no main process here (MainPID \"$pid\")" ;;
esac
# systemd's KEY=value lines, read as text (never run); the last one wins, as in systemd.
installed() { sed -n "s/^$1=//p" "$env_file" | tail -n 1; }
running() { tr '\0' '\n' <"/proc/$pid/environ" | sed -n "s/^$1=//p" | tail -n 1; }

changed='' roles=''
for pair in "$@"; do
  name=${pair%%:*} role=${pair#*:}
  case $name in '' | *[!A-Z_]*) die "\"$name\" is not a variable name" ;; esac
  case $role in *[!a-z0-9_]*) die "\"$role\" is not a lower-case role name" ;; esac
  [ "$(installed "$name")" = "$(running "$name")" ] && continue
  changed="$changed $name"
  [ -z "$role" ] || roles="$roles $pair"
done
[ -n "$changed" ] || exit 0
log "Patroni runs with an older$changed: the primary's roles take the new passwords, then Patroni restarts paused (PostgreSQL keeps running)"

as_postgres() { runuser -u postgres -- "$psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
primary=$(as_postgres -d "$local_connstring" -c 'SELECT NOT pg_is_in_recovery()') || die "PostgreSQL does not answer here"
alter_roles() {
  for pair in $roles; do
    verifier=$(PKH_SCRAM_PASSWORD=$(installed "${pair%%:*}") /usr/bin/python3 "$here/postgres-scram-verifier.py")
    printf 'ALTER ROLE "%s" PASSWORD \047%s\047;\n' "${pair#*:}" "$verifier"
  done
}
if [ -n "$roles" ]; then
  if [ "$primary" = t ]; then
    alter_roles | as_postgres -d "$local_connstring"
  else
    sender=$(as_postgres -d "$local_connstring" -c 'SELECT sender_host FROM pg_stat_wal_receiver')
    [ -n "$sender" ] || die "this replica streams from no primary: there is no primary to set the roles' passwords on"
    # The superuser's new password, once a node before this one set it; its old one otherwise.
    altered='' refusal=''
    for password in "$(installed "$superuser_variable")" "$(running "$superuser_variable")"; do
      if refusal=$(alter_roles | PGPASSWORD=$password PGCONNECT_TIMEOUT=10 as_postgres -d "host=$sender $primary_options" 2>&1 >/dev/null); then
        altered=yes
        break
      fi
    done
    # "no pg_hba.conf entry": a primary configured before rotations were supported, which admits no superuser from a peer.
    [ -n "$altered" ] || die "the primary $sender refused the superuser with its new and its old password ($(printf '%s\n' "$refusal" | tail -n 1)); if pg_hba refused it, apply once with the old passwords, then rotate"
  fi
  log "the roles of$roles have their new passwords on the primary"
fi

# Patroni's REST API: a password goes on standard input (curl's config), never into curl's arguments.
curl_api() {
  if [ "$ca" = - ]; then curl -fsS --max-time 5 "$@"; else curl -fsS --max-time 5 --cacert "$ca" "$@"; fi
}
api_change() { # METHOD PATH BODY PASSWORD
  printf 'user = "%s:%s"\n' "$(installed PATRONI_RESTAPI_USERNAME)" "$4" \
    | curl_api -K - -X "$1" -H 'Content-Type: application/json' --data "$3" -o /dev/null "$api$2"
}
patch_config() { api_change PATCH /config "$@"; }
# Waits up to SECONDS for this node's Patroni status to match PATTERN (grep -E).
wait_for_status() { # SECONDS PATTERN WHAT
  i=0
  while [ "$i" -lt "$1" ]; do
    if curl_api "$api/patroni" 2>/dev/null | grep -Eq "$2"; then return 0; fi
    i=$((i + 1))
    sleep 1
  done
  die "Patroni did not $3 within $1 s"
}
resume() {
  for password in "$(installed PATRONI_RESTAPI_PASSWORD)" "$(running PATRONI_RESTAPI_PASSWORD)"; do
    if patch_config '{"pause": null}' "$password" 2>/dev/null; then
      log "cluster management resumed"
      return 0
    fi
  done
  log "error: could not resume cluster management: run \"patronictl resume\""
  return 1
}

paused_before=''
if curl_api "$api/patroni" | grep -q '"pause": true'; then paused_before=yes; fi
if [ "$primary" = t ] && [ "$(as_postgres -d "$local_connstring" -c 'SELECT count(*) FROM pg_stat_replication')" != 0 ]; then
  [ -z "$paused_before" ] || die "the cluster is paused and this primary has replicas: resume it (patronictl resume) and apply again"
  # Patroni's member name is the host's (renderPatroniConfig).
  api_change POST /switchover "{\"leader\": \"$(hostname)\"}" "$(running PATRONI_RESTAPI_PASSWORD)" || die "Patroni refused to hand the primary over"
  wait_for_status 120 '"state": "running".*"role": "replica"' "run as a replica after the switchover"
  log "the primary was handed over; this node is a replica now"
fi
if [ -n "$paused_before" ]; then
  # Paused by the operator: Patroni's stop leaves PostgreSQL alone already, and the pause stays theirs to end.
  systemctl restart patroni
else
  patch_config '{"pause": true}' "$(running PATRONI_RESTAPI_PASSWORD)" || die "Patroni refused to pause cluster management"
  trap 'resume || exit 1' EXIT
  wait_for_status 30 '"pause": true' "see the pause"
  systemctl restart patroni
fi
wait_for_status 120 '"state": "running".*"pause": true|"pause": true.*"state": "running"' "run again"
log "Patroni restarted with the new passwords"
