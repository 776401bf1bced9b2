import { Password } from '@cdktf/provider-random/lib/password';
import { CertRequest } from '@cdktf/provider-tls/lib/cert-request';
import { LocallySignedCert } from '@cdktf/provider-tls/lib/locally-signed-cert';
import { PrivateKey } from '@cdktf/provider-tls/lib/private-key';
import { SelfSignedCert } from '@cdktf/provider-tls/lib/self-signed-cert';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { CloudConfig } from '../cloud-init/cloud-config';
import {
  K3S_DATASTORE_CA_PATH, postgresDatastoreCaInstallCommand, postgresDatastoreEndpoint, postgresServerCertificateNames, postgresTlsBase64Path,
  postgresWriterAddress, requirePostgres,
  renderPostgresWriterHaproxySections,
} from '../renderers/postgres';
import { HaLoadBalancerPair } from './ha-load-balancer-pair';
import { applyDatastoreRole } from '../roles/datastore';
import { IK3sDatastore, K3sDatastoreBinding } from '../roles/k3s-datastore';
import { SitePlan, hostsWithRole } from '../site/plan';
import { DatastoreKind, HostRole } from '../site/spec';

/** Validity of the datastore CA: 10 years. */
const CA_VALIDITY_HOURS = 10 * 365 * 24;
/** Validity of a datastore node's server certificate: 5 years. */
const SERVER_CERTIFICATE_VALIDITY_HOURS = 5 * 365 * 24;

/** A host the datastore role attaches to. */
export interface DatastoreHost {
  /** Host name, as in the site plan. */
  readonly name: string;
  /** The host's configuration builder; the role adds PostgreSQL to it. */
  readonly cloudConfig: CloudConfig;
}

