/**
 * @module
 * Loads a Cloudflare Workers project: wrangler.toml, wrangler.jsonc or wrangler.json, plus
 * `.dev.vars` for local secrets — and outpost.toml, which has the same keys plus limits.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseJsonc, printParseErrorCode } from 'jsonc-parser';
import type { ParseError } from 'jsonc-parser';
import { parse as parseToml, TomlError } from 'smol-toml';
import { loadDevVars } from './dev-vars.ts';
import { isRecord } from './fields.ts';
import type { LoadOptions } from './load-options.ts';
import { ProblemList, throwIfErrors } from './problems.ts';
import { moduleExports, stripComments } from './source-scan.ts';
import type { ProjectSpec } from './spec.ts';
import { readWorkersConfig } from './workers-config.ts';

export const WORKERS_CONFIG_FILES = ['outpost.toml', 'wrangler.toml', 'wrangler.jsonc', 'wrangler.json'] as const;

/** The Workers-style config file in `root`, outpost.toml first. */
export function findWorkersConfig(root: string): string | undefined {
  return WORKERS_CONFIG_FILES.find((f) => existsSync(join(root, f)));
}

async function parseConfigFile(path: string, problems: ProblemList): Promise<Record<string, unknown> | undefined> {
  const text = await readFile(path, 'utf8');
  if (path.endsWith('.toml')) {
    try {
      return parseToml(text) as Record<string, unknown>;
    } catch (error) {
      const at = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : '';
      problems.error('', `not valid TOML${at}: ${(error as Error).message.split('\n')[0]}`);
      return undefined;
    }
  }
  const errors: ParseError[] = [];
  const value: unknown = parseJsonc(text, errors, { allowTrailingComma: true });
  const first = errors[0];
  if (first) {
    const line = text.slice(0, first.offset).split('\n').length;
    problems.error('', `not valid JSON with comments at line ${line}: ${printParseErrorCode(first.error)}`);
    return undefined;
  }
  if (!isRecord(value)) {
    problems.error('', 'expected an object at the top level');
    return undefined;
  }
  return value;
}

/**
 * A Worker in service-worker syntax: the entry has no default export (esbuild's metafile says
 * which exports exist, so `export default` inside a string or comment does not count) and
 * registers a listener with `addEventListener('fetch' | 'scheduled', …)` in live code.
 */
export async function isServiceWorkerScript(entry: string): Promise<boolean> {
  const exports = await moduleExports(entry);
  if (exports === undefined || exports.includes('default')) return false;
  const src = stripComments(await readFile(entry, 'utf8'));
  return /\baddEventListener\s*\(\s*(['"`])(fetch|scheduled)\1/.test(src);
}

export async function loadWorkersProject(root: string, options: LoadOptions): Promise<ProjectSpec> {
  const file = findWorkersConfig(root);
  if (!file) throw new Error(`no Workers config in ${root}`);
  const problems = new ProblemList(file);
  const raw = await parseConfigFile(join(root, file), problems);
  const devVars = options.dev ? await loadDevVars(root, options.stage) : { vars: {} };
  const fn = raw
    ? readWorkersConfig({
        root,
        raw,
        problems,
        secrets: devVars.vars,
        format: file === 'outpost.toml' ? 'outpost' : 'wrangler',
        ...(options.stage === undefined ? {} : { env: options.stage }),
      })
    : undefined;
  throwIfErrors(problems);
  if (!fn) throw new Error('unreachable: a config without errors produced no function');
  if (await isServiceWorkerScript(fn.entry)) fn.style = 'service-worker';
  return {
    name: fn.name || basename(root),
    root,
    format: file === 'outpost.toml' ? 'outpost' : 'wrangler',
    configFiles: devVars.file ? [file, devVars.file] : [file],
    functions: [fn],
    stateMachines: [],
  };
}
