#!/bin/sh
# Patroni runs this once, on the node that initialized the cluster, right after initdb:
#   patroni-post-bootstrap.sh DATABASE USER CONNSTRING
# It creates the K3s user (scram-sha-256, password from PKH_K3S_PASSWORD in Patroni's environment) and the K3s
# database owned by it. The password reaches psql on its standard input, never through argv (a psql variable set
# there: \getenv would need psql 15, and the site accepts PostgreSQL 13).
set -eu

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ $# -eq 3 ] || die "usage: ${0##*/} DATABASE USER CONNSTRING (Patroni appends CONNSTRING)"
database=$1
user=$2
connstring=$3
for name in "$database" "$user"; do
  case $name in
    '' | [!a-z_]* | *[!a-z0-9_]*) die "\"$name\" is not a lower-case SQL identifier" ;;
  esac
done
password=${PKH_K3S_PASSWORD:-}
case $password in
  '' | *[!A-Za-z0-9]*) die "PKH_K3S_PASSWORD must be set to letters and digits (see Patroni's environment file)" ;;
esac

psql -X -q -v ON_ERROR_STOP=1 -d "$connstring" <<SQL
\set k3s_password '$password'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', '$user', :'k3s_password')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$user') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$database', '$user')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$database') \gexec
SQL
log "created user $user and database $database"
