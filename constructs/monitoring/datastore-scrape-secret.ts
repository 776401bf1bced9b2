import { stringify } from 'yaml';
import { DATASTORE_TLS_SECRET } from './scrape-configs';

/** The namespace of the in-cluster monitoring stack (the operator, Prometheus, its Secrets). */
export const MONITORING_NAMESPACE = 'monitoring';

/** The Secret's contents, base64 (Terraform expressions at synthesis: the values never appear in the stack). */
export interface DatastoreScrapeTlsValues {
  /** The datastore CA certificate, which signs Patroni's and etcd's certificates. */
  readonly caCertificateBase64: string;
  /** A client certificate of that CA for Prometheus (etcd asks for one). */
  readonly certificateBase64: string;
  readonly privateKeyBase64: string;
}

/**
 * The K3s auto-deploy manifest (a K3s server's `server/manifests/`) that creates the Secret the TLS datastore's
 * ScrapeConfigs read ({@link DATASTORE_TLS_SECRET}: `ca.crt`, `tls.crt`, `tls.key`), with its namespace.
 */
export function renderDatastoreScrapeSecretManifest(values: DatastoreScrapeTlsValues): string {
  const header = '# Rendered by proxmox-k3s-ha: the datastore CA and Prometheus\'s client certificate for scraping Patroni and etcd.\n';
  const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: MONITORING_NAMESPACE } };
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: DATASTORE_TLS_SECRET, namespace: MONITORING_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'proxmox-k3s-ha' } },
    type: 'Opaque',
    data: { 'ca.crt': values.caCertificateBase64, 'tls.crt': values.certificateBase64, 'tls.key': values.privateKeyBase64 },
  };
  return `${header}${stringify(namespace)}---\n${stringify(secret, { lineWidth: 0 })}`;
}
