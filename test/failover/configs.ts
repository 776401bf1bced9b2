import { HostRole, SitePlan, SiteSpec, defineSite } from '../../constructs';
import { KEEPALIVED_NOTIFY_SCRIPT, renderHaproxyConfig, renderKeepalivedConfig } from '../../constructs/renderers';
import { LAB_VIP, LoadBalancerFiles, labAddress } from './lab';

export const LOAD_BALANCERS = [{ name: 'lb-1', ip: labAddress(11) }, { name: 'lb-2', ip: labAddress(12) }, { name: 'lb-3', ip: labAddress(13) }];
export const API_SERVERS = [{ name: 'api-1', ip: labAddress(21) }, { name: 'api-2', ip: labAddress(22) }, { name: 'api-3', ip: labAddress(23) }];
export const CLIENT = { name: 'client', ip: labAddress(50) };
export const API_PORT = 6443;
export const STATS_PASSWORD = 'lab-stats-only';

/**
 * The lab as a site (the shape of seed 001: dedicated load balancers in front of three servers), with the lab's
 * addresses. Each server also runs a stand-in ingress controller on the ingress NodePorts (seed 002's shape: the
 * controller DaemonSet on the control-plane nodes), behind the load balancers' ingress frontends.
 */
export const LAB_SITE: SiteSpec = {
  name: 'failover-lab',
  network: { cidr: `${labAddress(0)}/24`, gateway: labAddress(1), dnsServers: [labAddress(1)], searchDomain: 'lab.test' },
  proxmox: {
    endpoint: 'https://pve.lab.test:8006/',
    nodes: ['pve1', 'pve2', 'pve3'],
    bridge: 'vmbr0',
    datastores: { disks: 'local-lvm', snippets: 'local', images: 'local' },
    lxcTemplate: { url: 'https://images.lab.test/ubuntu.tar.zst', fileName: 'ubuntu.tar.zst' },
    cloudImage: { url: 'https://images.lab.test/noble.img', fileName: 'noble.qcow2' },
  },
  hosts: [
    ...LOAD_BALANCERS.map((lb, i) => ({ ...lb, vmId: 211 + i, proxmoxNode: `pve${i + 1}`, roles: [HostRole.LOAD_BALANCER] })),
    ...API_SERVERS.map((api, i) => ({ ...api, vmId: 221 + i, proxmoxNode: `pve${i + 1}`, roles: [HostRole.K3S_SERVER] })),
  ],
  apiEndpoint: { vip: LAB_VIP, port: API_PORT },
  loadBalancer: { ingressFrontends: true },
};

/** The ingress NodePorts the stand-in controllers listen on, and the load balancers' HTTP ingress frontend. */
export const INGRESS_NODE_PORTS = { http: defineSite(LAB_SITE).ingress.httpNodePort, https: defineSite(LAB_SITE).ingress.httpsNodePort };
export const INGRESS_HTTP_PORT = 80;

/** A configuration under test: the files each load balancer runs with. */
export interface LabConfiguration {
  readonly label: string;
  readonly multicast: boolean;
  files(node: string): LoadBalancerFiles;
}

/** What this library generates, from its renderers and the lab site. */
export function generatedConfiguration(plan: SitePlan = defineSite(LAB_SITE)): LabConfiguration {
  return {
    label: 'generated',
    multicast: !plan.loadBalancer!.vrrpUnicast,
    files: (node) => ({
      haproxyCfg: renderHaproxyConfig(plan, node, STATS_PASSWORD),
      keepalivedConf: renderKeepalivedConfig(plan, node),
      notifyScript: KEEPALIVED_NOTIFY_SCRIPT,
    }),
  };
}

/**
 * Seed 001's configuration as its write-up gives it (`option tcp-check`, `inter 10s downinter 5s`, `killall -0`
 * every 2 s, VRRPv2 multicast with 1 s adverts, priorities 200/150/100), with the Debian package's global and
 * defaults sections it was layered on, and the lab's addresses.
 */
export const SEED_001_BASELINE: LabConfiguration = {
  label: 'seed-001',
  multicast: true,
  files: (node) => {
    const index = LOAD_BALANCERS.findIndex((lb) => lb.name === node);
    return {
      haproxyCfg: `global
    log /dev/log local0
    chroot /var/lib/haproxy
    stats socket /run/haproxy/admin.sock mode 660 level admin
    user haproxy
    group haproxy

defaults
    log global
    mode http
    option httplog
    option dontlognull
    timeout connect 5000
    timeout client 50000
    timeout server 50000

frontend k3s-frontend
    bind *:${API_PORT}
    mode tcp
    option tcplog
    default_backend k3s-backend

backend k3s-backend
    mode tcp
    option tcp-check
    balance roundrobin
    default-server inter 10s downinter 5s
${API_SERVERS.map((api) => `    server ${api.name} ${api.ip}:6443 check`).join('\n')}
`,
      keepalivedConf: `global_defs {
  enable_script_security
  script_user root
}

vrrp_script chk_haproxy {
    script 'killall -0 haproxy'
    interval 2
}

vrrp_instance haproxy-vip {
    interface eth0
    state ${index === 0 ? 'MASTER' : 'BACKUP'}
    priority ${[200, 150, 100][index]}

    virtual_router_id 51

    virtual_ipaddress {
        ${LAB_VIP}/24
    }

    track_script {
        chk_haproxy
    }
}
`,
      notifyScript: KEEPALIVED_NOTIFY_SCRIPT,
    };
  },
};
