import { App, LocalBackend } from 'cdktf';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { DatastoreKind, HostKind, HostRole, SiteSpec, SiteStack, defineSite } from '../../constructs';
import { API_PORT, API_SERVERS, LAB_SITE, LOAD_BALANCERS } from '../failover/configs';
import { LAB_VIP, labAddress } from '../failover/lab';
import { LabNode } from '../failover/lab';
import { JournalEntry, LabHost, RollingLab, VipChange } from './lab';
import type { ProbeResult } from '../failover/scenarios';
import { ConvergeDeadlines } from '../../constructs/cloud-init/render-converge';

/**
 * A rolling update for real: the failover lab's site (three load balancers in front of three API servers, and two
 * Bind9 servers for the DNS run) as a site of existing hosts, synthesized by SiteStack and applied by the real
 * Terraform CLI, whose SSH provisioners converge the real daemons on lab hosts. Hosts without SSH (the API servers)
 * are stand-ins the stack does not manage.
 */

/** The stats password the run passes as a sensitive variable; it must never show in Terraform's output. */
export const STATS_PASSWORD = 'RollingLabStats0nly';
const K3S_TOKEN = 'RollingLabToken0nly';
/** The K3s database user's password in the datastore run (the writer client logs in with it). */
export const POSTGRES_K3S_PASSWORD = 'RollingLabK3sDb0nly';

/** What can change between applies: extra API servers (backends) and HAProxy's check `fall`. */
export interface RollingChange {
  readonly extraServers: number;
  readonly healthCheckFall: number;
}

export const EXTRA_SERVERS = [{ name: 'api-4', ip: labAddress(24) }];

/** The lab site with the given change, its load balancers as existing LXC-like hosts with pinned host keys. */
export function rollingSiteSpec(hosts: ReadonlyMap<string, LabHost>, change: RollingChange): SiteSpec {
  const extra = EXTRA_SERVERS.slice(0, change.extraServers).map((server, i) => ({ ...server, vmId: 224 + i, proxmoxNode: 'pve1', roles: [HostRole.K3S_SERVER] }));
  return {
    ...LAB_SITE,
    name: 'rolling-lab',
    hosts: [
      ...LAB_SITE.hosts.map((host) => (hosts.has(host.name) ? { ...host, kind: HostKind.LXC, sshHostKey: hosts.get(host.name)!.hostKey } : host)),
      ...extra,
    ],
    loadBalancer: { ...LAB_SITE.loadBalancer, healthCheckFall: change.healthCheckFall },
    controlPlane: { allowEvenServerCount: true },
  };
}

/** The Bind9 servers of the DNS run (the first is the primary). */
export const DNS_SERVERS = [{ name: 'dns-1', ip: labAddress(31) }, { name: 'dns-2', ip: labAddress(32) }];

/** The lab site with two Bind9 servers on SSH hosts; `extraServers` adds API servers, so records to the zone. */
export function dnsSiteSpec(hosts: ReadonlyMap<string, LabHost>, extraServers: number): SiteSpec {
  const base = rollingSiteSpec(new Map(), { extraServers, healthCheckFall: 2 });
  return {
    ...base,
    hosts: [
      ...base.hosts,
      ...DNS_SERVERS.map((server, i) => ({ ...server, vmId: 231 + i, proxmoxNode: `pve${i + 1}`, roles: [HostRole.DNS], kind: HostKind.LXC, sshHostKey: hosts.get(server.name)!.hostKey })),
    ],
    dns: {},
  };
}

/** The PostgreSQL pair of the datastore run; they also run the load balancers (seed 000). */
/** The lab's values of Patroni's own passwords, as Terraform variables (letters and digits). */
export const PATRONI_OWN_PASSWORD_VARIABLES: Readonly<Record<string, string>> = {
  TF_VAR_postgres_replication_password: 'RollingLabReplication0nly',
  TF_VAR_postgres_superuser_password: 'RollingLabSuperuser0nly',
  TF_VAR_postgres_rewind_password: 'RollingLabRewind0nly',
  TF_VAR_patroni_api_password: 'RollingLabPatroniApi0nly',
};
export const PG_NODES = [{ name: 'pg-1', ip: labAddress(61) }, { name: 'pg-2', ip: labAddress(62) }];
/** The third load balancer of the datastore run, which hosts the etcd witness (the default witness: a load balancer outside the datastore). */
export const PG_WITNESS = { name: 'pg-witness', ip: labAddress(63) };
/** The datastore run's VIP (the writer endpoint's address). */
export const PG_VIP = labAddress(60);

