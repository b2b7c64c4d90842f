/**
 * @module
 * Reads the Workers-shaped config that wrangler.toml, wrangler.jsonc and outpost.toml share
 * (name, main, vars, routes, bindings, triggers, compatibility settings, `[env.<name>]`) into
 * one {@link FunctionSpec}. outpost.toml adds `[limits]` and `node_compat`; everything else has
 * the meaning wrangler gives it, so a wrangler project needs no second file.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Fields } from './fields.ts';
import { readRouteRules } from './route-rules.ts';
import type { ProblemList } from './problems.ts';
import { DEFAULT_LIMITS } from './spec.ts';
import type { BindingSpec, FunctionSpec, Limits, R2NotificationEvent, RouteSpec, TriggerSpec } from './spec.ts';
import { readExperiments } from '../traffic/experiments.ts';

export const NAME_PATTERN = /^[a-zA-Z0-9_-]{1,63}$/;
/** Workers turn Node compatibility on by default from this date on. */
const NODE_COMPAT_BY_DEFAULT_FROM = '2026-08-04';

const WRANGLER_KEYS = [
  'name', 'main', 'compatibility_date', 'compatibility_flags', 'vars', 'route', 'routes', 'kv_namespaces',
  'r2_buckets', 'queues', 'd1_databases', 'services', 'triggers', 'limits', 'env', 'node_compat', 'ratelimits',
  // accepted and ignored: they concern Cloudflare's account, build or dashboard, not how a function runs
  'account_id', 'workers_dev', 'build', 'dev', 'observability', 'placement', 'rules', 'no_bundle',
  'minify', 'keep_vars', 'logpush', 'tail_consumers', 'upload_source_maps', 'preview_urls', '$schema',
  'send_metrics', 'usage_model', 'find_additional_modules', 'base_dir', 'preserve_file_names',
];

export interface WorkersConfigInput {
  root: string;
  /** The parsed file. */
  raw: Record<string, unknown>;
  problems: ProblemList;
  /** `--env` chosen by the user: `[env.<name>]` overrides the top level. */
  env?: string;
  secrets: Record<string, string>;
  /** outpost.toml may set every limit; wrangler only `limits.cpu_ms`. */
  format: 'wrangler' | 'outpost';
}

/** Converts a Workers route pattern (`example.com/api/*`, `*.example.com/*`, `/api/*`) to a RouteSpec. */
export function workersRoute(pattern: string): RouteSpec {
  const slash = pattern.indexOf('/');
  const host = slash === -1 ? pattern : pattern.slice(0, slash);
  const path = slash === -1 ? '/*' : pattern.slice(slash);
  return { ...(host === '' || host === '*' ? {} : { host: host.toLowerCase() }), path, event: { kind: 'fetch' } };
}

function readRoutes(fields: Fields): RouteSpec[] {
  const routes: RouteSpec[] = [];
  const one = fields.raw['route'];
  const many = fields.raw['routes'];
  fields.accept('route', 'routes');
  const list: Array<[unknown, string]> = [];
  if (one !== undefined) list.push([one, fields.key('route')]);
  if (Array.isArray(many)) many.forEach((r, i) => list.push([r, `${fields.key('routes')}[${i}]`]));
  else if (many !== undefined) fields.problems.error(fields.key('routes'), 'expected an array of route patterns', 'write routes = ["example.com/*"]');
  for (const [value, key] of list) {
    let pattern: unknown = value;
    let method: unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      pattern = (value as Record<string, unknown>)['pattern'];
      method = (value as Record<string, unknown>)['method'];
    }
    if (typeof pattern !== 'string' || pattern.length === 0) {
      fields.problems.error(key, 'expected a route pattern such as "example.com/*" or { pattern = "…" }');
      continue;
    }
    const route = workersRoute(pattern);
    if (typeof method === 'string') route.method = method.toUpperCase();
    routes.push(route);
  }
  return routes;
}

