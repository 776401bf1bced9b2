// The published library's root: its semver surface. The site model, the constructs with their props, the
// CloudConfig builder, and the documented escape hatches (the generated bpg/proxmox bindings, IK3sDatastore).
// Everything else (renderers, roles, file paths on the hosts, helpers) is on subpaths — proxmox-k3s-ha/site, /core,
// /cloud-init, /roles, /renderers, /tf, /k8s — usable, but free to change between minor versions.
// Module boundaries: core/site/cloud-init/roles/renderers are framework-free; tf/ uses cdktf only; k8s/ cdk8s only.

// The site model.
export * from './site';
export { Problem, ValidationError } from './core/problems';
// The entry helper that prints input mistakes (validation, unsafe changes) as one clean list.
export { runApp } from './core/run-app';
export { UnsafeChangeError } from './core/unsafe-changes';

// The per-host configuration builder roles add to.
export {
  AptSource, CloudConfig, CloudConfigConflictError, CloudConfigProps, CloudFile, CloudUser, EtcHostsEntry, FileEncoding, PortClaim, Protocol,
} from './cloud-init/cloud-config';
export { CloudGate, CloudService, ServiceChange } from './cloud-init/service-step';

// Terraform CDK constructs.
export { SiteStack, SiteStackProps } from './tf/site-stack';
export { SiteHost } from './tf/site-hosts';
export { LocalStateBackendOptions, PgStateBackendOptions, S3StateBackendOptions, StateBackendOptions } from './tf/state-backend';
export { ProxmoxHostProps } from './tf/host-props';
export { ProxmoxVm, ProxmoxVmProps } from './tf/proxmox-vm';
export { ProxmoxLxc, ProxmoxLxcProps } from './tf/proxmox-lxc';
export { ConvergeConnection, HostConverge, HostConvergeProps } from './tf/lifecycle';
export { ProxmoxDownload, ProxmoxDownloadProps } from './tf/cloud-image';
export { HaLoadBalancerPair, HaLoadBalancerPairProps } from './tf/ha-load-balancer-pair';
export { EmbeddedEtcdDatastore, K3sAgents, K3sAgentsProps, K3sControlPlane, K3sControlPlaneProps, K3sHost } from './tf/k3s-control-plane';
export { DatastoreHost, PostgresDatastore, PostgresDatastoreProps } from './tf/postgres-datastore';
export { DnsZone, DnsZoneProps } from './tf/dns-zone';
export { KubeadmControlPlane, KubeadmControlPlaneProps, KubeadmHost, KubeadmWorkers, KubeadmWorkersProps } from './tf/kubeadm-control-plane';
export { IK3sDatastore } from './roles/k3s-datastore';
/** The generated bpg/proxmox L1 bindings (v0.111.1), for escape hatches and resources the library does not wrap. */
export { proxmox } from './tf';

// cdk8s constructs.
export { SiteChart, SiteChartProps } from './k8s/site-chart';
export { CiliumCni, CiliumCniProps, CiliumValuesOptions } from './k8s/cilium-cni';
export { K3sManifestFile, k3sServerManifests } from './k8s/cilium-bootstrap-manifest';
export { NginxIngressDaemonSet, NginxIngressDaemonSetProps } from './k8s/nginx-ingress-daemon-set';
export { SelfSignedCaIssuer, SelfSignedCaIssuerProps } from './k8s/self-signed-ca-issuer';
export { TlsCertificateSource, TlsDemoApp, TlsDemoAppProps } from './k8s/tls-demo-app';
export { GitOpsFolder, GitOpsFolderOptions, synthGitOpsFolders, writeGitOpsFolder } from './k8s/gitops-folder';
export { MonitoringStack, MonitoringStackProps } from './k8s/monitoring-stack';