/**
 * Seed 000's shape in the lab: two PostgreSQL nodes (Patroni) that also run HAProxy + Keepalived (the writer
 * endpoint on the VIP), plus a third load balancer that hosts the etcd witness; without TLS (its keys would need
 * Terraform's tls provider), K3s servers left to the lab (not started).
 */
export function postgresSiteSpec(hosts: ReadonlyMap<string, LabHost>, version: number, synchronousCommit: boolean): SiteSpec {
  return {
    ...LAB_SITE,
    name: 'rolling-pg',
    hosts: [
      ...PG_NODES.map((node, i) => ({
        ...node, vmId: 261 + i, proxmoxNode: `pve${i + 1}`, roles: [HostRole.DATASTORE, HostRole.LOAD_BALANCER], kind: HostKind.LXC,
        sshHostKey: hosts.get(node.name)!.hostKey, size: { memoryMiB: 1024 },
      })),
      { ...PG_WITNESS, vmId: 263, proxmoxNode: 'pve3', roles: [HostRole.LOAD_BALANCER], kind: HostKind.LXC, sshHostKey: hosts.get(PG_WITNESS.name)!.hostKey },
      ...API_SERVERS.map((server, i) => ({ ...server, vmId: 221 + i, proxmoxNode: `pve${i + 1}`, roles: [HostRole.K3S_SERVER] })),
    ],
    apiEndpoint: { vip: PG_VIP, port: API_PORT },
    loadBalancer: {},
    controlPlane: { datastore: DatastoreKind.POSTGRES },
    postgres: { version, tls: false, synchronousCommit },
  };
}

/** A running lab: SSH hosts (the load balancers by default), the stand-in API servers, a Terraform working directory. */
export class RollingRun {
  public readonly lab = new RollingLab();
  /** The SSH hosts by name (the load balancers, or the DNS servers). */
  public readonly loadBalancers = new Map<string, LabHost>();
  public readonly terraformDir: string;
  private readonly apiNodes: LabNode[] = [];
  /** Extra environment of every Terraform run: the stand-in providers and their guest hook, for a stack with machines. */
  private terraformEnv: Readonly<Record<string, string>> = {};

  private constructor() {
    this.terraformDir = join(this.lab.workDir, 'terraform');
    mkdirSync(this.terraformDir, { recursive: true });
  }

  /** Starts the lab with `sshHosts` as SSH hosts; `stop()` it in every case. */
  public static async start(sshHosts: readonly { name: string; ip: string }[] = LOAD_BALANCERS): Promise<RollingRun> {
    const run = new RollingRun();
    for (const host of sshHosts) {
      run.loadBalancers.set(host.name, await run.lab.addSshHost(host.name, host.ip));
    }
    for (const server of [...API_SERVERS, ...EXTRA_SERVERS]) {
      const node = run.lab.addNode(server.name, server.ip);
      run.lab.startApiStandin(node);
      run.apiNodes.push(node);
    }
    return run;
  }

  /** Synthesizes the load balancer site with `change` into the Terraform directory. */
  public synth(change: RollingChange): void {
    this.synthSpec(rollingSiteSpec(this.loadBalancers, change));
  }

