#!/bin/sh
# proxmox-k3s-ha: the end the backup jobs share (backup-etcd-kubeadm.sh, backup-postgres.sh), put before each one when
# it is rendered (withBackupMetric in roles/backup-metric.ts).

# publish_backup_success KIND: the time of this successful backup for node_exporter's textfile collector, as
#   pkh_backup_last_success_timestamp_seconds{kind="KIND"}
# in pkh-backup-KIND.prom of PKH_TEXTFILE_DIR (default /var/lib/prometheus/node-exporter); nothing when that folder is
# missing (no node_exporter on this machine). Written under a name the collector skips (not *.prom), then renamed.
# Its EXIT trap, which removes that file, replaces the caller's: call it last.
publish_backup_success() {
  metric_dir=${PKH_TEXTFILE_DIR:-/var/lib/prometheus/node-exporter}
  [ -d "$metric_dir" ] || return 0
  metric_tmp="$metric_dir/.pkh-backup-$1.prom.$$"
  trap 'rm -f "$metric_tmp"' EXIT
  {
    echo '# HELP pkh_backup_last_success_timestamp_seconds When the last backup of this kind reached the backup target.'
    echo '# TYPE pkh_backup_last_success_timestamp_seconds gauge'
    echo "pkh_backup_last_success_timestamp_seconds{kind=\"$1\"} $(date +%s)"
  } > "$metric_tmp"
  chmod 0644 "$metric_tmp"
  mv -f "$metric_tmp" "$metric_dir/pkh-backup-$1.prom"
}
