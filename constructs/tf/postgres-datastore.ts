import { Password } from '@cdktf/provider-random/lib/password';
import { Construct } from 'constructs';
import { CloudConfig } from '../cloud-init/cloud-config';
import { postgresDatastoreEndpoint, postgresWriterAddress, requirePostgres } from '../renderers/postgres';
import { applyDatastoreRole } from '../roles/datastore';
import { IK3sDatastore, K3sDatastoreBinding } from '../roles/k3s-datastore';
import { SitePlan, hostsWithRole } from '../site/plan';
import { DatastoreKind, HostRole } from '../site/spec';

/** A host the datastore role attaches to. */
export interface DatastoreHost {
  readonly name: string;
  readonly cloudConfig: CloudConfig;
}

/** Properties of a {@link PostgresDatastore}. */
export interface PostgresDatastoreProps {
  /** The validated site, with `controlPlane.datastore: postgres`; its `postgres` plan drives every rendered file. */
  readonly site: SitePlan;
  /** The hosts with role `datastore`, in site order: the first is the initial primary. */
  readonly hosts: readonly DatastoreHost[];
}

/**
 * The external K3s datastore: PostgreSQL on the hosts with role `datastore`, one primary and streaming replicas
 * (synchronous by default, so promoting a replica loses no acknowledged write), and a writer endpoint on the load
 * balancers that always reaches the current primary. Promotion is manual: see the runbook installed on each node.
 *
 * Generates the K3s user's and the replication role's passwords as `random_password` resources (letters and
 * digits: they go into a URL and SQL unescaped); rendered files reference them, so no secret is a literal in the
 * synthesized JSON. The stack must configure the `random` provider.
 *
 * Escape hatch: the passwords are public (`k3sPassword.addOverride(...)`).
 */
export class PostgresDatastore extends Construct implements IK3sDatastore {
  public readonly kind = DatastoreKind.POSTGRES;
  /** Password of the K3s database user (sensitive Terraform reference). */
  public readonly k3sPassword: Password;
  /** Password of the replication role (sensitive Terraform reference). */
  public readonly replicationPassword: Password;
  /** Where K3s reaches the primary: the writer endpoint (the VIP when it floats). */
  public readonly datastoreEndpointAddress: string;
  public readonly datastoreEndpointPort: number;
  private readonly site: SitePlan;

  constructor(scope: Construct, id: string, props: PostgresDatastoreProps) {
    super(scope, id);
    const postgres = requirePostgres(props.site);
    const expected = postgres.nodes.map((n) => n.name).join(', ');
    const given = props.hosts.map((h) => h.name).join(', ');
    if (expected !== given) {
      throw new Error(`hosts: ${JSON.stringify(given)} — the site's hosts with role ${HostRole.DATASTORE} in site order (${expected})`);
    }
    this.site = props.site;
    const writer = postgresWriterAddress(props.site);
    this.datastoreEndpointAddress = writer.address;
    this.datastoreEndpointPort = writer.port;
    this.k3sPassword = new Password(this, 'K3sPassword', { length: 32, special: false });
    this.replicationPassword = new Password(this, 'ReplicationPassword', { length: 32, special: false });
    for (const host of props.hosts) {
      applyDatastoreRole(host.cloudConfig, props.site, host.name, {
        k3sPassword: this.k3sPassword.result,
        replicationPassword: this.replicationPassword.result,
      });
    }
  }

  /**
   * The DSN goes into the server's 0600 environment file as `K3S_DATASTORE_ENDPOINT` (K3s reads it from there), so
   * the password never appears in `config.yaml` or on a command line.
   */
  public bind(serverName: string, _serverIndex: number): K3sDatastoreBinding {
    const servers = hostsWithRole(this.site, HostRole.K3S_SERVER).map((s) => s.name);
    if (!servers.includes(serverName)) {
      throw new Error(`serverName: ${JSON.stringify(serverName)} — one of the site's K3s servers (${servers.join(', ')})`);
    }
    return {
      serverConfig: {},
      serverEnvironment: { K3S_DATASTORE_ENDPOINT: postgresDatastoreEndpoint(this.site, this.k3sPassword.result) },
      serverFiles: [],
    };
  }
}
