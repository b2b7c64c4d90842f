/**
 * @module
 * Next.js / Vercel functions: app-router route handlers ('vercel-app-route': `export async
 * function GET(request, { params })`, one export per method) and pages-router edge API routes
 * ('vercel-pages-api': `export default function handler(req)`). Both receive a NextRequest.
 *
 * As Next does for route handlers: a method the module does not export answers 405 with an
 * `Allow` header; HEAD falls back to GET (without the body); OPTIONS is answered with 204 and
 * `Allow` when not exported; `params` is a Promise (Next 15) that also carries the values as
 * properties (Next 14 code reads `params.id` directly); a catch-all `[...slug]` is an array;
 * `NextResponse.rewrite()` / `next()` returned from a route handler are refused, as Next refuses
 * them (they only mean something in middleware, which Outpost does not run).
 *
 * Request metadata: the gateway's record (client ip, geo) is written into the headers Vercel's
 * proxy sets (`x-real-ip`, `x-forwarded-for`, `x-vercel-ip-country`, `-city`, …), replacing
 * any the client sent, so `next/server`, `@vercel/functions` and code that reads the headers
 * directly all see the same trusted values.
 *
 * Environment: Vercel inlines `process.env.X` in edge code; here a `process` object with only
 * `env` (the function's variables plus VERCEL, VERCEL_ENV, VERCEL_REGION, NEXT_RUNTIME) is
 * installed for edge functions, as Vercel's edge runtime has — `typeof process` is "object"
 * there too, and `process.versions` is absent, so Node checks stay false.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { LOCAL_CLASSES, NEXT_SERVER_GLOBAL } from '../../compat/next-server.ts';
import type { RequestMeta } from '../protocol.ts';
import type { Adapter, AdapterFactory, AdapterSetup, InvocationContext } from './adapter.ts';
import { HandlerShapeError, unsupportedEvent } from './adapter.ts';

type Handler = (...args: unknown[]) => unknown;

const { NextRequest } = LOCAL_CLASSES;
export const ROUTE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

interface VercelRequestContext {
  waitUntil(promise: Promise<unknown>): void;
  headers: Record<string, string | undefined>;
}

const requestContext = new AsyncLocalStorage<VercelRequestContext>();
const CONTEXT_SYMBOL = Symbol.for('@vercel/request-context');

/** Writes the request metadata into the headers Vercel's proxy sets, replacing client-sent ones. */
export function projectVercelHeaders(headers: Headers, meta: RequestMeta, requestId: string, url: URL, rawHeaders?: readonly string[]): void {
  const cf = meta.cf;
  const text = (key: string): string | undefined => (cf[key] === undefined ? undefined : String(cf[key]));
  // A header the client did not send needs no delete; knowing that from the raw headers saves
  // a dozen lookups on every request that carries no spoofed x-vercel-* headers.
  let clientSent = true;
  if (rawHeaders) {
    clientSent = false;
    for (let i = 0; i < rawHeaders.length; i += 2) if ((rawHeaders[i] as string).startsWith('x-vercel-')) clientSent = true;
  }
  const set = (name: string, value: string | undefined): void => {
    if (value === undefined || value === '') {
      if (clientSent) headers.delete(name);
    } else headers.set(name, value);
  };
  set('x-real-ip', meta.ip);
  set('x-forwarded-for', meta.ip);
  set('x-vercel-forwarded-for', meta.ip);
  set('x-forwarded-host', url.host);
  set('x-forwarded-proto', url.protocol.slice(0, -1));
  set('x-vercel-ip-country', text('country'));
  set('x-vercel-ip-country-region', text('region'));
  const city = text('city');
  set('x-vercel-ip-city', city === undefined ? undefined : encodeURIComponent(city));
  set('x-vercel-ip-continent', text('continent'));
  set('x-vercel-ip-latitude', text('latitude'));
  set('x-vercel-ip-longitude', text('longitude'));
  set('x-vercel-ip-timezone', text('timezone'));
  set('x-vercel-ip-postal-code', text('postalCode'));
  set('x-vercel-id', `${text('colo') ?? 'dev1'}::${requestId}`);
}

/** Router params → Next's params: the catch-all one becomes an array of segments. */
export function nextParams(params: Record<string, string>, catchAll: string | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(params)) out[k] = k === catchAll ? v.split('/') : v;
  return out;
}

/** Next 15's params: a Promise, which also has the values as properties for Next 14 code. */
export function paramsPromise<T extends object>(params: T): Promise<T> & T {
  return Object.assign(Promise.resolve(params), params);
}

/** Allow header for a route module: its methods, HEAD when GET exists, and OPTIONS (automatic). */
export function allowHeader(implemented: ReadonlySet<string>): string {
  const all = new Set(implemented);
  if (all.has('GET')) all.add('HEAD');
  all.add('OPTIONS');
  return [...all].sort().join(', ');
}

/** The system variables Vercel sets for every function (the function's own variables win). */
function systemEnvironment(setup: AdapterSetup): Record<string, string> {
  return {
    VERCEL: '1',
    VERCEL_ENV: setup.dev ? 'development' : 'production',
    VERCEL_DEPLOYMENT_ID: `${setup.functionName}@${setup.version}`,
    ...(setup.host?.region ? { VERCEL_REGION: setup.host.region } : {}),
    NEXT_RUNTIME: setup.platform['runtime'] === 'nodejs' ? 'nodejs' : 'edge',
    NODE_ENV: 'production',
  };
}

function envFor(setup: AdapterSetup): Record<string, string> {
  return { ...systemEnvironment(setup), ...setup.variables };
}

let processEnv: Record<string, string> | undefined;

