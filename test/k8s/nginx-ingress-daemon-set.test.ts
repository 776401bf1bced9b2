import { readFileSync } from 'fs';
import { resolve } from 'path';
import { Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-29';
import { NginxIngressDaemonSet, NginxIngressDaemonSetProps } from '../../constructs';
import { DEFAULT_NGINX_INGRESS_IMAGE, NGINX_INGRESS_CONTROLLER_NAME } from '../../constructs/k8s';
import { REFERENCE_DIR, schemaErrors } from '../support/k8s-schema';
import { Manifest, ofKind, one, synth, taintOf, testChart, tolerates, untolerated } from './manifests';

/** The F5 chart v5.5.4's rendered defaults (shared/reference/nginx-ingress). */
const reference = {
  rbac: JSON.parse(readFileSync(resolve(REFERENCE_DIR, 'nginx-ingress/rbac.json'), 'utf8'))['f5-nginx-ingress-controller'],
  controller: JSON.parse(readFileSync(resolve(REFERENCE_DIR, 'nginx-ingress/controller-args.json'), 'utf8'))['f5-nginx-ingress-controller'],
};

function build(props?: NginxIngressDaemonSetProps): { construct: NginxIngressDaemonSet; manifests: Manifest[] } {
  const construct = new NginxIngressDaemonSet(testChart(), 'Ingress', props);
  return { construct, manifests: synth(construct) };
}

function container(manifests: readonly Manifest[]): Manifest {
  return one(manifests, 'DaemonSet').spec.template.spec.containers[0];
}

/** `-flag=value` args as a map; a bare `-flag` maps to `true`. */
function argMap(args: readonly string[]): Map<string, string | true> {
  return new Map(args.map((arg) => {
    const [flag, ...value] = arg.split('=');
    return [flag, value.length > 0 ? value.join('=') : true];
  }));
}

describe('NginxIngressDaemonSet', () => {
  describe('defaults', () => {
    const { construct, manifests } = build();

    test('creates the chart\'s objects, each valid against the Kubernetes 1.36 schema with unknown fields rejected', () => {
      expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
        'Namespace/nginx-ingress',
        'ServiceAccount/nginx-ingress',
        'ClusterRole/nginx-ingress',
        'ClusterRoleBinding/nginx-ingress',
        'Role/nginx-ingress',
        'RoleBinding/nginx-ingress',
        'ConfigMap/nginx-ingress',
        'DaemonSet/nginx-ingress-controller',
        'Service/nginx-ingress-controller',
        'Service/nginx-ingress-metrics',
        'IngressClass/nginx',
      ]);
      manifests.forEach((manifest) => expect({ manifest: manifest.kind, errors: schemaErrors(manifest) }).toEqual({ manifest: manifest.kind, errors: [] }));
    });

    test('runs the pinned F5 image as a DaemonSet on control-plane nodes (K3s or kubeadm), tolerating their taints', () => {
      const pod = one(manifests, 'DaemonSet').spec.template.spec;
      expect(DEFAULT_NGINX_INGRESS_IMAGE).toBe('nginx/nginx-ingress:5.5.4');
      expect(pod.containers[0].image).toBe('nginx/nginx-ingress:5.5.4');
      // The label's presence, not its value: K3s sets "true", kubeadm an empty string.
      expect(pod.affinity).toEqual({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] }] } } });
      expect(pod.nodeSelector).toBeUndefined();
      expect(pod.tolerations).toEqual([
        { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
        { key: 'CriticalAddonsOnly', operator: 'Equal', value: 'true', effect: 'NoExecute' },
      ]);
      expect(pod.serviceAccountName).toBe('nginx-ingress');
      expect(construct.node.defaultChild).toBe(construct.daemonSet);
    });

    test('NodePort Service: 80 → 30080 and 443 → 30443, local traffic policy, selecting the controller pods', () => {
      const service = ofKind(manifests, 'Service').find((m) => m.metadata.name === 'nginx-ingress-controller')!;
      expect(service.spec).toEqual({
        type: 'NodePort',
        externalTrafficPolicy: 'Local',
        selector: one(manifests, 'DaemonSet').spec.selector.matchLabels,
        ports: [
          { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', nodePort: 30080 },
          { name: 'https', port: 443, targetPort: 'https', protocol: 'TCP', nodePort: 30443 },
        ],
      });
      expect(one(manifests, 'DaemonSet').spec.template.metadata.labels).toMatchObject(service.spec.selector);
      expect([construct.httpNodePort, construct.httpsNodePort]).toEqual([30080, 30443]);
    });

    test('the default IngressClass nginx for the controller nginx.org/ingress-controller', () => {
      const ingressClass = one(manifests, 'IngressClass');
      expect(ingressClass.metadata.annotations).toEqual({ 'ingressclass.kubernetes.io/is-default-class': 'true' });
      expect(ingressClass.spec).toEqual({ controller: 'nginx.org/ingress-controller' });
      expect(NGINX_INGRESS_CONTROLLER_NAME).toBe(reference.controller.ingressClass['spec.controller']);
      expect(construct.ingressClassName).toBe('nginx');
    });

    test('args: the chart\'s, adapted (custom resources off, own ConfigMap and lock, no telemetry, health page on, no status without an address)', () => {
      const ours = argMap(container(manifests).args);
      const chart = argMap(reference.controller.defaultArgs);
      expect(ours.get('-ingress-class')).toBe('nginx');
      expect(ours.get('-nginx-configmaps')).toBe('$(POD_NAMESPACE)/nginx-ingress');
      expect(ours.get('-enable-custom-resources')).toBe('false');
      expect(ours.get('-leader-election-lock-name')).toBe('nginx-ingress-leader-election');
      expect(ours.get('-enable-telemetry-reporting')).toBe('false');
      expect(ours.has('-report-ingress-status')).toBe(false);
      expect(ours.has('-external-service')).toBe(false);
      // The health page the load balancers check (through the HTTP NodePort), at the chart's default URI.
      expect(ours.get('-health-status')).toBe('true');
      expect(ours.get('-health-status-uri')).toBe(chart.get('-health-status-uri'));
      const adapted = ['-nginx-configmaps', '-enable-custom-resources', '-leader-election-lock-name', '-enable-telemetry-reporting', '-health-status'];
      for (const [flag, value] of ours) {
        expect({ flag, known: chart.has(flag) }).toEqual({ flag, known: true });
        if (!adapted.includes(flag)) {
          expect({ flag, value }).toEqual({ flag, value: chart.get(flag) });
        }
      }
    });

    test('the chart\'s env, ports and readiness probe; no liveness probe', () => {
      const controller = container(manifests);
      expect(controller.env).toEqual(reference.controller.env);
      expect(controller.ports).toEqual(reference.controller.ports);
      expect(controller.readinessProbe).toEqual(reference.controller.readinessProbe);
      expect(controller.livenessProbe).toBeUndefined();
    });

    test('security: the chart\'s container security context (non-root 101, only NET_BIND_SERVICE) with a read-only root, seccomp RuntimeDefault', () => {
      const pod = one(manifests, 'DaemonSet').spec.template.spec;
      expect(reference.controller.securityContext.readOnlyRootFilesystem).toBe(false);
      expect(pod.containers[0].securityContext).toEqual({ ...reference.controller.securityContext, readOnlyRootFilesystem: true });
      expect(pod.securityContext).toEqual({ seccompProfile: { type: 'RuntimeDefault' } });
      expect(one(manifests, 'Namespace').metadata.labels).toEqual({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    });

    test('read-only root filesystem: the chart\'s init container seeds /etc/nginx, an emptyDir on every writable path', () => {
      const pod = one(manifests, 'DaemonSet').spec.template.spec;
      const controller = pod.containers[0];
      // The chart v5.5.4's mounts with controller.readOnlyRootFilesystem (templates/_helpers.tpl, volumeMountEntries).
      expect(controller.volumeMounts.map((m: Manifest) => m.mountPath)).toEqual(['/etc/nginx', '/var/cache/nginx', '/var/lib/nginx', '/var/lib/nginx/state', '/var/log/nginx']);
      const volumes = new Map(pod.volumes.map((v: Manifest) => [v.name, v]));
      expect(volumes.size).toBe(pod.volumes.length);
      // Every mount has its own emptyDir, and every volume is mounted.
      expect(controller.volumeMounts.map((m: Manifest) => volumes.get(m.name))).toEqual(pod.volumes.map(() => ({ name: expect.any(String), emptyDir: {} })));
      expect(new Set(controller.volumeMounts.map((m: Manifest) => m.name)).size).toBe(pod.volumes.length);

      // The init container copies the image's /etc/nginx into the volume the controller then mounts there.
      expect(pod.initContainers).toHaveLength(1);
      const init = pod.initContainers[0];
      expect(init.image).toBe(controller.image);
      const [cp, flags, source, target] = init.command;
      expect([cp, flags, source]).toEqual(['cp', '-vdR', '/etc/nginx/.']);
      const etc = controller.volumeMounts.find((m: Manifest) => m.mountPath === '/etc/nginx').name;
      expect(init.volumeMounts).toEqual([{ name: etc, mountPath: target }]);
      expect(target).not.toBe('/etc/nginx');

      // Restricted Pod Security for the init container too, and no capability at all: it only copies files.
      expect(init.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsUser: 101, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
      expect(init.resources).toEqual(controller.resources);
    });

    test('resources: the chart\'s requests plus limits', () => {
      expect(container(manifests).resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } });
    });

    test('ClusterRole: the chart\'s default rules without the k8s.nginx.org and ingresses/status ones', () => {
      const expected = reference.rbac.clusterRole.defaultRules
        .filter((rule: Manifest) => !rule.apiGroups.includes('k8s.nginx.org'))
        .filter((rule: Manifest) => !rule.resources.includes('ingresses/status'));
      expect(one(manifests, 'ClusterRole').rules).toEqual(expected);
    });

    test('Role: the chart\'s default rules, the Lease named by the lock name', () => {
      const expected = JSON.parse(JSON.stringify(reference.rbac.role.defaultRules).replace('RELEASE-nginx-ingress-leader-election', 'nginx-ingress-leader-election'));
      expect(one(manifests, 'Role').rules).toEqual(expected);
    });

    test('bindings give the rules to the controller\'s ServiceAccount', () => {
      const subjects = [{ kind: 'ServiceAccount', name: 'nginx-ingress', namespace: 'nginx-ingress' }];
      expect(one(manifests, 'ClusterRoleBinding')).toMatchObject({ roleRef: { kind: 'ClusterRole', name: 'nginx-ingress' }, subjects });
      expect(one(manifests, 'RoleBinding')).toMatchObject({ metadata: { namespace: 'nginx-ingress' }, roleRef: { kind: 'Role', name: 'nginx-ingress' }, subjects });
    });

    test('ConfigMap hides the NGINX version', () => {
      expect(one(manifests, 'ConfigMap').data).toEqual({ 'server-tokens': 'false' });
    });
  });

  test('readOnlyRootFilesystem false: the chart\'s default, a writable root and no init container or volumes', () => {
    const { manifests } = build({ readOnlyRootFilesystem: false });
    const pod = one(manifests, 'DaemonSet').spec.template.spec;
    expect(pod.containers[0].securityContext).toEqual(reference.controller.securityContext);
    expect(pod.initContainers).toBeUndefined();
    expect(pod.volumes).toBeUndefined();
    expect(pod.containers[0].volumeMounts).toBeUndefined();
    expect(schemaErrors(one(manifests, 'DaemonSet'))).toEqual([]);
  });

  test('toleratedTaints: a toleration for each custom taint, the control-plane ones kept and not repeated', () => {
    const taints = ['dedicated=ingress:NoSchedule', 'example.com/edge:NoExecute', 'node-role.kubernetes.io/control-plane:NoSchedule', 'CriticalAddonsOnly=true:NoExecute'];
    const { manifests } = build({ toleratedTaints: taints });
    const daemonSet = one(manifests, 'DaemonSet');
    const tolerations = daemonSet.spec.template.spec.tolerations;
    expect(tolerations).toEqual([
      { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'CriticalAddonsOnly', operator: 'Equal', value: 'true', effect: 'NoExecute' },
      { key: 'dedicated', operator: 'Equal', value: 'ingress', effect: 'NoSchedule' },
      { key: 'example.com/edge', operator: 'Exists', effect: 'NoExecute' },
    ]);
    expect(untolerated(tolerations, taints.map(taintOf))).toEqual([]);
    // Precise, not blanket: the same key with another value or effect stays untolerated.
    expect(untolerated(tolerations, [taintOf('dedicated=db:NoSchedule'), taintOf('dedicated=ingress:NoExecute')])).toHaveLength(2);
    expect(schemaErrors(daemonSet)).toEqual([]);
  });

  test('without toleratedTaints a custom taint is not tolerated (the check above can fail)', () => {
    const tolerations = one(build().manifests, 'DaemonSet').spec.template.spec.tolerations;
    expect(tolerates(tolerations[0], taintOf('node-role.kubernetes.io/control-plane:NoSchedule'))).toBe(true);
    expect(untolerated(tolerations, [taintOf('dedicated=ingress:NoSchedule')])).toEqual([taintOf('dedicated=ingress:NoSchedule')]);
  });

  test('httpNodePort and httpsNodePort', () => {
    const { manifests } = build({ httpNodePort: 31080, httpsNodePort: 31443 });
    expect(ofKind(manifests, 'Service').find((m) => m.spec.type === 'NodePort')!.spec.ports.map((p: Manifest) => [p.port, p.nodePort])).toEqual([[80, 31080], [443, 31443]]);
  });

  test('externalStatusAddress: reports Ingress status with that address, and may update it', () => {
    const { manifests } = build({ externalStatusAddress: '192.168.168.100' });
    expect(one(manifests, 'ConfigMap').data).toEqual({ 'server-tokens': 'false', 'external-status-address': '192.168.168.100' });
    expect(container(manifests).args).toContain('-report-ingress-status');
    expect(one(manifests, 'ClusterRole').rules).toEqual(reference.rbac.clusterRole.defaultRules.filter((rule: Manifest) => !rule.apiGroups.includes('k8s.nginx.org')));
  });

  test('name and namespace', () => {
    const { construct, manifests } = build({ name: 'edge', namespace: 'ingress' });
    expect(manifests.map((m) => [m.kind, m.metadata.name, m.metadata.namespace])).toEqual([
      ['Namespace', 'ingress', undefined],
      ['ServiceAccount', 'edge', 'ingress'],
      ['ClusterRole', 'edge', undefined],
      ['ClusterRoleBinding', 'edge', undefined],
      ['Role', 'edge', 'ingress'],
      ['RoleBinding', 'edge', 'ingress'],
      ['ConfigMap', 'edge', 'ingress'],
      ['DaemonSet', 'edge-controller', 'ingress'],
      ['Service', 'edge-controller', 'ingress'],
      ['Service', 'edge-metrics', 'ingress'],
      ['IngressClass', 'nginx', undefined],
    ]);
    expect(argMap(container(manifests).args).get('-leader-election-lock-name')).toBe('edge-leader-election');
    expect(one(manifests, 'Role').rules[4].resourceNames).toEqual(['edge-leader-election']);
    expect(construct.namespaceName).toBe('ingress');
  });

  test('image', () => {
    expect(container(build({ image: 'registry.example.test/nginx/nginx-ingress:5.5.4' }).manifests).image).toBe('registry.example.test/nginx/nginx-ingress:5.5.4');
  });

  test('ingressClassName and defaultIngressClass false', () => {
    const { manifests } = build({ ingressClassName: 'nginx-internal', defaultIngressClass: false });
    expect(one(manifests, 'IngressClass').metadata).toEqual({ name: 'nginx-internal', labels: expect.any(Object) });
    expect(argMap(container(manifests).args).get('-ingress-class')).toBe('nginx-internal');
  });

  test('resources', () => {
    const { manifests } = build({ resources: { cpu: { request: Cpu.millis(250) }, memory: { request: Size.mebibytes(256), limit: Size.gibibytes(1) } } });
    expect(container(manifests).resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1024Mi' } });
  });

  test('fails when a NodePort is outside 30000–32767', () => {
    expect(() => build({ httpNodePort: 80 })).toThrow(
      'NginxIngressDaemonSet test/Ingress has 1 problem:\n  - httpNodePort: 80 — an integer NodePort from 30000 to 32767 (Kubernetes\' service-node-port-range)');
    expect(() => build({ httpsNodePort: 32768 })).toThrow(/httpsNodePort: 32768 — an integer NodePort from 30000 to 32767/);
    expect(() => build({ httpNodePort: 30080.5 })).toThrow(/httpNodePort: 30080.5 — an integer NodePort/);
  });

  test('fails when both NodePorts are the same', () => {
    expect(() => build({ httpNodePort: 30443 })).toThrow(/httpsNodePort: 30443 — a NodePort other than httpNodePort \(30443\)/);
  });

  test('fails when a name is not an RFC 1123 label', () => {
    expect(() => build({ name: 'Nginx_Ingress', namespace: '-x', ingressClassName: 'a'.repeat(41) })).toThrow(
      /has 3 problems:\n {2}- name: "Nginx_Ingress" — an RFC 1123 label of at most 40 characters\n {2}- namespace: "-x" — .*\n {2}- ingressClassName: "a{41}" — /);
  });

  test('fails when the image is not pinned', () => {
    expect(() => build({ image: 'nginx/nginx-ingress' })).toThrow(/image: "nginx\/nginx-ingress" — an image reference pinned by tag or digest/);
  });

  test('fails when a tolerated taint is not "key[=value]:Effect"', () => {
    expect(() => build({ toleratedTaints: ['dedicated=ingress:NoSchedule', 'dedicated=ingress', 'gpu:Sometimes'] })).toThrow(
      /has 2 problems:\n {2}- toleratedTaints\[1\]: "dedicated=ingress" — a taint "key\[=value\]:NoSchedule\|PreferNoSchedule\|NoExecute"\n {2}- toleratedTaints\[2\]: "gpu:Sometimes" — /);
    expect(() => build({ toleratedTaints: 'gpu:NoSchedule' as unknown as string[] })).toThrow(/toleratedTaints: "gpu:NoSchedule" — a list of taints/);
  });

  test('fails when readOnlyRootFilesystem is not a boolean', () => {
    expect(() => build({ readOnlyRootFilesystem: 'yes' as unknown as boolean })).toThrow(/readOnlyRootFilesystem: "yes" — true or false/);
  });

  test('fails when externalStatusAddress is neither an address nor a name', () => {
    expect(() => build({ externalStatusAddress: 'http://192.168.168.100' })).toThrow(/externalStatusAddress: "http:\/\/192.168.168.100" — an IPv4 address or a DNS name/);
  });
});
