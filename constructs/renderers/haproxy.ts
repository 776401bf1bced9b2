import { INGRESS_HEALTH_PATH } from '../site/defaults';
import { ApiHealthCheck, HostRole } from '../site/spec';
import { LoadBalancerPlan, SitePlan, controlPlaneHosts, workerHosts } from '../site/plan';

/** Where K3s's API server (via its supervisor) listens on every server. */
export const K3S_API_SERVER_PORT = 6443;
export const HAPROXY_CONFIG_PATH = '/etc/haproxy/haproxy.cfg';
/** HAProxy's runtime API (admin level): the PostgreSQL writer endpoint's reload step reads its servers' state there. */
export const HAPROXY_ADMIN_SOCKET_PATH = '/run/haproxy/admin.sock';
/** On the loopback health frontend: the number of API servers in rotation (a rollout's health gate reads it). */
export const HAPROXY_API_BACKENDS_PATH = '/api-backends';
/** Path of HAProxy's Prometheus exporter on the stats frontend (no auth; the site network only). */
export const HAPROXY_METRICS_PATH = '/metrics';

/** The API backend's name: the health page and the Keepalived track script refer to it. */
export const API_BACKEND = 'k3s_api';

/**
 * Health-check and failover tuning, chosen from the failover lab's measurements (`npm run bench:failover`):
 * - checks every 1 s, 250 ms between checks while a server changes state, 2 failures to leave rotation: an API
 *   server that is up but not ready leaves within about 1.25 s;
 * - `observe layer4` + `on-error mark-down`: the first refused or timed-out client connection marks the server
 *   down at once, and `retries` + `redispatch 1` send that very connection to another server;
 * - `on-marked-down shutdown-sessions`: long-lived connections (kubectl watches) to a dead server are closed
 *   immediately, so clients reconnect instead of hanging until the TCP timeout.
 */
export const API_HEALTH_CHECK_INTERVALS = { interMs: 1000, fastinterMs: 250, downinterMs: 1000 } as const;

const duration = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
/** The API backends' check timing and fast-failure options; the ingress backends use the same. */
const fastServerDefaults = (lb: LoadBalancerPlan) => {
  const { interMs, fastinterMs, downinterMs } = API_HEALTH_CHECK_INTERVALS;
  return `check inter ${duration(interMs)} fastinter ${duration(fastinterMs)} downinter ${duration(downinterMs)} rise ${lb.healthCheckRise} fall ${lb.healthCheckFall} `
    + 'observe layer4 error-limit 1 on-error mark-down on-marked-down shutdown-sessions';
};

/**
 * How long HAProxy's checks take to move an API server that refuses connections out of rotation (`downMs`) and,
 * once it answers again, back in (`upMs`). HAProxy checks a healthy server every `inter`, a server in transition
 * every `fastinter` and a server that is down every `downinter`; so the first failed check comes within `inter`,
 * the other `fall - 1` follow `fastinter` apart (likewise `downinter`, then `rise - 1` × `fastinter`). A host that
 * stops answering altogether adds up to `timeout check` per check; client traffic (`observe layer4`) can mark a
 * server down sooner.
 */
export function apiHealthCheckTimes(lb: Pick<LoadBalancerPlan, 'healthCheckFall' | 'healthCheckRise'>): { readonly downMs: number; readonly upMs: number } {
  const { interMs, fastinterMs, downinterMs } = API_HEALTH_CHECK_INTERVALS;
  return { downMs: interMs + (lb.healthCheckFall - 1) * fastinterMs, upMs: downinterMs + (lb.healthCheckRise - 1) * fastinterMs };
}


function apiHealthCheckLines(check: ApiHealthCheck): { backend: string[]; serverOptions: string } {
  switch (check) {
    case ApiHealthCheck.READYZ:
      // TLS for the check only (traffic stays TCP passthrough); the certificate is not verified by the check.
      return { backend: ['option httpchk GET /readyz', 'http-check expect status 200'], serverOptions: 'check-ssl verify none' };
    case ApiHealthCheck.PING:
      return { backend: ['option httpchk GET /ping', 'http-check expect string pong'], serverOptions: 'check-ssl verify none' };
    case ApiHealthCheck.TCP:
      return { backend: ['option tcp-check'], serverOptions: '' };
  }
}

function block(header: string, lines: readonly string[]): string {
  return [header, ...lines.map((line) => `    ${line}`)].join('\n');
}

/** Who may read the exporter on the stats frontend: the site network, and the pod network on a Kubernetes node. */
export function metricsSources(plan: SitePlan, nodeName: string): readonly string[] {
  const kubernetesNode = [...controlPlaneHosts(plan), ...workerHosts(plan)].some((host) => host.name === nodeName);
  return kubernetesNode ? [plan.network.cidr, plan.cluster.podCidr] : [plan.network.cidr];
}

/** The load balancer plan of a site, or an error saying the site has none. */
export function requireLoadBalancer(plan: SitePlan): LoadBalancerPlan {
  if (!plan.loadBalancer) {
    throw new Error(`site ${plan.name}: no host has role ${HostRole.LOAD_BALANCER}`);
  }
  return plan.loadBalancer;
}

