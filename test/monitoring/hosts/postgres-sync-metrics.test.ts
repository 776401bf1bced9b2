import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CloudConfig, defineSite } from '../../../constructs';
import { publishesSynchronousStandbys } from '../../../constructs/monitoring/postgres-synchronous';
import { postgresPaths } from '../../../constructs/renderers';
import { POSTGRES_SYNC_METRICS_PATH, POSTGRES_SYNC_METRICS_SCRIPT, POSTGRES_SYNC_METRICS_UNIT, applyHostExporters } from '../../../constructs/roles';
import { loadSites } from '../../../sites';
import homelabSpec from '../../../sites/homelab';
import { describeWithTools } from '../../support/tools';
import { shellcheck } from '../../support/validators';

// postgres-sync-metrics.sh with psql (and runuser) stood in: what it publishes for each answer. PostgreSQL's own
// answer, on a primary that lost its synchronous standby to a Patroni restart, is checked in the rolling lab
// (test/rolling/postgres-rotation.test.ts).

const SITES = loadSites();

describe('postgres-sync-metrics.sh publishes the primary\'s synchronous standbys (psql stood in)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pkh-postgres-sync-'));
    mkdirSync(join(root, 'textfile'));
    mkdirSync(join(root, 'bin'));
    // runuser -u postgres -- PSQL ARGS...: logs the arguments, runs the rest.
    writeFileSync(join(root, 'bin', 'runuser'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${join(root, 'calls')}'\nshift 3\nexec "$@"\n`, { mode: 0o755 });
    writeFileSync(join(root, 'postgres-sync-metrics.sh'), POSTGRES_SYNC_METRICS_SCRIPT);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** Runs the script with a psql that prints `answer` (or fails when undefined); its status, stderr and the file. */
  const run = (answer: string | undefined) => {
    writeFileSync(join(root, 'psql'), answer === undefined ? '#!/bin/sh\necho "connection refused" >&2\nexit 2\n' : `#!/bin/sh\necho '${answer}'\n`, { mode: 0o755 });
    const result = spawnSync('sh', [join(root, 'postgres-sync-metrics.sh'), join(root, 'psql'), '/var/run/postgresql', '5433'], {
      encoding: 'utf8', timeout: 10_000, env: { ...process.env, PATH: `${join(root, 'bin')}:${process.env.PATH}`, PKH_TEXTFILE_DIR: join(root, 'textfile') },
    });
    const file = join(root, 'textfile', 'pkh-postgres-sync.prom');
    const samples = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((line) => line.startsWith('pkh_')) : undefined;
    return { status: result.status, stderr: result.stderr, samples, files: readdirSync(join(root, 'textfile')) };
  };

  test('a primary waiting for its standby: 1; one waiting for none: 0; psql reached as postgres on the socket and port', () => {
    expect(run('t|1')).toEqual({ status: 0, stderr: '', samples: ['pkh_postgres_synchronous_standbys 1'], files: ['pkh-postgres-sync.prom'] });
    expect(run('t|0')).toEqual({ status: 0, stderr: '', samples: ['pkh_postgres_synchronous_standbys 0'], files: ['pkh-postgres-sync.prom'] });
    expect(readFileSync(join(root, 'calls'), 'utf8')).toContain(`-u postgres -- ${join(root, 'psql')} -X -q -At -h /var/run/postgresql -p 5433 -d postgres -c SELECT NOT pg_is_in_recovery()`);
  });

  test('a replica publishes no sample (the primary\'s is the one the alert reads)', () => {
    expect(run('f|0')).toEqual({ status: 0, stderr: '', samples: [], files: ['pkh-postgres-sync.prom'] });
  });

  test('PostgreSQL not answering: no sample, a line naming where it asked, exit 1; an older sample is gone', () => {
    expect(run('t|1').samples).toEqual(['pkh_postgres_synchronous_standbys 1']);
    expect(run(undefined)).toEqual({ status: 1, stderr: 'postgres-sync-metrics: PostgreSQL does not answer on /var/run/postgresql port 5433\n', samples: [], files: ['pkh-postgres-sync.prom'] });
  });
});

describeWithTools(['shellcheck'], 'postgres-sync-metrics.sh passes shellcheck', () => {
  test('no finding at any severity', () => {
    const result = shellcheck(POSTGRES_SYNC_METRICS_SCRIPT);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});

describe('which hosts run it', () => {
  const rendered = (site: (typeof SITES)[number], host: (typeof SITES)[number]['hosts'][number]) => {
    const config = new CloudConfig({ hostname: host.name, fqdn: host.fqdn });
    applyHostExporters(config, site, host);
    return config;
  };
  const hasTimer = (config: CloudConfig) => config.services.some((service) => service.unit === `${POSTGRES_SYNC_METRICS_UNIT}.timer`);

  test('homelab (synchronous mode): both datastore nodes, every minute, with the site\'s psql, socket and port; nobody else', () => {
    const homelab = SITES.find((site) => site.name === 'homelab')!;
    expect(homelab.hosts.filter((host) => hasTimer(rendered(homelab, host))).map((host) => host.name)).toEqual(['pg-node-1', 'pg-node-2']);
    const config = rendered(homelab, homelab.hosts.find((host) => host.name === 'pg-node-1')!);
    const paths = postgresPaths(homelab);
    const service = config.files.find((file) => file.path === `/etc/systemd/system/${POSTGRES_SYNC_METRICS_UNIT}.service`)!;
    expect(service.content).toContain(`ExecStart=${POSTGRES_SYNC_METRICS_PATH} ${paths.psql} ${paths.socketDir} ${homelab.postgres!.port}\n`);
    const timer = config.files.find((file) => file.path === `/etc/systemd/system/${POSTGRES_SYNC_METRICS_UNIT}.timer`)!;
    expect(timer.content).toContain('OnUnitActiveSec=1min\n');
  });

  test('without synchronous mode (synchronousCommit: false): no timer', () => {
    const asynchronous = defineSite({ ...homelabSpec, name: 'homelab-async', postgres: { ...homelabSpec.postgres, synchronousCommit: false } });
    expect(asynchronous.hosts.filter((host) => publishesSynchronousStandbys(asynchronous, host) || hasTimer(rendered(asynchronous, host)))).toEqual([]);
  });

  test.each(SITES.map((site) => [site.name, site] as const))('%s: the timer exactly where the metric is published', (_name, site) => {
    for (const host of site.hosts) {
      expect([host.name, hasTimer(rendered(site, host))]).toEqual([host.name, publishesSynchronousStandbys(site, host)]);
    }
  });
});
