// haproxy-writer-state.sh run for real against a real HAProxy (master-worker, as haproxy.service runs it) in a
// network namespace of its own: the writer backend as rendered, two stand-ins for Patroni's REST API: db-2 answers
// /primary with 200 and a JSON body like Patroni's, db-1 (listed first) accepts and never answers, like a hung
// replica, so the check of db-1 decides only after `timeout check` and the state HAProxy starts it in shows.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { defineSite } from '../../constructs';
import {
  HAPROXY_ADMIN_SOCKET_PATH, HAPROXY_WRITER_STATE_PATH, POSTGRES_ASSET_DIR, PostgresAsset, renderPostgresWriterHaproxySections, renderWriterDownStateFile,
} from '../../constructs/renderers';
import { run, sh, uniqueName } from '../support/netns';
import { describeWithTools } from '../support/tools';
import { colocatedSite } from './fixtures';
import { waitFor } from './harness';

/** The colocated fixture without TLS: db-1 and db-2, checked over plain HTTP on loopback aliases here. */
const plan = defineSite({ ...colocatedSite, postgres: { ...colocatedSite.postgres, tls: false } });
const [DB1, DB2] = plan.postgres!.nodes;
const SCRIPT = join(POSTGRES_ASSET_DIR, PostgresAsset.HAPROXY_WRITER_STATE);

/** The primary's Patroni REST API stand-in: `/primary` answers 200 with a JSON body, as Patroni's does. */
const PRIMARY_STANDIN = `require('http').createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ state: 'running', role: 'master' }));
}).listen(8008, process.argv[1]);`;
/** A hung REST API: it accepts connections and never answers. */
const HUNG_STANDIN = `require('net').createServer((socket) => socket.on('error', () => undefined)).listen(8008, process.argv[1]);`;

