#!/bin/sh
# Keepalived's ExecStop (proxmox-k3s-ha): when this load balancer holds the VIP, hand it over before Keepalived stops
# (a reboot, a shutdown, a restart). Writing 1 into the handover track file lowers this node's priority below every
# other load balancer's, so the next one takes the VIP over as a preemption: it announces the address (gratuitous
# ARP) while this node still holds it and its HAProxy still serves. A plain stop would drop the address first and
# leave clients sending to this node until the next holder's master-down timer ran out.
# Bounded: with no healthy peer the VIP stays, and Keepalived stops with it after WAIT_SECONDS. Never fails the stop.
# Usage: keepalived-handover.sh VIP TRACK_FILE WAIT_SECONDS
set -u
vip=$1
track_file=$2
wait_seconds=$3

holds_vip() {
  [ -n "$(ip -o addr show to "$vip" 2>/dev/null)" ]
}

holds_vip || exit 0
if ! echo 1 >"$track_file"; then
  echo "keepalived-handover: cannot write $track_file: stopping with $vip" >&2
  exit 0
fi
tries=$((wait_seconds * 10))
while holds_vip && [ "$tries" -gt 0 ]; do
  sleep 0.1
  tries=$((tries - 1))
done
if holds_vip; then
  echo "keepalived-handover: no other load balancer took $vip over within ${wait_seconds}s: stopping with it" >&2
else
  echo "keepalived-handover: $vip handed over"
fi
exit 0
