import { IResolveContext, Lazy, TerraformResource, dependable } from 'cdktf';
import { Construct } from 'constructs';
import { CloudConfig } from '../../cloud-init/cloud-config';
import { ConvergeDeadlines, renderConvergeScript } from '../../cloud-init/render-converge';
import { CONVERGE_DEADLINE_MARGIN_MINUTES, DEFAULT_SERVICE_DEADLINE_SECONDS } from '../../site/defaults';
import { ConvergeRecord } from './change-report';
import { escapeTerraformTemplate, fingerprint } from '../terraform-template';
import { interpolatedExpressions, resolvedValuesFingerprint } from './secret-fingerprint';
import { PendingRestart } from './machine-restart';
import { TerraformData } from '../terraform-data';

/** A converge step's deadlines for a site with the default `controlPlane.joinApiWaitMinutes` (30). */
export const DEFAULT_CONVERGE_DEADLINES: ConvergeDeadlines = convergeDeadlines(30);

/**
 * The deadlines of a site's converge steps: the first boot and the whole converge get
 * {@link CONVERGE_DEADLINE_MARGIN_MINUTES} beyond the longest wait of a first configuration, `joinApiWaitMinutes`.
 */
export function convergeDeadlines(joinApiWaitMinutes: number, overrides: Partial<ConvergeDeadlines> = {}): ConvergeDeadlines {
  const firstConfiguration = (joinApiWaitMinutes + CONVERGE_DEADLINE_MARGIN_MINUTES) * 60;
  return { firstBootSeconds: firstConfiguration, convergeSeconds: firstConfiguration, serviceSeconds: DEFAULT_SERVICE_DEADLINE_SECONDS, ...overrides };
}

/** How a converge step reaches its host over SSH. */
export interface ConvergeConnection {
  /** The host's address. */
  readonly host: string;
  /** The SSH user: `root` (LXC) or the sudo-capable admin user (VMs, which disable root logins). */
  readonly user: string;
  /** The private key, as a reference to a sensitive variable; never a literal. */
  readonly privateKey: string;
  /**
   * The host's SSH host public key, pinned.
   *
   * @default - not pinned (the first connection trusts the address)
   */
  readonly hostKey?: string;
  /**
   * A jump host, reached with the same key.
   *
   * @default - a direct connection
   */
  readonly bastion?: { readonly host: string; readonly user?: string; readonly port?: number };
}

/** `sudo ` for a connection that does not log in as root (VMs' admin user), else nothing. */
export function sudoFor(connection: ConvergeConnection): string {
  return connection.user === 'root' ? '' : 'sudo ';
}

/** A Terraform `connection` block for a {@link ConvergeConnection} (the bastion reached with the same key). */
export function sshConnection(connection: ConvergeConnection) {
  return {
    type: 'ssh' as const,
    host: connection.host,
    user: connection.user,
    privateKey: connection.privateKey,
    timeout: '10m',
    ...(connection.hostKey ? { hostKey: escapeTerraformTemplate(connection.hostKey) } : {}),
    ...(connection.bastion ? {
      bastionHost: connection.bastion.host,
      bastionUser: connection.bastion.user ?? connection.user,
      bastionPort: connection.bastion.port ?? 22,
      bastionPrivateKey: connection.privateKey,
    } : {}),
  };
}

/** Properties of a {@link HostConverge}. */
export interface HostConvergeProps {
  /** The host's name (for messages and the change report). */
  readonly hostName: string;
  /** What the host is configured with; rendered at synthesis, so roles may still add to it. */
  readonly cloudConfig: CloudConfig;
  /** How to reach the host. */
  readonly connection: ConvergeConnection;
  /** A VM: wait for its first boot (cloud-init) to end before converging. */
  readonly waitForCloudInit: boolean;
  /**
   * How long the step waits, at most, for the first boot, the whole converge and each systemctl call.
   *
   * @default {@link DEFAULT_CONVERGE_DEADLINES}
   */
  readonly deadlines?: ConvergeDeadlines;
  /**
   * The machine the host runs on; a new machine converges again.
   *
   * @default - an existing host, not managed by this stack
   */
  readonly machine?: TerraformResource;
  /**
   * Facts the change report reads besides the files and services (e.g. the K3s version).
   *
   * @default {}
   */
  readonly facts?: Readonly<Record<string, string | number>>;
  /**
   * Roll the machine's restarts (see `machine-restart.ts`): its fingerprint re-runs the step in the host's rollout
   * slot; a VM is restarted through Proxmox first when changes are pending, a container's update waits for the
   * previous hosts of the rollout.
   *
   * @default - no machine restarts rolled (existing hosts)
   */
  readonly restart?: PendingRestart;
}

/**
 * Converges one existing host to its rendered configuration, in place: a `terraform_data` resource (the public
 * `resource`) whose triggers are the fingerprint of the host's converge script and a hash of the resolved values
 * it interpolates (so a rotated password, admin key or renewed certificate converges exactly the hosts that use
 * it, in rollout order), running that script over SSH with
 * a `file` and a `remote-exec` provisioner. The script rewrites only files that differ, reloads or restarts only
 * the services reading them, and ends with the host's health gates; a failure fails the resource, so hosts that
 * depend on it (see {@link placeInRollout}) stay untouched.
 *
 * The script holds the host's secrets as Terraform references; it is uploaded into a directory only root (or
 * the admin user) can read, and the command Terraform shows in its log holds no secret.
 */
