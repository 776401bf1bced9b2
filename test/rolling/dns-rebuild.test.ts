import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { waitFor } from '../datastore/harness';
import { describeWithTools } from '../support/tools';
import { shellcheck } from '../support/validators';
import { DNS_PRIMARY as PRIMARY, DNS_SECONDARY as SECONDARY, ZoneFile, rebuildSpec, startDnsRebuildLab, synthAcceptingUnsafe } from './dns-lab';
import { startDnsProbe } from './dns-probe';
import { LabHost } from './lab';
import { MachineRun } from './machine-lab';
import { startProbeLoop } from './probe-loop';
import { DNS_SERVERS } from './rolling-site';

// Rebuilding the Bind9 secondary of a site with machines: `generation: 2` on dns-2 makes Terraform replace its
// container; the stand-in bpg/proxmox provider acts the destroy out on the lab host (guest-destroy.sh: named stopped,
// the zone files wiped) and the create, then the converge step installs the secondary again. The primary keeps
// answering throughout, so a client with both resolvers never goes unanswered.

/** The SOA serial `server` answers for `zone` (asked from inside `host`), or '' when it does not answer. */
function servedSerial(machines: MachineRun, host: LabHost, server: string, zone: string): string {
  return machines.run.lab.exec(host, `dig +short +norec +time=2 +tries=1 @${server} SOA ${zone} | cut -d ' ' -f 3`).stdout.trim();
}

/**
 * `rndc retransfer <zone>` on a secondary, then waits (at most 15 s) until its named logs a completed transfer of
 * that zone from the primary; false when it did not.
 */
