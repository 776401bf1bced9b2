import { readFileSync } from 'fs';
import { join } from 'path';
import { SitePlan } from '../site/plan';
import { VrrpVersion } from '../site/spec';
import { requireLoadBalancer } from './haproxy';

export const KEEPALIVED_CONFIG_PATH = '/etc/keepalived/keepalived.conf';
export const KEEPALIVED_NOTIFY_PATH = '/etc/keepalived/notify.sh';
/** Unprivileged user the track scripts run as (`enable_script_security`). */
export const KEEPALIVED_SCRIPT_USER = 'keepalived_script';

/**
 * Logs every VRRP transition, so an operator sees when and where the VIP moved, and publishes each instance's state
 * (`keepalived_vrrp_state{vrrp_instance}`, 1 on the VIP holder) for node_exporter's textfile collector. Shipped as an asset
 * file checked by shellcheck.
 */
export const KEEPALIVED_NOTIFY_SCRIPT = readFileSync(join(__dirname, '../cloud-init/assets/keepalived-notify.sh'), 'utf8');

/** Keepalived's ExecStop: hands the VIP over before Keepalived stops (see the asset file). */
export const KEEPALIVED_HANDOVER_PATH = '/etc/keepalived/handover.sh';
export const KEEPALIVED_HANDOVER_SCRIPT = readFileSync(join(__dirname, '../cloud-init/assets/keepalived-handover.sh'), 'utf8');
/** The track file the handover raises; on tmpfs and reset by every Keepalived start, so a reboot never keeps it. */
export const KEEPALIVED_HANDOVER_TRACK_FILE = '/run/keepalived-vip-handover';
export const KEEPALIVED_DROP_IN_PATH = '/etc/systemd/system/keepalived.service.d/10-proxmox-k3s-ha.conf';

function block(header: string, lines: readonly string[], indent = '    '): string {
  return [`${header} {`, ...lines.flatMap((line) => line.split('\n')).map((line) => `${indent}${line}`), '}'].join('\n');
}

/**
 * Renders `keepalived.conf` for one load balancer: one VRRP instance per site holding the VIP.
 *
 * - Priorities come from the load balancers' order; the first starts as MASTER (all start as BACKUP with
 *   `nopreempt`, which only works that way).
 * - VRRPv3 with sub-second adverts and unicast peers by default.
 * - `chk_haproxy` puts the node in FAULT (weight 0) as soon as HAProxy stops answering its health page, so the
 *   VIP moves at once; `chk_api_backends` lowers the priority below every other node when HAProxy has no API
 *   server in rotation (with `nopreempt` it faults instead, since a priority change would not move the VIP).
 * - Gratuitous ARPs are repeated when a lower-priority advert arrives (a split brain healing) and refreshed
 *   periodically, so clients never keep the MAC of a node that gave the VIP up.
 *
 * @param authPass VRRPv2 only, when authentication is on: a Terraform reference to an 8-character secret
 */
