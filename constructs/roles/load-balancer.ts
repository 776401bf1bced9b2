import { CloudConfig, CloudFile, Protocol } from '../cloud-init/cloud-config';
import { ServiceChange } from '../cloud-init/service-step';
import { HAPROXY_API_BACKENDS_PATH, HAPROXY_CONFIG_PATH, renderHaproxyConfig, requireLoadBalancer } from '../renderers/haproxy';
import {
  KEEPALIVED_CONFIG_PATH, KEEPALIVED_DROP_IN_PATH, KEEPALIVED_HANDOVER_PATH, KEEPALIVED_HANDOVER_SCRIPT, KEEPALIVED_NOTIFY_PATH,
  KEEPALIVED_NOTIFY_SCRIPT, KEEPALIVED_SCRIPT_USER, renderKeepalivedConfig, renderKeepalivedServiceDropIn,
} from '../renderers/keepalived';
import { SitePlan, controlPlaneHosts } from '../site/plan';

const ROLE = 'load-balancer';

/** Secrets the load balancer role writes into its files, as Terraform references (never literal values). */
export interface LoadBalancerSecrets {
  /** Password of the stats page user `admin`. */
  readonly statsPassword: string;
  /** VRRPv2 `auth_pass` (8 characters), when the site turns VRRP authentication on. */
  readonly vrrpAuthPass?: string;
}

/** A TCP service another construct puts on the load balancers (e.g. the PostgreSQL writer endpoint). */
export interface LoadBalancerService {
  /** What listens, for port conflicts, e.g. `haproxy postgres writer frontend`. */
  readonly description: string;
  /** The frontend's port, claimed on every address of the host. */
  readonly port: number;
  /** HAProxy sections (frontend, backend) appended to haproxy.cfg as given. */
  readonly sections: readonly string[];
  /** Files the sections refer to (e.g. a CA for checks over TLS), written on every load balancer. @default [] */
  readonly files?: readonly CloudFile[];
}

/** haproxy.cfg of one load balancer with the services added so far. */
function haproxyFile(plan: SitePlan, hostName: string, statsPassword: string, services: readonly LoadBalancerService[]) {
  // Readable by the haproxy group only: it holds the stats password.
  return {
    path: HAPROXY_CONFIG_PATH,
    content: renderHaproxyConfig(plan, hostName, statsPassword, services.flatMap((service) => service.sections)),
    mode: '0640',
    owner: 'root:haproxy',
  };
}

/**
 * Adds a TCP service to a load balancer host the role was applied to: claims its port and re-renders haproxy.cfg
 * with every service so far (`services` includes the new one, last).
 */
export function addLoadBalancerService(config: CloudConfig, plan: SitePlan, hostName: string, secrets: LoadBalancerSecrets, services: readonly LoadBalancerService[]): void {
  const service = services[services.length - 1];
  config.claimPort(ROLE, { port: service.port, protocol: Protocol.TCP, description: service.description });
  for (const file of service.files ?? []) {
    config.addFile(ROLE, file);
  }
  config.replaceFile(ROLE, haproxyFile(plan, hostName, secrets.statsPassword, services));
}

/**
 * Attaches HAProxy (and Keepalived, when the site has a VIP) to one load balancer host.
 *
 * Frontends bind every address, so no `net.ipv4.ip_nonlocal_bind` is needed for the VIP. In an LXC container
 * Keepalived needs nothing beyond an unprivileged container: VRRP uses raw sockets and address changes inside the
 * container's own network namespace, and no `vrrp_strict` firewall rules (which would need `xt_set`/`ip_tables`
 * loaded on the Proxmox host) are used.
 */
