import { SitePlan } from '../../site/plan';
import { HostRole } from '../../site/spec';
import {
  HAPROXY_DATASTORE_CA_PATH, HAPROXY_WRITER_STATE_PATH, HAPROXY_WRITER_STATE_SCRIPT_PATH, PATRONI_API_PORT, POSTGRES_WRITER_BACKEND, POSTGRES_WRITER_BACKEND_ID, requirePostgres,
} from './paths';

function block(headerLine: string, lines: readonly string[]): string {
  return [headerLine, ...lines.map((line) => `    ${line}`)].join('\n');
}

/**
 * The HAProxy sections of the writer endpoint, appended to every load balancer's `haproxy.cfg`: a TCP frontend on
 * `postgres.writerPort` and a backend with every datastore node, checked with Patroni's `GET /primary` on its REST
 * API (over TLS, verified against the datastore CA and the node's name, with `postgres.tls`). Only the node that
 * holds the leader key answers 200, so only it receives connections; `on-marked-down shutdown-sessions` closes
 * K3s's connections to a node that stops being primary, so they reconnect to the new one.
 *
 * - No server starts UP: HAProxy 2.6/2.8 (no `init-state`, which came in 3.1) starts a checked server UP until its
 *   first check fails, and `balance first` would give a replica listed first the connections of about a second
 *   after every start or reload. The servers start from {@link HAPROXY_WRITER_STATE_PATH} instead (every server
 *   DOWN, or the running worker's state on a reload; see {@link renderHaproxyWriterDropIn}), under a fixed backend
 *   id that {@link renderWriterDownStateFile} names.
 * - A node is in rotation only while its PostgreSQL runs as primary, not merely while its Patroni holds the leader
 *   key: `/primary` answers 200 as soon as a node takes the key, while PostgreSQL is still being promoted (read-only
 *   for a few hundred milliseconds, seen in a switchover). The body's `role` (`master` up to Patroni 3, `primary`
 *   from 4) says what PostgreSQL runs as.
 * - That body rule comes first, so the check reads Patroni's whole answer (a rule that does not match waits for the
 *   rest) before the status rule judges it: a check that closed on the status line made Patroni's write of the body
 *   fail with an `SSLEOFError` traceback in its log, for most checks of a TLS REST API.
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
      `id ${POSTGRES_WRITER_BACKEND_ID}`,
      // If two nodes ever both answered 200, every connection would still go to one of them.
      'balance first',
      'load-server-state-from-file local',
      `server-state-file-name ${HAPROXY_WRITER_STATE_PATH}`,
      'option httpchk GET /primary',
      `http-check expect rstring '${PRIMARY_ROLE_PATTERN}'`,
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
 * The `role` of Patroni's REST API answer while PostgreSQL runs as primary, a regular expression in HAProxy's single
 * quotes (nothing escaped inside). Patroni's `get_postgresql_status` (patroni/api.py) answers
 * `'replica' if pg_is_in_recovery() else 'master'` up to 3.2 (Ubuntu 24.04's) and `'primary'` from 4.0, as JSON
 * written by Python (`"role": "master"`).
 */
export const PRIMARY_ROLE_PATTERN = '"role": *"(master|primary)"';

/** The columns of HAProxy's server state file, version 1 (`show servers state` prints the same header). */
const SERVER_STATE_HEADER = '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight '
  + 'srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state '
  + 'bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord';

/**
 * HAProxy's server state file (version 1) with every writer server DOWN (operational state 0, check health 0, not
 * checked yet, no administrative state): what the writer backend starts from, so a server is in rotation only once
 * its check passed. The backend is named by its name and fixed id; servers by name (HAProxy ignores their ids here); the
 * check and agent state 0 leave the checks as configured.
 */
export function renderWriterDownStateFile(plan: SitePlan): string {
  const postgres = requirePostgres(plan);
  const lines = postgres.nodes.map((node, index) => [
    POSTGRES_WRITER_BACKEND_ID, POSTGRES_WRITER_BACKEND, index + 1, node.name, node.ip,
    // op state, admin state, user and initial weight, seconds since the last change
    0, 0, 1, 1, 0,
    // check status 1 (HCHK_STATUS_INI, "initializing", include/haproxy/check-t.h: with 0, "unknown", HAProxy 2.6 never
    // completes the server's checks), check result and health, check and agent state, forced backend and server ids
    1, 0, 0, 0, 0, 1, 0,
    '-', postgres.port, '-',
  ].join(' '));
  return ['1', SERVER_STATE_HEADER, ...lines, ''].join('\n');
}

/**
 * A drop-in for Debian's and Ubuntu's `haproxy.service`: every start begins with the writer servers DOWN, and a
 * reload hands the running worker's server states to the new one (`haproxy-writer-state.sh save`, then `settle`
 * once the new worker serves, back to DOWN for the next start). The reload's other commands are the package's:
 * check the configuration, then `kill -USR2` the master.
 */
export function renderHaproxyWriterDropIn(): string {
  return [
    '# Rendered by proxmox-k3s-ha: the PostgreSQL writer endpoint\'s servers never start UP (a replica would get',
    `# connections until its first check); see ${HAPROXY_WRITER_STATE_SCRIPT_PATH}.`,
    '[Service]',
    `ExecStartPre=${HAPROXY_WRITER_STATE_SCRIPT_PATH} down`,
    'ExecReload=',
    'ExecReload=/usr/sbin/haproxy -Ws -f $CONFIG -c -q $EXTRAOPTS',
    `ExecReload=${HAPROXY_WRITER_STATE_SCRIPT_PATH} save`,
    'ExecReload=/bin/kill -USR2 $MAINPID',
    `ExecReload=${HAPROXY_WRITER_STATE_SCRIPT_PATH} settle`,
    '',
  ].join('\n');
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
