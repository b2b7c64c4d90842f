/**
 * @module
 * `outpost dev` and `outpost serve`: start a node on the embedded store. dev also loads the
 * projects in a folder, deploys them through the same path as `outpost deploy`, and redeploys
 * a project when one of its files changes.
 */
import { watch } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { Values } from './commands.ts';
import { EXIT, printError, UsageError } from './output.ts';
import { startNode } from '../server/index.ts';
import type { OutpostNode } from '../server/index.ts';
import { openSqliteStore } from '../store/index.ts';
import { Logger } from '../observe/logger.ts';
import { findProjects, loadProject } from '../project/index.ts';

function portOf(value: string | boolean | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new UsageError(`${flag} must be a port number (0–65535), got ${String(value)}`);
  return n;
}

/** The Cache API's size from OUTPOST_CACHE_MB (default: the node's 256 MiB). */
function cacheOptions(): { cacheMaxBytes?: number } {
  const raw = process.env['OUTPOST_CACHE_MB'];
  if (raw === undefined || raw === '') return {};
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0) throw new UsageError(`OUTPOST_CACHE_MB must be a number of megabytes, got ${raw}`);
  return { cacheMaxBytes: Math.floor(mb * 1024 * 1024) };
}

/** Resolves when SIGINT or SIGTERM arrives. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

async function deployFolder(node: OutpostNode, dir: string, env: string | undefined, logger: Logger): Promise<boolean> {
  try {
    const project = await loadProject(dir, { dev: true, ...(env ? { stage: env } : {}) });
    const result = await node.deployments.deployProject(project, { sourceRoot: project.root });
    for (const f of result.functions) {
      if (!f.unchanged) logger.system('info', `${f.previous === undefined ? 'deployed' : 'reloaded'} ${f.name}@${f.version} from ${relative(process.cwd(), dir) || '.'}`);
    }
    return true;
  } catch (error) {
    printError(error);
    return false;
  }
}

export async function dev(values: Values, positionals: string[]): Promise<number> {
  const dir = resolve(positionals[0] ?? '.');
  const port = portOf(values['port'], 8787, '--port');
  const awsPort = portOf(values['aws-port'], 4566, '--aws-port');
  const env = typeof values['env'] === 'string' ? values['env'] : undefined;
  const projects = await findProjects(dir);
  if (projects.length === 0) throw new UsageError(`no project found in ${dir} (looked for outpost.toml, wrangler.toml/.jsonc and other project files)`);
  const logger = new Logger({ out: process.stdout, format: 'pretty', quiet: values['quiet'] === true });
  const stateDir = resolve(typeof values['state'] === 'string' ? values['state'] : '.outpost');
  const store = openSqliteStore({ dir: stateDir });
  const node = await startNode({ store, logger, dev: true, s3Auth: values['s3-auth'] === true, stateDir, ...cacheOptions(), port, awsPort, host: typeof values['host'] === 'string' ? values['host'] : '127.0.0.1' });
  for (const p of projects) await deployFolder(node, p, env, logger);
  await node.settled();
  process.stdout.write(`ready on ${node.url}\n`);
  if (node.awsUrl) process.stdout.write(`aws api on ${node.awsUrl}\n`);

  // Hot reload: a change under a project redeploys that project (debounced per project).
  const timers = new Map<string, NodeJS.Timeout>();
  const watcher = watch(dir, { recursive: true }, (_event, file) => {
    if (!file || file.includes('node_modules') || file.split(/[\\/]/).some((s) => s.startsWith('.') && s !== '.dev.vars' && s !== '.env')) return;
    const absolute = resolve(dir, file);
    const project = projects.find((p) => absolute.startsWith(`${p}/`) || absolute === p);
    if (!project) return;
    clearTimeout(timers.get(project));
    timers.set(project, setTimeout(() => void deployFolder(node, project, env, logger), 50));
  });
  await untilSignal();
  watcher.close();
  for (const t of timers.values()) clearTimeout(t);
  await node.close();
  await store.close();
  return EXIT.ok;
}

export async function serve(values: Values): Promise<number> {
  const port = portOf(values['port'], 8787, '--port');
  const awsPort = portOf(values['aws-port'], 4566, '--aws-port');
  const stateDir = resolve(typeof values['state'] === 'string' ? values['state'] : '.outpost');
  const logger = new Logger({ out: process.stdout, format: 'json', quiet: values['quiet'] === true });
  const store = openSqliteStore({ dir: stateDir });
  const trusted = values['trust-proxy'];
  const node = await startNode({
    store,
    logger,
    dev: false,
    stateDir,
    ...cacheOptions(),
    allowPrivateNetwork: values['allow-private-network'] === true,
    port,
    awsPort,
    host: typeof values['host'] === 'string' ? values['host'] : '127.0.0.1',
    region: typeof values['region'] === 'string' ? values['region'] : 'local',
    trustedProxies: Array.isArray(trusted) ? trusted.filter((t): t is string => typeof t === 'string') : [],
  });
  if (!(await node.tokens.any())) {
    const token = await node.tokens.create('created at first start');
    process.stderr.write(`admin token (shown once, keep it): ${token}\n`);
  }
  process.stdout.write(`ready on ${node.url}\n`);
  if (node.awsUrl) process.stdout.write(`aws api on ${node.awsUrl}\n`);
  await untilSignal();
  await node.close();
  await store.close();
  return EXIT.ok;
}
