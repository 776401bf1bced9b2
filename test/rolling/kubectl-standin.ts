import { LabHost, RollingLab } from './lab';

/**
 * A `k3s` stand-in for labs without K3s: only `k3s kubectl` on a list of Node files in /var/lib/standin-nodes (a
 * Node's file holds its Ready status); every call logged in /var/log/kubectl-calls with the time in ms (the
 * request timeout every call carries is checked, then left out of the log). A drain of a node listed in
 * /var/lib/standin-drain-fails fails.
 */
const KUBECTL_STANDIN = `#!/bin/sh
shift
case "$1" in --request-timeout=30s) shift ;; *) echo "missing --request-timeout: $*" >> /var/log/kubectl-calls; exit 2 ;; esac
echo "$(date +%s%3N) $*" >> /var/log/kubectl-calls
case "$1 $2" in
  "get node")
    [ -e "/var/lib/standin-nodes/$3" ] || exit 1
    if [ "$4" = "-o" ]; then cat "/var/lib/standin-nodes/$3"; fi ;;
  "delete node") rm -f "/var/lib/standin-nodes/$3" ;;
  "drain "*) ! grep -qx "$2" /var/lib/standin-drain-fails 2>/dev/null ;;
  "get --raw") echo ok ;;
  *) exit 0 ;;
esac
`;

/** Installs the stand-in as /usr/local/bin/k3s on a lab host, with the given Nodes and their Ready status. */
export function installKubectlStandin(lab: RollingLab, host: LabHost, nodes: Readonly<Record<string, 'True' | 'False'>>): void {
  // The lab's work directory is not visible inside a host (its /tmp is private): the stand-in goes in as base64.
  const nodeFiles = Object.entries(nodes).map(([node, ready]) => `&& printf ${ready} > /var/lib/standin-nodes/${node} `).join('');
  const setup = lab.exec(host, `rm -rf /var/lib/standin-nodes /var/log/kubectl-calls && mkdir -p /usr/local/bin /var/lib/standin-nodes `
    + `&& echo ${Buffer.from(KUBECTL_STANDIN).toString('base64')} | base64 -d > /usr/local/bin/k3s && chmod 0755 /usr/local/bin/k3s ${nodeFiles}`);
  if (setup.status !== 0) {
    throw new Error(`installing the kubectl stand-in on ${host.name} failed: ${setup.stderr}`);
  }
}

/** The stand-in's calls on a host, in order, with their times in ms. */
export function kubectlCalls(lab: RollingLab, host: LabHost): { t: number; call: string }[] {
  return (lab.readHostFile(host, '/var/log/kubectl-calls') ?? '').trim().split('\n').filter(Boolean).map((line) => {
    const [t, ...rest] = line.split(' ');
    return { t: Number(t), call: rest.join(' ') };
  });
}
