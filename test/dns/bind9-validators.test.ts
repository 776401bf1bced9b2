import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CloudConfig, SitePlan, defineSite } from '../../constructs';
import { applyDnsRole } from '../../constructs/roles';
import { renderCloudConfig, renderShellScript } from '../../constructs/cloud-init';
import { describeWithTools } from '../support/tools';
import { cloudInitSchema, runOnFile, shellcheck } from '../support/validators';
import { NamedFiles, namedFiles, writeNamedConfiguration } from './named-files';
import { labWithDns, labWithTwoDns, namespaceDnsSite, renumbered } from './sites';

const PLANS: SitePlan[] = [
  defineSite(labWithDns),
  defineSite({ ...labWithTwoDns, dns: { forwarders: ['192.168.168.1', '9.9.9.9'], wildcardToEndpoint: false } }),
  defineSite(namespaceDnsSite),
  defineSite(renumbered(labWithTwoDns, 'lab-16', '172.20.0.0/16', '172.20.0.1', '172.20.0.100', (i) => `172.20.${i + 1}.${10 + i}`)),
  defineSite(renumbered(labWithTwoDns, 'lab-22', '172.20.4.0/22', '172.20.4.1', '172.20.4.100', (i) => `172.20.${4 + (i % 4)}.${10 + i}`)),
  defineSite(renumbered(labWithDns, 'lab-26', '192.168.168.64/26', '192.168.168.65', '192.168.168.100', (i) => `192.168.168.${70 + i}`)),
];
const SERVERS = PLANS.flatMap((plan) => plan.dns!.servers.map((server) => [`${plan.name}/${server.name}`, plan, server.name] as const));
const ZONES = PLANS.flatMap((plan) => namedFiles(plan, plan.dns!.servers[0].name).zones.map((zone) => [`${plan.name}/${zone.zone}`, zone] as const));

function namedCheckconf(files: NamedFiles): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pkh-named-'));
  try {
    // -z loads every primary zone too, as named would at startup.
    const result = spawnSync('named-checkconf', ['-z', writeNamedConfiguration(dir, files)], { encoding: 'utf8', timeout: 30_000 });
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const namedCheckzone = (zone: string, content: string) => runOnFile('named-checkzone', ['-i', 'local', zone], content, 'zone.db');

describeWithTools(['named-checkconf'], 'named-checkconf accepts every rendered named.conf.options + named.conf.local', () => {
  test.each(SERVERS)('%s', (_, plan, server) => {
    const result = namedCheckconf(namedFiles(plan, server));
    expect(result.output).not.toMatch(/error|warning/i);
    expect(result.ok).toBe(true);
  });

  test('the check can fail: an unknown option value and a zone file with a broken record are rejected', () => {
    const files = namedFiles(PLANS[0], 'lx-dns-01');
    expect(namedCheckconf({ ...files, options: files.options.replace('dnssec-validation auto;', 'dnssec-validation sometimes;') }).ok).toBe(false);
    const zones = files.zones.map((z, i) => (i === 0 ? { ...z, content: `${z.content}broken IN A 192.168.168.300\n` } : z));
    expect(namedCheckconf({ ...files, zones }).ok).toBe(false);
  });
});

describeWithTools(['named-checkzone'], 'named-checkzone accepts every rendered zone and its serial', () => {
  test.each(ZONES)('%s', (_, zone) => {
    const result = namedCheckzone(zone.zone, zone.content);
    expect(result.output).toMatch(new RegExp(`^zone ${zone.zone.replace(/\./g, '\\.')}/IN: loaded serial \\d+\\nOK\\n$`));
    expect(result.ok).toBe(true);
  });

  test('the check can fail: a CNAME beside other data, and a zone loaded under another name, are rejected', () => {
    const [forward] = namedFiles(PLANS[0], 'lx-dns-01').zones;
    expect(namedCheckzone(forward.zone, `${forward.content}api IN CNAME lx-k3s-server-01\n`).ok).toBe(false);
    expect(namedCheckzone('other.test', forward.content).ok).toBe(false);
  });
});

describeWithTools(['cloud-init', 'shellcheck'], 'a DNS server\'s provisioning passes cloud-init schema and shellcheck', () => {
  const plan = PLANS[1];
  const config = new CloudConfig({ hostname: 'lx-dns-02', fqdn: 'lx-dns-02.k3s.test.local' });
  applyDnsRole(config, plan, 'lx-dns-02');

  test('cloud-init schema', () => {
    const result = cloudInitSchema(renderCloudConfig(config));
    expect(result.output).toContain('Valid cloud-config');
    expect(result.ok).toBe(true);
  });

  test('shellcheck (the LXC rendering)', () => {
    const result = shellcheck(renderShellScript(config));
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});

// The checks above run on rewritten files: prove the rewrite touches nothing but the paths.
test('writeNamedConfiguration rewrites only paths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pkh-named-'));
  try {
    const files = namedFiles(PLANS[0], 'lx-dns-01');
    writeNamedConfiguration(dir, files);
    expect(readFileSync(join(dir, 'named.conf.local'), 'utf8')).toBe(files.local.split('"/var/lib/bind/').join(`"${dir}/zones/`));
    expect(readFileSync(join(dir, 'named.conf.options'), 'utf8')).toBe(files.options.replace('"/var/cache/bind"', `"${dir}/cache"`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
