import { CloudConfig, Protocol } from '../cloud-init/cloud-config';
import { ServiceChange } from '../cloud-init/service-step';
import {
  BIND_LOCAL_PATH, BIND_OPTIONS_PATH, renderBind9Zones, renderNamedConfLocal, renderNamedConfOptions, requireDns, requireDnsServer,
} from '../renderers/bind9';
import { SitePlan } from '../site/plan';

const ROLE = 'dns';
/** Files named reads: group `bind` (created by the package; cloud-init writes files after packages). */
const BIND_FILE_OWNER = 'root:bind';

/** How long a secondary waits for its primary to serve this synthesis's zones: 60 × 5 s. */
const PRIMARY_WAIT_ATTEMPTS = 60;
const PRIMARY_WAIT_STEP_SECONDS = 5;

/**
 * A bounded wait until the primary serves every zone with the serial rendered here. Serials are content hashes
 * and may go down: a secondary that started while its primary still served the previous records could take
 * those by transfer (their serial may look newer) and then ignore the primary's update (whose serial looks
 * older). Waiting first closes that window; after the bound the secondary starts anyway with its own copy.
 */
function waitForPrimaryCommand(primaryIp: string, zones: readonly { zone: string; serial: number }[]): string {
  const checks = zones.map((z) => `[ "$(dig +short +time=2 +tries=1 @${primaryIp} SOA ${z.zone} | cut -d ' ' -f 3)" = ${z.serial} ]`).join(' && ');
  return `i=0; until { ${checks}; } || [ "$i" -ge ${PRIMARY_WAIT_ATTEMPTS} ]; do i=$((i + 1)); sleep ${PRIMARY_WAIT_STEP_SECONDS}; done`;
}

/**
 * Attaches Bind9 to one DNS server: Debian's `named.conf.options` and `named.conf.local` replaced by the rendered
 * ones, every zone file under `/var/lib/bind/` (on secondaries too, as their first copy), port 53 on the host's
 * address and on 127.0.0.1, then a config and zone check before named is enabled and (re)started.
 *
 * Secondaries wait (at most 5 minutes) for the primary to serve the same serials, then restart named rather than
 * reload it: a reload only queues a refresh of a loaded secondary zone, a restart loads the file just written. The
 * primary reloads. Every server's rollout gate: it answers each zone with the serial rendered here.
 */
export function applyDnsRole(config: CloudConfig, plan: SitePlan, hostName: string): void {
  const server = requireDnsServer(plan, hostName);
  const primary = requireDns(plan).servers[0];
  const zones = renderBind9Zones(plan);
  // bind9-dnsutils: dig, for the secondaries' wait below (and for operators).
  config.addPackages(ROLE, 'bind9', 'bind9-utils', 'bind9-dnsutils');
  // named binds these two addresses only; Ubuntu's systemd-resolved stub keeps 127.0.0.53:53.
  for (const address of [server.ip, '127.0.0.1']) {
    for (const protocol of [Protocol.UDP, Protocol.TCP]) {
      config.claimPort(ROLE, { port: 53, protocol, address, description: `bind9 dns (${protocol})` });
    }
  }
  config.addFile(ROLE, { path: BIND_OPTIONS_PATH, content: renderNamedConfOptions(plan, hostName), mode: '0644', owner: BIND_FILE_OWNER });
  config.addFile(ROLE, { path: BIND_LOCAL_PATH, content: renderNamedConfLocal(plan, hostName), mode: '0644', owner: BIND_FILE_OWNER });
  for (const zone of zones) {
    config.addFile(ROLE, { path: zone.path, content: zone.content, mode: '0644', owner: BIND_FILE_OWNER });
  }
  const watches = [BIND_OPTIONS_PATH, BIND_LOCAL_PATH, ...zones.map((zone) => zone.path)];
  const validate = ['named-checkconf /etc/bind/named.conf', ...zones.map((zone) => `named-checkzone -i local ${zone.zone} ${zone.path}`)];
  // `named` is the unit on Debian 12 and Ubuntu 24.04; `bind9` is only an alias, which systemctl enable refuses.
  if (server.name === primary.name) {
    // Debian's unit reloads with `rndc reload`: the new zones are served without a gap, and NOTIFY reaches the secondaries.
    config.addService(ROLE, { unit: 'named', watches, onChange: ServiceChange.RELOAD, validate });
  } else {
    config.addCommand(ROLE, waitForPrimaryCommand(primary.ip, zones));
    config.addService(ROLE, { unit: 'named', watches, onChange: ServiceChange.RESTART, validate });
  }
  const serials = zones.map((z) => `[ "$(dig +short +norec +time=2 +tries=1 @${server.ip} SOA ${z.zone} | cut -d ' ' -f 3)" = ${z.serial} ]`).join(' && ');
  config.addGate(ROLE, { description: `named answers ${zones.map((z) => z.zone).join(', ')} with the rendered serials`, check: serials, timeoutSeconds: 120 });
}
