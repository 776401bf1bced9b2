import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { isDnsName, isRfc1123Label } from '../core/names';
import { ProblemCollector } from '../core/problems';

const CERT_MANAGER_API_VERSION = 'cert-manager.io/v1';

/** Properties of a {@link SelfSignedCaIssuer}. */
export interface SelfSignedCaIssuerProps {
  /** Namespace of the issuers, the CA certificate and every certificate issued (namespaced `Issuer`s). */
  readonly namespace: string;
  /**
   * Name of the CA `Issuer`, its CA `Certificate` and the Secret holding the CA key pair.
   *
   * @default 'self-signed-ca'
   */
  readonly name?: string;
  /**
   * Common name of the CA certificate (what browsers show for the issuer).
   *
   * @default - the name
   */
  readonly caCommonName?: string;
}

/** A certificate to issue from a {@link SelfSignedCaIssuer}. */
export interface SelfSignedCaCertificateOptions {
  /** Name of the `Certificate` and of the `kubernetes.io/tls` Secret cert-manager writes. */
  readonly secretName: string;
  /** DNS names the certificate is valid for (at least one). */
  readonly dnsNames: readonly string[];
}

/**
 * A private CA run by cert-manager: a self-signed `Issuer` signs a CA `Certificate`, and a CA `Issuer` (the public
 * `issuer`) signs the certificates added with {@link addCertificate}. Every key is generated in the cluster, so no
 * private key is ever in Git.
 *
 * **Prerequisite:** cert-manager, its `cert-manager.io/v1` CRDs and its controller, installed in the cluster before
 * these objects are applied. Without the CRDs the API server rejects them ("no matches for kind Issuer in version
 * cert-manager.io/v1"), and `kubectl apply -k` of a folder holding them fails as a whole; without the controller
 * they apply but no certificate is ever issued. Where cert-manager is not wanted, create the `kubernetes.io/tls`
 * Secrets yourself instead (`TlsDemoApp`'s `TlsCertificateSource.EXISTING_SECRET`).
 *
 * Clients trust the certificates once they trust the CA certificate: `kubectl -n <namespace> get secret <name>
 * -o jsonpath='{.data.ca\.crt}' | base64 -d`.
 *
 * @see https://cert-manager.io/docs/configuration/selfsigned/#bootstrapping-ca-issuers
 */
export class SelfSignedCaIssuer extends Construct {
  /** The CA `Issuer` that signs added certificates. */
  public readonly issuer: ApiObject;
  /** The CA `Certificate` (its Secret holds the CA key pair). */
  public readonly caCertificate: ApiObject;
  /** Name of the CA `Issuer`, for `issuerRef`s. */
  public readonly issuerName: string;
  /** Namespace of the issuers and of every certificate issued. */
  public readonly namespace: string;

  constructor(scope: Construct, id: string, props: SelfSignedCaIssuerProps) {
    super(scope, id);
    const problems = new ProblemCollector();
    problems.check(isRfc1123Label(props.namespace), 'namespace', props.namespace, 'an RFC 1123 label');
    if (props.name !== undefined) {
      problems.check(isRfc1123Label(props.name) && props.name.length <= 50, 'name', props.name, 'an RFC 1123 label of at most 50 characters');
    }
    if (props.caCommonName !== undefined) {
      problems.check(props.caCommonName.length > 0 && props.caCommonName.length <= 64, 'caCommonName', props.caCommonName, 'from 1 to 64 characters');
    }
    problems.throwIfAny(`SelfSignedCaIssuer ${this.node.path}`);
    this.namespace = props.namespace;
    this.issuerName = props.name ?? 'self-signed-ca';
    const bootstrapIssuerName = `${this.issuerName}-selfsigned`;

    new ApiObject(this, 'BootstrapIssuer', {
      apiVersion: CERT_MANAGER_API_VERSION,
      kind: 'Issuer',
      metadata: { name: bootstrapIssuerName, namespace: this.namespace },
      spec: { selfSigned: {} },
    });
    this.caCertificate = new ApiObject(this, 'CaCertificate', {
      apiVersion: CERT_MANAGER_API_VERSION,
      kind: 'Certificate',
      metadata: { name: this.issuerName, namespace: this.namespace },
      spec: {
        isCA: true,
        commonName: props.caCommonName ?? this.issuerName,
        secretName: this.issuerName,
        privateKey: { algorithm: 'ECDSA', size: 256 },
        issuerRef: { name: bootstrapIssuerName, kind: 'Issuer', group: 'cert-manager.io' },
      },
    });
    this.issuer = new ApiObject(this, 'Resource', {
      apiVersion: CERT_MANAGER_API_VERSION,
      kind: 'Issuer',
      metadata: { name: this.issuerName, namespace: this.namespace },
      spec: { ca: { secretName: this.issuerName } },
    });
  }

  /**
   * Issues a certificate for `dnsNames` into the Secret `secretName`, renewed by cert-manager with a fresh key.
   *
   * @returns the `Certificate`
   */
  public addCertificate(id: string, options: SelfSignedCaCertificateOptions): ApiObject {
    const problems = new ProblemCollector();
    problems.check(isRfc1123Label(options.secretName), 'secretName', options.secretName, 'an RFC 1123 label');
    problems.check(options.dnsNames.length > 0, 'dnsNames', options.dnsNames, 'at least one DNS name');
    options.dnsNames.forEach((dnsName, i) => problems.check(isDnsName(dnsName), `dnsNames[${i}]`, dnsName, 'a DNS name'));
    problems.throwIfAny(`SelfSignedCaIssuer ${this.node.path} certificate ${id}`);
    return new ApiObject(this, id, {
      apiVersion: CERT_MANAGER_API_VERSION,
      kind: 'Certificate',
      metadata: { name: options.secretName, namespace: this.namespace },
      spec: {
        secretName: options.secretName,
        dnsNames: [...options.dnsNames],
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        issuerRef: { name: this.issuerName, kind: 'Issuer', group: 'cert-manager.io' },
      },
    });
  }
}
