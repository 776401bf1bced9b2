import { ApiHealthCheck, HostRole, SiteSpec, VrrpVersion, defineSite } from '../../constructs';
import { renderHaproxyConfig, renderKeepalivedConfig, renderKeepalivedServiceDropIn } from '../../constructs/renderers';
import lab from '../../sites/lab';
import { lxcSite, vmSite } from '../fixtures/sites';

const labPlan = defineSite(lab);
const lines = (text: string) => text.split('\n').map((l) => l.trim());
/** The lines of one `section name` block of haproxy.cfg. */
function haproxySection(cfg: string, header: string): string[] {
  const blocks = cfg.split('\n\n');
  const found = blocks.find((b) => b.split('\n').some((l) => l === header));
  if (!found) {
    throw new Error(`no section ${header}`);
  }
  return lines(found.slice(found.indexOf(header) + header.length)).filter(Boolean);
}

describe('renderHaproxyConfig', () => {
  const cfg = renderHaproxyConfig(labPlan, 'lx-k3s-server-01', '${random_password.stats.result}');

  test('the API frontend listens on the site API port (8443 in the lab) and balances over every K3s server on 6443', () => {
    expect(haproxySection(cfg, 'frontend k3s_api')).toEqual(['bind *:8443', 'default_backend k3s_api']);
    const backend = haproxySection(cfg, 'backend k3s_api');
    expect(backend.filter((l) => l.startsWith('server '))).toEqual([
      'server lx-k3s-server-01 192.168.168.111:6443',
      'server lx-k3s-server-02 192.168.168.112:6443',
      'server lx-k3s-server-03 192.168.168.113:6443',
    ]);
  });

  test('the default health check is HTTPS /readyz expecting 200 (not 401-prone anonymous access), tuned to leave rotation fast', () => {
    const backend = haproxySection(cfg, 'backend k3s_api');
    expect(backend).toContain('option httpchk GET /readyz');
    expect(backend).toContain('http-check expect status 200');
    const defaults = backend.find((l) => l.startsWith('default-server'))!;
    for (const option of ['check', 'check-ssl', 'verify none', 'inter 1s', 'fastinter 250ms', 'fall 2', 'rise 2', 'on-marked-down shutdown-sessions', 'observe layer4', 'on-error mark-down']) {
      expect(defaults).toContain(option);
    }
  });

  test('defaults keep kubectl watches open and retry elsewhere on a failed connect', () => {
    const defaults = haproxySection(cfg, 'defaults');
    expect(defaults).toEqual(expect.arrayContaining(['mode tcp', 'timeout client 1h', 'timeout server 1h', 'retries 2', 'option redispatch 1', 'timeout connect 300ms']));
  });

  test.each([
    [ApiHealthCheck.PING, ['option httpchk GET /ping', 'http-check expect string pong'], 'check-ssl'],
    [ApiHealthCheck.TCP, ['option tcp-check'], undefined],
  ])('health check %s', (check, expected, ssl) => {
    const plan = defineSite({ ...lab, loadBalancer: { apiHealthCheck: check } });
    const backend = haproxySection(renderHaproxyConfig(plan, 'lx-k3s-server-01', 'pw'), 'backend k3s_api');
    expect(backend).toEqual(expect.arrayContaining(expected));
    const defaults = backend.find((l) => l.startsWith('default-server'))!;
    expect(defaults.includes('check-ssl')).toBe(ssl !== undefined);
  });

  test('ingress frontends 80/443 forward in TCP mode to the NodePorts 30080/30443 on the servers, with checks', () => {
    expect(haproxySection(cfg, 'frontend ingress_http')).toEqual(['bind *:80', 'default_backend ingress_http']);
    expect(haproxySection(cfg, 'backend ingress_https').filter((l) => l.startsWith('server '))).toEqual([
      'server lx-k3s-server-01 192.168.168.111:30443', 'server lx-k3s-server-02 192.168.168.112:30443', 'server lx-k3s-server-03 192.168.168.113:30443',
    ]);
    const custom = defineSite({ ...lab, ingress: { httpNodePort: 31080, httpsNodePort: 31443 } });
    expect(renderHaproxyConfig(custom, 'lx-k3s-server-02', 'pw')).toContain('server lx-k3s-server-03 192.168.168.113:31080');
  });

  test('both ingress backends check the controller\'s health page through the HTTP NodePort, as fast as the API servers', () => {
    const apiDefaults = haproxySection(cfg, 'backend k3s_api').find((l) => l.startsWith('default-server'))!;
    const timing = (line: string) => /check inter \S+ fastinter \S+ downinter \S+ rise \d+ fall \d+ observe layer4 error-limit 1 on-error mark-down on-marked-down shutdown-sessions/.exec(line)?.[0];
    for (const backend of ['backend ingress_http', 'backend ingress_https']) {
      const lines = haproxySection(cfg, backend);
      expect(lines).toEqual(expect.arrayContaining(['option httpchk GET /nginx-health', 'http-check expect status 200']));
      const defaults = lines.find((l) => l.startsWith('default-server'))!;
      expect(timing(defaults)).toBeDefined();
      expect(timing(defaults)).toBe(timing(apiDefaults));
      // The HTTPS backend's check is plain HTTP to the HTTP NodePort: the controller's default TLS server may reject handshakes.
      expect(defaults.endsWith(' port 30080')).toBe(true);
      expect(defaults).not.toContain('check-ssl');
    }
    const custom = defineSite({ ...lab, ingress: { httpNodePort: 31080, httpsNodePort: 31443 }, loadBalancer: { healthCheckFall: 3 } });
    const https = haproxySection(renderHaproxyConfig(custom, 'lx-k3s-server-02', 'pw'), 'backend ingress_https').find((l) => l.startsWith('default-server'))!;
    expect(https).toContain(' fall 3 ');
    expect(https.endsWith(' port 31080')).toBe(true);
  });

  test('ingress frontends can be turned off', () => {
    const plan = defineSite({ ...lab, loadBalancer: { ingressFrontends: false } });
    expect(renderHaproxyConfig(plan, 'lx-k3s-server-01', 'pw')).not.toContain('ingress_');
  });

  test('the stats page binds the node\'s own address and uses the password reference given', () => {
    expect(haproxySection(cfg, 'frontend stats')).toEqual(expect.arrayContaining([
      'bind 192.168.168.111:8404', 'stats auth admin:${random_password.stats.result}', 'mode http',
    ]));
    expect(renderHaproxyConfig(labPlan, 'lx-k3s-server-03', 'pw')).toContain('bind 192.168.168.113:8404');
  });

  test('the loopback health page fails when no API server is in rotation', () => {
    expect(haproxySection(cfg, 'frontend lb_health')).toEqual(expect.arrayContaining([
      'bind 127.0.0.1:8405', 'monitor-uri /healthz', 'monitor fail if { nbsrv(k3s_api) lt 1 }',
    ]));
  });

  test('dedicated load balancers (seed 001 shape) serve the API on 6443', () => {
    const plan = defineSite(lxcSite);
    const text = renderHaproxyConfig(plan, 'lb-1', 'pw');
    expect(haproxySection(text, 'frontend k3s_api')).toContain('bind *:6443');
    expect(() => renderHaproxyConfig(plan, 'server-1', 'pw')).toThrow('host "server-1" is not a load balancer (load balancers: lb-1, lb-2)');
  });
});

