import { ChildProcess, spawn, spawnSync } from 'child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'fs';
import { join } from 'path';
import { FailoverLab, LabNode, labAddress, makeCertificate } from '../failover/lab';
import type { ProbeResult } from '../failover/scenarios';
import { run, sh } from '../support/netns';

/**
 * A lab for real-Terraform rolling updates: "hosts" that look like small machines to whoever SSHes in, built from
 * namespaces on the failover lab's private bridge (198.18.0.0/24, nothing routed anywhere). Each host has its own
 * network, PID, mount and UTS namespaces, a private writable view of the filesystem (overlays over the real
 * directories, so scripts can install files and users without touching this machine or the other hosts), a real
 * `sshd`, and a `systemctl` stand-in that runs the real HAProxy, Keepalived and named and journals every call.
 * Terraform runs in a client namespace, so its SSH provisioners reach the hosts over the bridge.
 */

/** The output of a command run to completion (`status` null: killed, e.g. by its timeout). */
export interface CommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A host of the lab: a namespace node with `sshd` and its own filesystem view. */
export interface LabHost extends LabNode {
  /** The host's public SSH host key, `ssh-ed25519 AAAA…` (usable as Terraform's `connection.host_key`). */
  readonly hostKey: string;
  /** This machine's PID of the host's init (PID 1 inside the host). */
  readonly initPid: number;
  /** The host's directory in the lab's work dir, `/run/pkh-lab` inside: sshd's config, key and log. */
  readonly dir: string;
}

/** One call of the `systemctl` (or `timedatectl`) stand-in. */
export interface JournalEntry {
  /** Epoch milliseconds of the call. */
  readonly t: number;
  readonly host: string;
  readonly program: string;
  readonly args: readonly string[];
}

/** The VIP's holders from time `t` (epoch ms) on. */
export interface VipChange {
  readonly t: number;
  readonly holders: readonly string[];
}

/** A running VIP watch; `stop` ends it and returns every change of holders, the initial holders first. */
export interface VipWatch {
  stop(): VipChange[];
}

/** Every probe of a client probe run, and the failed ones. */
export interface ProbeReport {
  readonly probes: readonly ProbeResult[];
  readonly failed: readonly ProbeResult[];
}

/** A running client probe; `stop` ends it and returns its report. */
export interface RunningProbe {
  stop(): Promise<ProbeReport>;
}

/** Options of {@link RollingLab.startProbe}; the defaults are the failover lab's cadence (25 ms, failed beyond 200 ms). */
export interface ProbeOptions {
  /** TCP+TLS (the API stand-ins) or plain HTTP. */
  readonly mode?: 'tls' | 'http';
  readonly intervalMs?: number;
  readonly limitMs?: number;
  /** The probe stops by itself after this long even if never stopped. */
  readonly maxDurationMs?: number;
}

/** The lab's client namespace: where Terraform, ssh and the probes run. */
export const CLIENT_NAME = 'client';

/** Directories each host gets a private writable overlay of (those missing on this machine are skipped). */
export const OVERLAID_DIRECTORIES = ['/etc', '/var', '/root', '/home', '/usr/local', '/opt'];

/** Programs the stand-in script replaces inside the hosts. */
const STAND_IN_PROGRAMS = ['systemctl', 'timedatectl'];

/** Inside a host: the host's lab directory, and the stand-in's journal and daemon logs. */
const HOST_LAB_DIR = '/run/pkh-lab';
const HOST_STANDIN_DIR = '/run/pkh-systemctl';


/** Environment of commands run with {@link RollingLab.exec}: a root login's, not this test process's. */
const HOST_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', USER: 'root', LOGNAME: 'root', SHELL: '/bin/sh', LANG: 'C.UTF-8',
};

