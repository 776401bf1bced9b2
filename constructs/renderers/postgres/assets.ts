import { readFileSync } from 'fs';
import { join } from 'path';

/** The datastore's shell scripts, shipped as files in the package (and checked by shellcheck as they are). */
export enum PostgresAsset {
  /** Drops Debian's fresh cluster before Patroni's first start (`postgres-prepare.sh VERSION`). */
  PREPARE = 'postgres-prepare.sh',
  /** Patroni's `post_bootstrap`: creates the K3s user and database. */
  POST_BOOTSTRAP = 'patroni-post-bootstrap.sh',
  /** Patroni's ExecStartPre: waits until the local etcd member serves a cluster at version 3.4 or later. */
  ETCD_WAIT_READY = 'etcd-wait-ready.sh',
}

/** The directory of the asset files, beside this module (the build copies them next to the compiled code). */
export const POSTGRES_ASSET_DIR = join(__dirname, 'assets');

/** The text of a shipped script. */
export function postgresAsset(asset: PostgresAsset): string {
  return readFileSync(join(POSTGRES_ASSET_DIR, asset), 'utf8');
}
