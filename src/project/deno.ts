/**
 * @module
 * Deno / Deno Deploy projects (`deno.json` or `deno.jsonc`, comments and trailing commas allowed)
 * → one 'deno' function named after the folder, serving every path (`/*`). The entry is, in order:
 * `deploy.entrypoint` (deployctl's config), the script a `dev`/`start` task runs (`deno run …
 * main.ts`, `deno serve … main.ts`), then the first of main.ts, mod.ts, server.ts, src/main.ts
 * (and their .tsx/.js forms). A `Deno.serve(handler)` module is handled as such; a module served by
 * `deno serve` (default export with `fetch`) has handlerExport 'default'. The import map
 * (`imports`/`scopes`, or the file `importMap` names) is kept in platform.importMap as a standard
 * import-map JSON document; `unstable` features in platform.unstable.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Fields, isRecord } from './fields.ts';
import type { LoadOptions } from './load-options.ts';
import { isFile, limitsFor, parseJsonc, readDotenvFiles, readTextIfExists, rel, sanitizeName } from './loader-util.ts';
import { ProblemList, throwIfErrors } from './problems.ts';
import { stripComments } from './source-scan.ts';
import type { ProjectSpec } from './spec.ts';

export const DENO_CONFIG_FILES: readonly string[] = ['deno.json', 'deno.jsonc'];
const DEFAULT_ENTRIES: readonly string[] = ['main.ts', 'main.tsx', 'main.js', 'mod.ts', 'mod.js', 'server.ts', 'server.tsx', 'server.js', 'src/main.ts', 'src/main.js'];
const SCRIPT_RE = /\.(ts|tsx|js|jsx|mjs|mts)$/;

/** The binding behind `Deno.openKv()`; not visible to the function under this name. */
export const DENO_KV_BINDING = '__deno_kv';

export interface DenoCron {
  name: string;
  schedule: string;
}

/**
 * `Deno.cron("name", "schedule", …)` calls with literal name and cron-string schedule, found in
 * the (comment-stripped) source so each can become a cron trigger; the adapter runs them by name
 * or schedule. Crons built at run time, or with object schedules, are not found here.
 */
