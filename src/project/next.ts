/**
 * @module
 * Next.js projects → one function per route handler. App-router `app/**\/route.(ts|js|…)` files
 * become 'vercel-app-route' functions (the adapter calls the exported GET/POST/… and answers 405
 * for the rest); pages-router `pages/api/**` files become 'vercel-pages-api' functions (default
 * export). Folder names map to paths as Next does: `(group)` folders vanish, `[id]` → `{id}`,
 * `[...slug]` → `{slug+}`, `[[...slug]]` → both `/base` and `/base/{slug+}`; `_private` and
 * `@slot` folders are not routes. Edge routes (`runtime = 'edge'`) run Web-only; Node routes get
 * `nodeCompat` and `platform.runtime = 'nodejs'` — for pages routes that means the Node
 * `(req, res)` signature. `.env*` files load as Next loads them (`.local` ones as secrets).
 * Pages (`page.tsx`), middleware, next.config rewrites and basePath are not read.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { hasDependency, isDir, isFile, limitsFor, readDotenvFiles, readPackageJson, rel, sanitizeName } from './loader-util.ts';
import type { LoadOptions } from './load-options.ts';
import { ProblemList, throwIfErrors } from './problems.ts';
import { balanced, moduleExports, stringLiteral, stripComments, topLevelProperty } from './source-scan.ts';
import type { FunctionSpec, HandlerStyle, ProjectSpec, RouteSpec } from './spec.ts';

const ROUTE_FILE_RE = /^route\.(ts|js|mjs|tsx|jsx)$/;
const PAGES_FILE_RE = /^(?!.*\.d\.ts$).*\.(ts|js|mjs|tsx|jsx)$/;
const HTTP_EXPORTS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
const NEXT_CONFIGS = ['next.config.js', 'next.config.mjs', 'next.config.cjs', 'next.config.ts'];

type Segment = { kind: 'static'; text: string } | { kind: 'param'; name: string } | { kind: 'catchall'; name: string } | { kind: 'optional'; name: string };

async function firstDir(root: string, candidates: readonly string[]): Promise<string | undefined> {
  for (const c of candidates) if (await isDir(path.join(root, c))) return path.join(root, c);
  return undefined;
}

async function hasRouteFile(dir: string): Promise<boolean> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const e of entries) {
    if (e.isFile() && ROUTE_FILE_RE.test(e.name)) return true;
    if (e.isDirectory() && e.name !== 'node_modules' && (await hasRouteFile(path.join(dir, e.name)))) return true;
  }
  return false;
}

export async function detectNext(root: string): Promise<boolean> {
  if (hasDependency(await readPackageJson(root, new ProblemList('package.json')), 'next')) return true;
  for (const c of NEXT_CONFIGS) if (await isFile(path.join(root, c))) return true;
  if (await firstDir(root, ['pages/api', 'src/pages/api'])) return true;
  const app = await firstDir(root, ['app', 'src/app']);
  return app !== undefined && (await hasRouteFile(app));
}

/** One folder or file name → a path segment; null for names that add no segment (route groups). */
export function parseSegment(name: string): Segment | null {
  if (/^\(.*\)$/.test(name)) return null;
  let m = /^\[\[\.\.\.([^\]]+)\]\]$/.exec(name);
  if (m) return { kind: 'optional', name: m[1] ?? '' };
  m = /^\[\.\.\.([^\]]+)\]$/.exec(name);
  if (m) return { kind: 'catchall', name: m[1] ?? '' };
  m = /^\[([^\]]+)\]$/.exec(name);
  if (m) return { kind: 'param', name: m[1] ?? '' };
  return { kind: 'static', text: name };
}

