import { Testing } from 'cdk8s';
import { SiteChart, defineSite } from '../../constructs';
import lab from '../../sites/lab';

describe('SiteChart', () => {
  const manifests = Testing.synth(new SiteChart(Testing.app(), 'lab', { site: defineSite(lab) }));

  test('publishes the site facts from the plan in a kube-system ConfigMap', () => {
    const configMap = manifests.find((m) => m.kind === 'ConfigMap');
    expect(configMap).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'proxmox-k3s-ha-site', namespace: 'kube-system', labels: { 'app.kubernetes.io/managed-by': 'proxmox-k3s-ha' } },
      data: { site: 'lab', apiEndpoint: 'https://api.k3s.test.local:8443', apiAddress: '192.168.168.100:8443', searchDomain: 'k3s.test.local' },
    });
  });

  test('snapshot (tripwire)', () => {
    expect(manifests).toMatchSnapshot();
  });
});
