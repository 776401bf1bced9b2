import { Testing } from 'cdk8s';
import { parse } from 'yaml';
import { MonitoringReceiverKind, SiteChart, SiteSpec, defineSite } from '../../../constructs';
import { KUBE_PROMETHEUS_STACK_CHART_VERSION, MONITORING_NAMESPACE, MonitoringStack } from '../../../constructs/k8s/monitoring-stack';
import { prometheusRuleGroups, renderAlertRules } from '../../../constructs/monitoring/alert-rules';
import { ALERTMANAGER_SECRETS_DIR } from '../../../constructs/monitoring/alertmanager-config';
import { metricsEndpoints } from '../../../constructs/monitoring/metrics-endpoints';
import { DATASTORE_TLS_SECRET, renderPrometheusScrapeConfig } from '../../../constructs/monitoring/scrape-configs';
import { SitePlan } from '../../../constructs/site/plan';
import { Distribution } from '../../../constructs/site/spec';
import lab from '../../../sites/lab';
import { loadSites } from '../../../sites';
import { helmValues, ofKind, one, synth, testChart } from '../../k8s/manifests';
import { Manifest, schemaErrors } from '../../support/k8s-schema';
import { describeWithTools } from '../../support/tools';
import { validationErrorOf } from '../../support/validation-error';
import { chartDefaultValues, unknownValueKeys } from './chart-values';
import { promtool } from './promtool';

const sites = loadSites();

function stackManifests(site: SitePlan): Manifest[] {
  return synth(new MonitoringStack(testChart(), 'Monitoring', { site }));
}

describe.each(sites.map((site) => [site.name, site] as const))('MonitoringStack for %s', (_name, site) => {
  const manifests = stackManifests(site);

  test('PrometheusRule and ScrapeConfigs are valid against the operator\'s CRDs (v0.93.0), unknown fields rejected', () => {
    const custom = [...ofKind(manifests, 'PrometheusRule'), ...ofKind(manifests, 'ScrapeConfig')];
    expect(custom.length).toBeGreaterThan(1);
    for (const manifest of custom) {
      const object = `${manifest.kind}/${manifest.metadata.name}`;
      expect({ object, errors: schemaErrors(manifest) }).toEqual({ object, errors: [] });
      expect(manifest.metadata.namespace).toBe(MONITORING_NAMESPACE);
    }
  });

  test('the PrometheusRule holds the generated groups; a scrape target per endpoint the hosts open', () => {
    expect(one(manifests, 'PrometheusRule').spec.groups).toEqual(prometheusRuleGroups(site));
    const targets = ofKind(manifests, 'ScrapeConfig').flatMap((config) => config.spec.staticConfigs.map((static_: Manifest) =>
      ({ job: config.spec.jobName, target: static_.targets[0], instance: static_.labels.instance, scheme: config.spec.scheme, path: config.spec.metricsPath })));
    expect(targets).toEqual(expect.arrayContaining(metricsEndpoints(site).map((endpoint) =>
      ({ job: endpoint.job, target: `${endpoint.ip}:${endpoint.port}`, instance: endpoint.host, scheme: endpoint.scheme, path: endpoint.path }))));
    expect(targets).toHaveLength(metricsEndpoints(site).length);
  });

  test('HTTPS targets verify against the datastore CA from a Secret reference', () => {
    for (const config of ofKind(manifests, 'ScrapeConfig').filter((c) => c.spec.scheme === 'https')) {
      expect(config.spec.tlsConfig.ca).toEqual({ secret: { name: DATASTORE_TLS_SECRET, key: 'ca.crt' } });
    }
  });

  test(site.controlPlane.distribution === Distribution.K3S
    ? 'a HelmChart pins kube-prometheus-stack 88.5.3 and its values use only keys the chart has'
    : 'kubeadm: no HelmChart (no helm-controller); the values are there for helm install', () => {
    const helmCharts = ofKind(manifests, 'HelmChart');
    const stack = new MonitoringStack(testChart(), 'Monitoring', { site });
    expect(unknownValueKeys(parse(stack.valuesContent), chartDefaultValues())).toEqual([]);
    if (site.controlPlane.distribution !== Distribution.K3S) {
      expect(helmCharts).toEqual([]);
      return;
    }
    const helmChart = one(manifests, 'HelmChart');
    expect(schemaErrors(helmChart)).toEqual([]);
    expect(helmChart.spec).toMatchObject({ chart: 'kube-prometheus-stack', version: KUBE_PROMETHEUS_STACK_CHART_VERSION, targetNamespace: MONITORING_NAMESPACE });
    expect(helmValues(helmChart).nodeExporter).toEqual({ enabled: false });
  });
});

