/**
 * @module
 * CORS at the gateway, as API Gateway does it: a preflight (`OPTIONS` with `Origin` and
 * `Access-Control-Request-Method`) is answered here with 204 and never reaches the function;
 * other responses to an allowed origin get `Access-Control-Allow-Origin` (+ `Vary: Origin`),
 * credentials and expose-headers added.
 *
 * The config shapes of every format are read here too, into one {@link CorsSpec}: outpost.toml
 * `cors = {…}`, serverless `provider.httpApi.cors` and REST `http.cors`, SAM HttpApi
 * `CorsConfiguration` and Api `Cors`.
 *
 * Decisions: a preflight from an origin or for a method/header that is not allowed still gets a
 * 204, without any allow header, so the browser refuses it (API Gateway does the same). `*` in
 * methods or headers echoes what the preflight asked for, which also works with credentials
 * (where browsers do not accept a literal `*`); `*` origins with credentials echo the origin.
 * Loaders that know a route's method add an OPTIONS twin of the route so preflights match it.
 */
import { Fields, isRecord } from '../project/fields.ts';
import type { ProblemList } from '../project/problems.ts';
import type { CorsSpec, RoutePolicySpec, RouteSpec } from '../project/spec.ts';
import type { PolicyScope } from './index.ts';
import type { PolicyDecision, PolicyRequest, RoutePolicy } from './policy.ts';

/** The headers API Gateway allows when CORS is just `true`. */
export const DEFAULT_ALLOWED_HEADERS = ['content-type', 'x-amz-date', 'authorization', 'x-api-key', 'x-amz-security-token', 'x-amz-user-agent'];

/** CORS `true`: any origin, any method, API Gateway's default headers. */
export function permissiveCors(): CorsSpec {
  return { allowOrigins: ['*'], allowMethods: ['*'], allowHeaders: [...DEFAULT_ALLOWED_HEADERS], exposeHeaders: [], allowCredentials: false };
}

function lower(values: string[] | undefined): string[] {
  return (values ?? []).map((v) => v.trim().toLowerCase()).filter((v) => v !== '');
}

function upper(values: string[] | undefined): string[] {
  return (values ?? []).map((v) => v.trim().toUpperCase()).filter((v) => v !== '');
}

/** outpost.toml `[[route_rules]]` `cors = { allow_origins, allow_methods, allow_headers, expose_headers, allow_credentials, max_age }`. */
export function readCorsRule(rule: Fields, policies: RoutePolicySpec): void {
  const f = rule.object('cors');
  if (!f) return;
  const origins = f.stringArray('allow_origins');
  if (origins === undefined) f.problems.error(f.key('allow_origins'), 'missing; expected the origins allowed', 'add `allow_origins = ["https://app.example.com"]` (or ["*"])');
  const maxAge = f.number('max_age', { integer: true, min: 0, max: 86400 });
  policies.cors = {
    allowOrigins: origins ?? [],
    allowMethods: upper(f.stringArray('allow_methods') ?? ['*']),
    allowHeaders: lower(f.stringArray('allow_headers')),
    exposeHeaders: lower(f.stringArray('expose_headers')),
    allowCredentials: f.boolean('allow_credentials') ?? false,
    ...(maxAge === undefined ? {} : { maxAgeSeconds: maxAge }),
  };
  f.reportUnknown(['allow_origins', 'allow_methods', 'allow_headers', 'expose_headers', 'allow_credentials', 'max_age']);
}

/** serverless `provider.httpApi.cors`: `true` or `{ allowedOrigins, allowedHeaders, allowedMethods, allowCredentials, exposedResponseHeaders, maxAge }`. */
export function readServerlessHttpApiCors(value: unknown, at: string, problems: ProblemList): CorsSpec | undefined {
  if (value === true) return permissiveCors();
  if (value === undefined || value === false) return undefined;
  if (!isRecord(value)) {
    problems.error(at, 'expected true or a table of CORS settings');
    return undefined;
  }
  const f = new Fields(value, at, problems);
  const maxAge = f.number('maxAge', { integer: true, min: 0, max: 86400 });
  const spec: CorsSpec = {
    allowOrigins: f.stringArray('allowedOrigins') ?? ['*'],
    allowMethods: upper(f.stringArray('allowedMethods') ?? ['*']),
    allowHeaders: lower(f.stringArray('allowedHeaders') ?? DEFAULT_ALLOWED_HEADERS),
    exposeHeaders: lower(f.stringArray('exposedResponseHeaders')),
    allowCredentials: f.boolean('allowCredentials') ?? false,
    ...(maxAge === undefined ? {} : { maxAgeSeconds: maxAge }),
  };
  f.reportUnknown(['allowedOrigins', 'allowedMethods', 'allowedHeaders', 'exposedResponseHeaders', 'allowCredentials', 'maxAge']);
  return spec;
}