function readBindings(fields: Fields): { bindings: BindingSpec[]; triggers: TriggerSpec[] } {
  const bindings: BindingSpec[] = [];
  const triggers: TriggerSpec[] = [];
  for (const kv of fields.objects('kv_namespaces')) {
    const name = kv.string('binding', { required: true });
    const id = kv.string('id') ?? kv.string('preview_id');
    kv.accept('preview_id');
    if (name) bindings.push({ type: 'kv', name, namespace: id ?? name });
    kv.reportUnknown(['binding', 'id', 'preview_id']);
  }
  for (const r2 of fields.objects('r2_buckets')) {
    const name = r2.string('binding', { required: true });
    const bucket = r2.string('bucket_name', { required: true });
    r2.accept('preview_bucket_name', 'jurisdiction');
    if (name && bucket) bindings.push({ type: 'r2', name, bucket });
    r2.reportUnknown();
  }
  for (const d1 of fields.objects('d1_databases')) {
    const name = d1.string('binding', { required: true });
    const database = d1.string('database_name', { required: true });
    d1.accept('database_id', 'preview_database_id', 'migrations_dir', 'migrations_table');
    if (name && database) bindings.push({ type: 'd1', name, database });
    d1.reportUnknown();
  }
  for (const svc of fields.objects('services')) {
    const name = svc.string('binding', { required: true });
    const service = svc.string('service', { required: true });
    svc.accept('environment', 'entrypoint');
    if (name && service) bindings.push({ type: 'service', name, service });
    svc.reportUnknown();
  }
  for (const rl of fields.objects('ratelimits')) {
    const binding = readRateLimit(rl);
    if (binding) bindings.push(binding);
  }
  const queues = fields.object('queues');
  if (queues) {
    for (const p of queues.objects('producers')) {
      const name = p.string('binding', { required: true });
      const queue = p.string('queue', { required: true });
      p.accept('delivery_delay');
      if (name && queue) bindings.push({ type: 'queue', name, queue });
      p.reportUnknown();
    }
    for (const c of queues.objects('consumers')) {
      const queue = c.string('queue', { required: true });
      const t: TriggerSpec = { type: 'queue', queue: queue ?? '' };
      const batch = c.number('max_batch_size', { min: 1, max: 100, integer: true });
      const timeout = c.number('max_batch_timeout', { min: 0, max: 60 });
      const retries = c.number('max_retries', { min: 0, max: 100, integer: true });
      const delay = c.number('retry_delay', { min: 0, max: 43_200, integer: true });
      const dlq = c.string('dead_letter_queue');
      const concurrency = c.number('max_concurrency', { min: 1, max: 250, integer: true });
      const visibility = c.number('visibility_timeout_ms', { min: 0, integer: true });
      if (batch !== undefined) t.maxBatchSize = batch;
      if (timeout !== undefined) t.maxBatchTimeoutSeconds = timeout;
      if (retries !== undefined) t.maxRetries = retries;
      if (delay !== undefined) t.retryDelaySeconds = delay;
      if (dlq !== undefined) t.deadLetterQueue = dlq;
      if (concurrency !== undefined) t.maxConcurrency = concurrency;
      if (visibility !== undefined) t.visibilityTimeoutSeconds = visibility / 1000;
      if (queue) triggers.push(t);
      c.reportUnknown();
    }
    queues.reportUnknown(['producers', 'consumers']);
  }
  const trig = fields.object('triggers');
  if (trig) {
    for (const expression of trig.stringArray('crons') ?? []) triggers.push({ type: 'cron', expression });
    trig.reportUnknown(['crons']);
  }
  return { bindings, triggers };
}

