#!/bin/sh
# proxmox-k3s-ha: runs where Terraform runs, in a VM's rollout slot, before its converge step and health gates.
# The VM's machine changes (memory, cores, cloud-init network settings) are applied with reboot_after_update = false,
# so Proxmox keeps them pending instead of the provider restarting every changed VM at once. When Proxmox reports
# pending changes for this VM, it is rebooted through the API (a reboot from inside the guest would not apply them)
# and the task is waited for; the converge step that follows waits for SSH and runs the host's gates. Every wait is
# bounded; the API token comes from the environment and is never printed.
# Environment: PKH_HOST (name, for messages), PKH_PVE_ENDPOINT (https://host:8006), PKH_PVE_NODE, PKH_VM_ID,
# PKH_PVE_API_TOKEN (user@realm!tokenid=secret), PKH_PVE_INSECURE (1: skip TLS verification), PKH_WAIT_SECONDS.
set -eu
host=${PKH_HOST:?}
endpoint=${PKH_PVE_ENDPOINT%/}
node=${PKH_PVE_NODE:?}
vm_id=${PKH_VM_ID:?}
wait_seconds=${PKH_WAIT_SECONDS:-900}
api="$endpoint/api2/json/nodes/$node/qemu/$vm_id"
insecure=
if [ "${PKH_PVE_INSECURE:-0}" = 1 ]; then
  insecure=-k
fi

fail() {
  echo "proxmox-k3s-ha: $host (VM $vm_id on $node): restart through Proxmox: $*" >&2
  exit 1
}

# api_call METHOD URL: the response body on stdout; fails naming the call on an HTTP or transport error. The token
# reaches curl through a header file on stdin, never its command line.
api_call() {
  # shellcheck disable=SC2086 # $insecure is empty or one flag
  printf 'Authorization: PVEAPIToken=%s\n' "${PKH_PVE_API_TOKEN:?}" \
    | curl -sS $insecure --fail-with-body --max-time 30 -X "$1" -H @- "$2" \
    || fail "$1 $2 failed (check the API token's VM.PowerMgmt and VM.Audit rights and the endpoint)"
}

# pending_keys JSON: the keys of the entries with a "pending" value or a "delete" mark, from the answer of
# GET /nodes/{node}/qemu/{vmid}/pending. (Each call is its own assignment: a failed call in a pipeline would pass.)
pending_keys() {
  printf %s "$1" | tr '{' '\n' | grep -E '"(pending|delete)":' | sed -n 's/.*"key":"\([^"]*\)".*/\1/p' | tr '\n' ' '
}

answer=$(api_call GET "$api/pending")
pending=$(pending_keys "$answer")
if [ -z "$pending" ]; then
  echo "proxmox-k3s-ha: $host: no pending machine change, no restart"
  exit 0
fi
echo "proxmox-k3s-ha: $host: pending machine changes ($pending): rebooting through Proxmox"
answer=$(api_call POST "$api/status/reboot")
upid=$(printf %s "$answer" | sed -n 's/.*"data":"\([^"]*\)".*/\1/p')
[ -n "$upid" ] || fail 'the reboot request returned no task id'
encoded_upid=$(printf %s "$upid" | sed 's/:/%3A/g; s/@/%40/g; s/!/%21/g')

deadline=$(($(date +%s) + wait_seconds))
while :; do
  status=$(api_call GET "$endpoint/api2/json/nodes/$node/tasks/$encoded_upid/status")
  case $status in
    *'"status":"stopped"'*)
      case $status in
        *'"exitstatus":"OK"'*) break ;;
        *) fail "the reboot task ended with $(printf %s "$status" | sed -n 's/.*"exitstatus":"\([^"]*\)".*/\1/p')" ;;
      esac
      ;;
  esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    fail "gave up after $wait_seconds s waiting for the reboot task to end"
  fi
  sleep 2
done
answer=$(api_call GET "$api/pending")
left=$(pending_keys "$answer")
[ -z "$left" ] || fail "changes are still pending after the reboot: $left"
echo "proxmox-k3s-ha: $host: rebooted, the pending changes are applied"
