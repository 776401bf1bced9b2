#!/bin/sh
# proxmox-k3s-ha: the deadlines of a converge step, rendered into converge.sh after the settings below. No wait of
# a converge step is unbounded: past its deadline a step fails with one line naming the host, the step and what it
# waited for, and the converge exits non-zero, so Terraform stops the rollout there.

# Settings (the rendered script sets them before this library; the defaults are only for running it alone).
pkh_host=${pkh_host:-$(uname -n)}
pkh_first_boot_seconds=${pkh_first_boot_seconds:-3600}
pkh_converge_seconds=${pkh_converge_seconds:-3600}
pkh_service_seconds=${pkh_service_seconds:-600}

# pkh_bounded SECONDS STEP WHAT COMMAND...: runs COMMAND for at most SECONDS (then TERM, KILL 10 s later);
# returns its status, and past the deadline says so, naming the host, STEP and WHAT it waited for. COMMAND runs in
# its own process group (so the deadline reaches its children): its input is /dev/null, since a background group
# that reads the terminal of Terraform's SSH session would be stopped (SIGTTIN) instead of reading nothing.
pkh_bounded() {
  pkh_seconds=$1 pkh_step=$2 pkh_what=$3
  shift 3
  if timeout -k 10 "$pkh_seconds" "$@" </dev/null; then
    return 0
  else
    pkh_status=$?
  fi
  if [ "$pkh_status" -eq 124 ] || [ "$pkh_status" -eq 137 ]; then
    echo "proxmox-k3s-ha: $pkh_host: $pkh_step: gave up after $pkh_seconds s waiting for $pkh_what" >&2
  fi
  return "$pkh_status"
}

# pkh_wait_first_boot: a VM's converge step may reach it while its first boot (cloud-init) still runs, and both
# would configure it at once: wait for the first boot to end. One that ended with an error is finished by this
# converge; one that does not end within the deadline fails the step.
pkh_wait_first_boot() {
  command -v cloud-init >/dev/null 2>&1 || return 0
  if pkh_bounded "$pkh_first_boot_seconds" 'first boot' "cloud-init's first boot to end (cloud-init status --wait; see /var/log/cloud-init-output.log)" \
    cloud-init status --wait >/dev/null; then
    return 0
  else
    pkh_status=$?
  fi
  if [ "$pkh_status" -eq 124 ] || [ "$pkh_status" -eq 137 ]; then
    exit 1
  fi
  echo "proxmox-k3s-ha: $pkh_host: the first boot ended with an error; converging finishes it" >&2
}

# pkh_within_deadline SCRIPT: runs SCRIPT (this converge script) again, once, bounded by the converge deadline,
# and exits with its status; in that run it returns at once.
pkh_within_deadline() {
  if [ -n "${PKH_WITHIN_DEADLINE:-}" ]; then
    return 0
  fi
  PKH_WITHIN_DEADLINE=1
  export PKH_WITHIN_DEADLINE
  pkh_bounded "$pkh_converge_seconds" converge 'the converge script (files, services, health gates) to finish' sh "$1" || exit "$?"
  exit 0
}

# pkh_bound_services WRAPPER: puts WRAPPER (systemctl-deadline.sh) first on PATH as systemctl for this script and
# every script it runs (configure.sh), so each systemctl call ends within the service deadline.
pkh_bound_services() {
  PKH_SYSTEMCTL=$(command -v systemctl) || return 0
  pkh_bin=$(mktemp -d)
  # Removed when the converge ends, however it ends.
  trap 'rm -rf "$pkh_bin"' EXIT
  printf '%s' "$1" > "$pkh_bin/systemctl"
  chmod 0755 "$pkh_bin/systemctl"
  PKH_HOST=$pkh_host PKH_SERVICE_SECONDS=$pkh_service_seconds PATH="$pkh_bin:$PATH"
  export PKH_SYSTEMCTL PKH_HOST PKH_SERVICE_SECONDS PATH
}
