import { readFileSync } from 'fs';
import { join } from 'path';

/** The lifecycle's shell scripts, shipped as files beside this module (each checked by shellcheck as it is). */
export enum LifecycleScript {
  /** A rebuilt K3s node's old Node, node password and etcd member removed, from another server. */
  K3S_REJOIN_CLEANUP = 'k3s-rejoin-cleanup.sh',
  /** A rebuilt datastore etcd member replaced in the running cluster, from another member. */
  DATASTORE_ETCD_REJOIN = 'datastore-etcd-rejoin.sh',
  /** A VM's pending machine changes applied by a reboot through the Proxmox API, where Terraform runs. */
  PROXMOX_RESTART_PENDING = 'proxmox-restart-pending.sh',
}

const ASSETS = join(__dirname, 'assets');
/** The library the scripts that wait share (`waits_for`). */
const LIBRARY = readFileSync(join(ASSETS, 'lifecycle-lib.sh'), 'utf8');
/** Scripts that use the library. */
const USES_LIBRARY = new Set([LifecycleScript.K3S_REJOIN_CLEANUP, LifecycleScript.DATASTORE_ETCD_REJOIN]);

/** The text a script runs as: the library first when it uses it (its `#!` line dropped), then the script. */
export function lifecycleScript(script: LifecycleScript): string {
  const text = readFileSync(join(ASSETS, script), 'utf8');
  return USES_LIBRARY.has(script) ? `${LIBRARY}${text.replace(/^#!.*\n/, '')}` : text;
}
