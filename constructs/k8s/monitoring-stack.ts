import { ApiObject } from 'cdk8s';
import { MONITORING_NAMESPACE } from '../monitoring/datastore-scrape-secret';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { prometheusRuleGroups } from '../monitoring/alert-rules';
import { renderAlertmanagerConfig, receiverSecretNames } from '../monitoring/alertmanager-config';
import { renderDashboard } from '../monitoring/dashboard';
import { SCRAPE_INTERVAL_SECONDS, ScrapeJob, SecretKeyRef, siteScrapeJobs } from '../monitoring/scrape-configs';
import { SitePlan } from '../site/plan';
import { CniKind, Distribution } from '../site/spec';
import { CILIUM_METRICS_SERVICE_LABEL } from './cilium-cni';
import { HelmChart } from './imports/helm.cattle.io';
import { NGINX_INGRESS_METRICS_SERVICE_LABEL } from './nginx-ingress-daemon-set';

/** kube-prometheus-stack release this library pins (chart from https://prometheus-community.github.io/helm-charts). */
export const KUBE_PROMETHEUS_STACK_CHART_VERSION = '88.5.3';
/** Namespace of Prometheus, Alertmanager, Grafana, the rules and the scrape configs. */
export { MONITORING_NAMESPACE };
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'proxmox-k3s-ha' };

/**
 * kube-prometheus-stack's values for a site (the HelmChart's `valuesContent`). Only what differs from the chart:
 * - the hosts run node_exporter themselves on 9100 (scraped as job `node`), so the chart's DaemonSet, which would
 *   take the same host port on the Kubernetes nodes, is off;
 * - etcd, the controller manager, the scheduler and kube-proxy listen on loopback on K3s and kubeadm nodes alike: the
 *   chart's scrapes of them and their rules would only report them down; etcd gets the site's own rules instead;
 * - Prometheus selects every PrometheusRule and ScrapeConfig of its namespace, not only the release's;
 * - Alertmanager sends to the site's receiver and mounts the receiver's Secrets; the chart's Watchdog is replaced by
 *   the site's (with its `site` label).
 */
export function renderKubePrometheusStackValues(site: SitePlan): string {
  return stringify({
    defaultRules: {
      rules: { etcd: false, kubeControllerManager: false, kubeSchedulerAlerting: false, kubeSchedulerRecording: false, kubeProxy: false },
      disabled: { Watchdog: true },
    },
    nodeExporter: { enabled: false },
    kubeEtcd: { enabled: false },
    kubeControllerManager: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeProxy: { enabled: false },
    alertmanager: {
      config: renderAlertmanagerConfig(site),
      alertmanagerSpec: { secrets: receiverSecretNames(site.monitoring.receiver) },
    },
    prometheus: {
      prometheusSpec: {
        ruleSelectorNilUsesHelmValues: false,
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        scrapeConfigSelectorNilUsesHelmValues: false,
      },
    },
  }, { lineWidth: 0 });
}

const secretSelector = (ref: SecretKeyRef) => ({ secret: { name: ref.name, key: ref.key } });

/** A ScrapeConfig's `spec` (monitoring.coreos.com/v1alpha1) for one job: static targets, each with its host's name as `instance`. */
export function scrapeConfigSpec(job: ScrapeJob): Record<string, unknown> {
  return {
    jobName: job.job,
    scheme: job.scheme,
    metricsPath: job.path,
    scrapeInterval: `${SCRAPE_INTERVAL_SECONDS}s`,
    staticConfigs: job.targets.map((target) => ({ targets: [target.address], labels: { instance: target.instance } })),
    ...(job.tls ? {
      tlsConfig: {
        ca: secretSelector(job.tls.ca),
        ...(job.tls.client ? { cert: secretSelector(job.tls.client.cert), keySecret: { name: job.tls.client.key.name, key: job.tls.client.key.key } } : {}),
      },
    } : {}),
  };
}

/**
 * The ServiceMonitors of the in-cluster exporters: the NGINX ingress controllers' metrics Service
 * (k8s/nginx-ingress-daemon-set.ts) and, on Cilium sites, the agents', the operator's and Hubble's metrics Services
 * (k8s/cilium-cni.ts), each selected by the label its construct sets; `node` is the pod's node.
 */
