import { App, Fn, TerraformStack, TerraformVariable } from 'cdktf';
import { TlsProvider } from '@cdktf/provider-tls/lib/provider';
import { CertRequest } from '@cdktf/provider-tls/lib/cert-request';
import { LocallySignedCert } from '@cdktf/provider-tls/lib/locally-signed-cert';
import { PrivateKey } from '@cdktf/provider-tls/lib/private-key';
import { SelfSignedCert } from '@cdktf/provider-tls/lib/self-signed-cert';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CloudConfig, defineSite } from '../../constructs';
import { CERTIFICATE_EARLY_RENEWAL_HOURS, addCertificateRenewal } from '../../constructs/tf/lifecycle/certificate-renewal';
import { HostConverge } from '../../constructs/tf';
import homelab from '../../sites/homelab';
import { resourcesByPath, synthSite } from '../support/synth';
import { StandinHome, TerraformJson, TerraformWorkdir, changesByAddress, createReattachedStandinHome } from '../support/terraform-cli';
import { withoutProvisioners } from '../terraform/plan-table';

describe('the datastore\'s host certificates are renewed ahead of their expiry, the CA is announced', () => {
  const json = synthSite(defineSite(homelab)).json;

  test('host certificates get early_renewal_hours; the CA does not (a new CA would reach the hosts one at a time)', () => {
    const certificates = Object.values(resourcesByPath(json, 'tls_locally_signed_cert'));
    // The two datastore nodes, the witness, and Prometheus's client certificate (the monitoring is on).
    expect(certificates.length).toBe(4);
    expect(certificates.every((c) => c.early_renewal_hours === CERTIFICATE_EARLY_RENEWAL_HOURS)).toBe(true);
    expect(Object.values(resourcesByPath(json, 'tls_self_signed_cert')).map((c) => c.early_renewal_hours)).toEqual([undefined]);
  });

  test('a check block per certificate, naming the hosts that re-converge', () => {
    const checks = json.check as Record<string, { assert: { condition: string; error_message: string } }>;
    const pgNode1 = Object.entries(checks).find(([name]) => name.startsWith('certificate_renewal_datastore_tlscertificate_pg_node_1_'))![1];
    expect(pgNode1.assert.condition).toMatch(/^\$\{timecmp\(plantimestamp\(\), timeadd\(tls_locally_signed_cert\.Datastore_TlsCertificate-pg-node-1_[0-9A-F]+\.validity_end_time, "-9480h"\)\) < 0\}$/);
    expect(pgNode1.assert.error_message).toMatch(/re-converge one at a time in rollout order: pg-node-1$/);
    // Prometheus's client certificate reaches the cluster through the K3s servers' auto-deploy manifest.
    const scrape = Object.entries(checks).find(([name]) => name.startsWith('certificate_renewal_datastore_scrapeclientcertificate_'))![1];
    expect(scrape.assert.error_message).toMatch(/re-converge one at a time in rollout order: cp1, cp2, cp3$/);
    const ca = Object.entries(checks).find(([name]) => name.startsWith('ca_expiry_'))![1];
    expect(ca.assert.error_message).toContain('(pg-node-1, pg-node-2, cp1, cp2, cp3) must trust the new CA');
  });
});

/**
 * The warning and the renewal with the real Terraform CLI (stand-in tls provider): a certificate valid for 700 h
 * with an early renewal of 10 h is inside the warning window (10 h + 720 h) from the start, and a refresh past its
 * renewal time replaces it and the converge step of the host using it.
 */
describe('with Terraform: the plan warns, the renewal replaces the certificate and re-converges its host', () => {
  let home: StandinHome;
  let workdir: TerraformWorkdir;
  let dir: string;
  let config: TerraformJson;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-renewal-'));
    const app = new App({ outdir: dir });
    const stack = new TerraformStack(app, 'renewal');
    new TlsProvider(stack, 'tls');
    const key = new TerraformVariable(stack, 'ssh_private_key', { type: 'string', sensitive: true });
    const caKey = new PrivateKey(stack, 'CaKey', { algorithm: 'ECDSA', ecdsaCurve: 'P256' });
    const ca = new SelfSignedCert(stack, 'Ca', {
      privateKeyPem: caKey.privateKeyPem, subject: [{ commonName: 'test CA' }], isCaCertificate: true, validityPeriodHours: 20_000, allowedUses: ['cert_signing'],
    });
    const hostKey = new PrivateKey(stack, 'HostKey', { algorithm: 'ECDSA', ecdsaCurve: 'P256' });
    const request = new CertRequest(stack, 'Request', { privateKeyPem: hostKey.privateKeyPem, subject: [{ commonName: 'h1' }] });
    const certificate = new LocallySignedCert(stack, 'Certificate', {
      certRequestPem: request.certRequestPem, caPrivateKeyPem: caKey.privateKeyPem, caCertPem: ca.certPem, validityPeriodHours: 700, earlyRenewalHours: 10,
      allowedUses: ['server_auth'],
    });
    const cloudConfig = new CloudConfig({ hostname: 'h1', fqdn: 'h1.test' });
    cloudConfig.addFile('test', { path: '/etc/h1.crt', content: Fn.base64encode(certificate.certPem) });
    new HostConverge(stack, 'h1', { hostName: 'h1', cloudConfig, connection: { host: '192.0.2.1', user: 'root', privateKey: key.stringValue }, waitForCloudInit: false });
    addCertificateRenewal(stack);
    app.synth();
    config = JSON.parse(readFileSync(join(dir, 'stacks/renewal/cdk.tf.json'), 'utf8'));
    home = await createReattachedStandinHome();
    workdir = await TerraformWorkdir.create(withoutProvisioners(config), { home, timeoutMs: 120_000 });
    await workdir.apply();
  }, 300_000);
  afterAll(() => {
    workdir?.dispose();
    home?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the set early_renewal_hours is kept, and the plan warns with the renewal time and the host', async () => {
    expect(config.resource.tls_locally_signed_cert.Certificate.early_renewal_hours).toBe(10);
    const plan = await workdir.run(['plan', '-input=false', '-lock=false']);
    expect(plan.stdout).toContain('No changes.');
    expect(plan.stdout).toContain('Warning: Check block assertion failed');
    expect(plan.stdout.replace(/\s+/g, ' ')).toMatch(/tls_locally_signed_cert\.Certificate is renewed by the first apply after \d{4}-\d\d-\d\dT[^ ]+ \(it is valid until [^)]+\); the hosts using it re-converge one at a time in rollout order: h1/);
    // The CA is far from its warning window: no warning for it.
    expect(plan.stdout).not.toContain('the CA tls_self_signed_cert.Ca');
  }, 120_000);

  test('a renewal (what Terraform plans once the certificate is ready for it) replaces the certificate and the host\'s converge step only', async () => {
    const plan = await workdir.planJson(['-replace=tls_locally_signed_cert.Certificate']);
    const replaced = Object.values(changesByAddress(plan)).filter((c) => c.change.actions.join() === 'delete,create').map((c) => c.address).sort();
    expect(replaced).toEqual([expect.stringMatching(/^terraform_data\.h1_[0-9A-F]+$/), 'tls_locally_signed_cert.Certificate']);
  }, 120_000);
});
