import { Problem } from '../../core/problems';

/**
 * A site file is TypeScript, so a site description can hold values no JSON document can: a BigInt, a Symbol, a
 * function, a cycle, an array with a hole (a stray comma), a getter or a Proxy that throws when read. This module
 * reads the description once into plain data (objects, arrays, strings, numbers, booleans, null) and reports every
 * value it cannot take, with its path. Validation and the plan then work on that copy only: no check can crash on
 * an exotic value, and a getter cannot answer differently the second time it is read.
 */

/** Levels of nesting; the deepest field of a site (`proxmox.cloudImage.url`) is 3 levels down. */
const MAX_DEPTH = 24;
/** Values in one site description; a site of 1000 hosts has about 20 000. */
const MAX_VALUES = 200_000;
/** Characters in one string (an RSA key line of 16384 bits has about 2 800). */
const MAX_STRING_LENGTH = 65_536;
/** Unreadable values listed before reading stops: past that, the description is not a site file gone slightly wrong. */
const MAX_PROBLEMS = 100;

/**
 * Markers that cdktf and cdk8s put into text for a reference they resolve at synthesis (`${TfToken[TOKEN.7]}`,
 * `#{TfToken[…]}`, `&{TfToken[…]}`, cdk8s' `${Token[…]}`, and cdktf's number tokens, doubles near -1.8881e+289).
 * Site text holding one would be replaced by whatever that token stands for (e.g. a secret), so it is refused.
 */
