#!/bin/sh
# Takes an etcd snapshot on this kubeadm control plane and uploads it to the site's backup target (rendered by
# proxmox-k3s-ha; run by the pkh-etcd-backup systemd timer). Any failure exits non-zero, so the unit is left
# failed; older snapshots on the target are deleted only after this one is uploaded, so a failed run never removes
# the last good backup. On success the time goes to node_exporter's textfile collector:
#   pkh_backup_last_success_timestamp_seconds{kind="etcd"}
# Settings come from the environment file PKH_ETCD_BACKUP_ENV (default /etc/proxmox-k3s-ha/etcd-backup.env):
#   ETCDCTL_ENDPOINTS ETCDCTL_CACERT ETCDCTL_CERT ETCDCTL_KEY  read by etcdctl itself
#   RCLONE_CONFIG RCLONE_CA_CERT  read by rclone itself
#   BACKUP_REMOTE                 remote:bucket/folder of the snapshots
#   BACKUP_NAME                   snapshot object name prefix (etcd-snapshot-<host>), a UTC timestamp is appended
#   BACKUP_RETENTION              snapshots of this host kept on the target
#   BACKUP_DIR                    local folder; the newest snapshot stays there too
#   PKH_TEXTFILE_DIR              node_exporter's textfile directory (nothing is written when it is missing)
# Runs after backup-metric-lib.sh (publish_backup_success).
set -eu
env_file=${PKH_ETCD_BACKUP_ENV:-/etc/proxmox-k3s-ha/etcd-backup.env}
# It holds only the variables that are set, so all of them are exported (etcdctl and rclone read theirs).
set -a
# shellcheck source=/dev/null
. "$env_file"
set +a
export ETCDCTL_API=3
: "${BACKUP_REMOTE:?}" "${BACKUP_NAME:?}" "${BACKUP_RETENTION:?}" "${BACKUP_DIR:?}"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
name="$BACKUP_NAME-$stamp.db"
mkdir -p "$BACKUP_DIR"
chmod 0700 "$BACKUP_DIR"
partial="$BACKUP_DIR/.partial-$name"
trap 'rm -f "$partial"' EXIT

# Bounded: a hung etcd or object store fails the run instead of blocking the next one.
timeout 300 etcdctl --command-timeout=240s snapshot save "$partial" >/dev/null
timeout 60 etcdctl --write-out=table snapshot status "$partial" >/dev/null
mv -f "$partial" "$BACKUP_DIR/$name"
timeout 1800 rclone copyto --retries 3 --low-level-retries 3 --contimeout 30s --timeout 300s "$BACKUP_DIR/$name" "$BACKUP_REMOTE/$name"
echo "uploaded $name to $BACKUP_REMOTE"

# Retention, only now that the new snapshot is on the target: this host's oldest beyond BACKUP_RETENTION.
timeout 300 rclone lsf --files-only --contimeout 30s --timeout 120s "$BACKUP_REMOTE" | grep -E "^$BACKUP_NAME-[0-9]{8}T[0-9]{6}Z\\.db\$" | sort -r \
  | tail -n "+$((BACKUP_RETENTION + 1))" | while read -r old; do
  timeout 300 rclone deletefile --contimeout 30s --timeout 120s "$BACKUP_REMOTE/$old"
  echo "deleted $old (retention $BACKUP_RETENTION)"
done
# Locally only the newest one.
find "$BACKUP_DIR" -maxdepth 1 -name "$BACKUP_NAME-*.db" ! -name "$name" -delete

# The snapshot is uploaded (and no longer at $partial): the metric's own trap may replace the one above.
publish_backup_success etcd
