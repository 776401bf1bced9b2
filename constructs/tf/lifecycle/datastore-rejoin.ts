import { LifecycleScript, lifecycleScript } from './lifecycle-scripts';
import { DataResource, TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { shellQuote } from '../../cloud-init/shell-quote';
import { ETCD_DATA_DIR, etcdClientUrl, etcdPeerUrl, etcdctlTlsOptions } from '../../renderers/postgres';
import { SitePlan } from '../../site/plan';
import { rolloutOrder } from '../../site/rollout';
import { ConvergeConnection, sshConnection, sudoFor } from './host-converge';
import { escapeTerraformTemplate } from '../terraform-template';

/** Properties of a {@link DatastoreMemberRejoin}. */
export interface DatastoreMemberRejoinProps {
  readonly site: SitePlan;
  /** The datastore etcd member (a datastore node or the witness) whose machine is rebuilt. */
  readonly member: string;
  /** Another etcd member, which stays: the step runs there. */
  readonly via: string;
  readonly viaConnection: ConvergeConnection;
  /**
   * What must exist while it runs: that member's machine. Kept only when `via` converges before `member` in the
   * rollout (see {@link rejoinWaitsFor}).
   */
  readonly after: readonly TerraformResource[];
}

/** The rejoin script (assets/datastore-etcd-rejoin.sh after the lifecycle library; its header says what it does and why). */
const REJOIN_SCRIPT = lifecycleScript(LifecycleScript.DATASTORE_ETCD_REJOIN);

/**
 * A datastore etcd member rebuilt on purpose (`generation` raised) joins the running cluster as a new member: before
 * its new machine is created, a `terraform_data` resource on another member removes the old member and adds it
 * again (same name and peer URL) once the old machine has stopped answering; the new machine's etcd starts with
 * `ETCD_INITIAL_CLUSTER_STATE=existing` (renderEtcdEnvironmentFile), and Patroni on a rebuilt datastore node clones
 * its replica from the leader. The stack makes the new machine depend on it.
 */
export class DatastoreMemberRejoin extends Construct {
  /** The resource whose creation runs the rejoin. */
  public readonly resource: DataResource;

  constructor(scope: Construct, id: string, props: DatastoreMemberRejoinProps) {
    super(scope, id);
    const { site } = props;
    const tls = site.postgres!.tls;
    const host = site.hosts.find((h) => h.name === props.member)!;
    const via = site.hosts.find((h) => h.name === props.via)!;
    const env = [
      `PKH_ETCD_ENDPOINT=${etcdClientUrl(tls, via.ip)}`,
      `PKH_ETCDCTL_TLS=${shellQuote(etcdctlTlsOptions(site, props.via))}`,
      `PKH_ETCD_DATA_DIR=${ETCD_DATA_DIR}`,
    ].join(' ');
    const args = [props.member, etcdPeerUrl(tls, host.ip), etcdClientUrl(tls, host.ip)].map(shellQuote).join(' ');
    this.resource = new DataResource(this, 'Resource', {
      dependsOn: rejoinWaitsFor(site, props.member, props.via, props.after),
      triggersReplace: { member: props.member, generation: host.generation },
      connection: sshConnection(props.viaConnection),
      provisioners: [{
        type: 'remote-exec',
        // Literal `${` of the shell escaped for Terraform.
        inline: [`${sudoFor(props.viaConnection)}env ${env} sh -eu -c ${shellQuote(escapeTerraformTemplate(REJOIN_SCRIPT))} datastore-etcd-rejoin ${args}`],
      }],
    });
  }
}

/**
 * What the rejoin may wait for: `after` (the machine of `via`) only when `via` converges before `member` in the
 * rollout. A later member's container waits for `member`'s converge step (its restarts keep the rollout order), and
 * that step waits for `member`'s new machine, which waits for the rejoin: depending on it would be a cycle
 * (Terraform refused the rebuild of the witness, first in the rollout, with "Error: Cycle"). The machine of `via`
 * exists then anyway: only one member is rebuilt per apply.
 */
export function rejoinWaitsFor(site: SitePlan, member: string, via: string, after: readonly TerraformResource[]): TerraformResource[] {
  const order = rolloutOrder(site).map((step) => step.host);
  return order.indexOf(via) < order.indexOf(member) ? [...after] : [];
}
