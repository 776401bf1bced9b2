#!/bin/sh
# proxmox-k3s-ha: patronictl for operators and the runbook (installed as /usr/local/bin/patronictl, first on root's
# PATH): Debian's patronictl on etcd's v3 API (patroni-etcd-v3.py), with the REST API credentials of Patroni's
# environment file, which switchover, failover, restart and reinit need (without them Patroni answers "401, no auth
# header received" and patronictl still exits 0). The file is root's alone: another user runs without them.
# Usage: patronictl [ARGUMENTS...]
set -eu
env_file=/etc/proxmox-k3s-ha/patroni.env
if [ -r "$env_file" ]; then
  set -a
  # shellcheck disable=SC1090 # rendered by proxmox-k3s-ha: KEY=value lines of letters and digits
  . "$env_file"
  set +a
fi
exec /usr/bin/python3 /usr/local/lib/proxmox-k3s-ha/patroni-etcd-v3.py patronictl "$@"
