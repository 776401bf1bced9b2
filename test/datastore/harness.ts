import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { DatastoreKind, HostRole, SitePlan, defineSite } from '../../constructs';
import { postgresServerCertificateNames } from '../../constructs/renderers';
import { pgHomelabSite } from './fixtures';

/**
 * Helpers of the datastore's real-daemon tests: the installed PostgreSQL version, a lab plan of seed 000 at that
 * version, and certificates from openssl with the names the construct gives Terraform's cert requests (Terraform's
 * tls provider cannot run in a lab).
 */

export const PG_BIN_ROOT = '/usr/lib/postgresql';

/** The highest PostgreSQL major version installed under /usr/lib/postgresql, if any. */
export function installedPostgresVersion(): number | undefined {
  if (!existsSync(PG_BIN_ROOT)) {
    return undefined;
  }
  const versions = readdirSync(PG_BIN_ROOT).map(Number).filter((v) => Number.isInteger(v) && existsSync(join(PG_BIN_ROOT, String(v), 'bin', 'initdb')));
  return versions.length > 0 ? Math.max(...versions) : undefined;
}

/** Seed 000 at the installed PostgreSQL version, with 1 GiB datastore hosts (lighter shared_buffers in the lab). */
export function labPlan(version: number): SitePlan {
  return defineSite({
    ...pgHomelabSite,
    hosts: pgHomelabSite.hosts.map((host) => (host.roles.includes(HostRole.DATASTORE) ? { ...host, size: { memoryMiB: 1024 } } : host)),
    controlPlane: { datastore: DatastoreKind.POSTGRES },
    postgres: { version },
  });
}

/** Runs openssl with a 30 s bound, throwing its output on failure. */
function openssl(args: readonly string[], cwd: string): void {
  const result = spawnSync('openssl', [...args], { cwd, encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) {
    throw new Error(`openssl ${args.join(' ')}: ${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`);
  }
}

/** A self-signed CA (ECDSA P-256, like the Terraform one) in `dir`: `ca.key`, `ca.crt`. Returns the certificate path. */
export function createLabCa(dir: string, commonName: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, 'ca.cnf'), [
    '[req]', 'distinguished_name = dn', 'prompt = no', 'x509_extensions = v3_ca',
    '[dn]', `CN = ${commonName}`,
    '[v3_ca]', 'basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign,digitalSignature', 'subjectKeyIdentifier = hash', '',
  ].join('\n'));
  openssl(['req', '-x509', '-new', '-config', 'ca.cnf', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt',
    '-days', '2'], dir);
  return join(dir, 'ca.crt');
}

/**
 * A server key and certificate signed by the CA in `caDir`, for the names the construct gives the node's
 * Terraform cert request; written base64-encoded into `tlsDir` the way cloud-init writes them.
 */
export function createLabServerCertificate(plan: SitePlan, hostName: string, caDir: string, tlsDir: string, serial: number): void {
  const names = postgresServerCertificateNames(plan, hostName);
  const work = join(caDir, hostName);
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'ext.cnf'), [
    `subjectAltName = ${[...names.dnsNames.map((n) => `DNS:${n}`), ...names.ipAddresses.map((ip) => `IP:${ip}`)].join(',')}`,
    'basicConstraints = CA:FALSE',
    'keyUsage = critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage = serverAuth',
    '',
  ].join('\n'));
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr',
    '-subj', `/CN=${names.dnsNames[0]}`], work);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', join(caDir, 'ca.crt'), '-CAkey', join(caDir, 'ca.key'), '-set_serial', String(serial), '-days', '2',
    '-extfile', 'ext.cnf', '-out', 'server.crt'], work);
  mkdirSync(tlsDir, { recursive: true, mode: 0o755 });
  const b64 = (path: string) => `${readFileSync(path).toString('base64')}\n`;
  writeFileSync(join(tlsDir, 'ca.crt.b64'), b64(join(caDir, 'ca.crt')), { mode: 0o600 });
  writeFileSync(join(tlsDir, 'server.crt.b64'), b64(join(work, 'server.crt')), { mode: 0o600 });
  writeFileSync(join(tlsDir, 'server.key.b64'), b64(join(work, 'server.key')), { mode: 0o600 });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` every `stepMs` for at most `timeoutMs` (and at most 10 000 times); returns whether it held. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if (await predicate()) {
      return true;
    }
    await sleep(stepMs);
  }
  return predicate();
}

export interface CommandResult {
  readonly status: number | null;
  readonly output: string;
}
