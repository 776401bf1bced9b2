import { parse, parseAllDocuments } from 'yaml';
import { SitePlan, SiteStack } from '../../constructs';
import { TfJson, resourcesByPath, synthSite } from '../support/synth';
import { interpolateForValidation } from '../support/validators';

/** Stand-ins for the generated CA (test values only; the stack itself holds references). */
export const TEST_CA_CERT_PEM = '-----BEGIN CERTIFICATE-----\nTESTONLYCERTIFICATE\n-----END CERTIFICATE-----\n';
export const TEST_CA_KEY_PEM = '-----BEGIN RSA PRIVATE KEY-----\nTESTONLYKEY\n-----END RSA PRIVATE KEY-----\n';

const TOKEN_CHARACTERS = 'k8s0a1b2c3d4e5f6g7h8i9j';
const HEX = '0123456789abcdef';

/**
 * Replaces the kubeadm secrets' Terraform references with values of the shape their resources produce (a
 * `random_string` of its length in lower-case letters and digits, a `random_id`'s hex, base64 of a PEM), then the
 * rest as {@link interpolateForValidation} does: the text a machine receives.
 */
export function interpolateKubeadm(text: string, json: TfJson): string {
  return interpolateForValidation(text
    .replace(/(?<!\$)\$\{random_string\.([\w-]+)\.result\}/g, (_, id: string) => TOKEN_CHARACTERS.repeat(4).slice(0, json.resource.random_string[id].length))
    .replace(/(?<!\$)\$\{random_id\.([\w-]+)\.hex\}/g, (_, id: string) => HEX.repeat(16).slice(0, 2 * json.resource.random_id[id].byte_length))
    .replace(/(?<!\$)\$\{base64encode\(tls_self_signed_cert\.[\w-]+\.cert_pem\)\}/g, Buffer.from(TEST_CA_CERT_PEM).toString('base64'))
    .replace(/(?<!\$)\$\{base64encode\(tls_private_key\.[\w-]+\.private_key_pem\)\}/g, Buffer.from(TEST_CA_KEY_PEM).toString('base64')));
}

/** One host's user data: as synthesized (Terraform references) and as the machine gets it, with its files. */
export interface HostUserData {
  readonly name: string;
  /** Exactly as in the synthesized JSON. */
  readonly raw: string;
  /** With Terraform's interpolation applied ({@link interpolateKubeadm}). */
  readonly text: string;
  /** The parsed `#cloud-config`. */
  readonly document: TfJson;
  /** `write_files` by path: raw content (references kept) and interpolated content. */
  readonly rawFiles: ReadonlyMap<string, string>;
  readonly files: ReadonlyMap<string, string>;
}

export interface SynthesizedKubeadmSite {
  readonly site: SitePlan;
  readonly stack: SiteStack;
  readonly json: TfJson;
  readonly text: string;
  /** By host name, in site order. */
  readonly hosts: ReadonlyMap<string, HostUserData>;
}

function filesOf(document: TfJson): Map<string, string> {
  return new Map((document.write_files ?? []).map((file: { path: string; content: string }) => [file.path, file.content]));
}

const cache = new Map<SitePlan, SynthesizedKubeadmSite>();

/** Synthesizes a site's stack once per test file and splits out every host's user data. */
export function synthKubeadmSite(site: SitePlan): SynthesizedKubeadmSite {
  const cached = cache.get(site);
  if (cached) {
    return cached;
  }
  const { stack, json, text } = synthSite(site);
  const snippets = resourcesByPath(json, 'proxmox_virtual_environment_file');
  const hosts = new Map(site.hosts.map((host) => {
    const raw: string = snippets[`${site.name}/${host.name}/UserData`].source_raw.data;
    const interpolated = interpolateKubeadm(raw, json);
    const document = parse(interpolated);
    // Parsing the raw text as YAML is safe: every reference is a single-line plain scalar.
    return [host.name, { name: host.name, raw, text: interpolated, document, rawFiles: filesOf(parse(raw)), files: filesOf(document) }] as const;
  }));
  const result = { site, stack, json, text, hosts };
  cache.set(site, result);
  return result;
}

/** The documents of a multi-document YAML file, as plain objects. */
export function yamlDocuments(text: string): TfJson[] {
  return parseAllDocuments(text).map((document) => document.toJSON());
}
