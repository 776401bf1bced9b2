import { SitePlan, controlPlaneHosts, workerHosts } from '../site/plan';
import { DatastoreKind, Distribution } from '../site/spec';
import { MetricsJob, metricsEndpoints } from './metrics-endpoints';

/**
 * The site's Grafana dashboard: one row per part of the site (load balancers, etcd, Patroni, Bind9, nodes), each panel
 * the quantity an alert rule watches, with the plan's expected count as its threshold line. Only the rows that apply
 * to the site. Pure: plan → dashboard JSON (Grafana's sidecar loads it from a labelled ConfigMap).
 */

/** kube-prometheus-stack's Prometheus data source (values.yaml `grafana.sidecar.datasources.uid`). */
export const GRAFANA_DATASOURCE_UID = 'prometheus';

/** One panel: a PromQL query over time, optionally with the value it should stay at (or above). */
export interface DashboardPanel {
  readonly title: string;
  readonly expr: string;
  /** Legend per series, Grafana's `{{label}}` form. */
  readonly legend: string;
  /** The count the plan expects; drawn as a red threshold below it. */
  readonly expected?: number;
  readonly unit?: 'short' | 'bytes' | 's';
}

/** A titled group of panels. */
export interface DashboardRow {
  readonly title: string;
  readonly panels: readonly DashboardPanel[];
}

/** The rows of a site's dashboard, only for the parts the site has. */
export function dashboardRows(plan: SitePlan): DashboardRow[] {
  const hostsOf = (job: MetricsJob) => metricsEndpoints(plan).filter((endpoint) => endpoint.job === job).length;
  const rows: DashboardRow[] = [];
  if (plan.loadBalancer) {
    const servers = controlPlaneHosts(plan).filter((host) => !host.decommission).length;
    rows.push({
      title: 'Load balancers',
      panels: [
        { title: `HAProxy up (of ${hostsOf(MetricsJob.HAPROXY)})`, expr: `count(up{job="${MetricsJob.HAPROXY}"} == 1)`, legend: 'up', expected: hostsOf(MetricsJob.HAPROXY) },
        ...(plan.apiEndpoint.floating ? [{ title: `VIP ${plan.apiEndpoint.address} holders (1 expected)`, expr: `sum(keepalived_vrrp_state{job="${MetricsJob.NODE}"})`, legend: 'holders', expected: 1 }] : []),
        { title: `Servers in rotation (of ${servers})`, expr: `haproxy_backend_active_servers{job="${MetricsJob.HAPROXY}"}`, legend: '{{instance}} {{proxy}}', expected: servers },
      ],
    });
  }
  for (const [job, title] of [[MetricsJob.CLUSTER_ETCD, 'Cluster etcd'], [MetricsJob.DATASTORE_ETCD, 'Datastore etcd']] as const) {
    const members = hostsOf(job);
    if (members > 0) {
      const snapshots = job === MetricsJob.CLUSTER_ETCD && plan.controlPlane.distribution === Distribution.K3S && plan.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD
        ? [{ title: 'Age of the newest etcd snapshot', expr: `time() - k3s_etcd_snapshot_last_timestamp_seconds{job="${MetricsJob.NODE}"}`, legend: '{{instance}}', unit: 's' as const }]
        : [];
      rows.push({ title, panels: [{ title: `Members with a leader (of ${members})`, expr: `sum(etcd_server_has_leader{job="${job}"})`, legend: 'members', expected: members }, ...snapshots] });
    }
  }
  if (plan.postgres) {
    const patroni = `job="${MetricsJob.PATRONI}"`;
    rows.push({
      title: 'PostgreSQL (Patroni)',
      panels: [
        { title: 'Primary (1 expected)', expr: `sum(patroni_primary{${patroni}})`, legend: 'primaries', expected: 1 },
        { title: `Running (of ${hostsOf(MetricsJob.PATRONI)})`, expr: `sum(patroni_postgres_running{${patroni}})`, legend: 'running', expected: hostsOf(MetricsJob.PATRONI) },
        ...(plan.postgres.synchronousCommit ? [{ title: 'Sync standbys (1 expected)', expr: `sum(patroni_sync_standby{${patroni}})`, legend: 'sync standbys', expected: 1 }] : []),
        { title: 'Replay lag', expr: `(scalar(max(patroni_xlog_location{${patroni}})) - patroni_xlog_replayed_location{${patroni}}) and on(instance) patroni_replica{${patroni}} == 1`, legend: '{{instance}}', unit: 'bytes' as const },
        { title: 'Timeline (rises on failover)', expr: `max(patroni_postgres_timeline{${patroni}})`, legend: 'timeline' },
      ],
    });
  }
  if (plan.dns) {
    rows.push({
      title: 'DNS (Bind9)',
      panels: [
        { title: `named up (of ${hostsOf(MetricsJob.BIND)})`, expr: `sum(bind_up{job="${MetricsJob.BIND}"})`, legend: 'up', expected: hostsOf(MetricsJob.BIND) },
        { title: 'Zone serials (equal on every server)', expr: `bind_zone_serial{job="${MetricsJob.BIND}"}`, legend: '{{instance}} {{zone_name}}' },
      ],
    });
  }
  const nodes = new Set([...controlPlaneHosts(plan), ...workerHosts(plan)].filter((host) => !host.decommission)).size;
  rows.push({
    title: 'Nodes',
    panels: [
      { title: `Kubernetes nodes Ready (of ${nodes})`, expr: 'sum(kube_node_status_condition{condition="Ready", status="true"})', legend: 'ready', expected: nodes },
      { title: 'Hosts answering (node_exporter)', expr: `sum(up{job="${MetricsJob.NODE}"})`, legend: 'up', expected: hostsOf(MetricsJob.NODE) },
      { title: 'Free disk space', expr: `node_filesystem_avail_bytes{job="${MetricsJob.NODE}", fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|fuse.lxcfs"}`, legend: '{{instance}} {{mountpoint}}', unit: 'bytes' },
    ],
  });
  return rows;
}

const PANEL_WIDTH = 8;
const PANEL_HEIGHT = 7;

/** Grafana dashboard JSON (schema 39) for the site. */
export function renderDashboard(plan: SitePlan): Record<string, unknown> {
  const datasource = { type: 'prometheus', uid: GRAFANA_DATASOURCE_UID };
  const panels: Record<string, unknown>[] = [];
  let y = 0;
  let id = 1;
  for (const row of dashboardRows(plan)) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] });
    y += 1;
    row.panels.forEach((panel, i) => {
      panels.push({
        id: id++,
        type: 'timeseries',
        title: panel.title,
        datasource,
        gridPos: { x: (i % 3) * PANEL_WIDTH, y: y + Math.floor(i / 3) * PANEL_HEIGHT, w: PANEL_WIDTH, h: PANEL_HEIGHT },
        targets: [{ refId: 'A', datasource, expr: panel.expr, legendFormat: panel.legend }],
        fieldConfig: {
          defaults: {
            unit: panel.unit ?? 'short',
            ...(panel.expected !== undefined ? {
              thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'green', value: panel.expected }] },
              custom: { thresholdsStyle: { mode: 'line+area' } },
            } : {}),
          },
          overrides: [],
        },
      });
    });
    y += Math.ceil(row.panels.length / 3) * PANEL_HEIGHT;
  }
  return {
    title: `Site ${plan.name}: redundancy`,
    uid: `pkh-${plan.name}`.slice(0, 40),
    tags: ['proxmox-k3s-ha', plan.name],
    schemaVersion: 39,
    editable: false,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    panels,
  };
}