  /**
   * Synthesizes `spec` into the Terraform directory (`cdk.tf.json`), as `cdktf synth` would: hosts are existing
   * ones, the lab's SSH hosts are managed and every other host is left to the lab.
   */
  public synthSpec(spec: SiteSpec, deadlines?: Partial<ConvergeDeadlines>, options: { machines?: boolean } = {}): void {
    const outdir = join(this.lab.workDir, 'cdktf.out');
    const app = new App({ outdir });
    const site = defineSite(spec);
    const stack = new SiteStack(app, site.name, {
      site,
      existingHosts: !options.machines,
      unmanagedHosts: site.hosts.filter((host) => !this.loadBalancers.has(host.name)).map((host) => host.name),
      secrets: 'variables',
      serverManifests: [],
      ...(deadlines ? { deadlines } : {}),
    });
    // cdktf's default local backend writes the state into the current directory (the repository): keep it in the lab.
    new LocalBackend(stack, { path: join(this.terraformDir, 'terraform.tfstate') });
    app.synth();
    const json = readFileSync(join(outdir, 'stacks', site.name, 'cdk.tf.json'), 'utf8');
    writeFileSync(join(this.terraformDir, 'cdk.tf.json'), json);
  }

  /**
   * Terraform runs with the stand-in providers (`env`: a stand-in home's, with `PKH_STANDIN_GUEST_HOOK` acting out
   * guest restarts on the lab's hosts), for a stack synthesized with machines.
   */
  public useStandinProviders(env: Readonly<Record<string, string>>): void {
    this.terraformEnv = env;
  }

  /** `terraform init` (offline: terraform_data is built in; the stand-in providers come from a local mirror). */
  public async init(): Promise<void> {
    const result = await this.lab.runTerraform(this.terraformDir, ['init', '-input=false', '-no-color'], { ...this.terraformEnv });
    if (result.status !== 0) {
      throw new Error(`terraform init failed: ${result.stdout}${result.stderr}`);
    }
  }

  /**
   * `terraform apply` with the secrets as sensitive variables (`variables` replaces some, e.g. a rotated key);
   * returns its result and how long it took.
   */
  public async apply(variables: Readonly<Record<string, string>> = {}): Promise<{ status: number | null; output: string; ms: number }> {
    const started = Date.now();
    const result = await this.lab.runTerraform(this.terraformDir, ['apply', '-auto-approve', '-input=false', '-no-color'], {
      ...this.terraformEnv,
      TF_VAR_ssh_private_key: this.lab.privateKey,
      TF_VAR_admin_ssh_public_key: this.lab.publicKey,
      TF_VAR_haproxy_stats_password: STATS_PASSWORD,
      TF_VAR_k3s_token: K3S_TOKEN,
      TF_VAR_postgres_k3s_password: POSTGRES_K3S_PASSWORD,
      ...PATRONI_OWN_PASSWORD_VARIABLES,
      ...variables,
    }, 600_000);
    return { status: result.status, output: `${result.stdout}${result.stderr}`, ms: Date.now() - started };
  }

  /** The systemctl calls of every load balancer since `since`, in time order. */
  public journal(since = 0): JournalEntry[] {
    return [...this.loadBalancers.values()].flatMap((host) => this.lab.systemctlJournal(host)).filter((e) => e.t >= since).sort((a, b) => a.t - b.t);
  }

  /** Starts the client probe through the VIP's API frontend and a VIP watch; `stop` returns failures and VIP moves. */
  public observe(): { stop(): Promise<{ probes: number; failed: number; vipMoves: number; holders: string[][]; failures: ProbeResult[]; vipChanges: VipChange[] }> } {
    const probe = this.lab.startProbe(LAB_VIP, API_PORT, { mode: 'tls' });
    const watch = this.lab.watchVip([...this.loadBalancers.values()], LAB_VIP);
    return {
      stop: async () => {
        const report = await probe.stop();
        const changes = watch.stop();
        return {
          probes: report.probes.length, failed: report.failed.length, vipMoves: changes.length - 1, holders: changes.map((c) => [...c.holders]),
          failures: [...report.failed], vipChanges: changes,
        };
      },
    };
  }

  public async stop(): Promise<void> {
    await this.lab.stop();
  }
}

/** The hosts in the order of their first `verb unit` call in `entries`. */
export function orderOf(entries: readonly JournalEntry[], verb: string, unit: string): string[] {
  const hosts: string[] = [];
  for (const entry of entries) {
    if (entry.args[0] === verb && entry.args.includes(unit) && !hosts.includes(entry.host)) {
      hosts.push(entry.host);
    }
  }
  return hosts;
}
