import { readFileSync } from 'fs';
import { join } from 'path';
import { CloudConfig, Protocol } from '../cloud-init/cloud-config';
import { ETCD_METRICS_PORT } from '../monitoring/ports';
import { shellQuote } from '../cloud-init/shell-quote';
import { ServiceChange } from '../cloud-init/service-step';
import {
  K3S_AUTHENTICATION_CONFIG, K3S_AUTH_CONFIG_PATH, K3S_KUBECTL, K3S_CONFIG_PATH, K3S_ENV_PATH, K3S_ETCD_DATA_DIR, K3S_INSTALL_SCRIPT_PATH,
  K3S_JOIN_EXISTING_SCRIPT_PATH, K3S_TOKEN_PATH, K3S_WAIT_SCRIPT_PATH, bootstrapsCluster, k3sAgentConfig, k3sServerConfig, registrationUrl, renderK3sConfig, renderK3sInstallScript, renderK3sUnit, renderWaitForApiScript,
  K3S_AUTO_DEPLOY_MANIFESTS_DIR,
} from '../renderers/k3s';
import { SitePlan, hostsWithRole } from '../site/plan';
import { ApiHealthCheck, DatastoreKind, HostRole } from '../site/spec';
import { K3sDatastoreBinding } from './k3s-datastore';

const SERVER_ROLE = 'k3s-server';
const AGENT_ROLE = 'k3s-agent';

function envFile(environment: Readonly<Record<string, string>>): string {
  return Object.entries(environment).map(([key, value]) => `${key}=${value}\n`).join('');
}

/**
 * Installs the pinned K3s binary, the token and the unit; `wait` first waits for the API endpoint to answer. K3s
 * reads its files only when it starts: a change of any of them (or of the pinned version, in the install script)
 * restarts it, after the new binary is in place.
 */
function installK3s(config: CloudConfig, role: string, plan: SitePlan, token: string, mode: 'server' | 'agent', wait: boolean, readPaths: readonly string[]): void {
  config.addPackages(role, 'curl');
  config.addFile(role, { path: K3S_TOKEN_PATH, content: `${token}\n`, mode: '0600' });
  config.addFile(role, { path: K3S_INSTALL_SCRIPT_PATH, content: renderK3sInstallScript(plan.versions.k3s, plan.versions.k3sSha256), mode: '0755' });
  const unit = mode === 'server' ? 'k3s' : 'k3s-agent';
  const unitPath = `/etc/systemd/system/${unit}.service`;
  config.addFile(role, { path: unitPath, content: renderK3sUnit(mode) });
  config.addCommand(role, K3S_INSTALL_SCRIPT_PATH);
  if (wait) {
    config.addFile(role, { path: K3S_WAIT_SCRIPT_PATH, content: renderWaitForApiScript(plan), mode: '0755' });
    config.addCommand(role, K3S_WAIT_SCRIPT_PATH);
  }
  config.addService(role, {
    unit,
    watches: [...readPaths, K3S_TOKEN_PATH, K3S_INSTALL_SCRIPT_PATH, unitPath],
    onChange: ServiceChange.RESTART,
  });
}

/**
 * Attaches a K3s server to a host: `config.yaml` from the plan (critical flags shared by all servers), the token
 * file, the datastore's environment file (mode 0600: credentials never appear on a command line), the anonymous
 * health-endpoint authentication config when the load balancers check `/readyz`, and the pinned binary. Servers
 * after the first wait for the API endpoint before installing.
 *
 * @param token the cluster token, a Terraform reference
 */
export function applyK3sServerRole(config: CloudConfig, plan: SitePlan, hostName: string, token: string, datastore: K3sDatastoreBinding): void {
  const bootstraps = bootstrapsCluster(plan, hostName);
  config.addFile(SERVER_ROLE, { path: K3S_CONFIG_PATH, content: renderK3sConfig(k3sServerConfig(plan, hostName, datastore.serverConfig)), mode: '0600' });
  if (Object.keys(datastore.serverEnvironment).length > 0) {
    config.addFile(SERVER_ROLE, { path: K3S_ENV_PATH, content: envFile(datastore.serverEnvironment), mode: '0600' });
  }
  datastore.serverFiles.forEach((file) => config.addFile(SERVER_ROLE, file));
  (datastore.serverCommands ?? []).forEach((command) => config.addCommand(SERVER_ROLE, command));
  if (plan.loadBalancer?.apiHealthCheck === ApiHealthCheck.READYZ) {
    config.addFile(SERVER_ROLE, { path: K3S_AUTH_CONFIG_PATH, content: K3S_AUTHENTICATION_CONFIG, mode: '0600' });
  }
  config.claimPort(SERVER_ROLE, { port: 6443, protocol: Protocol.TCP, description: 'k3s supervisor and kube-apiserver' });
  config.claimPort(SERVER_ROLE, { port: 6444, protocol: Protocol.TCP, address: '127.0.0.1', description: 'kube-apiserver (node-local)' });
  config.claimPort(SERVER_ROLE, { port: 10250, protocol: Protocol.TCP, description: 'kubelet' });
  if (plan.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD) {
    config.claimPort(SERVER_ROLE, { port: 2379, protocol: Protocol.TCP, description: 'etcd client' });
    config.claimPort(SERVER_ROLE, { port: 2380, protocol: Protocol.TCP, description: 'etcd peer' });
    // `etcd-expose-metrics` (renderers/k3s.ts): the node's address and loopback.
    const host = hostsWithRole(plan, HostRole.K3S_SERVER).find((server) => server.name === hostName)!;
    for (const address of [host.ip, '127.0.0.1']) {
      config.claimPort(SERVER_ROLE, { port: ETCD_METRICS_PORT, protocol: Protocol.TCP, address, description: 'etcd metrics' });
    }
  }
  const readPaths = [K3S_CONFIG_PATH, ...(Object.keys(datastore.serverEnvironment).length > 0 ? [K3S_ENV_PATH] : []),
    // K3s applies its auto-deploy manifests when they change, without a restart.
    ...datastore.serverFiles.map((file) => file.path).filter((path) => !path.startsWith(`${K3S_AUTO_DEPLOY_MANIFESTS_DIR}/`)), ...(plan.loadBalancer?.apiHealthCheck === ApiHealthCheck.READYZ ? [K3S_AUTH_CONFIG_PATH] : [])];
  if (bootstraps) {
    joinRunningClusterIfAny(config, plan);
  }
  // Every server but the bootstrapping one joins through the endpoint, so it waits for it first.
  installK3s(config, SERVER_ROLE, plan, token, 'server', !bootstraps, readPaths);
  addK3sServerGates(config, plan);
}

