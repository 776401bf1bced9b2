import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { SiteSpec } from '../../constructs';
import { LOAD_BALANCERS } from '../failover/configs';
import { StandinHome, createStandinHome } from '../support/terraform-cli';
import { ConvergeDeadlines } from '../../constructs/cloud-init/render-converge';
import { VipChange } from './lab';
import { RollingChange, RollingRun, rollingSiteSpec } from './rolling-site';

/**
 * The rolling lab with machines: the load balancers' stack synthesized with its containers, applied by the real
 * Terraform CLI with the stand-in providers, whose bpg/proxmox acts out each guest event on the lab host of the same
 * name through `guest-hook.sh` (a restart: a clean reboot of the host's real daemons, `guest-reboot.sh`).
 */

/** One guest event the stand-in acted out (`create`, `restart`, `migrate`, `destroy`), and `restart-done`/`destroy-done` once the lab host acted it out. */
export interface GuestEvent { readonly t: number; readonly event: string; readonly host: string }

export class MachineRun {
  private constructor(public readonly run: RollingRun, private readonly home: StandinHome, private readonly eventLog: string,
    private readonly env: Readonly<Record<string, string>>) {}

  /**
   * Starts the lab with `sshHosts` (the load balancers by default) as machines, points the stand-in's guest hook at
   * them, and makes `terraform init` ready. `wipe`: data directories a destroy removes (guest-destroy.sh).
   */
  public static async start(options: { sshHosts?: readonly { name: string; ip: string }[]; wipe?: readonly string[] } = {}): Promise<MachineRun> {
    const run = await RollingRun.start(options.sshHosts);
    const home = createStandinHome();
    const dir = join(run.lab.workDir, 'guests');
    mkdirSync(join(dir, 'hosts'), { recursive: true });
    for (const host of run.loadBalancers.values()) {
      writeFileSync(join(dir, 'hosts', host.name), String(host.initPid));
    }
    const hook = join(dir, 'guest-hook.sh');
    copyFileSync(join(__dirname, 'guest-hook.sh'), hook);
    chmodSync(hook, 0o755);
    const eventLog = join(dir, 'events.log');
    writeFileSync(eventLog, '');
    const env = {
      ...home.env,
      PKH_STANDIN_GUEST_HOOK: hook,
      PKH_GUEST_HOOK_LOG: eventLog,
      PKH_GUEST_HOSTS: join(dir, 'hosts'),
      PKH_GUEST_REBOOT: join(__dirname, 'guest-reboot.sh'),
      PKH_GUEST_DESTROY: join(__dirname, 'guest-destroy.sh'),
      PKH_GUEST_WIPE: (options.wipe ?? []).join(':'),
      TF_VAR_proxmox_api_token: 'root@pam!rolling-lab=not-a-real-token',
    };
    run.useStandinProviders(env);
    return new MachineRun(run, home, eventLog, env);
  }

  /** Whether the next applies may destroy machines (a rebuild); the guest hook refuses a destroy otherwise. */
  public expectRebuilds(allowed: boolean): void {
    this.run.useStandinProviders({ ...this.env, PKH_GUEST_DESTROY_ALLOWED: allowed ? '1' : '0' });
  }

  /** Synthesizes `spec` with machines (every SSH host of the lab a container or VM the stack creates), with `deadlines` if given. */
  public synthSpec(spec: SiteSpec, deadlines?: Partial<ConvergeDeadlines>): void {
    this.run.synthSpec(spec, deadlines, { machines: true });
  }

  /** Synthesizes the site with machines, the load balancers' containers at `memoryMiB`. */
  public synth(memoryMiB: number, change: RollingChange = { extraServers: 0, healthCheckFall: 2 }): void {
    this.run.synthSpec(withLoadBalancerMemory(rollingSiteSpec(this.run.loadBalancers, change), memoryMiB), undefined, { machines: true });
  }

  /** The guest events since `since` (epoch ms), in order. */
  public events(since = 0): GuestEvent[] {
    return readFileSync(this.eventLog, 'utf8').split('\n').filter(Boolean)
      .map((line) => line.split(' ')).map(([t, event, host]) => ({ t: Number(t), event, host })).filter((e) => e.t >= since);
  }

  public async stop(): Promise<void> {
    await this.run.stop();
    this.home.dispose();
  }
}

function withLoadBalancerMemory(spec: SiteSpec, memoryMiB: number): SiteSpec {
  return { ...spec, hosts: spec.hosts.map((host) => (LOAD_BALANCERS.some((lb) => lb.name === host.name) ? { ...host, size: { ...host.size, memoryMiB } } : host)) };
}

/**
 * How long the VIP was on more than one host at a time, each time (ms). A handover is a preemption: the next holder
 * adds the address and announces it before the old one, hearing its advert, drops it, so a watch polling every 50 ms
 * may see both for a moment; a split brain would last.
 */
export function sharedVipSpans(changes: readonly VipChange[], end: number): number[] {
  return changes.flatMap((change, i) => (change.holders.length > 1 ? [(changes[i + 1]?.t ?? end) - change.t] : []));
}
