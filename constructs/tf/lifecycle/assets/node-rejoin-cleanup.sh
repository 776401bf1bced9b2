#!/bin/sh
# proxmox-k3s-ha: runs on a control-plane host that stays, before the rebuilt machine of NODE is created. Removes
# what the cluster still holds of NODE's previous machine, so the new one can join under the same name: its Node
# (deleting it, never forcing, lets K3s's finalizer remove a server's etcd member) and, on K3s, its node-password
# secret (else K3s refuses the new machine: "Node password rejected"). Waits first until the old machine has stopped
# answering (Terraform destroys it in parallel), so its kubelet cannot register the Node again. Every wait is bounded.
# Usage: node-rejoin-cleanup.sh NODE NODE_IP ETCD_MEMBER(0|1)
# Environment (set by the stack, per distribution: node-lifecycle.ts): PKH_KUBECTL, the admin kubectl command;
# PKH_CLUSTER_MARKER, a path that exists once the cluster runs on this host; PKH_K3S_NODE_PASSWORD, 1 to delete
# K3s's node-password secret, 0 on kubeadm.
# Runs after lifecycle-lib.sh (waits_for).
set -eu
node=$1
node_ip=$2
etcd_member=$3
kubectl_command=${PKH_KUBECTL:?the admin kubectl command}
cluster_marker=${PKH_CLUSTER_MARKER:?a path that exists once the cluster runs here}
k3s_node_password=${PKH_K3S_NODE_PASSWORD:?1 or 0}
# shellcheck disable=SC2034 # read by waits_for (lifecycle-lib.sh), as step below
wait_seconds=${PKH_WAIT_SECONDS:-600}
# shellcheck disable=SC2034
step="$node: rejoin cleanup"

kubectl() {
  # shellcheck disable=SC2086 # the command and its own arguments, split into words on purpose
  $kubectl_command --request-timeout=30s "$@"
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

if [ ! -e "$cluster_marker" ]; then
  # The cluster never ran here: it is being built in this apply and holds nothing of NODE yet.
  echo "proxmox-k3s-ha: $node: no cluster on this host yet, nothing to clean up"
  exit 0
fi
waits_for "the previous machine at $node_ip to stop answering" old_machine_gone
waits_for "the API server to be ready" api_ready
if ! node_gone; then
  kubectl delete node "$node" --timeout=120s
fi
if [ "$k3s_node_password" = 1 ]; then
  kubectl -n kube-system delete secret "$node.node-password.k3s" --ignore-not-found
fi
waits_for "its Node to be deleted" node_gone
if [ "$etcd_member" = 1 ]; then
  waits_for "etcd to report ready without its member" etcd_ready
fi
echo "proxmox-k3s-ha: $node: the previous machine is out of the cluster; the rebuilt one joins under the same name"
