import { SitePlan } from '../../site/plan';
import { requireEtcdMember } from './paths';
import { postgresWriterAddress } from './writer-endpoint';

/** Subject alternative names of a datastore host's certificate. */
export interface PostgresCertificateNames {
  /** The host's FQDN, and the API endpoint's DNS name on datastore nodes when the writer endpoint is on load balancers. */
  readonly dnsNames: readonly string[];
  /** The host's address, and on datastore nodes the writer endpoint's address (the VIP). */
  readonly ipAddresses: readonly string[];
}

/**
 * The names the certificate of an etcd member (a datastore node or the witness) must be valid for. One
 * certificate per host serves PostgreSQL, Patroni's REST API and etcd (server and client: etcd members and Patroni
 * authenticate to etcd with it), and loopback for etcdctl on the host. K3s connects to the writer endpoint and HAProxy passes TLS through to the primary,
 * so with `sslmode=verify-full` a datastore node's certificate must also name the address K3s dials.
 */
export function postgresServerCertificateNames(plan: SitePlan, hostName: string): PostgresCertificateNames {
  const { postgres, host } = requireEtcdMember(plan, hostName);
  // Loopback too: etcdctl on the host (the gates, the runbook) dials the member at 127.0.0.1.
  if (!postgres.nodes.some((node) => node.name === hostName)) {
    return { dnsNames: [host.fqdn, 'localhost'], ipAddresses: [host.ip, '127.0.0.1'] };
  }
  const writer = postgresWriterAddress(plan);
  return {
    dnsNames: [...new Set([host.fqdn, ...(plan.loadBalancer ? [plan.apiEndpoint.dnsName] : []), 'localhost'])],
    ipAddresses: [...new Set([host.ip, writer.address, '127.0.0.1'])],
  };
}
