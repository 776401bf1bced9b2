import { RollingLab } from './lab';
import { startProbeLoop } from './probe-loop';

/** What a DNS probe saw: every round asks each server once. */
export interface DnsProbeReport {
  readonly rounds: number;
  /** Rounds in which no server answered (a client with both resolvers would have failed). */
  readonly unanswered: number;
  /** Failed queries per server. */
  readonly failedByServer: Readonly<Record<string, number>>;
}

/** One `dig` from the client namespace: true when `server` answered `name` with an address. */
async function ask(lab: RollingLab, server: string, name: string): Promise<boolean> {
  const { status, stdout } = await lab.runInClient(['dig', '+short', '+norec', '+time=1', '+tries=1', `@${server}`, name, 'A']);
  return status === 0 && /^\d+\.\d+\.\d+\.\d+$/m.test(stdout);
}

/**
 * Asks every server for `name` every `everyMs` until stopped (at most `maxRounds` rounds), from the lab's client, as a
 * stub resolver with the site's resolvers would.
 */
export function startDnsProbe(lab: RollingLab, servers: readonly { name: string; ip: string }[], name: string, everyMs = 100, maxRounds = 6000): { stop(): Promise<DnsProbeReport> } {
  let rounds = 0;
  let unanswered = 0;
  const failedByServer: Record<string, number> = Object.fromEntries(servers.map((s) => [s.name, 0]));
  const loop = startProbeLoop(async () => {
    const answers = await Promise.all(servers.map((server) => ask(lab, server.ip, name)));
    rounds += 1;
    answers.forEach((ok, i) => { if (!ok) failedByServer[servers[i].name] += 1; });
    if (!answers.some(Boolean)) {
      unanswered += 1;
    }
  }, everyMs, maxRounds);
  return {
    stop: async () => {
      await loop.stop();
      return { rounds, unanswered, failedByServer };
    },
  };
}
