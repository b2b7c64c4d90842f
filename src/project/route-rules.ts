/**
 * @module
 * outpost.toml `[[route_rules]]`: traffic rules for a Workers-style function, which has no
 * platform config for them. Each rule is a route of its own (`path`, optional `method` and
 * `host`, matched like wrangler routes, most specific first) carrying policies:
 *
 *     [[route_rules]]
 *     path = "/api/*"
 *     cors = { allow_origins = ["https://app.example.com"] }
 *
 * Each policy key is read by one entry of {@link RULE_READERS}; keys nobody reads are reported.
 */
import type { Fields } from './fields.ts';
import { readApiKeyRule } from '../traffic/api-keys.ts';
import { readCorsRule } from '../traffic/cors.ts';
import { readJwtRule } from '../traffic/jwt.ts';
import { readAuthorizerRule } from '../traffic/lambda-authorizer.ts';
import { readCacheRule } from '../traffic/response-cache.ts';
import { readRateLimitRule } from '../traffic/rate-limit.ts';
import type { RoutePolicySpec, RouteSpec } from './spec.ts';

/** Reads one policy key of a rule into the route's policies; records problems on `rule`. */
export type RuleReader = (rule: Fields, policies: RoutePolicySpec) => void;

/** Policy keys a rule may carry, each with its reader. */
export const RULE_READERS: Record<string, RuleReader> = {
  cors: readCorsRule,
  jwt: readJwtRule,
  authorizer: readAuthorizerRule,
  api_key: readApiKeyRule,
  cache: readCacheRule,
  rate_limit: readRateLimitRule,
};

export function readRouteRules(fields: Fields): RouteSpec[] {
  const out: RouteSpec[] = [];
  for (const rule of fields.objects('route_rules')) {
    const path = rule.string('path', { required: true, pattern: /^\//, patternHint: 'start the path with /, e.g. "/api/*"' });
    const method = rule.string('method');
    const host = rule.string('host');
    const policies: RoutePolicySpec = {};
    for (const [key, read] of Object.entries(RULE_READERS)) if (rule.has(key)) read(rule, policies);
    rule.reportUnknown(['path', 'method', 'host', ...Object.keys(RULE_READERS)]);
    if (path === undefined) continue;
    out.push({ path, ...(method ? { method: method.toUpperCase() } : {}), ...(host ? { host: host.toLowerCase() } : {}), event: { kind: 'fetch' }, policies });
  }
  return out;
}