/** `[[ratelimits]] name = "LIMITER", namespace_id = "1001", simple = { limit = 100, period = 60 }` */
function readRateLimit(rl: Fields): BindingSpec | undefined {
  const name = rl.string('name', { required: true });
  const rawId = rl.raw['namespace_id'];
  rl.accept('namespace_id');
  const namespace = typeof rawId === 'number' || typeof rawId === 'string' ? String(rawId) : undefined;
  if (namespace === undefined || !/^[1-9][0-9]*$/.test(namespace)) {
    rl.problems.error(rl.key('namespace_id'), rawId === undefined ? 'missing; expected a positive integer' : `${JSON.stringify(rawId)} is not a positive integer`, 'choose an integer that names the counters, e.g. namespace_id = "1001"; bindings with the same one share counts');
  }
  const simple = rl.object('simple', { required: true });
  const limit = simple?.number('limit', { required: true, min: 1, integer: true });
  const period = simple?.number('period', { required: true });
  if (period !== undefined && period !== 10 && period !== 60) rl.problems.error(simple?.key('period') ?? rl.key('simple.period'), `${period} is not a supported period`, 'use 10 or 60 (seconds)');
  simple?.reportUnknown(['limit', 'period']);
  rl.reportUnknown(['name', 'namespace_id', 'simple']);
  if (!name || namespace === undefined || !/^[1-9][0-9]*$/.test(namespace) || limit === undefined || (period !== 10 && period !== 60)) return undefined;
  return { type: 'ratelimit', name, namespace, limit, periodSeconds: period };
}

function readLimits(fields: Fields, format: 'wrangler' | 'outpost'): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS, concurrency: 100 };
  const l = fields.object('limits');
  if (!l) return limits;
  const cpu = l.number('cpu_ms', { min: 1, max: 300_000, integer: true });
  if (cpu !== undefined) limits.cpuMs = cpu;
  if (format === 'outpost') {
    const memory = l.number('memory_mb', { min: 16, max: 10_240, integer: true });
    const wall = l.number('wall_ms', { min: 1, max: 900_000, integer: true });
    const startup = l.number('startup_ms', { min: 1, max: 60_000, integer: true });
    const body = l.number('request_body_mb', { min: 0, max: 10_240 });
    const sub = l.number('subrequests', { min: 0, max: 100_000, integer: true });
    const conc = l.number('concurrency', { min: 1, max: 10_000, integer: true });
    const idle = l.number('idle_timeout_s', { min: 0, max: 86_400 });
    const maxInstances = l.number('max_instances', { min: 1, max: 10_000, integer: true });
    if (memory !== undefined) limits.memoryMb = memory;
    if (wall !== undefined) limits.wallMs = wall;
    if (startup !== undefined) limits.startupMs = startup;
    if (body !== undefined) limits.requestBodyBytes = Math.round(body * 1024 * 1024);
    if (sub !== undefined) limits.subrequests = sub;
    if (conc !== undefined) limits.concurrency = conc;
    if (idle !== undefined) limits.idleMs = Math.round(idle * 1000);
    if (maxInstances !== undefined) limits.maxInstances = maxInstances;
    const reserved = l.number('reserved_concurrency', { min: 0, max: 100_000, integer: true });
    const provisioned = l.number('provisioned_concurrency', { min: 0, max: 100_000, integer: true });
    const queueTimeout = l.number('queue_timeout_ms', { min: 0, max: 900_000, integer: true });
    const maxQueued = l.number('max_queued', { min: 0, max: 100_000, integer: true });
    if (reserved !== undefined) limits.reservedConcurrency = reserved;
    if (provisioned !== undefined) limits.provisionedConcurrency = provisioned;
    if (queueTimeout !== undefined) limits.queueTimeoutMs = queueTimeout;
    if (maxQueued !== undefined) limits.maxQueued = maxQueued;
    if (reserved !== undefined && provisioned !== undefined && provisioned > reserved) {
      l.problems.error(l.key('provisioned_concurrency'), `provisioned_concurrency (${provisioned}) exceeds reserved_concurrency (${reserved})`, 'provision at most as many as the function may run: lower provisioned_concurrency or raise reserved_concurrency');
    }
    l.reportUnknown(['cpu_ms', 'memory_mb', 'wall_ms', 'startup_ms', 'request_body_mb', 'subrequests', 'concurrency', 'idle_timeout_s', 'max_instances', 'reserved_concurrency', 'provisioned_concurrency', 'queue_timeout_ms', 'max_queued']);
  } else {
    l.reportUnknown(['cpu_ms']);
  }
  return limits;
}

