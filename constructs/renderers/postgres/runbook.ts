import { SitePlan } from '../../site/plan';
import { etcdctlCommand } from './etcd';
import {
  ETCD_PEER_PORT, HAPROXY_WRITER_STATE_SCRIPT_PATH, K3S_DATASTORE_CA_PATH, PATRONI_API_PORT, PATRONI_CONFIG_PATH, PATRONI_ENV_PATH, PATRONI_SCOPE, PATRONICTL_PATH,
  POSTGRES_TLS_CA_PATH, postgresPaths, requirePostgres,
} from './paths';
import { postgresWriterAddress } from './writer-endpoint';

/** What the etcd witness is needed for and when (nothing without a witness: an odd number of datastore nodes). */
function witnessSection(plan: SitePlan): string {
  const postgres = requirePostgres(plan);
  const quorum = Math.floor(postgres.etcdMembers.length / 2) + 1;
  if (!postgres.witness) {
    return '';
  }
  return `
## The etcd witness (${postgres.witness.name})

${postgres.witness.name} runs an etcd member and nothing else of the datastore. Any ${quorum} of the ${postgres.etcdMembers.length} members make a quorum:
- **First start:** not needed. The datastore starts as soon as any ${quorum} members are up, whichever is missing, so a
  witness host that comes later (a K3s server whose first steps run before its etcd) does not hold up the first
  bootstrap. Until every member has been up once, etcd reports cluster version 3.0; Patroni copes (see above).
- **Failover:** needed. With the witness down the datastore keeps working, but a datastore node failing as well
  leaves 1 of ${postgres.etcdMembers.length} members: no quorum, the primary demotes itself (see "etcd lost its quorum"). Bring the witness
  back before maintenance of a datastore node (\`systemctl status etcd\` on ${postgres.witness.name}).
`;
}

/**
 * The operator's runbook for the datastore, installed on every datastore node: what Patroni does by itself, and
 * the commands for what a human decides (switchover for maintenance, reinit of a broken node, quorum loss,
 * backup and restore of the K3s database).
 */