export function applyLoadBalancerRole(config: CloudConfig, plan: SitePlan, hostName: string, secrets: LoadBalancerSecrets): void {
  const lb = requireLoadBalancer(plan);
  const node = lb.nodes.find((n) => n.name === hostName);
  if (!node) {
    throw new Error(`site ${plan.name}: host ${JSON.stringify(hostName)} is not a load balancer`);
  }
  config.addPackages(ROLE, 'haproxy');
  config.claimPort(ROLE, { port: plan.apiEndpoint.port, protocol: Protocol.TCP, description: 'haproxy kubernetes api frontend' });
  if (lb.ingressFrontends) {
    config.claimPort(ROLE, { port: 80, protocol: Protocol.TCP, description: 'haproxy ingress http frontend' });
    config.claimPort(ROLE, { port: 443, protocol: Protocol.TCP, description: 'haproxy ingress https frontend' });
  }
  config.claimPort(ROLE, { port: lb.statsPort, protocol: Protocol.TCP, address: node.ip, description: 'haproxy stats page' });
  config.claimPort(ROLE, { port: lb.healthPort, protocol: Protocol.TCP, address: '127.0.0.1', description: 'haproxy health page for keepalived' });
  config.addFile(ROLE, haproxyFile(plan, hostName, secrets.statsPassword, []));
  const keepalivedDropIn = plan.apiEndpoint.floating ? renderKeepalivedServiceDropIn(plan) : undefined;

  if (plan.apiEndpoint.floating) {
    config.addPackages(ROLE, 'keepalived', 'curl');
    config.addFile(ROLE, { path: KEEPALIVED_CONFIG_PATH, content: renderKeepalivedConfig(plan, hostName, secrets.vrrpAuthPass), mode: '0600' });
    config.addFile(ROLE, { path: KEEPALIVED_NOTIFY_PATH, content: KEEPALIVED_NOTIFY_SCRIPT, mode: '0755' });
    if (keepalivedDropIn) {
      config.addFile(ROLE, { path: KEEPALIVED_HANDOVER_PATH, content: KEEPALIVED_HANDOVER_SCRIPT, mode: '0755' });
      config.addFile(ROLE, { path: KEEPALIVED_DROP_IN_PATH, content: keepalivedDropIn, mode: '0644' });
    }
    config.addCommand(ROLE, `id -u ${KEEPALIVED_SCRIPT_USER} >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin ${KEEPALIVED_SCRIPT_USER}`);
  }
  // HAProxy reloads (its master process starts new workers on the same sockets): no connection is refused.
  config.addService(ROLE, {
    unit: 'haproxy',
    watches: [HAPROXY_CONFIG_PATH],
    onChange: ServiceChange.RELOAD,
    validate: [`haproxy -c -q -f ${HAPROXY_CONFIG_PATH}`],
  });
  if (plan.apiEndpoint.floating) {
    // A reload keeps the VRRP state of unchanged instances: the VIP stays where it is.
    config.addService(ROLE, {
      unit: 'keepalived',
      // The drop-in and the handover script take effect at the next stop: a reload (after systemd's) is enough.
      watches: [KEEPALIVED_CONFIG_PATH, KEEPALIVED_NOTIFY_PATH, ...(keepalivedDropIn ? [KEEPALIVED_HANDOVER_PATH, KEEPALIVED_DROP_IN_PATH] : [])],
      onChange: ServiceChange.RELOAD,
      // No `keepalived -t` here: run from a script it took the whole script down with it (SIGTERM) in the rolling
      // lab; a reload with a bad file keeps the running configuration, and the gate below still checks the daemon.
    });
  }
  const backendsUrl = `http://127.0.0.1:${lb.healthPort}${HAPROXY_API_BACKENDS_PATH}`;
  // As many as before, but no more than the new configuration has (a change may remove a server).
  const servers = controlPlaneHosts(plan).length;
  config.addGate(ROLE, {
    description: `haproxy serves and sees as many API servers in rotation as before, at most ${servers} (${backendsUrl})`,
    before: `curl -fsS --max-time 2 ${backendsUrl}`,
    check: `want=\${before:-0}; [ "$want" -le ${servers} ] || want=${servers}; `
      + `systemctl is-active --quiet haproxy && n=$(curl -fsS --max-time 2 ${backendsUrl}) && [ "$n" -ge "$want" ]`,
    timeoutSeconds: 60,
  });
  if (plan.apiEndpoint.floating) {
    config.addGate(ROLE, { description: 'keepalived runs', check: 'systemctl is-active --quiet keepalived', timeoutSeconds: 30 });
  }
}
