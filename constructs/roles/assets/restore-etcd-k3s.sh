#!/bin/sh
# restore-etcd <snapshot>: restores a K3s cluster's embedded etcd from a snapshot (rendered by proxmox-k3s-ha).
# This server resets the cluster from the snapshot (`k3s server --cluster-reset --cluster-reset-restore-path`) and
# starts as its only member; then the other servers, stopped before, have their old etcd data moved away and rejoin
# one at a time (the steps are printed at the end). The snapshot's bootstrap data is encrypted with the cluster's
# ORIGINAL token: without the token file nothing is touched. The procedure is K3s's own (stop every server, reset one
# from the snapshot, delete server/db on the others, rejoin them), and the token is the passphrase of the bootstrap
# data in each snapshot (after `k3s token rotate`, older snapshots need the old one): k3s-io/docs
# docs/cli/etcd-snapshot.md, as cited in ../shared/reference/ha-field-survey.md lines 235-236 and 248.
#   <snapshot>  the name of a snapshot on the backup target (`k3s etcd-snapshot list`), or the absolute path of a
#               snapshot file on this server (/var/lib/rancher/k3s/server/db/snapshots/...)
# K3s reads config.yaml (token-file, etcd-s3-* settings) itself; the S3 credentials come from the unit's 0600
# environment file. Settings in /etc/proxmox-k3s-ha/restore-etcd.env: RESTORE_OTHER_SERVERS, TOKEN_OUTPUT.
# PKH_RESTORE_ENV, PKH_K3S_TOKEN_FILE, PKH_K3S_ENV_FILE override the paths (tests).
set -eu
if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: restore-etcd <snapshot name on the backup target, or absolute path of a local snapshot file>" >&2
  exit 2
fi
snapshot=$1
settings=${PKH_RESTORE_ENV:-/etc/proxmox-k3s-ha/restore-etcd.env}
token_file=${PKH_K3S_TOKEN_FILE:-/etc/rancher/k3s/token}
env_file=${PKH_K3S_ENV_FILE:-/etc/rancher/k3s/k3s.env}
RESTORE_OTHER_SERVERS=''
TOKEN_OUTPUT='k3s_token'
# shellcheck source=/dev/null
if [ -f "$settings" ]; then . "$settings"; fi

if [ ! -s "$token_file" ]; then
  cat >&2 <<MESSAGE
restore-etcd: $token_file is missing or empty; nothing was changed.
The snapshot's bootstrap data is encrypted with the cluster's ORIGINAL token. Get it from the site's Terraform state,
  terraform output -raw $TOKEN_OUTPUT      (or the TF_VAR_k3s_token you set, with secrets from variables)
write it to $token_file (mode 0600, one line), then run restore-etcd again.
MESSAGE
  exit 1
fi
case "$snapshot" in
  /*)
    if [ ! -f "$snapshot" ]; then echo "restore-etcd: $snapshot: no such snapshot file on this server" >&2; exit 2; fi
    source_flags='--etcd-s3=false' ;;
  */* | .* | *[!A-Za-z0-9._-]*)
    echo "restore-etcd: $snapshot is not a snapshot name (letters, digits, '.', '_', '-') nor an absolute path" >&2; exit 2 ;;
  *) source_flags='--etcd-s3' ;;
esac

# The S3 credentials, without running the environment file as shell code.
if [ -f "$env_file" ]; then
  while IFS='=' read -r key value; do
    case "$key" in
      AWS_ACCESS_KEY_ID | AWS_SECRET_ACCESS_KEY) export "$key=$value" ;;
    esac
  done < "$env_file"
fi

echo "restore-etcd: the other servers (${RESTORE_OTHER_SERVERS:-none}) must be stopped first: systemctl stop k3s on each"
if [ -t 0 ]; then
  printf 'Are they stopped? Type yes to reset the cluster from %s: ' "$snapshot"
  read -r answer
  [ "$answer" = yes ] || { echo "restore-etcd: nothing was changed" >&2; exit 1; }
fi

timeout 300 systemctl stop k3s
# K3s exits once the reset is done ("restart without --cluster-reset"); bounded for a download that hangs.
# shellcheck disable=SC2086 # source_flags is one flag
timeout 1800 k3s server --cluster-reset "--cluster-reset-restore-path=$snapshot" $source_flags
timeout 300 systemctl start k3s
echo "waiting for this node to be Ready (at most 600 s)"
deadline=$(($(date +%s) + 600))
until [ "$(timeout 20 k3s kubectl get node "$(hostname)" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "restore-etcd: this node is not Ready after 600 s: journalctl -u k3s" >&2
    exit 1
  fi
  sleep 5
done
echo "restored $snapshot on $(hostname); this server is the cluster's only etcd member now."
echo "Then, ONE server at a time, waiting for each to be Ready before the next:"
for server in $RESTORE_OTHER_SERVERS; do
  echo "  on $server:  sudo systemctl stop k3s; sudo mv /var/lib/rancher/k3s/server/db /var/lib/rancher/k3s/server/db.before-restore; sudo systemctl start k3s"
  echo "  here:        k3s kubectl wait --for=condition=Ready node/$server --timeout=600s"
done
echo "Finally: k3s kubectl get nodes (every server Ready, role etcd)."
