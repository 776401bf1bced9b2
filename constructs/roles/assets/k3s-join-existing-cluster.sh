#!/bin/sh
# proxmox-k3s-ha: runs on the site's first K3s server before K3s first starts there. A server that has no etcd member
# yet, while a cluster already answers at the API endpoint, is a rebuilt first server (its machine was lost and
# recreated): it joins that cluster through the endpoint instead of bootstrapping a second, empty one with
# `cluster-init`, as K3s's maintainers advise for a lost init node. A server with a member restarts it as it is.
# Usage: k3s-join-existing-cluster.sh CONFIG ETCD_DATA_DIR URL
# PKH_PROBE_ATTEMPTS (default 3) bounds how often the endpoint is asked, 2 s apart.
set -eu
config=$1
etcd_dir=$2
url=$3
attempts=${PKH_PROBE_ATTEMPTS:-3}

if [ -d "$etcd_dir" ]; then
  echo "proxmox-k3s-ha: $etcd_dir holds this server's etcd member: K3s restarts it"
  exit 0
fi
i=0
while [ "$i" -lt "$attempts" ]; do
  if curl -ksf --max-time 5 "$url/ping" | grep -q pong; then
    tmp=$(mktemp "$config.XXXXXX")
    grep -vx 'cluster-init: true' "$config" >"$tmp" || true
    printf 'server: %s\n' "$url" >>"$tmp"
    chmod 0600 "$tmp"
    mv "$tmp" "$config"
    echo "proxmox-k3s-ha: a cluster already answers at $url: this server joins it instead of bootstrapping a new one"
    exit 0
  fi
  i=$((i + 1))
  if [ "$i" -lt "$attempts" ]; then
    sleep 2
  fi
done
echo "proxmox-k3s-ha: no cluster answers at $url: this server bootstraps it (cluster-init)"
