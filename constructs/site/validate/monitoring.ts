import { isIpv4 } from '../../core/ipv4';
import { isDnsName, isPort } from '../../core/names';
import { ProblemCollector } from '../../core/problems';
import { MonitoringReceiverKind } from '../spec';
import { expectObject, isObject, reportUnknownKeys } from './shape';

/** A Secret data key, as Kubernetes allows it (`[-._a-zA-Z0-9]+`). */
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;
/** `local@domain`, without spaces or angle brackets (Alertmanager writes it into SMTP headers). */
const EMAIL_ADDRESS = /^[^\s@<>"',;]+@[^\s@<>"',;]+\.[^\s@<>"',;]+$/;
/** An ntfy topic: its own rule is letters, digits, `_` and `-`, 1–64 characters. */
const NTFY_TOPIC = /^[-_A-Za-z0-9]{1,64}$/;

/** Checks a `{ name, key }` reference to a Secret key. */
function validateSecretKey(problems: ProblemCollector, path: string, ref: unknown): void {
  if (!expectObject(problems, path, ref)) {
    return;
  }
  reportUnknownKeys(problems, path, ref, ['name', 'key']);
  problems.check(isDnsName(ref.name), `${path}.name`, ref.name, 'the name of a Secret in the namespace monitoring (an RFC 1123 subdomain such as "alert-webhook")');
  problems.check(typeof ref.key === 'string' && SECRET_KEY.test(ref.key), `${path}.key`, ref.key, 'a Secret data key (letters, digits, "-", "_", ".")');
}

/** `host:port` as Alertmanager's `smarthost` takes it (a DNS name or an IPv4 address). */
function isSmarthost(value: unknown): boolean {
  const match = typeof value === 'string' ? /^([^:\s]+):(\d{1,5})$/.exec(value) : null;
  return match !== null && (isDnsName(match[1]) || isIpv4(match[1])) && isPort(Number(match[2]));
}

/** An `https://host[:port]` (or http) URL without path, query or credentials. */
function isServerUrl(value: unknown): boolean {
  if (typeof value !== 'string' || !/^https?:\/\/[^/?#@\s]+\/?$/.test(value)) {
    return false;
  }
  try {
    return new URL(value).hostname.length > 0;
  } catch {
    return false;
  }
}

function validateReceiver(problems: ProblemCollector, receiver: unknown): void {
  const path = 'monitoring.receiver';
  if (!expectObject(problems, path, receiver)) {
    return;
  }
  const kinds = Object.values(MonitoringReceiverKind) as string[];
  if (!problems.check(kinds.includes(receiver.kind as string), `${path}.kind`, receiver.kind, `one of ${kinds.join(', ')}`)) {
    return;
  }
  switch (receiver.kind as MonitoringReceiverKind) {
    case MonitoringReceiverKind.WEBHOOK:
      reportUnknownKeys(problems, path, receiver, ['kind', 'urlSecret']);
      validateSecretKey(problems, `${path}.urlSecret`, receiver.urlSecret);
      break;
    case MonitoringReceiverKind.EMAIL:
      reportUnknownKeys(problems, path, receiver, ['kind', 'to', 'from', 'smarthost', 'username', 'passwordSecret']);
      for (const field of ['to', 'from'] as const) {
        problems.check(typeof receiver[field] === 'string' && EMAIL_ADDRESS.test(receiver[field] as string), `${path}.${field}`, receiver[field], 'an email address such as ops@example.net');
      }
      problems.check(isSmarthost(receiver.smarthost), `${path}.smarthost`, receiver.smarthost, 'an SMTP server as host:port, e.g. smtp.example.net:587');
      if (receiver.username !== undefined) {
        problems.check(typeof receiver.username === 'string' && receiver.username.length > 0 && !/\s/.test(receiver.username), `${path}.username`, receiver.username, 'an SMTP user name without spaces');
      }
      if (receiver.passwordSecret !== undefined) {
        validateSecretKey(problems, `${path}.passwordSecret`, receiver.passwordSecret);
        problems.check(receiver.username !== undefined, `${path}.passwordSecret`, receiver.passwordSecret, 'no password, or a username to log in with');
      }
      break;
    case MonitoringReceiverKind.NTFY:
      reportUnknownKeys(problems, path, receiver, ['kind', 'serverUrl', 'topic', 'tokenSecret']);
      problems.check(isServerUrl(receiver.serverUrl), `${path}.serverUrl`, receiver.serverUrl, 'the ntfy server as https://host[:port], without path or credentials');
      problems.check(typeof receiver.topic === 'string' && NTFY_TOPIC.test(receiver.topic), `${path}.topic`, receiver.topic, 'an ntfy topic: 1–64 letters, digits, "-" or "_"');
      if (receiver.tokenSecret !== undefined) {
        validateSecretKey(problems, `${path}.tokenSecret`, receiver.tokenSecret);
      }
      break;
  }
}

/** Checks `monitoring`: `enabled` a boolean, and a receiver of a known kind whose secrets are Secret references. */
export function validateMonitoring(problems: ProblemCollector, monitoring: unknown): void {
  if (monitoring === undefined || !expectObject(problems, 'monitoring', monitoring)) {
    return;
  }
  reportUnknownKeys(problems, 'monitoring', monitoring, ['enabled', 'receiver']);
  if (monitoring.enabled !== undefined) {
    problems.check(typeof monitoring.enabled === 'boolean', 'monitoring.enabled', monitoring.enabled, 'true or false');
  }
  if (monitoring.receiver !== undefined) {
    validateReceiver(problems, monitoring.receiver);
    if (monitoring.enabled === false && isObject(monitoring.receiver)) {
      problems.add('monitoring.receiver', monitoring.receiver, 'no receiver, or monitoring.enabled: true (nothing would send to it)');
    }
  }
}