describeWithTools(['haproxy', 'curl', 'ip', 'node'], 'haproxy-writer-state.sh against a real HAProxy: start DOWN, a reload keeps the state, then back to DOWN', () => {
  let dir: string;
  let namespace: string;
  const children: ChildProcess[] = [];
  const paths = () => ({ config: join(dir, 'haproxy.cfg'), pid: join(dir, 'haproxy.pid'), socket: join(dir, 'admin.sock'), state: join(dir, 'writer.state'), down: join(dir, 'writer-down.state') });
  const env = () => ({ PATH: process.env.PATH!, PKH_HAPROXY_SOCKET: paths().socket, PKH_WRITER_STATE: paths().state, PKH_WRITER_DOWN_STATE: paths().down, PKH_SETTLE_SECONDS: '5' });
  const script = (mode: string, extraEnv: Record<string, string> = {}) => spawnSync('ip', ['netns', 'exec', namespace, 'sh', SCRIPT, mode],
    { encoding: 'utf8', timeout: 30_000, env: { ...env(), ...extraEnv } });
  const cli = (command: string) => run('ip', ['netns', 'exec', namespace, 'sh', '-c', `printf '%s\\n' '${command}' | curl -s --max-time 2 --unix-socket '${paths().socket}' telnet://localhost`]).output;
  /** Operational state per server (0 DOWN, 2 UP) in the worker that answers. */
  const states = () => Object.fromEntries(cli('show servers state postgres_writer').split('\n').map((l) => l.split(' ')).filter((f) => f[1] === 'postgres_writer').map((f) => [f[3], Number(f[5])]));
  /** Administrative state per server (1: maintenance set by hand). */
  const adminStates = () => Object.fromEntries(cli('show servers state postgres_writer').split('\n').map((l) => l.split(' ')).filter((f) => f[1] === 'postgres_writer').map((f) => [f[3], Number(f[6])]));
  const workerPid = () => /^Pid: (\d+)/m.exec(cli('show info'))?.[1];
  const master = () => Number(readFileSync(paths().pid, 'utf8').split('\n')[0]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-writer-state-'));
    namespace = uniqueName('pkhws');
    sh('ip', ['netns', 'add', namespace]);
    sh('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
    for (const node of [DB1, DB2]) {
      sh('ip', ['-n', namespace, 'addr', 'add', `${node.ip}/32`, 'dev', 'lo']);
    }
    children.push(spawn('ip', ['netns', 'exec', namespace, 'node', '-e', HUNG_STANDIN, DB1.ip], { stdio: 'ignore', detached: true }));
    children.push(spawn('ip', ['netns', 'exec', namespace, 'node', '-e', PRIMARY_STANDIN, DB2.ip], { stdio: 'ignore', detached: true }));
    for (const node of [DB1, DB2]) {
      // Listening (a hung one too: the connection is accepted, the 1 s request times out).
      expect(await waitFor(() => !/Connection refused|Failed to connect/.test(run('ip', ['netns', 'exec', namespace, 'curl', '-sS', '-m', '0.2', `http://${node.ip}:8008/primary`]).output), 10_000, 100)).toBe(true);
    }
    // The rendered writer sections, with the admin socket and the state file in the test's directory.
    writeFileSync(paths().config, [
      'global', `    stats socket ${HAPROXY_ADMIN_SOCKET_PATH} mode 600 level admin expose-fd listeners`, `    pidfile ${paths().pid}`,
      'defaults', '    mode tcp', '    timeout connect 1s', '    timeout client 10s', '    timeout server 10s',
      ...renderPostgresWriterHaproxySections(plan),
    ].join('\n').split(HAPROXY_ADMIN_SOCKET_PATH).join(paths().socket).split(HAPROXY_WRITER_STATE_PATH).join(paths().state) + '\n');
    writeFileSync(paths().down, renderWriterDownStateFile(plan));
    writeFileSync(paths().state, 'stale: not a state file\n');
  });

  afterAll(() => {
    for (const child of children) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    run('ip', ['netns', 'delete', namespace]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts HAProxy (master-worker) on `config`; resolves once a worker answers on the admin socket. */
  const startHaproxy = async (config: string): Promise<ChildProcess> => {
    const haproxy = spawn('ip', ['netns', 'exec', namespace, 'haproxy', '-W', '-f', config], { stdio: 'ignore', detached: true });
    children.push(haproxy);
    expect(await waitFor(() => workerPid() !== undefined, 10_000, 20)).toBe(true);
    return haproxy;
  };

  test('the defect, without the state file: HAProxy starts db-1 UP, and it stays UP until its check times out', async () => {
    const withoutState = join(dir, 'without-state.cfg');
    writeFileSync(withoutState, readFileSync(paths().config, 'utf8').replace('load-server-state-from-file local', 'load-server-state-from-file none'));
    const haproxy = await startHaproxy(withoutState);
    expect(states()[DB1.name]).toBe(2);
    process.kill(-haproxy.pid!, 'SIGTERM');
    expect(await waitFor(() => workerPid() === undefined, 10_000, 50)).toBe(true);
  });

  test('down: the state HAProxy starts from is the rendered DOWN state; HAProxy started from it has every server DOWN until a check passes', async () => {
    const down = script('down');
    expect(down.status).toBe(0);
    expect(readFileSync(paths().state, 'utf8')).toBe(renderWriterDownStateFile(plan));
    await startHaproxy(paths().config);
    // The first answer: no server UP (db-1, listed first, would otherwise take the connections until its check fails).
    expect(states()[DB1.name]).toBe(0);
    expect(await waitFor(() => states()[DB2.name] === 2, 5_000, 50)).toBe(true);
    expect(states()[DB1.name]).toBe(0);
  });

  test('save, reload, settle: the new worker starts where the old one was (the primary UP, the replica DOWN and, set by hand, in maintenance); the file is DOWN again afterwards', async () => {
    const oldWorker = workerPid();
    // An operator's `disable server` is part of the state a reload keeps (and shows that the new worker read it).
    expect(cli(`disable server postgres_writer/${DB1.name}`)).toBe('\n');
    const save = script('save');
    expect(save.stderr).toBe('');
    expect(save.status).toBe(0);
    const saved = readFileSync(paths().state, 'utf8').split('\n');
    expect(saved[0]).toBe('1');
    expect(saved.filter((l) => l.split(' ')[3] === DB2.name)[0].split(' ')[5]).toBe('2');
    expect(saved.filter((l) => l.split(' ')[3] === DB1.name)[0].split(' ')[5]).toBe('0');
    process.kill(master(), 'SIGUSR2');
    const settle = script('settle');
    expect(settle.stderr).toBe('');
    expect(settle.status).toBe(0);
    const newWorker = workerPid();
    expect(newWorker).not.toBe(oldWorker);
    // Its first answer after the reload: it started where the old worker was.
    expect(states()).toEqual({ [DB1.name]: 0, [DB2.name]: 2 });
    expect(adminStates()[DB1.name]).toBe(1);
    expect(readFileSync(paths().state, 'utf8')).toBe(renderWriterDownStateFile(plan));
    expect(cli(`enable server postgres_writer/${DB1.name}`)).toBe('\n');
  });

  test('settle without a reload: gives up after PKH_SETTLE_SECONDS with a message, the file DOWN', () => {
    expect(script('save').status).toBe(0);
    const settle = script('settle', { PKH_SETTLE_SECONDS: '1' });
    expect(settle.status).toBe(1);
    expect(settle.stderr).toContain('no new HAProxy worker answered within 1 s (the reload failed?)');
    expect(readFileSync(paths().state, 'utf8')).toBe(renderWriterDownStateFile(plan));
  });

  test('save while no HAProxy answers (or its backend is another): every server DOWN, saying why', () => {
    const save = script('save', { PKH_HAPROXY_SOCKET: join(dir, 'no-such.sock') });
    expect(save.status).toBe(0);
    expect(save.stderr).toContain('no state of backend postgres_writer from the running HAProxy: its servers start DOWN');
    expect(readFileSync(paths().state, 'utf8')).toBe(renderWriterDownStateFile(plan));
    const other = script('save', { PKH_WRITER_BACKEND: 'k3s_api' });
    expect(other.stderr).toContain('no state of backend k3s_api');
  });

  test('an unknown mode is refused', () => {
    const result = script('restore');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('usage: haproxy-writer-state.sh down|save|settle');
  });
}, { needsRoot: true });