/** Route paths for a list of segments; an optional catch-all yields the path with and without it. */
export function segmentPaths(segments: readonly Segment[]): string[] {
  const parts: string[] = [];
  for (const [i, s] of segments.entries()) {
    const last = i === segments.length - 1;
    if (s.kind === 'static') parts.push(s.text);
    else if (s.kind === 'param') parts.push(`{${s.name}}`);
    else if (last && s.kind === 'catchall') parts.push(`{${s.name}+}`);
    else if (last && s.kind === 'optional') return [`/${parts.join('/')}`, `/${[...parts, `{${s.name}+}`].join('/')}`];
  }
  return [`/${parts.join('/')}`];
}

function segmentName(segments: readonly Segment[]): string {
  const words = segments.map((s) => (s.kind === 'static' ? s.text : s.name));
  return words.length === 0 ? 'index' : words.join('-');
}

/** Folders that are not part of any route: private `_x`, parallel `@slot`, intercepting `(.)x`, and tooling folders. */
function skippedFolder(name: string): boolean {
  return name === 'node_modules' || name.startsWith('_') || name.startsWith('@') || name.startsWith('(.') || name.startsWith('.');
}

interface Found {
  file: string;
  segments: Segment[];
  router: 'app' | 'pages';
}

async function walkApp(dir: string, segments: Segment[], out: Found[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.isFile() && ROUTE_FILE_RE.test(e.name)) out.push({ file: path.join(dir, e.name), segments, router: 'app' });
  }
  for (const e of entries) {
    if (!e.isDirectory() || skippedFolder(e.name)) continue;
    const seg = parseSegment(e.name);
    await walkApp(path.join(dir, e.name), seg ? [...segments, seg] : segments, out);
  }
}

async function walkPages(dir: string, segments: Segment[], out: Found[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.isFile() && PAGES_FILE_RE.test(e.name)) {
      const base = e.name.replace(/\.(ts|js|mjs|tsx|jsx)$/, '');
      const seg = base === 'index' ? null : parseSegment(base);
      out.push({ file: path.join(dir, e.name), segments: seg ? [...segments, seg] : segments, router: 'pages' });
    } else if (e.isDirectory() && e.name !== 'node_modules' && !e.name.startsWith('.')) {
      const seg = parseSegment(e.name);
      await walkPages(path.join(dir, e.name), seg ? [...segments, seg] : segments, out);
    }
  }
}

