import { Size } from 'cdk8s';
import { ContainerResources, Cpu, k8s } from 'cdk8s-plus-29';
import { Construct } from 'constructs';
import { isIpv4 } from '../core/ipv4';
import { isDnsName, isIntegerInRange, isRfc1123Label } from '../core/names';
import { ProblemCollector } from '../core/problems';
import { DEFAULT_HTTPS_NODE_PORT, DEFAULT_HTTP_NODE_PORT, INGRESS_HEALTH_PATH, K3S_DEDICATED_SERVER_TAINT, KUBEADM_CONTROL_PLANE_TAINT } from '../site/defaults';
import { isNodeTaint, parseNodeTaint } from '../site/validate/hosts';

/** F5 NGINX Ingress Controller release this library pins (the maintained `nginx/nginx-ingress`, not ingress-nginx). */
export const DEFAULT_NGINX_INGRESS_IMAGE = 'nginx/nginx-ingress:5.5.4';
/** The `spec.controller` of IngressClasses the F5 controller serves. */
export const NGINX_INGRESS_CONTROLLER_NAME = 'nginx.org/ingress-controller';

/** Kubernetes' default NodePort range (`--service-node-port-range`). */
const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;
/**
 * The controller's Prometheus metrics port: F5's controller serves them with `-enable-prometheus-metrics` on
 * `-prometheus-metrics-listen-port` (9113, the chart's `prometheus` port; ../shared/reference/nginx-ingress/README.md).
 * The community controller's `--enable-metrics` on 10254 is not this controller's flag.
 */
export const NGINX_INGRESS_METRICS_PORT = 9113;
/** The label of the controller's metrics Service (the monitoring stack's ServiceMonitor selects on it). */
export const NGINX_INGRESS_METRICS_SERVICE_LABEL = 'proxmox-k3s-ha/nginx-ingress-metrics';

/** The user the F5 image runs NGINX as. */
const NGINX_USER_ID = 101;

/**
 * The taints of control-plane nodes, always tolerated: kubeadm's `node-role.kubernetes.io/control-plane:NoSchedule`
 * and K3s's `CriticalAddonsOnly=true:NoExecute` (servers with `controlPlane.dedicatedServers`).
 */
const CONTROL_PLANE_TAINTS: readonly string[] = [KUBEADM_CONTROL_PLANE_TAINT, K3S_DEDICATED_SERVER_TAINT];

/**
 * With a read-only root filesystem, the writable paths of the F5 image and the emptyDir volume mounted on each, as
 * the chart v5.5.4 renders them with `controller.readOnlyRootFilesystem: true` (templates/_helpers.tpl,
 * `nginx-ingress.volumeEntries` and `nginx-ingress.volumeMountEntries`). `/etc/nginx` is where the controller
 * writes the NGINX configuration it generates; the init container seeds it with the image's own files.
 */
const WRITABLE_PATHS: readonly { readonly volume: string; readonly path: string }[] = [
  { volume: 'nginx-etc', path: '/etc/nginx' },
  { volume: 'nginx-cache', path: '/var/cache/nginx' },
  { volume: 'nginx-lib', path: '/var/lib/nginx' },
  { volume: 'nginx-state', path: '/var/lib/nginx/state' },
  { volume: 'nginx-log', path: '/var/log/nginx' },
];
/** Where the init container mounts the `/etc/nginx` volume to copy the image's files into it (the chart's). */
const INIT_ETC_MOUNT = '/mnt/etc';

