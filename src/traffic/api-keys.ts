/**
 * @module
 * API keys with usage plans, as API Gateway REST APIs have them: a route that requires a key
 * (serverless `private: true`, SAM `Auth.ApiKeyRequired`, outpost.toml `api_key`) answers 403
 * `{"message":"Forbidden"}` unless the request's `x-api-key` is a known key; a usage plan then
 * throttles each key (token bucket: 429 `Too Many Requests`) and caps it per calendar period
 * (429 `Limit Exceeded`), both with `Retry-After`.
 *
 * Decisions:
 * - Keys come from config (a name with a value) or are created on the node
 *   (`outpost apikeys create <name>`, the value printed once). Node keys are stored as the
 *   SHA-256 of the value in the meta store, indexed by that hash, so a request costs one point
 *   read and no value is ever stored or shown again. A plain hash suffices because values are
 *   256 random bits, not passwords.
 * - A node key is accepted on a route when the route's config names it, or names no keys.
 * - Throttle and quota are per key within one usage plan; routes with the same plan share them
 *   (API Gateway attaches a plan to a whole API stage). Quota periods are UTC calendar periods
 *   (a week starts on Monday). Counters live in the node's memory: a restart forgets them.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJsonObject, sendJson } from '../control/http.ts';
import { OutpostError } from '../errors.ts';
import { Fields, isRecord } from '../project/fields.ts';
import type { ApiKeySpec, RoutePolicySpec, UsagePlanSpec } from '../project/spec.ts';
import type { NodeService } from '../server/context.ts';
import type { MetaStore } from '../store/types.ts';
import type { PolicyNode, PolicyScope } from './index.ts';
import { forbidden } from './jwt.ts';
import type { PolicyDecision, RoutePolicy } from './policy.ts';
import { TokenBuckets } from './token-bucket.ts';

export const API_KEY_HEADER = 'x-api-key';
const NAME_RE = /^[A-Za-z0-9_.-]{1,128}$/;
const BY_NAME = 'apikeys/name/';
const BY_HASH = 'apikeys/hash/';
const PERIODS = ['DAY', 'WEEK', 'MONTH'] as const;

export function hashKey(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export interface StoredApiKey {
  name: string;
  createdAt: string;
}

/** Keys created on the node, in the meta store. */
export class ApiKeyStore {
  readonly #meta: MetaStore;
  constructor(meta: MetaStore) {
    this.#meta = meta;
  }

  /** Creates `name` and returns its value, which is not kept. Throws API_KEY_EXISTS, INVALID_API_KEY_NAME. */
  async create(name: string, now = new Date()): Promise<StoredApiKey & { value: string }> {
    if (!NAME_RE.test(name)) {
      throw new OutpostError('INVALID_API_KEY_NAME', `"${name}" is not a valid API key name`, { status: 400, fault: 'user', hint: 'use 1–128 letters, digits, ".", "_" or "-"' });
    }
    const value = `opk_${randomBytes(32).toString('base64url')}`;
    const hash = hashKey(value);
    const record = { name, createdAt: now.toISOString(), hash };
    try {
      await this.#meta.put(`${BY_NAME}${name}`, record, { expectRevision: 0 });
    } catch (error) {
      if ((error as OutpostError).code === 'STORE_CONFLICT') {
        throw new OutpostError('API_KEY_EXISTS', `an API key named ${name} exists already`, { status: 409, fault: 'user', hint: `delete it first (outpost apikeys delete ${name}) or choose another name` });
      }
      throw error;
    }
    await this.#meta.put(`${BY_HASH}${hash}`, { name });
    return { name, createdAt: record.createdAt, value };
  }

