#!/bin/sh
# restore-postgres [--time=<timestamp>]: brings the PostgreSQL datastore back from its pgBackRest repository
# (rendered by proxmox-k3s-ha), to the end of the archived WAL or to a point in time. Run it on ONE datastore node
# with Patroni stopped on all of them (it refuses while another node's Patroni answers, and prints the steps):
#   1. stops Patroni here and removes the cluster's state from etcd (`patronictl remove <scope>`), so Patroni
#      bootstraps a new cluster from this node instead of following the old one;
#   2. moves the data directory aside (<data>.before-restore-<time>; nothing is deleted) and runs
#      `pgbackrest restore` (latest backup; with --time: --type=time --target=<timestamp> --target-action=promote);
#   3. runs PostgreSQL alone (no TCP, a private socket) until recovery has replayed the archive and promoted, clears
#      the recovery settings pgBackRest wrote to postgresql.auto.conf, and stops it;
#   4. starts Patroni, which takes the recovered data directory as the new cluster's primary (no initialize key in
#      etcd, a data directory that is not empty), and waits until it answers 200 on GET /primary.
# The other nodes then rejoin as replicas, rebuilt from the repository (Patroni's create_replica_methods: pgbackrest,
# then basebackup): the steps are printed at the end. Every wait is bounded (PKH_RESTORE_WAIT_SECONDS, default 900).
#   --time=<timestamp>  a PostgreSQL timestamp, e.g. "2026-01-31 12:00:00+00": the rows committed before it come back
# Settings in PKH_POSTGRES_BACKUP_ENV (default /etc/proxmox-k3s-ha/postgres-backup.env): PGBACKREST_STANZA,
# PATRONI_SCOPE, PATRONI_PRIMARY_URL, PATRONI_CA_FILE, OTHER_NODES, OTHER_NODE_URLS, PGDATA, PG_BIN_DIR,
# PATRONICTL_CONFIG_FILE. PKH_PATRONI_STOP / PKH_PATRONI_START / PKH_PATRONICTL override the service commands (tests).
set -eu
usage() { echo "usage: restore-postgres [--time=<timestamp, e.g. \"2026-01-31 12:00:00+00\">]" >&2; exit 2; }
target_time=''
for arg in "$@"; do
  case "$arg" in
    --time=?*) target_time=${arg#--time=} ;;
    *) usage ;;
  esac
done
env_file=${PKH_POSTGRES_BACKUP_ENV:-/etc/proxmox-k3s-ha/postgres-backup.env}
set -a
# shellcheck source=/dev/null
. "$env_file"
set +a
: "${PGBACKREST_STANZA:?}" "${PATRONI_SCOPE:?}" "${PATRONI_PRIMARY_URL:?}" "${PGDATA:?}" "${PG_BIN_DIR:?}"
OTHER_NODES=${OTHER_NODES:-}
OTHER_NODE_URLS=${OTHER_NODE_URLS:-}
wait_seconds=${PKH_RESTORE_WAIT_SECONDS:-900}
patroni_stop=${PKH_PATRONI_STOP:-systemctl stop patroni}
patroni_start=${PKH_PATRONI_START:-systemctl start patroni}
patronictl=${PKH_PATRONICTL:-patronictl}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
step() { echo "restore-postgres: $*"; }
as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}
cd /

# Patroni elsewhere would follow or fight the restored cluster: every other node must be stopped first.
for url in $OTHER_NODE_URLS; do
  if curl -s -o /dev/null -m 3 ${PATRONI_CA_FILE:+--cacert "$PATRONI_CA_FILE"} "$url/health"; then
    cat >&2 <<MESSAGE
restore-postgres: Patroni still answers at $url; nothing was changed.
Stop it on every other datastore node first ($OTHER_NODES):  sudo systemctl stop patroni
then run restore-postgres again here.
MESSAGE
    exit 1
  fi
done

step "stopping Patroni here"
sh -c "$patroni_stop"
if as_postgres "$PG_BIN_DIR/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
  echo "restore-postgres: PostgreSQL still runs in $PGDATA after Patroni stopped; stop it first (pg_ctl -D $PGDATA stop -m fast)" >&2
  exit 1
fi

