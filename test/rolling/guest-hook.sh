#!/bin/sh
# The stand-in bpg/proxmox provider's guest hook in the rolling lab (PKH_STANDIN_GUEST_HOOK): acts out on the lab
# host of the same name what a real apply does to the guest, and logs "<epoch ms> <event> <name>" to
# $PKH_GUEST_HOOK_LOG. A restart is a clean reboot of the host (guest-reboot.sh, run inside its namespaces); a destroy
# stops the host's services and wipes its state (guest-destroy.sh), so the next create is a new machine at the same
# address; create and migrate leave the running host as it is (it exists already; a live migration keeps it running).
# A destroy is refused unless PKH_GUEST_DESTROY_ALLOWED is 1 (the test expects a rebuild); anything else is refused,
# so a test cannot pass by an event it did not expect.
# Usage: guest-hook.sh create|restart|migrate|destroy NAME. Environment: PKH_GUEST_HOOK_LOG, PKH_GUEST_HOSTS (a
# directory with one file per lab host, named after it, holding its init's PID), PKH_GUEST_REBOOT (guest-reboot.sh),
# PKH_GUEST_DESTROY (guest-destroy.sh), PKH_GUEST_WIPE (passed to it).
set -eu
event=$1
name=$2
printf '%s %s %s\n' "$(date +%s%3N)" "$event" "$name" >>"$PKH_GUEST_HOOK_LOG"
case $event in
  create | migrate) exit 0 ;;
  restart) script=$PKH_GUEST_REBOOT ;;
  destroy)
    if [ "${PKH_GUEST_DESTROY_ALLOWED:-0}" != 1 ]; then
      echo "the rolling lab does not expect a destroy of $name here" >&2
      exit 1
    fi
    script=$PKH_GUEST_DESTROY
    ;;
  *)
    echo "the rolling lab does not act out a $event of $name" >&2
    exit 1
    ;;
esac
pid=$(cat "$PKH_GUEST_HOSTS/$name") || {
  echo "no lab host $name" >&2
  exit 1
}
nsenter -t "$pid" -n -p -m -u --root --wd=/ env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  PKH_GUEST_WIPE="${PKH_GUEST_WIPE:-}" sh -s <"$script"
printf '%s %s %s\n' "$(date +%s%3N)" "$event-done" "$name" >>"$PKH_GUEST_HOOK_LOG"
