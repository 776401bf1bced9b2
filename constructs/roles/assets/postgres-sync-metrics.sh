#!/bin/sh
# Publishes how many synchronous standbys the primary's PostgreSQL waits for (rendered by proxmox-k3s-ha; run every
# minute by the pkh-postgres-sync-metrics systemd timer on datastore nodes), for node_exporter's textfile collector:
#   pkh_postgres_synchronous_standbys   WAL senders whose sync_state is "sync" (pg_stat_replication), on the primary
# Patroni's own view (patroni_sync_standby, from etcd) can name a synchronous standby PostgreSQL does not wait for:
# Patroni 3.0, restarted beside its running primary, rewrites postgresql.conf without synchronous_standby_names and
# never sets it again. The alert PostgresNotSynchronous compares the two. A replica publishes no sample; when
# PostgreSQL does not answer, none is published and the run exits 1 (the unit shows failed).
# Usage (as root; psql runs as postgres): postgres-sync-metrics.sh PSQL SOCKET_DIR PORT
# PKH_TEXTFILE_DIR overrides the textfile directory (tests); publish_textfile comes from textfile-lib.sh.
set -eu
[ $# -eq 3 ] || { echo "usage: ${0##*/} PSQL SOCKET_DIR PORT" >&2; exit 2; }
psql=$1 socket_dir=$2 port=$3
status=0
metrics=$(
  echo '# HELP pkh_postgres_synchronous_standbys Standbys the primary PostgreSQL waits for (pg_stat_replication sync_state "sync").'
  echo '# TYPE pkh_postgres_synchronous_standbys gauge'
  # "t|1" on a primary with its synchronous standby, "f|0" on a replica.
  if row=$(runuser -u postgres -- "$psql" -X -q -At -h "$socket_dir" -p "$port" -d postgres \
    -c "SELECT NOT pg_is_in_recovery(), count(*) FILTER (WHERE sync_state = 'sync') FROM pg_stat_replication" 2>/dev/null); then
    [ "${row%%|*}" != t ] || echo "pkh_postgres_synchronous_standbys ${row#*|}"
  else
    echo "postgres-sync-metrics: PostgreSQL does not answer on $socket_dir port $port" >&2
    exit 1
  fi
) || status=$?
printf '%s\n' "$metrics" | publish_textfile pkh-postgres-sync
exit "$status"
