import { Password } from '@cdktf/provider-random/lib/password';
import { CertRequest } from '@cdktf/provider-tls/lib/cert-request';
import { LocallySignedCert } from '@cdktf/provider-tls/lib/locally-signed-cert';
import { PrivateKey } from '@cdktf/provider-tls/lib/private-key';
import { SelfSignedCert } from '@cdktf/provider-tls/lib/self-signed-cert';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { CloudConfig, FileEncoding } from '../cloud-init/cloud-config';
import {
  HAPROXY_DATASTORE_CA_PATH, K3S_DATASTORE_CA_PATH, postgresDatastoreEndpoint, postgresServerCertificateNames, 
  postgresWriterAddress, requirePostgres,
  renderPostgresWriterHaproxySections,
} from '../renderers/postgres';
import { HaLoadBalancerPair } from './ha-load-balancer-pair';
import { DatastoreTlsFiles, applyDatastoreRole, applyDatastoreWitnessRole, applyWriterEndpointStartState } from '../roles/datastore';
import { IK3sDatastore, K3sDatastoreBinding } from '../roles/k3s-datastore';
import { SitePlan, hostsWithRole } from '../site/plan';
import { renderDatastoreScrapeSecretManifest } from '../monitoring/datastore-scrape-secret';
import { K3S_AUTO_DEPLOY_MANIFESTS_DIR } from '../renderers/k3s';
import { DatastoreKind, HostRole } from '../site/spec';

/** Validity of the datastore CA: 10 years. */
const CA_VALIDITY_HOURS = 10 * 365 * 24;
/** The datastore's passwords (letters and digits), as Terraform references. */
export interface PostgresDatastorePasswords {
  /** The K3s database user's. */
  readonly k3s: string;
  /** The replication role's. */
  readonly replication: string;
  /** The PostgreSQL superuser's (Patroni's local connection). */
  readonly superuser: string;
  /** pg_rewind's role's. */
  readonly rewind: string;
  /** The Patroni REST API user's (switchover, restart, reinit). */
  readonly restApi: string;
}

/** Validity of a datastore host's certificate: 5 years. */
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
   * The host of the etcd witness (`postgres.witness` of the plan), which gets an etcd member. Required when the
   * plan has a witness.
   *
   * @default - none (an odd number of datastore nodes)
   */
  readonly witness?: DatastoreHost;
  /**
   * The datastore's passwords, as references to sensitive variables (letters and digits).
   *
   * @default - generated (`random_password`, 32 letters and digits each)
   */
  readonly passwords?: PostgresDatastorePasswords;
}

/**
 * The external K3s datastore: PostgreSQL managed by Patroni on the hosts with role `datastore`, its leader key in a
 * 3-member etcd (the datastore nodes and, with an even number of them, a witness member on `postgres.witness`),
 * and a writer endpoint on the load balancers that checks Patroni's `GET /primary` and so always reaches the
 * current primary. Failover is automatic; with synchronous mode (the default) it loses no acknowledged write.
 *
 * Generates the datastore's passwords (K3s user, replication, superuser, pg_rewind, REST API) as
 * `random_password` resources (letters and digits: they go into a URL and SQL unescaped); rendered files reference
 * them, so no secret is a literal in the synthesized JSON. The stack must configure the `random` provider.
 *
 * With `postgres.tls` (the default) it also generates, with the `tls` provider (the stack must configure it):
 * - the datastore CA (`tls_private_key` ECDSA P-256 + `tls_self_signed_cert`, 10 years);
 * - per etcd member host (datastore nodes and the witness) a key and a certificate signed by the CA
 *   (`tls_cert_request` + `tls_locally_signed_cert`, 5 years, server and client use) for the host's address and
 *   FQDN and, on datastore nodes, the writer endpoint's address and DNS name (HAProxy passes TLS through, so the
 *   primary's certificate must name the address K3s dials).
 *
 * PostgreSQL then accepts the K3s user and replication over TLS only, K3s gets the CA as `datastore-cafile` and
 * connects with `sslmode=verify-full`, Patroni's REST API serves TLS (HAProxy verifies it), and etcd accepts only
 * clients and peers with a certificate from the CA. Keys are in the Terraform state and in the hosts' user-data
 * snippets: protect both. With `tls: false` no tls resource is created and all of that traffic is plain text.
 *
 * Escape hatch: the generated passwords and TLS resources are public (`generatedPasswords.get('k3s')!.addOverride(...)`).
 */