export function renderKeepalivedConfig(plan: SitePlan, nodeName: string, authPass?: string): string {
  const lb = requireLoadBalancer(plan);
  const index = lb.nodes.findIndex((n) => n.name === nodeName);
  if (index < 0) {
    throw new Error(`site ${plan.name}: host ${JSON.stringify(nodeName)} is not a load balancer (load balancers: ${lb.nodes.map((n) => n.name).join(', ')})`);
  }
  if (lb.vrrpAuthentication && (!authPass || lb.vrrpVersion !== VrrpVersion.V2)) {
    throw new Error(`site ${plan.name}: VRRP authentication needs VRRPv2 and an auth pass`);
  }
  const node = lb.nodes[index];
  const priorities = lb.nodes.map((n) => n.priority);
  // Enough to fall below the lowest healthy node, whatever this node's own priority.
  const backendWeight = Math.max(...priorities) - Math.min(...priorities) + 1;
  const healthUrl = `http://127.0.0.1:${lb.healthPort}/healthz`;
  const advertSeconds = lb.vrrpAdvertIntervalMs / 1000;
  const peers = lb.nodes.filter((n) => n.name !== node.name).map((n) => n.ip);

  // A handover is a preemption: with nopreempt a lower priority would not move the VIP, so there is none.
  const handover = !lb.vrrpNopreempt;
  const instance: string[] = [
    `state ${!lb.vrrpNopreempt && index === 0 ? 'MASTER' : 'BACKUP'}`,
    `interface ${lb.vrrpInterface}`,
    `virtual_router_id ${lb.vrrpRouterId}`,
    `priority ${node.priority}`,
    `version ${lb.vrrpVersion}`,
    `advert_int ${advertSeconds}`,
    ...(lb.vrrpNopreempt ? ['nopreempt'] : []),
  ];
  if (lb.vrrpUnicast) {
    instance.push(`unicast_src_ip ${node.ip}`, block('unicast_peer', peers));
  }
  if (lb.vrrpAuthentication) {
    instance.push(block('authentication', ['auth_type PASS', `auth_pass ${authPass}`]));
  }
  instance.push(
    block('virtual_ipaddress', [`${plan.apiEndpoint.address}/${plan.network.prefixLength} dev ${lb.vrrpInterface}`]),
    block('track_script', ['chk_haproxy', 'chk_api_backends']),
    ...(handover ? [block('track_file', ['vip_handover'])] : []),
    'garp_master_refresh 10',
    'garp_master_refresh_repeat 1',
    // Healing a split brain: the losing master still advertises once, so the winner (which never stopped being
    // master) hears a lower priority and re-announces the VIP's MAC at once; clients never keep the loser's MAC.
    'higher_prio_send_advert',
    'garp_lower_prio_repeat 2',
    // As root, not the script user: it renames its file into node_exporter's root-owned textfile directory.
    // Script security allows it, the script and every directory above it being root's alone.
    `notify ${KEEPALIVED_NOTIFY_PATH} root`,
  );

  const sections = [
    block('global_defs', [
      `router_id ${node.name}`,
      'enable_script_security',
      `script_user ${KEEPALIVED_SCRIPT_USER}`,
    ]),
    block('vrrp_script chk_haproxy', [
      // Any HTTP answer (even 503) means HAProxy is alive; only no answer faults the node.
      `script "/usr/bin/curl -s -o /dev/null --max-time 1 ${healthUrl}"`,
      'interval 1',
      'timeout 1',
      'fall 1',
      'rise 2',
      'weight 0',
    ]),
    block('vrrp_script chk_api_backends', [
      `script "/usr/bin/curl -sf -o /dev/null --max-time 1 ${healthUrl}"`,
      'interval 1',
      'timeout 1',
      'fall 2',
      'rise 2',
      `weight ${lb.vrrpNopreempt ? 0 : -backendWeight}`,
    ]),
    // Raised only by the handover script before Keepalived stops; 0 (no effect) from every start on.
    ...(handover ? [block('track_file vip_handover', [
      `file "${KEEPALIVED_HANDOVER_TRACK_FILE}"`,
      `weight -${backendWeight}`,
      'init_file 0 overwrite',
    ])] : []),
    block(`vrrp_instance ${plan.name.replace(/-/g, '_')}_api_vip`, instance),
  ];
  return `# Rendered by proxmox-k3s-ha for ${node.name} (site ${plan.name}); do not edit by hand.\n${sections.join('\n\n')}\n`;
}

/**
 * The systemd drop-in of Keepalived on a load balancer, or undefined when the site has no VIP handover (nopreempt).
 *
 * - `ExecStop` hands the VIP over before Keepalived stops, so a reboot or a restart of the VIP holder moves the VIP
 *   while its HAProxy still serves. Bounded by three master-down intervals (at most four adverts each: three and the
 *   skew) and a second; systemd's stop timeout stays above that.
 * - `After=haproxy.service`: units stop in the reverse order, so on a shutdown Keepalived (and the VIP) goes first.
 */
export function renderKeepalivedServiceDropIn(plan: SitePlan): string | undefined {
  const lb = requireLoadBalancer(plan);
  if (lb.vrrpNopreempt) {
    return undefined;
  }
  const waitSeconds = Math.ceil((lb.vrrpAdvertIntervalMs * 4 * 3) / 1000) + 1;
  return [
    '# Rendered by proxmox-k3s-ha; do not edit by hand.',
    '[Unit]',
    'After=haproxy.service',
    '',
    '[Service]',
    `ExecStop=${KEEPALIVED_HANDOVER_PATH} ${plan.apiEndpoint.address} ${KEEPALIVED_HANDOVER_TRACK_FILE} ${waitSeconds}`,
    `TimeoutStopSec=${waitSeconds + 30}`,
    '',
  ].join('\n');
}
