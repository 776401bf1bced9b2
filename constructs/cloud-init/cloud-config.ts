/**
 * The `CloudConfig` builder: what one host needs (packages, files, commands, sysctls, kernel modules, users,
 * apt sources, port claims), added by the roles attached to it. The same content renders to `#cloud-config`
 * YAML for VMs and to an idempotent POSIX shell script for LXC containers (see the renderers beside it).
 *
 * Every entry records the role that added it, so a conflict — two roles writing one path differently, setting one
 * sysctl to two values, or listening on one port — is an error that names both roles.
 */

import { CloudGate, CloudService, renderServiceStep } from './service-step';

/** Transport protocol of a port claim. */
export enum Protocol {
  TCP = 'tcp',
  UDP = 'udp',
}

/** A file written on the host. */
export interface CloudFile {
  /** Absolute path. */
  readonly path: string;
  /** The file's full text, written as is (no templating). */
  readonly content: string;
  /** Octal permission bits. @default '0644' */
  readonly mode?: string;
  /** `user:group`. @default 'root:root' */
  readonly owner?: string;
  /**
   * How `content` is encoded: `base64` for a value that must stay on one line in the cloud-config YAML (a PEM file
   * from a Terraform reference: `Fn.base64encode(cert.certPem)`); the file gets the decoded bytes.
   *
   * @default FileEncoding.TEXT
   */
  readonly encoding?: FileEncoding;
}

/** How a {@link CloudFile}'s content is given. */
export enum FileEncoding {
  /** The content as is. */
  TEXT = 'text',
  /** Base64 of the content. */
  BASE64 = 'base64',
}

/** A login user. */
export interface CloudUser {
  /** Linux user name (lower-case, at most 32 characters). */
  readonly name: string;
  /** SSH public keys allowed to log in as the user (public keys only, never private ones). */
  readonly sshAuthorizedKeys: readonly string[];
  /** Passwordless sudo. @default false */
  readonly sudo?: boolean;
  /** Supplementary groups. @default [] */
  readonly groups?: readonly string[];
  /**
   * Login shell.
   *
   * @default '/bin/bash'
   */
  readonly shell?: string;
}

/** An extra apt repository. */
export interface AptSource {
  /** Short name; names the list and key files. */
  readonly name: string;
  /** The `deb ...` line; `$KEY_FILE` stands for the path of the key below. */
  readonly source: string;
  /** ASCII-armoured signing key. @default - none (the source must be signed by a key the image trusts) */
  readonly key?: string;
}

/** A listening socket a role will open; two roles claiming one port on one address conflict. */
export interface PortClaim {
  /** The port the role listens on. */
  readonly port: number;
  /** TCP or UDP; a TCP and a UDP claim on one port do not conflict. */
  readonly protocol: Protocol;
  /**
   * The address the socket binds to, e.g. `127.0.0.1` or the host's own address.
   *
   * @default - every address of the host
   */
  readonly address?: string;
  /** What listens, for error messages, e.g. `haproxy api frontend`. */
  readonly description: string;
}

/** One line of `/etc/hosts`: an address and its names, canonical name (FQDN) first. */
export interface EtcHostsEntry {
  /** IPv4 or IPv6 address. */
  readonly address: string;
  /** Host names for the address, e.g. `['master1.kube.com', 'master1']`. */
  readonly names: readonly string[];
}

/** Identity written into the rendered config. */
export interface CloudConfigProps {
  /** The host's short name (cloud-init `hostname`). */
  readonly hostname: string;
  /** The host's fully qualified name, `<hostname>.<searchDomain>` (cloud-init `fqdn`). */
  readonly fqdn: string;
}

interface Owned<T> {
  readonly role: string;
  readonly value: T;
}

/** Thrown when two roles want incompatible things on one host. */
export class CloudConfigConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CloudConfigConflictError';
  }
}

const DEFAULT_FILE_MODE = '0644';
const DEFAULT_FILE_OWNER = 'root:root';

