import { parse } from 'yaml';
import { HostKind, HostPlan, SitePlan } from '../../constructs';
import { TfJson, resourcesByPath, synthSite } from './synth';
import { interpolateForValidation } from './validators';

/** One file a host receives: its content (Terraform expressions interpolated) and mode. */
export interface DeliveredFile {
  readonly content: string;
  readonly mode: string;
}

/** What one host of a synthesized stack receives: a VM's `#cloud-config` snippet or an LXC's provisioning script. */
export interface DeliveredHost {
  readonly site: SitePlan;
  readonly host: HostPlan;
  /** The construct path of the snippet or provisioner, e.g. `lab/lx-k3s-server-01/UserData`. */
  readonly path: string;
  /** The user data or script as the machine gets it ({@link interpolateForValidation}). */
  readonly text: string;
  /** Every file it writes, by path. */
  readonly files: ReadonlyMap<string, DeliveredFile>;
}

// `printf '%s' <shell-quoted content> | install_file <path> <mode> <owner>`, as render-shell.ts writes each file.
const INSTALL_FILE = /^printf '%s' ((?:'[^']*'|\\')+) \| install_file ('[^']*'|"[^"]*") (\S+) '[^']*'$/gm;

/** The value of a word quoted by shellQuote (or double-quoted without expansions). */
function unquote(word: string): string {
  return word.startsWith('"') ? word.slice(1, -1) : word.replace(/'([^']*)'|\\'/g, (_, quoted: string | undefined) => quoted ?? "'");
}

/** The files an LXC provisioning script installs, by path. */
export function scriptFiles(script: string): Map<string, DeliveredFile> {
  return new Map([...script.matchAll(INSTALL_FILE)].map(([, content, path, mode]) => [unquote(path), { content: unquote(content), mode }]));
}

function cloudConfigFiles(text: string): Map<string, DeliveredFile> {
  const document = parse(text) as TfJson;
  return new Map((document.write_files ?? []).map((file: TfJson) => [file.path as string, { content: file.content as string, mode: file.permissions as string }]));
}

/**
 * Every host's user data from the synthesized JSON of a site, in site order: VMs from their snippet file, LXC
 * containers from their provisioner. Throws when a host has none, so a site cannot silently contribute nothing.
 */
export function deliveredHosts(site: SitePlan, json: TfJson = synthSite(site).json): DeliveredHost[] {
  const snippets = resourcesByPath(json, 'proxmox_virtual_environment_file');
  const provisioners = resourcesByPath(json, 'terraform_data');
  return site.hosts.map((host) => {
    const lxc = host.kind === HostKind.LXC;
    const path = lxc ? `${site.name}/${host.name}/Converge/Resource` : `${site.name}/${host.name}/UserData`;
    const raw: string | undefined = lxc ? convergeScriptOf(provisioners[path]) : snippets[path]?.source_raw.data;
    if (raw === undefined) {
      throw new Error(`${site.name}: no synthesized ${lxc ? 'provisioning script' : 'user-data snippet'} for host ${host.name} (expected ${path})`);
    }
    const text = interpolateForValidation(raw);
    return { site, host, path, text, files: lxc ? scriptFiles(text) : cloudConfigFiles(text) };
  });
}

/** The script a converge step (`terraform_data`) uploads and runs. */
export function convergeScriptOf(resource: TfJson | undefined): string | undefined {
  return resource?.provisioner.find((p: TfJson) => p.file)?.file.content;
}

/** The converge scripts of a synthesized site by host name; only those of LXC containers with `lxcOnly`. */
export function convergeScripts(site: SitePlan, json: TfJson, lxcOnly = false): Map<string, string> {
  const resources = resourcesByPath(json, 'terraform_data');
  return new Map(site.hosts.filter((host) => !lxcOnly || host.kind === HostKind.LXC)
    .map((host) => [host.name, convergeScriptOf(resources[`${site.name}/${host.name}/Converge/Resource`])])
    .filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** The shell a script's `#!` line names (`sh`, `bash`, `dash`), undefined when it is no shell script. */
export function scriptShell(content: string): string | undefined {
  const interpreter = /^#!\s*(\S+)(?:[ \t]+(\S+))?/.exec(content);
  if (!interpreter) {
    return undefined;
  }
  const program = interpreter[1].endsWith('/env') ? interpreter[2] : interpreter[1].split('/').pop();
  return ['sh', 'bash', 'dash'].includes(program ?? '') ? program : undefined;
}
