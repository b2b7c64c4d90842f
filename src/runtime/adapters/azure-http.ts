/**
 * @module
 * What the Azure Functions adapters (v3 `context.res`, v4 `HttpResponseInit`) share: cookies in
 * Azure's shape → `Set-Cookie`, the v3 response object → a Web Response, and the loggers behind
 * `context.log` (which go to the function's console, so the worker tags them with the request).
 */
import { Buffer } from 'node:buffer';
import { format } from 'node:util';
import { serializeCookie } from './http-util.ts';

/** A cookie as Azure's `cookies: Cookie[]` describes it (maxAge in seconds, as the host reads it). */
export interface AzureCookie {
  name: string;
  value: string;
  domain?: string;
  path?: string;
  expires?: Date | number;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None' | string;
  maxAge?: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Appends each cookie as a Set-Cookie header; throws TypeError for a cookie without a name. */
export function appendCookies(headers: Headers, cookies: unknown): void {
  if (!Array.isArray(cookies)) return;
  for (const c of cookies as unknown[]) {
    if (!isRecord(c) || typeof c['name'] !== 'string') throw new TypeError('each cookie needs a "name" and a "value"');
    const sameSite = typeof c['sameSite'] === 'string' ? c['sameSite'] : undefined;
    headers.append(
      'set-cookie',
      serializeCookie(c['name'], String(c['value'] ?? ''), {
        domain: typeof c['domain'] === 'string' ? c['domain'] : undefined,
        path: typeof c['path'] === 'string' ? c['path'] : undefined,
        expires: c['expires'] instanceof Date || typeof c['expires'] === 'number' ? c['expires'] : undefined,
        secure: c['secure'] === true,
        httpOnly: c['httpOnly'] === true,
        sameSite,
        maxAge: typeof c['maxAge'] === 'number' ? c['maxAge'] : undefined,
      }),
    );
  }
}

/** `status` / `statusCode` as a number; 200 when unset; throws for anything that is not a status. */
export function statusOf(value: unknown, fallback: number): number {
  if (value === undefined || value === null || typeof value === 'function') return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{3}$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 200 || n > 599) throw new TypeError(`invalid HTTP status ${JSON.stringify(value)}: use a number from 200 to 599`);
  return n;
}

function headersOf(value: unknown): Headers {
  const headers = new Headers();
  if (value instanceof Headers) return new Headers(value);
  if (!isRecord(value)) return headers;
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined || typeof v === 'function') continue;
    if (Array.isArray(v)) for (const x of v) headers.append(k, String(x));
    else headers.set(k, String(v));
  }
  return headers;
}

/**
 * The v3 HTTP output (`context.res`, or the `$return` value) as a Web Response, as the Functions
 * host writes it: `status` or `statusCode` (default 200), `headers`, `cookies`, and `body` —
 * a string (text/plain unless a Content-Type was set), a Buffer or typed array
 * (application/octet-stream), another object or number as JSON (application/json). With no
 * output at all the host answers 204, as documented for Functions 2.x and later.
 */
export function v3Response(out: unknown, method: string): Response {
  if (out === undefined || out === null) return new Response(null, { status: 204 });
  if (!isRecord(out)) return v3Response({ body: out }, method);
  const status = statusOf(out['statusCode'] ?? out['status'], 200);
  const headers = headersOf(out['headers']);
  appendCookies(headers, out['cookies']);
  const raw = out['body'];
  let body: Uint8Array | string | null = null;
  if (raw === undefined || raw === null) body = null;
  else if (typeof raw === 'string') {
    body = raw;
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain; charset=utf-8');
  } else if (raw instanceof Uint8Array || raw instanceof ArrayBuffer || ArrayBuffer.isView(raw)) {
    body = raw instanceof ArrayBuffer ? new Uint8Array(raw) : ArrayBuffer.isView(raw) ? new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) : raw;
    if (!headers.has('content-type')) headers.set('content-type', 'application/octet-stream');
  } else if (isRecord(raw) && raw['type'] === 'Buffer' && Array.isArray(raw['data'])) {
    body = Buffer.from(raw['data'] as number[]);
    if (!headers.has('content-type')) headers.set('content-type', 'application/octet-stream');
  } else {
    body = JSON.stringify(raw);
    if (!headers.has('content-type')) headers.set('content-type', typeof raw === 'object' ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8');
  }
  const noBody = method === 'HEAD' || status === 204 || status === 304;
  return new Response(noBody ? null : (body as BodyInit | null), { status, headers });
}

export type LogFn = ((...args: unknown[]) => void) & Record<'error' | 'warn' | 'info' | 'verbose', (...args: unknown[]) => void>;

/** `context.log` with `.error/.warn/.info/.verbose`; `util.format` placeholders, as Azure formats them. */
export function contextLog(): LogFn {
  const line = (args: unknown[]): string => format(...args);
  return Object.assign((...args: unknown[]) => console.info(line(args)), {
    error: (...args: unknown[]) => console.error(line(args)),
    warn: (...args: unknown[]) => console.warn(line(args)),
    info: (...args: unknown[]) => console.info(line(args)),
    verbose: (...args: unknown[]) => console.debug(line(args)),
  });
}

export { format as formatLog };
