/**
 * @module
 * Typed reads from a parsed config object that record a problem (with the key's full path and
 * a fix) instead of throwing, and report keys nobody read as unknown. Every loader reads its
 * raw file through this, so "what was expected" is worded the same way everywhere.
 */
import type { ProblemList } from './problems.ts';

type Raw = Record<string, unknown>;

export function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value === 'object' ? 'an object' : `the ${typeof value} ${String(value)}`}`;
}

export class Fields {
  readonly raw: Raw;
  readonly path: string;
  readonly problems: ProblemList;
  readonly #read = new Set<string>();

  constructor(raw: Raw, path: string, problems: ProblemList) {
    this.raw = raw;
    this.path = path;
    this.problems = problems;
  }

  key(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }

  has(name: string): boolean {
    return this.raw[name] !== undefined;
  }

  /** Marks keys as understood without reading them (accepted and ignored on purpose). */
  accept(...names: string[]): void {
    for (const n of names) this.#read.add(n);
  }

  #get(name: string, required: boolean, expected: string): unknown {
    this.#read.add(name);
    const value = this.raw[name];
    if (value === undefined && required) this.problems.error(this.key(name), `missing; expected ${expected}`, `add \`${name}\``);
    return value;
  }

  string(name: string, opts: { required?: boolean; pattern?: RegExp; patternHint?: string } = {}): string | undefined {
    const value = this.#get(name, opts.required ?? false, 'a string');
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      this.problems.error(this.key(name), `expected a string, got ${describe(value)}`);
      return undefined;
    }
    if (opts.pattern && !opts.pattern.test(value)) {
      this.problems.error(this.key(name), `${JSON.stringify(value)} is not valid`, opts.patternHint);
      return undefined;
    }
    return value;
  }

  number(name: string, opts: { required?: boolean; min?: number; max?: number; integer?: boolean } = {}): number | undefined {
    const value = this.#get(name, opts.required ?? false, 'a number');
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.problems.error(this.key(name), `expected a number, got ${describe(value)}`);
      return undefined;
    }
    const range = `${opts.min ?? '-∞'}–${opts.max ?? '∞'}`;
    if ((opts.integer && !Number.isInteger(value)) || (opts.min !== undefined && value < opts.min) || (opts.max !== undefined && value > opts.max)) {
      this.problems.error(this.key(name), `${value} is out of range`, `use ${opts.integer ? 'an integer' : 'a number'} in ${range}`);
      return undefined;
    }
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.#get(name, false, 'true or false');
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') {
      this.problems.error(this.key(name), `expected true or false, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  stringArray(name: string): string[] | undefined {
    const value = this.#get(name, false, 'an array of strings');
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      this.problems.error(this.key(name), `expected an array of strings, got ${describe(value)}`);
      return undefined;
    }
    return value as string[];
  }

  /** A table of string values (vars); numbers and booleans are stringified as wrangler does. */
  stringRecord(name: string): Record<string, string> | undefined {
    const value = this.#get(name, false, 'a table of strings');
    if (value === undefined) return undefined;
    if (!isRecord(value)) {
      this.problems.error(this.key(name), `expected a table, got ${describe(value)}`);
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string') out[k] = v;
      else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
      else if (isRecord(v) || Array.isArray(v)) out[k] = JSON.stringify(v);
      else this.problems.error(`${this.key(name)}.${k}`, `expected a string, got ${describe(v)}`);
    }
    return out;
  }

  object(name: string, opts: { required?: boolean } = {}): Fields | undefined {
    const value = this.#get(name, opts.required ?? false, 'a table');
    if (value === undefined) return undefined;
    if (!isRecord(value)) {
      this.problems.error(this.key(name), `expected a table, got ${describe(value)}`);
      return undefined;
    }
    return new Fields(value, this.key(name), this.problems);
  }

  /** An array of tables (`[[kv_namespaces]]`). */
  objects(name: string): Fields[] {
    const value = this.#get(name, false, 'an array of tables');
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      this.problems.error(this.key(name), `expected an array of tables, got ${describe(value)}`, `write it as [[${name}]] sections`);
      return [];
    }
    const out: Fields[] = [];
    value.forEach((item, i) => {
      if (isRecord(item)) out.push(new Fields(item, `${this.key(name)}[${i}]`, this.problems));
      else this.problems.error(`${this.key(name)}[${i}]`, `expected a table, got ${describe(item)}`);
    });
    return out;
  }

  /** Reports every key that no read or accept() touched. */
  reportUnknown(known?: readonly string[]): void {
    for (const k of Object.keys(this.raw)) {
      if (this.#read.has(k)) continue;
      const near = known?.find((n) => n.toLowerCase() === k.toLowerCase() || n.replace(/_/g, '') === k.replace(/[_-]/g, ''));
      this.problems.warn(this.key(k), 'unknown key, ignored', near ? `did you mean \`${near}\`?` : 'remove it or check the spelling');
    }
  }
}
