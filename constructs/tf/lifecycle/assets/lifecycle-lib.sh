#!/bin/sh
# proxmox-k3s-ha: the shell library of the lifecycle scripts (rejoin cleanup, datastore rejoin), put before each one
# when it is synthesized (lifecycleScript in lifecycle-scripts.ts). A script sets `step` (for messages) and
# `wait_seconds` before it waits.

# waits_for DESCRIPTION COMMAND...: retries COMMAND every 2 s until it succeeds or wait_seconds pass, then fails the
# step naming what it waited for.
waits_for() {
  what=$1
  shift
  deadline=$(($(date +%s) + ${wait_seconds:?}))
  until "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "proxmox-k3s-ha: ${step:?}: gave up after $wait_seconds s waiting for $what" >&2
      exit 1
    fi
    sleep 2
  done
}