/** serverless REST `http.cors`: `true` or `{ origin | origins, headers, methods, allowCredentials, exposedResponseHeaders, maxAge }`. */
export function readServerlessRestCors(value: unknown, at: string, problems: ProblemList): CorsSpec | undefined {
  if (value === true) return permissiveCors();
  if (value === undefined || value === false) return undefined;
  if (!isRecord(value)) {
    problems.error(at, 'expected true or a table of CORS settings');
    return undefined;
  }
  const f = new Fields(value, at, problems);
  const one = f.string('origin');
  const maxAge = f.number('maxAge', { integer: true, min: 0, max: 86400 });
  f.accept('cacheControl');
  const spec: CorsSpec = {
    allowOrigins: f.stringArray('origins') ?? (one === undefined ? ['*'] : one.split(',').map((o) => o.trim())),
    allowMethods: upper(f.stringArray('methods') ?? ['*']),
    allowHeaders: lower(f.stringArray('headers') ?? DEFAULT_ALLOWED_HEADERS),
    exposeHeaders: lower(f.stringArray('exposedResponseHeaders')),
    allowCredentials: f.boolean('allowCredentials') ?? false,
    ...(maxAge === undefined ? {} : { maxAgeSeconds: maxAge }),
  };
  f.reportUnknown(['origin', 'origins', 'methods', 'headers', 'exposedResponseHeaders', 'allowCredentials', 'maxAge', 'cacheControl']);
  return spec;
}

/** SAM HttpApi `CorsConfiguration`: `true` or `{ AllowOrigins, AllowHeaders, AllowMethods, AllowCredentials, ExposeHeaders, MaxAge }`. */
export function readSamHttpApiCors(value: unknown, at: string, problems: ProblemList): CorsSpec | undefined {
  if (value === true) return permissiveCors();
  if (value === undefined || value === false) return undefined;
  if (!isRecord(value)) {
    problems.error(at, 'expected true or a table of CORS settings');
    return undefined;
  }
  const f = new Fields(value, at, problems);
  const maxAge = f.number('MaxAge', { integer: true, min: 0, max: 86400 });
  const spec: CorsSpec = {
    allowOrigins: f.stringArray('AllowOrigins') ?? [],
    allowMethods: upper(f.stringArray('AllowMethods') ?? ['*']),
    allowHeaders: lower(f.stringArray('AllowHeaders')),
    exposeHeaders: lower(f.stringArray('ExposeHeaders')),
    allowCredentials: f.boolean('AllowCredentials') ?? false,
    ...(maxAge === undefined ? {} : { maxAgeSeconds: maxAge }),
  };
  f.reportUnknown(['AllowOrigins', 'AllowMethods', 'AllowHeaders', 'ExposeHeaders', 'AllowCredentials', 'MaxAge']);
  return spec;
}

/** SAM's REST values are header values in single quotes: `"'https://a.example, https://b.example'"`. */
function quotedList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value.replace(/^\s*'|'\s*$/g, '').split(',').map((v) => v.trim()).filter((v) => v !== '');
}

/** SAM Api `Cors`: `"'origin'"` or `{ AllowOrigin, AllowHeaders, AllowMethods, AllowCredentials, MaxAge }` (quoted strings). */
export function readSamRestCors(value: unknown, at: string, problems: ProblemList): CorsSpec | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return { ...permissiveCors(), allowOrigins: quotedList(value) ?? [] };
  if (!isRecord(value)) {
    problems.error(at, "expected an origin such as \"'https://app.example.com'\" or a table with AllowOrigin");
    return undefined;
  }
  const f = new Fields(value, at, problems);
  const origins = quotedList(f.string('AllowOrigin', { required: true }));
  const maxAge = quotedList(f.string('MaxAge'))?.[0];
  const spec: CorsSpec = {
    allowOrigins: origins ?? [],
    allowMethods: upper(quotedList(f.string('AllowMethods')) ?? ['*']),
    allowHeaders: lower(quotedList(f.string('AllowHeaders')) ?? DEFAULT_ALLOWED_HEADERS),
    exposeHeaders: [],
    allowCredentials: f.boolean('AllowCredentials') ?? false,
    ...(maxAge === undefined || !/^\d+$/.test(maxAge) ? {} : { maxAgeSeconds: Number(maxAge) }),
  };
  f.reportUnknown(['AllowOrigin', 'AllowMethods', 'AllowHeaders', 'AllowCredentials', 'MaxAge']);
  return spec;
}