export class PostgresDatastore extends Construct implements IK3sDatastore {
  /** Always {@link DatastoreKind.POSTGRES}. */
  public readonly kind = DatastoreKind.POSTGRES;
  /** The generated passwords by name (`k3s`, `replication`, `superuser`, `rewind`, `restApi`); empty when `passwords` were given. */
  public readonly generatedPasswords: ReadonlyMap<keyof PostgresDatastorePasswords, Password>;
  /** Where K3s reaches the primary: the writer endpoint (the VIP when it floats). */
  public readonly datastoreEndpointAddress: string;
  /** The writer endpoint's port: `postgres.writerPort` on the load balancers, or `postgres.port` of a single node without them. */
  public readonly datastoreEndpointPort: number;
  /** The datastore CA's key, with `postgres.tls`. */
  public readonly tlsCaPrivateKey?: PrivateKey;
  /** The datastore CA certificate, with `postgres.tls`: K3s's `datastore-cafile`. */
  public readonly tlsCaCertificate?: SelfSignedCert;
  /** Each etcd member host's key (datastore nodes and the witness), by host name (empty without TLS). */
  public readonly tlsServerKeys: ReadonlyMap<string, PrivateKey>;
  /** The K3s manifest of Prometheus's datastore scrape Secret, with TLS and monitoring on. */
  private readonly scrapeSecretManifest?: string;
  /** Each etcd member host's certificate, by host name (empty without TLS). */
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
    if (props.witness?.name !== postgres.witness?.name) {
      throw new Error(`witness: ${JSON.stringify(props.witness?.name)} — ${postgres.witness ? `the host of the etcd witness, ${JSON.stringify(postgres.witness.name)}` : 'undefined: the site has no etcd witness'}`);
    }
    this.site = props.site;
    const writer = postgresWriterAddress(props.site);
    this.datastoreEndpointAddress = writer.address;
    this.datastoreEndpointPort = writer.port;
    if (props.site.loadBalancer && !props.loadBalancers) {
      throw new Error(`loadBalancers: undefined — the site's HaLoadBalancerPair, which carries the writer endpoint on port ${postgres.writerPort} (site ${props.site.name} has load balancers)`);
    }
    const generated = new Map<keyof PostgresDatastorePasswords, Password>();
    const passwordIds: Record<keyof PostgresDatastorePasswords, string> = {
      k3s: 'K3sPassword', replication: 'ReplicationPassword', superuser: 'SuperuserPassword', rewind: 'RewindPassword', restApi: 'RestApiPassword',
    };
    const passwords = props.passwords ?? Object.fromEntries(Object.entries(passwordIds).map(([name, id]) => {
      const password = new Password(this, id, { length: 32, special: false });
      generated.set(name as keyof PostgresDatastorePasswords, password);
      return [name, password.result];
    })) as unknown as PostgresDatastorePasswords;
    this.generatedPasswords = generated;
    this.k3sPasswordValue = passwords.k3s;

