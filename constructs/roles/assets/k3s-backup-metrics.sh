#!/bin/sh
# Publishes when this K3s server's newest etcd snapshot reached the site's S3 backup target (rendered by
# proxmox-k3s-ha; run by the pkh-k3s-backup-metrics systemd timer), for node_exporter's textfile collector:
#   pkh_backup_last_success_timestamp_seconds{kind="etcd"}
# the same metric the kubeadm snapshot job writes. K3s uploads its scheduled snapshots itself and publishes no such
# metric. `k3s etcd-snapshot list -o json` (flag `output`, alias `o`: k3s pkg/cli/cmds/etcd_snapshot.go) prints an
# ETCDSnapshotFileList (k3s pkg/cli/etcdsnapshot/etcd_snapshot.go, list: formats json, yaml, table; K3s before 1.29
# printed a bare array: refused, the run fails and the last published time ages); each item's spec has snapshotName, nodeName, location (s3:// or file://) and s3
# (set for snapshots on the object store), its status creationTime (RFC 3339, UTC) and readyToUse
# (k3s pkg/apis/k3s.cattle.io/v1/types.go, ETCDSnapshotSpec and ETCDSnapshotStatus).
# Usage: k3s-backup-metrics.sh NODE_NAME   (the K3s node name of this server)
# K3S_BIN and PKH_TEXTFILE_DIR override the k3s command and the textfile directory (tests).
set -eu
node=${1:?usage: k3s-backup-metrics.sh NODE_NAME}
dir=${PKH_TEXTFILE_DIR:-/var/lib/prometheus/node-exporter}
# No node_exporter on this machine: nothing to publish to.
[ -d "$dir" ] || exit 0
# Bounded: a hung server or object store fails this run; the last published time stays and ages.
snapshots=$(timeout 120 "${K3S_BIN:-k3s}" etcd-snapshot list -o json)
newest=$(printf '%s\n' "$snapshots" | jq -r --arg node "$node" '
  if type != "object" or (.items | type) != "array" then error("k3s etcd-snapshot list -o json: not an ETCDSnapshotFileList") else . end
  | [.items[]
   | select(.spec.nodeName == $node)
   | select(.spec.s3 != null or ((.spec.location // "") | startswith("s3://")))
   | select(.status.readyToUse == true and .status.creationTime != null)
   | .status.creationTime | fromdateiso8601]
  | max // empty')
file="$dir/pkh-backup-etcd.prom"
if [ -z "$newest" ]; then
  # Nothing of this server on the target yet: no sample rather than a made-up time.
  rm -f "$file"
  exit 0
fi
# Not *.prom: the collector skips it until the rename.
tmp="$dir/.pkh-backup-etcd.prom.$$"
trap 'rm -f "$tmp"' EXIT
{
  echo '# HELP pkh_backup_last_success_timestamp_seconds When the last backup of this kind reached the backup target.'
  echo '# TYPE pkh_backup_last_success_timestamp_seconds gauge'
  echo "pkh_backup_last_success_timestamp_seconds{kind=\"etcd\"} $newest"
} > "$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$file"
