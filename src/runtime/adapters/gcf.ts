/**
 * @module
 * Google Cloud Functions and Firebase HTTPS functions: `(req, res)` handlers exported from one
 * module (`export const api = onRequest(…)`, `exports.api = functions.https.onRequest(…)`, a
 * plain exported function served with `functions-framework --target`) or registered with the
 * Functions Framework's `functions.http('name', fn)`. The loader routes `/<name>` and
 * `/<name>/*` to the export `name`; the function sees the path after its name, as on Cloud
 * Functions (`/api/users` → `req.path === '/users'`), so an exported Express-style router works.
 *
 * The body is parsed before the call as the Functions Framework's body-parser chain does:
 * `application/json` (and `application/cloudevents+json`) → parsed JSON (objects and arrays only;
 * an empty body is `{}`); `text/plain` → string; `application/x-www-form-urlencoded` → object
 * (extended syntax); any other type → Buffer; no Content-Type → `{}`. `req.rawBody` is the bytes.
 * A body that does not parse is answered 400 (415 for a charset it cannot decode) before the
 * function runs, with Express's production error page.
 *
 * The invocation ends when the response ends, not when the function returns: a function that
 * returns before calling `res.send()` keeps running until it does (or the time limit ends it).
 * An exception before the response is sent becomes Outpost's 500; after it, the error is logged
 * and a streaming body is cut off.
 */
import { Buffer } from 'node:buffer';
import type { Adapter, AdapterFactory, AdapterSetup, HttpInvocation } from './adapter.ts';
import { HandlerShapeError, unsupportedEvent } from './adapter.ts';
import { ExpressRequest, ExpressResponse } from './express.ts';
import { charsetOf, essence, parseQuery } from './http-util.ts';

/** Where `@google-cloud/functions-framework`'s `http(name, fn)` registers (see src/compat/). */
export const GCF_REGISTRY = Symbol.for('outpost.gcf.functions');

export interface RegisteredFunction {
  signature: 'http' | 'cloudevent' | 'event';
  handler: unknown;
}

type HttpFunction = (req: ExpressRequest, res: ExpressResponse) => unknown;

export interface ParsedBody {
  body: unknown;
  rawBody: Buffer | undefined;
}

/** A body the Functions Framework's body parsers would refuse. */
export class BodyParseError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'BodyParseError';
    this.status = status;
  }
}

function decoderFor(contentType: string | null, what: string): TextDecoder {
  const charset = charsetOf(contentType) ?? 'utf-8';
  try {
    return new TextDecoder(charset, { fatal: false });
  } catch {
    throw new BodyParseError(415, `unsupported charset "${charset.toUpperCase()}" for ${what}`);
  }
}

/**
 * Parses a request body by its content type as the Functions Framework does (body-parser's
 * json, text, urlencoded and raw parsers in that order). `bytes` is null when the request had
 * no body at all. Throws {@link BodyParseError}.
 */
export function parseBody(contentType: string | null, bytes: Uint8Array | null): ParsedBody {
  if (bytes === null) return { body: {}, rawBody: undefined };
  const rawBody = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = essence(contentType);
  if (type === '') return { body: {}, rawBody };
  if (type === 'application/json' || type === 'application/cloudevents+json') {
    const charset = charsetOf(contentType) ?? 'utf-8';
    if (!charset.startsWith('utf-')) throw new BodyParseError(415, `unsupported charset "${charset.toUpperCase()}"`);
    const text = decoderFor(contentType, 'JSON').decode(bytes);
    if (text.trim() === '') return { body: {}, rawBody };
    // body-parser's strict mode: only objects and arrays.
    const first = /^[\x20\x09\x0a\x0d]*(.)/.exec(text)?.[1];
    if (first !== '{' && first !== '[') throw new BodyParseError(400, `Unexpected token ${first ?? ''} in JSON at position 0`);
    try {
      return { body: JSON.parse(text) as unknown, rawBody };
    } catch (error) {
      throw new BodyParseError(400, (error as Error).message);
    }
  }
  if (type === 'text/plain') return { body: decoderFor(contentType, 'text').decode(bytes), rawBody };
  if (type === 'application/x-www-form-urlencoded') {
    const charset = charsetOf(contentType) ?? 'utf-8';
    if (charset !== 'utf-8') throw new BodyParseError(415, `unsupported charset "${charset.toUpperCase()}"`);
    return { body: parseQuery(new TextDecoder().decode(bytes)), rawBody };
  }
  return { body: rawBody, rawBody };
}

/** finalhandler's page in production, which is what Express sends for a body-parser error. */
function errorPage(status: number): Response {
  const text = status === 415 ? 'Unsupported Media Type' : 'Bad Request';
  const html = `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>${text}</pre>\n</body>\n</html>\n`;
  return new Response(html, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'", 'x-content-type-options': 'nosniff' },
  });
}

function registry(): Map<string, RegisteredFunction> | undefined {
  const r = (globalThis as Record<symbol, unknown>)[GCF_REGISTRY];
  return r instanceof Map ? (r as Map<string, RegisteredFunction>) : undefined;
}