export class HostConverge extends Construct {
  /** The `terraform_data` resource that converges the host. */
  public readonly resource: TerraformData;
  /** The host's name. */
  public readonly hostName: string;
  /** Changes when the VM's pending machine changes do, for a step that restarts it in its rollout slot. */
  public readonly restartFingerprint?: string;
  private readonly order: { position: number; after: string[] } = { position: 0, after: [] };
  /** A container whose updates (which the provider restarts it for) wait for the previous hosts of the rollout. */
  private readonly machineInRollout?: TerraformResource;
  private readonly cloudConfig: CloudConfig;
  /** The converge script as synthesized (Terraform references as expressions). */
  private readonly script: string;
  /** What the previous rollout step must finish before: the converge step, or a drain before it. */
  private first: TerraformData;
  /** What the next rollout step waits for: the converge step, or an uncordon after it. */
  private last: TerraformData;

  constructor(scope: Construct, id: string, props: HostConvergeProps) {
    super(scope, id);
    this.hostName = props.hostName;
    this.restartFingerprint = props.restart?.fingerprint;
    this.machineInRollout = props.restart?.machineWaitsForRollout ? props.machine : undefined;
    this.cloudConfig = props.cloudConfig;
    const config = props.cloudConfig;
    const script = Lazy.stringValue({ produce: () => escapeTerraformTemplate(renderConvergeScript(config, { waitForCloudInit: props.waitForCloudInit, deadlines: props.deadlines ?? DEFAULT_CONVERGE_DEADLINES })) });
    this.script = script;
    const { connection } = props;
    const home = connection.user === 'root' ? '/root' : `/home/${connection.user}`;
    const directory = `${home}/.proxmox-k3s-ha`;
    const scriptPath = `${directory}/converge.sh`;
    const record = Lazy.anyValue({
      produce: (context): ConvergeRecord => ({
        host: props.hostName,
        files: Object.fromEntries(config.files.map((file) => [file.path, fingerprint(`${file.mode} ${file.owner}\n${String(context.resolve(file.content))}`)])),
        services: config.services.map((service) => ({ unit: service.unit, watches: [...service.watches], onChange: service.onChange })),
        position: this.order.position,
        after: [...this.order.after],
        facts: { ...props.facts, ...(props.restart ? { machineRestartInRollout: 1 } : {}) },
      }),
    });
    this.resource = new TerraformData(this, 'Resource', {
      dependsOn: props.machine ? [props.machine] : undefined,
      triggersReplace: Lazy.anyValue({
        produce: (context) => {
          const text = String(context.resolve(script));
          // The text holds the secrets and keys as expressions: a rotated value changes only `secrets`.
          const secrets = resolvedValuesFingerprint(text);
          return {
            ...(props.machine ? { machine: props.machine.getStringAttribute('id') } : {}),
            configuration: fingerprint(text),
            ...(secrets ? { secrets } : {}),
            ...(props.restart ? { restart: props.restart.fingerprint } : {}),
          };
        },
      }),
      input: record,
      connection: sshConnection(connection),
      provisioners: [
        ...(props.restart?.provisioner ? [props.restart.provisioner] : []),
        { type: 'remote-exec', inline: [`umask 077 && mkdir -p ${directory} && chmod 0700 ${directory}`] },
        { type: 'file', content: script, destination: scriptPath },
        { type: 'remote-exec', inline: [`${sudoFor(connection)}sh ${scriptPath}`] },
      ],
    });
    this.first = this.resource;
    this.last = this.resource;
  }

  /**
   * Places the host in the rollout: it converges only after `previous` converged and passed their gates (and
   * finished what brackets them), and the change report records its position.
   */
  public placeInRollout(position: number, previous: readonly HostConverge[]): void {
    for (const other of previous) {
      this.first.dependsOn = [...(this.first.dependsOn ?? []), dependable(other.last)];
      if (this.machineInRollout) {
        this.machineInRollout.dependsOn = [...(this.machineInRollout.dependsOn ?? []), dependable(other.last)];
      }
    }
    this.order.position = position;
    this.order.after = previous.map((other) => other.hostName);
  }

  /**
   * Puts a step before and one after this converge step in the rollout (a drain and an uncordon): `before` runs
   * first, the converge waits for it, `after` waits for the converge, and the next host waits for `after`.
   */
  public bracket(before: TerraformData, after: TerraformData): void {
    this.resource.dependsOn = [...(this.resource.dependsOn ?? []), dependable(before)];
    after.dependsOn = [...(after.dependsOn ?? []), dependable(this.resource)];
    this.first = before;
    this.last = after;
  }

  /** Whether the host's configuration interpolates a value of the resource at `address` (`tls_locally_signed_cert.x`). */
  public usesValueOf(address: string, context: IResolveContext): boolean {
    return interpolatedExpressions(String(context.resolve(this.script))).some((expression) => expression.includes(`${address}.`));
  }

  /** A fingerprint of the files `unit` reads (its service's watched files), resolved as synthesized. */
  public serviceFingerprint(unit: string, context: IResolveContext): string {
    const service = this.cloudConfig.services.find((s) => s.unit === unit);
    if (!service) {
      throw new Error(`${this.hostName}: no service ${unit} on this host (services: ${this.cloudConfig.services.map((s) => s.unit).join(', ') || 'none'})`);
    }
    const files = this.cloudConfig.files.filter((file) => service.watches.includes(file.path));
    return fingerprint(files.map((file) => `${file.path}\n${String(context.resolve(file.content))}`).join('\n'));
  }

}