step "removing cluster $PATRONI_SCOPE from etcd"
# patronictl asks for the cluster name, then for this confirmation.
# shellcheck disable=SC2086 # PKH_PATRONICTL may be a command with arguments
if ! printf '%s\nYes I am aware\n' "$PATRONI_SCOPE" | timeout 60 $patronictl remove "$PATRONI_SCOPE"; then
  echo "restore-postgres: patronictl remove $PATRONI_SCOPE failed; if a leader is still listed, wait for its key to expire (ttl) and run restore-postgres again" >&2
  exit 1
fi

if [ -d "$PGDATA" ] && [ -n "$(ls -A "$PGDATA")" ]; then
  step "moving the old data directory to $PGDATA.before-restore-$stamp"
  mv "$PGDATA" "$PGDATA.before-restore-$stamp"
fi
mkdir -p "$PGDATA"
chown postgres:postgres "$PGDATA"
chmod 0700 "$PGDATA"

if [ -n "$target_time" ]; then
  step "restoring stanza $PGBACKREST_STANZA to $target_time"
  as_postgres timeout 14400 pgbackrest --stanza="$PGBACKREST_STANZA" --type=time --target="$target_time" --target-action=promote restore
else
  step "restoring stanza $PGBACKREST_STANZA to the end of the archived WAL"
  as_postgres timeout 14400 pgbackrest --stanza="$PGBACKREST_STANZA" restore
fi

socket_dir=$(mktemp -d)
chown postgres:postgres "$socket_dir"
recovery_log="$PGDATA.restore-$stamp.log"
touch "$recovery_log"
chown postgres:postgres "$recovery_log"
step "recovering (PostgreSQL alone, log $recovery_log)"
as_postgres "$PG_BIN_DIR/pg_ctl" -D "$PGDATA" -l "$recovery_log" -w -t "$wait_seconds" -o "-c listen_addresses='' -c unix_socket_directories='$socket_dir'" start >/dev/null
sql() { as_postgres "$PG_BIN_DIR/psql" -X -qtA -h "$socket_dir" -d postgres "$@"; }
deadline=$(($(date +%s) + wait_seconds))
until [ "$(sql -c 'select pg_is_in_recovery()' 2>/dev/null || true)" = f ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "restore-postgres: recovery did not end within $wait_seconds s; see $recovery_log. PostgreSQL is left running for inspection." >&2
    exit 1
  fi
  sleep 1
done
# pgBackRest wrote its recovery settings to postgresql.auto.conf; left there, a later replica would stop replaying at the target.
sql -c 'alter system reset restore_command' -c 'alter system reset recovery_target_time' -c 'alter system reset recovery_target_action' \
  -c 'alter system reset recovery_target' -c 'alter system reset recovery_target_timeline' >/dev/null
recovered_to=$(sql -c "select pg_walfile_name(pg_current_wal_lsn()) || ' at ' || now()")
as_postgres "$PG_BIN_DIR/pg_ctl" -D "$PGDATA" -w -t "$wait_seconds" -m fast stop >/dev/null
rmdir "$socket_dir"
step "recovered and promoted (WAL $recovered_to)"

step "starting Patroni: it bootstraps the cluster from this data directory"
sh -c "$patroni_start"
deadline=$(($(date +%s) + wait_seconds))
until [ "$(curl -s -o /dev/null -w '%{http_code}' -m 3 ${PATRONI_CA_FILE:+--cacert "$PATRONI_CA_FILE"} "$PATRONI_PRIMARY_URL" || true)" = 200 ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "restore-postgres: Patroni did not become the primary within $wait_seconds s (journalctl -u patroni)" >&2
    exit 1
  fi
  sleep 1
done
step "this node is the primary of the restored cluster"
if [ -n "$OTHER_NODES" ]; then
  cat <<MESSAGE
Next, on each other datastore node ($OTHER_NODES), one at a time, so it rejoins as a replica of the restored cluster:
  sudo mv $PGDATA $PGDATA.before-restore-$stamp     (its old data belongs to the cluster before the restore)
  sudo systemctl start patroni                     (Patroni restores it from the repository, or pg_basebackup)
  sudo patronictl list                             (wait for it: streaming, same timeline as the leader)
Then take a full backup of the new timeline: sudo systemctl start pkh-postgres-backup@full.service
MESSAGE
fi