test('the values key walk finds a key the chart does not have', () => {
  expect(unknownValueKeys({ prometheus: { prometheusSpec: { ruleSelectorNilUsesHelmValue: false } }, defaultRules: { disabled: { AnyAlert: true } } }, chartDefaultValues()))
    .toEqual(['prometheus.prometheusSpec.ruleSelectorNilUsesHelmValue']);
});

test('the CRD validation rejects a rule with a bad duration and a ScrapeConfig with an unknown field', () => {
  const manifests = stackManifests(sites[0]);
  const rule = structuredClone(one(manifests, 'PrometheusRule'));
  rule.spec.groups[0].rules[1].for = '5 minutes';
  expect(schemaErrors(rule).join('\n')).toMatch(/for must match pattern/);
  const scrape = structuredClone(ofKind(manifests, 'ScrapeConfig')[0]);
  scrape.spec.staticConfig = scrape.spec.staticConfigs;
  expect(schemaErrors(scrape).join('\n')).toMatch(/must NOT have additional properties \(staticConfig\)/);
});

describe.each(sites.map((site) => [site.name, site] as const))('in-cluster exporters of %s: ServiceMonitors', (_name, site) => {
  const manifests = Testing.synth(new SiteChart(Testing.app(), site.name, { site })) as Manifest[];
  const monitors = ofKind(manifests, 'ServiceMonitor');
  const services = ofKind(manifests, 'Service');
  /** The Services a ServiceMonitor selects: its labels and namespace selector. */
  const selected = (monitor: Manifest) => services.filter((service) =>
    Object.entries(monitor.spec.selector.matchLabels).every(([key, value]) => service.metadata.labels?.[key] === value)
    && (monitor.spec.namespaceSelector.any === true || monitor.spec.namespaceSelector.matchNames.includes(service.metadata.namespace)));

  test('valid against the operator\'s CRD (v0.93.0), unknown fields rejected', () => {
    expect(monitors.map((monitor) => monitor.metadata.name)).toEqual([`${site.name}-nginx-ingress`,
      ...(site.cluster.cni === 'cilium' ? ['agent', 'operator', 'hubble'].map((component) => `${site.name}-cilium-${component}`) : [])]);
    for (const monitor of monitors) {
      expect({ name: monitor.metadata.name, errors: schemaErrors(monitor) }).toEqual({ name: monitor.metadata.name, errors: [] });
    }
    const broken = structuredClone(monitors[0]);
    broken.spec.endpoints[0].intervall = '15s';
    expect(schemaErrors(broken).join('\n')).toMatch(/must NOT have additional properties \(intervall\)/);
  });

  test('each selects exactly one Service of the site, on a port that Service has', () => {
    for (const monitor of monitors) {
      const [service, ...others] = selected(monitor);
      expect({ monitor: monitor.metadata.name, others: others.length, found: service !== undefined }).toEqual({ monitor: monitor.metadata.name, others: 0, found: true });
      expect(service.spec.clusterIP).toBe('None');
      expect(service.spec.ports.map((port: Manifest) => port.name)).toContain(monitor.spec.endpoints[0].port);
    }
  });

  test('the NGINX metrics Service reaches the controller pods\' prometheus port (9113, -prometheus-metrics-listen-port)', () => {
    const service = selected(monitors[0])[0];
    const daemonSet = one(manifests, 'DaemonSet');
    expect(daemonSet.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    const container = daemonSet.spec.template.spec.containers[0];
    expect(container.ports).toContainEqual({ name: 'prometheus', containerPort: 9113 });
    expect(container.args).toEqual(expect.arrayContaining(['-enable-prometheus-metrics=true', '-prometheus-metrics-listen-port=9113']));
    expect(service.spec.ports).toEqual([{ name: 'prometheus', port: 9113, targetPort: 'prometheus', protocol: 'TCP' }]);
  });

  test('monitoring switched off: no ServiceMonitor (its CRD would be missing)', () => {
    const off = Testing.synth(new SiteChart(Testing.app(), site.name, { site: { ...site, monitoring: { enabled: false } } as SitePlan })) as Manifest[];
    expect(ofKind(off, 'ServiceMonitor')).toEqual([]);
  });
});

describe('the receiver', () => {
  const withMonitoring = (monitoring: SiteSpec['monitoring']): SitePlan => defineSite({ ...lab, monitoring });
  const alertmanager = (site: SitePlan) => parse(new MonitoringStack(testChart(), 'Monitoring', { site }).valuesContent).alertmanager;

  test('none: every alert goes to the null receiver', () => {
    expect(alertmanager(withMonitoring(undefined)).config.route.receiver).toBe('null');
    expect(alertmanager(withMonitoring(undefined)).alertmanagerSpec.secrets).toEqual([]);
  });

  test('webhook: the URL is read from the mounted Secret, never written into the values', () => {
    const values = alertmanager(withMonitoring({ receiver: { kind: MonitoringReceiverKind.WEBHOOK, urlSecret: { name: 'alert-webhook', key: 'url' } } }));
    expect(values.config.route.receiver).toBe('site');
    expect(values.config.receivers[1]).toEqual({ name: 'site', webhook_configs: [{ url_file: `${ALERTMANAGER_SECRETS_DIR}/alert-webhook/url`, send_resolved: true }] });
    expect(values.alertmanagerSpec.secrets).toEqual(['alert-webhook']);
  });

  test('email: the SMTP password from a Secret file', () => {
    const values = alertmanager(withMonitoring({ receiver: { kind: MonitoringReceiverKind.EMAIL, to: 'ops@example.net', from: 'lab@example.net', smarthost: 'smtp.example.net:587', username: 'lab', passwordSecret: { name: 'smtp', key: 'password' } } }));
    expect(values.config.receivers[1].email_configs[0]).toEqual({
      to: 'ops@example.net', from: 'lab@example.net', smarthost: 'smtp.example.net:587', auth_username: 'lab', auth_password_file: `${ALERTMANAGER_SECRETS_DIR}/smtp/password`, send_resolved: true,
    });
  });

  test('ntfy: the topic\'s publishing URL with ntfy\'s templates, the token as a bearer credentials file', () => {
    const values = alertmanager(withMonitoring({ receiver: { kind: MonitoringReceiverKind.NTFY, serverUrl: 'https://ntfy.example.net', topic: 'lab-alerts', tokenSecret: { name: 'ntfy', key: 'token' } } }));
    const webhook = values.config.receivers[1].webhook_configs[0];
    const url = new URL(webhook.url);
    expect([url.origin, url.pathname, url.searchParams.get('tpl')]).toEqual(['https://ntfy.example.net', '/lab-alerts', '1']);
    expect(url.searchParams.get('m')).toContain('.annotations.summary');
    expect(webhook.http_config).toEqual({ authorization: { type: 'Bearer', credentials_file: `${ALERTMANAGER_SECRETS_DIR}/ntfy/token` } });
  });
});

describe('the monitoring section of the site', () => {
  test('on by default in the site chart; enabled: false leaves the stack out', () => {
    const kinds = (spec: SiteSpec) => Testing.synth(new SiteChart(Testing.app(), spec.name, { site: defineSite(spec) })).map((m) => m.kind);
    expect(kinds(lab)).toEqual(expect.arrayContaining(['PrometheusRule', 'ScrapeConfig']));
    expect(kinds({ ...lab, monitoring: { enabled: false } })).not.toContain('PrometheusRule');
    expect(kinds({ ...lab, monitoring: { enabled: false } })).not.toContain('ScrapeConfig');
  });

  test('every problem of the section at once, with path, value and what is expected', () => {
    const error = validationErrorOf({
      ...lab,
      monitoring: {
        enabled: 'yes',
        receiver: { kind: MonitoringReceiverKind.EMAIL, to: 'ops', from: 'lab@example.net', smarthost: 'smtp.example.net', passwordSecret: { name: 'Smtp_Secret', key: 'pass word' } },
      },
    } as unknown as SiteSpec);
    expect(error.problems.map((problem) => problem.path)).toEqual([
      'monitoring.enabled', 'monitoring.receiver.to', 'monitoring.receiver.smarthost',
      'monitoring.receiver.passwordSecret.name', 'monitoring.receiver.passwordSecret.key', 'monitoring.receiver.passwordSecret',
    ]);
    expect(error.message).toContain('monitoring.receiver.smarthost: "smtp.example.net" — an SMTP server as host:port');
  });

  test('an unknown receiver kind, an unknown key, a receiver while switched off', () => {
    expect(validationErrorOf({ ...lab, monitoring: { receiver: { kind: 'pager' } } } as unknown as SiteSpec).message).toContain('monitoring.receiver.kind: "pager" — one of webhook, email, ntfy');
    expect(validationErrorOf({ ...lab, monitoring: { enabeld: true } } as unknown as SiteSpec).message).toContain('monitoring.enabeld');
    const off = validationErrorOf({ ...lab, monitoring: { enabled: false, receiver: { kind: MonitoringReceiverKind.NTFY, serverUrl: 'https://ntfy.example.net/path', topic: 'a b' } } });
    expect(off.problems.map((problem) => problem.path)).toEqual(['monitoring.receiver.serverUrl', 'monitoring.receiver.topic', 'monitoring.receiver']);
  });
});

describeWithTools(['promtool'], 'prometheus.yml from the scrape configs', () => {
  test.each(sites.map((site) => [site.name, site] as const))('%s: promtool check config (with the rules)', (_name, site) => {
    const config = renderPrometheusScrapeConfig(site, { ruleFiles: ['rules.yml'], secretsDir: 'secrets' });
    // promtool checks that TLS files exist: stand-in files where the operator would mount the Secret.
    const files: Record<string, string> = { 'prometheus.yml': config, 'rules.yml': renderAlertRules(site) };
    const result = promtool(['check', 'config', 'prometheus.yml'], { ...files, ...tlsStandIns(config) });
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  test('promtool check config fails on a bad interval and on a missing TLS file (the check can fail)', () => {
    const config = renderPrometheusScrapeConfig(sites[2]).replace('scrape_interval: 15s', 'scrape_interval: 15 seconds');
    expect(promtool(['check', 'config', 'prometheus.yml'], { 'prometheus.yml': config }).status).not.toBe(0);
    const homelab = renderPrometheusScrapeConfig(sites.find((site) => site.postgres?.tls)!, { secretsDir: 'secrets' });
    expect(promtool(['check', 'config', 'prometheus.yml'], { 'prometheus.yml': homelab }).output).toMatch(/FAILED: .*secrets\/datastore-scrape-tls\/(ca|tls)\.crt/);
  });

  test('the prometheus.yml and the ScrapeConfig objects scrape the same targets the same way', () => {
    for (const site of sites) {
      const jobs = parse(renderPrometheusScrapeConfig(site)).scrape_configs.map((job: Manifest) =>
        ({ job: job.job_name, scheme: job.scheme, path: job.metrics_path, targets: job.static_configs }));
      const objects = ofKind(stackManifests(site), 'ScrapeConfig').map((config) =>
        ({ job: config.spec.jobName, scheme: config.spec.scheme, path: config.spec.metricsPath, targets: config.spec.staticConfigs }));
      expect(objects).toEqual(jobs);
    }
  });
});

/** Empty stand-ins for every `*_file` the config names (promtool only checks they exist). */
function tlsStandIns(config: string): Record<string, string> {
  const paths = [...config.matchAll(/_file: (\S+)/g)].map((match) => match[1]);
  return Object.fromEntries(paths.map((path) => [path, '']));
}
