import { readFileSync, readdirSync } from 'fs';
import { join, resolve } from 'path';
import { SiteSpec, defineSite } from '../../constructs';
import { dnsResolverWarning, renderHaproxyConfig, renderSiteDocument } from '../../constructs/renderers';
import { loadSites } from '../../sites';
import labSpec from '../../sites/lab';
import prodSpec from '../../sites/prod';

const docsDir = resolve(__dirname, '../../docs/sites');

describe.each(loadSites().map((site) => [site.name, site] as const))('docs/sites/%s.md', (name, site) => {
  const text = renderSiteDocument(site);

  test('is committed and up to date (npm run docs regenerates it)', () => {
    expect(readFileSync(join(docsDir, `${name}.md`), 'utf8')).toBe(text);
  });

  test('has the topology diagram, every host with its address, the endpoint and every warning', () => {
    expect(text).toContain('```mermaid\nflowchart TB');
    for (const host of site.hosts) {
      expect(text).toContain(`| ${host.name} | ${host.ip} |`);
    }
    expect(text).toContain(site.apiEndpoint.url);
    site.warnings.forEach((warning) => expect(text).toContain(warning.message));
    expect(text).toContain('## Validation procedures');
  });
});

test('docs/sites holds exactly one page per site', () => {
  expect(readdirSync(docsDir).sort()).toEqual(loadSites().map((site) => `${site.name}.md`).sort());
});

describe('validation procedures follow the plan', () => {
  const sites = Object.fromEntries(loadSites().map((site) => [site.name, site]));
  const step = (text: string, n: number) => text.split('\n').find((line) => line.startsWith(`${n}. `)) ?? '';

  test('with 2 stacked etcd members, losing a control-plane node makes the API unavailable (expected) and says how to restore', () => {
    const multi = step(renderSiteDocument(sites['kubeadm-multi']), 4);
    expect(multi).toContain('shows 2 etcd members');
    expect(multi).toContain('etcd loses quorum, so the API becomes unavailable on every control plane (expected');
    expect(multi).toContain('Start master1 again (`qm start 111` on pve1)');
    expect(multi).not.toContain('keeps working');
    const stacked = step(renderSiteDocument(sites['kubeadm-stacked']), 4);
    expect(stacked).toContain('2 of 3 members keep quorum, so `kubectl get nodes` keeps working');
    expect(stacked).not.toContain('unavailable');
  });

  test('K3s on embedded etcd with 2 servers: stopping one makes the API unavailable; 3 servers keep it; PostgreSQL needs no quorum', () => {
    const prod = loadSites().find((site) => site.name === 'prod')!;
    expect(step(renderSiteDocument(prod), 3)).toContain('keeps working, served by k3s-prod-cp-02, k3s-prod-cp-03');
    const spec = { ...prodSpec, hosts: prodSpec.hosts.filter((host) => host.name !== 'k3s-prod-cp-03') };
    const two = step(renderSiteDocument(defineSite(spec as SiteSpec)), 3);
    expect(two).toContain('With 2 etcd members, etcd loses quorum, so the API becomes unavailable');
    expect(two).toContain('Start it again with `systemctl start k3s`');
    expect(two).not.toContain('keeps working');
    expect(step(renderSiteDocument(sites.homelab), 3)).toContain('`systemctl stop k3s`: its API server);');
  });

  // The times come from the API backend's own check settings, read back from the rendered haproxy.cfg.
  test.each(['lab', 'kubeadm-multi', 'kubeadm-stacked'])('%s: the stats page shows the server DOWN after inter + (fall - 1) × fastinter', (name) => {
    const site = sites[name];
    const config = renderHaproxyConfig(site, site.loadBalancer!.nodes[0].name, 'unused');
    const line = config.split('\n').find((l) => l.includes('default-server check inter') && l.includes('on-marked-down'))!;
    const ms = (key: string) => {
      const [, value, unit] = new RegExp(`\\b${key} (\\d+)(ms|s)\\b`).exec(line)!;
      return Number(value) * (unit === 's' ? 1000 : 1);
    };
    const fall = Number(/\bfall (\d+)/.exec(line)![1]);
    const rise = Number(/\brise (\d+)/.exec(line)![1]);
    expect(fall).toBe(site.loadBalancer!.healthCheckFall);
    const down = (ms('inter') + (fall - 1) * ms('fastinter')) / 1000;
    const up = (ms('downinter') + (rise - 1) * ms('fastinter')) / 1000;
    const text = step(renderSiteDocument(site), 3);
    expect(text).toContain(`DOWN within about ${down} s`);
    expect(text).toContain(`fall ${fall})`);
    expect(text).toContain(`UP again about ${up} s`);
    expect(text).not.toContain('within about 2 s');
  });

  test('seed 004\'s fall 3 gives 1.5 s, not the 2-failure default\'s 1.25 s', () => {
    expect(step(renderSiteDocument(sites['kubeadm-multi']), 3)).toContain('DOWN within about 1.5 s');
    expect(step(renderSiteDocument(sites.lab), 3)).toContain('DOWN within about 1.25 s');
  });

  test('kubeadm: the API server (a static pod under CRI-O) is stopped by moving its manifest aside and back, not by stopping kubelet or CRI-O', () => {
    for (const name of ['kubeadm-multi', 'kubeadm-stacked']) {
      const text = step(renderSiteDocument(sites[name]), 3);
      expect(text).toContain('`mv /etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/`');
      expect(text).toContain('`mv /etc/kubernetes/kube-apiserver.yaml /etc/kubernetes/manifests/`');
      expect(text).not.toMatch(/stop one control-plane node \(`systemctl stop kubelet crio`/);
      expect(text.indexOf('manifests/kube-apiserver.yaml /etc/kubernetes/`')).toBeLessThan(text.indexOf('kube-apiserver.yaml /etc/kubernetes/manifests/`'));
    }
  });

  test('lab: Bind9 is not among the hosts\' resolvers, so the page warns and says to forward the zone or list the servers', () => {
    const text = renderSiteDocument(sites.lab);
    expect(dnsResolverWarning(sites.lab)).toContain('lists none of the site\'s dns servers (192.168.168.121, 192.168.168.122)');
    expect(text).toContain(`- \`network.dnsServers\`: ${dnsResolverWarning(sites.lab)}`);
    expect(text).toContain('hosts resolve k3s.test.local only if those resolvers forward it to them (or list them in network.dnsServers)');
    // Said once, among the warnings.
    expect(text.split('lists none of the site\'s dns servers')).toHaveLength(2);
    const resolving = defineSite({ ...labSpec, network: { ...labSpec.network, dnsServers: ['192.168.168.121', '192.168.168.1'] } });
    expect(dnsResolverWarning(resolving)).toBeUndefined();
    expect(renderSiteDocument(resolving)).not.toContain('network.dnsServers');
  });

  test('without a DNS zone, curl is given the endpoint address (--resolve); with the lab\'s wildcard zone it resolves the name', () => {
    expect(step(renderSiteDocument(sites.homelab), 5)).toContain('`curl -k --resolve nginx.homelab.internal:443:10.10.10.150 https://nginx.homelab.internal/`');
    const lab = step(renderSiteDocument(sites.lab), 5);
    expect(lab).toContain('`curl -k https://nginx.k3s.test.local/`');
    expect(lab).not.toContain('--resolve');
    const noWildcard = defineSite({ ...labSpec, dns: { ...labSpec.dns, wildcardToEndpoint: false } });
    expect(step(renderSiteDocument(noWildcard), 5)).toContain('--resolve nginx.k3s.test.local:443:192.168.168.100');
  });
});
