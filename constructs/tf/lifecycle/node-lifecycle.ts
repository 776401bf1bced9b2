import { LifecycleScript } from './lifecycle-scripts';
import { Lazy, RemoteExecProvisioner, SSHProvisionerConnection, TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { K3S_SERVER_DATA_DIR } from '../../renderers/k3s';
import { KUBEADM_ADMIN_KUBECONFIG_PATH } from '../../renderers/kubeadm';
import { Distribution } from '../../site/spec';
import { shellQuote } from '../../cloud-init/shell-quote';
import { ConvergeConnection, HostConverge, sshConnection, sudoFor } from './host-converge';
import { escapeTerraformTemplate } from '../terraform-template';
import { RebuildStep } from './rebuild-step';
import { TerraformData } from '../terraform-data';
import { setLifecycleReferences } from '../lifecycle-references';

/** How to run kubectl with admin rights on a control-plane host. */
export interface ControlPlaneAccess {
  /** The control-plane host to run kubectl on. */
  readonly connection: ConvergeConnection;
  /** The kubectl command there, e.g. `K3S_KUBECTL`. */
  readonly kubectl: string;
}

/** Seconds `kubectl drain` may take (PodDisruptionBudgets may hold evictions back) before the rollout stops. */
export const DRAIN_TIMEOUT_SECONDS = 600;
/** Seconds one kubectl request may take (kubectl's own default is no limit: a hung API server would hold the step). */
export const KUBECTL_REQUEST_TIMEOUT_SECONDS = 30;
/** Seconds a node's Kubernetes service may take to stop when it is decommissioned. */
export const SERVICE_STOP_TIMEOUT_SECONDS = 300;

/** kubectl with every request bounded in time. */
export function boundedKubectl(kubectl: string): string {
  return `${kubectl} --request-timeout=${KUBECTL_REQUEST_TIMEOUT_SECONDS}s`;
}

/**
 * The commands that cordon and drain a node through the API (evictions honour PodDisruptionBudgets); nothing for a
 * node that has not registered yet. Bounded: each request, and the drain as a whole; past it one line names the
 * node, the step and what it waited for.
 */
export function drainCommand(kubectl: string, node: string): string {
  const k = boundedKubectl(kubectl);
  return `if ${k} get node ${node} >/dev/null 2>&1; then { ${k} cordon ${node} && ${k} drain ${node} --ignore-daemonsets --delete-emptydir-data --timeout=${DRAIN_TIMEOUT_SECONDS}s; } `
    + `|| { echo 'proxmox-k3s-ha: ${node}: drain: gave up after ${DRAIN_TIMEOUT_SECONDS} s waiting for its pods to be evicted (PodDisruptionBudgets may hold them back)' >&2; exit 1; }; fi`;
}

/** Properties of a {@link NodeDrain}. */
export interface NodeDrainProps {
  /** The Kubernetes node (the host name). */
  readonly node: string;
  /** Where kubectl runs with admin rights. */
  readonly via: ControlPlaneAccess;
  /** The node's converge step, which the drain brackets. */
  readonly converge: HostConverge;
  /**
   * Changes exactly when the node's Kubernetes service will restart (a fingerprint of the files it reads): only
   * then is the node drained.
   */
  readonly restartTrigger: string;
}

/**
 * Cordons and drains a worker before a converge that restarts its Kubernetes service, and uncordons it after the
 * converge passed its gates: two `terraform_data` resources run on a control-plane host, around the converge step
 * (`drain` → converge → `uncordon`), both triggered by the restart fingerprint only, so a change that does not
 * restart the node's service (a DNS zone on the same host) drains nothing.
 */
export class NodeDrain extends Construct {
  /** Cordons and drains the node. */
  public readonly drain: TerraformData;
  /** Uncordons the node. */
  public readonly uncordon: TerraformData;

  constructor(scope: Construct, id: string, props: NodeDrainProps) {
    super(scope, id);
    const sudo = sudoFor(props.via.connection);
    const kubectl = `${sudo}${props.via.kubectl}`;
    this.drain = new TerraformData(this, 'Drain', {
      triggersReplace: { restart: props.restartTrigger, node: props.node },
      connection: sshConnection(props.via.connection),
      provisioners: [{ type: 'remote-exec', inline: [drainCommand(kubectl, props.node)] }],
    });
    this.uncordon = new TerraformData(this, 'Uncordon', {
      triggersReplace: { restart: props.restartTrigger, node: props.node },
      connection: sshConnection(props.via.connection),
      provisioners: [{ type: 'remote-exec', inline: [`if ${boundedKubectl(kubectl)} get node ${props.node} >/dev/null 2>&1; then ${boundedKubectl(kubectl)} uncordon ${props.node}; fi`] }],
    });
    props.converge.bracket(this.drain, this.uncordon);
  }
}

/** Properties of a {@link NodeDecommission}. */
export interface NodeDecommissionProps {
  /** The Kubernetes node (the host name). */
  readonly node: string;
  /** Where kubectl runs with admin rights: another control-plane host, which stays. */
  readonly via: ControlPlaneAccess;
  /** How to reach the node itself, to stop its Kubernetes service. */
  readonly nodeConnection: ConvergeConnection;
  /** The node's Kubernetes service (`k3s` or `k3s-agent`). */
  readonly unit: string;
  /** The node is an embedded etcd member: after its Node is deleted, etcd must report ready without it. */
  readonly etcdMember: boolean;
  /** The machines that must exist while it runs (the node's and the control-plane host's). */
  readonly machines: readonly TerraformResource[];
  /** What the change report records for the host (its facts, marked decommissioned). */
  readonly record: Readonly<Record<string, unknown>>;
}

/**
 * Takes a node out of the cluster, in place, while its machine still runs (the site marked the host
 * `decommission: true`): from another control-plane host it drains the node (evictions honour
 * PodDisruptionBudgets), then stops and disables the node's Kubernetes service on the node itself (so it cannot
 * register again), deletes its Node (K3s removes the etcd member of a deleted server node), waits until the Node is
 * gone and, for an etcd member, until etcd reports ready without it. A failure stops there, with the machine
 * running. A later change that removes the host from the site destroys the machine.
 *
 * Done with create-time provisioners on purpose: Terraform runs no destroy-time provisioner of a resource whose
 * block left the configuration, which is what removing a host from the site does.
 */
export class NodeDecommission extends Construct {
  /** The resource whose creation runs the decommissioning. */
  public readonly resource: TerraformData;

  constructor(scope: Construct, id: string, props: NodeDecommissionProps) {
    super(scope, id);
    const kubectl = `${sudoFor(props.via.connection)}${props.via.kubectl}`;
    const k = boundedKubectl(kubectl);
    const node = props.node;
    const bounded = (condition: string, what: string) =>
      `i=0; ${condition}; do i=$((i + 1)); [ "$i" -le 60 ] || { echo "proxmox-k3s-ha: ${node}: decommission: gave up after 300 s waiting for ${what}" >&2; exit 1; }; sleep 5; done`;
    const stop = `${sudoFor(props.nodeConnection)}timeout -k 10 ${SERVICE_STOP_TIMEOUT_SECONDS} systemctl disable --now ${props.unit} `
      + `|| { echo 'proxmox-k3s-ha: ${node}: decommission: gave up after ${SERVICE_STOP_TIMEOUT_SECONDS} s waiting for ${props.unit} to stop' >&2; exit 1; }`;
    this.resource = new TerraformData(this, 'Resource', {
      dependsOn: [...props.machines],
      triggersReplace: { node, decommissioned: 'decommissioned' },
      input: props.record,
      connection: sshConnection(props.via.connection),
      provisioners: [
        { type: 'remote-exec', inline: [drainCommand(kubectl, node)] },
        { type: 'remote-exec', connection: sshConnection(props.nodeConnection), inline: [stop] },
        {
          type: 'remote-exec',
          inline: [
            `if ${k} get node ${node} >/dev/null 2>&1; then ${k} delete node ${node} --timeout=120s; fi`,
            bounded(`while ${k} get node ${node} >/dev/null 2>&1`, 'its Node to be deleted'),
            ...(props.etcdMember ? [bounded(`until ${k} get --raw /readyz/etcd >/dev/null 2>&1`, 'etcd to report ready without it')] : []),
            `echo 'proxmox-k3s-ha: node ${node} is out of the cluster; remove it from the site to destroy its machine'`,
          ],
        },
      ],
    });
  }
}

/** Properties of a {@link NodeRejoinCleanup}. */
export interface NodeRejoinCleanupProps {
  /** The Kubernetes node (the host name) whose machine is rebuilt. */
  readonly node: string;
  /** Its address: the cleanup waits until the previous machine stops answering there. */
  readonly nodeIp: string;
  /** The host's rebuild counter: each rebuild cleans up again. */
  readonly generation: number;
  /** The node is an embedded etcd member: etcd must report ready without the old member. */
  readonly etcdMember: boolean;
  /** A control-plane host that stays, and its admin kubectl. */
  readonly via: ControlPlaneAccess;
  /** The cluster's distribution: K3s also keeps a node-password secret per node, which goes too. */
  readonly distribution: Distribution;
  /** What must exist while it runs: that control plane's machine. */
  readonly after: readonly TerraformResource[];
}

/** Per distribution: a path that exists on a control plane once the cluster runs there, and the node password. */
const CLUSTER_FACTS: Readonly<Record<Distribution, { readonly clusterMarker: string; readonly nodePasswordSecret: boolean }>> = {
  [Distribution.K3S]: { clusterMarker: K3S_SERVER_DATA_DIR, nodePasswordSecret: true },
  [Distribution.KUBEADM]: { clusterMarker: KUBEADM_ADMIN_KUBECONFIG_PATH, nodePasswordSecret: false },
};

/**
 * A node rebuilt on purpose (`generation` raised) joins under its old name: before its new machine is created, a
 * `terraform_data` resource on a control plane that stays removes the old machine's Node (and with it, through K3s's
 * finalizer, a K3s server's etcd member) and K3s's node-password secret, once the old machine has stopped
 * answering. The stack makes the new machine depend on it; {@link NodeRebuildDrain} drained the node before the old
 * machine was destroyed.
 */
export class NodeRejoinCleanup extends RebuildStep {
  constructor(scope: Construct, id: string, props: NodeRejoinCleanupProps) {
    const facts = CLUSTER_FACTS[props.distribution];
    super(scope, id, {
      rebuilt: { key: 'node', name: props.node, generation: props.generation },
      via: props.via.connection,
      waitsFor: props.after,
      // assets/node-rejoin-cleanup.sh after the lifecycle library; its header says what it does and why.
      script: LifecycleScript.NODE_REJOIN_CLEANUP,
      environment: { PKH_KUBECTL: props.via.kubectl, PKH_CLUSTER_MARKER: facts.clusterMarker, PKH_K3S_NODE_PASSWORD: facts.nodePasswordSecret ? '1' : '0' },
      args: [props.node, props.nodeIp, props.etcdMember ? '1' : '0'],
    });
  }
}

/** Properties of a {@link NodeRebuildDrain}. */
export interface NodeRebuildDrainProps {
  /** The Kubernetes node (the host name). */
  readonly node: string;
  /** The node's machine, and its rebuild counter, whose update replaces the machine and the drain with it. */
  readonly machine: { readonly resource: TerraformResource; readonly generation: TerraformData };
  /** Where kubectl runs with admin rights: a control plane that stays. */
  readonly via: ControlPlaneAccess;
  /** The machine of `via`, where the stack makes it: the drain runs before it is destroyed too. */
  readonly viaMachine?: TerraformResource;
}

/**
 * Drains a node before Terraform destroys its machine for a rebuild (`generation` raised), so its pods move the way
 * they do for a restart instead of going down with the machine. A `terraform_data` resource that depends on the
 * node's machine and is replaced with it, through the machine's own rebuild counter: Terraform destroys a dependent
 * before what it depends on, so the resource's destroy-time provisioner runs, through a control plane that stays,
 * before the old machine is destroyed.
 *
 * A destroy-time provisioner may read only its own resource, so the connection (the key included) is kept in the
 * resource's `triggers_replace`, and with it in the Terraform state, which already holds the site's other secrets.
 * Not in `input`: Terraform prints its copy, `output`, unmasked in a plan. Changes to it are ignored (a rotated key
 * must not replace the resource, which would drain the node), so it holds the connection of the node's last
 * rebuild: after a rotation of the admin key the next rebuild's drain cannot log in and the node goes undrained.
 *
 * A node that is not Ready (the usual reason for a rebuild) is not drained: its pods cannot confirm they stopped,
 * and {@link NodeRejoinCleanup} deletes the Node once the old machine is gone. A drain that fails within its
 * deadline does not stop the rebuild (`on_failure = continue`; Terraform prints the error): the node then goes as in
 * a node failure, and a whole-site `terraform destroy`, which runs every node's drain, does not stop there.
 */
export class NodeRebuildDrain extends Construct {
  /** The resource whose destruction drains the node. */
  public readonly resource: TerraformData;

  constructor(scope: Construct, id: string, props: NodeRebuildDrainProps) {
    super(scope, id);
    const { type, timeout, ...settings } = sshConnection(props.via.connection);
    const fromSelf = Object.fromEntries(Object.keys(settings).map((name) => [name, `\${self.triggers_replace.${name}}`]));
    const kubectl = `${sudoFor(props.via.connection)}${props.via.kubectl}`;
    // cdktf's remote-exec type lacks `when` and `on_failure`; it writes the keys through in snake case.
    const drain = { type: 'remote-exec', when: 'destroy', onFailure: 'continue', inline: [readyNodeDrainCommand(kubectl, props.node)] } as RemoteExecProvisioner;
    this.resource = new TerraformData(this, 'Resource', {
      dependsOn: [props.machine.resource, ...(props.viaMachine ? [props.viaMachine] : [])],
      triggersReplace: { node: props.node, ...settings },
      connection: { type, timeout, ...fromSelf } as SSHProvisionerConnection,
      provisioners: [drain],
    });
    setLifecycleReferences(this.resource, { ignoreChanges: ['triggers_replace'], replaceTriggeredBy: [props.machine.generation] });
  }
}

/** {@link drainCommand} for a node that reports Ready; a line saying so for one that does not. */
function readyNodeDrainCommand(kubectl: string, node: string): string {
  const ready = `${boundedKubectl(kubectl)} get node ${node} -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True`;
  return `if ${ready}; then ${drainCommand(kubectl, node)}; else echo 'proxmox-k3s-ha: ${node}: not Ready, so not drained before its machine is destroyed'; fi`;
}

/**
 * For {@link NodeDrainProps.restartTrigger}: a fingerprint of the files the node's service reads (`unit`), and of the
 * VM's machine changes that its converge step restarts it for, so the node is drained around either restart.
 */
export function restartTrigger(converge: HostConverge, unit?: string): string {
  return Lazy.stringValue({
    produce: (context) => [unit ? converge.serviceFingerprint(unit, context) : undefined, converge.restartFingerprint].filter((part) => part !== undefined).join('+'),
  });
}

/**
 * What a control plane runs before a kubeadm node joins after the cluster's first day: the bootstrap token again
 * (its 24 h TTL has long passed; the same value, read from the control plane's own init configuration, so no secret
 * is in the command) and, for a joining control plane, the cluster certificates uploaded again under the same
 * certificate key (kubeadm deletes them 2 hours after an upload).
 */
export function kubeadmJoinPreparation(initConfigPath: string, controlPlane: boolean): string[] {
  return [
    `token=$(sed -n 's/^[ -]*token: *//p' ${initConfigPath} | head -n 1)`,
    '[ -n "$token" ] || { echo "proxmox-k3s-ha: no bootstrap token in the init configuration" >&2; exit 1; }',
    // Deleting first refreshes the TTL of a token that still exists.
    'kubeadm token delete "${token%%.*}" >/dev/null 2>&1 || true',
    'kubeadm token create "$token" --ttl 2h >/dev/null',
    ...(controlPlane ? [`kubeadm init phase upload-certs --upload-certs --config ${initConfigPath} >/dev/null`] : []),
  ];
}

/** Seconds the join preparation (kubeadm token and certificate upload, API calls) may take. */
export const JOIN_PREPARATION_TIMEOUT_SECONDS = 300;

/** Properties of a {@link KubeadmJoinPreparation}. */
export interface KubeadmJoinPreparationProps {
  /** The joining node (the host name). */
  readonly node: string;
  /** The joining node is a control plane: the certificates are uploaded again too. */
  readonly controlPlane: boolean;
  /** The first control plane, which holds the init configuration. */
  readonly firstControlPlane: ConvergeConnection;
  /** The init configuration's path on the first control plane. */
  readonly initConfigPath: string;
  /** The node's rebuild counter: a rebuilt node is prepared for again. */
  readonly generation: number;
  /** What must exist first: the first control plane's converge step. */
  readonly after: TerraformData;
}

/**
 * Prepares the cluster for a kubeadm node that joins later (a new or rebuilt node): a `terraform_data` resource run
 * on the first control plane after its converge step (see {@link kubeadmJoinPreparation}). The stack makes the
 * node's machine (or, for an existing host, its converge step) wait for it, so the node's first boot finds a valid
 * token.
 */
export class KubeadmJoinPreparation extends Construct {
  /** The resource that prepares the join. */
  public readonly resource: TerraformData;

  constructor(scope: Construct, id: string, props: KubeadmJoinPreparationProps) {
    super(scope, id);
    const sudo = sudoFor(props.firstControlPlane);
    // Literal `${` of the shell escaped for Terraform.
    const script = escapeTerraformTemplate(kubeadmJoinPreparation(props.initConfigPath, props.controlPlane).join('\n'));
    this.resource = new TerraformData(this, 'Resource', {
      dependsOn: [props.after],
      triggersReplace: { node: props.node, generation: props.generation },
      connection: sshConnection(props.firstControlPlane),
      provisioners: [{
        type: 'remote-exec',
        inline: [`${sudo}timeout -k 10 ${JOIN_PREPARATION_TIMEOUT_SECONDS} sh -eu -c ${shellQuote(script)} `
          + `|| { echo 'proxmox-k3s-ha: ${props.node}: join preparation on the first control plane failed or gave up after ${JOIN_PREPARATION_TIMEOUT_SECONDS} s (bootstrap token, certificate upload)' >&2; exit 1; }`],
      }],
    });
  }
}
