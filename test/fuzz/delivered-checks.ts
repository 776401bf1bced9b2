import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse } from 'yaml';
import { HostKind, HostRole, SitePlan } from '../../constructs';
import { BIND_ZONE_DIRECTORY, HAPROXY_CONFIG_PATH, HAPROXY_DATASTORE_CA_PATH } from '../../constructs/renderers';
import { hasCommand } from '../support/tools';
import { scriptFiles, scriptShell } from '../support/user-data';
import { cloudInitSchema, runOnFile, shellcheck } from '../support/validators';
import { HostDelivery, SiteCheckFailure } from './site-oracle';

/**
 * The real validators over the files a sampled site delivers (see test/cloud-init/real-validators.test.ts for the
 * same tools on fixed inputs): `cloud-init schema` on a VM's user data, shellcheck on an LXC script and on every
 * shell script a host writes, `haproxy -c` on a load balancer's configuration, `named-checkzone` on each zone file.
 */

/** The tools these checks run; a missing one is named by the test, never skipped silently. */
export const DELIVERED_FILE_TOOLS = ['cloud-init', 'shellcheck', 'haproxy', 'named-checkzone', 'openssl'] as const;

/** Tools that are missing on this machine. */
export function missingTools(): string[] {
  return DELIVERED_FILE_TOOLS.filter((tool) => !hasCommand(tool));
}

/** A throwaway CA certificate, so `haproxy -c` can load the datastore CA a writer endpoint names. */
export function makeTestCa(): { path: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pkh-fuzz-ca-'));
  const path = join(dir, 'ca.crt');
  const result = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'ca.key'),
    '-out', path, '-days', '1', '-subj', '/CN=pkh fuzz CA'], { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) {
    throw new Error(`openssl could not make a test CA: ${result.stderr}`);
  }
  readFileSync(path);
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The files a host writes, by path, from what it received. */
function filesOf(delivery: HostDelivery): Map<string, string> {
  if (delivery.kind === HostKind.LXC) {
    return new Map([...scriptFiles(delivery.received)].map(([path, file]) => [path, file.content]));
  }
  const document = parse(delivery.received) as { write_files?: { path: string; content: string }[] };
  return new Map((document.write_files ?? []).map((file) => [file.path, file.content]));
}

function expectValid(what: string, result: { ok: boolean; output: string }): void {
  if (!result.ok) {
    throw new SiteCheckFailure(`${what} rejected: ${result.output.trim().split('\n').slice(0, 6).join(' / ').slice(0, 600)}`);
  }
}

/**
 * The hosts whose files a sampled site is checked on: the first of each kind of host (VM, LXC) and the first to
 * carry each role, so every kind of delivered file is covered at a fraction of the tool runs of every host.
 */
export function representativeHosts(site: SitePlan, hosts: readonly HostDelivery[]): HostDelivery[] {
  const chosen = new Set<string>();
  for (const kind of Object.values(HostKind)) {
    const first = hosts.find((delivery) => delivery.kind === kind);
    if (first) {
      chosen.add(first.host);
    }
  }
  for (const role of Object.values(HostRole)) {
    const first = site.hosts.find((host) => host.roles.includes(role) && hosts.some((delivery) => delivery.host === host.name));
    if (first) {
      chosen.add(first.name);
    }
  }
  return hosts.filter((delivery) => chosen.has(delivery.host));
}

/** Runs the validators over one delivered host; returns how many tool runs it took. */
export function checkDeliveredHost(delivery: HostDelivery, caPath: string): number {
  let runs = 0;
  if (delivery.kind === HostKind.VM) {
    const result = cloudInitSchema(delivery.received);
    expectValid(`${delivery.host}: cloud-init schema`, { ok: result.ok && result.output.includes('Valid cloud-config'), output: result.output });
  } else {
    expectValid(`${delivery.host}: shellcheck of its provisioning script`, shellcheck(delivery.received));
  }
  runs += 1;
  for (const [path, content] of filesOf(delivery)) {
    const shell = scriptShell(content);
    if (shell) {
      expectValid(`${delivery.host}: shellcheck of ${path}`, shellcheck(content, shell));
      runs += 1;
    } else if (path === HAPROXY_CONFIG_PATH) {
      expectValid(`${delivery.host}: haproxy -c of ${path}`, runOnFile('haproxy', ['-c', '-f'], content.split(HAPROXY_DATASTORE_CA_PATH).join(caPath), 'haproxy.cfg'));
      runs += 1;
    } else if (path.startsWith(`${BIND_ZONE_DIRECTORY}/db.`)) {
      const zone = path.slice(`${BIND_ZONE_DIRECTORY}/db.`.length);
      expectValid(`${delivery.host}: named-checkzone ${zone}`, runOnFile('named-checkzone', ['-i', 'local', zone], content, 'zone.db'));
      runs += 1;
    }
  }
  return runs;
}
