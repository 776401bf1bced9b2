#!/bin/sh
# proxmox-k3s-ha: the end the backup jobs share (backup-etcd-kubeadm.sh, backup-postgres.sh), put before each one when
# it is rendered, after textfile-lib.sh (withBackupMetric in roles/backup-metric.ts).

# publish_backup_success KIND: the time of this successful backup for node_exporter's textfile collector, as
#   pkh_backup_last_success_timestamp_seconds{kind="KIND"}
# in pkh-backup-KIND.prom (publish_textfile, textfile-lib.sh).
publish_backup_success() {
  {
    echo '# HELP pkh_backup_last_success_timestamp_seconds When the last backup of this kind reached the backup target.'
    echo '# TYPE pkh_backup_last_success_timestamp_seconds gauge'
    echo "pkh_backup_last_success_timestamp_seconds{kind=\"$1\"} $(date +%s)"
  } | publish_textfile "pkh-backup-$1"
}