/** Keys an environment does not inherit from the top level (wrangler's non-inheritable keys). */
const NOT_INHERITED = new Set(['vars', 'define', 'ratelimits', 'kv_namespaces', 'r2_buckets', 'd1_databases', 'services', 'queues', 'durable_objects', 'analytics_engine_datasets', 'tail_consumers']);

/** Applies `[env.<name>]` over the top level, as wrangler does: bindings and vars are not inherited. */
function selectEnvironment(top: Fields, env: string | undefined): Fields {
  const envs = top.object('env');
  if (!env) return top;
  const chosen = envs?.object(env);
  envs?.reportUnknown();
  if (!chosen) {
    top.problems.error(top.key(`env.${env}`), `no environment named "${env}"`, `add an [env.${env}] section or choose another --env`);
    return top;
  }
  const inherited = Object.fromEntries(Object.entries(top.raw).filter(([k]) => !NOT_INHERITED.has(k)));
  const merged = { ...inherited, ...chosen.raw };
  if (typeof top.raw['name'] === 'string' && chosen.raw['name'] === undefined) merged['name'] = `${top.raw['name']}-${env}`;
  delete merged['env'];
  return new Fields(merged, '', top.problems);
}

/**
 * outpost.toml only: `[[kv_triggers]]` subscribes the function to a KV namespace's changes
 * (events/kv-changes.ts): `namespace` (the id, as in `[[kv_namespaces]]`), `max_batch_size`
 * (1–1000, default 100), `max_batch_timeout` (seconds, 0–300, default 0), `max_retries`
 * (default 3), `retry_delay` (seconds, default 0).
 */
function readKvTriggers(fields: Fields): TriggerSpec[] {
  const out: TriggerSpec[] = [];
  for (const k of fields.objects('kv_triggers')) {
    const namespace = k.string('namespace', { required: true });
    const settings = readFeedSettings(k);
    if (namespace === undefined) continue;
    out.push({ type: 'kv', namespace, ...settings });
  }
  return out;
}

/**
 * outpost.toml only: `[[d1_triggers]]` subscribes the function to a D1 database's row changes
 * (events/d1-changes.ts): `database` (the `database_name`, as in `[[d1_databases]]`) and the
 * batching keys of `[[kv_triggers]]`.
 */
function readD1Triggers(fields: Fields): TriggerSpec[] {
  const out: TriggerSpec[] = [];
  for (const d of fields.objects('d1_triggers')) {
    const database = d.string('database', { required: true });
    const settings = readFeedSettings(d);
    if (database === undefined) continue;
    out.push({ type: 'd1', database, ...settings });
  }
  return out;
}

function readFeedSettings(k: Fields): { maxBatchSize?: number; maxBatchTimeoutSeconds?: number; maxRetries?: number; retryDelaySeconds?: number } {
  const batch = k.number('max_batch_size', { min: 1, max: 1000, integer: true });
  const timeout = k.number('max_batch_timeout', { min: 0, max: 300 });
  const retries = k.number('max_retries', { min: 0, max: 100, integer: true });
  const delay = k.number('retry_delay', { min: 0, max: 43_200, integer: true });
  k.reportUnknown();
  return {
    ...(batch === undefined ? {} : { maxBatchSize: batch }),
    ...(timeout === undefined ? {} : { maxBatchTimeoutSeconds: timeout }),
    ...(retries === undefined ? {} : { maxRetries: retries }),
    ...(delay === undefined ? {} : { retryDelaySeconds: delay }),
  };
}

/**
 * outpost.toml only: `[[r2_notifications]]` is an R2 event notification rule, what
 * `wrangler r2 bucket notification create` sets up on Cloudflare (events/object-changes.ts):
 * `bucket`, `queue` (the queue the messages go to; consume it with `[[queues.consumers]]`),
 * `events` (`object-create`, `object-delete`; required), `prefix` and `suffix` (default: every key).
 */
