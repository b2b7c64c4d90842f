/**
 * @module
 * Small pieces every foreign-format loader shares: file probes, function-name and route-path
 * normalisation, limits per handler style, and lenient readers for JSON-with-comments and dotenv
 * files. Each reader records problems instead of throwing so a loader can report them all at once.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseJsoncText, printParseErrorCode } from 'jsonc-parser';
import type { ParseError } from 'jsonc-parser';
import { DEFAULT_LIMITS } from './spec.ts';
import type { HandlerStyle, Limits } from './spec.ts';
import type { ProblemList } from './problems.ts';

export const FUNCTION_NAME_RE = /^[a-zA-Z0-9_-]{1,63}$/;
export const FUNCTION_NAME_HINT = 'use 1–63 letters, digits, `-` or `_`';

export async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

export async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

export async function readTextIfExists(p: string): Promise<string | undefined> {
  try {
    return await readFile(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** Root-relative path with `/` separators, the form ConfigProblem.file and configFiles use. */
export function rel(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** First existing file among `base + ext` for each ext, or undefined. */
export async function firstExisting(candidates: readonly string[]): Promise<string | undefined> {
  for (const c of candidates) if (await isFile(c)) return c;
  return undefined;
}

/** Turns any label (folder, route, package name) into a valid FunctionSpec.name. */
export function sanitizeName(raw: string): string {
  const s = raw
    .replace(/[^a-zA-Z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return s === '' ? 'fn' : s;
}

/** Handler styles that call `(event, context)` / `(req, res)` one request at a time, as their platforms do. */
const NODE_STYLES: ReadonlySet<HandlerStyle> = new Set<HandlerStyle>(['lambda', 'lambda-edge', 'gcf', 'azure-v3', 'azure-v4']);

export function isNodeStyle(style: HandlerStyle): boolean {
  return NODE_STYLES.has(style);
}

/** DEFAULT_LIMITS with the platform's memory and timeout applied; concurrency follows the style. */
export function limitsFor(style: HandlerStyle, overrides: { memoryMb?: number | undefined; timeoutSeconds?: number | undefined } = {}): Limits {
  return {
    ...DEFAULT_LIMITS,
    ...(overrides.memoryMb === undefined ? {} : { memoryMb: overrides.memoryMb }),
    ...(overrides.timeoutSeconds === undefined ? {} : { wallMs: Math.round(overrides.timeoutSeconds * 1000) }),
    concurrency: CONCURRENCY[style] ?? 100,
  };
}

/**
 * Invocations one instance runs at once, as each platform runs them: a Lambda execution
 * environment handles one event at a time; Cloud Functions (2nd gen, what Firebase's
 * `onRequest` deploys to today) defaults to 80 per instance; an Azure Node.js worker runs
 * invocations concurrently on its event loop; Web-style runtimes are concurrent isolates.
 */
const CONCURRENCY: Partial<Record<HandlerStyle, number>> = { lambda: 1, 'lambda-edge': 1, gcf: 80 };

/** Upper-cases an HTTP method; `ANY` and `*` mean every method and come back undefined. */
export function normalizeMethod(method: string): string | undefined {
  const m = method.trim().toUpperCase();
  return m === 'ANY' || m === '*' || m === '' ? undefined : m;
}

/** Joins URL path pieces into `/a/b`: one leading slash, no doubled or trailing slashes (except `/`). */
export function joinUrlPath(...parts: string[]): string {
  const segs = parts.flatMap((p) => p.split('/')).filter((s) => s !== '');
  return `/${segs.join('/')}`;
}

/** Parses JSON that may carry comments and trailing commas; syntax errors become problems with a line. */
export function parseJsonc(text: string, problems: ProblemList, key = ''): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parseJsoncText(text, errors, { allowTrailingComma: true, disallowComments: false });
  for (const e of errors) {
    const line = text.slice(0, e.offset).split('\n').length;
    problems.error(key, `line ${line}: ${printParseErrorCode(e.error)}`, 'fix the JSON syntax');
  }
  return errors.length > 0 ? undefined : value;
}

/**
 * Reads a dotenv file (`KEY=value`, optional `export `, quotes, `#` comments). Double-quoted
 * values understand `\n`; values are not interpolated, as Vercel's, Firebase's and serverless's
 * loaders disagree on interpolation and plain values are the common ground.
 */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1] ?? '';
    let value = m[2] ?? '';
    const quote = value[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      // A quoted value may span lines until the closing quote.
      let body = value.slice(1);
      while (!body.includes(quote) && i + 1 < lines.length) body += `\n${lines[++i] ?? ''}`;
      const end = body.indexOf(quote);
      value = end === -1 ? body : body.slice(0, end);
      if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\r/g, '\r').replace(/\\"/g, '"');
    } else {
      value = value.replace(/\s+#.*$/, '').trim();
    }
    out[key] = value;
  }
  return out;
}

/** Reads the dotenv files that exist, later files overriding earlier ones; returns the values and the files read. */
export async function readDotenvFiles(root: string, names: readonly string[]): Promise<{ values: Record<string, string>; files: string[] }> {
  const values: Record<string, string> = {};
  const files: string[] = [];
  for (const n of names) {
    const text = await readTextIfExists(path.join(root, n));
    if (text === undefined) continue;
    Object.assign(values, parseDotenv(text));
    files.push(n);
  }
  return { values, files };
}

/** Reads package.json when present; a broken one is a problem in that file. */
export async function readPackageJson(dir: string, problems: ProblemList): Promise<Record<string, unknown> | undefined> {
  const text = await readTextIfExists(path.join(dir, 'package.json'));
  if (text === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    problems.error('', 'expected a JSON object');
  } catch (e) {
    problems.error('', `not valid JSON: ${e instanceof Error ? e.message : String(e)}`, 'fix the JSON syntax');
  }
  return undefined;
}

/** True when package.json lists `name` in dependencies, devDependencies or peerDependencies. */
export function hasDependency(pkg: Record<string, unknown> | undefined, name: string): boolean {
  if (!pkg) return false;
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
    const deps = pkg[field];
    if (typeof deps === 'object' && deps !== null && Object.hasOwn(deps, name)) return true;
  }
  return false;
}