/** Properties of a {@link NginxIngressDaemonSet}. */
export interface NginxIngressDaemonSetProps {
  /**
   * NodePort of the controller's HTTP port 80, where the load balancers send ingress traffic.
   *
   * @default 30080
   */
  readonly httpNodePort?: number;
  /**
   * NodePort of the controller's HTTPS port 443.
   *
   * @default 30443
   */
  readonly httpsNodePort?: number;
  /**
   * Namespace of the controller, created here (labelled for the `restricted` Pod Security Standard).
   *
   * @default 'nginx-ingress'
   */
  readonly namespace?: string;
  /**
   * Base name of the objects: ServiceAccount, RBAC and ConfigMap are `<name>`, DaemonSet and Service
   * `<name>-controller`, the leader-election Lease `<name>-leader-election`.
   *
   * @default 'nginx-ingress'
   */
  readonly name?: string;
  /**
   * Controller image, pinned.
   *
   * @default 'nginx/nginx-ingress:5.5.4'
   */
  readonly image?: string;
  /**
   * Name of the IngressClass created for this controller (Ingresses select it with `ingressClassName`).
   *
   * @default 'nginx'
   */
  readonly ingressClassName?: string;
  /**
   * Mark the IngressClass as the cluster default (`ingressclass.kubernetes.io/is-default-class`), so Ingresses
   * without `ingressClassName` use this controller.
   *
   * @default true
   */
  readonly defaultIngressClass?: boolean;
  /**
   * Address written into the status of Ingresses (`kubectl get ingress` ADDRESS; tools such as Argo CD wait for
   * it), typically the load balancers' VIP. Sets the ConfigMap key `external-status-address` and
   * `-report-ingress-status`; the elected leader alone writes it.
   *
   * @default - Ingress status is not reported
   */
  readonly externalStatusAddress?: string;
  /**
   * CPU and memory of each controller pod.
   *
   * @default - requests 100m CPU and 128 MiB (the chart's), limits 1 CPU and 512 MiB
   */
  readonly resources?: ContainerResources;
  /**
   * Taints of the nodes the controller must run on, as `key[=value]:Effect` (the form of `hosts[].nodeTaints`):
   * each gets a toleration (`Equal` with a value, `Exists` without), besides the control-plane taints the pods
   * always tolerate. A load balancer sends ingress traffic to every control-plane node, so a node whose taint is
   * not tolerated here would get traffic but no controller.
   *
   * @default []
   */
  readonly toleratedTaints?: readonly string[];
  /**
   * Run the controller with a read-only root filesystem, as the chart's `controller.readOnlyRootFilesystem`: an
   * init container (same image) copies `/etc/nginx` into an emptyDir, and emptyDirs are mounted on every path NGINX
   * and the controller write (`/etc/nginx`, `/var/cache/nginx`, `/var/lib/nginx`, `/var/lib/nginx/state`,
   * `/var/log/nginx`). Their contents are regenerated at each start.
   *
   * @default true
   */
  readonly readOnlyRootFilesystem?: boolean;
}

/**
 * The F5 NGINX Ingress Controller (`nginx/nginx-ingress`, IngressClass controller `nginx.org/ingress-controller`)
 * as a DaemonSet on the control-plane nodes, behind a NodePort Service the site's load balancers forward 80/443 to.
 *
 * Creates, as the v5.5.4 Helm chart would with `controller.kind=daemonset`: a Namespace, ServiceAccount,
 * ClusterRole/Role and bindings (the chart's default rules), the controller ConfigMap, the DaemonSet (the public
 * `daemonSet`), a NodePort Service and the IngressClass.
 *
 * - Pods run on nodes that carry the label `node-role.kubernetes.io/control-plane` with any value (a required node
 *   affinity: K3s servers have `"true"`, kubeadm control planes an empty value) and tolerate the control-plane
 *   taints (`node-role.kubernetes.io/control-plane:NoSchedule`, `CriticalAddonsOnly=true:NoExecute`) and every
 *   taint in `toleratedTaints` (`SiteChart` passes the taints the site puts on its control-plane nodes).
 * - The Service uses `externalTrafficPolicy: Local`: a request stays on the node the load balancer picked, and a
 *   node without a ready controller fails the load balancer's health check instead of forwarding elsewhere.
 * - Custom resources (VirtualServer, Policy, ...) are off (`-enable-custom-resources=false`): they would need the
 *   five `k8s.nginx.org` CRDs installed and upgraded alongside, and standard Ingress covers what the sites serve.
 * - Security: non-root user 101, no privilege escalation, every capability dropped except `NET_BIND_SERVICE`
 *   (NGINX listens on 80/443), seccomp `RuntimeDefault`, snippets off, telemetry reporting off, and a read-only
 *   root filesystem with emptyDirs for the paths NGINX writes (`readOnlyRootFilesystem`, the chart's layout).
 *
 * Escape hatch: `addJsonPatch()` on any of the public objects.
 *
 * @see https://docs.nginx.com/nginx-ingress-controller/
 */
