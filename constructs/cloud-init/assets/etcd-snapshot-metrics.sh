#!/bin/sh
# Publishes when this K3s server last took a scheduled etcd snapshot (rendered by proxmox-k3s-ha), for node_exporter's
# textfile collector, so an alert can say the backups stopped. Run by a systemd timer every minute.
#   k3s_etcd_snapshot_files                    scheduled snapshots on this server (0: none yet)
#   k3s_etcd_snapshot_last_timestamp_seconds   modification time of the newest one (absent while there is none)
# Usage: etcd-snapshot-metrics.sh [SNAPSHOT_DIR]  (K3s's default directory when omitted)
# PKH_TEXTFILE_DIR overrides the textfile directory (tests).
set -eu
snapshots=${1:-/var/lib/rancher/k3s/server/db/snapshots}
dir=${PKH_TEXTFILE_DIR:-/var/lib/prometheus/node-exporter}
# No node_exporter on this machine: nothing to publish to.
[ -d "$dir" ] || exit 0
count=0
newest=0
# K3s names scheduled snapshots etcd-snapshot-<node>-<unix time> (.zip when compressed); on-demand ones differ.
for snapshot in "$snapshots"/etcd-snapshot-*; do
  [ -f "$snapshot" ] || continue
  count=$((count + 1))
  modified=$(stat -c %Y "$snapshot")
  [ "$modified" -le "$newest" ] || newest=$modified
done
file="$dir/k3s-etcd-snapshots.prom"
# Not *.prom: the collector skips it until the rename.
tmp="$dir/.k3s-etcd-snapshots.prom.$$"
trap 'rm -f "$tmp"' EXIT
{
  echo '# HELP k3s_etcd_snapshot_files Scheduled etcd snapshots K3s keeps on this server.'
  echo '# TYPE k3s_etcd_snapshot_files gauge'
  echo "k3s_etcd_snapshot_files $count"
  if [ "$count" -gt 0 ]; then
    echo '# HELP k3s_etcd_snapshot_last_timestamp_seconds When the newest scheduled etcd snapshot on this server was written.'
    echo '# TYPE k3s_etcd_snapshot_last_timestamp_seconds gauge'
    echo "k3s_etcd_snapshot_last_timestamp_seconds $newest"
  fi
} > "$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$file"
