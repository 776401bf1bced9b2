import { Lazy, TerraformResource } from 'cdktf';
import { LifecycleScript, lifecycleScript } from './lifecycle-scripts';
import { MACHINE_RESTART_DEADLINE_SECONDS } from '../../site/defaults';
import { restartingValues } from '../provider-behaviour';
import { escapeTerraformTemplate, fingerprint } from '../terraform-template';

/**
 * Machine changes restarted in the host's rollout slot, not all at once by the provider. A VM is updated with
 * `reboot_after_update = false`, so Proxmox keeps a memory, cores or cloud-init network change pending (bpg/proxmox
 * vm.go 2215-2240, shared/providers/bpg-proxmox/BEHAVIOUR.md "In-place updates that restart the guest"); the host's
 * converge step, which runs in rollout order after the previous host passed its gates (and inside the drain of a
 * Kubernetes node), first reboots the VM through the Proxmox API when changes are pending
 * (`constructs/tf/lifecycle/assets/proxmox-restart-pending.sh`), then converges and runs the host's gates. A container, which
 * the provider restarts during its update, has that update wait for the previous hosts of the rollout instead.
 */

/** How the restart step reaches the Proxmox API: the provider's own endpoint and token. */
export interface ProxmoxApiAccess {
  /** `https://host:8006`, as the provider's `endpoint`. */
  readonly endpoint: string;
  /** The API token, as a reference to the sensitive variable; never a literal. */
  readonly apiToken: string;
  /** Skip TLS verification, as the provider's `insecure`. */
  readonly insecureTls: boolean;
}

/** The VM whose pending changes the step applies, as Terraform references (they follow a migration). */
export interface RestartTarget {
  readonly hostName: string;
  readonly nodeName: string;
  readonly vmId: string;
}

/** What a converge step adds to roll its machine's restarts: a trigger, and how the restart happens in the slot. */
export interface PendingRestart {
  /** Changes exactly when a setting that Proxmox applies only at a restart changes. */
  readonly fingerprint: string;
  /** A VM: the `local-exec` provisioner that reboots it through Proxmox when changes are pending. */
  readonly provisioner?: {
    readonly type: 'local-exec';
    readonly command: string;
    readonly environment: Record<string, string>;
  };
  /**
   * A container: the provider restarts it during its own update (container.go 3832-3886, 4162-4176; there is no
   * `reboot_after_update`), so that update waits for the previous hosts of the rollout, and the converge step after
   * it gates the host.
   */
  readonly machineWaitsForRollout?: boolean;
}

/**
 * A fingerprint of what a machine restarts for (the attributes with a `restart` rule in `provider-behaviour.ts`),
 * read from the resource as synthesized: a change made through an escape hatch (`addOverride('memory.dedicated', …)`,
 * a `hostpci` block) restarts the guest in its rollout slot like a change of the construct's props.
 */
export function machineRestartFingerprint(machine: TerraformResource): string {
  return Lazy.stringValue({
    produce: (context) => {
      const synthesized = (machine.toTerraform() as { resource: Record<string, Record<string, unknown>> }).resource[machine.terraformResourceType][machine.friendlyUniqueId];
      return fingerprint(JSON.stringify(restartingValues(machine.terraformResourceType, context.resolve(synthesized)) ?? null));
    },
  });
}

/** The restart "step" of a container: its machine update is ordered into the rollout. */
export function containerRestart(container: TerraformResource): PendingRestart {
  return { fingerprint: machineRestartFingerprint(container), machineWaitsForRollout: true };
}

/** The script (its header says what it does and why). */
const RESTART_SCRIPT = lifecycleScript(LifecycleScript.PROXMOX_RESTART_PENDING);

/**
 * The restart step of one VM: the fingerprint of what Proxmox applies only at a restart re-runs it
 * ({@link machineRestartFingerprint}).
 */
export function pendingRestart(vm: TerraformResource, target: RestartTarget, api: ProxmoxApiAccess, waitSeconds = MACHINE_RESTART_DEADLINE_SECONDS): PendingRestart {
  return {
    fingerprint: machineRestartFingerprint(vm),
    provisioner: {
      type: 'local-exec',
      command: escapeTerraformTemplate(RESTART_SCRIPT),
      environment: {
        PKH_HOST: target.hostName,
        PKH_PVE_ENDPOINT: escapeTerraformTemplate(api.endpoint),
        PKH_PVE_NODE: target.nodeName,
        PKH_VM_ID: target.vmId,
        PKH_PVE_API_TOKEN: api.apiToken,
        PKH_PVE_INSECURE: api.insecureTls ? '1' : '0',
        PKH_WAIT_SECONDS: String(waitSeconds),
      },
    },
  };
}
