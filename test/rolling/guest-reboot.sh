#!/bin/sh
# A clean reboot of a rolling-lab host, run inside it by guest-hook.sh: its enabled services stop (Keepalived first,
# which hands the VIP over with a priority-0 advertisement as on a real shutdown), the host stays down for a moment,
# and the enabled services start again (Keepalived last, as its track script would hold it back until HAProxy runs).
set -eu
state=${PKH_STANDIN_DIR:-/run/pkh-systemctl}
down_seconds=${PKH_REBOOT_DOWN_SECONDS:-2}
units=$(ls "$state/enabled")
ordered=$(printf '%s\n' "$units" | grep -vx keepalived || true)
if printf '%s\n' "$units" | grep -qx keepalived; then
  systemctl stop keepalived
fi
for unit in $ordered; do
  systemctl stop "$unit"
done
sleep "$down_seconds"
for unit in $ordered; do
  systemctl start "$unit"
done
if printf '%s\n' "$units" | grep -qx keepalived; then
  systemctl start keepalived
fi