    const memberHosts = [...props.hosts, ...(props.witness ? [props.witness] : [])];
    const tlsFiles = new Map<string, DatastoreTlsFiles>();
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
      for (const host of memberHosts) {
        const names = postgresServerCertificateNames(props.site, host.name);
        const key = new PrivateKey(this, `TlsKey-${host.name}`, { algorithm: 'ECDSA', ecdsaCurve: 'P256' });
        const request = new CertRequest(this, `TlsCertRequest-${host.name}`, {
          privateKeyPem: key.privateKeyPem,
          subject: [{ commonName: names.dnsNames[0] }],
          dnsNames: [...names.dnsNames],
          ipAddresses: [...names.ipAddresses],
        });
        const certificate = new LocallySignedCert(this, `TlsCertificate-${host.name}`, {
          certRequestPem: request.certRequestPem,
          caPrivateKeyPem: this.tlsCaPrivateKey.privateKeyPem,
          caCertPem: this.tlsCaCertificate.certPem,
          validityPeriodHours: SERVER_CERTIFICATE_VALIDITY_HOURS,
          // Client use too: etcd peers and Patroni authenticate to etcd with it.
          allowedUses: ['digital_signature', 'key_encipherment', 'server_auth', 'client_auth'],
        });
        serverKeys.set(host.name, key);
        serverCertificates.set(host.name, certificate);
        tlsFiles.set(host.name, {
          caCertificateBase64: Fn.base64encode(this.tlsCaCertificate.certPem),
          certificateBase64: Fn.base64encode(certificate.certPem),
          privateKeyBase64: Fn.base64encode(key.privateKeyPem),
        });
      }
    }
    this.tlsServerKeys = serverKeys;
    this.tlsServerCertificates = serverCertificates;
    this.scrapeSecretManifest = this.issueScrapeClientCertificate();
    props.loadBalancers?.addTcpService({
      description: 'haproxy postgres writer frontend',
      port: postgres.writerPort,
      sections: renderPostgresWriterHaproxySections(props.site),
      files: this.tlsCaCertificate
        ? [{ path: HAPROXY_DATASTORE_CA_PATH, content: Fn.base64encode(this.tlsCaCertificate.certPem), encoding: FileEncoding.BASE64, mode: '0644' }] : [],
    });
    props.loadBalancers?.configureEachHost((config) => applyWriterEndpointStartState(config, props.site));
    for (const host of props.hosts) {
      applyDatastoreRole(host.cloudConfig, props.site, host.name, {
        k3sPassword: passwords.k3s,
        replicationPassword: passwords.replication,
        superuserPassword: passwords.superuser,
        rewindPassword: passwords.rewind,
        restApiPassword: passwords.restApi,
      }, tlsFiles.get(host.name));
    }
    if (props.witness) {
      applyDatastoreWitnessRole(props.witness.cloudConfig, props.site, props.witness.name, tlsFiles.get(props.witness.name));
    }
  }

  /**
   * The DSN goes into the server's 0600 environment file as `K3S_DATASTORE_ENDPOINT` (K3s reads it from there), so
   * the password never appears in `config.yaml` or on a command line. With TLS the DSN ends in
   * `?sslmode=verify-full`, `config.yaml` gets `datastore-cafile`, and the CA certificate is written there (cloud-init
   * decodes it: `encoding: b64`); without TLS the datastore traffic is plain text.
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
      serverFiles: [
        { path: K3S_DATASTORE_CA_PATH, content: Fn.base64encode(this.tlsCaCertificate.certPem), encoding: FileEncoding.BASE64, mode: '0644' },
        ...(this.scrapeSecretManifest ? [{ path: DATASTORE_SCRAPE_SECRET_MANIFEST_PATH, content: this.scrapeSecretManifest, mode: '0600' }] : []),
      ],
    };
  }

  /**
   * With TLS and the in-cluster monitoring on: a client certificate of the datastore CA for Prometheus (etcd checks
   * client certificates), delivered with the CA as the Secret the datastore's ScrapeConfigs read, through a K3s
   * auto-deploy manifest on the servers (0600, like the other datastore secrets). Renewed like the hosts'
   * certificates (certificate-renewal.ts): the servers re-converge and K3s applies the new Secret.
   */
  private issueScrapeClientCertificate(): string | undefined {
    if (!this.tlsCaCertificate || !this.tlsCaPrivateKey || !this.site.monitoring.enabled) {
      return undefined;
    }
    const key = new PrivateKey(this, 'ScrapeClientKey', { algorithm: 'ECDSA', ecdsaCurve: 'P256' });
    const request = new CertRequest(this, 'ScrapeClientCertRequest', { privateKeyPem: key.privateKeyPem, subject: [{ commonName: `${this.site.name} prometheus` }] });
    const certificate = new LocallySignedCert(this, 'ScrapeClientCertificate', {
      certRequestPem: request.certRequestPem,
      caPrivateKeyPem: this.tlsCaPrivateKey.privateKeyPem,
      caCertPem: this.tlsCaCertificate.certPem,
      validityPeriodHours: SERVER_CERTIFICATE_VALIDITY_HOURS,
      allowedUses: ['digital_signature', 'key_encipherment', 'client_auth'],
    });
    return renderDatastoreScrapeSecretManifest({
      caCertificateBase64: Fn.base64encode(this.tlsCaCertificate.certPem),
      certificateBase64: Fn.base64encode(certificate.certPem),
      privateKeyBase64: Fn.base64encode(key.privateKeyPem),
    });
  }
}

/** Where the K3s servers keep the manifest of Prometheus's datastore scrape Secret (K3s applies it). */
export const DATASTORE_SCRAPE_SECRET_MANIFEST_PATH = `${K3S_AUTO_DEPLOY_MANIFESTS_DIR}/pkh-datastore-scrape-tls.yaml`;