/** Files the builder itself renders from sysctls and kernel modules. */
export const SYSCTL_FILE = '/etc/sysctl.d/90-proxmox-k3s-ha.conf';
/** Rendered from the kernel modules added with {@link CloudConfig.addKernelModule}, loaded at every boot. */
export const MODULES_FILE = '/etc/modules-load.d/proxmox-k3s-ha.conf';
/** Rendered from {@link CloudConfig.writeEtcHosts}; left to cloud-init (VMs) or Proxmox (LXC) otherwise. */
export const ETC_HOSTS_FILE = '/etc/hosts';

/** Loopback lines every `/etc/hosts` written by the builder starts with (Debian/Ubuntu's defaults, minus 127.0.1.1). */
const ETC_HOSTS_LOOPBACK: readonly EtcHostsEntry[] = [
  { address: '127.0.0.1', names: ['localhost'] },
  { address: '::1', names: ['localhost', 'ip6-localhost', 'ip6-loopback'] },
  { address: 'ff02::1', names: ['ip6-allnodes'] },
  { address: 'ff02::2', names: ['ip6-allrouters'] },
];

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Builder for everything one host is configured with; see the module comment.
 */
export class CloudConfig {
  /** The host's short name, as given in {@link CloudConfigProps.hostname}; conflict messages start with it. */
  public readonly hostname: string;
  /** The host's fully qualified name, as given in {@link CloudConfigProps.fqdn}. */
  public readonly fqdn: string;
  private readonly packageSet = new Map<string, string>();
  private readonly fileMap = new Map<string, Owned<Required<CloudFile>>>();
  private readonly commandList: Owned<string>[] = [];
  private readonly bootCommandList: Owned<string>[] = [];
  private readonly sysctlMap = new Map<string, Owned<string>>();
  private readonly moduleSet = new Map<string, string>();
  private readonly userMap = new Map<string, Owned<CloudUser>>();
  private readonly aptSourceMap = new Map<string, Owned<AptSource>>();
  private readonly portClaims: Owned<PortClaim>[] = [];
  private readonly serviceList: Owned<CloudService>[] = [];
  private readonly gateList: Owned<CloudGate>[] = [];
  private etcHosts?: Owned<readonly EtcHostsEntry[]>;

  constructor(props: CloudConfigProps) {
    this.hostname = props.hostname;
    this.fqdn = props.fqdn;
  }

  /** Packages to install from the distribution's (or an added) apt repository. */
  public addPackages(role: string, ...packages: string[]): void {
    for (const name of packages) {
      if (!/^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$/.test(name)) {
        throw new CloudConfigConflictError(`role "${role}": package ${JSON.stringify(name)} is not a valid Debian package name`);
      }
      if (!this.packageSet.has(name)) {
        this.packageSet.set(name, role);
      }
    }
  }

  /** A file; the same path may be added again only with identical content, mode and owner. */
  public addFile(role: string, file: CloudFile): void {
    if (!file.path.startsWith('/') || file.path.includes('\n') || file.path.endsWith('/')) {
      throw new CloudConfigConflictError(`role "${role}": file path ${JSON.stringify(file.path)} must be an absolute file path`);
    }
    if ([SYSCTL_FILE, MODULES_FILE].includes(file.path)) {
      throw new CloudConfigConflictError(`role "${role}": ${file.path} is rendered from addSysctl/addKernelModule; use those`);
    }
    if (file.path === ETC_HOSTS_FILE) {
      // cloud-init (manage_etc_hosts) or Proxmox would overwrite a plain file at the next boot.
      throw new CloudConfigConflictError(`role "${role}": ${ETC_HOSTS_FILE} is rendered from writeEtcHosts, which also stops cloud-init and Proxmox managing it; use that`);
    }
    const value: Required<CloudFile> = {
      path: file.path, content: file.content, mode: file.mode ?? DEFAULT_FILE_MODE, owner: file.owner ?? DEFAULT_FILE_OWNER, encoding: file.encoding ?? FileEncoding.TEXT,
    };
    if (!/^0?[0-7]{3,4}$/.test(value.mode)) {
      throw new CloudConfigConflictError(`role "${role}": file ${file.path} mode ${JSON.stringify(value.mode)} must be octal, e.g. "0644"`);
    }
    const existing = this.fileMap.get(file.path);
    if (existing && !sameJson(existing.value, value)) {
      const what = ['content', 'mode', 'owner', 'encoding'].filter((key) => existing.value[key as keyof CloudFile] !== value[key as keyof CloudFile]).join(', ');
      throw new CloudConfigConflictError(
        `${this.hostname}: file ${file.path} is written by role "${existing.role}" and differently (${what}) by role "${role}"`);
    }
    this.fileMap.set(file.path, existing ?? { role, value });
  }

