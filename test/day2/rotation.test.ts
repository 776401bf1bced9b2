import { defineSite } from '../../constructs';
import { compareSyntheses, formatChangeReport } from '../../constructs/tf';
import { interpolatedExpressions, resolvedValuesFingerprint } from '../../constructs/tf/lifecycle/secret-fingerprint';
import homelab from '../../sites/homelab';
import prod from '../../sites/prod';
import { resourcesByPath, synthSite } from '../support/synth';

describe('the expressions a rendered text interpolates', () => {
  test('interpolations in order, once each; escaped ones and template directives are text', () => {
    const text = 'a ${var.x} b $${HOME} c ${base64encode(tls_private_key.k.private_key_pem)} %%{if} ${var.x}';
    expect(interpolatedExpressions(text)).toEqual(['var.x', 'base64encode(tls_private_key.k.private_key_pem)']);
  });

  test('an expression ends at its own closing brace (objects and quoted braces inside)', () => {
    expect(interpolatedExpressions('${jsonencode({ a = "}" })} and ${var.y}')).toEqual(['jsonencode({ a = "}" })', 'var.y']);
    expect(() => interpolatedExpressions('broken ${var.x')).toThrow('an interpolation without its closing brace: "${var.x"');
  });

  test('the fingerprint hashes the sorted values; nothing interpolated, no fingerprint', () => {
    expect(resolvedValuesFingerprint('${var.b} ${var.a}')).toBe('${sha256(join("\\n", [var.a, var.b]))}');
    expect(resolvedValuesFingerprint('plain $${text}')).toBeUndefined();
  });
});

describe('the converge trigger follows the resolved secrets and keys of exactly the host that uses them', () => {
  const json = synthSite(defineSite(homelab)).json;
  const steps = resourcesByPath(json, 'terraform_data');
  const secretsOf = (host: string) => steps[`homelab/${host}/Converge/Resource`].triggers_replace.secrets as string;

  test('a hash of references, never a value; each host hashes what its own configuration uses', () => {
    expect(secretsOf('pg-node-1')).toMatch(/^\$\{sha256\(join\("\\n", \[.*\]\)\)\}$/);
    expect(secretsOf('pg-node-1')).toContain('random_password.Datastore_ReplicationPassword_');
    expect(secretsOf('pg-node-1')).toContain('base64encode(tls_locally_signed_cert.Datastore_TlsCertificate-pg-node-1_');
    expect(secretsOf('pg-node-1')).toContain('var.admin_ssh_public_key');
    // K3s servers use the K3s user's password, the CA and Prometheus's client certificate (the scrape Secret they
    // deliver), not the replication password or a datastore host's certificate.
    expect(secretsOf('cp2')).not.toContain('ReplicationPassword');
    expect(secretsOf('cp2')).not.toContain('Datastore_TlsCertificate');
    expect(secretsOf('cp2')).toContain('tls_locally_signed_cert.Datastore_ScrapeClientCertificate_');
    expect(secretsOf('cp2')).toContain('random_password.ControlPlane_Token_');
  });

  test('the change report: a rotated variable or replaced secret converges the hosts that use it, naming what rotated', () => {
    const password = Object.keys(json.resource.random_password).find((name) => name.startsWith('Datastore_ReplicationPassword_'))!;
    const report = compareSyntheses('homelab', json, json, { replace: [`random_password.${password}`] });
    expect(report.hosts.filter((h) => h.action === 'converge').map((h) => h.host).sort()).toEqual(['pg-node-1', 'pg-node-2']);
    expect(report.hosts.find((h) => h.host === 'pg-node-1')).toMatchObject({ files: [], rotated: [`random_password.${password}`] });
    expect(report.problems).toEqual([]);
    expect(formatChangeReport('homelab', report)).toContain(`pg-node-1: converge in place · rotated: random_password.${password}`);

    const keyRotation = compareSyntheses('homelab', json, json, { variables: ['admin_ssh_public_key'] });
    expect(keyRotation.hosts.filter((h) => h.action === 'converge').map((h) => h.host).sort()).toEqual(['cp1', 'cp2', 'cp3', 'pg-node-1', 'pg-node-2']);
    expect(keyRotation.hosts.every((h) => h.machine === undefined)).toBe(true);
    // The report holds addresses only: nothing that is not in the synthesized file.
    expect(JSON.stringify(keyRotation.hosts)).not.toMatch(/ssh-ed25519|BEGIN/);
  });
});

describe('containers take a new admin key and a new template without being replaced', () => {
  const json = synthSite(defineSite(prod)).json;
  const container = resourcesByPath(json, 'proxmox_virtual_environment_container')['prod/k3s-prod-lb-01/Resource'];

  test('the keys and the template apply when the container is created; later changes are ignored', () => {
    expect(container.initialization.user_account.keys).toEqual(['${var.admin_ssh_public_key}']);
    expect(container.lifecycle.ignore_changes).toEqual(['initialization[0].user_account', 'operating_system[0].template_file_id']);
  });

  test('its converge step keeps root\'s keys (the user it logs in as) equal to the admin keys', () => {
    const script = (resourcesByPath(json, 'terraform_data')['prod/k3s-prod-lb-01/Converge/Resource'].provisioner as { file?: { content: string } }[])
      .find((p) => p.file)!.file!.content;
    expect(script).toContain("home=$(getent passwd 'root' | cut -d: -f6)");
    expect(script).toMatch(/printf '%s' '\$\{var\.admin_ssh_public_key\}\n' \| install_file "\$home\/\.ssh\/authorized_keys" 0600 'root:root'/);
  });

  test('a rotated admin key re-converges the containers in place (the change report agrees: no machine change)', () => {
    const report = compareSyntheses('prod', json, json, { variables: ['admin_ssh_public_key'] });
    const lbs = report.hosts.filter((h) => h.host.startsWith('k3s-prod-lb-'));
    expect(lbs.map((h) => [h.host, h.action, h.machine])).toEqual([
      ['k3s-prod-lb-01', 'converge', undefined], ['k3s-prod-lb-02', 'converge', undefined], ['k3s-prod-lb-03', 'converge', undefined],
    ]);
    expect(report.problems).toEqual([]);
  });
});
