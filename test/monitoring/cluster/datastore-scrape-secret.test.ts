import { parseAllDocuments } from 'yaml';
import { SiteSpec, defineSite } from '../../../constructs';
import { MONITORING_NAMESPACE, renderDatastoreScrapeSecretManifest } from '../../../constructs/monitoring/datastore-scrape-secret';
import { siteScrapeJobs } from '../../../constructs/monitoring/scrape-configs';
import { DATASTORE_SCRAPE_SECRET_MANIFEST_PATH } from '../../../constructs/tf/postgres-datastore';
import homelab from '../../../sites/homelab';
import lab from '../../../sites/lab';
import { interpolateForValidation } from '../../support/validators';
import { schemaErrors } from '../../support/k8s-schema';
import { resourcesByPath, synthSite } from '../../support/synth';

// The TLS datastore's ScrapeConfigs read a Secret with the datastore CA and a client certificate for Prometheus: the
// stack issues the certificate and ships the Secret as a K3s auto-deploy manifest on the servers.

const SAMPLE = { caCertificateBase64: 'Q0EtQ0VSVA==', certificateBase64: 'Q0xJRU5ULUNFUlQ=', privateKeyBase64: 'Q0xJRU5ULUtFWQ==' };

describe('the datastore scrape Secret', () => {
  const documents = parseAllDocuments(renderDatastoreScrapeSecretManifest(SAMPLE)).map((document) => document.toJS());

  test('a Namespace and a Secret, valid against the Kubernetes schemas', () => {
    expect(documents.map((d) => `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`)).toEqual([`Namespace//${MONITORING_NAMESPACE}`, `Secret/${MONITORING_NAMESPACE}/datastore-scrape-tls`]);
    documents.forEach((document) => expect({ kind: document.kind, errors: schemaErrors(document) }).toEqual({ kind: document.kind, errors: [] }));
    expect(documents[1].data).toEqual({ 'ca.crt': SAMPLE.caCertificateBase64, 'tls.crt': SAMPLE.certificateBase64, 'tls.key': SAMPLE.privateKeyBase64 });
  });

  test('holds every key the homelab ScrapeConfigs reference', () => {
    const references = siteScrapeJobs(defineSite(homelab)).flatMap((job) => (job.tls ? [job.tls.ca, ...(job.tls.client ? [job.tls.client.cert, job.tls.client.key] : [])] : []));
    expect(references.length).toBeGreaterThanOrEqual(3);
    for (const reference of references) {
      expect({ reference, present: reference.name === documents[1].metadata.name && reference.key in documents[1].data }).toEqual({ reference, present: true });
    }
  });
});

describe('in the stack', () => {
  const serverFiles = (spec: SiteSpec) => {
    const json = synthSite(defineSite(spec)).json;
    const converge = resourcesByPath(json, 'terraform_data');
    const script = Object.entries(converge).filter(([path]) => /\/Converge\/Resource$/.test(path)).map(([, r]) => JSON.stringify(r)).join('\n');
    return { json, script };
  };

  test('homelab (TLS datastore, monitoring on): a client certificate of the datastore CA, shipped to every server at 0600, values as references', () => {
    const { json, script } = serverFiles(homelab);
    const certificates = resourcesByPath(json, 'tls_locally_signed_cert');
    expect(certificates['homelab/Datastore/ScrapeClientCertificate']).toMatchObject({ allowed_uses: ['digital_signature', 'key_encipherment', 'client_auth'] });
    const servers = defineSite(homelab).hosts.filter((h) => h.roles.includes('k3s-server' as never)).map((h) => h.name);
    for (const server of servers) {
      const converge = JSON.stringify(resourcesByPath(json, 'terraform_data')[`homelab/${server}/Converge/Resource`]);
      expect(converge).toContain(`install_file '${DATASTORE_SCRAPE_SECRET_MANIFEST_PATH}' 0600 'root:root'`);
    }
    // Base64 of Terraform's values, never a PEM in the stack.
    expect(script).toMatch(/tls\.key: \$\{base64encode\(tls_private_key\.Datastore_ScrapeClientKey_[0-9A-F]+\.private_key_pem\)\}/);
    expect(JSON.stringify(json)).not.toContain('BEGIN');
    // K3s applies the manifest itself when it changes (a renewed certificate): k3s does not restart for it.
    const { stack } = synthSite(defineSite(homelab));
    for (const server of servers) {
      const k3s = stack.hosts.get(server)!.cloudConfig.services.find((service) => service.unit === 'k3s')!;
      expect(k3s.watches).toContain('/etc/rancher/k3s/datastore-ca.crt');
      expect(k3s.watches).not.toContain(DATASTORE_SCRAPE_SECRET_MANIFEST_PATH);
    }
    // As a server receives it, the manifest is the Secret above.
    const text = interpolateForValidation(script);
    expect(text).toContain('name: datastore-scrape-tls');
  });

  test('none with the monitoring off, and none on a site without a TLS datastore', () => {
    expect(serverFiles({ ...homelab, monitoring: { enabled: false } }).script).not.toContain(DATASTORE_SCRAPE_SECRET_MANIFEST_PATH);
    expect(Object.keys(resourcesByPath(synthSite(defineSite({ ...homelab, monitoring: { enabled: false } })).json, 'tls_locally_signed_cert')).filter((p) => p.includes('Scrape'))).toEqual([]);
    expect(serverFiles(lab).script).not.toContain(DATASTORE_SCRAPE_SECRET_MANIFEST_PATH);
  });
});
