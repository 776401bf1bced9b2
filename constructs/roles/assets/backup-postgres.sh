#!/bin/sh
# backup-postgres full|diff: a pgBackRest backup of the PostgreSQL datastore (rendered by proxmox-k3s-ha; run by the
# pkh-postgres-backup-full/-diff timers on every datastore node). Only the node that is the Patroni primary backs up
# (its REST API answers 200 on GET /primary); on the others the run exits 0 doing nothing. The stanza is created first
# (stanza-create is idempotent: it succeeds when the stanza exists and matches the cluster). Any failure exits
# non-zero, so the unit is left failed; pgBackRest expires old backups only after a backup succeeded (expire-auto), so
# a failed run never removes the last good one. On success the time goes to node_exporter's textfile collector:
#   pkh_backup_last_success_timestamp_seconds{kind="postgres"}
# Settings in PKH_POSTGRES_BACKUP_ENV (default /etc/proxmox-k3s-ha/postgres-backup.env): PGBACKREST_STANZA,
# PATRONI_PRIMARY_URL, PATRONI_CA_FILE (optional), PKH_TEXTFILE_DIR; pgBackRest reads its own configuration (and
# PGBACKREST_* variables, e.g. PGBACKREST_CONFIG). Run as root, pgBackRest runs as postgres.
# Runs after backup-metric-lib.sh (publish_backup_success).
set -eu
case "${1:-}" in
  full | diff) type=$1 ;;
  *) echo "usage: backup-postgres full|diff" >&2; exit 2 ;;
esac
env_file=${PKH_POSTGRES_BACKUP_ENV:-/etc/proxmox-k3s-ha/postgres-backup.env}
set -a
# shellcheck source=/dev/null
. "$env_file"
set +a
: "${PGBACKREST_STANZA:?}" "${PATRONI_PRIMARY_URL:?}"

# Bounded: a Patroni that does not answer within 5 s counts as "not the primary here".
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 ${PATRONI_CA_FILE:+--cacert "$PATRONI_CA_FILE"} "$PATRONI_PRIMARY_URL" || true)
if [ "$code" != 200 ]; then
  echo "not the Patroni primary (GET $PATRONI_PRIMARY_URL: ${code:-no answer}): the primary takes the backup; nothing to do here"
  exit 0
fi

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}
started=$(date +%s)
# From /: root's working directory is not readable by postgres.
cd /
as_postgres timeout 600 pgbackrest --stanza="$PGBACKREST_STANZA" stanza-create
# A backup of a large datastore takes long; 4 hours bounds it (the unit's TimeoutStartSec is the same).
as_postgres timeout 14400 pgbackrest --stanza="$PGBACKREST_STANZA" --type="$type" backup
echo "$type backup of stanza $PGBACKREST_STANZA done in $(($(date +%s) - started)) s"

publish_backup_success postgres
