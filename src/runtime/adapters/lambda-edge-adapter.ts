/**
 * @module
 * Lambda@Edge: a Lambda handler attached to CloudFront triggers. The event and result shapes
 * (CloudFront's `Records[0].cf`, headers as lists of `{key, value}`, validation) are in
 * lambda-edge.ts; this file runs the trigger flow around the handler:
 *
 * - **viewer-request / origin-request**: the handler gets the request. A returned response
 *   answers the viewer directly; a returned request (maybe changed) is forwarded to the origin
 *   with fetch, and the origin's response goes back to the viewer.
 * - **origin-response / viewer-response**: the request goes to the origin first; the handler
 *   gets the origin's response (without its body, as on CloudFront) and what it returns is sent.
 *
 * The origin is, in order: an `origin` an origin-request handler returned, the route's origin
 * (serverless.yml `cloudFront.origin`), or the host the viewer addressed. Outbound requests go
 * through the isolate's guarded fetch, so egress rules apply. A path pattern the router had to
 * widen (`/img/*.jpg` routes as `/img/*`) is re-checked here: requests it does not match go
 * straight to the origin without running the handler, as CloudFront's behaviour would.
 *
 * Runs inside the function's isolate: Web APIs only.
 */
import type { Adapter, AdapterFactory, AdapterSetup, HttpInvocation, InvocationContext } from './adapter.ts';
import { unsupportedEvent } from './adapter.ts';
import { fromCloudFrontRequestResult, fromCloudFrontResponseResult, toCloudFrontEvent, toCloudFrontResponseEvent } from './lambda-edge.ts';
import type { CloudFrontCustomOrigin, CloudFrontOrigin, CloudFrontRequestEventType } from './lambda-edge.ts';
import type { HttpRequestInfo, HttpResult } from './lambda-http.ts';
import { encodeUtf8 } from './lambda-http.ts';
import { createRuntime, factsFor, formatLambdaLog, lambdaVariables, prepareLambdaGlobals, requestInfo, serveApiGateway, toResponse } from './lambda-adapter.ts';
import type { LambdaRuntime } from './lambda-adapter.ts';

type EdgeEventType = CloudFrontRequestEventType | 'origin-response' | 'viewer-response';

/** A custom origin (CloudFront's shape) for an origin URL such as `https://origin.example.com/base`. */
export function originFromUrl(origin: string): CloudFrontCustomOrigin {
  const url = new URL(origin);
  const https = url.protocol === 'https:';
  return {
    custom: {
      customHeaders: {},
      domainName: url.hostname,
      keepaliveTimeout: 5,
      path: url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''),
      port: url.port === '' ? (https ? 443 : 80) : Number(url.port),
      protocol: https ? 'https' : 'http',
      readTimeout: 30,
      sslProtocols: ['TLSv1.2'],
    },
  };
}

/** The base URL (scheme, host, port, path prefix) of a CloudFront origin object. */
export function originBase(origin: Record<string, unknown> | CloudFrontOrigin): string | undefined {
  const o = origin as Record<string, unknown>;
  const custom = o['custom'] as Record<string, unknown> | undefined;
  const s3 = o['s3'] as Record<string, unknown> | undefined;
  const spec = custom ?? s3;
  if (!spec || typeof spec['domainName'] !== 'string') return undefined;
  const protocol = custom ? (custom['protocol'] === 'http' ? 'http' : 'https') : 'https';
  const port = custom && typeof custom['port'] === 'number' ? custom['port'] : undefined;
  const defaultPort = protocol === 'https' ? 443 : 80;
  const path = typeof spec['path'] === 'string' ? spec['path'].replace(/\/$/, '') : '';
  return `${protocol}://${spec['domainName']}${port === undefined || port === defaultPort ? '' : `:${port}`}${path}`;
}

/** True when `path` matches a CloudFront path pattern (`*` any characters, `?` exactly one; case-sensitive). */
export function matchesPathPattern(pattern: string, path: string): boolean {
  const p = pattern.startsWith('/') ? pattern : `/${pattern}`;
  const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(path);
}

function patternsOf(setup: AdapterSetup): string[] | undefined {
  const raw = setup.platform['cloudfrontPathPatterns'];
  if (!raw) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string') : undefined;
  } catch {
    return undefined;
  }
}

/** Headers a proxy must not copy from one connection to the next. */
const NOT_FORWARDED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect']);

interface OriginRequest {
  method: string;
  uri: string;
  querystring: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body: Uint8Array | null;
}

