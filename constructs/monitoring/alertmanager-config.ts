import { SitePlan } from '../site/plan';
import { MonitoringReceiverKind, MonitoringReceiverSpec, SecretKeySpec } from '../site/spec';

/**
 * Alertmanager's configuration from the site's receiver. Secrets stay in Kubernetes Secrets: the config names the
 * files Alertmanager reads them from (`url_file`, `auth_password_file`, `credentials_file`), never their values. Pure.
 */

/** Where the operator mounts each Secret listed in `alertmanagerSpec.secrets` (kube-prometheus-stack values.yaml). */
export const ALERTMANAGER_SECRETS_DIR = '/etc/alertmanager/secrets';
/** The receiver the site names; `null` takes the Watchdog and everything when the site names none. */
export const SITE_RECEIVER = 'site';
const NULL_RECEIVER = 'null';

const secretFile = (ref: SecretKeySpec) => `${ALERTMANAGER_SECRETS_DIR}/${ref.name}/${ref.key}`;

/** The Secrets Alertmanager must mount for the receiver, without duplicates. */
export function receiverSecretNames(receiver: MonitoringReceiverSpec | undefined): string[] {
  if (!receiver) {
    return [];
  }
  const refs = receiver.kind === MonitoringReceiverKind.WEBHOOK ? [receiver.urlSecret]
    : receiver.kind === MonitoringReceiverKind.EMAIL ? [receiver.passwordSecret]
      : [receiver.tokenSecret];
  return [...new Set(refs.filter((ref): ref is SecretKeySpec => ref !== undefined).map((ref) => ref.name))];
}

/**
 * ntfy (v2.10 and later) fills a title and message template from a webhook's JSON body (`tpl=1`), so Alertmanager's
 * own webhook can publish to a topic without a bridge.
 */
export function ntfyPublishUrl(serverUrl: string, topic: string): string {
  const title = '{{.status}}: {{range .alerts}}{{.labels.alertname}} {{end}}';
  const message = '{{range .alerts}}{{.annotations.summary}}\n{{end}}';
  return `${serverUrl.replace(/\/$/, '')}/${topic}?tpl=1&t=${encodeURIComponent(title)}&m=${encodeURIComponent(message)}`;
}

function receiverConfig(receiver: MonitoringReceiverSpec): Record<string, unknown> {
  switch (receiver.kind) {
    case MonitoringReceiverKind.WEBHOOK:
      return { webhook_configs: [{ url_file: secretFile(receiver.urlSecret), send_resolved: true }] };
    case MonitoringReceiverKind.EMAIL:
      return {
        email_configs: [{
          to: receiver.to,
          from: receiver.from,
          smarthost: receiver.smarthost,
          ...(receiver.username ? { auth_username: receiver.username } : {}),
          ...(receiver.passwordSecret ? { auth_password_file: secretFile(receiver.passwordSecret) } : {}),
          send_resolved: true,
        }],
      };
    case MonitoringReceiverKind.NTFY:
      return {
        webhook_configs: [{
          url: ntfyPublishUrl(receiver.serverUrl, receiver.topic),
          ...(receiver.tokenSecret ? { http_config: { authorization: { type: 'Bearer', credentials_file: secretFile(receiver.tokenSecret) } } } : {}),
          send_resolved: true,
        }],
      };
  }
}

/**
 * The Alertmanager configuration (`alertmanager.yml`): alerts grouped per alert and site, nothing inhibited (each
 * alert states a different loss), the Watchdog to the null receiver (point a dead man's switch at it by hand).
 */
export function renderAlertmanagerConfig(plan: SitePlan): Record<string, unknown> {
  const receiver = plan.monitoring.receiver;
  return {
    global: { resolve_timeout: '5m' },
    route: {
      group_by: ['alertname', 'site'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '12h',
      receiver: receiver ? SITE_RECEIVER : NULL_RECEIVER,
      routes: [{ receiver: NULL_RECEIVER, matchers: ['alertname = "Watchdog"'] }],
    },
    receivers: [{ name: NULL_RECEIVER }, ...(receiver ? [{ name: SITE_RECEIVER, ...receiverConfig(receiver) }] : [])],
  };
}
