import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { SitePlan } from '../../constructs';
import { postgresServerCertificateNames } from '../../constructs/renderers';

/**
 * Helpers of the datastore's real-daemon tests: the installed PostgreSQL version, polling, and certificates from
 * openssl with the names the construct gives Terraform's cert requests (Terraform's tls provider cannot run in a lab).
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
 * The certificate of an etcd member host (a datastore node or the witness), signed by the CA in `caDir`, for the
 * names the construct gives its Terraform cert request, with server and client use (etcd peers and Patroni present
 * it as client certificate). Returns the key and certificate paths (in `caDir/<host>`).
 */
export function issueMemberCertificate(plan: SitePlan, hostName: string, caDir: string, serial: number): { key: string; cert: string } {
  return issueCertificate(caDir, hostName, postgresServerCertificateNames(plan, hostName), serial);
}

/**
 * A certificate for `names`, with server and client use, signed by the CA in `caDir`; its common name is the first
 * DNS name, else `dirName`. Returns the key and certificate paths (in `caDir/<dirName>`).
 */
export function issueCertificate(caDir: string, dirName: string, names: { readonly dnsNames: readonly string[]; readonly ipAddresses: readonly string[] }, serial: number): { key: string; cert: string } {
  const work = join(caDir, dirName);
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'ext.cnf'), [
    `subjectAltName = ${[...names.dnsNames.map((n) => `DNS:${n}`), ...names.ipAddresses.map((ip) => `IP:${ip}`)].join(',')}`,
    'basicConstraints = CA:FALSE',
    'keyUsage = critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage = serverAuth,clientAuth',
    '',
  ].join('\n'));
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'member.key', '-out', 'member.csr', '-subj', `/CN=${names.dnsNames[0] ?? dirName}`], work);
  openssl(['x509', '-req', '-in', 'member.csr', '-CA', join(caDir, 'ca.crt'), '-CAkey', join(caDir, 'ca.key'), '-set_serial', String(serial), '-days', '2',
    '-extfile', 'ext.cnf', '-out', 'member.crt'], work);
  return { key: join(work, 'member.key'), cert: join(work, 'member.crt') };
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
