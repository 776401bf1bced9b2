import { CloudConfig, Protocol } from '../cloud-init/cloud-config';
import {
  K3S_AUTHENTICATION_CONFIG, K3S_AUTH_CONFIG_PATH, K3S_CONFIG_PATH, K3S_ENV_PATH, K3S_INSTALL_SCRIPT_PATH, K3S_TOKEN_PATH, K3S_WAIT_SCRIPT_PATH,
  k3sAgentConfig, k3sServerConfig, renderK3sConfig, renderK3sInstallScript, renderK3sUnit, renderWaitForApiScript,
} from '../renderers/k3s';
import { SitePlan, hostsWithRole } from '../site/plan';
import { ApiHealthCheck, DatastoreKind, HostRole } from '../site/spec';
import { K3sDatastoreBinding } from './k3s-datastore';

const SERVER_ROLE = 'k3s-server';
const AGENT_ROLE = 'k3s-agent';

function envFile(environment: Readonly<Record<string, string>>): string {
  return Object.entries(environment).map(([key, value]) => `${key}=${value}\n`).join('');
}

/** Installs the pinned K3s binary, the token and the unit; `wait` first waits for the API endpoint to answer. */
function installK3s(config: CloudConfig, role: string, plan: SitePlan, token: string, mode: 'server' | 'agent', wait: boolean): void {
  config.addPackages(role, 'curl');
  config.addFile(role, { path: K3S_TOKEN_PATH, content: `${token}\n`, mode: '0600' });
  config.addFile(role, { path: K3S_INSTALL_SCRIPT_PATH, content: renderK3sInstallScript(plan.versions.k3s, plan.versions.k3sSha256), mode: '0755' });
  const unit = mode === 'server' ? 'k3s' : 'k3s-agent';
  config.addFile(role, { path: `/etc/systemd/system/${unit}.service`, content: renderK3sUnit(mode) });
  config.addCommand(role, K3S_INSTALL_SCRIPT_PATH);
  if (wait) {
    config.addFile(role, { path: K3S_WAIT_SCRIPT_PATH, content: renderWaitForApiScript(plan), mode: '0755' });
    config.addCommand(role, K3S_WAIT_SCRIPT_PATH);
  }
  config.addCommand(role, 'systemctl daemon-reload');
  config.addCommand(role, `systemctl enable --now ${unit}`);
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
  const servers = hostsWithRole(plan, HostRole.K3S_SERVER);
  const index = servers.findIndex((s) => s.name === hostName);
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
  }
  installK3s(config, SERVER_ROLE, plan, token, 'server', index > 0);
}

/** Attaches a K3s agent: it waits for the API endpoint, then registers through it with the cluster token. */
export function applyK3sAgentRole(config: CloudConfig, plan: SitePlan, hostName: string, token: string): void {
  config.addFile(AGENT_ROLE, { path: K3S_CONFIG_PATH, content: renderK3sConfig(k3sAgentConfig(plan, hostName)), mode: '0600' });
  config.claimPort(AGENT_ROLE, { port: 10250, protocol: Protocol.TCP, description: 'kubelet' });
  installK3s(config, AGENT_ROLE, plan, token, 'agent', true);
}
