/**
 * @module
 * Reads a user's project folder into a {@link ProjectSpec}: detects the format from the files
 * present (or takes `--format`), runs that format's loader, and checks what every format must
 * satisfy (unique function names, at least one function).
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { OutpostError } from '../errors.ts';
import type { LoadOptions } from './load-options.ts';
import type { ProjectFormat, ProjectSpec } from './spec.ts';
import { findWorkersConfig, loadWorkersProject } from './wrangler.ts';
import { detectServerless, loadServerless } from './serverless.ts';
import { detectSam, loadSam } from './sam.ts';
import { detectAzure, loadAzure } from './azure.ts';
import { detectDeno, loadDeno } from './deno.ts';
import { detectNext, loadNext } from './next.ts';
import { detectGcf, loadGcf } from './gcf.ts';

export type { LoadOptions } from './load-options.ts';
export type {
  BindingSpec, FunctionSpec, HandlerStyle, HttpEventShape, Limits, ProjectFormat, ProjectSpec, RouteSpec,
  StateMachineSpec, TriggerSpec,
} from './spec.ts';
export { DEFAULT_LIMITS } from './spec.ts';
export { ConfigError, formatProblems } from './problems.ts';
export type { ConfigProblem } from './problems.ts';

interface FormatLoader {
  format: ProjectFormat;
  detect(root: string): Promise<boolean>;
  load(root: string, options: LoadOptions): Promise<ProjectSpec>;
}

/** Formats in detection order: the most explicit config file wins. */
const LOADERS: readonly FormatLoader[] = [
  {
    format: 'wrangler',
    detect: async (root) => findWorkersConfig(root) !== undefined,
    load: loadWorkersProject,
  },
  { format: 'serverless', detect: detectServerless, load: loadServerless },
  { format: 'sam', detect: detectSam, load: loadSam },
  { format: 'azure', detect: detectAzure, load: loadAzure },
  { format: 'deno', detect: detectDeno, load: loadDeno },
  { format: 'next', detect: detectNext, load: loadNext },
  { format: 'gcf', detect: detectGcf, load: loadGcf },
];

/** True when `dir` holds a project Outpost can read. */
export async function isProject(dir: string): Promise<boolean> {
  for (const l of LOADERS) if (await l.detect(dir)) return true;
  return false;
}

/**
 * The projects in `dir`: `dir` itself when it is one, otherwise each immediate subfolder that
 * is one (a workspace such as examples/), in name order.
 */
export async function findProjects(dir: string): Promise<string[]> {
  const root = resolve(dir);
  if (await isProject(root)) return [root];
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules' && (await isProject(join(root, e.name)))) found.push(join(root, e.name));
  }
  return found;
}

/**
 * Loads the project in `dir`. Throws ConfigError listing every problem when the config is
 * invalid, and OutpostError PROJECT_NOT_FOUND when no known project file is there.
 */
export async function loadProject(dir: string, options: LoadOptions & { format?: ProjectFormat }): Promise<ProjectSpec> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new OutpostError('PROJECT_NOT_FOUND', `${dir} is not a folder`, { fault: 'user', hint: 'pass the folder that holds your project' });
  }
  const format = options.format === 'outpost' ? 'wrangler' : options.format;
  for (const loader of LOADERS) {
    if (format ? loader.format === format : await loader.detect(root)) {
      const project = await loader.load(root, options);
      checkProject(project);
      return project;
    }
  }
  throw new OutpostError('PROJECT_NOT_FOUND', `no project found in ${dir}`, {
    fault: 'user',
    hint: 'add an outpost.toml or wrangler.toml (or a serverless.yml, template.yaml, deno.json, host.json, app/ folder), or pass --format',
  });
}

function checkProject(project: ProjectSpec): void {
  if (project.functions.length === 0) {
    throw new OutpostError('PROJECT_EMPTY', `the project in ${project.root} defines no functions`, { fault: 'user' });
  }
  const seen = new Set<string>();
  for (const fn of project.functions) {
    if (seen.has(fn.name)) throw new OutpostError('DUPLICATE_FUNCTION', `two functions are named ${fn.name}`, { fault: 'user', hint: 'give each function its own name' });
    seen.add(fn.name);
  }
}
