import { SitePlan } from '../../site/plan';
import { HostRole } from '../../site/spec';
import { HAPROXY_DATASTORE_CA_PATH, PATRONI_API_PORT, POSTGRES_WRITER_BACKEND, requirePostgres } from './paths';

function block(headerLine: string, lines: readonly string[]): string {
  return [headerLine, ...lines.map((line) => `    ${line}`)].join('\n');
}

/**
 * The HAProxy sections of the writer endpoint, appended to every load balancer's `haproxy.cfg`: a TCP frontend on
 * `postgres.writerPort` and a backend with every datastore node, checked with Patroni's `GET /primary` on its REST
 * API (over TLS, verified against the datastore CA and the node's name, with `postgres.tls`). Only the node that
 * holds the leader key answers 200, so only it receives connections; `on-marked-down shutdown-sessions` closes
 * K3s's connections to a node that stops being primary, so they reconnect to the new one.
 */
export function renderPostgresWriterHaproxySections(plan: SitePlan): string[] {
  const postgres = requirePostgres(plan);
  const tls = (fqdn: string) => (postgres.tls ? ` check-ssl verify required ca-file ${HAPROXY_DATASTORE_CA_PATH} verifyhost ${fqdn} check-sni ${fqdn}` : '');
  return [
    block(`frontend ${POSTGRES_WRITER_BACKEND}`, [
      `bind *:${postgres.writerPort}`,
      `default_backend ${POSTGRES_WRITER_BACKEND}`,
    ]),
    block(`backend ${POSTGRES_WRITER_BACKEND}`, [
      // If two nodes ever both answered 200, every connection would still go to one of them.
      'balance first',
      'option httpchk GET /primary',
      'http-check expect status 200',
      'timeout check 2s',
      `default-server check port ${PATRONI_API_PORT} inter 1s fastinter 250ms downinter 500ms rise 1 fall 2 on-marked-down shutdown-sessions`,
      ...postgres.nodes.map((node) => {
        const fqdn = plan.hosts.find((h) => h.name === node.name)!.fqdn;
        return `server ${node.name} ${node.ip}:${postgres.port}${tls(fqdn)}`;
      }),
    ]),
  ];
}

/**
 * The address K3s reaches the primary at: the writer endpoint on the load balancers (the VIP when it floats), or
 * the only datastore node directly when the site has no load balancer.
 */
export function postgresWriterAddress(plan: SitePlan): { readonly address: string; readonly port: number } {
  const postgres = requirePostgres(plan);
  if (plan.loadBalancer) {
    return { address: plan.apiEndpoint.address, port: postgres.writerPort };
  }
  if (postgres.nodes.length === 1) {
    return { address: postgres.nodes[0].ip, port: postgres.port };
  }
  throw new Error(`site ${plan.name}: no host has role ${HostRole.LOAD_BALANCER}, expected load balancers for the writer endpoint of ${postgres.nodes.length} datastore nodes`);
}

/**
 * K3s's `datastore-endpoint`: `postgres://<user>:<password>@<writer address>:<port>/<database>`, with
 * `?sslmode=verify-full` when `postgres.tls` is on (K3s verifies the server against its `datastore-cafile`, the
 * datastore CA, and the writer address against the certificate's names). Without TLS there is no `sslmode`, and
 * K3s's kine then connects with `sslmode=disable`: the datastore traffic is plain text.
 *
 * @param password a Terraform reference to a letters-and-digits password (no URL escaping needed), never a literal
 */
export function postgresDatastoreEndpoint(plan: SitePlan, password: string): string {
  const postgres = requirePostgres(plan);
  const writer = postgresWriterAddress(plan);
  return `postgres://${postgres.user}:${password}@${writer.address}:${writer.port}/${postgres.database}${postgres.tls ? '?sslmode=verify-full' : ''}`;
}
