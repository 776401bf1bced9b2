import { SiteSpec } from '../../constructs';
import { SITE_SPECS } from '../../sites';

/**
 * A change to a seed site, as plain data: the fuzz generates lists of them, a failure prints them as a regression
 * test, and {@link mutatedSite} replays them. Values that JSON cannot hold (a BigInt, a cycle, a throwing getter, a
 * Proxy, ...) are described here and made only when a mutation is applied.
 */

/** A path into the site description; a number indexes a list (modulo its length when the list is not empty). */
export type FuzzPath = readonly (string | number)[];

/** JSON data. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** A value to put into the site. */
export type FuzzValue =
  | { readonly kind: 'json'; readonly value: Json }
  /** A list of values, each made on its own. */
  | { readonly kind: 'list'; readonly items: readonly FuzzValue[] }
  | { readonly kind: 'undefined' }
  | { readonly kind: 'special-number'; readonly value: 'NaN' | 'Infinity' | '-Infinity' | '-0' | '2**53+2' }
  | { readonly kind: 'bigint'; readonly value: string }
  | { readonly kind: 'symbol' }
  | { readonly kind: 'function' }
  | { readonly kind: 'date' }
  | { readonly kind: 'map' }
  | { readonly kind: 'boxed-string'; readonly value: string }
  | { readonly kind: 'huge-string'; readonly text: string; readonly times: number }
  /** The value found at `path` (shared, not copied: `hosts[0]` twice, or an ancestor, which makes a cycle). */
  | { readonly kind: 'reference'; readonly path: FuzzPath }
  /** A deep copy of the value found at `path` (a duplicated host, a copied address). */
  | { readonly kind: 'copy'; readonly path: FuzzPath }
  /** The IPv4 address `offset` after the one found at `path` (another address in the site's network). */
  | { readonly kind: 'ip-offset'; readonly path: FuzzPath; readonly offset: number }
  /** A Proxy of the value found at `path` that reads through (it must work like the value itself). */
  | { readonly kind: 'transparent-proxy'; readonly path: FuzzPath }
  /** A Proxy whose every trap throws. */
  | { readonly kind: 'throwing-proxy' }
  /** A getter that throws, defined in place of the key. */
  | { readonly kind: 'throwing-getter' }
  /** A getter that answers `first` on the first read and `later` on every later one. */
  | { readonly kind: 'changing-getter'; readonly first: Json; readonly later: Json };

/** One change. */
export type Mutation =
  | { readonly op: 'set'; readonly path: FuzzPath; readonly value: FuzzValue }
  | { readonly op: 'delete'; readonly path: FuzzPath }
  /** Removes a list entry and closes the gap (`splice`). */
  | { readonly op: 'remove'; readonly path: FuzzPath }
  /** Empties a list slot without closing the gap (`[a, , b]`). */
  | { readonly op: 'hole'; readonly path: FuzzPath }
  | { readonly op: 'push'; readonly path: FuzzPath; readonly value: FuzzValue }
  /** Defines an own key `__proto__` (as `JSON.parse` does) holding `value`. */
  | { readonly op: 'proto-key'; readonly path: FuzzPath; readonly value: Json };

/** The seeds by name, in `SITE_SPECS` order. */
export const SEED_NAMES: readonly string[] = SITE_SPECS.map((spec) => spec.name);

/** A deep copy of seed `seed` (a name of `SITE_SPECS`) with `mutations` applied in order. */
export function mutatedSite(seed: string, mutations: readonly Mutation[]): SiteSpec {
  const base = SITE_SPECS.find((spec) => spec.name === seed);
  if (!base) {
    throw new Error(`seed ${JSON.stringify(seed)} — expected one of ${SEED_NAMES.join(', ')}`);
  }
  const root = { site: structuredClone(base) as unknown };
  for (const mutation of mutations) {
    try {
      apply(root, mutation);
    } catch {
      // A change that cannot be made (it reads through a getter that throws) is left out, the same way each replay.
    }
  }
  return root.site as SiteSpec;
}

type Container = Record<string | number, unknown>;

/** The container holding the last key of `path` and that key (numbers taken modulo a non-empty list's length). */
function locate(root: { site: unknown }, path: FuzzPath, create: boolean): { parent: Container; key: string | number } | undefined {
  let parent: Container = root as unknown as Container;
  let key: string | number = 'site';
  for (const segment of path) {
    let next: unknown = parent[key];
    if ((typeof next !== 'object' || next === null) && create) {
      next = typeof segment === 'number' ? [] : {};
      parent[key] = next;
    }
    if (typeof next !== 'object' || next === null) {
      return undefined;
    }
    parent = next as Container;
    key = typeof segment === 'number' && Array.isArray(next) && next.length > 0 ? segment % next.length : segment;
  }
  return { parent, key };
}

