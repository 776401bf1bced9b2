import { stringify } from 'yaml';
import { SitePlan } from '../site/plan';
import { MetricsEndpoint, MetricsJob, metricsEndpoints } from './metrics-endpoints';

/**
 * The site's out-of-cluster scrape jobs, from the one endpoint list (metricsEndpoints): the monitoring stack turns them
 * into `ScrapeConfig` objects, and {@link renderPrometheusScrapeConfig} into a plain `prometheus.yml` (promtool, labs,
 * a Prometheus outside the cluster). Pure.
 */

/** How often every out-of-cluster target is scraped: four samples within the shortest `for` (1m) of the alert rules. */
export const SCRAPE_INTERVAL_SECONDS = 15;

/** A key of a Kubernetes Secret in the monitoring namespace. */
export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
}

/**
 * The Secret in the namespace `monitoring` for the TLS datastore endpoints: the datastore CA (`ca.crt`) verifies
 * Patroni's and etcd's certificates, and a client certificate of that CA (`tls.crt`, `tls.key`) passes etcd's
 * client-certificate check. Both are Terraform's (constructs/tf/postgres-datastore.ts), delivered by a K3s
 * auto-deploy manifest on the servers (datastore-scrape-secret.ts).
 */
export const DATASTORE_TLS_SECRET = 'datastore-scrape-tls';

/** TLS settings of a job, as Secret references. */
export interface ScrapeTls {
  readonly ca: SecretKeyRef;
  /** Client certificate and key, for endpoints that ask for one (the datastore's etcd). */
  readonly client?: { readonly cert: SecretKeyRef; readonly key: SecretKeyRef };
}

/** One scrape job: every target of one exporter kind. */
export interface ScrapeJob {
  /** The `job` label (alert rules select on it). */
  readonly job: MetricsJob;
  readonly scheme: 'http' | 'https';
  readonly path: string;
  /** `ip:port` with the host's name as its `instance` label, in site order. */
  readonly targets: readonly { readonly address: string; readonly instance: string }[];
  readonly tls?: ScrapeTls;
}

function tlsFor(job: MetricsJob): ScrapeTls {
  const ca = { name: DATASTORE_TLS_SECRET, key: 'ca.crt' };
  return job === MetricsJob.DATASTORE_ETCD
    ? { ca, client: { cert: { name: DATASTORE_TLS_SECRET, key: 'tls.crt' }, key: { name: DATASTORE_TLS_SECRET, key: 'tls.key' } } }
    : { ca };
}

/** The scrape jobs of a site, in the order of {@link MetricsJob}; jobs without targets are left out. */
export function siteScrapeJobs(plan: SitePlan, endpoints: readonly MetricsEndpoint[] = metricsEndpoints(plan)): ScrapeJob[] {
  return Object.values(MetricsJob).flatMap((job) => {
    const mine = endpoints.filter((endpoint) => endpoint.job === job);
    if (mine.length === 0) {
      return [];
    }
    const schemes = new Set(mine.map((endpoint) => endpoint.scheme));
    const paths = new Set(mine.map((endpoint) => endpoint.path));
    if (schemes.size > 1 || paths.size > 1) {
      // One job has one scheme and path; the endpoint list never mixes them within a job.
      throw new Error(`metrics job ${job} mixes schemes (${[...schemes].join(', ')}) or paths (${[...paths].join(', ')})`);
    }
    const scheme = mine[0].scheme;
    return [{
      job,
      scheme,
      path: mine[0].path,
      targets: mine.map((endpoint) => ({ address: `${endpoint.ip}:${endpoint.port}`, instance: endpoint.host })),
      ...(scheme === 'https' ? { tls: tlsFor(job) } : {}),
    }];
  });
}

/**
 * A `prometheus.yml` scraping the site's hosts and loading `ruleFiles`. Secrets are files: `secretsDir/<name>/<key>`,
 * the layout the operator mounts Secrets in.
 */
export function renderPrometheusScrapeConfig(plan: SitePlan, options: { readonly ruleFiles?: readonly string[]; readonly secretsDir?: string; readonly endpoints?: readonly MetricsEndpoint[] } = {}): string {
  const secretsDir = options.secretsDir ?? '/etc/prometheus/secrets';
  const file = (ref: SecretKeyRef) => `${secretsDir}/${ref.name}/${ref.key}`;
  return stringify({
    global: { scrape_interval: `${SCRAPE_INTERVAL_SECONDS}s`, evaluation_interval: `${SCRAPE_INTERVAL_SECONDS}s`, external_labels: { site: plan.name } },
    ...(options.ruleFiles ? { rule_files: [...options.ruleFiles] } : {}),
    scrape_configs: siteScrapeJobs(plan, options.endpoints).map((job) => ({
      job_name: job.job,
      scheme: job.scheme,
      metrics_path: job.path,
      ...(job.tls ? {
        tls_config: {
          ca_file: file(job.tls.ca),
          ...(job.tls.client ? { cert_file: file(job.tls.client.cert), key_file: file(job.tls.client.key) } : {}),
        },
      } : {}),
      static_configs: job.targets.map((target) => ({ targets: [target.address], labels: { instance: target.instance } })),
    })),
  }, { lineWidth: 0 });
}
