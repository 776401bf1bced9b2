import { SitePlan } from '../site/plan';
import { CniKind, Distribution } from '../site/spec';
import type { SiteStackProps } from './site-stack';

/** The {@link SiteStackProps} that shape the whole stack, checked against the site and with their defaults applied. */
export interface SiteStackOptions {
  /** The hosts exist already: no Proxmox resource, no Proxmox provider. */
  readonly existingHosts: boolean;
  /** Hosts this stack does not configure. */
  readonly unmanagedHosts: ReadonlySet<string>;
  /** Secrets are sensitive Terraform variables rather than `random_password` resources. */
  readonly secretsFromVariables: boolean;
}

/** Throws on unmanaged hosts the site does not have, or on secrets from variables where generated keys are needed. */
export function resolveSiteStackOptions(site: SitePlan, props: Pick<SiteStackProps, 'existingHosts' | 'unmanagedHosts' | 'secrets'>): SiteStackOptions {
  const unmanagedHosts = new Set(props.unmanagedHosts ?? []);
  const unknown = [...unmanagedHosts].filter((name) => !site.hosts.some((host) => host.name === name));
  if (unknown.length > 0) {
    throw new Error(`site ${site.name}: SiteStackProps.unmanagedHosts: ${JSON.stringify(unknown)} — expected names of the site's hosts (${site.hosts.map((h) => h.name).join(', ')})`);
  }
  const secretsFromVariables = props.secrets === 'variables';
  if (secretsFromVariables && (site.postgres?.tls || site.controlPlane.distribution === Distribution.KUBEADM)) {
    throw new Error(`site ${site.name}: SiteStackProps.secrets: "variables" — covers load balancers, K3s and a PostgreSQL datastore without TLS; `
      + `${site.postgres?.tls ? 'the datastore\'s TLS' : 'kubeadm'} needs generated keys and certificates: use "generated"${site.postgres?.tls ? ' or postgres.tls: false' : ''}`);
  }
  return { existingHosts: props.existingHosts ?? false, unmanagedHosts, secretsFromVariables };
}

/** Throws when a K3s site with Cilium gets no server manifests (its servers would never get a pod network). */
export function requireServerManifests(site: SitePlan, serverManifests: SiteStackProps['serverManifests']): void {
  if (serverManifests === undefined && site.controlPlane.distribution === Distribution.K3S && site.cluster.cni === CniKind.CILIUM) {
    throw new Error(`site ${site.name}: SiteStackProps.serverManifests: undefined — expected the CNI's bootstrap manifest, k3sServerManifests(site) `
      + `(K3s runs with flannel-backend: none, so without it no pod gets a network), or [] when the CNI is installed some other way`);
  }
}
