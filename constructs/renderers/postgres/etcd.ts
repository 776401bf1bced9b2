import { SitePlan } from '../../site/plan';
import {
  ETCD_CLIENT_PORT, ETCD_DATA_DIR, ETCD_ENV_PATH, ETCD_INITIAL_STATE_ENV_PATH, ETCD_INITIAL_STATE_PATH, ETCD_PEER_PORT, ETCD_TLS_CA_PATH, ETCD_TLS_CERT_PATH, ETCD_TLS_KEY_PATH, renderedHeader, requireEtcdMember,
} from './paths';

/**
 * etcd's heartbeat and election timeout, in ms (the defaults for a LAN: a member that misses 10 heartbeats
 * starts an election). Patroni's own timing (seconds) sits well above them.
 */
export const ETCD_HEARTBEAT_MS = 100;
export const ETCD_ELECTION_TIMEOUT_MS = 1000;

/**
 * The settings of one etcd member of the datastore (a datastore node or the witness), as the `ETCD_*` variables
 * etcd reads, in {@link ETCD_ENV_PATH}. The members form one cluster named after the site; with `postgres.tls`
 * clients and peers need a certificate signed by the datastore CA (`client-cert-auth`, `peer-client-cert-auth`).
 * The member listens on its own address (peers, Patroni) and on loopback (etcdctl on the host).
 */
export function renderEtcdEnvironmentFile(plan: SitePlan, hostName: string): string {
  const { postgres, host } = requireEtcdMember(plan, hostName);
  const { tls } = postgres;
  const lines = [
    renderedHeader(plan, hostName),
    `ETCD_NAME=${hostName}`,
    `ETCD_DATA_DIR=${ETCD_DATA_DIR}`,
    `ETCD_LISTEN_PEER_URLS=${etcdPeerUrl(tls, host.ip)}`,
    `ETCD_LISTEN_CLIENT_URLS=${etcdClientUrl(tls, host.ip)},${etcdClientUrl(tls, '127.0.0.1')}`,
    `ETCD_ADVERTISE_CLIENT_URLS=${etcdClientUrl(tls, host.ip)}`,
    `ETCD_INITIAL_ADVERTISE_PEER_URLS=${etcdPeerUrl(tls, host.ip)}`,
    `ETCD_INITIAL_CLUSTER=${postgres.etcdMembers.map((m) => `${m.name}=${etcdPeerUrl(tls, m.ip)}`).join(',')}`,
    // Only read when the data directory is empty; the unit's ExecStartPre overrides it with `existing` for a rebuilt
    // member added to the running cluster again (etcd-initial-state.sh, constructs/tf/lifecycle/datastore-rejoin.ts).
    'ETCD_INITIAL_CLUSTER_STATE=new',
    `ETCD_INITIAL_CLUSTER_TOKEN=${plan.name}-k3s-datastore`,
    `ETCD_HEARTBEAT_INTERVAL=${ETCD_HEARTBEAT_MS}`,
    `ETCD_ELECTION_TIMEOUT=${ETCD_ELECTION_TIMEOUT_MS}`,
    // A member back from a partition asks before it campaigns, so it does not force an election with the term it
    // raised while alone (which would stall the datastore's etcd just as the old primary rejoins).
    'ETCD_PRE_VOTE=true',
    // Patroni keeps a few keys; compaction keeps the revision history (and the database) small.
    'ETCD_AUTO_COMPACTION_MODE=periodic',
    'ETCD_AUTO_COMPACTION_RETENTION=1h',
    'ETCD_ENABLE_V2=false',
  ];
  if (postgres.tls) {
    lines.push(
      `ETCD_CERT_FILE=${ETCD_TLS_CERT_PATH}`,
      `ETCD_KEY_FILE=${ETCD_TLS_KEY_PATH}`,
      `ETCD_TRUSTED_CA_FILE=${ETCD_TLS_CA_PATH}`,
      'ETCD_CLIENT_CERT_AUTH=true',
      `ETCD_PEER_CERT_FILE=${ETCD_TLS_CERT_PATH}`,
      `ETCD_PEER_KEY_FILE=${ETCD_TLS_KEY_PATH}`,
      `ETCD_PEER_TRUSTED_CA_FILE=${ETCD_TLS_CA_PATH}`,
      'ETCD_PEER_CLIENT_CERT_AUTH=true',
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A drop-in for Debian's `etcd.service`: our settings after the package's `/etc/default/etcd` (a later
 * `EnvironmentFile` wins), started once the network is online. `Type=exec`: the package's `notify` makes a start
 * wait until the member has joined a quorum, so on a first rollout, where the members come up one host after the
 * other, the first start would wait for hosts that are only configured after it. The gates check health instead.
 * Before each start, `etcd-initial-state.sh` asks the other members whether this one was added to their cluster
 * again (a rebuild): etcd reads its answer last. A member that fails to start (a rebuilt one that asked while the
 * cluster was still settling) is started again.
 */
export function renderEtcdServiceDropIn(plan: SitePlan, hostName: string): string {
  const { postgres, host } = requireEtcdMember(plan, hostName);
  const others = postgres.etcdMembers.filter((m) => m.name !== hostName).map((m) => etcdClientUrl(postgres.tls, m.ip)).join(',');
  const tls = etcdctlTlsOptions(plan, hostName);
  return [
    '# Rendered by proxmox-k3s-ha; do not edit by hand.',
    '[Unit]',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=exec',
    `EnvironmentFile=${ETCD_ENV_PATH}`,
    `ExecStartPre=${ETCD_INITIAL_STATE_PATH} ${ETCD_INITIAL_STATE_ENV_PATH} ${etcdPeerUrl(postgres.tls, host.ip)} ${others}${tls ? ` ${tls}` : ''}`,
    `EnvironmentFile=-${ETCD_INITIAL_STATE_ENV_PATH}`,
    'Restart=on-failure',
    'RestartSec=5s',
    '',
  ].join('\n');
}

/** `etcdctl` on a member with the member's certificate (ETCDCTL_API=3 is etcdctl 3.4's default). */
export function etcdctlCommand(plan: SitePlan, hostName: string): string {
  const { postgres } = requireEtcdMember(plan, hostName);
  const tls = etcdctlTlsOptions(plan, hostName);
  return `etcdctl --endpoints ${etcdClientUrl(postgres.tls, '127.0.0.1')}${tls ? ` ${tls}` : ''}`;
}

/** etcdctl's certificate options on a member (empty without TLS). */
export function etcdctlTlsOptions(plan: SitePlan, hostName: string): string {
  return requireEtcdMember(plan, hostName).postgres.tls ? `--cacert ${ETCD_TLS_CA_PATH} --cert ${ETCD_TLS_CERT_PATH} --key ${ETCD_TLS_KEY_PATH}` : '';
}

/** A member's client URL at `ip`. */
export function etcdClientUrl(tls: boolean, ip: string): string {
  return `${tls ? 'https' : 'http'}://${ip}:${ETCD_CLIENT_PORT}`;
}

/** A member's peer URL at `ip`. */
export function etcdPeerUrl(tls: boolean, ip: string): string {
  return `${tls ? 'https' : 'http'}://${ip}:${ETCD_PEER_PORT}`;
}