export function denoCrons(src: string): DenoCron[] {
  const out: DenoCron[] = [];
  for (const m of src.matchAll(/\bDeno\.cron\s*\(\s*(['"`])((?:\\.|(?!\1).)*)\1\s*,\s*(['"`])((?:\\.|(?!\3).)*)\3/g)) {
    const name = m[2] ?? '';
    const schedule = (m[4] ?? '').trim().split(/\s+/).join(' ');
    if (name !== '' && schedule.split(' ').length === 5 && !out.some((c) => c.name === name)) out.push({ name, schedule });
  }
  return out;
}

export async function detectDeno(root: string): Promise<boolean> {
  for (const f of DENO_CONFIG_FILES) if (await isFile(path.join(root, f))) return true;
  return false;
}

/** The dotenv file a task loads with `--env-file[=path]` (or Deno 1's `--env`), if any. */
export function taskEnvFile(command: string): string | undefined {
  const m = /(?:^|\s)--env(?:-file)?(?:=(\S+))?(?=\s|$)/.exec(command);
  return m ? (m[1] ?? '.env').replace(/^['"]|['"]$/g, '') : undefined;
}

/** The script a `deno run` / `deno serve` task command runs, skipping flags and their values. */
export function taskEntry(command: string): string | undefined {
  // A task may chain commands (`deno fmt && deno run main.ts`); take the first run/serve.
  for (const part of command.split(/&&|\|\||;/)) {
    const words = part.trim().split(/\s+/);
    const at = words.findIndex((w, i) => (w === 'run' || w === 'serve') && words[i - 1] === 'deno');
    if (at === -1) continue;
    for (const w of words.slice(at + 1)) {
      if (w.startsWith('-')) continue;
      const file = w.replace(/^['"]|['"]$/g, '');
      if (SCRIPT_RE.test(file)) return file;
      break; // the first positional word is the script; anything else is not a local file
    }
  }
  return undefined;
}

export async function loadDeno(rootIn: string, _options: LoadOptions): Promise<ProjectSpec> {
  const root = path.resolve(rootIn);
  let file: string | undefined;
  for (const f of DENO_CONFIG_FILES) if (await isFile(path.join(root, f))) {
    file = f;
    break;
  }
  const configFile = file ?? 'deno.json';
  const problems = new ProblemList(configFile);
  const configFiles: string[] = [];
  let cfg: Record<string, unknown> = {};
  if (file !== undefined) {
    configFiles.push(file);
    const parsed = parseJsonc(await readFile(path.join(root, file), 'utf8'), problems);
    if (isRecord(parsed)) cfg = parsed;
    else if (parsed !== undefined) problems.error('', 'expected a JSON object');
  }
  const f = new Fields(cfg, '', problems);
  f.accept('compilerOptions', 'lint', 'fmt', 'test', 'bench', 'lock', 'nodeModulesDir', 'vendor', 'exclude', 'include', 'workspace', 'version', 'exports', 'publish', 'name', 'license', 'permissions');
  const extraProblems: ProblemList[] = [];

  // Entry: deploy.entrypoint, then a dev/start task's script, then the usual file names.
  let entry: string | undefined;
  let entryKey = '';
  let envFile: string | undefined;
  const deploy = f.object('deploy');
  const deployEntry = deploy?.string('entrypoint');
  deploy?.accept('project', 'exclude', 'include', 'org', 'app', 'entrypoint');
  if (deployEntry !== undefined) {
    entry = path.resolve(root, deployEntry);
    entryKey = 'deploy.entrypoint';
  }
  const tasks = f.object('tasks');
  for (const t of ['dev', 'start', 'serve']) {
    tasks?.accept(t);
    if (entry !== undefined) break;
    const raw = tasks?.raw[t];
    // Deno 2 tasks may be `{ command, description, dependencies }` objects.
    const command = typeof raw === 'string' ? raw : isRecord(raw) && typeof raw['command'] === 'string' ? raw['command'] : undefined;
    const script = command === undefined ? undefined : taskEntry(command);
    if (script !== undefined && command !== undefined) {
      entry = path.resolve(root, script);
      entryKey = `tasks.${t}`;
      envFile = taskEnvFile(command);
    }
  }
  for (const k of Object.keys(tasks?.raw ?? {})) tasks?.accept(k);
  if (entry === undefined) {
    for (const c of DEFAULT_ENTRIES) if (await isFile(path.join(root, c))) {
      entry = path.join(root, c);
      break;
    }
  }
  if (entry === undefined) problems.error('', 'no entry module found', `add main.ts calling Deno.serve(), or a \`tasks.dev\` like "deno run -A main.ts"`);
  else if (!(await isFile(entry))) {
    problems.error(entryKey, `${rel(root, entry)} does not exist`, 'point it at the module that calls Deno.serve()');
    entry = undefined;
  }

  // Import map: inline imports/scopes, or the file named by importMap.
  let importMap: Record<string, unknown> | undefined;
  const imports = f.object('imports');
  const scopes = f.object('scopes');
  const importMapFile = f.string('importMap');
  if (imports || scopes) importMap = { ...(imports ? { imports: imports.raw } : {}), ...(scopes ? { scopes: scopes.raw } : {}) };
  else if (importMapFile !== undefined) {
    const mapRel = rel(root, path.resolve(root, importMapFile));
    const mp = new ProblemList(mapRel);
    extraProblems.push(mp);
    const text = await readTextIfExists(path.resolve(root, importMapFile));
    if (text === undefined) problems.error('importMap', `${mapRel} does not exist`, 'fix the path or move the map into deno.json "imports"');
    else {
      configFiles.push(mapRel);
      const parsed = parseJsonc(text, mp);
      if (isRecord(parsed)) importMap = parsed;
    }
  }
  const unstable = f.stringArray('unstable');
  f.reportUnknown(['tasks', 'imports', 'scopes', 'importMap', 'unstable', 'deploy', 'compilerOptions']);

  let handlerExport = 'default';
  let crons: DenoCron[] = [];
  if (entry !== undefined) {
    const src = stripComments(await readFile(entry, 'utf8'));
    // Deno.serve() registers at import time; a `deno serve` module exports { fetch } instead.
    if (/\bDeno\.serve\s*\(/.test(src) || !/export\s+default\b/.test(src)) handlerExport = 'Deno.serve';
    crons = denoCrons(src);
  }
  const env = envFile === undefined ? { values: {}, files: [] } : await readDotenvFiles(root, [envFile]);
  configFiles.push(...env.files);
  throwIfErrors(problems, ...extraProblems);
  const name = sanitizeName(path.basename(root));
  const platform: Record<string, string> = { runtime: 'deno' };
  if (importMap !== undefined) platform['importMap'] = JSON.stringify(importMap);
  if (unstable !== undefined && unstable.length > 0) platform['unstable'] = unstable.join(',');
  if (crons.length > 0) platform['denoCrons'] = JSON.stringify(crons);
  return {
    name,
    root,
    format: 'deno',
    configFiles,
    functions: [
      {
        name,
        style: 'deno',
        entry: entry ?? root,
        handlerExport,
        vars: env.values,
        secrets: {},
        // Deno Deploy gives every project its own KV database: here, one per function.
        bindings: [{ type: 'denokv', name: DENO_KV_BINDING, database: name }],
        routes: [{ path: '/*', event: { kind: 'fetch' } }],
        triggers: crons.map((c) => ({ type: 'cron', expression: c.schedule })),
        limits: limitsFor('deno'),
        nodeCompat: false,
        compatibilityFlags: [],
        platform,
      },
    ],
    stateMachines: [],
  };
}
