import { ApiObject, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-29';
import { Construct } from 'constructs';
import { isFqdn, isIntegerInRange, isRfc1123Label } from '../core/names';
import { ProblemCollector } from '../core/problems';
import { SelfSignedCaIssuer } from './self-signed-ca-issuer';

/** NGINX as a non-root user on port 8080, pinned (stable 1.30). */
export const DEFAULT_TLS_DEMO_IMAGE = 'nginxinc/nginx-unprivileged:1.30.0-alpine';

/** Where the demo Ingress's TLS certificate and key come from. Either way, no private key is in Git. */
export enum TlsCertificateSource {
  /**
   * cert-manager issues it from a private CA created alongside ({@link SelfSignedCaIssuer}). cert-manager (its
   * `cert-manager.io/v1` CRDs and its controller) must be installed in the cluster before these manifests are
   * applied: without the CRDs, `kubectl apply` rejects the `Issuer` and `Certificate` objects ("no matches for kind
   * Issuer in version cert-manager.io/v1") and, with `apply -k`, the rest of the folder with them.
   */
  SELF_SIGNED_CA = 'self-signed-ca',
  /**
   * No cert-manager objects: the operator creates the `kubernetes.io/tls` Secret `tlsSecretName` in the app's
   * namespace, e.g. `kubectl -n tls-demo create secret tls nginx-demo-tls --cert=tls.crt --key=tls.key`, outside
   * Git. Needs nothing installed besides the ingress controller.
   */
  EXISTING_SECRET = 'existing-secret',
}

/** Properties of a {@link TlsDemoApp}. */
export interface TlsDemoAppProps {
  /** Host name the Ingress serves, e.g. `nginx.k3s.test.local`. */
  readonly host: string;
  /**
   * Namespace of the app, created here (labelled for the `restricted` Pod Security Standard).
   *
   * @default 'tls-demo'
   */
  readonly namespace?: string;
  /**
   * Name of the Deployment, Service and Ingress.
   *
   * @default 'nginx-demo'
   */
  readonly name?: string;
  /**
   * Web server image: must serve HTTP on 8080 as user 101 (an `nginx-unprivileged` image).
   *
   * @default 'nginxinc/nginx-unprivileged:1.30.0-alpine'
   */
  readonly image?: string;
  /**
   * Number of NGINX pods (1 to 100).
   *
   * @default 2
   */
  readonly replicas?: number;
  /**
   * IngressClass of the Ingress.
   *
   * @default 'nginx'
   */
  readonly ingressClassName?: string;
  /**
   * Secret holding the TLS certificate and key.
   *
   * @default '<name>-tls'
   */
  readonly tlsSecretName?: string;
  /**
   * Where the certificate comes from. The default needs cert-manager installed first (see
   * {@link TlsCertificateSource.SELF_SIGNED_CA}); {@link TlsCertificateSource.EXISTING_SECRET} needs only the Secret.
   *
   * @default TlsCertificateSource.SELF_SIGNED_CA
   */
  readonly certificateSource?: TlsCertificateSource;
}

/**
 * A TLS smoke test for the ingress path: NGINX (non-root, read-only root filesystem) behind a ClusterIP Service and
 * an Ingress for `host` that terminates TLS at the ingress controller.
 *
 * The certificate never comes from Git. Choose its source with `certificateSource`:
 * - {@link TlsCertificateSource.SELF_SIGNED_CA} (default): cert-manager issues it from a private CA created here
 *   ({@link SelfSignedCaIssuer}). **Install cert-manager first** (CRDs `cert-manager.io/v1` and its controller,
 *   e.g. its release manifest or Helm chart): on a cluster without it, applying these objects fails with "no
 *   matches for kind Issuer in version cert-manager.io/v1", and `kubectl apply -k` of the site folder with them.
 * - {@link TlsCertificateSource.EXISTING_SECRET}: no cert-manager objects; the operator creates the
 *   `kubernetes.io/tls` Secret `tlsSecretName` in `namespace` (`kubectl -n tls-demo create secret tls
 *   nginx-demo-tls --cert=tls.crt --key=tls.key`).
 *
 * Until the Secret exists, the controller refuses TLS handshakes for `host`.
 *
 * `curl --cacert ca.crt https://<host>/` through the load balancers proves DNS, the VIP, HAProxy, the NodePorts,
 * the controller and TLS end to end.
 */
export class TlsDemoApp extends Construct {
  /** The NGINX Deployment (the construct's `Resource` child). */
  public readonly deployment: kplus.Deployment;
  /** The ClusterIP Service in front of the pods (port 80 to 8080). */
  public readonly service: kplus.Service;
  /** The Ingress for `host`, terminating TLS with the Secret `tlsSecretName`. */
  public readonly ingress: kplus.Ingress;
  /** The private CA, with {@link TlsCertificateSource.SELF_SIGNED_CA}. */
  public readonly certificateIssuer?: SelfSignedCaIssuer;
  /** The certificate of `host`, with {@link TlsCertificateSource.SELF_SIGNED_CA}. */
  public readonly certificate?: ApiObject;
  /** Host name the Ingress serves. */
  public readonly host: string;
  /** Name of the `kubernetes.io/tls` Secret the Ingress reads its certificate and key from. */
  public readonly tlsSecretName: string;

  constructor(scope: Construct, id: string, props: TlsDemoAppProps) {
    super(scope, id);
    validateProps(props, `TlsDemoApp ${this.node.path}`);
    const name = props.name ?? 'nginx-demo';
    const namespace = props.namespace ?? 'tls-demo';
    const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': 'tls-demo' };
    this.host = props.host;
    this.tlsSecretName = props.tlsSecretName ?? `${name}-tls`;

    new kplus.Namespace(this, 'Namespace', {
      metadata: { name: namespace, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    });

    this.deployment = new kplus.Deployment(this, 'Resource', {
      metadata: { name, namespace, labels },
      replicas: props.replicas ?? 2,
      select: false,
      podMetadata: { labels },
      securityContext: { user: 101, group: 101, ensureNonRoot: true },
      containers: [{
        name: 'nginx',
        image: props.image ?? DEFAULT_TLS_DEMO_IMAGE,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        ports: [{ number: 8080, name: 'http' }],
        securityContext: {
          user: 101,
          group: 101,
          ensureNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: [kplus.Capability.ALL] },
          seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
        },
        resources: {
          cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(200) },
          memory: { request: Size.mebibytes(16), limit: Size.mebibytes(64) },
        },
        readiness: kplus.Probe.fromHttpGet('/', { port: 8080 }),
        // nginx-unprivileged keeps its pid file and temp files under /tmp; the rest of the filesystem is read-only.
        volumeMounts: [{ path: '/tmp', volume: kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp', { sizeLimit: Size.mebibytes(64) }) }],
      }],
    });
    this.deployment.select(kplus.LabelSelector.of({ labels }));

    this.service = new kplus.Service(this, 'Service', {
      metadata: { name, namespace, labels },
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
    });
    // The Deployment's own labels, not kplus's per-construct address label, so the selector reads plainly.
    Object.entries(labels).forEach(([key, value]) => this.service.selectLabel(key, value));

    if ((props.certificateSource ?? TlsCertificateSource.SELF_SIGNED_CA) === TlsCertificateSource.SELF_SIGNED_CA) {
      this.certificateIssuer = new SelfSignedCaIssuer(this, 'CertificateIssuer', { namespace, name: `${name}-ca`, caCommonName: `${name} demo CA` });
      this.certificate = this.certificateIssuer.addCertificate('Certificate', { secretName: this.tlsSecretName, dnsNames: [this.host] });
    }

    this.ingress = new kplus.Ingress(this, 'Ingress', {
      metadata: { name, namespace, labels },
      className: props.ingressClassName ?? 'nginx',
      rules: [{ host: this.host, path: '/', pathType: kplus.HttpIngressPathType.PREFIX, backend: kplus.IngressBackend.fromService(this.service, { port: 80 }) }],
      tls: [{ hosts: [this.host], secret: kplus.Secret.fromSecretName(this, 'TlsSecret', this.tlsSecretName) }],
    });
  }
}

function validateProps(props: TlsDemoAppProps, subject: string): void {
  const problems = new ProblemCollector();
  problems.check(isFqdn(props.host), 'host', props.host, 'a fully qualified DNS name, e.g. nginx.k3s.test.local');
  for (const key of ['namespace', 'name', 'ingressClassName', 'tlsSecretName'] as const) {
    if (props[key] !== undefined) {
      problems.check(isRfc1123Label(props[key]) && props[key]!.length <= 50, key, props[key], 'an RFC 1123 label of at most 50 characters');
    }
  }
  if (props.replicas !== undefined) {
    problems.check(isIntegerInRange(props.replicas, 1, 100), 'replicas', props.replicas, 'an integer from 1 to 100');
  }
  if (props.image !== undefined) {
    problems.check(/^\S+(:[\w.-]+|@sha256:[0-9a-f]{64})$/.test(props.image), 'image', props.image, 'an image reference pinned by tag or digest');
  }
  if (props.certificateSource !== undefined) {
    problems.check(Object.values(TlsCertificateSource).includes(props.certificateSource), 'certificateSource', props.certificateSource,
      `one of ${Object.values(TlsCertificateSource).join(', ')}`);
  }
  problems.throwIfAny(subject);
}