  async list(): Promise<StoredApiKey[]> {
    return (await this.#meta.list<StoredApiKey>(BY_NAME)).map((e) => ({ name: e.value.name, createdAt: e.value.createdAt }));
  }

  /** Throws API_KEY_NOT_FOUND. */
  async delete(name: string): Promise<void> {
    const entry = await this.#meta.get<{ hash: string }>(`${BY_NAME}${name}`);
    if (!entry) throw new OutpostError('API_KEY_NOT_FOUND', `no API key named ${name}`, { status: 404, fault: 'user', hint: 'outpost apikeys list shows the keys' });
    await this.#meta.delete(`${BY_HASH}${entry.value.hash}`);
    await this.#meta.delete(`${BY_NAME}${name}`);
  }

  /** The name of the node key whose value hashes to `hash`, if any. */
  async nameOf(hash: string): Promise<string | undefined> {
    return (await this.#meta.get<{ name: string }>(`${BY_HASH}${hash}`))?.value.name;
  }
}

/**
 * The control API's key routes, used by `outpost apikeys`:
 *
 *   GET    /_outpost/api/apikeys          { keys: [{ name, createdAt }] }
 *   POST   /_outpost/api/apikeys          { name } → { name, createdAt, value } (the only time the value is shown)
 *   DELETE /_outpost/api/apikeys/<name>   → { deleted }
 */
export const apiKeysService: NodeService = {
  name: 'apikeys',
  start(ctx) {
    const keys = new ApiKeyStore(ctx.store.meta);
    const handle = async (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<boolean> => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path !== '/_outpost/api/apikeys' && !path.startsWith('/_outpost/api/apikeys/')) return false;
      const name = path.length > '/_outpost/api/apikeys/'.length ? decodeURIComponent(path.slice('/_outpost/api/apikeys/'.length)) : undefined;
      const method = req.method ?? 'GET';
      if (name === undefined && method === 'GET') sendJson(res, 200, { keys: await keys.list() }, requestId);
      else if (name === undefined && method === 'POST') {
        const body = await readJsonObject(req);
        sendJson(res, 200, await keys.create(typeof body['name'] === 'string' ? body['name'] : ''), requestId);
      } else if (name !== undefined && method === 'DELETE') {
        await keys.delete(name);
        sendJson(res, 200, { deleted: name }, requestId);
      } else return false;
      return true;
    };
    return { controlRoutes: [handle], close: async () => undefined };
  },
};

function readUsagePlanFields(f: Fields, names: { rate: string; burst: string; quota: string; period: string }, quotaTable?: Fields): UsagePlanSpec | undefined {
  const plan: UsagePlanSpec = {};
  const rate = f.number(names.rate, { min: 0 });
  const burst = f.number(names.burst, { min: 1, integer: true });
  if (rate !== undefined) plan.throttle = { rate, burst: burst ?? Math.max(1, Math.ceil(rate)) };
  const q = quotaTable ?? f;
  const limit = q.number(names.quota, { min: 0, integer: true });
  const period = (q.string(names.period) ?? 'DAY').toUpperCase();
  if (limit !== undefined) {
    if (!(PERIODS as readonly string[]).includes(period)) q.problems.error(q.key(names.period), `"${period}" is not a quota period`, 'use DAY, WEEK or MONTH');
    else plan.quota = { limit, period: period as 'DAY' | 'WEEK' | 'MONTH' };
  }
  return plan.throttle || plan.quota ? plan : undefined;
}

/** outpost.toml `api_key = { keys = ["partner"], rate, burst, quota, quota_period }`; key values are created on the node. */
export function readApiKeyRule(rule: Fields, policies: RoutePolicySpec): void {
  const f = rule.object('api_key');
  if (!f) return;
  const names = f.stringArray('keys') ?? [];
  const plan = readUsagePlanFields(f, { rate: 'rate', burst: 'burst', quota: 'quota', period: 'quota_period' });
  policies.apiKey = { keys: names.map((name) => ({ name })), ...(plan ? { usagePlan: plan } : {}) };
  f.reportUnknown(['keys', 'rate', 'burst', 'quota', 'quota_period']);
}

/**
 * serverless `provider.apiGateway`: `apiKeys` (names, `{ name, value }`, or lists grouped by
 * usage plan) and `usagePlan` (`{ quota: { limit, period }, throttle: { rateLimit, burstLimit } }`,
 * the first plan when several are named).
 */
export function readServerlessApiKeys(apiGateway: Fields | undefined): ApiKeySpec {
  const spec: ApiKeySpec = { keys: [] };
  if (!apiGateway) return spec;
  apiGateway.accept('apiKeys', 'usagePlan');
  const collect = (value: unknown, at: string): void => {
    if (typeof value === 'string') spec.keys.push({ name: value });
    else if (Array.isArray(value)) value.forEach((v, i) => collect(v, `${at}[${i}]`));
    else if (isRecord(value) && typeof value['name'] === 'string') {
      const f = new Fields(value, at, apiGateway.problems);
      const name = f.string('name') ?? '';
      const v = f.string('value');
      f.accept('description', 'customerId', 'enabled');
      f.reportUnknown(['name', 'value', 'description', 'customerId', 'enabled']);
      spec.keys.push({ name, ...(v === undefined ? {} : { value: v }) });
    } else if (isRecord(value)) for (const [plan, keys] of Object.entries(value)) collect(keys, `${at}.${plan}`);
    else apiGateway.problems.error(at, 'expected key names or { name, value } tables');
  };
  if (apiGateway.raw['apiKeys'] !== undefined) collect(apiGateway.raw['apiKeys'], apiGateway.key('apiKeys'));
  let raw = apiGateway.raw['usagePlan'];
  let at = apiGateway.key('usagePlan');
  if (Array.isArray(raw)) {
    const first = raw[0];
    const planName = isRecord(first) ? Object.keys(first)[0] : undefined;
    raw = isRecord(first) && planName !== undefined ? first[planName] : undefined;
    at = `${at}[0].${planName ?? ''}`;
  }
  if (isRecord(raw)) {
    const f = new Fields(raw, at, apiGateway.problems);
    const throttle = f.object('throttle') ?? new Fields({}, f.key('throttle'), f.problems);
    const quota = f.object('quota') ?? new Fields({}, f.key('quota'), f.problems);
    const plan = readUsagePlanFields(throttle, { rate: 'rateLimit', burst: 'burstLimit', quota: 'limit', period: 'period' }, quota);
    quota.accept('offset');
    throttle.reportUnknown(['rateLimit', 'burstLimit']);
    quota.reportUnknown(['limit', 'period', 'offset']);
    f.reportUnknown(['throttle', 'quota']);
    if (plan) spec.usagePlan = plan;
  }
  return spec;
}

/** SAM `Auth.UsagePlan` of an Api (`Quota: { Limit, Period }`, `Throttle: { RateLimit, BurstLimit }`) plus the template's `AWS::ApiGateway::ApiKey` values. */
export function readSamApiKeys(usagePlan: Fields | undefined, keys: Array<{ name: string; value?: string }>): ApiKeySpec {
  if (!usagePlan) return { keys };
  const throttle = usagePlan.object('Throttle') ?? new Fields({}, usagePlan.key('Throttle'), usagePlan.problems);
  const quota = usagePlan.object('Quota') ?? new Fields({}, usagePlan.key('Quota'), usagePlan.problems);
  const plan = readUsagePlanFields(throttle, { rate: 'RateLimit', burst: 'BurstLimit', quota: 'Limit', period: 'Period' }, quota);
  usagePlan.accept('CreateUsagePlan', 'Description', 'UsagePlanName', 'Tags');
  quota.accept('Offset');
  return { keys, ...(plan ? { usagePlan: plan } : {}) };
}

/** When the current quota period ends (UTC), epoch ms. */
export function periodEnd(period: 'DAY' | 'WEEK' | 'MONTH', now: number): number {
  const d = new Date(now);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (period === 'DAY') return midnight + 86_400_000;
  if (period === 'WEEK') return midnight + ((8 - (d.getUTCDay() || 7)) % 7 || 7) * 86_400_000;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

function tooMany(message: string, retryAfterSeconds: number): PolicyDecision {
  return { reply: { status: 429, headers: { 'content-type': 'application/json', 'retry-after': String(retryAfterSeconds) }, body: JSON.stringify({ message }) } };
}

interface QuotaCounter {
  used: number;
  until: number;
}

/** The policy for one route's {@link ApiKeySpec}. */
export function apiKeyPolicy(spec: ApiKeySpec, node: PolicyNode, nodeKeys: ApiKeyStore | undefined): RoutePolicy {
  const configured = new Map<string, string>();
  for (const key of spec.keys) if (key.value !== undefined) configured.set(hashKey(key.value), key.name);
  const named = new Set(spec.keys.map((k) => k.name));
  const plan = spec.usagePlan;
  const planId = JSON.stringify(plan ?? null);
  const buckets = plan?.throttle ? node.state(`apikeys:throttle:${planId}`, () => new TokenBuckets(plan.throttle as { rate: number; burst: number }, { now: () => node.now() })) : undefined;
  const quotas = plan?.quota ? node.state(`apikeys:quota:${planId}`, () => new Map<string, QuotaCounter>()) : undefined;
  return {
    name: 'api-key',
    async decide(request) {
      const raw = request.headers[API_KEY_HEADER];
      const value = Array.isArray(raw) ? raw[0] : raw;
      if (value === undefined || value === '') return forbidden();
      const hash = hashKey(value);
      let name = configured.get(hash);
      if (name === undefined && nodeKeys) {
        const stored = await nodeKeys.nameOf(hash);
        if (stored !== undefined && (named.size === 0 || named.has(stored))) name = stored;
      }
      if (name === undefined) return forbidden();
      if (buckets) {
        const taken = buckets.take(name);
        if (!taken.allowed) return tooMany('Too Many Requests', taken.retryAfterSeconds);
      }
      if (quotas && plan?.quota) {
        const now = node.now();
        let counter = quotas.get(name);
        if (!counter || counter.until <= now) {
          counter = { used: 0, until: periodEnd(plan.quota.period, now) };
          quotas.set(name, counter);
        }
        if (counter.used >= plan.quota.limit) return tooMany('Limit Exceeded', Math.max(1, Math.ceil((counter.until - now) / 1000)));
        counter.used++;
      }
      return undefined;
    },
  };
}

export function apiKeyFactory(scope: PolicyScope): RoutePolicy | undefined {
  const spec = scope.route.policies?.apiKey;
  if (!spec) return undefined;
  return apiKeyPolicy(spec, scope.node, scope.node.meta ? scope.node.state('apikeys:store', () => new ApiKeyStore(scope.node.meta as MetaStore)) : undefined);
}
