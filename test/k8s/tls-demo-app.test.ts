import { SelfSignedCaIssuer, TlsCertificateSource, TlsDemoApp, TlsDemoAppProps } from '../../constructs';
import { DEFAULT_TLS_DEMO_IMAGE } from '../../constructs/k8s';
import { isBuiltInKind, schemaErrors } from '../support/k8s-schema';
import { Manifest, certManagerProblems, ofKind, one, synth, testChart } from './manifests';

const HOST = 'nginx.k3s.test.local';

function build(props: Partial<TlsDemoAppProps> = {}): { construct: TlsDemoApp; manifests: Manifest[] } {
  const construct = new TlsDemoApp(testChart(), 'Demo', { host: HOST, ...props });
  return { construct, manifests: synth(construct) };
}

describe('TlsDemoApp', () => {
  describe('defaults', () => {
    const { construct, manifests } = build();

    test('creates the namespace, the app, a private CA from cert-manager and the Ingress; built-in kinds valid against Kubernetes 1.36', () => {
      expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
        'Namespace/tls-demo',
        'Deployment/nginx-demo',
        'Service/nginx-demo',
        'Issuer/nginx-demo-ca-selfsigned',
        'Certificate/nginx-demo-ca',
        'Issuer/nginx-demo-ca',
        'Certificate/nginx-demo-tls',
        'Ingress/nginx-demo',
      ]);
      for (const manifest of manifests.filter(isBuiltInKind)) {
        expect({ manifest: manifest.kind, errors: schemaErrors(manifest) }).toEqual({ manifest: manifest.kind, errors: [] });
      }
      expect(construct.node.defaultChild).toBe(construct.deployment);
    });

    test('cert-manager objects have their required fields', () => {
      const certManager = manifests.filter((m) => m.apiVersion.startsWith('cert-manager.io/'));
      expect(certManager).toHaveLength(4);
      certManager.forEach((manifest) => expect(certManagerProblems(manifest)).toEqual([]));
    });

    test('the certificate for the host chains to the CA, which the self-signed issuer signs', () => {
      const certificate = one(manifests, 'Certificate', 'nginx-demo-tls');
      expect(certificate.spec).toEqual({
        secretName: 'nginx-demo-tls',
        dnsNames: [HOST],
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        issuerRef: { name: 'nginx-demo-ca', kind: 'Issuer', group: 'cert-manager.io' },
      });
      expect(one(manifests, 'Issuer', 'nginx-demo-ca').spec).toEqual({ ca: { secretName: 'nginx-demo-ca' } });
      expect(one(manifests, 'Certificate', 'nginx-demo-ca').spec).toMatchObject({ isCA: true, secretName: 'nginx-demo-ca', issuerRef: { name: 'nginx-demo-ca-selfsigned' } });
      expect(one(manifests, 'Issuer', 'nginx-demo-ca-selfsigned').spec).toEqual({ selfSigned: {} });
    });

    test('no private key or certificate in the manifests', () => {
      expect(ofKind(manifests, 'Secret')).toEqual([]);
      expect(JSON.stringify(manifests)).not.toMatch(/BEGIN|tls\.key/);
    });

    test('Ingress: host with TLS from the certificate\'s Secret, class nginx, to the Service', () => {
      expect(one(manifests, 'Ingress').spec).toEqual({
        ingressClassName: 'nginx',
        tls: [{ hosts: [HOST], secretName: 'nginx-demo-tls' }],
        rules: [{ host: HOST, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'nginx-demo', port: { number: 80 } } } }] } }],
      });
    });

    test('Service: ClusterIP 80 → 8080, selecting the Deployment\'s pods', () => {
      const service = one(manifests, 'Service');
      expect(service.spec).toMatchObject({ type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
      expect(one(manifests, 'Deployment').spec.template.metadata.labels).toMatchObject(service.spec.selector);
      expect(service.spec.selector).toEqual({ 'app.kubernetes.io/name': 'nginx-demo', 'app.kubernetes.io/component': 'tls-demo' });
    });

    test('Deployment: 2 replicas of nginx-unprivileged, pinned, non-root on 8080 with a read-only root filesystem and limits', () => {
      const deployment = one(manifests, 'Deployment');
      const pod = deployment.spec.template.spec;
      const [nginx] = pod.containers;
      expect(deployment.spec.replicas).toBe(2);
      expect(DEFAULT_TLS_DEMO_IMAGE).toMatch(/^nginxinc\/nginx-unprivileged:\d+\.\d+\.\d+-alpine$/);
      expect(nginx.image).toBe(DEFAULT_TLS_DEMO_IMAGE);
      expect(nginx.ports).toEqual([{ containerPort: 8080, name: 'http' }]);
      expect(nginx.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        privileged: false,
        readOnlyRootFilesystem: true,
        runAsGroup: 101,
        runAsNonRoot: true,
        runAsUser: 101,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(nginx.resources).toEqual({ requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } });
      expect(nginx.volumeMounts).toEqual([{ mountPath: '/tmp', name: 'tmp' }]);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(one(manifests, 'Namespace').metadata.labels).toEqual({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    });
  });

  test('certificateSource EXISTING_SECRET: no cert-manager objects; the Ingress names the operator\'s Secret', () => {
    const { construct, manifests } = build({ certificateSource: TlsCertificateSource.EXISTING_SECRET, tlsSecretName: 'wildcard-tls' });
    expect(manifests.filter((m) => m.apiVersion.startsWith('cert-manager.io/'))).toEqual([]);
    expect(one(manifests, 'Ingress').spec.tls).toEqual([{ hosts: [HOST], secretName: 'wildcard-tls' }]);
    expect(construct.certificate).toBeUndefined();
  });

  test('name, namespace, image, replicas and ingressClassName', () => {
    const { manifests } = build({ name: 'hello', namespace: 'demo', image: 'nginxinc/nginx-unprivileged:1.29.0-alpine', replicas: 1, ingressClassName: 'edge' });
    expect(manifests.map((m) => [m.kind, m.metadata.name, m.metadata.namespace])).toEqual([
      ['Namespace', 'demo', undefined],
      ['Deployment', 'hello', 'demo'],
      ['Service', 'hello', 'demo'],
      ['Issuer', 'hello-ca-selfsigned', 'demo'],
      ['Certificate', 'hello-ca', 'demo'],
      ['Issuer', 'hello-ca', 'demo'],
      ['Certificate', 'hello-tls', 'demo'],
      ['Ingress', 'hello', 'demo'],
    ]);
    const deployment = one(manifests, 'Deployment');
    expect([deployment.spec.replicas, deployment.spec.template.spec.containers[0].image]).toEqual([1, 'nginxinc/nginx-unprivileged:1.29.0-alpine']);
    expect(one(manifests, 'Ingress').spec.ingressClassName).toBe('edge');
  });

  test('fails when host is not a fully qualified name', () => {
    expect(() => build({ host: 'nginx' })).toThrow('TlsDemoApp test/Demo has 1 problem:\n  - host: "nginx" — a fully qualified DNS name, e.g. nginx.k3s.test.local');
    expect(() => build({ host: 'https://nginx.example.test' })).toThrow(/host: "https:\/\/nginx.example.test" — a fully qualified DNS name/);
  });

  test('fails when a name is not an RFC 1123 label', () => {
    expect(() => build({ namespace: 'TLS', tlsSecretName: 'a.b' })).toThrow(/has 2 problems:\n {2}- namespace: "TLS" — an RFC 1123 label.*\n {2}- tlsSecretName: "a.b" — /);
  });

  test('fails when replicas is not a positive integer', () => {
    expect(() => build({ replicas: 0 })).toThrow(/replicas: 0 — an integer from 1 to 100/);
  });

  test('fails when the image is not pinned', () => {
    expect(() => build({ image: 'nginxinc/nginx-unprivileged' })).toThrow(/image: "nginxinc\/nginx-unprivileged" — an image reference pinned by tag or digest/);
  });

  test('fails when certificateSource is not one of the enum', () => {
    expect(() => build({ certificateSource: 'letsencrypt' as TlsCertificateSource })).toThrow(/certificateSource: "letsencrypt" — one of self-signed-ca, existing-secret/);
  });
});