export class NginxIngressDaemonSet extends Construct {
  /** The controller DaemonSet. */
  public readonly daemonSet: k8s.KubeDaemonSet;
  /** The NodePort Service. */
  public readonly service: k8s.KubeService;
  /** A headless Service over every controller's metrics port, labelled {@link NGINX_INGRESS_METRICS_SERVICE_LABEL}. */
  public readonly metricsService: k8s.KubeService;
  /** The IngressClass of this controller (the cluster default unless `defaultIngressClass` is false). */
  public readonly ingressClass: k8s.KubeIngressClass;
  /** The controller's NGINX ConfigMap (`-nginx-configmaps`). */
  public readonly configMap: k8s.KubeConfigMap;
  /** The ServiceAccount the controller pods run as. */
  public readonly serviceAccount: k8s.KubeServiceAccount;
  /** The cluster-wide RBAC rules (bound to the ServiceAccount): Ingresses, Services, Secrets and the like. */
  public readonly clusterRole: k8s.KubeClusterRole;
  /** The namespaced RBAC rules (bound to the ServiceAccount): the controller's own objects and its leader-election Lease. */
  public readonly role: k8s.KubeRole;
  /** The controller's namespace. */
  public readonly namespaceName: string;
  /** The IngressClass name Ingresses select. */
  public readonly ingressClassName: string;
  /** NodePort of the controller's HTTP port 80. */
  public readonly httpNodePort: number;
  /** NodePort of the controller's HTTPS port 443. */
  public readonly httpsNodePort: number;

