#!/bin/sh
# restore-etcd <snapshot>: restores this kubeadm control plane's stacked etcd member from a snapshot (rendered by
# proxmox-k3s-ha), following the kubeadm procedure: the API server and etcd static pods are stopped, the snapshot is
# restored with this member's name, the cluster's members and its peer URL, the restored data replaces the data
# directory the etcd static pod mounts, and the static pods start again. Run it with the SAME snapshot on every
# control plane; the members form the cluster once a majority of them is restored.
#   <snapshot>  a snapshot file on this host, or the name of one on the backup target (see `rclone lsf`)
# Settings come from PKH_ETCD_BACKUP_ENV (default /etc/proxmox-k3s-ha/etcd-backup.env): RESTORE_MEMBER_NAME,
# RESTORE_INITIAL_CLUSTER, RESTORE_PEER_URL, RESTORE_OTHER_MEMBERS, ETCD_DATA_DIR, STATIC_POD_DIR, BACKUP_DIR,
# BACKUP_REMOTE, RCLONE_CONFIG and the ETCDCTL_* connection of this member.
set -eu
if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: restore-etcd <snapshot file or name of a snapshot on the backup target>" >&2
  exit 2
fi
snapshot=$1
env_file=${PKH_ETCD_BACKUP_ENV:-/etc/proxmox-k3s-ha/etcd-backup.env}
set -a
# shellcheck source=/dev/null
. "$env_file"
set +a
export ETCDCTL_API=3
: "${RESTORE_MEMBER_NAME:?}" "${RESTORE_INITIAL_CLUSTER:?}" "${RESTORE_PEER_URL:?}" "${ETCD_DATA_DIR:?}" "${STATIC_POD_DIR:?}" "${BACKUP_DIR:?}"
stopped_dir="$STATIC_POD_DIR.stopped-by-restore"
restoring="$ETCD_DATA_DIR.restoring"
if [ -e "$restoring" ] || [ -e "$stopped_dir" ]; then
  echo "restore-etcd: $restoring or $stopped_dir exists: an earlier restore did not finish; look at them, remove them, then run again" >&2
  exit 1
fi

mkdir -p "$BACKUP_DIR"
if [ -f "$snapshot" ]; then
  file=$snapshot
else
  case "$snapshot" in
    */* | .*) echo "restore-etcd: $snapshot is neither a file here nor a snapshot name (no '/', not starting with '.')" >&2; exit 2 ;;
  esac
  : "${BACKUP_REMOTE:?}"
  file="$BACKUP_DIR/restore-$snapshot"
  timeout 1800 rclone copyto --retries 3 --contimeout 30s --timeout 300s "$BACKUP_REMOTE/$snapshot" "$file"
fi
# A damaged file is refused before anything is stopped.
timeout 60 etcdctl --write-out=table snapshot status "$file"

mkdir -p "$stopped_dir"
for manifest in kube-apiserver.yaml etcd.yaml; do
  if [ -f "$STATIC_POD_DIR/$manifest" ]; then mv "$STATIC_POD_DIR/$manifest" "$stopped_dir/"; fi
done
echo "stopped the API server and etcd static pods; waiting for etcd to stop (at most 180 s)"
deadline=$(($(date +%s) + 180))
while timeout 5 etcdctl --dial-timeout=2s --command-timeout=3s endpoint health >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "restore-etcd: etcd still answers after 180 s; the static pods are in $stopped_dir (move them back to $STATIC_POD_DIR to undo)" >&2
    exit 1
  fi
  sleep 2
done

# etcdutl where installed (etcd 3.5+), else etcdctl's own restore (etcd 3.4).
tool=etcdctl
if command -v etcdutl >/dev/null 2>&1; then tool=etcdutl; fi
# One token for every member however each got the file (an old member that still runs cannot join the new cluster).
token=pkh-restored-etcd
timeout 600 "$tool" snapshot restore "$file" --name "$RESTORE_MEMBER_NAME" --initial-cluster "$RESTORE_INITIAL_CLUSTER" \
  --initial-cluster-token "$token" --initial-advertise-peer-urls "$RESTORE_PEER_URL" --data-dir "$restoring"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
if [ -e "$ETCD_DATA_DIR" ]; then mv "$ETCD_DATA_DIR" "$ETCD_DATA_DIR.before-restore-$stamp"; fi
mv "$restoring" "$ETCD_DATA_DIR"
for manifest in "$stopped_dir"/*.yaml; do
  if [ -f "$manifest" ]; then mv "$manifest" "$STATIC_POD_DIR/"; fi
done
rmdir "$stopped_dir"
echo "restored member $RESTORE_MEMBER_NAME from $file (the old data is in $ETCD_DATA_DIR.before-restore-$stamp)"
echo "next: run 'restore-etcd $snapshot' on ${RESTORE_OTHER_MEMBERS:-the other control planes}, then check:"
echo "  etcdctl member list   (every member started)   and   kubectl get nodes"
