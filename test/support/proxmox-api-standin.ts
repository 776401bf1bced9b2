import { ChildProcess, spawn } from 'child_process';
import { IncomingMessage, Server, ServerResponse, createServer } from 'http';
import { createServer as createHttpsServer } from 'https';
import { AddressInfo, Server as NetServer } from 'net';

// The stand-in providers' throwaway self-signed certificate (ECDSA P-256, for localhost, a day).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createLocalhostCertificate } = require('../../tools/standin-providers/tls-cert') as { createLocalhostCertificate(): { certPem: string; keyPem: string } };

/** One pending change as `GET /nodes/{node}/qemu/{vmid}/pending` lists it. */
export interface PendingEntry { key: string; value?: string; pending?: string; delete?: number }

/**
 * A Proxmox API stand-in on loopback: the three calls a VM's restart step makes
 * (`constructs/tf/lifecycle/assets/proxmox-restart-pending.sh`), recorded. Every VM of every node answers the same:
 * `pending` is what each one has pending; a reboot task's outcome is `taskOutcome`.
 */
export class ProxmoxApiStandin {
  public readonly calls: { method: string; path: string; authorization?: string }[] = [];
  public pending: PendingEntry[] = [];
  /** What the reboot task ends with, or undefined: it never ends. */
  public taskOutcome: string | undefined = 'OK';
  public rejectToken = false;
  /** The reboot task ends OK but Proxmox still reports the changes pending. */
  public keepPending = false;
  private server?: Server;
  private listener?: ChildProcess;

  /**
   * Listens on 127.0.0.1 of this process, or of the network namespace `namespace` (where Terraform runs in the
   * rolling lab): a helper started there opens the socket and hands it over, and this process serves it. With
   * `https`, over TLS with a throwaway self-signed certificate (a site's endpoint must be https; the site then needs
   * `insecureTls`). Returns the endpoint (`http[s]://127.0.0.1:<port>`).
   */
  public async start(options: { namespace?: string; https?: boolean } = {}): Promise<string> {
    const onRequest = (request: IncomingMessage, response: ServerResponse) => this.handle(request, response);
    if (options.https) {
      const { certPem, keyPem } = createLocalhostCertificate();
      this.server = createHttpsServer({ cert: certPem, key: keyPem }, onRequest);
    } else {
      this.server = createServer(onRequest);
    }
    const server = this.server;
    if (!options.namespace) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    } else {
      const handle = await this.socketIn(options.namespace);
      await new Promise<void>((resolve) => server.listen(handle, resolve));
    }
    return `${options.https ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  public async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server?.listening ? this.server.close(() => resolve()) : resolve()));
    this.listener?.kill('SIGKILL');
  }

  /** A listening socket on 127.0.0.1 of `namespace`, opened there by a child and passed over its IPC channel (10 s bound). */
  private socketIn(namespace: string): Promise<NetServer> {
    // The helper closes its own copy once sent, so every connection reaches this process.
    const opener = "const s = require('net').createServer(); "
      + "s.listen(0, '127.0.0.1', () => process.send('listening', s, () => s.close())); process.on('disconnect', () => process.exit(0));";
    const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, '-e', opener], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.listener = child;
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Proxmox API stand-in: no socket from namespace ${namespace} within 10 s: ${stderr}`)), 10_000);
      child.once('message', (_message, handle) => {
        clearTimeout(timer);
        resolve(handle as NetServer);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Proxmox API stand-in: the socket helper in namespace ${namespace} exited with ${code}: ${stderr}`));
      });
    });
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const path = decodeURIComponent(request.url ?? '');
    this.calls.push({ method: request.method ?? '', path, authorization: request.headers.authorization });
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (this.rejectToken) {
      return reply(401, { data: null, message: 'authentication failure' });
    }
    const vm = /^\/api2\/json\/nodes\/([^/]+)\/qemu\/(\d+)\/(pending|status\/reboot)$/.exec(path);
    if (vm?.[3] === 'pending' && request.method === 'GET') {
      return reply(200, { data: [{ key: 'vmid', value: vm[2] }, ...this.pending] });
    }
    if (vm?.[3] === 'status/reboot' && request.method === 'POST') {
      return reply(200, { data: `UPID:${vm[1]}:0001A2B3:00C0FFEE:67543210:qmreboot:${vm[2]}:root@pam!terraform:` });
    }
    if (/^\/api2\/json\/nodes\/([^/]+)\/tasks\/UPID:\1:0001A2B3:00C0FFEE:67543210:qmreboot:\d+:root@pam!terraform:\/status$/.test(path)) {
      if (this.taskOutcome === undefined) {
        return reply(200, { data: { status: 'running', upid: 'x' } });
      }
      if (this.taskOutcome === 'OK' && !this.keepPending) {
        this.pending = [];
      }
      return reply(200, { data: { status: 'stopped', exitstatus: this.taskOutcome } });
    }
    return reply(404, { data: null });
  }
}