/**
 * Renders `haproxy.cfg` for one load balancer: the API frontend on the site's API port to every K3s server on
 * 6443, optional ingress frontends 80/443 to the ingress NodePorts on the servers (TCP mode, the controller's
 * health page checked as fast as the API servers' readiness), a stats page bound
 * to the node's own address (with the Prometheus exporter at `/metrics`, for the site network only), and a loopback
 * health page that Keepalived's track scripts read.
 *
 * Frontends bind every address (`*:port`), so backups need no `ip_nonlocal_bind` for the VIP.
 *
 * @param statsPassword the stats page password; pass a Terraform reference, never a literal
 * @param services sections other constructs add (e.g. the PostgreSQL datastore's writer endpoint), appended as given
 */
export function renderHaproxyConfig(plan: SitePlan, nodeName: string, statsPassword: string, services: readonly string[] = []): string {
  const lb = requireLoadBalancer(plan);
  const node = lb.nodes.find((n) => n.name === nodeName);
  if (!node) {
    throw new Error(`site ${plan.name}: host ${JSON.stringify(nodeName)} is not a load balancer (load balancers: ${lb.nodes.map((n) => n.name).join(', ')})`);
  }
  const servers = controlPlaneHosts(plan);
  const health = apiHealthCheckLines(lb.apiHealthCheck);
  const sections = [
    block('global', [
      'log /dev/log local0 info',
      'chroot /var/lib/haproxy',
      // expose-fd listeners: on a reload the new worker takes the listening sockets over (-x), no refused connection.
      `stats socket ${HAPROXY_ADMIN_SOCKET_PATH} mode 660 level admin expose-fd listeners`,
      'user haproxy',
      'group haproxy',
      // Each connection takes two descriptors: 8000 stays under a 20000-descriptor hard limit (containers, labs).
      'maxconn 8000',
      'hard-stop-after 30s',
    ]),
    block('defaults', [
      'log global',
      'mode tcp',
      'option tcplog',
      'option dontlognull',
      // LAN connects take well under a millisecond: a short connect timeout moves a connection off a black-holed
      // server quickly (with the retry below), instead of the client waiting seconds.
      'timeout connect 300ms',
      'retries 2',
      'option redispatch 1',
      // kubectl watches and log streams stay open for long, often silent, stretches.
      'timeout client 1h',
      'timeout server 1h',
      'timeout client-fin 10s',
      'timeout server-fin 10s',
      'timeout check 500ms',
    ]),
    block(`frontend ${API_BACKEND}`, [
      `bind *:${plan.apiEndpoint.port}`,
      `default_backend ${API_BACKEND}`,
    ]),
    block(`backend ${API_BACKEND}`, [
      // Long-lived watches make connection counts, not request counts, the load to balance.
      'balance leastconn',
      ...health.backend,
      `default-server ${fastServerDefaults(lb)}${health.serverOptions ? ` ${health.serverOptions}` : ''}`,
      ...servers.map((server) => `server ${server.name} ${server.ip}:${K3S_API_SERVER_PORT}`),
    ]),
  ];
  if (lb.ingressFrontends) {
    for (const [name, port, nodePort] of [['ingress_http', 80, plan.ingress.httpNodePort], ['ingress_https', 443, plan.ingress.httpsNodePort]] as const) {
      sections.push(block(`frontend ${name}`, [`bind *:${port}`, `default_backend ${name}`]));
      sections.push(block(`backend ${name}`, [
        // leastconn, as for the API: a node that stops answering holds its pending connections, so new ones go
        // elsewhere at once instead of every third one waiting for the connect timeout (and websockets stay spread).
        'balance leastconn',
        // The controller's own health page, asked through the HTTP NodePort for both backends: a TCP connect
        // to a NodePort can succeed on a node whose controller is not serving. externalTrafficPolicy: Local
        // keeps the check on the node it asks about.
        `option httpchk GET ${INGRESS_HEALTH_PATH}`,
        'http-check expect status 200',
        `default-server ${fastServerDefaults(lb)} port ${plan.ingress.httpNodePort}`,
        ...servers.map((server) => `server ${server.name} ${server.ip}:${nodePort}`),
      ]));
    }
  }
  sections.push(block('frontend stats', [
    'mode http',
    `bind ${node.ip}:${lb.statsPort}`,
    // Prometheus scrapes HAProxy's built-in exporter here without the stats password (use-service answers before
    // the stats page's auth, so no secret goes into scrape configs); it reveals backend names and addresses, so only
    // the site network may read it. In-cluster Prometheus arrives from a node's address, masqueraded, except on a
    // load balancer that is itself a Kubernetes node: a pod there reaches the host unmasqueraded, from the pod network.
    `http-request deny deny_status 403 if { path ${HAPROXY_METRICS_PATH} } !{ src ${metricsSources(plan, node.name).join(' ')} }`,
    `http-request use-service prometheus-exporter if { path ${HAPROXY_METRICS_PATH} }`,
    'stats enable',
    'stats uri /',
    'stats refresh 10s',
    'stats show-legends',
    `stats auth admin:${statsPassword}`,
    'timeout client 30s',
  ]));
  sections.push(block('frontend lb_health', [
    'mode http',
    `bind 127.0.0.1:${lb.healthPort}`,
    'monitor-uri /healthz',
    // 503 when no API server is in rotation: Keepalived then lowers this node's priority.
    `monitor fail if { nbsrv(${API_BACKEND}) lt 1 }`,
    `http-request return status 200 content-type text/plain lf-string "%[nbsrv(${API_BACKEND})]" if { path ${HAPROXY_API_BACKENDS_PATH} }`,
    'timeout client 5s',
  ]));
  sections.push(...services);
  return `# Rendered by proxmox-k3s-ha for ${node.name} (site ${plan.name}); do not edit by hand.\n${sections.join('\n\n')}\n`;
}
