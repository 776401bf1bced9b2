import { CloudFile } from '../cloud-init/cloud-config';
import { DatastoreKind } from '../site/spec';

/**
 * What a datastore gives every K3s server: non-secret `config.yaml` entries, environment variables for the k3s
 * service (written to a 0600 environment file, never onto the command line; values may be Terraform references),
 * files such as a CA certificate, and commands that prepare them.
 */
export interface K3sDatastoreBinding {
  /** Non-secret entries merged into the server's K3s `config.yaml`, e.g. `datastore-cafile`; empty for embedded etcd. */
  readonly serverConfig: Readonly<Record<string, string | boolean | number | readonly string[]>>;
  /**
   * Environment of the k3s service, e.g. `K3S_DATASTORE_ENDPOINT` with its password: a 0600 file, so secrets stay
   * out of `config.yaml` and the process list. Empty: no environment file is written.
   */
  readonly serverEnvironment: Readonly<Record<string, string>>;
  /** Files every server needs to reach the datastore, e.g. the datastore CA. */
  readonly serverFiles: readonly CloudFile[];
  /**
   * Commands each server runs before K3s is installed and started, e.g. decoding a base64 CA into the file
   * `serverConfig` names.
   *
   * @default []
   */
  readonly serverCommands?: readonly string[];
}

/** A K3s datastore: embedded etcd, or an external database such as {@link PostgresDatastore}. */
export interface IK3sDatastore {
  /** Which datastore this is; matches the site's `controlPlane.datastore`. */
  readonly kind: DatastoreKind;
  /** What the server named `serverName` (index `serverIndex` in site order) needs to use this datastore. */
  bind(serverName: string, serverIndex: number): K3sDatastoreBinding;
}