const TOKEN_MARKER = /[$#&]\{TfToken\[|\$\{Token\[|-1\.888\d*e\+289/;
/** C0 control characters other than tab, line feed and carriage return, DEL, and UTF-16 halves without their pair. */
const UNPRINTABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A problem found while reading, at a path of indexes (`hosts[1].roles`); the caller may rename host paths. */
export interface InputProblem extends Problem {
  /** The value at `path` was left out: every other problem at or below `path` would only repeat this one. */
  readonly final: boolean;
}

/** The plain-data copy of a site description and the values that could not be taken into it. */
export interface SiteInput {
  /** Plain data; every value that could not be read is left out (undefined) and reported in `problems`. */
  readonly value: unknown;
  /** What could not be read, each at the path of the value in question. */
  readonly problems: readonly InputProblem[];
  /** The description has more values, or more unreadable ones, than a site can have: nothing else is worth reporting. */
  readonly tooLarge: boolean;
}

/** Reads `spec` into plain data (see the module comment); never throws. */
export function readSiteInput(spec: unknown): SiteInput {
  const reader = new InputReader();
  const value = reader.read(spec, '', []);
  return { value, problems: reader.problems, tooLarge: reader.tooLarge };
}

/**
 * The entries of a list of sites, each read once (a hole or an entry whose getter throws is reported, not thrown);
 * each entry is then read into plain data on its own by {@link readSiteInput}.
 */
export function readSiteList(list: unknown): { readonly entries: readonly { readonly index: number; readonly value: unknown }[]; readonly problems: readonly InputProblem[] } {
  const problems: InputProblem[] = [];
  const report = (path: string, value: unknown, expected: string) => problems.push({ path, value, expected, final: true });
  try {
    if (!Array.isArray(list)) {
      report('sites', typeof list, 'a list of site specifications');
      return { entries: [], problems };
    }
    const entries: { index: number; value: unknown }[] = [];
    for (let i = 0; i < Math.min(list.length, MAX_VALUES); i++) {
      if (!Object.prototype.hasOwnProperty.call(list, i)) {
        report(`sites[${i}]`, undefined, 'a site specification: the list has an empty slot here (a stray comma?)');
        continue;
      }
      try {
        entries.push({ index: i, value: list[i] });
      } catch (error) {
        report(`sites[${i}]`, undefined, `a readable value (reading it threw: ${messageOf(error)})`);
      }
    }
    return { entries, problems };
  } catch (error) {
    report('sites', undefined, `a readable list (reading it threw: ${messageOf(error)})`);
    return { entries: [], problems };
  }
}

class InputReader {
  public readonly problems: InputProblem[] = [];
  private values = 0;

  public get tooLarge(): boolean {
    return this.values > MAX_VALUES || this.problems.length > MAX_PROBLEMS;
  }

  public read(value: unknown, path: string, ancestors: readonly { value: object; path: string }[]): unknown {
    this.values += 1;
    if (this.values > MAX_VALUES) {
      if (this.values === MAX_VALUES + 1) {
        this.report('(site)', `[more than ${MAX_VALUES} values]`, `a site description of at most ${MAX_VALUES} values`);
      }
      return undefined;
    }
    switch (typeof value) {
      case 'undefined':
      case 'boolean':
      case 'number':
        return value;
      case 'string':
        return this.readString(value, path);
      case 'bigint':
        return this.report(path, `${value}n`, `a number (a BigInt such as ${value}n is no site data: write ${value})`);
      case 'symbol':
        return this.report(path, describeSymbol(value), 'plain data (a Symbol is no site data)');
      case 'function':
        return this.report(path, '[function]', 'plain data (a function is no site data)');
      default:
        return value === null ? null : this.readObject(value as object, path, ancestors);
    }
  }

  private readString(text: string, path: string): string | undefined {
    if (text.length > MAX_STRING_LENGTH) {
      return this.report(path, `${text.slice(0, 40)}… (${text.length} characters)`, `text of at most ${MAX_STRING_LENGTH} characters`);
    }
    if (TOKEN_MARKER.test(text)) {
      return this.report(path, text, 'text without a cdktf or cdk8s token marker such as "${TfToken[…]}" (it would be replaced by the value it stands for)');
    }
    if (UNPRINTABLE.test(text)) {
      return this.report(path, text, 'text without control characters (other than tab and line breaks) or unpaired UTF-16 surrogates');
    }
    return text;
  }

  private readObject(object: object, path: string, ancestors: readonly { value: object; path: string }[]): unknown {
    const cycle = ancestors.find((ancestor) => ancestor.value === object);
    if (cycle) {
      return this.report(path, '[cycle]', `a tree of plain values (this refers back to ${cycle.path || 'the site itself'})`);
    }
    if (ancestors.length >= MAX_DEPTH) {
      return this.report(path, '[nested too deep]', `at most ${MAX_DEPTH} levels of nesting`);
    }
    const inner = [...ancestors, { value: object, path }];
    try {
      if (Array.isArray(object)) {
        return this.readArray(object, path, inner);
      }
      if (!isPlainObject(object)) {
        const kind = kindOf(object);
        return this.report(path, `[${kind}]`, `a plain object or list (${kind} is no site data)`);
      }
      if (Object.getOwnPropertySymbols(object).length > 0) {
        this.report(path, '[an object with Symbol keys]', 'an object with text keys only (a Symbol key is no site data)', false);
      }
      const copy: Record<string, unknown> = {};
      for (const key of Object.keys(object)) {
        const at = path ? `${path}.${key}` : key;
        if (key === '__proto__') {
          this.report(at, undefined, 'a known key (__proto__ would replace the object\'s prototype)');
          continue;
        }
        const read = this.readProperty(object, key, at);
        if (read.ok) {
          copy[key] = this.read(read.value, at, inner);
        }
      }
      return copy;
    } catch (error) {
      return this.report(path, undefined, `a readable value (reading it threw: ${messageOf(error)})`);
    }
  }

  private readArray(array: readonly unknown[], path: string, ancestors: readonly { value: object; path: string }[]): unknown[] | undefined {
    const length = array.length;
    if (!Number.isSafeInteger(length) || length > MAX_VALUES) {
      return this.report(path, `[a list of ${length} values]`, `a list of at most ${MAX_VALUES} values`);
    }
    const copy: unknown[] = [];
    for (let i = 0; i < length; i++) {
      const at = `${path}[${i}]`;
      if (!Object.prototype.hasOwnProperty.call(array, i)) {
        this.report(at, undefined, 'a value: the list has an empty slot here (a stray comma?)');
        copy.push(undefined);
        continue;
      }
      const read = this.readProperty(array, String(i), at);
      copy.push(read.ok ? this.read(read.value, at, ancestors) : undefined);
    }
    return copy;
  }

  /** Reads one property once; a getter or Proxy trap that throws is reported, not propagated. */
  private readProperty(object: object, key: string, path: string): { ok: true; value: unknown } | { ok: false } {
    try {
      return { ok: true, value: (object as Record<string, unknown>)[key] };
    } catch (error) {
      this.report(path, undefined, `a readable value (reading it threw: ${messageOf(error)})`);
      return { ok: false };
    }
  }

  private report(path: string, value: unknown, expected: string, final = true): undefined {
    if (this.problems.length > MAX_PROBLEMS) {
      return undefined;
    }
    if (this.problems.length === MAX_PROBLEMS) {
      this.problems.push({ path: '(site)', value: `[more than ${MAX_PROBLEMS} values that are no site data]`, expected: `a site file: fix the ${MAX_PROBLEMS} listed first`, final: true });
      return undefined;
    }
    this.problems.push({ path: path || '(site)', value, expected, final });
    return undefined;
  }
}

/**
 * An object literal or `Object.create(null)`, from any realm (a structuredClone or a vm context has its own
 * `Object.prototype`): its prototype is null or a root prototype whose constructor is `Object`.
 */
function isPlainObject(object: object): boolean {
  const prototype = Object.getPrototypeOf(object) as { constructor?: unknown } | null;
  return prototype === null || (Object.getPrototypeOf(prototype) === null && typeof prototype.constructor === 'function' && prototype.constructor.name === 'Object');
}

/** `a Date`, `a Map`, `an instance of Foo`: what an object is, for a message. */
function kindOf(object: object): string {
  try {
    const name = Object.prototype.toString.call(object).slice(8, -1);
    const constructor = (Object.getPrototypeOf(object) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    const shown = typeof constructor === 'string' && constructor ? constructor : name;
    return `${/^[AEIOU]/.test(shown) ? 'an' : 'a'} ${shown}`;
  } catch {
    return 'this object';
  }
}

/** `Symbol(description)`, for a message. */
function describeSymbol(symbol: symbol): string {
  return `Symbol(${symbol.description ?? ''})`;
}

/** The message of whatever was thrown, without trusting it to convert cleanly. */
function messageOf(error: unknown): string {
  try {
    const message = error instanceof Error ? error.message : String(error);
    return message.length > 80 ? `${message.slice(0, 77)}...` : message;
  } catch {
    return `a ${typeof error}`;
  }
}
