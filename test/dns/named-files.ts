import { existsSync, mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { SitePlan } from '../../constructs';
import { BIND_WORKING_DIRECTORY, BIND_ZONE_DIRECTORY, renderBind9Zones, renderNamedConfLocal, renderNamedConfOptions } from '../../constructs/renderers';

/** Debian's default zones (localhost, 127/0/255.in-addr.arpa, root hints): a real `/etc/bind/named.conf` includes them. */
export const DEBIAN_DEFAULT_ZONES = '/etc/bind/named.conf.default-zones';

/** One DNS server's rendered files, as the role writes them. */
export interface NamedFiles {
  readonly options: string;
  readonly local: string;
  readonly zones: readonly { readonly zone: string; readonly fileName: string; readonly content: string }[];
}

export function namedFiles(plan: SitePlan, hostName: string): NamedFiles {
  return {
    options: renderNamedConfOptions(plan, hostName),
    local: renderNamedConfLocal(plan, hostName),
    zones: renderBind9Zones(plan).map((z) => ({ zone: z.zone, fileName: z.path.slice(BIND_ZONE_DIRECTORY.length + 1), content: z.content })),
  };
}

/**
 * Writes the files into `dir` with only their paths rewritten (zone files and the working directory point into
 * `dir`), plus a `named.conf` that includes them the way Debian's does; returns the path of that `named.conf`.
 */
export function writeNamedConfiguration(dir: string, files: NamedFiles, options: { withZoneFiles?: boolean } = {}): string {
  const zoneDir = join(dir, 'zones');
  const workDir = join(dir, 'cache');
  mkdirSync(zoneDir, { recursive: true });
  mkdirSync(workDir, { recursive: true });
  const rewrite = (text: string) => text.split(`"${BIND_ZONE_DIRECTORY}/`).join(`"${zoneDir}/`).split(`"${BIND_WORKING_DIRECTORY}"`).join(`"${workDir}"`);
  writeFileSync(join(dir, 'named.conf.options'), rewrite(files.options));
  writeFileSync(join(dir, 'named.conf.local'), rewrite(files.local));
  if (options.withZoneFiles ?? true) {
    for (const zone of files.zones) {
      writeFileSync(join(zoneDir, zone.fileName), zone.content);
    }
  }
  const conf = join(dir, 'named.conf');
  writeFileSync(conf, [
    `include "${join(dir, 'named.conf.options')}";`,
    `include "${join(dir, 'named.conf.local')}";`,
    ...(existsSync(DEBIAN_DEFAULT_ZONES) ? [`include "${DEBIAN_DEFAULT_ZONES}";`] : []),
    '',
  ].join('\n'));
  return conf;
}
