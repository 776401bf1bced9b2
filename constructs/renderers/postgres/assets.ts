import { readFileSync } from 'fs';
import { join } from 'path';

/** The datastore's scripts, shipped as files in the package (checked by shellcheck, or Python's compiler, as they are). */
export enum PostgresAsset {
  /** Drops Debian's fresh cluster before Patroni's first start (`postgres-prepare.sh VERSION`). */
  PREPARE = 'postgres-prepare.sh',
  /** Patroni's `post_bootstrap`: creates the K3s user and database. */
  POST_BOOTSTRAP = 'patroni-post-bootstrap.sh',
  /** `/usr/local/bin/patronictl`: patronictl on etcd's v3 API with the REST API credentials (switchover, restart). */
  PATRONICTL = 'patronictl.sh',
  /** Rotates Patroni's own passwords: the roles on the primary first, then Patroni restarted paused (PostgreSQL runs on). */
  ROTATE_PASSWORDS = 'patroni-rotate-passwords.sh',
  /** Prints the SCRAM-SHA-256 verifier of a password, for `ALTER ROLE` without the password itself (Python). */
  SCRAM_VERIFIER = 'postgres-scram-verifier.py',
  /** Sets the K3s user's password on the primary to the one in Patroni's environment file (a rotation). */
  SYNC_K3S_PASSWORD = 'postgres-sync-k3s-password.sh',
  /** Patroni's ExecStartPre: waits until the local etcd member is healthy (a leader, a quorum answers). */
  ETCD_WAIT_READY = 'etcd-wait-ready.sh',
  /** etcd's ExecStartPre: `existing` for a rebuilt member added to the running cluster again, else `new`. */
  ETCD_INITIAL_STATE = 'etcd-initial-state.sh',
  /** Runs `patroni` or `patronictl` on etcd's v3 API whatever the cluster version (Python). */
  PATRONI_ETCD_V3 = 'patroni-etcd-v3.py',
  /** Prepares the state the writer endpoint's servers start in, for `haproxy.service` (`down`, `save`, `settle`). */
  HAPROXY_WRITER_STATE = 'haproxy-writer-state.sh',
}

/** The directory of the asset files, beside this module (the build copies them next to the compiled code). */
export const POSTGRES_ASSET_DIR = join(__dirname, 'assets');

/** The text of a shipped script. */
export function postgresAsset(asset: PostgresAsset): string {
  return readFileSync(join(POSTGRES_ASSET_DIR, asset), 'utf8');
}