/** Environment of every Terraform run: no update check, no prompts, an empty CLI configuration. */
const TERRAFORM_ENV = { CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_INPUT: '0' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The init of a host (PID 1 inside it), run by `sh -c` with: name, host dir, state dir (an empty mount point),
 * stand-in script, copies dir (empty). Every lab path is bound into the host's state tmpfs before the overlays and tmpfs mounts could
 * hide it (the work dir lives under /tmp). All mounts are in the host's private mount namespace: they vanish with
 * its last process, so nothing is ever mounted on this machine.
 */
const HOST_INIT = `set -eu
name=$1 dir=$2 state=$3 standin=$4 copies=$5
hostname "$name"
mount -t tmpfs -o mode=755 "pkh-$name" "$state"
mkdir "$state/lab" "$state/copies"
mount --bind "$dir" "$state/lab"
mount --bind "$copies" "$state/copies"
touch "$state/standin"
mount --bind "$standin" "$state/standin"
for path in ${OVERLAID_DIRECTORIES.join(' ')}; do
  [ -d "$path" ] || continue
  mkdir -p "$state/upper$path" "$state/work$path"
  if ! mount -t overlay "pkh-$name" -o "lowerdir=$path,upperdir=$state/upper$path,workdir=$state/work$path" "$path"; then
    # Some kernels refuse overlays of some filesystems (none did on 6.x with ext4): a private copy is just as
    # isolated, but slow for a big directory, so it goes to the work dir's disk, not to memory.
    echo "overlay over $path failed: using a copy" >&2
    mkdir -p "$state/copies$path"
    cp -a "$path/." "$state/copies$path/"
    mount --bind "$state/copies$path" "$path"
  fi
done
mount -t tmpfs -o mode=755 "pkh-$name-run" /run
mkdir -p /run/lock /run/sshd ${HOST_LAB_DIR} ${HOST_STANDIN_DIR}
mount --bind "$state/lab" ${HOST_LAB_DIR}
mount --bind "$state/lab/systemctl" ${HOST_STANDIN_DIR}
# The stand-in over every path of the real program (-ef: /bin is often a link to /usr/bin, and a path already covered
# is the stand-in itself); where the program is missing, in /usr/local/sbin, first on root's PATH.
for program in ${STAND_IN_PROGRAMS.join(' ')}; do
  covered=false
  for path in /usr/bin/$program /bin/$program /usr/sbin/$program /sbin/$program; do
    if [ -e "$path" ] && ! [ "$path" -ef "$state/standin" ]; then
      mount --bind "$state/standin" "$path"
    fi
    if [ -e "$path" ]; then covered=true; fi
  done
  if [ "$covered" = false ]; then
    touch /usr/local/sbin/$program
    mount --bind "$state/standin" /usr/local/sbin/$program
  fi
done
# Root's keys where a real host keeps them (the converge step of an LXC host rewrites them there: key rotation).
mkdir -p /root/.ssh
cp ${HOST_LAB_DIR}/authorized_keys /root/.ssh/authorized_keys
chmod 0700 /root/.ssh && chmod 0600 /root/.ssh/authorized_keys
# Last: it hides the work dir, and so $state (which stays mounted, but out of reach by its path).
mount -t tmpfs -o mode=1777 "pkh-$name-tmp" /tmp
/usr/sbin/sshd -D -e -f ${HOST_LAB_DIR}/sshd_config </dev/null 2>>${HOST_LAB_DIR}/sshd.log &
# Stay alive as the host's init, which also reaps the daemons the stand-in detaches (a shell waiting for its
# foreground sleep reaps any child), so a stopped daemon does not linger as a zombie.
while :; do sleep 3600; done
`;

/** sshd's configuration for a host: key-only root login on the host's address, everything in the lab's files. */
function sshdConfig(ip: string): string {
  return [
    'Port 22',
    `ListenAddress ${ip}`,
    `HostKey ${HOST_LAB_DIR}/ssh_host_ed25519_key`,
    `PidFile /run/sshd.pid`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'AuthorizedKeysFile .ssh/authorized_keys',
    // The lab's files sit in a root-only temporary directory that sshd would otherwise inspect.
    'StrictModes no',
    'PrintMotd no',
    'X11Forwarding no',
    'Subsystem sftp internal-sftp',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

/** Makes an ed25519 key pair (OpenSSH format, no passphrase) at `file` and `file.pub`; returns the public line. */
function makeSshKey(file: string, comment: string): string {
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

/** `type base64` of a public key line, without its comment. */
const withoutComment = (line: string) => line.split(/\s+/).slice(0, 2).join(' ');

/** Bounded poll: `predicate` every `stepMs` until it holds or `timeoutMs` passes; returns whether it held. */
async function pollUntil(predicate: () => boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < Math.ceil(timeoutMs / stepMs) + 1 && Date.now() < deadline; i++) {
    if (predicate()) {
      return true;
    }
    await sleep(stepMs);
  }
  return predicate();
}

/** This machine's PIDs of the processes in a node's network namespace (none once it is deleted). */
function pidsIn(node: LabNode): number[] {
  return run('ip', ['netns', 'pids', node.namespace]).output.split('\n').filter((line) => /^\d+$/.test(line)).map(Number);
}

export class RollingLab {
  /** The network underneath (bridge, node namespaces, process tracking, VIP holders): the failover lab's. */
  public readonly network = new FailoverLab();
  public readonly workDir = this.network.workDir;
  /** The namespace Terraform, ssh and the probes run in. */
  public readonly client: LabNode;
  /** Every namespace of the lab starts with this (the bridge's too). */
  public readonly namespacePrefix: string;
  /** The lab's SSH client key: private key text (OpenSSH format), its file, and the public key line. */
  public readonly privateKey: string;
  public readonly privateKeyFile = join(this.workDir, 'id_ed25519');
  public readonly publicKey: string;
  /** known_hosts with every host's key, for `ssh -o StrictHostKeyChecking=yes`. */
  public readonly knownHostsFile = join(this.workDir, 'known_hosts');
  private readonly nodes: LabNode[] = [];
  private readonly hosts = new Map<string, LabHost>();
  private readonly watches = new Set<() => void>();
  private readonly standIn = join(this.workDir, 'systemctl-standin');
  private readonly terraformConfig = join(this.workDir, 'terraformrc');
  private certificate?: { cert: string; key: string };
  private terraformRuns = 0;
  private stopped = false;

  /** Creates the bridge, the client namespace at `clientIp` and the lab's SSH client key. */
  constructor(clientIp = labAddress(50)) {
    try {
      this.client = this.addNode(CLIENT_NAME, clientIp);
      this.namespacePrefix = this.client.namespace.slice(0, -CLIENT_NAME.length);
      this.publicKey = makeSshKey(this.privateKeyFile, 'pkh-rolling-lab');
      this.privateKey = readFileSync(this.privateKeyFile, 'utf8');
      writeFileSync(this.knownHostsFile, '');
      writeFileSync(this.terraformConfig, '');
      // A copy with a known mode: the hosts execute it, whatever the checkout did to the repository file's mode.
      copyFileSync(join(__dirname, 'systemctl-standin.sh'), this.standIn);
      chmodSync(this.standIn, 0o755);
    } catch (error) {
      this.network.stop();
      throw error;
    }
  }

  /** Adds a plain namespace node (a stand-in API server, say) with `eth0` at `ip`/24 on the bridge. */
  public addNode(name: string, ip: string): LabNode {
    const node = this.network.addNode(name, ip);
    this.nodes.push(node);
    return node;
  }

  /**
   * Adds a host at `ip` and resolves once its sshd listens: own network, PID, mount and UTS namespaces, private
   * overlays over {@link OVERLAID_DIRECTORIES}, fresh /run and /tmp, the stand-ins over systemctl and timedatectl.
   */
  public async addSshHost(name: string, ip: string): Promise<LabHost> {
    if (this.hosts.has(name)) {
      throw new Error(`${name}: already a host of the lab`);
    }
    const node = this.addNode(name, ip);
    const dir = join(this.workDir, 'hosts', name);
    const state = join(this.workDir, 'state', name);
    const copies = join(this.workDir, 'copies', name);
    for (const path of [join(dir, 'systemctl'), state, copies]) {
      mkdirSync(path, { recursive: true });
    }
    const hostKey = withoutComment(makeSshKey(join(dir, 'ssh_host_ed25519_key'), `pkh-lab-${name}`));
    writeFileSync(join(dir, 'authorized_keys'), `${this.publicKey}\n`);
    writeFileSync(join(dir, 'sshd_config'), sshdConfig(ip));
    this.network.spawnIn(node, 'unshare', ['--pid', '--fork', '--mount-proc', '--mount', '--propagation', 'private', '--uts',
      'sh', '-c', HOST_INIT, 'pkh-init', name, dir, state, this.standIn, copies], `${name}-init`);
    let initPid: number | undefined;
    const listening = await pollUntil(() => {
      initPid ??= this.findInit(node);
      return initPid !== undefined && run('ip', ['netns', 'exec', node.namespace, 'ss', '-Hltn', 'src', `${ip}:22`]).output.trim() !== '';
    }, 15_000);
    if (!listening || initPid === undefined) {
      const logs = [join(this.workDir, `${name}-init.log`), join(dir, 'sshd.log')].filter(existsSync).map((f) => readFileSync(f, 'utf8')).join('\n');
      throw new Error(`${name}: sshd is not listening on ${ip}:22 after 15 s\n${logs}`);
    }
    const host: LabHost = { ...node, hostKey, initPid, dir };
    this.hosts.set(name, host);
    writeFileSync(this.knownHostsFile, [...this.hosts.values()].map((h) => `${h.ip} ${h.hostKey}\n`).join(''));
    return host;
  }

  /** Runs a shell command as root inside a host (its network, PID, mount and UTS namespaces), for assertions. */
  /**
   * Runs `argv` in the client namespace without blocking the event loop (probes run while Terraform does);
   * resolves with its exit status (null when killed after `timeoutMs`) and standard output.
   */
  public runInClient(argv: readonly string[], env: Record<string, string> = {}, timeoutMs = 10_000): Promise<{ status: number | null; stdout: string }> {
    return new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', this.client.namespace, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      let stdout = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
      });
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout });
      });
    });
  }

  public exec(host: LabHost, command: string, timeoutMs = 30_000): CommandResult {
    const result = spawnSync('nsenter', ['-t', String(host.initPid), '-n', '-p', '-m', '-u', '--root', '--wd=/', 'sh', '-c', command],
      { encoding: 'utf8', env: HOST_ENV, timeout: timeoutMs });
    return { status: result.status, stdout: result.stdout ?? '', stderr: `${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
  }

  /** Reads a file as the host sees it (through its init's root), or undefined when it does not exist. */
  public readHostFile(host: LabHost, path: string): string | undefined {
    const file = join(`/proc/${host.initPid}/root`, path);
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  }

  /**
   * Runs `command` on a host over SSH from the client namespace, as root with the lab's key, checking the host key
   * strictly against `knownHostsFile` (default: the lab's).
   */
  public ssh(host: LabHost, command: string, options: { knownHostsFile?: string; timeoutMs?: number; identityFile?: string } = {}): CommandResult {
    const result = spawnSync('ip', ['netns', 'exec', this.client.namespace, 'ssh', '-F', '/dev/null', '-i', options.identityFile ?? this.privateKeyFile,
      '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${options.knownHostsFile ?? this.knownHostsFile}`,
      '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'UpdateHostKeys=no', '-o', 'ConnectTimeout=5', `root@${host.ip}`, command],
    { encoding: 'utf8', timeout: options.timeoutMs ?? 30_000 });
    return { status: result.status, stdout: result.stdout ?? '', stderr: `${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
  }

  /** A further ed25519 key pair in the lab's work directory (e.g. a rotated admin key). */
  public makeKeyPair(name: string): { publicKey: string; privateKey: string; privateKeyFile: string } {
    const privateKeyFile = join(this.workDir, name);
    const publicKey = makeSshKey(privateKeyFile, `pkh-rolling-lab-${name}`);
    return { publicKey, privateKey: readFileSync(privateKeyFile, 'utf8'), privateKeyFile };
  }

  /** Every call of the systemctl and timedatectl stand-ins on a host, in call order. */
  public systemctlJournal(host: LabHost): JournalEntry[] {
    const file = join(host.dir, 'systemctl', 'journal.log');
    if (!existsSync(file)) {
      return [];
    }
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => {
      const [t, hostName, program, ...args] = line.split(' ');
      return { t: Number(t), host: hostName, program, args: args.filter(Boolean) };
    });
  }

  /** What a daemon the stand-in runs (haproxy, keepalived, named) wrote to stdout/stderr on a host, with start/stop marks. */
  public daemonLog(host: LabHost, unit: string): string {
    const file = join(host.dir, 'systemctl', `${unit}.log`);
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** Host by name. */
  public host(name: string): LabHost {
    const host = this.hosts.get(name);
    if (!host) {
      throw new Error(`${name}: no such host in the lab`);
    }
    return host;
  }

  /** Starts the failover lab's stand-in K3s API server (TLS on :6443, `x-server: <name>`) on a node. */
  public startApiStandin(node: LabNode): ChildProcess {
    this.certificate ??= makeCertificate(this.workDir);
    return this.network.spawnIn(node, process.execPath, [join(__dirname, '../failover/api-standin.js'), node.name, this.certificate.cert, this.certificate.key], node.name);
  }

  /**
   * Runs `terraform args…` in `dir` from the client namespace (so SSH provisioners reach the hosts), offline and
   * without prompts; output is kept and also streamed to `terraform-<n>.log` in the work dir. Killed after
   * `timeoutMs` (status null then).
   */
  public runTerraform(dir: string, args: readonly string[], env: Record<string, string> = {}, timeoutMs = 300_000): Promise<CommandResult> {
    const log = openSync(join(this.workDir, `terraform-${++this.terraformRuns}.log`), 'w');
    writeSync(log, `$ terraform ${args.join(' ')}  (in ${dir})\n`);
    // None of this process's TF_* settings (TF_LOG, a plugin cache…) leak into the run.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TF_')));
    const child = spawn('ip', ['netns', 'exec', this.client.namespace, 'terraform', ...args], {
      cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...inherited, ...TERRAFORM_ENV, TF_CLI_CONFIG_FILE: this.terraformConfig, ...env },
    });
    this.network.track(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      writeSync(log, chunk);
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      writeSync(log, chunk);
    });
    return new Promise((resolve) => {
      child.on('error', (error) => {
        stderr += `\n${String(error)}\n`;
      });
      const timer = setTimeout(() => {
        stderr += `\n(killed: terraform ${args.join(' ')} ran longer than ${timeoutMs} ms)\n`;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        closeSync(log);
        resolve({ status: code, stdout, stderr });
      });
    });
  }

  /**
   * Starts the failover lab's client probe (`probe.js`) from the client namespace: a fresh connection to
   * `vip:port` every interval; a connection fails on any error, a status other than 200, or beyond the limit.
   */
  public startProbe(vip: string, port: number, options: ProbeOptions = {}): RunningProbe {
    const { mode = 'tls', intervalMs = 25, limitMs = 200, maxDurationMs = 600_000 } = options;
    const logFile = join(this.workDir, `probe-${Date.now()}.log`);
    const out = openSync(logFile, 'w');
    const child = spawn('ip', ['netns', 'exec', this.client.namespace, process.execPath, join(__dirname, '../failover/probe.js'),
      vip, String(port), String(intervalMs), String(limitMs), String(maxDurationMs), mode], { stdio: ['ignore', out, 'inherit'] });
    closeSync(out);
    this.network.track(child);
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    return {
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
        }
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(resolve, 5000); })]);
        clearTimeout(timer);
        // A probe stopped by a signal may leave its last line unfinished.
        const probes = readFileSync(logFile, 'utf8').split('\n').filter((line) => line.endsWith('}')).map((line) => JSON.parse(line) as ProbeResult);
        return { probes, failed: probes.filter((p) => !p.ok) };
      },
    };
  }

  /**
   * Samples which of `hosts` hold `vip` every `everyMs` until stopped (or for at most `maxDurationMs`); the watch
   * records each change of holders with its time.
   */
  public watchVip(hosts: readonly LabNode[], vip: string, everyMs = 50, maxDurationMs = 600_000): VipWatch {
    const changes: VipChange[] = [];
    let last: string | undefined;
    let samples = 0;
    const sample = () => {
      const t = Date.now();
      const holders = this.network.vipHolders(hosts, vip);
      if (holders.join(',') !== last) {
        last = holders.join(',');
        changes.push({ t, holders });
      }
      if (++samples >= Math.ceil(maxDurationMs / everyMs)) {
        cancel();
      }
    };
    const timer = setInterval(sample, everyMs);
    const cancel = () => {
      clearInterval(timer);
      this.watches.delete(cancel);
    };
    this.watches.add(cancel);
    sample();
    return {
      stop: () => {
        cancel();
        return changes;
      },
    };
  }

  /** This machine's PIDs of every process in the lab's namespaces (hosts' daemons, stand-ins, Terraform…). */
  public processes(): number[] {
    return this.nodes.flatMap((node) => pidsIn(node));
  }

  /**
   * Kills every process of the lab, deletes its namespaces (the hosts' mounts go with their mount namespaces) and
   * removes the work dir (kept with FAILOVER_LAB_KEEP_FILES=1, the failover lab's switch); resolves once the
   * processes are gone. Safe to call twice.
   */
  public async stop(): Promise<void> {
    for (const cancel of [...this.watches]) {
      cancel();
    }
    if (this.stopped) {
      return;
    }
    this.stopped = true;
    const processes = this.processes();
    // Each host's init first, so that its `unshare` parent reaps it (left to tearDownLab, which kills in pid order,
    // the init would outlive its parent and wait as a zombie for this machine's PID 1 to reap it).
    this.network.kill([...this.hosts.values()].map((host) => host.initPid), 'SIGKILL');
    await pollUntil(() => ![...this.hosts.values()].some((host) => existsSync(`/proc/${host.initPid}`)), 5000);
    this.network.stop();
    // SIGKILL is asynchronous, and a process is gone only once reaped (this process reaps the ones it started).
    await pollUntil(() => !processes.some((pid) => existsSync(`/proc/${pid}`)), 10_000);
    // Removed again: a dying process may have written to it after the first removal.
    if (process.env.FAILOVER_LAB_KEEP_FILES !== '1') {
      rmSync(this.workDir, { recursive: true, force: true });
    }
  }

  /** The host's init: the process of its network namespace that is PID 1 in its own PID namespace. */
  private findInit(node: LabNode): number | undefined {
    return pidsIn(node).find((pid) => {
      try {
        return /^NSpid:\s+\d+\s+1$/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return false;
      }
    });
  }
}