function read(root: { site: unknown }, path: FuzzPath): unknown {
  const at = locate(root, path, false);
  return at ? at.parent[at.key] : undefined;
}

function apply(root: { site: unknown }, mutation: Mutation): void {
  if (mutation.op === 'push') {
    const list = read(root, mutation.path);
    if (Array.isArray(list)) {
      list.push(make(root, mutation.value));
    }
    return;
  }
  const at = locate(root, mutation.path, mutation.op === 'set' || mutation.op === 'proto-key');
  if (!at) {
    return;
  }
  const { parent, key } = at;
  switch (mutation.op) {
    case 'set':
      if (mutation.value.kind === 'throwing-getter') {
        Object.defineProperty(parent, key, { enumerable: true, configurable: true, get: () => { throw new Error('fuzz: this getter throws'); } });
      } else if (mutation.value.kind === 'changing-getter') {
        const { first, later } = mutation.value;
        let reads = 0;
        Object.defineProperty(parent, key, { enumerable: true, configurable: true, get: () => (reads++ === 0 ? first : later) });
      } else {
        parent[key] = make(root, mutation.value);
      }
      return;
    case 'delete':
      delete parent[key];
      return;
    case 'remove':
      if (Array.isArray(parent) && typeof key === 'number') {
        parent.splice(key, 1);
      } else {
        delete parent[key];
      }
      return;
    case 'hole':
      if (Array.isArray(parent) && typeof key === 'number') {
        delete parent[key];
      }
      return;
    case 'proto-key': {
      const target = parent[key];
      if (typeof target === 'object' && target !== null) {
        Object.defineProperty(target, '__proto__', { value: structuredClone(mutation.value), enumerable: true, configurable: true, writable: true });
      }
    }
  }
}

function make(root: { site: unknown }, value: FuzzValue): unknown {
  switch (value.kind) {
    case 'json':
      return structuredClone(value.value);
    case 'list':
      return value.items.map((item) => make(root, item));
    case 'undefined':
      return undefined;
    case 'special-number':
      return { NaN, Infinity, '-Infinity': -Infinity, '-0': -0, '2**53+2': 2 ** 53 + 2 }[value.value];
    case 'bigint':
      return BigInt(value.value);
    case 'symbol':
      return Symbol('fuzz');
    case 'function':
      return () => 'fuzz';
    case 'date':
      return new Date(0);
    case 'map':
      return new Map([['fuzz', 1]]);
    case 'boxed-string':
      return Object(value.value);
    case 'huge-string':
      return value.text.repeat(value.times);
    case 'reference':
      return read(root, value.path);
    case 'copy': {
      const found = read(root, value.path);
      try {
        return structuredClone(found);
      } catch {
        return found;
      }
    }
    case 'ip-offset': {
      const found = read(root, value.path);
      return typeof found === 'string' && /^\d+\.\d+\.\d+\.\d+$/.test(found) ? offsetIpv4(found, value.offset) : found;
    }
    case 'transparent-proxy': {
      const found = read(root, value.path);
      return typeof found === 'object' && found !== null ? new Proxy(found, {}) : found;
    }
    case 'throwing-proxy':
      return new Proxy({}, {
        get: () => { throw new Error('fuzz: get trap'); },
        ownKeys: () => { throw new Error('fuzz: ownKeys trap'); },
        getPrototypeOf: () => { throw new Error('fuzz: getPrototypeOf trap'); },
        has: () => { throw new Error('fuzz: has trap'); },
        getOwnPropertyDescriptor: () => { throw new Error('fuzz: getOwnPropertyDescriptor trap'); },
      });
    case 'throwing-getter':
    case 'changing-getter':
      return undefined;
  }
}

function offsetIpv4(ip: string, offset: number): string {
  const number = ip.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0) + offset;
  const clamped = Math.min(Math.max(number, 0), 2 ** 32 - 1);
  return [24, 16, 8, 0].map((shift) => Math.floor(clamped / 2 ** shift) % 256).join('.');
}

/** A one-line summary of a mutation, for messages. */
export function describeMutation(mutation: Mutation): string {
  const path = mutation.path.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${segment}`)).join('').replace(/^\./, '');
  const value = 'value' in mutation ? ` = ${JSON.stringify(mutation.value).slice(0, 80)}` : '';
  return `${mutation.op} ${path}${value}`;
}