/** `export const runtime = 'edge'` (app router) or `export const config = { runtime: 'edge' }` (pages). */
export function readRuntime(source: string, router: 'app' | 'pages'): 'edge' | 'nodejs' {
  const src = stripComments(source);
  let value: string | undefined;
  if (router === 'app') {
    value = /export\s+const\s+runtime\s*(?::[^=]+)?=\s*(['"`])([\w-]+)\1/.exec(src)?.[2];
  }
  const cfg = /export\s+const\s+config\s*(?::[^=]+)?=\s*\{/.exec(src);
  if (value === undefined && cfg) {
    const obj = balanced(src, cfg.index + cfg[0].length - 1);
    value = obj === undefined ? undefined : stringLiteral(topLevelProperty(obj, 'runtime'));
  }
  return value === 'edge' || value === 'experimental-edge' ? 'edge' : 'nodejs';
}

export async function loadNext(rootIn: string, options: LoadOptions): Promise<ProjectSpec> {
  const root = path.resolve(rootIn);
  const pkgProblems = new ProblemList('package.json');
  const pkg = await readPackageJson(root, pkgProblems);
  const configFiles: string[] = [];
  if (pkg) configFiles.push('package.json');
  for (const c of NEXT_CONFIGS) if (await isFile(path.join(root, c))) configFiles.push(c);

  const found: Found[] = [];
  const appDir = await firstDir(root, ['app', 'src/app']);
  if (appDir) await walkApp(appDir, [], found);
  const pagesApi = await firstDir(root, ['pages/api', 'src/pages/api']);
  if (pagesApi) await walkPages(pagesApi, [{ kind: 'static', text: 'api' }], found);

  const problems: ProblemList[] = [pkgProblems];
  const mode = options.dev ? 'development' : 'production';
  const publicEnv = await readDotenvFiles(root, ['.env', `.env.${mode}`]);
  // `.local` files hold a developer's own values and are gitignored by Next's template: secrets.
  const localEnv = await readDotenvFiles(root, ['.env.local', `.env.${mode}.local`]);
  configFiles.push(...publicEnv.files, ...localEnv.files);

  const functions: FunctionSpec[] = [];
  const byPath = new Map<string, string>();
  const names = new Set<string>();
  for (const f of found) {
    const relFile = rel(root, f.file);
    const fp = new ProblemList(relFile);
    problems.push(fp);
    const source = await readFile(f.file, 'utf8');
    const runtime = readRuntime(source, f.router);
    const exports = await moduleExports(f.file);
    if (exports === undefined) fp.error('', 'does not parse as JavaScript/TypeScript', 'fix the syntax error');
    const style: HandlerStyle = f.router === 'app' ? 'vercel-app-route' : 'vercel-pages-api';
    const methods = HTTP_EXPORTS.filter((m) => exports?.includes(m));
    if (f.router === 'app' && exports !== undefined && methods.length === 0 && !/export\s*\*/.test(source)) {
      fp.error('', 'exports no HTTP method handler', 'export async function GET(request) { … } (or POST, PUT, …)');
    }
    if (f.router === 'pages' && exports !== undefined && !exports.includes('default')) {
      fp.error('', 'has no default export', 'export default async function handler(req) { … }');
    }
    const bad = f.segments.findIndex((s, i) => (s.kind === 'catchall' || s.kind === 'optional') && i !== f.segments.length - 1);
    if (bad !== -1) fp.error('', 'a catch-all segment must be the last one', 'move [...param] to the end of the path');
    const paths = segmentPaths(f.segments);
    for (const p of paths) {
      const other = byPath.get(p);
      if (other !== undefined) fp.error('', `serves ${p}, which ${other} serves too`, 'keep one of the two route files');
      else byPath.set(p, relFile);
    }
    let name = sanitizeName(segmentName(f.segments));
    for (let n = 2; names.has(name); n++) name = sanitizeName(`${segmentName(f.segments)}-${n}`);
    names.add(name);
    const maxDuration = /export\s+const\s+maxDuration\s*=\s*(\d+)/.exec(stripComments(source))?.[1];
    const routes: RouteSpec[] = paths.map((p) => ({ path: p, event: { kind: 'fetch' } }));
    const platform: Record<string, string> = { runtime, router: f.router };
    if (f.router === 'app') platform['methods'] = methods.join(',');
    // The adapter hands a catch-all segment to the handler as an array of segments.
    const last = f.segments.at(-1);
    if (last && (last.kind === 'catchall' || last.kind === 'optional')) platform['catchAll'] = last.name;
    functions.push({
      name,
      style,
      entry: f.file,
      // App routes export one handler per method; the adapter picks by request method.
      handlerExport: f.router === 'app' ? '*' : 'default',
      vars: { ...publicEnv.values },
      secrets: { ...localEnv.values },
      bindings: [],
      routes,
      triggers: [],
      limits: limitsFor(style, { timeoutSeconds: maxDuration === undefined ? undefined : Number(maxDuration) }),
      nodeCompat: runtime === 'nodejs',
      compatibilityFlags: [],
      platform,
    });
  }
  if (found.length === 0) {
    const p = new ProblemList(appDir ? rel(root, appDir) : 'app');
    p.error('', 'no route handlers found', 'add app/api/<name>/route.ts exporting GET/POST, or pages/api/<name>.ts');
    problems.push(p);
  }
  throwIfErrors(...problems);
  const pkgName = typeof pkg?.['name'] === 'string' ? pkg['name'] : path.basename(root);
  return { name: pkgName, root, format: 'next', configFiles, functions, stateMachines: [] };
}