/** The asset that makes a recreated first server join the running cluster (see the script's header). */
const JOIN_EXISTING_ASSET = join(__dirname, 'assets', 'k3s-join-existing-cluster.sh');

/**
 * On the bootstrapping server, before K3s first starts: a machine recreated under the first server's name while the
 * cluster runs (lost and rebuilt by the next apply without a `generation` change) joins the cluster instead of
 * starting a second one; the first build of the site, with no cluster answering yet, bootstraps it.
 */
function joinRunningClusterIfAny(config: CloudConfig, plan: SitePlan): void {
  config.addFile(SERVER_ROLE, { path: K3S_JOIN_EXISTING_SCRIPT_PATH, content: readFileSync(JOIN_EXISTING_ASSET, 'utf8'), mode: '0755' });
  config.addCommand(SERVER_ROLE, [K3S_JOIN_EXISTING_SCRIPT_PATH, K3S_CONFIG_PATH, K3S_ETCD_DATA_DIR, registrationUrl(plan)].map(shellQuote).join(' '));
}

/** How long a restarted K3s server may take to be Ready again with its datastore healthy. */
const K3S_SERVER_GATE_SECONDS = 600;

/**
 * A K3s server's rollout gates: this node Ready, the API server ready (`/readyz`, which includes etcd on embedded
 * etcd) and, with embedded etcd, every server of the site back as a Ready etcd member, so the next server restarts
 * only with full quorum.
 */
function addK3sServerGates(config: CloudConfig, plan: SitePlan): void {
  const kubectl = K3S_KUBECTL;
  config.addGate(SERVER_ROLE, {
    description: 'this node is Ready',
    check: `${kubectl} get node "$(hostname)" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True`,
    timeoutSeconds: K3S_SERVER_GATE_SECONDS,
  });
  config.addGate(SERVER_ROLE, { description: 'the API server is ready (/readyz)', check: `${kubectl} get --raw /readyz | grep -qx ok`, timeoutSeconds: K3S_SERVER_GATE_SECONDS });
  if (plan.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD) {
    // A decommissioned server has left etcd.
    const servers = hostsWithRole(plan, HostRole.K3S_SERVER).filter((host) => !host.decommission).length;
    config.addGate(SERVER_ROLE, {
      description: `all ${servers} etcd members are Ready nodes (full quorum)`,
      check: `[ "$(${kubectl} get nodes -l node-role.kubernetes.io/etcd=true -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}' | grep -cx True)" -ge ${servers} ]`,
      timeoutSeconds: K3S_SERVER_GATE_SECONDS,
    });
  }
}

/** Attaches a K3s agent: it waits for the API endpoint, then registers through it with the cluster token. */
export function applyK3sAgentRole(config: CloudConfig, plan: SitePlan, hostName: string, token: string): void {
  config.addFile(AGENT_ROLE, { path: K3S_CONFIG_PATH, content: renderK3sConfig(k3sAgentConfig(plan, hostName)), mode: '0600' });
  config.claimPort(AGENT_ROLE, { port: 10250, protocol: Protocol.TCP, description: 'kubelet' });
  installK3s(config, AGENT_ROLE, plan, token, 'agent', true, [K3S_CONFIG_PATH]);
  // The agent holds no credentials to read its Node; its kubelet's own health endpoint says it runs.
  config.addGate(AGENT_ROLE, {
    description: 'k3s-agent runs and its kubelet is healthy',
    check: 'systemctl is-active --quiet k3s-agent && curl -fsS --max-time 2 http://127.0.0.1:10248/healthz | grep -qx ok',
    timeoutSeconds: 300,
  });
}