/** True when `origin` is allowed: exactly, by `*`, or by a `https://*.example.com` pattern. */
export function originAllowed(spec: CorsSpec, origin: string): boolean {
  const o = origin.toLowerCase();
  for (const allowed of spec.allowOrigins) {
    const a = allowed.toLowerCase();
    if (a === '*' || a === o) return true;
    const star = a.indexOf('://*.');
    if (star !== -1 && o.startsWith(a.slice(0, star + 3)) && o.endsWith(a.slice(star + 4)) && o.length > a.length - 1) return true;
  }
  return false;
}

function header(request: PolicyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The origin the response names: `*` only when any origin is allowed and credentials are not. */
function allowOriginValue(spec: CorsSpec, origin: string): string {
  return spec.allowOrigins.includes('*') && !spec.allowCredentials ? '*' : origin;
}

/** The 204 for a preflight; without allow headers when the origin, method or a header is not allowed. */
export function preflight(spec: CorsSpec, origin: string, method: string, requestedHeaders: string[]): PolicyDecision {
  const methodOk = spec.allowMethods.includes('*') || spec.allowMethods.includes(method.toUpperCase());
  const headersOk = spec.allowHeaders.includes('*') || requestedHeaders.every((h) => spec.allowHeaders.includes(h));
  if (!originAllowed(spec, origin) || !methodOk || !headersOk) return { reply: { status: 204, headers: { vary: 'origin' }, outcome: 'ok' } };
  const headers: Record<string, string> = {
    'access-control-allow-origin': allowOriginValue(spec, origin),
    'access-control-allow-methods': spec.allowMethods.includes('*') ? method.toUpperCase() : spec.allowMethods.join(','),
    vary: 'origin',
  };
  const allowHeaders = spec.allowHeaders.includes('*') ? requestedHeaders : spec.allowHeaders;
  if (allowHeaders.length > 0) headers['access-control-allow-headers'] = allowHeaders.join(',');
  if (spec.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  if (spec.maxAgeSeconds !== undefined) headers['access-control-max-age'] = String(spec.maxAgeSeconds);
  return { reply: { status: 204, headers, outcome: 'ok' } };
}

/** The policy for one route's {@link CorsSpec}. */
export function corsPolicy(spec: CorsSpec): RoutePolicy {
  const expose = spec.exposeHeaders.join(',');
  return {
    name: 'cors',
    decide(request) {
      const origin = header(request, 'origin');
      if (origin === undefined) return undefined;
      const requestedMethod = header(request, 'access-control-request-method');
      if (request.method === 'OPTIONS' && requestedMethod !== undefined) {
        return preflight(spec, origin, requestedMethod, lower(header(request, 'access-control-request-headers')?.split(',')));
      }
      if (!originAllowed(spec, origin)) return { responseHeaders: [['vary', 'origin']] };
      const responseHeaders: Array<[string, string]> = [
        ['access-control-allow-origin', allowOriginValue(spec, origin)],
        ['vary', 'origin'],
      ];
      if (spec.allowCredentials) responseHeaders.push(['access-control-allow-credentials', 'true']);
      if (expose !== '') responseHeaders.push(['access-control-expose-headers', expose]);
      return { responseHeaders };
    },
  };
}

export function corsFactory(scope: PolicyScope): RoutePolicy | undefined {
  const spec = scope.route.policies?.cors;
  return spec ? corsPolicy(spec) : undefined;
}

/**
 * Adds an OPTIONS twin for each route with CORS and a method, so a browser's preflight matches a
 * route and is answered here (API Gateway answers preflights of any configured route). A path
 * that already has an OPTIONS route keeps it.
 */
export function addPreflightRoutes(routes: RouteSpec[]): void {
  const options = new Set(routes.filter((r) => r.method === 'OPTIONS').map((r) => `${r.host ?? ''} ${r.path}`));
  for (const route of [...routes]) {
    const cors = route.policies?.cors;
    const where = `${route.host ?? ''} ${route.path}`;
    if (!cors || route.method === undefined || options.has(where)) continue;
    options.add(where);
    routes.push({ ...route, method: 'OPTIONS', policies: { cors } });
  }
}
