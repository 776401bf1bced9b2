#!/bin/sh
# The end of a rolling-lab host's machine, run inside it by guest-hook.sh on a destroy: its enabled services stop
# (Keepalived first, as on a real shutdown) and are disabled, and what a new machine would not have is wiped: the
# project's state and configuration, and the data directories the test names in PKH_GUEST_WIPE (colon-separated
# absolute paths, e.g. a PostgreSQL cluster or etcd's data). The lab host itself (its network, sshd) stays, as the
# next create stands for a new machine at the same address.
set -eu
state=${PKH_STANDIN_DIR:-/run/pkh-systemctl}
units=$(ls "$state/enabled")
if printf '%s\n' "$units" | grep -qx keepalived; then
  systemctl stop keepalived
fi
for unit in $(printf '%s\n' "$units" | grep -vx keepalived || true); do
  systemctl stop "$unit"
done
for unit in $units; do
  systemctl disable "$unit"
done
wipe="/etc/proxmox-k3s-ha:/var/lib/proxmox-k3s-ha${PKH_GUEST_WIPE:+:$PKH_GUEST_WIPE}"
old_ifs=$IFS
IFS=:
for path in $wipe; do
  case $path in
    /?*/?*) rm -rf -- "$path" ;;
    *)
      echo "guest-destroy.sh: refusing to wipe '$path' (an absolute path two levels deep is expected)" >&2
      exit 1
      ;;
  esac
done
IFS=$old_ifs