function prepare(setup: AdapterSetup): void {
  const g = globalThis as Record<string | symbol, unknown>;
  g[NEXT_SERVER_GLOBAL] = LOCAL_CLASSES;
  g[CONTEXT_SYMBOL] = Object.freeze({ get: () => requestContext.getStore() });
  const env = envFor(setup);
  const existing = g['process'] as { env?: Record<string, string> } | undefined;
  if (existing?.env) {
    // Node-runtime routes keep Node's process (its env already holds only the function's vars).
    for (const [k, v] of Object.entries(env)) if (existing.env[k] === undefined) existing.env[k] = v;
    processEnv = existing.env;
  } else {
    processEnv = env;
    Object.defineProperty(globalThis, 'process', { value: { env }, writable: true, configurable: true, enumerable: false });
  }
}

/** VERCEL_REGION is the node's region; when the host did not say, the first request's metadata does. */
function noteRegion(meta: RequestMeta): void {
  if (processEnv && processEnv['VERCEL_REGION'] === undefined) processEnv['VERCEL_REGION'] = String(meta.cf['colo'] ?? 'dev1');
}

function contextFor(ctx: InvocationContext, request: Request): VercelRequestContext {
  return {
    waitUntil: (p) => ctx.waitUntil(p),
    get headers() {
      return Object.fromEntries(request.headers);
    },
  };
}

async function expectResponse(value: unknown, what: string): Promise<Response> {
  if (value instanceof Response) return value;
  throw new TypeError(`No response is returned from ${what}: it must return a Response (got ${value === null ? 'null' : typeof value})`);
}

function withoutBody(response: Response): Response {
  void response.body?.cancel();
  return new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
}

function noEvents(style: string): Adapter['event'] {
  return async (kind) => {
    throw unsupportedEvent(style, kind);
  };
}

export const vercelAppRouteAdapter: AdapterFactory = {
  requestClass: NextRequest,
  prepare,
  environment: systemEnvironment,
  create(module, setup): Adapter {
    const handlers = new Map<string, Handler>();
    for (const m of ROUTE_METHODS) {
      const fn = module[m];
      if (typeof fn === 'function') handlers.set(m, fn as Handler);
    }
    if (handlers.size === 0) {
      throw new HandlerShapeError('a route handler must export at least one of GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS (export async function GET(request) { … })');
    }
    const allow = allowHeader(new Set(handlers.keys()));
    const catchAll = setup.platform['catchAll'];
    return {
      async fetch(request, http, ctx) {
        noteRegion(http.meta);
        const url = new URL(request.url);
        projectVercelHeaders(request.headers, http.meta, ctx.requestId, url, http.rawHeaders);
        const method = request.method;
        const handler = handlers.get(method) ?? (method === 'HEAD' ? handlers.get('GET') : undefined);
        if (!handler) {
          if (method === 'OPTIONS') return new Response(null, { status: 204, headers: { Allow: allow } });
          return new Response(null, { status: 405, headers: { Allow: allow } });
        }
        const req = request instanceof NextRequest ? request : new NextRequest(request);
        const params = paramsPromise(nextParams(http.params, catchAll));
        const result = await requestContext.run(contextFor(ctx, req), () => handler(req, { params }));
        const response = await expectResponse(result, `the route handler ${method} ${url.pathname}`);
        if (response.headers.has('x-middleware-rewrite')) {
          throw new Error('NextResponse.rewrite() was used in a app route handler, this is not currently supported. Please remove the invocation to continue.');
        }
        if (response.headers.get('x-middleware-next') === '1') {
          throw new Error('NextResponse.next() was used in a app route handler, this is not supported. See here for more info: https://nextjs.org/docs/messages/next-response-next-in-app-route-handler');
        }
        return method === 'HEAD' ? withoutBody(response) : response;
      },
      event: noEvents('Next.js route handler'),
    };
  },
};

export const vercelPagesApiAdapter: AdapterFactory = {
  requestClass: NextRequest,
  prepare,
  environment: systemEnvironment,
  create(module, setup): Adapter {
    const exported = module[setup.handlerExport === '*' ? 'default' : setup.handlerExport];
    if (typeof exported !== 'function') {
      throw new HandlerShapeError('an API route must have a default export: export default async function handler(req) { … }');
    }
    if (setup.platform['runtime'] === 'nodejs') {
      throw new HandlerShapeError('pages/api routes on the Node.js runtime ((req, res) handlers) are not supported yet; add `export const config = { runtime: "edge" }` to run it as an edge API route');
    }
    const handler = exported as Handler;
    const catchAll = setup.platform['catchAll'];
    return {
      async fetch(request, http, ctx) {
        noteRegion(http.meta);
        let url = new URL(request.url);
        projectVercelHeaders(request.headers, http.meta, ctx.requestId, url, http.rawHeaders);
        let req: InstanceType<typeof NextRequest>;
        const entries = Object.entries(nextParams(http.params, catchAll));
        if (entries.length > 0) {
          // The pages router hands dynamic segments to edge API routes in the query string.
          url = new URL(url);
          for (const [k, v] of entries) if (!url.searchParams.has(k)) for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, one);
          const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers: request.headers, body: request.body, signal: request.signal };
          if (request.body) init.duplex = 'half';
          req = new NextRequest(url, init);
        } else req = request instanceof NextRequest ? request : new NextRequest(request);
        const result = await requestContext.run(contextFor(ctx, req), () => handler(req, { waitUntil: (p: unknown) => ctx.waitUntil(p) }));
        return expectResponse(result, `the API route ${url.pathname}`);
      },
      event: noEvents('Next.js API route'),
    };
  },
};