  constructor(scope: Construct, id: string, props: NginxIngressDaemonSetProps = {}) {
    super(scope, id);
    validateProps(props, `NginxIngressDaemonSet ${this.node.path}`);
    const name = props.name ?? 'nginx-ingress';
    const namespace = props.namespace ?? 'nginx-ingress';
    const controllerName = `${name}-controller`;
    const leaderElectionLock = `${name}-leader-election`;
    const reportStatus = props.externalStatusAddress !== undefined;
    const readOnlyRootFilesystem = props.readOnlyRootFilesystem ?? true;
    const image = props.image ?? DEFAULT_NGINX_INGRESS_IMAGE;
    const resources = resourceRequirements(props.resources);
    this.namespaceName = namespace;
    this.ingressClassName = props.ingressClassName ?? 'nginx';
    this.httpNodePort = props.httpNodePort ?? DEFAULT_HTTP_NODE_PORT;
    this.httpsNodePort = props.httpsNodePort ?? DEFAULT_HTTPS_NODE_PORT;
    const selector = { 'app.kubernetes.io/name': 'nginx-ingress', 'app.kubernetes.io/instance': name };

    new k8s.KubeNamespace(this, 'Namespace', {
      metadata: { name: namespace, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    });
    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name, namespace, labels: selector },
    });
    this.clusterRole = new k8s.KubeClusterRole(this, 'ClusterRole', {
      metadata: { name, labels: selector },
      rules: clusterRoleRules(reportStatus),
    });
    new k8s.KubeClusterRoleBinding(this, 'ClusterRoleBinding', {
      metadata: { name, labels: selector },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    });
    this.role = new k8s.KubeRole(this, 'Role', {
      metadata: { name, namespace, labels: selector },
      rules: roleRules(leaderElectionLock),
    });
    new k8s.KubeRoleBinding(this, 'RoleBinding', {
      metadata: { name, namespace, labels: selector },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    });
    this.configMap = new k8s.KubeConfigMap(this, 'ConfigMap', {
      metadata: { name, namespace, labels: selector },
      data: {
        // Do not advertise the NGINX version in responses and error pages.
        'server-tokens': 'false',
        ...(reportStatus ? { 'external-status-address': props.externalStatusAddress } : {}),
      },
    });

    this.daemonSet = new k8s.KubeDaemonSet(this, 'Resource', {
      metadata: { name: controllerName, namespace, labels: selector },
      spec: {
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: selector },
          spec: {
            serviceAccountName: name,
            automountServiceAccountToken: true,
            terminationGracePeriodSeconds: 30,
            // K3s labels its servers node-role.kubernetes.io/control-plane="true", kubeadm with an empty value:
            // requiring the key to exist selects the control planes of both.
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [{ matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] }],
                },
              },
            },
            tolerations: tolerationsFor(props.toleratedTaints ?? []),
            securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
            ...(readOnlyRootFilesystem ? {
              // The image's /etc/nginx (nginx.conf, mime.types, ...) seeds the emptyDir that replaces it.
              initContainers: [{
                name: 'init-nginx-ingress',
                image,
                imagePullPolicy: 'IfNotPresent',
                command: ['cp', '-vdR', '/etc/nginx/.', INIT_ETC_MOUNT],
                resources,
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsUser: NGINX_USER_ID,
                  runAsNonRoot: true,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [{ name: 'nginx-etc', mountPath: INIT_ETC_MOUNT }],
              }],
              volumes: WRITABLE_PATHS.map(({ volume }) => ({ name: volume, emptyDir: {} })),
            } : {}),
            containers: [{
              name: 'nginx-ingress',
              image,
              imagePullPolicy: 'IfNotPresent',
              args: controllerArgs({ configMap: name, ingressClassName: this.ingressClassName, leaderElectionLock, reportStatus }),
              env: [
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              ],
              ports: [
                { name: 'http', containerPort: 80, protocol: 'TCP' },
                { name: 'https', containerPort: 443, protocol: 'TCP' },
                { name: 'prometheus', containerPort: NGINX_INGRESS_METRICS_PORT },
                { name: 'readiness-port', containerPort: 8081 },
              ],
              // Ready once NGINX has loaded its configuration; the chart has no liveness probe.
              readinessProbe: { httpGet: { path: '/nginx-ready', port: k8s.IntOrString.fromString('readiness-port') }, periodSeconds: 1, initialDelaySeconds: 0 },
              resources,
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem,
                runAsUser: NGINX_USER_ID,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
              },
              ...(readOnlyRootFilesystem ? { volumeMounts: WRITABLE_PATHS.map(({ volume, path }) => ({ name: volume, mountPath: path })) } : {}),
            }],
          },
        },
      },
    });

    this.service = new k8s.KubeService(this, 'Service', {
      metadata: { name: controllerName, namespace, labels: selector },
      spec: {
        type: 'NodePort',
        externalTrafficPolicy: 'Local',
        selector,
        ports: [
          { name: 'http', port: 80, targetPort: k8s.IntOrString.fromString('http'), protocol: 'TCP', nodePort: this.httpNodePort },
          { name: 'https', port: 443, targetPort: k8s.IntOrString.fromString('https'), protocol: 'TCP', nodePort: this.httpsNodePort },
        ],
      },
    });

    this.metricsService = new k8s.KubeService(this, 'MetricsService', {
      metadata: { name: `${name}-metrics`, namespace, labels: { ...selector, [NGINX_INGRESS_METRICS_SERVICE_LABEL]: 'controller' } },
      spec: {
        clusterIp: 'None',
        selector,
        ports: [{ name: 'prometheus', port: NGINX_INGRESS_METRICS_PORT, targetPort: k8s.IntOrString.fromString('prometheus'), protocol: 'TCP' }],
      },
    });

    this.ingressClass = new k8s.KubeIngressClass(this, 'IngressClass', {
      metadata: {
        name: this.ingressClassName,
        labels: selector,
        ...((props.defaultIngressClass ?? true) ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}),
      },
      spec: { controller: NGINX_INGRESS_CONTROLLER_NAME },
    });
  }
}

