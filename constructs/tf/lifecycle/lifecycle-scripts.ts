import { readFileSync } from 'fs';
import { join } from 'path';

/** The lifecycle's shell scripts, shipped as files beside this module (each checked by shellcheck as it is). */
export enum LifecycleScript {
  /** A rebuilt node's old Node (a K3s server's etcd member with it) and K3s node password removed, from a control plane. */
  NODE_REJOIN_CLEANUP = 'node-rejoin-cleanup.sh',
  /** A rebuilt datastore etcd member replaced in the running cluster, from another member. */
  DATASTORE_ETCD_REJOIN = 'datastore-etcd-rejoin.sh',
  /** A VM's pending machine changes applied by a reboot through the Proxmox API, where Terraform runs. */
  PROXMOX_RESTART_PENDING = 'proxmox-restart-pending.sh',
}

const ASSETS = join(__dirname, 'assets');
/** The library the scripts that wait share (`waits_for`). */
const LIBRARY = readFileSync(join(ASSETS, 'lifecycle-lib.sh'), 'utf8');
/** Scripts that use the library. */
const USES_LIBRARY = new Set([LifecycleScript.NODE_REJOIN_CLEANUP, LifecycleScript.DATASTORE_ETCD_REJOIN]);

/** The text a script runs as: the library first when it uses it (its `#!` line dropped), then the script. */
export function lifecycleScript(script: LifecycleScript): string {
  const text = readFileSync(join(ASSETS, script), 'utf8');
  return USES_LIBRARY.has(script) ? `${LIBRARY}${text.replace(/^#!.*\n/, '')}` : text;
}