  /** A shell command run once at first provisioning, after packages and files, in the order added. */
  public addCommand(role: string, command: string): void {
    this.commandList.push({ role, value: command });
  }

  /** Replaces the content of a file the same role added before (a construct that re-renders it after an `add…` call). */
  public replaceFile(role: string, file: CloudFile): void {
    const existing = this.fileMap.get(file.path);
    if (!existing || existing.role !== role) {
      throw new CloudConfigConflictError(`${this.hostname}: role "${role}" cannot replace file ${file.path}: ${existing ? `it belongs to role "${existing.role}"` : 'it was never added'}`);
    }
    this.fileMap.delete(file.path);
    this.addFile(role, file);
  }

  /**
   * A service and the files it reads, as a configuration step at this point of the command order: at first
   * configuration it is validated, enabled and started; later, only a change of a watched file reloads or restarts
   * it (see {@link ServiceChange}). A path may be watched by one service only.
   */
  public addService(role: string, service: CloudService): void {
    if (!/^[A-Za-z0-9@_.:-]+$/.test(service.unit)) {
      throw new CloudConfigConflictError(`role "${role}": service unit ${JSON.stringify(service.unit)} is not a systemd unit name`);
    }
    if (service.watches.length === 0 || service.watches.some((path) => !path.startsWith('/') || /[\n']/.test(path))) {
      throw new CloudConfigConflictError(`role "${role}": service ${service.unit} watches ${JSON.stringify(service.watches)} — expected one or more absolute paths`);
    }
    for (const { role: other, value } of this.serviceList) {
      const shared = value.watches.find((path) => service.watches.includes(path));
      if (shared) {
        throw new CloudConfigConflictError(`${this.hostname}: file ${shared} is watched by service ${value.unit} (role "${other}") and by service ${service.unit} (role "${role}")`);
      }
    }
    this.serviceList.push({ role, value: service });
    this.addCommand(role, renderServiceStep(service));
  }

  /**
   * A health gate the converge step checks after the host's configuration ran: a rollout moves on to the next host
   * only once it passes (see {@link CloudGate}). Gates are not part of the first boot.
   */
  public addGate(role: string, gate: CloudGate): void {
    if (!(gate.timeoutSeconds >= 1 && gate.timeoutSeconds <= 3600)) {
      throw new CloudConfigConflictError(`role "${role}": gate ${JSON.stringify(gate.description)} timeoutSeconds ${gate.timeoutSeconds} — expected 1 to 3600`);
    }
    this.gateList.push({ role, value: gate });
  }

  /** A shell command run early at every boot (cloud-init `bootcmd`; a oneshot systemd unit on LXC). */
  public addBootCommand(role: string, command: string): void {
    this.bootCommandList.push({ role, value: command });
  }

  /** A kernel parameter; one key set to two values by two roles is a conflict. */
  public addSysctl(role: string, key: string, value: string | number): void {
    if (!/^[a-z0-9_]+(\.[a-zA-Z0-9_*-]+)+$/.test(key)) {
      throw new CloudConfigConflictError(`role "${role}": sysctl key ${JSON.stringify(key)} is not a dotted kernel parameter name`);
    }
    const text = String(value);
    const existing = this.sysctlMap.get(key);
    if (existing && existing.value !== text) {
      throw new CloudConfigConflictError(
        `${this.hostname}: sysctl ${key} is set to ${JSON.stringify(existing.value)} by role "${existing.role}" and to ${JSON.stringify(text)} by role "${role}"`);
    }
    this.sysctlMap.set(key, existing ?? { role, value: text });
  }

  /** A kernel module loaded now and at every boot (on LXC it must be loaded on the Proxmox host). */
  public addKernelModule(role: string, module: string): void {
    if (!/^[a-z0-9_-]+$/.test(module)) {
      throw new CloudConfigConflictError(`role "${role}": kernel module ${JSON.stringify(module)} is not a module name`);
    }
    if (!this.moduleSet.has(module)) {
      this.moduleSet.set(module, role);
    }
  }

  /** A login user with SSH keys; one name defined differently by two roles is a conflict. */
  public addUser(role: string, user: CloudUser): void {
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user.name)) {
      throw new CloudConfigConflictError(`role "${role}": user name ${JSON.stringify(user.name)} is not a valid Linux user name`);
    }
    const existing = this.userMap.get(user.name);
    if (existing && !sameJson(existing.value, user)) {
      throw new CloudConfigConflictError(`${this.hostname}: user ${user.name} is defined by role "${existing.role}" and differently by role "${role}"`);
    }
    this.userMap.set(user.name, existing ?? { role, value: user });
  }

