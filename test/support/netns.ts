import { execFileSync, spawnSync } from 'child_process';
import { rmSync } from 'fs';

/** True when running as root (network namespaces, veth pairs and users need it). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Runs a command, throwing with its output when it fails. */
export function sh(command: string, args: readonly string[]): string {
  return execFileSync(command, [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
}

/** Runs a command and returns its status and output without throwing. */
export function run(command: string, args: readonly string[], timeoutMs = 30_000): { status: number | null; output: string } {
  const result = spawnSync(command, [...args], { encoding: 'utf8', timeout: timeoutMs });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** A name unique to this test process, short enough for interface names (15 characters). */
export function uniqueName(prefix: string): string {
  return `${prefix}${process.pid.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`.slice(0, 15);
}

/**
 * Creates `namespace` and plugs it into the bridge `br0` of `switchNamespace`: a veth pair whose switch end is
 * `switchPort` (set it down to cut the namespace off) and whose other end is `eth0` at `ip`/24; loopback up.
 */
export function addBridgedNamespace(switchNamespace: string, namespace: string, switchPort: string, ip: string): void {
  sh('ip', ['netns', 'add', namespace]);
  sh('ip', ['-n', switchNamespace, 'link', 'add', switchPort, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace]);
  sh('ip', ['-n', switchNamespace, 'link', 'set', switchPort, 'master', 'br0', 'up']);
  sh('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
  sh('ip', ['-n', namespace, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
  sh('ip', ['-n', namespace, 'link', 'set', 'eth0', 'up']);
}

/** A network namespace holding one veth end named `interfaceName` (up), for `keepalived -t`. */
export function withInterfaceNamespace<T>(interfaceName: string, body: (namespace: string) => T): T {
  const namespace = uniqueName('pkhk');
  sh('ip', ['netns', 'add', namespace]);
  try {
    sh('ip', ['-n', namespace, 'link', 'add', interfaceName, 'type', 'veth', 'peer', 'name', 'peer0']);
    sh('ip', ['-n', namespace, 'link', 'set', interfaceName, 'up']);
    return body(namespace);
  } finally {
    run('ip', ['netns', 'delete', namespace]);
  }
}

/** Creates a system user for the test when missing; returns a function that removes it again if it was created. */
export function ensureSystemUser(name: string): () => void {
  if (run('id', ['-u', name]).status === 0) {
    return () => undefined;
  }
  sh('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  return () => {
    run('userdel', [name]);
  };
}

/** What a namespace lab created, for {@link tearDownLab}. */
export interface LabResources {
  readonly namespaces: string[];
  readonly children: readonly { readonly pid?: number }[];
  readonly workDir: string;
  /** Environment variable that, set to 1, keeps the work directory for debugging. */
  readonly keepFilesVariable: string;
}

/**
 * Kills every process inside the lab's namespaces and every process group it started, deletes the namespaces
 * (last created first) and the work directory. Safe to call twice.
 */
export function tearDownLab(lab: LabResources): void {
  for (const namespace of lab.namespaces) {
    for (const pid of run('ip', ['netns', 'pids', namespace]).output.split('\n').filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const child of lab.children) {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone (or not a group leader)
      }
    }
  }
  for (const namespace of lab.namespaces.splice(0).reverse()) {
    run('ip', ['netns', 'delete', namespace]);
  }
  if (process.env[lab.keepFilesVariable] !== '1') {
    rmSync(lab.workDir, { recursive: true, force: true });
  }
}