/** Properties of a {@link PostgresDatastore}. */
export interface PostgresDatastoreProps {
  /** The validated site, with `controlPlane.datastore: postgres`; its `postgres` plan drives every rendered file. */
  readonly site: SitePlan;
  /** The hosts with role `datastore`, in site order: the first is the initial primary. */
  readonly hosts: readonly DatastoreHost[];
  /**
   * The site's load balancers, which get the writer endpoint (`postgres.writerPort`, to whichever node is primary).
   * Required when the site has load balancers.
   *
   * @default - none (a site without load balancers: K3s reaches the single node directly)
   */
  readonly loadBalancers?: HaLoadBalancerPair;
  /**
   * The K3s user's and the replication role's passwords, as references to sensitive variables (letters and digits).
   *
   * @default - generated (`random_password`, 32 letters and digits each)
   */
  readonly passwords?: { readonly k3s: string; readonly replication: string };
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
 * With `postgres.tls` (the default) it also generates, with the `tls` provider (the stack must configure it):
 * - the datastore CA (`tls_private_key` ECDSA P-256 + `tls_self_signed_cert`, 10 years);
 * - per datastore node a key and a server certificate signed by the CA (`tls_cert_request` +
 *   `tls_locally_signed_cert`, 5 years) for the node's address and FQDN and the writer endpoint's address and DNS
 *   name (HAProxy passes TLS through, so the primary's certificate must name the address K3s dials).
 *
 * PostgreSQL then accepts the K3s user and replication over TLS only, K3s gets the CA as `datastore-cafile` and
 * connects with `sslmode=verify-full`. Keys are in the Terraform state and in the datastore nodes' user-data
 * snippets: protect both. Replacing a certificate (e.g. `terraform taint`) changes the node's user-data.
 * With `tls: false` no tls resource is created and the datastore traffic is plain text.
 *
 * Escape hatch: the passwords and TLS resources are public (`k3sPassword.addOverride(...)`).
 */
export class PostgresDatastore extends Construct implements IK3sDatastore {
  /** Always {@link DatastoreKind.POSTGRES}. */
  public readonly kind = DatastoreKind.POSTGRES;
  /** The generated password of the K3s database user (escape hatch); none when `passwords` were given. */
  public readonly k3sPassword?: Password;
  /** The generated password of the replication role (escape hatch); none when `passwords` were given. */
  public readonly replicationPassword?: Password;
  /** Where K3s reaches the primary: the writer endpoint (the VIP when it floats). */
  public readonly datastoreEndpointAddress: string;
  /** The writer endpoint's port: `postgres.writerPort` on the load balancers, or `postgres.port` of a single node without them. */
  public readonly datastoreEndpointPort: number;
  /** The datastore CA's key, with `postgres.tls`. */
  public readonly tlsCaPrivateKey?: PrivateKey;
  /** The datastore CA certificate, with `postgres.tls`: K3s's `datastore-cafile`. */
  public readonly tlsCaCertificate?: SelfSignedCert;
  /** Each datastore node's server key, by node name (empty without TLS). */
  public readonly tlsServerKeys: ReadonlyMap<string, PrivateKey>;
  /** Each datastore node's server certificate, by node name (empty without TLS). */
  public readonly tlsServerCertificates: ReadonlyMap<string, LocallySignedCert>;
  private readonly site: SitePlan;
  private readonly k3sPasswordValue: string;

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
    if (props.site.loadBalancer && !props.loadBalancers) {
      throw new Error(`loadBalancers: undefined — the site's HaLoadBalancerPair, which carries the writer endpoint on port ${postgres.writerPort} (site ${props.site.name} has load balancers)`);
    }
    props.loadBalancers?.addTcpService({
      description: 'haproxy postgres writer frontend',
      port: postgres.writerPort,
      sections: renderPostgresWriterHaproxySections(props.site),
    });
    if (!props.passwords) {
      this.k3sPassword = new Password(this, 'K3sPassword', { length: 32, special: false });
      this.replicationPassword = new Password(this, 'ReplicationPassword', { length: 32, special: false });
    }
    this.k3sPasswordValue = props.passwords?.k3s ?? this.k3sPassword!.result;
    const replicationPasswordValue = props.passwords?.replication ?? this.replicationPassword!.result;
    const serverKeys = new Map<string, PrivateKey>();
    const serverCertificates = new Map<string, LocallySignedCert>();
    if (postgres.tls) {
      this.tlsCaPrivateKey = new PrivateKey(this, 'TlsCaKey', { algorithm: 'ECDSA', ecdsaCurve: 'P256' });
      this.tlsCaCertificate = new SelfSignedCert(this, 'TlsCaCertificate', {
        privateKeyPem: this.tlsCaPrivateKey.privateKeyPem,
        subject: [{ commonName: `${props.site.name} k3s datastore CA` }],
        isCaCertificate: true,
        setSubjectKeyId: true,
        validityPeriodHours: CA_VALIDITY_HOURS,
        allowedUses: ['cert_signing', 'crl_signing', 'digital_signature'],
      });
      for (const host of props.hosts) {
        const names = postgresServerCertificateNames(props.site, host.name);
        const key = new PrivateKey(this, `TlsKey-${host.name}`, { algorithm: 'ECDSA', ecdsaCurve: 'P256' });
        const request = new CertRequest(this, `TlsCertRequest-${host.name}`, {
          privateKeyPem: key.privateKeyPem,
          subject: [{ commonName: names.dnsNames[0] }],
          dnsNames: [...names.dnsNames],
          ipAddresses: [...names.ipAddresses],
        });
        serverKeys.set(host.name, key);
        serverCertificates.set(host.name, new LocallySignedCert(this, `TlsCertificate-${host.name}`, {
          certRequestPem: request.certRequestPem,
          caPrivateKeyPem: this.tlsCaPrivateKey.privateKeyPem,
          caCertPem: this.tlsCaCertificate.certPem,
          validityPeriodHours: SERVER_CERTIFICATE_VALIDITY_HOURS,
          allowedUses: ['digital_signature', 'key_encipherment', 'server_auth'],
        }));
      }
    }
    this.tlsServerKeys = serverKeys;
    this.tlsServerCertificates = serverCertificates;
    for (const host of props.hosts) {
      applyDatastoreRole(host.cloudConfig, props.site, host.name, {
        k3sPassword: this.k3sPasswordValue,
        replicationPassword: replicationPasswordValue,
      }, this.tlsCaCertificate ? {
        caCertificateBase64: Fn.base64encode(this.tlsCaCertificate.certPem),
        certificateBase64: Fn.base64encode(serverCertificates.get(host.name)!.certPem),
        privateKeyBase64: Fn.base64encode(serverKeys.get(host.name)!.privateKeyPem),
      } : undefined);
    }
  }

  /**
   * The DSN goes into the server's 0600 environment file as `K3S_DATASTORE_ENDPOINT` (K3s reads it from there), so
   * the password never appears in `config.yaml` or on a command line. With TLS the DSN ends in
   * `?sslmode=verify-full`, `config.yaml` gets `datastore-cafile`, and the CA certificate is written base64-encoded
   * next to that path and decoded before K3s starts; without TLS the datastore traffic is plain text.
   */
  public bind(serverName: string, _serverIndex: number): K3sDatastoreBinding {
    const servers = hostsWithRole(this.site, HostRole.K3S_SERVER).map((s) => s.name);
    if (!servers.includes(serverName)) {
      throw new Error(`serverName: ${JSON.stringify(serverName)} — one of the site's K3s servers (${servers.join(', ')})`);
    }
    const environment = { K3S_DATASTORE_ENDPOINT: postgresDatastoreEndpoint(this.site, this.k3sPasswordValue) };
    if (!this.tlsCaCertificate) {
      return { serverConfig: {}, serverEnvironment: environment, serverFiles: [] };
    }
    return {
      serverConfig: { 'datastore-cafile': K3S_DATASTORE_CA_PATH },
      serverEnvironment: environment,
      serverFiles: [{ path: postgresTlsBase64Path(K3S_DATASTORE_CA_PATH), content: `${Fn.base64encode(this.tlsCaCertificate.certPem)}\n`, mode: '0644' }],
      serverCommands: [postgresDatastoreCaInstallCommand()],
    };
  }
}
