/**
 * @module
 * Per-route rate limits: a token bucket per client key (the model API Gateway throttling uses:
 * `rate` requests a second on average, `burst` at once). Over the limit, the gateway answers
 * 429 `RATE_LIMITED` with `Retry-After` (whole seconds until a request would pass) and the
 * `RateLimit-Limit` / `RateLimit-Remaining` / `RateLimit-Reset` headers, logs the request as
 * `throttled`, and the function is not invoked.
 *
 * Decisions:
 * - A key is the client address (after trusted proxies), a request header, a claim an earlier
 *   auth policy returned (`request.authorizer`), or the route itself (one bucket for every
 *   caller: API Gateway's stage and route throttling, which SAM settings map to). Requests
 *   without the header or claim share one bucket, so leaving it out is no way around the limit.
 * - Buckets live in node state under the route and its numbers, so a redeploy with the same
 *   limit keeps the counts and a changed limit starts afresh. Counts are per node, as API
 *   Gateway's and Cloudflare's are per region and location.
 */
import { OutpostError } from '../errors.ts';
import type { Fields } from '../project/fields.ts';
import type { RateLimitSpec, RoutePolicySpec } from '../project/spec.ts';
import type { PolicyScope } from './index.ts';
import type { PolicyRequest, RoutePolicy } from './policy.ts';
import { TokenBuckets } from './token-bucket.ts';

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

/**
 * A claim from what the route's authorizer returned, in the shapes API Gateway passes on: flat
 * (Lambda authorizer context), `jwt.claims` (HTTP API JWT authorizer) or `claims` (Cognito).
 */
function claimOf(authorizer: Record<string, unknown> | undefined, name: string): unknown {
  return field(authorizer, name) ?? field(field(field(authorizer, 'jwt'), 'claims'), name) ?? field(field(authorizer, 'claims'), name);
}

/** Reads a request's rate-limit key as the route's `key` says. */
function keyReader(key: RateLimitSpec['key']): (request: PolicyRequest) => string {
  switch (key.by) {
    case 'ip':
      return (request) => request.ip;
    case 'route':
      return () => '';
    case 'header':
      return (request) => {
        const value = request.headers[key.name];
        return Array.isArray(value) ? value.join(', ') : (value ?? '');
      };
    case 'claim':
      return (request) => {
        const value = claimOf(request.authorizer, key.name);
        return value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
      };
  }
}

function describeKey(key: RateLimitSpec['key']): string {
  if (key.by === 'ip') return 'client address';
  if (key.by === 'route') return 'route, for all callers';
  return `${key.by} ${key.name}`;
}

/** The rate-limit policy of a route that configures `rate_limit`; undefined otherwise. */
export function rateLimitPolicy(scope: PolicyScope): RoutePolicy | undefined {
  const spec = scope.route.policies?.rateLimit;
  if (!spec) return undefined;
  const { node, functionName, route } = scope;
  const { rate, burst } = spec;
  const keyOf = keyReader(spec.key);
  const stateKey = `rate-limit\n${functionName}\n${route.method ?? '*'}\n${route.host ?? '*'}\n${route.path}\n${rate}\n${burst}\n${describeKey(spec.key)}`;
  const buckets = node.state(stateKey, () => new TokenBuckets({ rate, burst }, { now: () => node.now() }));
  const where = `${route.method ?? ''} ${route.path}`.trim();
  return {
    name: 'rate-limit',
    decide(request) {
      const taken = buckets.take(keyOf(request));
      if (taken.allowed) return undefined;
      const retryAfter = String(taken.retryAfterSeconds);
      const error = new OutpostError('RATE_LIMITED', `too many requests for ${where}, counted per ${describeKey(spec.key)}: the route allows ${rate} a second, ${burst} at once`, {
        status: 429,
        fault: 'user',
        hint: `retry after ${retryAfter} s`,
      });
      return {
        reply: {
          status: 429,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'retry-after': retryAfter,
            'ratelimit-limit': String(burst),
            'ratelimit-remaining': '0',
            'ratelimit-reset': retryAfter,
            'x-outpost-error': error.code,
          },
          body: JSON.stringify({ error: { ...error.toJSON().error, requestId: request.requestId } }),
          outcome: 'throttled',
        },
      };
    },
  };
}

/** outpost.toml `[[route_rules]]` `rate_limit = { rate = 10, burst = 20, key = "ip" | "route" | "header:<name>" | "claim:<name>" }` */
export function readRateLimitRule(rule: Fields, policies: RoutePolicySpec): void {
  const r = rule.object('rate_limit');
  if (!r) return;
  const rate = r.number('rate', { required: true, min: 0 });
  const burst = r.number('burst', { min: 1, integer: true });
  const keyText = r.string('key', { pattern: /^(ip|route|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+|claim:.+)$/, patternHint: 'use "ip", "route", "header:<name>" or "claim:<name>"' });
  r.reportUnknown(['rate', 'burst', 'key']);
  if (rate === undefined || (r.has('burst') && burst === undefined) || (r.has('key') && keyText === undefined)) return;
  policies.rateLimit = { rate, burst: burst ?? Math.max(1, Math.ceil(rate)), key: rateLimitKey(keyText ?? 'ip') };
}

function rateLimitKey(text: string): RateLimitSpec['key'] {
  if (text.startsWith('header:')) return { by: 'header', name: text.slice(7).toLowerCase() };
  if (text.startsWith('claim:')) return { by: 'claim', name: text.slice(6) };
  return text === 'route' ? { by: 'route' } : { by: 'ip' };
}