async function retransfer(machines: MachineRun, host: LabHost, zone: string): Promise<boolean> {
  const { lab } = machines.run;
  const done = new RegExp(`transfer of '${zone.replace(/\./g, '\\.')}/IN' from ${PRIMARY.ip.replace(/\./g, '\\.')}#53: Transfer completed`);
  const before = lab.daemonLog(host, 'named').length;
  const asked = lab.exec(host, `rndc retransfer ${zone}`);
  expect({ status: asked.status, stderr: asked.stderr }).toEqual({ status: 0, stderr: '' });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (done.test(lab.daemonLog(host, 'named').slice(before))) {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

/**
 * Watches whether `path` exists on `host` (read through its init's root, so the event loop is not held), every
 * 50 ms; `stop` returns the times it was seen missing.
 */
function watchFile(host: LabHost, path: string): { stop(): Promise<{ missingAt: number[] }> } {
  const missingAt: number[] = [];
  const file = join(`/proc/${host.initPid}/root`, path);
  const loop = startProbeLoop(async () => {
    if (!existsSync(file)) {
      missingAt.push(Date.now());
    }
  }, 50, 20_000);
  return { stop: async () => { await loop.stop(); return { missingAt }; } };
}

describeWithTools(['sshd', 'terraform', 'named', 'dig', 'ip', 'nsenter', 'unshare', 'ssh-keygen', 'shellcheck'],
  'rebuild with the real Terraform CLI: the Bind9 secondary replaced, queries answered throughout', () => {
    let machines: MachineRun;
    // Every zone file, as named.conf.local keeps them (renderers/bind9.ts: BIND_ZONE_DIRECTORY/db.<zone>).
    let zones: readonly ZoneFile[];

    beforeAll(async () => {
      const checked = shellcheck(readFileSync(join(__dirname, 'guest-destroy.sh'), 'utf8'));
      expect({ ok: checked.ok, output: checked.output }).toEqual({ ok: true, output: '' });
      // The first apply creates both machines (or it throws).
      ({ machines, zones } = await startDnsRebuildLab());
    }, 900_000);
    afterAll(async () => {
      await machines?.stop();
    }, 60_000);

    test('generation 2 on dns-2: destroyed and created again, zone files wiped and served again with the primary\'s serials, no query unanswered', async () => {
      const { run } = machines;
      const primary = run.loadBalancers.get(PRIMARY.name)!;
      const secondary = run.loadBalancers.get(SECONDARY.name)!;
      const primarySerials = zones.map((z) => servedSerial(machines, primary, PRIMARY.ip, z.zone));
      expect(primarySerials).toEqual(zones.map((z) => String(z.serial)));

      // A rebuild is explicit. Whatever of it the synth guard calls unsafe (while rebuilds do not take rollout slots,
      // the replacement itself) is accepted by its id, as an operator would; nothing else may be refused.
      const refused = synthAcceptingUnsafe(machines, rebuildSpec(run.loadBalancers, 2));
      expect(refused.filter((problem) => !/hosts\[dns-2\]: generation/.test(problem))).toEqual([]);
      machines.expectRebuilds(true);
      const probe = startDnsProbe(run.lab, DNS_SERVERS, `${PRIMARY.name}.lab.test`);
      const zoneFile = watchFile(secondary, zones[0].path);
      const since = Date.now();
      const result = await run.apply();
      const seen = await probe.stop();
      const watched = await zoneFile.stop();
      process.stdout.write(`rebuild ${SECONDARY.name}: apply ${result.ms} ms, ${seen.rounds} rounds, unanswered ${seen.unanswered}, failed on ${SECONDARY.name} ${seen.failedByServer[SECONDARY.name]}\n`);
      expect({ status: result.status, tail: result.output.slice(-3000) }).toEqual({ status: 0, tail: expect.stringContaining('Apply complete!') });

      // Exactly dns-2's machine: destroyed (and its state wiped) before the new one is created.
      const events = machines.events(since).map((e) => `${e.event} ${e.host}`);
      expect(events).toEqual([`destroy ${SECONDARY.name}`, `destroy-done ${SECONDARY.name}`, `create ${SECONDARY.name}`]);
      // The zone file was gone on the destroyed machine (from its destroy on), and is back on the new one.
      const destroyedAt = machines.events(since).find((e) => e.event === 'destroy')!.t;
      expect(watched.missingAt.length).toBeGreaterThan(0);
      expect(watched.missingAt[0]).toBeGreaterThanOrEqual(destroyedAt);
      for (const zone of zones) {
        expect({ zone: zone.zone, exists: run.lab.readHostFile(secondary, zone.path) !== undefined }).toEqual({ zone: zone.zone, exists: true });
      }
      // The new secondary serves every zone with the primary's serial (its gate saw them; a dig of 2 s on a loaded
      // machine may time out once, so it is asked again for a while).
      const served = () => zones.map((z) => servedSerial(machines, secondary, SECONDARY.ip, z.zone));
      await waitFor(() => JSON.stringify(served()) === JSON.stringify(primarySerials), 20_000, 500);
      expect(served()).toEqual(primarySerials);

      expect(seen.rounds).toBeGreaterThan(10);
      expect(seen.unanswered).toBe(0);
      expect(seen.failedByServer[PRIMARY.name]).toBe(0);
      // The probe did see the old secondary go (its named stopped by the destroy): it watched the right thing.
      expect(seen.failedByServer[SECONDARY.name]).toBeGreaterThan(0);

      // The new secondary loaded the copy its converge step wrote (the same serials: no transfer was due). That it
      // is the primary's secondary again: a transfer it asks for completes, and named rewrites the zone file with it.
      const transferred = await retransfer(machines, secondary, zones[0].zone);
      expect({ zone: zones[0].zone, transferred }).toEqual({ zone: zones[0].zone, transferred: true });
      const rewritten = run.lab.readHostFile(secondary, zones[0].path) ?? '';
      expect(rewritten).not.toContain('Rendered by proxmox-k3s-ha');
      expect(rewritten).toContain(String(zones[0].serial));

      machines.expectRebuilds(false);
      const again = await run.apply();
      expect(again.output).toContain('Apply complete! Resources: 0 added, 0 changed, 0 destroyed');
    }, 900_000);
  }, { needsRoot: true });
