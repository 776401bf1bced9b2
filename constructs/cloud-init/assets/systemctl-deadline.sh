#!/bin/sh
# proxmox-k3s-ha: systemctl with a deadline, first on PATH while a converge step runs. A call that does not end
# within PKH_SERVICE_SECONDS fails naming the host and the call: K3s's unit has TimeoutStartSec=0, so
# `systemctl restart k3s` would otherwise wait for its readiness forever. PKH_SYSTEMCTL is the real systemctl.
set -u
# Input from /dev/null: timeout runs systemctl in a background process group, which must not read a terminal.
if timeout -k 10 "$PKH_SERVICE_SECONDS" "$PKH_SYSTEMCTL" "$@" </dev/null; then
  exit 0
else
  status=$?
fi
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "proxmox-k3s-ha: $PKH_HOST: systemctl $*: gave up after $PKH_SERVICE_SECONDS s waiting for systemd to finish the job" >&2
fi
exit "$status"
