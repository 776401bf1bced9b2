import { Password } from '@cdktf/provider-random/lib/password';
import { Construct } from 'constructs';
import { applyK3sAgentRole, applyK3sServerRole } from '../roles/k3s';
import { IK3sDatastore, K3sDatastoreBinding } from '../roles/k3s-datastore';
import { SitePlan } from '../site/plan';
import { RoleHost, requireSiteHosts } from './site-hosts';
import { DatastoreKind, HostRole } from '../site/spec';

/** A host a K3s role attaches to. */
export type K3sHost = RoleHost;

/** K3s's embedded etcd: nothing to bind beyond what the server config already renders (`cluster-init`/`server`). */
export class EmbeddedEtcdDatastore implements IK3sDatastore {
  /** Always {@link DatastoreKind.EMBEDDED_ETCD}. */
  public readonly kind = DatastoreKind.EMBEDDED_ETCD;

  public bind(): K3sDatastoreBinding {
    return { serverConfig: {}, serverEnvironment: {}, serverFiles: [] };
  }
}

/** Properties of a {@link K3sControlPlane}. */
export interface K3sControlPlaneProps {
  /** The validated site. */
  readonly site: SitePlan;
  /** The hosts with role `k3s-server`, in site order (the first one initializes embedded etcd). */
  readonly servers: readonly K3sHost[];
  /**
   * Where the servers keep the cluster state; its `kind` must match the site's `controlPlane.datastore`.
   *
   * @default - a new {@link EmbeddedEtcdDatastore}
   */
  readonly datastore?: IK3sDatastore;
  /**
   * The cluster token, as a reference to a sensitive variable (letters and digits only).
   *
   * @default - generated (`random_password`, 48 letters and digits)
   */
  readonly token?: string;
}

/**
 * The K3s servers: `config.yaml` rendered from the plan, the pinned and verified binary, and a cluster token
 * generated as a `random_password` (the public `token`; written to `token-file`, never onto a command line).
 *
 * Embedded etcd: the first server runs `cluster-init`, the others wait for the API endpoint and join through it.
 * External datastore: every server gets the datastore's binding (a 0600 environment file with the DSN).
 */
export class K3sControlPlane extends Construct {
  /** The cluster token (a sensitive Terraform reference), shared with the agents. */
  public readonly token: string;
  /** The datastore every server was bound to (the given one, or embedded etcd). */
  public readonly datastore: IK3sDatastore;

  constructor(scope: Construct, id: string, props: K3sControlPlaneProps) {
    super(scope, id);
    requireSiteHosts(props.site, HostRole.K3S_SERVER, props.servers);
    this.datastore = props.datastore ?? new EmbeddedEtcdDatastore();
    if (this.datastore.kind !== props.site.controlPlane.datastore) {
      throw new Error(`datastore: ${JSON.stringify(this.datastore.kind)} — the site's controlPlane.datastore (${JSON.stringify(props.site.controlPlane.datastore)})`);
    }
    // Letters and digits: the token goes into files and systemd environment without quoting or escaping.
    this.token = props.token ?? new Password(this, 'Token', { length: 48, special: false }).result;
    props.servers.forEach((server, index) =>
      applyK3sServerRole(server.cloudConfig, props.site, server.name, this.token, this.datastore.bind(server.name, index)));
  }
}

/** Properties of {@link K3sAgents}. */
export interface K3sAgentsProps {
  /** The validated site. */
  readonly site: SitePlan;
  /** The hosts with role `k3s-agent`, in site order. */
  readonly agents: readonly K3sHost[];
  /** The cluster token, from {@link K3sControlPlane.token}. */
  readonly token: string;
}

/** The K3s agents: they wait for the API endpoint, then register through it with the cluster token. */
export class K3sAgents extends Construct {
  constructor(scope: Construct, id: string, props: K3sAgentsProps) {
    super(scope, id);
    requireSiteHosts(props.site, HostRole.K3S_AGENT, props.agents);
    props.agents.forEach((agent) => applyK3sAgentRole(agent.cloudConfig, props.site, agent.name, props.token));
  }
}