export function inClusterServiceMonitorSpecs(site: SitePlan): { name: string; spec: Record<string, unknown> }[] {
  const endpoint = (port: string) => ({
    port,
    interval: `${SCRAPE_INTERVAL_SECONDS}s`,
    relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node', action: 'replace' }],
  });
  const monitors: { name: string; spec: Record<string, unknown> }[] = [{
    name: 'nginx-ingress',
    spec: { selector: { matchLabels: { [NGINX_INGRESS_METRICS_SERVICE_LABEL]: 'controller' } }, namespaceSelector: { any: true }, endpoints: [endpoint('prometheus')] },
  }];
  if (site.cluster.cni === CniKind.CILIUM) {
    // The site's Cilium runs Hubble (ciliumCniPropsForSite leaves CiliumCni's default, on).
    for (const component of ['agent', 'operator', 'hubble']) {
      monitors.push({
        name: `cilium-${component}`,
        spec: { selector: { matchLabels: { [CILIUM_METRICS_SERVICE_LABEL]: component } }, namespaceSelector: { matchNames: ['kube-system'] }, endpoints: [endpoint('metrics')] },
      });
    }
  }
  return monitors;
}

/** Properties of a {@link MonitoringStack}. */
export interface MonitoringStackProps {
  /** The validated site. */
  readonly site: SitePlan;
  /**
   * Helm repository the K3s helm-controller installs the chart from (a mirror, for air-gapped sites).
   *
   * @default 'https://prometheus-community.github.io/helm-charts'
   */
  readonly chartRepository?: string;
}

/**
 * The site's monitoring: kube-prometheus-stack through a K3s `HelmChart` (pinned, chart 88.5.3), the alert rules
 * generated from the plan as a `PrometheusRule`, one `ScrapeConfig` per exporter kind with the site's hosts as
 * static targets (from the same endpoint list the hosts open), and a Grafana dashboard of the site's redundancy.
 *
 * kubeadm sites have no helm-controller: they get the rules and scrape configs, and the operator installs the chart
 * with `helm install --version 88.5.3 -n monitoring -f <valuesContent>`. The PrometheusRule and ScrapeConfig CRDs come
 * with the chart, so an apply before it is installed fails on them until it is; GitOps tools retry.
 *
 * Secrets (receiver URL, SMTP password, ntfy token, the datastore scrape TLS) are Secret references: the operator
 * creates the Secrets in `monitoring`; nothing secret is written into the manifests.
 */
export class MonitoringStack extends Construct {
  /** The HelmChart K3s installs kube-prometheus-stack from (K3s sites only). */
  public readonly helmChart?: HelmChart;
  /** The rendered chart values. */
  public readonly valuesContent: string;
  /** The site's alert rules. */
  public readonly prometheusRule: ApiObject;
  /** One per exporter kind, in job order. */
  public readonly scrapeConfigs: readonly ApiObject[];
  /** The site's Grafana dashboard, a ConfigMap Grafana's sidecar loads (label `grafana_dashboard: "1"`). */
  public readonly dashboard: ApiObject;
  /** The in-cluster exporters' ServiceMonitors (NGINX ingress; Cilium and Hubble on Cilium sites). */
  public readonly serviceMonitors: readonly ApiObject[];

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id);
    const site = props.site;
    this.valuesContent = renderKubePrometheusStackValues(site);

    new ApiObject(this, 'Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: MONITORING_NAMESPACE, labels: MANAGED_BY } });
    if (site.controlPlane.distribution === Distribution.K3S) {
      this.helmChart = new HelmChart(this, 'Resource', {
        metadata: { name: 'kube-prometheus-stack', namespace: 'kube-system' },
        spec: {
          chart: 'kube-prometheus-stack',
          repo: props.chartRepository ?? 'https://prometheus-community.github.io/helm-charts',
          version: KUBE_PROMETHEUS_STACK_CHART_VERSION,
          targetNamespace: MONITORING_NAMESPACE,
          valuesContent: this.valuesContent,
        },
      });
    }
    this.prometheusRule = new ApiObject(this, 'Rules', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: `${site.name}-alerts`, namespace: MONITORING_NAMESPACE, labels: MANAGED_BY },
      spec: { groups: prometheusRuleGroups(site) },
    });
    this.scrapeConfigs = siteScrapeJobs(site).map((job) => new ApiObject(this, `Scrape-${job.job}`, {
      apiVersion: 'monitoring.coreos.com/v1alpha1',
      kind: 'ScrapeConfig',
      metadata: { name: `${site.name}-${job.job}`, namespace: MONITORING_NAMESPACE, labels: MANAGED_BY },
      spec: scrapeConfigSpec(job),
    }));
    this.serviceMonitors = inClusterServiceMonitorSpecs(site).map(({ name, spec }) => new ApiObject(this, `ServiceMonitor-${name}`, {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: `${site.name}-${name}`, namespace: MONITORING_NAMESPACE, labels: MANAGED_BY },
      spec,
    }));
    this.dashboard = new ApiObject(this, 'Dashboard', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${site.name}-dashboard`, namespace: MONITORING_NAMESPACE, labels: { ...MANAGED_BY, grafana_dashboard: '1' } },
      data: { [`${site.name}-redundancy.json`]: JSON.stringify(renderDashboard(site), null, 1) },
    });
  }
}
