/**
 * @module
 * Google Cloud Functions / Firebase projects → one 'gcf' function whose module holds every
 * HTTPS function. The code folder is `functions.source` from firebase.json (default `functions/`)
 * when firebase.json exists, else the project folder; the entry is package.json `main` (default
 * index.js; a compiled `lib/x.js` that is not built yet falls back to `src/x.ts`). Each HTTP
 * function gets `/<name>` and `/<name>/*` with `{ kind: 'export', name }`.
 *
 * HTTP functions are found by reading source text (nothing runs):
 * - `export const name = functions.https.onRequest(…)` / `exports.name = ….https.onRequest(…)`,
 *   including `functions.region(…).runWith(…).https.onRequest` chains and v2 `onRequest(…)`;
 * - Functions Framework registrations `functions.http('name', handler)` / `http('name', …)`;
 * - a `functions-framework --target=name` script naming a plain exported function.
 * Modules the entry re-exports (`export * from './x'`, `export { a } from './x'`,
 * `exports.a = require('./x').a`) are scanned too. Names built at run time, functions grouped
 * in nested objects (`exports.api = { users: … }`) and callable (`onCall`) functions are not seen.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isRecord } from './fields.ts';
import type { LoadOptions } from './load-options.ts';
import { firstExisting, hasDependency, isDir, limitsFor, parseJsonc, readDotenvFiles, readPackageJson, readTextIfExists, rel, sanitizeName } from './loader-util.ts';
import { ProblemList, throwIfErrors } from './problems.ts';
import { balanced, moduleExports, stripComments } from './source-scan.ts';
import type { ProjectSpec, RouteSpec } from './spec.ts';

const GOOGLE_PACKAGES = ['firebase-functions', '@google-cloud/functions-framework'];
const IMPORT_RE = /(?:from\s*|require\s*\(\s*)['"](firebase-functions|@google-cloud\/functions-framework)[/'"]/;
const IDENT = '[A-Za-z_$][\\w$]*';
/** A definition's right-hand side up to `onRequest(`, without crossing into the next statement or handler. */
const TO_ON_REQUEST = String.raw`(?:(?!=>|\bfunction\b|;|\bexport\b|\bexports\.)[\s\S]){0,400}?\bonRequest\s*\(`;
const DEF_RES: readonly RegExp[] = [
  new RegExp(String.raw`(export\s+)?(?:const|let|var)\s+(${IDENT})\s*=\s*${TO_ON_REQUEST}`, 'g'),
  new RegExp(String.raw`()(?:module\.)?exports\.(${IDENT})\s*=\s*${TO_ON_REQUEST}`, 'g'),
];
const FF_HTTP_RE = /(?:^|[^\w$.])(?:[\w$]+\.)?http\s*\(\s*(['"`])([^'"`$]+)\1\s*,/g;

async function codeDirOf(root: string, problems: ProblemList): Promise<{ dir: string; firebaseJson: boolean }> {
  const text = await readTextIfExists(path.join(root, 'firebase.json'));
  if (text === undefined) return { dir: root, firebaseJson: false };
  const cfg = parseJsonc(text, problems);
  const fns = isRecord(cfg) ? cfg['functions'] : undefined;
  // firebase.json `functions` is one table or a list of codebases; the first codebase is served.
  const first = Array.isArray(fns) ? fns[0] : fns;
  const source = isRecord(first) && typeof first['source'] === 'string' ? first['source'] : 'functions';
  const dir = path.resolve(root, source);
  if (await isDir(dir)) return { dir, firebaseJson: true };
  if (fns !== undefined) problems.error(Array.isArray(fns) ? 'functions[0].source' : 'functions.source', `folder ${source} does not exist`, 'point source at the folder holding package.json');
  return { dir: root, firebaseJson: true };
}

export async function detectGcf(root: string): Promise<boolean> {
  const sink = new ProblemList('package.json');
  const { dir } = await codeDirOf(root, new ProblemList('firebase.json'));
  const pkg = await readPackageJson(dir, sink);
  if (GOOGLE_PACKAGES.some((p) => hasDependency(pkg, p))) return true;
  const main = typeof pkg?.['main'] === 'string' ? pkg['main'] : 'index.js';
  const src = await readTextIfExists(path.join(dir, main));
  return src !== undefined && IMPORT_RE.test(src);
}

interface ScanResult {
  /** Names defined as HTTPS functions in a file, exported or not. */
  defined: Set<string>;
  /** Names Functions Framework registers with http('name', …). */
  registered: Set<string>;
}

async function resolveLocal(fromFile: string, spec: string): Promise<string | undefined> {
  const base = path.resolve(path.dirname(fromFile), spec);
  const noExt = base.replace(/\.(js|mjs|cjs)$/, '');
  return firstExisting([base, ...['.js', '.mjs', '.cjs', '.ts', '.mts'].map((e) => `${noExt}${e}`), ...['index.js', 'index.ts'].map((i) => path.join(base, i))]);
}

/** The names a module exports: ESM exports (esbuild), CommonJS `exports.x`/`module.exports = { … }`, and star re-exports. */
async function publicNames(file: string, src: string, depth: number): Promise<Set<string>> {
  const names = new Set((await moduleExports(file)) ?? []);
  for (const m of src.matchAll(new RegExp(String.raw`(?:module\.)?exports\.(${IDENT})\s*=`, 'g'))) names.add(m[1] ?? '');
  const obj = /module\.exports\s*=\s*\{/.exec(src);
  const body = obj ? balanced(src, obj.index + obj[0].length - 1) : undefined;
  if (body) for (const m of body.slice(1, -1).matchAll(new RegExp(String.raw`(?:^|,)\s*(${IDENT})\s*(?=[:,]|$)`, 'g'))) names.add(m[1] ?? '');
  if (depth < 3) {
    for (const m of src.matchAll(/export\s*\*\s*from\s*['"](\.[^'"]+)['"]/g)) {
      const f = await resolveLocal(file, m[1] ?? '');
      if (f) for (const n of await publicNames(f, stripComments(await readFile(f, 'utf8')), depth + 1)) names.add(n);
    }
  }
  return names;
}

async function scan(file: string, depth: number, seen: Set<string>, out: ScanResult, files: string[]): Promise<void> {
  if (seen.has(file)) return;
  seen.add(file);
  files.push(file);
  const src = stripComments(await readFile(file, 'utf8'));
  for (const re of DEF_RES) for (const m of src.matchAll(re)) out.defined.add(m[2] ?? '');
  for (const m of src.matchAll(FF_HTTP_RE)) out.registered.add(m[2] ?? '');
  if (depth >= 3) return;
  // Follow local modules the entry re-exports or requires; their HTTPS definitions count by name.
  const specs = [
    ...src.matchAll(/export\s*(?:\*|\{[^}]*\})\s*from\s*['"](\.[^'"]+)['"]/g),
    ...src.matchAll(/require\s*\(\s*['"](\.[^'"]+)['"]\s*\)/g),
    ...src.matchAll(/import\s*(?:[^'";]*?\s*from\s*)?['"](\.[^'"]+)['"]/g),
  ].map((m) => m[1] ?? '');
  for (const s of specs) {
    const f = await resolveLocal(file, s);
    if (f) await scan(f, depth + 1, seen, out, files);
  }
}

/** `--target=name` / `--target name` of a functions-framework script. */
function scriptTargets(pkg: Record<string, unknown> | undefined): string[] {
  const scripts = isRecord(pkg?.['scripts']) ? pkg['scripts'] : {};
  const out: string[] = [];
  for (const v of Object.values(scripts)) {
    if (typeof v !== 'string' || !v.includes('functions-framework')) continue;
    const m = /--target[=\s]+['"]?([\w$-]+)/.exec(v);
    if (m?.[1]) out.push(m[1]);
  }
  return out;
}

export async function loadGcf(rootIn: string, options: LoadOptions): Promise<ProjectSpec> {
  const root = path.resolve(rootIn);
  const fbProblems = new ProblemList('firebase.json');
  const { dir, firebaseJson } = await codeDirOf(root, fbProblems);
  const pkgFile = rel(root, path.join(dir, 'package.json'));
  const pkgProblems = new ProblemList(pkgFile);
  const pkg = await readPackageJson(dir, pkgProblems);
  const configFiles: string[] = [];
  if (firebaseJson) configFiles.push('firebase.json');
  if (pkg) configFiles.push(pkgFile);
  const problems = [fbProblems, pkgProblems];

  const mainRaw = pkg?.['main'];
  if (mainRaw !== undefined && typeof mainRaw !== 'string') pkgProblems.error('main', 'expected a string');
  const main = typeof mainRaw === 'string' ? mainRaw : 'index.js';
  let entry = await firstExisting([path.resolve(dir, main), ...(path.extname(main) === '' ? ['.js', '.ts'].map((e) => path.resolve(dir, `${main}${e}`)) : [])]);
  // TypeScript projects point main at compiled lib/; before a build, serve the source.
  if (entry === undefined && /^(\.\/)?lib\//.test(main)) entry = await firstExisting([path.resolve(dir, main.replace(/^(\.\/)?lib\//, 'src/').replace(/\.js$/, '.ts'))]);
  if (entry === undefined) pkgProblems.error(mainRaw === undefined ? '' : 'main', `entry ${main} does not exist`, mainRaw === undefined ? 'add index.js or set "main" in package.json' : 'point "main" at the module exporting the functions');

  const names: string[] = [];
  if (entry !== undefined) {
    const found: ScanResult = { defined: new Set(), registered: new Set() };
    const files: string[] = [];
    await scan(entry, 0, new Set(), found, files);
    const src = stripComments(await readFile(entry, 'utf8'));
    const exported = await publicNames(entry, src, 0);
    for (const n of found.defined) if (exported.has(n)) names.push(n);
    for (const n of found.registered) if (!names.includes(n)) names.push(n);
    for (const n of scriptTargets(pkg)) if (!names.includes(n) && exported.has(n)) names.push(n);
    if (names.length === 0) {
      const ep = new ProblemList(rel(root, entry));
      ep.error('', 'no HTTPS functions found', 'export one: export const api = onRequest((req, res) => …) or functions.https.onRequest(…)');
      problems.push(ep);
    }
  }
  const projectId = await firebaseProject(root);
  if (projectId !== undefined) configFiles.push('.firebaserc');
  const envNames = ['.env', ...(projectId ? [`.env.${projectId}`] : []), ...(options.dev ? ['.env.local'] : [])];
  const env = await readDotenvFiles(dir, envNames);
  configFiles.push(...env.files.map((f) => rel(root, path.join(dir, f))));
  throwIfErrors(...problems);

  const routes: RouteSpec[] = names.flatMap((name) => [
    { path: `/${name}`, event: { kind: 'export', name } },
    { path: `/${name}/*`, event: { kind: 'export', name } },
  ]);
  const engines = isRecord(pkg?.['engines']) ? pkg['engines'] : {};
  const nodeVersion = typeof engines['node'] === 'string' ? /\d+/.exec(engines['node'])?.[0] : undefined;
  const name = sanitizeName(typeof pkg?.['name'] === 'string' ? pkg['name'] : path.basename(root));
  const platform: Record<string, string> = { runtime: `nodejs${nodeVersion ?? '20'}`, region: 'us-central1', exports: names.join(',') };
  if (projectId) platform['projectId'] = projectId;
  return {
    name,
    root,
    format: 'gcf',
    configFiles,
    functions: [
      {
        name,
        style: 'gcf',
        entry: entry ?? root,
        // One module, several functions: each route names its export.
        handlerExport: '*',
        vars: env.values,
        secrets: {},
        bindings: [],
        routes,
        triggers: [],
        limits: limitsFor('gcf'),
        nodeCompat: true,
        compatibilityFlags: [],
        platform,
      },
    ],
    stateMachines: [],
  };
}

/** The default Firebase project from .firebaserc, used for `.env.<project>` and platform.projectId. */
async function firebaseProject(root: string): Promise<string | undefined> {
  const text = await readTextIfExists(path.join(root, '.firebaserc'));
  if (text === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    const projects = isRecord(v) ? v['projects'] : undefined;
    const d = isRecord(projects) ? projects['default'] : undefined;
    return typeof d === 'string' ? d : undefined;
  } catch {
    return undefined;
  }
}

