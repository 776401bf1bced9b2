import { markdownTable, medianMax } from '../support/bench-stats';
import { DNS_PRIMARY, DNS_SECONDARY, rebuildSpec, startDnsRebuildLab, synthAcceptingUnsafe } from './dns-lab';
import { startDnsProbe } from './dns-probe';
import { waitUntil } from './postgres-lab';
import { DNS_SERVERS } from './rolling-site';

/**
 * `npm run bench:rolling` (with the other rolling benches): the Bind9 secondary (dns-2) rebuilt BENCH_REPS times
 * (default 5), each time a new generation (the stand-in provider destroys its container, wiping its zone files, and
 * creates it again; its converge step installs the secondary), while a client asks both servers every 100 ms.
 * Prints median / max of: rounds unanswered by both, failed queries on dns-1 and on dns-2, apply time.
 */
const REPS = Number(process.env.BENCH_REPS ?? 5);
const QUERY_NAME = `${DNS_PRIMARY.name}.lab.test`;

test(`the Bind9 secondary rebuilt ${REPS} times while a client queries both servers: median / max`, async () => {
  const { machines } = await startDnsRebuildLab();
  const { run } = machines;
  const secondaryAnswers = async () => {
    const probe = startDnsProbe(run.lab, [DNS_SECONDARY], QUERY_NAME, 100, 1);
    return (await probe.stop()).failedByServer[DNS_SECONDARY.name] === 0;
  };
  try {
    machines.expectRebuilds(true);
    const results: { unanswered: number; failedPrimary: number; failedSecondary: number; applyMs: number }[] = [];
    for (let i = 0; i < REPS; i++) {
      // A rebuild is explicit: the synth guard's refusal of dns-2's replacement is accepted by its id, nothing else.
      const refused = synthAcceptingUnsafe(machines, rebuildSpec(run.loadBalancers, 2 + i));
      expect(refused.filter((problem) => !/hosts\[dns-2\]: generation/.test(problem))).toEqual([]);
      const probe = startDnsProbe(run.lab, DNS_SERVERS, QUERY_NAME);
      const since = Date.now();
      const applied = await run.apply();
      const seen = await probe.stop();
      expect({ status: applied.status, tail: applied.output.slice(-3000) }).toEqual({ status: 0, tail: expect.stringContaining('Apply complete!') });
      expect(machines.events(since).filter((e) => !e.event.endsWith('-done')).map((e) => `${e.event} ${e.host}`))
        .toEqual([`destroy ${DNS_SECONDARY.name}`, `create ${DNS_SECONDARY.name}`]);
      console.log(`rebuild ${i + 1}: ${seen.rounds} rounds, unanswered ${seen.unanswered}, failed ${JSON.stringify(seen.failedByServer)}, apply ${applied.ms} ms`);
      results.push({
        unanswered: seen.unanswered, failedPrimary: seen.failedByServer[DNS_PRIMARY.name], failedSecondary: seen.failedByServer[DNS_SECONDARY.name], applyMs: applied.ms,
      });
      // The next rebuild starts with the new secondary answering.
      expect(await waitUntil(secondaryAnswers, 30_000)).toBe(true);
    }
    console.log(markdownTable([`measure (${REPS} rebuilds of ${DNS_SECONDARY.name}, the Bind9 secondary)`, 'median / max'], [
      ['rounds unanswered by both servers', medianMax(results.map((r) => r.unanswered))],
      [`failed queries on ${DNS_PRIMARY.name} (primary)`, medianMax(results.map((r) => r.failedPrimary))],
      [`failed queries on ${DNS_SECONDARY.name} (rebuilt)`, medianMax(results.map((r) => r.failedSecondary))],
      ['apply time (ms)', medianMax(results.map((r) => r.applyMs))],
    ]));
  } finally {
    await machines.stop();
  }
}, 1_800_000);
