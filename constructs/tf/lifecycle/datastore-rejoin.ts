import { TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { ETCD_DATA_DIR, etcdClientUrl, etcdPeerUrl, etcdctlTlsOptions } from '../../renderers/postgres';
import { SitePlan } from '../../site/plan';
import { rolloutOrder } from '../../site/rollout';
import { ConvergeConnection } from './host-converge';
import { LifecycleScript } from './lifecycle-scripts';
import { RebuildStep, RebuildStepProps } from './rebuild-step';

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

/**
 * A datastore etcd member rebuilt on purpose (`generation` raised) joins the running cluster as a new member: before
 * its new machine is created, a `terraform_data` resource on another member removes the old member and adds it
 * again (same name and peer URL) once the old machine has stopped answering; the new machine's etcd starts with
 * `ETCD_INITIAL_CLUSTER_STATE=existing` (renderEtcdEnvironmentFile), and Patroni on a rebuilt datastore node clones
 * its replica from the leader. The stack makes the new machine depend on it.
 */
export class DatastoreMemberRejoin extends RebuildStep {
  constructor(scope: Construct, id: string, props: DatastoreMemberRejoinProps) {
    super(scope, id, rejoinStep(props));
  }
}

/** The rejoin's script, run on `via` with that member's certificates, for the member's current generation. */
function rejoinStep(props: DatastoreMemberRejoinProps): RebuildStepProps {
  const { site } = props;
  const tls = site.postgres!.tls;
  const host = site.hosts.find((h) => h.name === props.member)!;
  const via = site.hosts.find((h) => h.name === props.via)!;
  return {
    rebuilt: { key: 'member', name: props.member, generation: host.generation },
    via: props.viaConnection,
    waitsFor: rejoinWaitsFor(site, props.member, props.via, props.after),
    // assets/datastore-etcd-rejoin.sh after the lifecycle library; its header says what it does and why.
    script: LifecycleScript.DATASTORE_ETCD_REJOIN,
    environment: {
      PKH_ETCD_ENDPOINT: etcdClientUrl(tls, via.ip),
      PKH_ETCDCTL_TLS: etcdctlTlsOptions(site, props.via),
      PKH_ETCD_DATA_DIR: ETCD_DATA_DIR,
    },
    args: [props.member, etcdPeerUrl(tls, host.ip), etcdClientUrl(tls, host.ip)],
  };
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
