import { CiliumCni, NginxIngressDaemonSet } from '../../constructs';
import {
  ciliumValuesErrors, crdSchemaErrors, isNamespacedKind, k8sSchemaErrors, schemaErrors, unknownCiliumValueKeys,
} from '../support/k8s-schema';
import { Manifest, helmValues, one, synth, testChart } from './manifests';

// The validators themselves: each accepts what the constructs emit and rejects a broken copy, so a passing
// manifest test means something.
describe('k8s schema validator (test/support/k8s-schema.ts)', () => {
  const ingress = synth(new NginxIngressDaemonSet(testChart(), 'Ingress'));
  const daemonSet = one(ingress, 'DaemonSet');
  const cilium = synth(new CiliumCni(testChart(), 'Cilium', { podCidr: '10.42.0.0/16', loadBalancerIpBlocks: ['192.168.168.224/28'], l2Announcements: true }));
  const helmChart = one(cilium, 'HelmChart');

  function modified(manifest: Manifest, change: (copy: Manifest) => void): Manifest {
    const copy = structuredClone(manifest);
    change(copy);
    return copy;
  }

  test('accepts a valid DaemonSet, with integer-or-string and quantity fields', () => {
    expect(k8sSchemaErrors(daemonSet)).toEqual([]);
    const numeric = modified(daemonSet, (copy) => {
      copy.spec.template.spec.containers[0].readinessProbe.httpGet.port = 8081;
      copy.spec.template.spec.containers[0].resources.limits.cpu = 1;
    });
    expect(k8sSchemaErrors(numeric)).toEqual([]);
  });

  test('fails on an unknown field (strict, like kubectl --validate=strict)', () => {
    const typo = modified(daemonSet, (copy) => {
      copy.spec.template.spec.containers[0].readinesProbe = copy.spec.template.spec.containers[0].readinessProbe;
    });
    expect(k8sSchemaErrors(typo)).toContain('/spec/template/spec/containers/0 must NOT have additional properties (readinesProbe)');
  });

  test('checks the init container and volumes of the read-only root filesystem too', () => {
    expect(daemonSet.spec.template.spec.initContainers).toHaveLength(1);
    expect(k8sSchemaErrors(modified(daemonSet, (copy) => {
      copy.spec.template.spec.initContainers[0].volumeMounts[0].mountpath = '/mnt/etc';
    }))).toContain('/spec/template/spec/initContainers/0/volumeMounts/0 must NOT have additional properties (mountpath)');
    expect(k8sSchemaErrors(modified(daemonSet, (copy) => {
      copy.spec.template.spec.volumes[0].emptyDir = 'yes';
    }))).toContain('/spec/template/spec/volumes/0/emptyDir must be object');
  });

  test('fails on a wrong type and on a missing required field', () => {
    expect(k8sSchemaErrors(modified(daemonSet, (copy) => {
      copy.spec.template.spec.automountServiceAccountToken = 'true';
    }))).toContain('/spec/template/spec/automountServiceAccountToken must be boolean');
    expect(k8sSchemaErrors(modified(daemonSet, (copy) => {
      delete copy.spec.selector;
    }))).toContain("/spec must have required property 'selector'");
  });

  test('fails on a kind the Kubernetes 1.36 API does not serve', () => {
    expect(() => k8sSchemaErrors({ apiVersion: 'extensions/v1beta1', kind: 'Ingress', metadata: { name: 'x' } })).toThrow(/no Kubernetes 1.36 definition for extensions\/v1beta1\/Ingress/);
  });

  test('checks HelmChart objects against the helm-controller v0.17.7 CRD', () => {
    expect(crdSchemaErrors(helmChart)).toEqual([]);
    expect(crdSchemaErrors(modified(helmChart, (copy) => {
      copy.spec.timeout = 300;
    }))).toContain('/spec/timeout must be string');
    expect(crdSchemaErrors(modified(helmChart, (copy) => {
      copy.spec.valueContent = copy.spec.valuesContent;
    }))).toContain('/spec must NOT have additional properties (valueContent)');
  });

  test('checks Cilium LB IPAM and L2 announcement objects against their CRDs', () => {
    const pool = one(cilium, 'CiliumLoadBalancerIPPool');
    const policy = one(cilium, 'CiliumL2AnnouncementPolicy');
    expect(schemaErrors(pool)).toEqual([]);
    expect(schemaErrors(policy)).toEqual([]);
    expect(schemaErrors(modified(pool, (copy) => {
      copy.spec.blocks[0].cidrs = copy.spec.blocks[0].cidr;
    }))).toContain('/spec/blocks/0 must NOT have additional properties (cidrs)');
    expect(schemaErrors(modified(policy, (copy) => {
      copy.spec.loadBalancerIPs = 'yes';
    }))).toContain('/spec/loadBalancerIPs must be boolean');
  });

  test('checks Cilium values against the chart 1.20.0 values schema, and finds keys the schema lets through', () => {
    const values = helmValues(helmChart);
    expect(ciliumValuesErrors(values)).toEqual([]);
    expect(ciliumValuesErrors({ ...values, operator: { replicas: '1' } })).toContain('/operator/replicas must be integer');
    expect(ciliumValuesErrors({ ...values, l2anouncements: { enabled: true } })).toEqual([]);
    expect(unknownCiliumValueKeys({ ...values, l2anouncements: { enabled: true }, hubble: { relay: { enabeld: true } } }))
      .toEqual(['hubble.relay.enabeld', 'l2anouncements']);
  });

  test('knows which kinds are namespaced', () => {
    expect(isNamespacedKind(daemonSet)).toBe(true);
    expect(isNamespacedKind(one(ingress, 'ClusterRole'))).toBe(false);
    expect(isNamespacedKind(one(ingress, 'IngressClass'))).toBe(false);
    expect(isNamespacedKind(one(ingress, 'Namespace'))).toBe(false);
    expect(isNamespacedKind(helmChart)).toBe(true);
    expect(isNamespacedKind(one(cilium, 'CiliumLoadBalancerIPPool'))).toBe(false);
    expect(isNamespacedKind({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer' })).toBe(false);
  });
});
