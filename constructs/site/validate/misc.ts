import { isDnsName, isIpv4 } from '../../core';
import { ProblemCollector } from '../../core/problems';
import { DEFAULT_CRIO_VERSION, DEFAULT_KUBERNETES_VERSION } from '../defaults';
import { ApiHealthCheck, Distribution } from '../spec';
import { expectObject, reportUnknownKeys } from './shape';

/** An OpenSSH public key line (type, base64 key, optional comment): user keys and host keys alike. */
export const SSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;
const K3S_VERSION = /^v1\.\d+\.\d+\+k3s\d+$/;

export function validateName(problems: ProblemCollector, name: unknown): void {
  problems.check(typeof name === 'string' && /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(name), 'name', name,
    'a site name of 2–32 lower-case letters, digits and hyphens, starting with a letter (it names the stack and folders)');
}

const RELEASE = /^1\.\d+\.\d+$/;
const minorOf = (release: string) => release.split('.').slice(0, 2).join('.');

/** @param kubeadm the site runs kubeadm: its CRI-O release must then be of the Kubernetes minor */
export function validateVersions(problems: ProblemCollector, versions: unknown, kubeadm = false): void {
  if (versions === undefined || !expectObject(problems, 'versions', versions)) {
    return;
  }
  reportUnknownKeys(problems, 'versions', versions, ['k3s', 'k3sSha256', 'kubernetes', 'crio']);
  const kubernetesOk = versions.kubernetes === undefined || problems.check(typeof versions.kubernetes === 'string' && RELEASE.test(versions.kubernetes),
    'versions.kubernetes', versions.kubernetes, 'a Kubernetes release such as "1.30.14" (no leading v)');
  const crioOk = versions.crio === undefined || problems.check(typeof versions.crio === 'string' && RELEASE.test(versions.crio),
    'versions.crio', versions.crio, 'a CRI-O release such as "1.30.14" (no leading v)');
  if (kubeadm && kubernetesOk && crioOk) {
    // The node script installs CRI-O from the repository of the Kubernetes minor, which has no other minor.
    const kubernetes = (versions.kubernetes as string | undefined) ?? DEFAULT_KUBERNETES_VERSION;
    const crio = (versions.crio as string | undefined) ?? DEFAULT_CRIO_VERSION;
    problems.check(minorOf(crio) === minorOf(kubernetes), 'versions.crio', crio,
      `a CRI-O ${minorOf(kubernetes)}.x release, the minor of versions.kubernetes ${kubernetes} (CRI-O follows Kubernetes' minor releases)`);
  }
  if (versions.k3sSha256 !== undefined) {
    problems.check(typeof versions.k3sSha256 === 'string' && /^[0-9a-fA-F]{64}$/.test(versions.k3sSha256), 'versions.k3sSha256', versions.k3sSha256,
      '64 hexadecimal digits (the SHA-256 of the K3s binary)');
  }
  if (versions.k3s !== undefined) {
    problems.check(typeof versions.k3s === 'string' && K3S_VERSION.test(versions.k3s), 'versions.k3s', versions.k3s,
      'a K3s release tag such as "v1.36.3+k3s1"');
  }
}

/** Kubernetes minor release from which the API server's AuthenticationConfiguration v1 can allow anonymous /readyz (KEP-4633, GA). */
const MIN_MINOR_FOR_ANONYMOUS_HEALTH = 34;

/**
 * HAProxy's `/readyz` check on a K3s site relies on an AuthenticationConfiguration (renderers/k3s.ts) that older API
 * servers reject, which would keep every K3s server from starting.
 */
export function validateHealthCheckVersion(problems: ProblemCollector, site: Record<string, unknown>): void {
  const versions = site.versions as Record<string, unknown> | undefined;
  const version = versions?.k3s;
  const distribution = (site.controlPlane as Record<string, unknown> | undefined)?.distribution ?? Distribution.K3S;
  const healthCheck = (site.loadBalancer as Record<string, unknown> | undefined)?.apiHealthCheck ?? ApiHealthCheck.READYZ;
  const minor = typeof version === 'string' && K3S_VERSION.test(version) ? Number(version.split('.')[1]) : undefined;
  if (distribution === Distribution.K3S && healthCheck === ApiHealthCheck.READYZ && minor !== undefined) {
    problems.check(minor >= MIN_MINOR_FOR_ANONYMOUS_HEALTH, 'versions.k3s', version,
      `K3s v1.${MIN_MINOR_FOR_ANONYMOUS_HEALTH} or later with loadBalancer.apiHealthCheck "readyz" (older API servers reject the configuration that lets HAProxy read /readyz anonymously), or loadBalancer.apiHealthCheck "ping"`);
  }
}

export function validateAccess(problems: ProblemCollector, access: unknown): void {
  if (access === undefined || !expectObject(problems, 'access', access)) {
    return;
  }
  reportUnknownKeys(problems, 'access', access, ['adminUser', 'sshAuthorizedKeys', 'timezone', 'ntpServers']);
  if (access.adminUser !== undefined) {
    problems.check(typeof access.adminUser === 'string' && /^[a-z_][a-z0-9_-]{0,31}$/.test(access.adminUser) && access.adminUser !== 'root',
      'access.adminUser', access.adminUser, 'a Linux user name other than root (lower-case, at most 32 characters)');
  }
  if (access.sshAuthorizedKeys !== undefined) {
    if (problems.check(Array.isArray(access.sshAuthorizedKeys), 'access.sshAuthorizedKeys', access.sshAuthorizedKeys, 'a list of SSH public keys')) {
      (access.sshAuthorizedKeys as unknown[]).forEach((key, i) => problems.check(typeof key === 'string' && SSH_PUBLIC_KEY.test(key),
        `access.sshAuthorizedKeys[${i}]`, key, 'an OpenSSH public key line ("ssh-ed25519 AAAA... comment"), never a private key'));
    }
  }
  if (access.timezone !== undefined) {
    problems.check(typeof access.timezone === 'string' && /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(access.timezone),
      'access.timezone', access.timezone, 'an IANA time zone name, e.g. "Europe/Berlin"');
  }
  if (access.ntpServers !== undefined) {
    if (problems.check(Array.isArray(access.ntpServers), 'access.ntpServers', access.ntpServers, 'a list of NTP server names or addresses')) {
      (access.ntpServers as unknown[]).forEach((server, i) => problems.check(isIpv4(server) || isDnsName(server),
        `access.ntpServers[${i}]`, server, 'an NTP server DNS name or IPv4 address'));
    }
  }
}