  /** An extra apt repository, set up before packages install; one name defined differently by two roles is a conflict. */
  public addAptSource(role: string, source: AptSource): void {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(source.name)) {
      throw new CloudConfigConflictError(`role "${role}": apt source name ${JSON.stringify(source.name)} must be lower-case letters, digits, - and _`);
    }
    const existing = this.aptSourceMap.get(source.name);
    if (existing && !sameJson(existing.value, source)) {
      throw new CloudConfigConflictError(`${this.hostname}: apt source ${source.name} is defined by role "${existing.role}" and differently by role "${role}"`);
    }
    this.aptSourceMap.set(source.name, existing ?? { role, value: source });
  }

  /**
   * Takes `/etc/hosts` over: the file is rendered from the loopback lines and `entries` (in the order given), and
   * neither cloud-init (`manage_etc_hosts: false` on VMs) nor Proxmox (`/etc/.pve-ignore.hosts` in LXC containers)
   * rewrites it at boot any more. A second call must pass the same entries.
   */
  public writeEtcHosts(role: string, entries: readonly EtcHostsEntry[]): void {
    for (const entry of entries) {
      if (!/^[0-9A-Fa-f.:]+$/.test(entry.address) || !/[.:]/.test(entry.address)) {
        throw new CloudConfigConflictError(`role "${role}": /etc/hosts address ${JSON.stringify(entry.address)} must be an IPv4 or IPv6 address`);
      }
      if (entry.names.length === 0 || entry.names.some((name) => !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(name))) {
        throw new CloudConfigConflictError(`role "${role}": /etc/hosts names ${JSON.stringify(entry.names)} for ${entry.address} must be one or more host names`);
      }
    }
    const value = entries.map((entry) => ({ address: entry.address, names: [...entry.names] }));
    if (this.etcHosts && !sameJson(this.etcHosts.value, value)) {
      throw new CloudConfigConflictError(`${this.hostname}: file ${ETC_HOSTS_FILE} is written by role "${this.etcHosts.role}" and differently by role "${role}"`);
    }
    this.etcHosts = this.etcHosts ?? { role, value };
  }

  /** False once a role took `/etc/hosts` over with {@link writeEtcHosts}; cloud-init manages it otherwise. */
  public get manageEtcHosts(): boolean {
    return this.etcHosts === undefined;
  }

  /**
   * Declares a listening socket. Two claims conflict when protocol and port match and the addresses overlap
   * (equal, or either one is every address).
   */
  public claimPort(role: string, claim: PortClaim): void {
    const clash = this.portClaims.find(({ value }) => value.protocol === claim.protocol && value.port === claim.port
      && (value.address === undefined || claim.address === undefined || value.address === claim.address));
    if (clash) {
      throw new CloudConfigConflictError(
        `${this.hostname}: ${claim.protocol} port ${claim.port} is claimed by role "${clash.role}" (${clash.value.description}) and by role "${role}" (${claim.description})`);
    }
    this.portClaims.push({ role, value: claim });
  }

  /** Adds everything of `other` to this builder, with the same conflict checks, in `other`'s order. */
  public merge(other: CloudConfig): void {
    other.packageSet.forEach((role, name) => this.addPackages(role, name));
    other.userMap.forEach(({ role, value }) => this.addUser(role, value));
    other.aptSourceMap.forEach(({ role, value }) => this.addAptSource(role, value));
    other.fileMap.forEach(({ role, value }) => this.addFile(role, value));
    other.sysctlMap.forEach(({ role, value }, key) => this.addSysctl(role, key, value));
    other.moduleSet.forEach((role, module) => this.addKernelModule(role, module));
    other.bootCommandList.forEach(({ role, value }) => this.addBootCommand(role, value));
    other.commandList.forEach(({ role, value }) => this.addCommand(role, value));
    // The service steps are among the commands already; only the watch records carry over.
    other.serviceList.forEach((service) => this.serviceList.push(service));
    other.gateList.forEach(({ role, value }) => this.addGate(role, value));
    other.portClaims.forEach(({ role, value }) => this.claimPort(role, value));
    if (other.etcHosts) {
      this.writeEtcHosts(other.etcHosts.role, other.etcHosts.value);
    }
  }

  /** Sorted, de-duplicated package names. */
  public get packages(): readonly string[] {
    return [...this.packageSet.keys()].sort();
  }

  /** Files sorted by path, including the rendered sysctl, modules-load and (when taken over) `/etc/hosts` files. */
  public get files(): readonly Required<CloudFile>[] {
    const files = [...this.fileMap.values()].map((f) => f.value);
    if (this.sysctlMap.size > 0) {
      files.push({ path: SYSCTL_FILE, content: this.sysctls.map(([k, v]) => `${k} = ${v}\n`).join(''), mode: DEFAULT_FILE_MODE, owner: DEFAULT_FILE_OWNER, encoding: FileEncoding.TEXT });
    }
    if (this.moduleSet.size > 0) {
      files.push({ path: MODULES_FILE, content: this.kernelModules.map((m) => `${m}\n`).join(''), mode: DEFAULT_FILE_MODE, owner: DEFAULT_FILE_OWNER, encoding: FileEncoding.TEXT });
    }
    if (this.etcHosts) {
      const lines = [...ETC_HOSTS_LOOPBACK, ...this.etcHosts.value].map((entry) => `${entry.address} ${entry.names.join(' ')}\n`).join('');
      files.push({ path: ETC_HOSTS_FILE, content: `# Written by proxmox-k3s-ha; cloud-init and Proxmox leave this file alone.\n${lines}`, mode: DEFAULT_FILE_MODE, owner: DEFAULT_FILE_OWNER, encoding: FileEncoding.TEXT });
    }
    return files.sort((a, b) => byCodeUnits(a.path, b.path));
  }

  /** First-provisioning commands in the order added. */
  public get commands(): readonly string[] {
    return this.commandList.map((c) => c.value);
  }

  /** Every-boot commands in the order added. */
  public get bootCommands(): readonly string[] {
    return this.bootCommandList.map((c) => c.value);
  }

  /** `[key, value]` pairs sorted by key. */
  public get sysctls(): readonly (readonly [string, string])[] {
    return [...this.sysctlMap.entries()].map(([key, { value }]) => [key, value] as const).sort(([a], [b]) => byCodeUnits(a, b));
  }

  /** Sorted, de-duplicated kernel module names. */
  public get kernelModules(): readonly string[] {
    return [...this.moduleSet.keys()].sort();
  }

  /** Users sorted by name. */
  public get users(): readonly CloudUser[] {
    return [...this.userMap.values()].map((u) => u.value).sort((a, b) => byCodeUnits(a.name, b.name));
  }

  /** Apt sources sorted by name. */
  public get aptSources(): readonly AptSource[] {
    return [...this.aptSourceMap.values()].map((s) => s.value).sort((a, b) => byCodeUnits(a.name, b.name));
  }

  /** Services in the order added, each with the role that added it. */
  public get services(): readonly (CloudService & { readonly role: string })[] {
    return this.serviceList.map(({ role, value }) => ({ ...value, role }));
  }

  /** Health gates in the order added, each with the role that added it. */
  public get gates(): readonly (CloudGate & { readonly role: string })[] {
    return this.gateList.map(({ role, value }) => ({ ...value, role }));
  }

  /** Port claims in the order added, each with the role that made it; used for conflict checks, not rendered. */
  public get ports(): readonly (PortClaim & { readonly role: string })[] {
    return this.portClaims.map(({ role, value }) => ({ ...value, role }));
  }
}

/**
 * Orders strings by UTF-16 code units, like `Array.prototype.sort()`. Not `localeCompare`: the rendered user data
 * (and so the VM, which a user-data change replaces) must not depend on the locale of the machine that synthesizes.
 */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