/**
 * The control-plane tolerations, then one per taint not already tolerated by them: `Equal` for a taint with a
 * value, `Exists` (any value) for one without.
 */
function tolerationsFor(taints: readonly string[]): k8s.Toleration[] {
  const tolerations = new Map<string, k8s.Toleration>();
  for (const taint of [...CONTROL_PLANE_TAINTS, ...taints]) {
    const { key, value, effect } = parseNodeTaint(taint)!;
    const toleration: k8s.Toleration = value !== undefined ? { key, operator: 'Equal', value, effect } : { key, operator: 'Exists', effect };
    tolerations.set(JSON.stringify(toleration), toleration);
  }
  return [...tolerations.values()];
}

interface ControllerArgsOptions {
  readonly configMap: string;
  readonly ingressClassName: string;
  readonly leaderElectionLock: string;
  readonly reportStatus: boolean;
}

/** The chart's DaemonSet args (`nginx-ingress.args`), adapted; flags left at the binary's default are omitted. */
function controllerArgs(options: ControllerArgsOptions): string[] {
  return [
    '-nginx-plus=false',
    `-nginx-configmaps=$(POD_NAMESPACE)/${options.configMap}`,
    `-ingress-class=${options.ingressClassName}`,
    // Standard Ingress only: custom resources would need the k8s.nginx.org CRDs shipped and upgraded too.
    '-enable-custom-resources=false',
    '-enable-snippets=false',
    ...(options.reportStatus ? ['-report-ingress-status'] : []),
    // One lock per controller, matching the Role's resourceNames, so one pod of the DaemonSet writes status.
    '-enable-leader-election=true',
    `-leader-election-lock-name=${options.leaderElectionLock}`,
    '-enable-prometheus-metrics=true',
    `-prometheus-metrics-listen-port=${NGINX_INGRESS_METRICS_PORT}`,
    '-nginx-status=true',
    '-nginx-status-port=8080',
    '-nginx-status-allow-cidrs=127.0.0.1',
    '-ready-status=true',
    '-ready-status-port=8081',
    // The load balancers' health check (through the HTTP NodePort): see INGRESS_HEALTH_PATH.
    '-health-status=true',
    `-health-status-uri=${INGRESS_HEALTH_PATH}`,
    '-log-level=info',
    // No usage reports to F5 from private sites.
    '-enable-telemetry-reporting=false',
  ];
}

