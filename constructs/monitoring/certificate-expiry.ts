import { KUBERNETES_PKI_DIR } from '../renderers/kubeadm';
import {
  ETCD_TLS_CA_PATH, ETCD_TLS_CERT_PATH, HAPROXY_DATASTORE_CA_PATH, K3S_DATASTORE_CA_PATH, POSTGRES_TLS_CA_PATH, POSTGRES_TLS_CERT_PATH,
} from '../renderers/postgres/paths';
import { HostPlan, SitePlan, hasRole } from '../site/plan';
import { DatastoreKind, Distribution, HostRole } from '../site/spec';

/** The textfile metric the certificate timer writes: the end of validity (`notAfter`) of each certificate, per path. */
export const CERTIFICATE_EXPIRY_METRIC = 'pkh_certificate_expiry_timestamp_seconds';
/** The alert fires when a certificate has less validity left than this. */
export const CERTIFICATE_EXPIRY_BOUND_DAYS = 30;

/** The kubeadm cluster CA (Terraform's `tls_self_signed_cert`, tf/kubeadm-control-plane.ts) on every control plane. */
export const KUBEADM_CA_PATH = `${KUBERNETES_PKI_DIR}/ca.crt`;

/**
 * The certificates the stack generates (hashicorp/tls, tf/postgres-datastore.ts and tf/kubeadm-control-plane.ts)
 * that sit on `host`, in a fixed order:
 * - with `postgres.tls`: on each datastore node PostgreSQL's and Patroni's CA and certificate, and on every etcd
 *   member (datastore nodes and the witness) etcd's CA and certificate (roles/datastore.ts); the datastore CA on the
 *   load balancers (HAProxy checks Patroni's REST API with it) and on the K3s servers (`datastore-cafile`);
 * - on kubeadm control planes the cluster CA.
 */
export function generatedCertificatePaths(plan: SitePlan, host: HostPlan): string[] {
  const paths: string[] = [];
  const postgres = plan.postgres;
  if (postgres?.tls) {
    if (postgres.nodes.some((node) => node.name === host.name)) {
      paths.push(POSTGRES_TLS_CA_PATH, POSTGRES_TLS_CERT_PATH);
    }
    if (postgres.etcdMembers.some((member) => member.name === host.name)) {
      paths.push(ETCD_TLS_CA_PATH, ETCD_TLS_CERT_PATH);
    }
    if (plan.loadBalancer && hasRole(host, HostRole.LOAD_BALANCER)) {
      paths.push(HAPROXY_DATASTORE_CA_PATH);
    }
    if (plan.controlPlane.datastore === DatastoreKind.POSTGRES && hasRole(host, HostRole.K3S_SERVER)) {
      paths.push(K3S_DATASTORE_CA_PATH);
    }
  }
  if (plan.controlPlane.distribution === Distribution.KUBEADM && hasRole(host, HostRole.CONTROL_PLANE)) {
    paths.push(KUBEADM_CA_PATH);
  }
  return [...new Set(paths)];
}

/** True when some host of the site holds a generated certificate (the site gets the expiry alert). */
export function siteHasGeneratedCertificates(plan: SitePlan): boolean {
  return plan.hosts.some((host) => !host.decommission && generatedCertificatePaths(plan, host).length > 0);
}
