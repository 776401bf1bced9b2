import { spawn } from 'child_process';
import { RollingLab } from './lab';

/** What a DNS probe saw: every round asks each server once. */
export interface DnsProbeReport {
  readonly rounds: number;
  /** Rounds in which no server answered (a client with both resolvers would have failed). */
  readonly unanswered: number;
  /** Failed queries per server. */
  readonly failedByServer: Readonly<Record<string, number>>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One `dig` from the client namespace: true when `server` answered `name` with an address. */
function ask(lab: RollingLab, server: string, name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', lab.client.namespace, 'dig', '+short', '+norec', '+time=1', '+tries=1', `@${server}`, name, 'A'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let output = '';
    child.stdout.on('data', (chunk) => { output += chunk; });
    child.on('close', (status) => resolve(status === 0 && /^\d+\.\d+\.\d+\.\d+$/m.test(output)));
  });
}

/**
 * Asks every server for `name` every `everyMs` until stopped (at most `maxRounds` rounds), from the lab's client, as a
 * stub resolver with the site's resolvers would.
 */
export function startDnsProbe(lab: RollingLab, servers: readonly { name: string; ip: string }[], name: string, everyMs = 100, maxRounds = 6000): { stop(): Promise<DnsProbeReport> } {
  let stopped = false;
  let rounds = 0;
  let unanswered = 0;
  const failedByServer: Record<string, number> = Object.fromEntries(servers.map((s) => [s.name, 0]));
  const loop = (async () => {
    while (!stopped && rounds < maxRounds) {
      const answers = await Promise.all(servers.map((server) => ask(lab, server.ip, name)));
      rounds += 1;
      answers.forEach((ok, i) => { if (!ok) failedByServer[servers[i].name] += 1; });
      if (!answers.some(Boolean)) {
        unanswered += 1;
      }
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { rounds, unanswered, failedByServer };
    },
  };
}