describe('SelfSignedCaIssuer', () => {
  test('defaults: bootstrap issuer, CA certificate and CA issuer named self-signed-ca', () => {
    const issuer = new SelfSignedCaIssuer(testChart(), 'Ca', { namespace: 'apps' });
    const manifests = synth(issuer);
    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(['Issuer/self-signed-ca-selfsigned', 'Certificate/self-signed-ca', 'Issuer/self-signed-ca']);
    expect(one(manifests, 'Certificate').spec.commonName).toBe('self-signed-ca');
    manifests.forEach((manifest) => expect(certManagerProblems(manifest)).toEqual([]));
    expect([issuer.issuerName, issuer.node.defaultChild]).toEqual(['self-signed-ca', issuer.issuer]);
  });

  test('addCertificate returns the Certificate it adds', () => {
    const issuer = new SelfSignedCaIssuer(testChart(), 'Ca', { namespace: 'apps', name: 'lab-ca', caCommonName: 'Lab CA' });
    const certificate = issuer.addCertificate('Web', { secretName: 'web-tls', dnsNames: ['web.example.test', 'www.example.test'] });
    expect(certificate.toJson()).toMatchObject({ kind: 'Certificate', metadata: { name: 'web-tls', namespace: 'apps' }, spec: { dnsNames: ['web.example.test', 'www.example.test'], issuerRef: { name: 'lab-ca' } } });
    expect(certManagerProblems(certificate.toJson())).toEqual([]);
  });

  test('fails when namespace, name or caCommonName is invalid', () => {
    expect(() => new SelfSignedCaIssuer(testChart(), 'Ca', { namespace: 'Apps', name: 'x_y', caCommonName: '' }))
      .toThrow(/SelfSignedCaIssuer test\/Ca has 3 problems:\n {2}- namespace: "Apps" — an RFC 1123 label\n {2}- name: "x_y" — .*\n {2}- caCommonName: "" — from 1 to 64 characters/);
  });

  test('fails when a certificate has no or bad DNS names', () => {
    const issuer = new SelfSignedCaIssuer(testChart(), 'Ca', { namespace: 'apps' });
    expect(() => issuer.addCertificate('Web', { secretName: 'web-tls', dnsNames: [] })).toThrow(/dnsNames: \[\] — at least one DNS name/);
    expect(() => issuer.addCertificate('Web', { secretName: 'web-tls', dnsNames: ['-bad-'] })).toThrow(/dnsNames\[0\]: "-bad-" — a DNS name/);
  });
});