/** The chart's default ClusterRole rules without the custom-resource ones (and `ingresses/status` without status). */
function clusterRoleRules(reportStatus: boolean): k8s.PolicyRule[] {
  return [
    { apiGroups: [''], resources: ['configmaps', 'namespaces', 'pods', 'secrets'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch', 'list'] },
    { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['list', 'watch'] },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['nodes'], verbs: ['list'] },
    { apiGroups: ['apps'], resources: ['replicasets', 'daemonsets', 'statefulsets'], verbs: ['get'] },
    { apiGroups: ['networking.k8s.io'], resources: ['ingressclasses'], verbs: ['get', 'list'] },
    ...(reportStatus ? [{ apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['update'] }] : []),
  ];
}

/** The chart's namespaced Role: the controller's own objects and its leader-election Lease. */
function roleRules(leaderElectionLock: string): k8s.PolicyRule[] {
  return [
    { apiGroups: [''], resources: ['configmaps', 'pods', 'secrets', 'services'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
    { apiGroups: [''], resources: ['pods'], verbs: ['update'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch', 'list'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [leaderElectionLock], verbs: ['get', 'update'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  ];
}

function resourceRequirements(resources: ContainerResources = DEFAULT_RESOURCES): k8s.ResourceRequirements {
  const quantities = (cpu: Cpu | undefined, memory: Size | undefined): { [key: string]: k8s.Quantity } | undefined => {
    const entries = [
      ...(cpu ? [['cpu', k8s.Quantity.fromString(cpu.amount)] as const] : []),
      ...(memory ? [['memory', k8s.Quantity.fromString(`${memory.toMebibytes()}Mi`)] as const] : []),
    ];
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  };
  return {
    requests: quantities(resources.cpu?.request, resources.memory?.request),
    limits: quantities(resources.cpu?.limit, resources.memory?.limit),
  };
}

const DEFAULT_RESOURCES: ContainerResources = {
  cpu: { request: Cpu.millis(100), limit: Cpu.units(1) },
  memory: { request: Size.mebibytes(128), limit: Size.mebibytes(512) },
};

function validateProps(props: NginxIngressDaemonSetProps, subject: string): void {
  const problems = new ProblemCollector();
  const nodePortRange = `an integer NodePort from ${NODE_PORT_MIN} to ${NODE_PORT_MAX} (Kubernetes' service-node-port-range)`;
  const httpOk = problems.check(isNodePort(props.httpNodePort ?? DEFAULT_HTTP_NODE_PORT), 'httpNodePort', props.httpNodePort, nodePortRange);
  const httpsOk = problems.check(isNodePort(props.httpsNodePort ?? DEFAULT_HTTPS_NODE_PORT), 'httpsNodePort', props.httpsNodePort, nodePortRange);
  if (httpOk && httpsOk) {
    const http = props.httpNodePort ?? DEFAULT_HTTP_NODE_PORT;
    problems.check(http !== (props.httpsNodePort ?? DEFAULT_HTTPS_NODE_PORT), 'httpsNodePort', props.httpsNodePort ?? DEFAULT_HTTPS_NODE_PORT,
      `a NodePort other than httpNodePort (${http})`);
  }
  for (const key of ['name', 'namespace', 'ingressClassName'] as const) {
    if (props[key] !== undefined) {
      problems.check(isRfc1123Label(props[key]) && props[key]!.length <= 40, key, props[key], 'an RFC 1123 label of at most 40 characters');
    }
  }
  if (props.image !== undefined) {
    problems.check(/^\S+(:[\w.-]+|@sha256:[0-9a-f]{64})$/.test(props.image), 'image', props.image, 'an image reference pinned by tag or digest');
  }
  if (props.toleratedTaints !== undefined) {
    if (problems.check(Array.isArray(props.toleratedTaints), 'toleratedTaints', props.toleratedTaints, 'a list of taints')) {
      props.toleratedTaints.forEach((taint, i) => problems.check(isNodeTaint(taint), `toleratedTaints[${i}]`, taint,
        'a taint "key[=value]:NoSchedule|PreferNoSchedule|NoExecute"'));
    }
  }
  if (props.readOnlyRootFilesystem !== undefined) {
    problems.check(typeof props.readOnlyRootFilesystem === 'boolean', 'readOnlyRootFilesystem', props.readOnlyRootFilesystem, 'true or false');
  }
  if (props.externalStatusAddress !== undefined) {
    problems.check(isIpv4(props.externalStatusAddress) || isDnsName(props.externalStatusAddress), 'externalStatusAddress', props.externalStatusAddress,
      'an IPv4 address or a DNS name');
  }
  problems.throwIfAny(subject);
}

function isNodePort(value: unknown): boolean {
  return isIntegerInRange(value, NODE_PORT_MIN, NODE_PORT_MAX);
}