function readR2Notifications(fields: Fields): TriggerSpec[] {
  const out: TriggerSpec[] = [];
  for (const n of fields.objects('r2_notifications')) {
    const bucket = n.string('bucket', { required: true });
    const queue = n.string('queue', { required: true });
    const events = n.stringArray('events');
    const prefix = n.string('prefix');
    const suffix = n.string('suffix');
    n.reportUnknown();
    const valid = (events ?? []).filter((e): e is R2NotificationEvent => e === 'object-create' || e === 'object-delete');
    if (events === undefined || events.length === 0) n.problems.error(n.key('events'), 'missing; expected the event types that send a notification', 'add events = ["object-create", "object-delete"]');
    else if (valid.length !== events.length) n.problems.error(n.key('events'), `unknown event type ${JSON.stringify(events.find((e) => !valid.includes(e as R2NotificationEvent)))}`, 'use "object-create" and/or "object-delete"');
    if (bucket === undefined || queue === undefined || valid.length === 0 || valid.length !== events?.length) continue;
    out.push({
      type: 'r2-notification',
      bucket,
      queue,
      events: [...new Set(valid)],
      ...(prefix === undefined || prefix === '' ? {} : { prefix }),
      ...(suffix === undefined || suffix === '' ? {} : { suffix }),
    });
  }
  return out;
}

/** Reads a Workers-shaped config into one FunctionSpec (problems are recorded, not thrown). */
export function readWorkersConfig(input: WorkersConfigInput): FunctionSpec | undefined {
  const top = new Fields(input.raw, '', input.problems);
  const fields = selectEnvironment(top, input.env);
  const name = fields.string('name', { required: true, pattern: NAME_PATTERN, patternHint: 'use 1–63 letters, digits, - or _' });
  const main = fields.string('main', { required: true });
  const date = fields.string('compatibility_date', { pattern: /^\d{4}-\d{2}-\d{2}$/, patternHint: 'use YYYY-MM-DD' });
  const flags = fields.stringArray('compatibility_flags') ?? [];
  const legacyNodeCompat = fields.boolean('node_compat');
  const vars = fields.stringRecord('vars') ?? {};
  const routes = readRoutes(fields);
  if (input.format === 'outpost') routes.push(...readRouteRules(fields));
  const { bindings, triggers } = readBindings(fields);
  if (input.format === 'outpost') triggers.push(...readKvTriggers(fields), ...readD1Triggers(fields), ...readR2Notifications(fields));
  const limits = readLimits(fields, input.format);
  const experiments = input.format === 'outpost' ? readExperiments(fields) : [];
  // outpost.toml only: where ctx.passThroughOnException() sends a request whose handler threw.
  const origin = input.format === 'outpost' ? fields.string('origin', { pattern: /^https?:\/\/[^/]+/, patternHint: 'use an http(s) URL such as https://backend.example.com' }) : undefined;
  fields.reportUnknown(input.format === 'outpost' ? [...WRANGLER_KEYS, 'origin', 'kv_triggers', 'd1_triggers', 'r2_notifications', 'route_rules', 'experiments'] : WRANGLER_KEYS);
  if (input.env === undefined) top.accept('env');

  let entry: string | undefined;
  if (main) {
    entry = resolve(input.root, main);
    if (!existsSync(entry)) input.problems.error('main', `the entry file ${main} does not exist`, 'point `main` at your Worker\'s source file (e.g. src/index.ts)');
  }
  if (!name || !entry) return undefined;
  const nodeCompat =
    legacyNodeCompat === true ||
    flags.includes('nodejs_compat') ||
    flags.includes('nodejs_compat_v2') ||
    (date !== undefined && date >= NODE_COMPAT_BY_DEFAULT_FROM && !flags.includes('no_nodejs_compat'));
  return {
    name,
    style: 'workers-module',
    entry,
    handlerExport: 'default',
    vars,
    secrets: input.secrets,
    bindings,
    routes,
    triggers,
    limits,
    nodeCompat,
    ...(date === undefined ? {} : { compatibilityDate: date }),
    compatibilityFlags: flags,
    platform: origin === undefined ? {} : { origin: origin.replace(/\/$/, '') },
    ...(experiments.length > 0 ? { experiments } : {}),
  };
}
