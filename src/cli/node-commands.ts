/**
 * @module
 * `outpost dev` and `outpost serve`: start a node on the embedded store (serve also on a NATS
 * store shared by a fleet, `--store nats://…`). dev also loads the projects in a folder,
 * deploys them through the same path as `outpost deploy`, and redeploys a project when one of
 * its files changes.
 */
import { watch } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Values } from './commands.ts';
import { EXIT, printError, UsageError } from './output.ts';
import { startNode } from '../server/index.ts';
import { UNRESERVED_MIN } from '../dispatch/index.ts';
import type { OutpostNode } from '../server/index.ts';
import { natsServers, openNatsStore, openSqliteStore } from '../store/index.ts';
import type { Store } from '../store/index.ts';
import { parsePin } from '../store/nats/index.ts';
import type { RegionPin } from '../store/nats/index.ts';
import { Logger } from '../observe/logger.ts';
import { findProjects, loadProject } from '../project/index.ts';
import type { ObserveOptions } from '../observe/logs-service.ts';
import { readPriceTables } from '../observe/prices.ts';

function portOf(value: string | boolean | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new UsageError(`${flag} must be a port number (0–65535), got ${String(value)}`);
  return n;
}

/** `--max-concurrency`: the node's total concurrent invocations (default: the node's 1 000). */
function concurrencyOptions(values: Values): { maxConcurrency?: number } {
  const raw = values['max-concurrency'];
  if (raw === undefined) return {};
  const n = Number(raw);
  if (!Number.isInteger(n) || n < UNRESERVED_MIN) throw new UsageError(`--max-concurrency must be a whole number of at least ${UNRESERVED_MIN} (that many always stay unreserved), got ${String(raw)}`);
  return { maxConcurrency: n };
}

/** The Cache API's size from OUTPOST_CACHE_MB (default: the node's 256 MiB). */
function cacheOptions(): { cacheMaxBytes?: number } {
  const raw = process.env['OUTPOST_CACHE_MB'];
  if (raw === undefined || raw === '') return {};
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0) throw new UsageError(`OUTPOST_CACHE_MB must be a number of megabytes, got ${raw}`);
  return { cacheMaxBytes: Math.floor(mb * 1024 * 1024) };
}

/** Log retention and price tables from --log-retention-mb, --log-retention-days and --prices. */
async function observeOptions(values: Values): Promise<{ observe: ObserveOptions }> {
  const positive = (flag: string): number | undefined => {
    const raw = values[flag];
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!(n > 0)) throw new UsageError(`--${flag} must be a number above 0, got ${String(raw)}`);
    return n;
  };
  const mb = positive('log-retention-mb');
  const days = positive('log-retention-days');
  let prices;
  try {
    prices = typeof values['prices'] === 'string' ? await readPriceTables(resolve(values['prices'])) : undefined;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return { observe: { ...(mb === undefined ? {} : { logRetentionMb: mb }), ...(days === undefined ? {} : { logRetentionDays: days }), ...(prices ? { prices } : {}) } };
}

/**
 * `--telemetry on|off`, `--otlp-endpoint <url>` and OUTPOST_TRACES_PER_SECOND. The endpoint
 * is handed on as OTEL_EXPORTER_OTLP_ENDPOINT, the variable the metrics service reads, so the
 * flag and the variable are one setting.
 */
function telemetryOptions(values: Values): { telemetry?: false; tracesPerSecond?: number } {
  const mode = values['telemetry'];
  if (mode !== undefined && mode !== 'on' && mode !== 'off') throw new UsageError(`--telemetry must be on or off, got ${String(mode)}`);
  const endpoint = values['otlp-endpoint'];
  if (typeof endpoint === 'string') {
    if (!URL.canParse(endpoint) || !/^https?:$/.test(new URL(endpoint).protocol)) throw new UsageError(`--otlp-endpoint must be an http(s) URL such as http://localhost:4318, got ${endpoint}`);
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = endpoint;
  }
  const rate = process.env['OUTPOST_TRACES_PER_SECOND'];
  const tracesPerSecond = rate === undefined || rate === '' ? undefined : Number(rate);
  if (tracesPerSecond !== undefined && !(Number.isFinite(tracesPerSecond) && tracesPerSecond >= 0)) throw new UsageError(`OUTPOST_TRACES_PER_SECOND must be a number ≥ 0, got ${String(rate)}`);
  return { ...(mode === 'off' ? { telemetry: false as const } : {}), ...(tracesPerSecond === undefined ? {} : { tracesPerSecond }) };
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
  const node = await startNode({ store, logger, dev: true, s3Auth: values['s3-auth'] === true, stateDir, ...cacheOptions(), ...concurrencyOptions(values), ...telemetryOptions(values), ...(await observeOptions(values)), port, awsPort, host: typeof values['host'] === 'string' ? values['host'] : '127.0.0.1' });
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

/** `--pin kv:<namespace>=<region>[:refuse]` flags (store/nats/regions.ts). */
function pinsOf(flag: Values[string]): RegionPin[] {
  const pins: RegionPin[] = [];
  for (const text of Array.isArray(flag) ? flag : []) {
    if (typeof text !== 'string') continue;
    const pin = parsePin(text);
    if (typeof pin === 'string') throw new UsageError(pin);
    pins.push(pin);
  }
  return pins;
}

/** The embedded store in the state dir, or with `--store nats://…` the fleet's NATS store. */
async function openServeStore(values: Values, stateDir: string): Promise<Store> {
  const url = values['store'];
  if (typeof url !== 'string') return openSqliteStore({ dir: stateDir });
  const replicas = Number(values['store-replicas'] ?? 1);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new UsageError(`--store-replicas must be 1–5 (JetStream's limit), got ${String(values['store-replicas'])}`);
  return openNatsStore({
    servers: natsServers(url),
    name: typeof values['name'] === 'string' ? values['name'] : hostname(),
    region: typeof values['region'] === 'string' ? values['region'] : 'local',
    cacheDir: join(stateDir, 'nats-cache'),
    replicas,
    pins: pinsOf(values['pin']),
  });
}

export async function serve(values: Values): Promise<number> {
  const port = portOf(values['port'], 8787, '--port');
  const awsPort = portOf(values['aws-port'], 4566, '--aws-port');
  const stateDir = resolve(typeof values['state'] === 'string' ? values['state'] : '.outpost');
  const logger = new Logger({ out: process.stdout, format: 'json', quiet: values['quiet'] === true });
  const store = await openServeStore(values, stateDir);
  const trusted = values['trust-proxy'];
  const node = await startNode({
    store,
    logger,
    dev: false,
    ...telemetryOptions(values),
    stateDir,
    ...cacheOptions(),
    ...concurrencyOptions(values),
    ...(await observeOptions(values)),
    allowPrivateNetwork: values['allow-private-network'] === true,
    port,
    awsPort,
    host: typeof values['host'] === 'string' ? values['host'] : '127.0.0.1',
    region: typeof values['region'] === 'string' ? values['region'] : 'local',
    name: typeof values['name'] === 'string' ? values['name'] : hostname(),
    pins: pinsOf(values['pin']),
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
