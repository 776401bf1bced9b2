#!/bin/sh
# etcd's ExecStartPre on a datastore member: decides ETCD_INITIAL_CLUSTER_STATE, which etcd reads only while its data
# directory is empty, and writes it to OUT (an EnvironmentFile read after the rendered one):
#   etcd-initial-state.sh OUT PEER_URL OTHER_CLIENT_URLS [ETCDCTL TLS OPTIONS...]
# "existing" when the other members answer and list this member's peer URL as not started yet, without a name: a
# rebuilt member, which its rejoin step (constructs/tf/lifecycle/assets/datastore-etcd-rejoin.sh) added to the running cluster
# again; "new" otherwise (the members of a new datastore, which the others list under their names from the initial
# cluster, or none answers yet). Bounded: etcdctl gives up after a few seconds, and then the state is "new".
set -eu
out=$1
peer_url=$2
others=$3
shift 3
state=new
if [ ! -d "${ETCD_DATA_DIR:?}/member" ]; then
  members=$(etcdctl --endpoints "$others" "$@" --dial-timeout=2s --command-timeout=5s member list 2>/dev/null) || members=
  if printf '%s\n' "$members" | awk -F', ' -v url="$peer_url" '$4 == url && $2 == "unstarted" { found = 1 } END { exit !found }'; then
    state=existing
  fi
fi
mkdir -p "$(dirname "$out")"
printf 'ETCD_INITIAL_CLUSTER_STATE=%s\n' "$state" >"$out"
echo "${0##*/}: ETCD_INITIAL_CLUSTER_STATE=$state" >&2