describe('renderKeepalivedConfig', () => {
  const instanceOf = (text: string) => lines(text.slice(text.indexOf('vrrp_instance')));

  test('priorities follow the load balancers\' order (200/150/100), the first starts as MASTER', () => {
    const states = labPlan.loadBalancer!.nodes.map((node) => {
      const instance = instanceOf(renderKeepalivedConfig(labPlan, node.name));
      return [instance.find((l) => l.startsWith('state ')), instance.find((l) => l.startsWith('priority '))];
    });
    expect(states).toEqual([['state MASTER', 'priority 200'], ['state BACKUP', 'priority 150'], ['state BACKUP', 'priority 100']]);
  });

  test('VRRPv3, 0.25 s adverts, unicast to the other nodes only, the VIP with the network prefix', () => {
    const text = renderKeepalivedConfig(labPlan, 'lx-k3s-server-02');
    const instance = instanceOf(text);
    expect(instance).toEqual(expect.arrayContaining(['version 3', 'advert_int 0.25', 'virtual_router_id 51', 'interface eth0',
      'unicast_src_ip 192.168.168.112', '192.168.168.100/24 dev eth0']));
    expect(text).toMatch(/unicast_peer \{\n\s+192\.168\.168\.111\n\s+192\.168\.168\.113\n\s+\}/);
    expect(text).not.toContain('authentication');
  });

  test('track scripts: HAProxy silent → FAULT at once; no API server in rotation → priority drops below every other node', () => {
    const text = renderKeepalivedConfig(labPlan, 'lx-k3s-server-01');
    expect(text).toMatch(/vrrp_script chk_haproxy \{[^}]*fall 1[^}]*weight 0\n/);
    expect(text).toMatch(/vrrp_script chk_api_backends \{[^}]*weight -101\n/);
    expect(text).toContain('enable_script_security');
    expect(text).toContain('script_user keepalived_script');
    expect(text).toContain('notify /etc/keepalived/notify.sh');
    // 200 - 101 = 99 < 100, the lowest other priority.
  });

  test('the widest accepted priority spread (252) still gets a weight keepalived takes and that drops below the lowest node', () => {
    const plan = defineSite({ ...lab, loadBalancer: { vrrpPriorities: [253, 100, 1] } });
    // 253 - 253 = 0 < 1; keepalived rejects weights beyond ±253.
    expect(renderKeepalivedConfig(plan, 'lx-k3s-server-01')).toMatch(/vrrp_script chk_api_backends \{[^}]*weight -253\n/);
  });

  test('nopreempt: every node starts as BACKUP and the backend check faults instead of lowering the priority', () => {
    const plan = defineSite({ ...lab, loadBalancer: { vrrpNopreempt: true } });
    const text = renderKeepalivedConfig(plan, 'lx-k3s-server-01');
    expect(instanceOf(text)).toEqual(expect.arrayContaining(['state BACKUP', 'nopreempt']));
    expect(text).toMatch(/vrrp_script chk_api_backends \{[^}]*weight 0\n/);
  });

  test('the VIP handover: a track file (reset to 0 at every start) that, raised, drops the holder below every other node', () => {
    const text = renderKeepalivedConfig(labPlan, 'lx-k3s-server-01');
    expect(text).toMatch(/track_file vip_handover \{\n\s+file "\/run\/keepalived-vip-handover"\n\s+weight -101\n\s+init_file 0 overwrite\n\}/);
    expect(text).toMatch(/vrrp_instance [^{]+\{[\s\S]*track_file \{\n\s+vip_handover\n\s+\}/);
  });

  test('Keepalived\'s drop-in hands the VIP over before it stops, bounded by three master-down intervals; it stops before HAProxy', () => {
    const dropIn = renderKeepalivedServiceDropIn(labPlan)!.split('\n');
    // 0.25 s adverts: 3 × (4 × 0.25 s) + 1 s.
    expect(dropIn).toEqual(expect.arrayContaining(['[Unit]', 'After=haproxy.service', '[Service]',
      'ExecStop=/etc/keepalived/handover.sh 192.168.168.100 /run/keepalived-vip-handover 4', 'TimeoutStopSec=34']));
    const v2 = defineSite({ ...lab, loadBalancer: { vrrpVersion: VrrpVersion.V2 } });
    expect(renderKeepalivedServiceDropIn(v2)).toContain('/run/keepalived-vip-handover 13\n');
  });

  test('nopreempt has no handover: a lower priority would not move the VIP', () => {
    const plan = defineSite({ ...lab, loadBalancer: { vrrpNopreempt: true } });
    expect(renderKeepalivedConfig(plan, 'lx-k3s-server-01')).not.toContain('track_file');
    expect(renderKeepalivedServiceDropIn(plan)).toBeUndefined();
  });

  test('multicast, custom priorities and router id, VRRPv2 with authentication from the secret reference', () => {
    const plan = defineSite({ ...lab, loadBalancer: { vrrpMulticast: true, vrrpPriorities: [110, 120, 130], vrrpRouterId: 7, vrrpVersion: VrrpVersion.V2, vrrpAuthentication: true } });
    const text = renderKeepalivedConfig(plan, 'lx-k3s-server-03', '${random_password.vrrp.result}');
    const instance = instanceOf(text);
    expect(instance).toEqual(expect.arrayContaining(['priority 130', 'virtual_router_id 7', 'version 2', 'advert_int 1', 'auth_type PASS', 'auth_pass ${random_password.vrrp.result}']));
    expect(text).not.toContain('unicast');
    expect(() => renderKeepalivedConfig(plan, 'lx-k3s-server-03')).toThrow('VRRP authentication needs VRRPv2 and an auth pass');
  });

  test('fails for a host that is not a load balancer', () => {
    expect(() => renderKeepalivedConfig(defineSite(vmSite), 'agent-1')).toThrow('host "agent-1" is not a load balancer');
  });
});

describe('load balancer validation in the site model', () => {
  function problems(spec: SiteSpec) {
    try {
      defineSite(spec);
      return [];
    } catch (error) {
      return (error as { problems: { path: string; expected: string }[] }).problems.map((p) => `${p.path}: ${p.expected}`);
    }
  }

  test.each([
    ['VRID 0', { vrrpRouterId: 0 }, 'loadBalancer.vrrpRouterId: a VRRP virtual_router_id from 1 to 255'],
    ['VRID 256', { vrrpRouterId: 256 }, 'loadBalancer.vrrpRouterId: a VRRP virtual_router_id from 1 to 255'],
    ['equal priorities', { vrrpPriorities: [100, 100, 90] }, 'loadBalancer.vrrpPriorities[1]: a priority no other load balancer has'],
    ['priority 255', { vrrpPriorities: [255, 100, 90] }, 'loadBalancer.vrrpPriorities[0]: a priority from 1 to 254'],
    ['too few priorities', { vrrpPriorities: [200, 100] }, 'loadBalancer.vrrpPriorities: a list of 3 priorities'],
    ['priorities 253 apart', { vrrpPriorities: [254, 100, 1] }, 'loadBalancer.vrrpPriorities: priorities at most 252 apart'],
    ['authentication with VRRPv3', { vrrpAuthentication: true }, 'loadBalancer.vrrpAuthentication: false with VRRPv3'],
    ['sub-second adverts with VRRPv2', { vrrpVersion: VrrpVersion.V2, vrrpAdvertIntervalMs: 250 }, 'loadBalancer.vrrpAdvertIntervalMs: whole seconds'],
    ['50 ms adverts', { vrrpAdvertIntervalMs: 50 }, 'loadBalancer.vrrpAdvertIntervalMs: a multiple of 10 ms from 100'],
    ['a bad interface name', { vrrpInterface: 'eth 0' }, 'loadBalancer.vrrpInterface: a network interface name'],
    ['an unknown health check', { apiHealthCheck: 'http' }, 'loadBalancer.apiHealthCheck: one of readyz, ping, tcp'],
  ])('fails with %s', (_, loadBalancer, expected) => {
    expect(problems({ ...lab, loadBalancer } as unknown as SiteSpec)).toEqual([expect.stringContaining(expected)]);
  });

  test('fails when HAProxy would listen on 6443 on a K3s server, suggesting 8443', () => {
    expect(problems({ ...lab, apiEndpoint: { ...lab.apiEndpoint, port: 6443 } })).toEqual([expect.stringContaining('a port other than 6443, e.g. 8443')]);
  });

  test('fails when two sites on one layer-2 network share a VRRP router id', async () => {
    const { defineSites } = await import('../../constructs');
    const other: SiteSpec = { ...vmSite, name: 'other', network: lab.network, proxmox: { ...vmSite.proxmox, bridge: lab.proxmox.bridge },
      hosts: vmSite.hosts.map((h, i) => ({ ...h, ip: `192.168.168.${21 + i}` })), apiEndpoint: { vip: '192.168.168.20', port: 8443 } };
    expect(() => defineSites([lab, other])).toThrow('other: loadBalancer.vrrpRouterId: "51 on 192.168.168.0/24 via vmbr0" — a unique VRRP router id on this layer-2 network (already used by lab: loadBalancer.vrrpRouterId)');
    expect(() => defineSites([lab, { ...other, loadBalancer: { vrrpRouterId: 52 } }])).not.toThrow();
  });

  test('a single load balancer needs no VIP; the plan has one node and the endpoint is its address', () => {
    const single: SiteSpec = { ...vmSite, hosts: vmSite.hosts.map((h) => ({ ...h, roles: h.name === 'server-1' ? [HostRole.K3S_SERVER, HostRole.LOAD_BALANCER] : h.roles.filter((r) => r !== HostRole.LOAD_BALANCER) })), apiEndpoint: { port: 8443 } };
    const plan = defineSite(single);
    expect(plan.apiEndpoint).toMatchObject({ address: '198.18.0.11', floating: false });
    expect(plan.loadBalancer!.nodes).toEqual([{ name: 'server-1', ip: '198.18.0.11', priority: 200 }]);
  });
});