/** The HTTP functions of a module, by name: Functions Framework registrations first, then exports. */
function collect(module: Record<string, unknown>, names: readonly string[]): Map<string, HttpFunction> {
  const out = new Map<string, HttpFunction>();
  for (const [name, fn] of registry() ?? []) {
    if (fn.signature === 'http' && typeof fn.handler === 'function') out.set(name, fn.handler as HttpFunction);
  }
  // A CommonJS module (`exports.api = …`) arrives as the ESM default export.
  const cjs = module['default'];
  const fromDefault = typeof cjs === 'object' && cjs !== null ? (cjs as Record<string, unknown>) : typeof cjs === 'function' ? (cjs as unknown as Record<string, unknown>) : {};
  const candidates = names.length > 0 ? names : [...Object.keys(module), ...Object.keys(fromDefault)];
  const missing: string[] = [];
  for (const name of candidates) {
    if (out.has(name) || name === 'default') continue;
    const value = module[name] ?? fromDefault[name];
    if (typeof value === 'function') out.set(name, value as HttpFunction);
    else if (names.includes(name)) missing.push(name);
  }
  if (missing.length > 0) {
    throw new HandlerShapeError(
      `${missing.map((n) => `"${n}"`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not exported as a function; export each HTTP function, e.g. export const ${missing[0]} = onRequest((req, res) => { … })`,
    );
  }
  return out;
}

/** Variables Cloud Functions' runtime sets that a function may read (the function's own vars win). */
function platformEnv(setup: AdapterSetup): Record<string, string> {
  const names = exportNames(setup);
  const projectId = setup.platform['projectId'];
  const env: Record<string, string> = { FUNCTION_SIGNATURE_TYPE: 'http', K_REVISION: String(setup.version), PORT: '8080' };
  const only = names.length === 1 ? names[0] : undefined;
  if (only !== undefined) {
    env['FUNCTION_TARGET'] = only;
    env['K_SERVICE'] = only;
  }
  if (projectId) {
    env['GCLOUD_PROJECT'] = projectId;
    env['GOOGLE_CLOUD_PROJECT'] = projectId;
    env['FIREBASE_CONFIG'] = JSON.stringify({ projectId, storageBucket: `${projectId}.appspot.com` });
  }
  return env;
}

function exportNames(setup: AdapterSetup): string[] {
  return (setup.platform['exports'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Which function a request is for, and the path it sees (its name removed). */
function target(functions: Map<string, HttpFunction>, http: HttpInvocation, pathname: string): { name: string; path: string } | undefined {
  const strip = (name: string): string => {
    if (pathname === `/${name}`) return '/';
    return pathname.startsWith(`/${name}/`) ? pathname.slice(name.length + 1) : pathname;
  };
  if (http.event.kind === 'export') return { name: http.event.name, path: strip(http.event.name) };
  // The dev mount /<project>/<name>/…: the first segment names the function.
  const first = decodeURIComponent(pathname.split('/')[1] ?? '');
  if (functions.has(first)) return { name: first, path: strip(first) };
  if (functions.size === 1) {
    const [only] = functions.keys();
    if (only !== undefined) return { name: only, path: pathname };
  }
  return undefined;
}

export const gcfAdapter: AdapterFactory = {
  environment: platformEnv,
  create(module, setup): Adapter {
    const functions = collect(module, exportNames(setup));
    if (functions.size === 0) throw new HandlerShapeError('the module exports no HTTP function; export one: export const api = onRequest((req, res) => { res.send("ok") })');
    return {
      async fetch(request, http) {
        const url = new URL(request.url);
        const found = target(functions, http, url.pathname);
        const fn = found ? functions.get(found.name) : undefined;
        if (!found || !fn) return new Response(`Function not found: ${url.pathname}`, { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } });
        const h = request.headers;
        const hasBody = request.body !== null || h.has('content-length') || h.has('transfer-encoding');
        let parsed: ParsedBody;
        try {
          parsed = parseBody(h.get('content-type'), hasBody ? new Uint8Array(await request.arrayBuffer()) : null);
        } catch (error) {
          if (error instanceof BodyParseError) return errorPage(error.status);
          throw error;
        }
        const req = new ExpressRequest({
          method: request.method,
          url: `${found.path}${url.search}`,
          headers: h,
          ip: http.meta.ip,
          protocol: url.protocol,
          body: parsed.body,
          rawBody: parsed.rawBody,
        });
        return new Promise<Response>((resolve, reject) => {
          let settled = false;
          const res = new ExpressResponse(req, {
            respond: (response) => {
              settled = true;
              resolve(response);
            },
            fail: (error) => {
              settled = true;
              reject(error instanceof Error ? error : new Error(String(error)));
            },
          });
          const failed = (error: unknown): void => {
            if (!settled) {
              settled = true;
              reject(error instanceof Error ? error : new Error(String(error)));
              return;
            }
            console.error(error);
            ExpressResponse.abort(res, error);
          };
          try {
            const result = fn(req, res);
            if (typeof result === 'object' && result !== null && typeof (result as Promise<unknown>).then === 'function') {
              (result as Promise<unknown>).then(undefined, failed);
            }
          } catch (error) {
            failed(error);
          }
        });
      },
      async event(kind) {
        throw unsupportedEvent('Google HTTP function', kind);
      },
    };
  },
};