export function renderPostgresRunbook(plan: SitePlan): string {
  const postgres = requirePostgres(plan);
  const writer = postgresWriterAddress(plan);
  const paths = postgresPaths(plan);
  const sync = postgres.synchronousCommit && postgres.nodes.length > 1;
  const ctl = `patronictl -c ${PATRONI_CONFIG_PATH}`;
  const members = postgres.etcdMembers.map((m) => `${m.name} (${m.ip})${postgres.witness?.name === m.name ? ', the witness' : ''}`).join(', ');
  const first = postgres.nodes[0].name;
  const { ttlSeconds, loopWaitSeconds, retryTimeoutSeconds } = postgres.failover;
  const scheme = postgres.tls ? 'https' : 'http';
  const curlCa = postgres.tls ? ` --cacert ${POSTGRES_TLS_CA_PATH}` : '';
  return `# K3s datastore runbook (site ${plan.name})

PostgreSQL ${postgres.version} managed by Patroni on ${postgres.nodes.map((n) => `${n.name} (${n.ip})`).join(', ')}; database
\`${postgres.database}\`, user \`${postgres.user}\`, port ${postgres.port}. Patroni keeps the leader key in etcd, on ${members}.
K3s reaches the primary at ${writer.address}:${writer.port}${plan.loadBalancer ? ` (the writer endpoint: HAProxy on ${plan.loadBalancer.nodes.map((n) => n.name).join(', ')}, which
asks every node's Patroni \`GET /primary\` on port ${PATRONI_API_PORT})` : ''}.
${postgres.tls ? `PostgreSQL, Patroni's REST API and etcd use TLS with the datastore CA (${POSTGRES_TLS_CA_PATH} here,
${K3S_DATASTORE_CA_PATH} on the K3s servers); etcd accepts only clients with a certificate it signed.` : 'TLS is off (`postgres.tls: false`): datastore, REST API and etcd traffic crosses the network in plain text.'}
Run the commands below as root on a datastore node. \`patronictl\` (${PATRONICTL_PATH}, Debian's patronictl on etcd's v3 API
whatever the etcd cluster version) reads etcd itself, and loads the REST API's credentials from ${PATRONI_ENV_PATH}
(root's alone), which commands that change the cluster through the REST API need.
${witnessSection(plan)}
## What is automatic

- **Failover.** When the primary's host, PostgreSQL or Patroni fails, its leader key expires within ${ttlSeconds} s
  (\`ttl\`; Patroni runs every ${loopWaitSeconds} s and retries etcd for ${retryTimeoutSeconds} s before a primary demotes itself), a
  replica${sync ? ' that is the synchronous standby' : ''} takes it and is promoted, and the writer endpoint follows within 2 s. A PostgreSQL crash on the
  ${sync ? 'primary fails over at once (`primary_start_timeout: 0`).' : 'primary is restarted in place, and fails over only after 5 minutes (`primary_start_timeout: 300`).'}
- ${sync ? `**No acknowledged write is lost.** \`synchronous_mode\`: a commit returns only once the synchronous standby has it, and
  only that standby may be promoted.${postgres.synchronousModeStrict ? ' `synchronous_mode_strict`: with no replica left, commits wait (K3s stalls) rather than be acknowledged by one node.' : ` With every replica down, Patroni drops the synchronous standby and the primary goes on alone
  (K3s keeps working; a failover in that window would lose those writes, and none is possible without a replica).`}` : '**Replication is asynchronous**: a failover may lose the last commits the replica had not received.'}
- **The old primary comes back as a replica**, rewound with \`pg_rewind\` when its timeline diverged.
- **No split brain.** A primary that cannot renew its key in etcd (its host is cut off, or etcd lost its quorum)
  demotes itself to read-only: K3s writes fail until a quorum is back, then resume by themselves.${plan.loadBalancer ? `
- **The writer endpoint never sends a connection to a replica**, also when HAProxy starts, reloads or restarts: every
  start begins with all datastore nodes out of rotation until their first check (writes arriving in that first
  second fail), and a reload (\`systemctl reload haproxy\`) hands the running worker's view to the new one
  (${HAPROXY_WRITER_STATE_SCRIPT_PATH}, run by a drop-in of \`haproxy.service\`).` : ''}

## Look

- \`${ctl} list\`: members, roles, timelines, lag.
- \`curl -s${curlCa} ${scheme}://<node>:${PATRONI_API_PORT}/patroni\`: one node's state; \`/primary\` answers 200 only on the primary.
- \`${etcdctlCommand(plan, first)} endpoint health --cluster\` (on ${first}; the same on every member).

## Planned switchover (maintenance of the primary's host)

\`${ctl} switchover ${PATRONI_SCOPE} --primary <current primary> --candidate <replica> --force\`
(\`--scheduled <ISO time>\` for later). The writer endpoint follows within seconds; K3s reconnects by itself.
Then update or reboot the old primary; it rejoins as a replica. To pause automatic failover (e.g. while both
datastore hosts are worked on): \`${ctl} pause --wait\`, and \`${ctl} resume --wait\` afterwards.
Do not restart Patroni itself (\`systemctl restart patroni\`) on the primary while paused: Patroni 3.0 then rewrites
postgresql.conf without \`synchronous_standby_names\` and never sets it again while \`patronictl list\` still shows a
Sync Standby, so commits stop waiting for the standby. Switch over first; a rotation of Patroni's passwords does.

## Reinit a broken node

A replica that cannot stream any more (its WAL was recycled past \`max_slot_wal_keep_size\`, or its disk was
damaged) is re-cloned from the primary: \`${ctl} reinit ${PATRONI_SCOPE} <node> --force\`.

## etcd lost its quorum

With ${Math.floor(postgres.etcdMembers.length / 2) + 1} of ${postgres.etcdMembers.length} members down, Patroni cannot renew the leader key: the primary demotes itself to
read-only after ${ttlSeconds} s and the writer endpoint has no primary, so K3s writes fail (its API server keeps serving reads
from its cache). Bring the members' hosts back (\`systemctl status etcd\` on each); when a quorum is back, Patroni
elects a primary again without help. A member whose data is lost for good is replaced with
\`etcdctl member remove <id>\` and \`etcdctl member add <name> --peer-urls=...\` on a healthy member, then starting it with
\`ETCD_INITIAL_CLUSTER_STATE=existing\` and an empty data directory.

## Change the etcd members (a host of the datastore moves)

etcd keeps the members it was created with: \`ETCD_INITIAL_CLUSTER\` only matters to an empty data directory, so
a new member host in the site does not join by itself. One member at a time, on a healthy member:
\`etcdctl member add <new host> --peer-urls=${scheme}://<its address>:${ETCD_PEER_PORT}\` (with the certificate options of the
command above), then converge the new host with \`ETCD_INITIAL_CLUSTER_STATE=existing\` in its etcd.env, then
\`etcdctl member remove <id of the old one>\`. A new datastore node then clones itself from the primary.

## Backup and restore of the K3s database

- Backup (any node, a replica spares the primary): \`runuser -u postgres -- pg_dump -Fc -h ${paths.socketDir} -d ${postgres.database} -f /var/backups/${postgres.database}-$(date +%F).dump\`.
  K3s's own \`k3s etcd-snapshot\` does not apply to an external datastore; this dump is the cluster state.
- Restore: stop K3s on every server (\`systemctl stop k3s\`), then on the primary
  \`runuser -u postgres -- pg_restore --clean --if-exists -h ${paths.socketDir} -d ${postgres.database} <file>\`, and start K3s again.
  The replicas receive the restore through replication.

## Move a datastore to Patroni

A datastore set up by an earlier version of this project (Debian's cluster at ${paths.debianConfigDir}) is not dropped:
the first converge stops with a message. Dump it (above), drop it (\`pg_dropcluster --stop ${postgres.version} main\`) on
every datastore node, run the converge again, and restore the dump into the new primary.
`;
}
