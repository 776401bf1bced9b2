import { SITE_SPECS } from '../../sites';
import { StandinHome, createReattachedStandinHome } from '../support/terraform-cli';
import { PlanRow, formatPlanTable, planTableForSite, sorted } from './plan-table';

/**
 * The day-2 plan table of one seed site (one test file per site, so jest plans the sites in parallel): Terraform's
 * plan and the change report agree on every resource of every row, and every row that restarts or replaces a
 * running machine is refused as unsafe.
 */
export function describePlanTable(siteName: string): void {
  describe(`day-2 plan table: ${siteName}`, () => {
    let home: StandinHome;
    let rows: PlanRow[] = [];
    beforeAll(async () => {
      home = await createReattachedStandinHome();
      rows = await planTableForSite(SITE_SPECS.find((spec) => spec.name === siteName)!, home);
      // The table is the report: printed once per site.
      process.stdout.write(`\n${formatPlanTable(rows)}\n`);
    }, 900_000);
    afterAll(() => home?.dispose());

    test('every change was planned', () => {
      // kubeadm sites have no K3s version, decommissioning or datastore certificates: 9 rows; K3s sites 12 or more.
      expect(rows.length).toBeGreaterThanOrEqual(9);
    });

    test('the change report predicts Terraform\'s action on every resource of every change', () => {
      for (const row of rows) {
        expect({ change: row.change, actions: sorted(row.predicted) }).toEqual({ change: row.change, actions: sorted(row.terraform) });
      }
    });

    test('the change report names exactly the hosts whose converge step Terraform runs again', () => {
      for (const row of rows) {
        expect({ change: row.change, hosts: row.reportedConverging }).toEqual({ change: row.change, hosts: row.reconverged });
      }
    });

    test('a rotated secret, admin key or renewed certificate re-converges exactly the hosts that use it, and no machine restarts or is replaced', () => {
      const rotations = rows.filter((row) => row.usingRotated !== undefined);
      expect(rotations.map((row) => row.change)).toEqual(expect.arrayContaining(['admin key rotation', 'secret rotation']));
      for (const row of rotations) {
        expect(row.usingRotated!.length).toBeGreaterThan(0);
        expect({ change: row.change, reconverged: row.reconverged, machines: row.machines, problems: row.problems })
          .toEqual({ change: row.change, reconverged: row.usingRotated, machines: {}, problems: [] });
      }
    });

    test('a rebuild on purpose of a K3s node or a kubeadm worker is accepted only with its drain replaced and its rejoin cleanup planned before the new machine', () => {
      const rebuild = rows.find((row) => row.change === 'generation bump')!;
      const [host] = Object.keys(rebuild.machines);
      expect(rebuild.machines).toEqual({ [host]: 'replace' });
      const steps = (name: string) => Object.entries(rebuild.terraform).filter(([address]) => address.includes(`.${host}-${name}_`));
      expect(steps('RejoinCleanup')).toEqual([[expect.stringMatching(new RegExp(`^terraform_data\\.${host}-RejoinCleanup_[0-9A-F]+$`)), 'create']]);
      // Replaced with the machine (its destroy-time drain runs before the machine's destroy), through the machine's
      // rebuild counter, which changed in place.
      expect(steps('RebuildDrain')).toEqual([[expect.stringMatching(new RegExp(`^terraform_data\\.${host}-RebuildDrain_[0-9A-F]+$`)), 'replace']]);
      expect(Object.entries(rebuild.terraform).filter(([address]) => address.startsWith(`terraform_data.${host}_Generation_`)).map(([, action]) => action)).toEqual(['update']);
      expect(rebuild.problems).toEqual([]);
    });

    test('a node\'s rebuild drain is replaced, which drains the node, only by a rebuild: no other change (a key or secret rotation, a resize, a move) replaces it', () => {
      // A host's removal deletes its drain's block, and Terraform runs no destroy-time provisioner of a removed block.
      const replaced = rows.filter((row) => row.change !== 'generation bump')
        .flatMap((row) => Object.entries(row.terraform).filter(([address, action]) => /-RebuildDrain_/.test(address) && action === 'replace').map(([address]) => `${row.change}: ${address}`));
      expect(replaced).toEqual([]);
    });

    test('moving a VM to another Proxmox node migrates it: no replacement, no restart, its snippets follow it', () => {
      const move = rows.find((row) => row.change === 'proxmoxNode change')!;
      const vms = Object.entries(move.terraform).filter(([address]) => address.startsWith('proxmox_virtual_environment_vm.'));
      expect(vms).toEqual([[expect.any(String), 'update']]);
      expect(Object.values(move.machines)).toEqual(['update']);
      expect(move.problems).toEqual([]);
      const snippets = Object.entries(move.terraform).filter(([address]) => /^proxmox_virtual_environment_file\..*_(UserData|MetaData)_/.test(address));
      expect(snippets.map(([, action]) => action)).toEqual(['replace', 'replace']);
    });

    test('resizing the servers updates their VMs in place with the restart left pending, and re-runs each server\'s converge step (which restarts it) in rollout order', () => {
      const resize = rows.find((row) => row.change === 'memory and cores of the servers')!;
      const vms = Object.entries(resize.terraform).filter(([address]) => address.startsWith('proxmox_virtual_environment_vm.'));
      expect(vms.length).toBeGreaterThanOrEqual(1);
      expect(vms.map(([, action]) => action)).toEqual(vms.map(() => 'update'));
      const resizedHosts = Object.keys(resize.machines).sort();
      expect(Object.values(resize.machines)).toEqual(resizedHosts.map(() => 'update'));
      expect(resize.rolledRestarts).toEqual(resizedHosts);
      expect(resize.reconverged).toEqual(resizedHosts);
      expect(resize.problems).toEqual([]);
    });

    test('a machine setting changed through an escape hatch restarts it in its rollout slot, like the same change of the site', () => {
      const row = rows.find((r) => r.change === 'memory through an escape hatch')!;
      const hosts = Object.keys(row.machines);
      expect(hosts).toHaveLength(1);
      expect(Object.entries(row.terraform).filter(([address]) => /^proxmox_virtual_environment_(vm|container)\./.test(address)).map(([, action]) => action))
        .toEqual([row.machines[hosts[0]]]);
      expect({ rolled: row.rolledRestarts, reconverged: row.reconverged, problems: row.problems }).toEqual({ rolled: hosts, reconverged: hosts, problems: [] });
    });

    test('no guest restarts outside the rollout: every machine Terraform restarts or leaves a restart pending for is rolled or refused', () => {
      for (const row of rows) {
        const restarted = Object.entries(row.machines).filter(([, action]) => action === 'restart').map(([host]) => host);
        expect({ change: row.change, hosts: restarted.filter((host) => !row.rolledRestarts.includes(host) && !row.problems.some((p) => p.includes(`hosts[${host}]`))) })
          .toEqual({ change: row.change, hosts: [] });
        // A rolled restart re-runs the host's converge step, which gates it.
        expect({ change: row.change, ungated: row.rolledRestarts.filter((host) => !row.reconverged.includes(host)) }).toEqual({ change: row.change, ungated: [] });
      }
    });

    test('every change that restarts or replaces a running machine is unsafe, naming the host, except an accepted rebuild; the others are safe', () => {
      for (const row of rows) {
        // The host removed after its decommissioning is no longer running: destroying its machine is the point.
        // A K3s node's or kubeadm worker's rebuild on purpose is rolled with its drain and rejoin cleanup (the test above).
        const acceptedRebuild = row.change === 'generation bump';
        // A restart in the host's rollout slot is the point of the machine lifecycle (the tests above and below).
        const running = Object.entries(row.machines).filter(([host, action]) => !acceptedRebuild && !row.rolledRestarts.includes(host)
          && (action === 'restart' || action === 'replace')).map(([host]) => host);
        expect({ change: row.change, hosts: running.filter((host) => !row.problems.some((p) => p.includes(`hosts[${host}]`))) })
          .toEqual({ change: row.change, hosts: [] });
        if (running.length === 0) {
          expect({ change: row.change, problems: row.problems.filter((p) => /— the (provider restarts|machine is replaced)/.test(p)) }).toEqual({ change: row.change, problems: [] });
        }
      }
    });
  });
}
