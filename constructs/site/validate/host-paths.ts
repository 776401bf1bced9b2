import { isRfc1123Label } from '../../core/names';
import { isObject } from './shape';

/**
 * Where problems about a host are reported: `hosts[cp2]` for a host whose name is valid and unique (an index
 * would name the wrong host as soon as an entry is added, removed or broken), `hosts[3]` otherwise. An all-digit
 * name keeps the index form, so `hosts[3]` always means the fourth entry.
 *
 * @returns the path of each entry of `hosts`, by index (empty when `hosts` is no list)
 */
export function hostPaths(hosts: unknown): string[] {
  if (!Array.isArray(hosts)) {
    return [];
  }
  const names = hosts.map((host) => (isObject(host) && isRfc1123Label(host.name) && !/^\d+$/.test(host.name) ? host.name : undefined));
  return names.map((name, i) => (name !== undefined && names.indexOf(name) === names.lastIndexOf(name) ? `hosts[${name}]` : `hosts[${i}]`));
}

/** `hosts[3].roles[0]` → `hosts[cp2].roles[0]` with the paths of {@link hostPaths}; other paths stay as they are. */
export function withHostPath(path: string, paths: readonly string[]): string {
  const match = /^hosts\[(\d+)\]/.exec(path);
  const renamed = match ? paths[Number(match[1])] : undefined;
  return renamed && match ? `${renamed}${path.slice(match[0].length)}` : path;
}

/** One object entry of `hosts`, with where it sits and the path its problems are reported at. */
export interface HostEntry {
  /** Its position in `hosts`. */
  readonly index: number;
  /** `hosts[<name>]` or `hosts[<index>]` (see {@link hostPaths}). */
  readonly path: string;
  /** The host as the site gives it (plain data, not yet checked). */
  readonly host: Readonly<Record<string, unknown>>;
}
