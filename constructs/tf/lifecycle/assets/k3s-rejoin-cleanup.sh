#!/bin/sh
# proxmox-k3s-ha: runs on a K3s server that stays, before the rebuilt machine of NODE is created. Removes what the
# cluster still holds of NODE's previous machine, so the new one can join under the same name: its Node (deleting it,
# never forcing, lets K3s's finalizer remove a server's etcd member) and its node-password secret (else K3s refuses
# the new machine: "Node password rejected"). Waits first until the old machine has stopped answering (Terraform
# destroys it in parallel), so its kubelet cannot register the Node again. Every wait is bounded.
# Usage: k3s-rejoin-cleanup.sh NODE NODE_IP ETCD_MEMBER(0|1)
# PKH_K3S (default k3s) and PKH_K3S_DATA_DIR (default /var/lib/rancher/k3s/server) let tests stand in for K3s.
# Runs after lifecycle-lib.sh (waits_for).
set -eu
node=$1
node_ip=$2
etcd_member=$3
k3s=${PKH_K3S:-k3s}
data_dir=${PKH_K3S_DATA_DIR:-/var/lib/rancher/k3s/server}
# shellcheck disable=SC2034 # read by waits_for (lifecycle-lib.sh), as step below
wait_seconds=${PKH_WAIT_SECONDS:-600}
# shellcheck disable=SC2034
step="$node: rejoin cleanup"

kubectl() {
  "$k3s" kubectl --request-timeout=30s "$@"
}

old_machine_gone() {
  ! curl -sk --max-time 2 -o /dev/null "https://$node_ip:10250/healthz"
}

api_ready() {
  kubectl get --raw /readyz >/dev/null 2>&1
}

node_gone() {
  ! kubectl get node "$node" >/dev/null 2>&1
}

etcd_ready() {
  kubectl get --raw /readyz/etcd >/dev/null 2>&1
}

if [ ! -d "$data_dir" ]; then
  # K3s never ran here: the cluster is being built in this apply and holds nothing of NODE yet.
  echo "proxmox-k3s-ha: $node: no cluster on this server yet, nothing to clean up"
  exit 0
fi
waits_for "the previous machine at $node_ip to stop answering" old_machine_gone
waits_for "the API server to be ready" api_ready
if ! node_gone; then
  kubectl delete node "$node" --timeout=120s
fi
kubectl -n kube-system delete secret "$node.node-password.k3s" --ignore-not-found
waits_for "its Node to be deleted" node_gone
if [ "$etcd_member" = 1 ]; then
  waits_for "etcd to report ready without its member" etcd_ready
fi
echo "proxmox-k3s-ha: $node: the previous machine is out of the cluster; the rebuilt one joins under the same name"
