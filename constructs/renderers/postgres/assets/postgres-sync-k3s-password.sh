#!/bin/sh
# proxmox-k3s-ha: a datastore node's converge step runs this whenever Patroni's environment file changed. On the
# primary it sets the K3s user's password to PKH_K3S_PASSWORD from that file, so a rotated password reaches
# PostgreSQL before the K3s servers, later in the rollout, connect with it. A replica does nothing (the role
# replicates from the primary), nor does a primary without the user (Patroni's post-bootstrap creates it with this
# password), nor a node whose PostgreSQL does not answer yet (a first start). The password reaches psql on its
# standard input (a psql variable), never through argv; the statement is not logged (log_statement stays 'none').
# Usage (as root; psql runs as postgres): postgres-sync-k3s-password.sh ENV_FILE USER PSQL CONNSTRING
set -eu

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ $# -eq 4 ] || die "usage: ${0##*/} ENV_FILE USER PSQL CONNSTRING"
env_file=$1
user=$2
psql=$3
connstring=$4
case $user in
  '' | [!a-z_]* | *[!a-z0-9_]*) die "\"$user\" is not a lower-case SQL identifier" ;;
esac
# systemd's KEY=value lines, read as text (never run); the last one wins, as in systemd.
key=PKH_K3S_PASSWORD
password=$(sed -n "s/^$key=//p" "$env_file" | tail -n 1)
case $password in
  '' | *[!A-Za-z0-9]*) die "$key in $env_file must be set to letters and digits" ;;
esac

as_postgres() {
  runuser -u postgres -- "$psql" -X -q -At -v ON_ERROR_STOP=1 -d "$connstring" "$@"
}

if ! primary=$(as_postgres -c 'SELECT NOT pg_is_in_recovery()' 2>/dev/null); then
  log "PostgreSQL does not answer here yet: nothing to do (its first start creates user $user)"
  exit 0
fi
[ "$primary" = t ] || exit 0
as_postgres <<SQL
\set k3s_password '$password'
SELECT format('ALTER ROLE %I PASSWORD %L', '$user', :'k3s_password')
  WHERE EXISTS (SELECT FROM pg_roles WHERE rolname = '$user') \gexec
SQL
log "user $user has the password of $env_file"
