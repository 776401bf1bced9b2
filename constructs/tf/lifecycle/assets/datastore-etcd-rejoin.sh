#!/bin/sh
# proxmox-k3s-ha: runs on a datastore etcd member that stays, before the rebuilt machine of MEMBER is created. etcd
# never lets a fresh data directory take over an old member's identity: the old member is removed from the cluster
# and MEMBER is added again as a new member (same name and peer URL), which the new machine's etcd joins with
# ETCD_INITIAL_CLUSTER_STATE=existing; Patroni on a rebuilt datastore node then clones its replica from the leader.
# Waits first until the old machine has stopped answering (Terraform destroys it in parallel), so it cannot take part
# again. Idempotent: an added member that has not started yet is left as it is. Every wait is bounded.
# Usage: datastore-etcd-rejoin.sh MEMBER PEER_URL CLIENT_URL
# PKH_ETCD_ENDPOINT: this member's client URL; PKH_ETCDCTL_TLS: etcdctl's certificate options (empty without TLS);
# PKH_ETCD_DATA_DIR: this member's data directory. Runs after lifecycle-lib.sh (waits_for).
set -eu
member=$1
peer_url=$2
client_url=$3
local_endpoint=${PKH_ETCD_ENDPOINT:?}
tls_options=${PKH_ETCDCTL_TLS:-}
data_dir=${PKH_ETCD_DATA_DIR:?}
# shellcheck disable=SC2034 # read by waits_for (lifecycle-lib.sh), as step below
wait_seconds=${PKH_WAIT_SECONDS:-600}
# shellcheck disable=SC2034
step="$member: datastore etcd rejoin"

# etcdctl_at ENDPOINT ARGS...: etcdctl against one endpoint, with bounded dial and command times.
etcdctl_at() {
  endpoint=$1
  shift
  # shellcheck disable=SC2086 # $tls_options is a list of options
  etcdctl --endpoints "$endpoint" $tls_options --dial-timeout=2s --command-timeout=10s "$@"
}

run_etcdctl() {
  etcdctl_at "$local_endpoint" "$@"
}

old_member_gone() {
  ! etcdctl_at "$client_url" endpoint health >/dev/null 2>&1
}

quorum_healthy() {
  run_etcdctl endpoint health >/dev/null 2>&1
}

# The member-list line (id, status, name, peer URLs, client URLs, learner) of the member with PEER_URL.
member_line() {
  run_etcdctl member list | awk -F', ' -v url="$peer_url" '$4 == url'
}

if [ ! -d "$data_dir/member" ]; then
  # etcd never ran here: the datastore is being built in this apply and holds nothing of MEMBER yet.
  echo "proxmox-k3s-ha: $member: no datastore etcd on this member yet, nothing to rejoin"
  exit 0
fi
waits_for "the previous machine's etcd at $client_url to stop answering" old_member_gone
waits_for "this member's etcd to answer with a quorum" quorum_healthy
line=$(member_line)
if [ -n "$line" ] && [ "$(printf %s "$line" | awk -F', ' '{ print $2 }')" = unstarted ]; then
  echo "proxmox-k3s-ha: $member: already added again, waiting for its new machine"
  exit 0
fi
if [ -n "$line" ]; then
  run_etcdctl member remove "$(printf %s "$line" | awk -F', ' '{ print $1 }')"
fi
run_etcdctl member add "$member" --peer-urls="$peer_url"
line=$(member_line)
[ -n "$line" ] || {
  echo "proxmox-k3s-ha: $member: datastore etcd rejoin: the member list has no $peer_url after member add" >&2
  exit 1
}
echo "proxmox-k3s-ha: $member: the previous machine's etcd member is replaced; the rebuilt machine joins the existing cluster"