/** Sends a request to the origin and reads its whole response (CloudFront buffers for triggers, too). */
export async function fetchOrigin(base: string, req: OriginRequest): Promise<HttpResult> {
  const url = `${base}${req.uri}${req.querystring === '' ? '' : `?${req.querystring}`}`;
  const headers = new Headers();
  for (const [name, value] of req.headers) if (!NOT_FORWARDED.has(name.toLowerCase())) headers.append(name, value);
  const withBody = req.body !== null && req.body.length > 0 && req.method !== 'GET' && req.method !== 'HEAD';
  let response: Response;
  try {
    response = await fetch(url, { method: req.method, headers, redirect: 'manual', ...(withBody ? { body: req.body as Uint8Array<ArrayBuffer> } : {}) });
  } catch (error) {
    return {
      status: 502,
      headers: [['content-type', 'text/plain; charset=utf-8']],
      body: encodeUtf8(`502 Bad Gateway: the origin ${base} could not be reached: ${(error as Error).message}\n`),
    };
  }
  const out: Array<[string, string]> = [];
  // fetch() has already decoded the body, so the origin's framing headers no longer apply.
  response.headers.forEach((value, name) => {
    if (name !== 'content-encoding' && name !== 'content-length' && name !== 'transfer-encoding') out.push([name, value]);
  });
  return { status: response.status, headers: out, body: new Uint8Array(await response.arrayBuffer()) };
}

/** The origin's base URL when no handler chose one: the route's origin, or the host the viewer addressed. */
function defaultBase(routeOrigin: string | undefined, info: HttpRequestInfo): string {
  if (routeOrigin) return routeOrigin.replace(/\/$/, '');
  return new URL(info.url).origin;
}

function split(url: string): { uri: string; querystring: string } {
  const u = new URL(url);
  return { uri: u.pathname, querystring: u.search.startsWith('?') ? u.search.slice(1) : u.search };
}

/** Runs one CloudFront trigger for an HTTP request. */
export async function serveCloudFront(
  runtime: LambdaRuntime,
  request: Request,
  http: HttpInvocation,
  ctx: InvocationContext,
  setup: AdapterSetup,
): Promise<Response> {
  const shape = http.event.kind === 'cloudfront' ? http.event : { eventType: 'viewer-request' as const };
  const eventType: EdgeEventType = shape.eventType;
  const routeOrigin = 'origin' in shape ? shape.origin : undefined;
  const origin = routeOrigin ? originFromUrl(routeOrigin) : undefined;
  const info = await requestInfo(request, http, ctx);
  const base = defaultBase(routeOrigin, info);
  const original: OriginRequest = { method: info.method, ...split(info.url), headers: info.headers, body: info.body };

  const patterns = patternsOf(setup);
  if (patterns && !patterns.some((p) => matchesPathPattern(p, original.uri))) return toResponse(await fetchOrigin(base, original));

  if (eventType === 'viewer-request' || eventType === 'origin-request') {
    const event = toCloudFrontEvent(info, { eventType, ...(origin ? { origin } : {}) });
    const outcome = fromCloudFrontRequestResult(await runtime.invoke(event, ctx), eventType);
    if (outcome.kind === 'response') return toResponse(outcome.response);
    const r = outcome.request;
    const chosen = r.origin ? originBase(r.origin) : undefined;
    return toResponse(await fetchOrigin(chosen ?? base, { method: r.method, uri: r.uri, querystring: r.querystring, headers: r.headers, body: r.body ?? info.body }));
  }
  const fromOrigin = await fetchOrigin(base, original);
  const event = toCloudFrontResponseEvent(info, fromOrigin, { eventType, ...(origin ? { origin } : {}) });
  return toResponse(fromCloudFrontResponseResult(await runtime.invoke(event, ctx), fromOrigin, eventType));
}

export const lambdaEdgeAdapter: AdapterFactory = {
  prepare: prepareLambdaGlobals,
  environment: (setup) => lambdaVariables(setup, factsFor(setup)),
  formatLog: formatLambdaLog,
  create(module, setup): Adapter {
    const runtime = createRuntime(module, setup, factsFor(setup));
    return {
      fetch(request, http, ctx) {
        // A function with both CloudFront and API events gets both kinds of route.
        if (http.event.kind === 'api-gateway') return serveApiGateway(runtime, request, http, ctx);
        return serveCloudFront(runtime, request, http, ctx, setup);
      },
      async event(kind, payload, ctx) {
        if (kind === 'invoke') return runtime.invoke(payload, ctx);
        throw unsupportedEvent('Lambda@Edge', kind);
      },
    };
  },
};
