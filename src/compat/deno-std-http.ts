/**
 * @module
 * Deno's std http module (`https://deno.land/std@<any>/http/server.ts`, `jsr:@std/http`) for
 * Deno functions on Outpost, which builds offline: the old `serve(handler, options)` and
 * `Server` (on top of the `Deno.serve` the Deno adapter installs), the status tables and the
 * cookie helpers. Web APIs only: bundled into the function.
 */

interface NetAddr {
  transport: 'tcp';
  hostname: string;
  port: number;
}

/** std's ConnInfo, the second argument of an old-style handler. */
export interface ConnInfo {
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
}

export type Handler = (request: Request, connInfo: ConnInfo) => Response | Promise<Response>;

export interface ServeInit {
  port?: number;
  hostname?: string;
  signal?: AbortSignal;
  onListen?: (params: { hostname: string; port: number }) => void;
  onError?: (error: unknown) => Response | Promise<Response>;
}

interface DenoServer {
  finished: Promise<void>;
  shutdown(): Promise<void>;
  addr: NetAddr;
}

interface DenoGlobal {
  serve(options: object, handler: (request: Request, info: { remoteAddr: NetAddr }) => Response | Promise<Response>): DenoServer;
}

function deno(): DenoGlobal {
  const d = (globalThis as { Deno?: DenoGlobal }).Deno;
  if (!d) throw new Error('std/http serve() needs the Deno runtime (a Deno project)');
  return d;
}

function start(handler: Handler, options: ServeInit): DenoServer {
  const localAddr: NetAddr = { transport: 'tcp', hostname: options.hostname ?? '0.0.0.0', port: options.port ?? 8000 };
  return deno().serve(options, (request, info) => handler(request, { localAddr, remoteAddr: info.remoteAddr }));
}

/** std ≤ 0.2xx `serve(handler, options)`: resolves when the server closes. */
export function serve(handler: Handler, options: ServeInit = {}): Promise<void> {
  return start(handler, options).finished;
}

/** std's `serveListener` has no listener to serve on Outpost; it serves the gateway's requests instead. */
export function serveListener(_listener: unknown, handler: Handler, options: Omit<ServeInit, 'port' | 'hostname'> = {}): Promise<void> {
  return serve(handler, options);
}

/** std's `Server` class (`new Server({ handler, port }).listenAndServe()`). */
export class Server {
  readonly #handler: Handler;
  readonly #options: ServeInit;
  #server: DenoServer | undefined;

  constructor(init: ServeInit & { handler: Handler }) {
    this.#handler = init.handler;
    this.#options = init;
  }

  listenAndServe(): Promise<void> {
    this.#server ??= start(this.#handler, this.#options);
    return this.#server.finished;
  }

  serve(_listener?: unknown): Promise<void> {
    return this.listenAndServe();
  }

  close(): void {
    void this.#server?.shutdown();
  }

  get closed(): boolean {
    return false;
  }
}

export const STATUS_CODE = Object.freeze({
  Continue: 100, SwitchingProtocols: 101, OK: 200, Created: 201, Accepted: 202, NoContent: 204, PartialContent: 206,
  MovedPermanently: 301, Found: 302, SeeOther: 303, NotModified: 304, TemporaryRedirect: 307, PermanentRedirect: 308,
  BadRequest: 400, Unauthorized: 401, PaymentRequired: 402, Forbidden: 403, NotFound: 404, MethodNotAllowed: 405,
  NotAcceptable: 406, RequestTimeout: 408, Conflict: 409, Gone: 410, LengthRequired: 411, PreconditionFailed: 412,
  ContentTooLarge: 413, URITooLong: 414, UnsupportedMediaType: 415, RangeNotSatisfiable: 416, Teapot: 418,
  UnprocessableEntity: 422, TooManyRequests: 429, InternalServerError: 500, NotImplemented: 501, BadGateway: 502,
  ServiceUnavailable: 503, GatewayTimeout: 504,
} as const);

/** The old name of STATUS_CODE (std ≤ 0.2xx `Status`). */
export const Status = STATUS_CODE;

const TEXT: Record<string, string> = {
  Continue: 'Continue', SwitchingProtocols: 'Switching Protocols', OK: 'OK', NoContent: 'No Content', PartialContent: 'Partial Content',
  MovedPermanently: 'Moved Permanently', NotModified: 'Not Modified', SeeOther: 'See Other', TemporaryRedirect: 'Temporary Redirect',
  PermanentRedirect: 'Permanent Redirect', BadRequest: 'Bad Request', PaymentRequired: 'Payment Required', NotFound: 'Not Found',
  MethodNotAllowed: 'Method Not Allowed', NotAcceptable: 'Not Acceptable', RequestTimeout: 'Request Timeout', LengthRequired: 'Length Required',
  PreconditionFailed: 'Precondition Failed', ContentTooLarge: 'Content Too Large', URITooLong: 'URI Too Long',
  UnsupportedMediaType: 'Unsupported Media Type', RangeNotSatisfiable: 'Range Not Satisfiable', Teapot: "I'm a teapot",
  UnprocessableEntity: 'Unprocessable Entity', TooManyRequests: 'Too Many Requests', InternalServerError: 'Internal Server Error',
  NotImplemented: 'Not Implemented', BadGateway: 'Bad Gateway', ServiceUnavailable: 'Service Unavailable', GatewayTimeout: 'Gateway Timeout',
};

export const STATUS_TEXT: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(STATUS_CODE).map(([name, code]) => [code, TEXT[name] ?? name])),
);

export function isErrorStatus(status: number): boolean {
  return status >= 400 && status < 600;
}

export interface Cookie {
  name: string;
  value: string;
  expires?: Date | number;
  maxAge?: number;
  domain?: string;
  path?: string;
  secure?: boolean;
  httpOnly?: boolean;
  partitioned?: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
  unparsed?: string[];
}

/** The request's cookies by name. */
export function getCookies(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (headers.get('cookie') ?? '').split(/;\s*/)) {
    const eq = pair.indexOf('=');
    if (eq > 0) out[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  return out;
}

function serializeCookie(c: Cookie): string {
  const out = [`${c.name}=${c.value}`];
  if (c.secure) out.push('Secure');
  if (c.httpOnly) out.push('HttpOnly');
  if (c.partitioned) out.push('Partitioned');
  if (typeof c.maxAge === 'number') out.push(`Max-Age=${c.maxAge}`);
  if (c.domain) out.push(`Domain=${c.domain}`);
  if (c.sameSite) out.push(`SameSite=${c.sameSite}`);
  if (c.path) out.push(`Path=${c.path}`);
  if (c.expires !== undefined) out.push(`Expires=${new Date(c.expires).toUTCString()}`);
  if (c.unparsed) out.push(...c.unparsed);
  return out.join('; ');
}

/** Appends a `set-cookie` header. */
export function setCookie(headers: Headers, cookie: Cookie): void {
  headers.append('set-cookie', serializeCookie(cookie));
}

/** Expires a cookie in the browser. */
export function deleteCookie(headers: Headers, name: string, attributes: { path?: string; domain?: string; secure?: boolean; httpOnly?: boolean; partitioned?: boolean } = {}): void {
  setCookie(headers, { name, value: '', expires: new Date(0), ...attributes });
}

/** The cookies a response sets. */
export function getSetCookies(headers: Headers): Cookie[] {
  return headers.getSetCookie().map((line) => {
    const [pair = '', ...attrs] = line.split(/;\s*/);
    const eq = pair.indexOf('=');
    const cookie: Cookie = { name: pair.slice(0, eq), value: pair.slice(eq + 1) };
    for (const attr of attrs) {
      const [k = '', v = ''] = attr.split('=');
      const key = k.toLowerCase();
      if (key === 'path') cookie.path = v;
      else if (key === 'domain') cookie.domain = v;
      else if (key === 'max-age') cookie.maxAge = Number(v);
      else if (key === 'expires') cookie.expires = new Date(v);
      else if (key === 'secure') cookie.secure = true;
      else if (key === 'httponly') cookie.httpOnly = true;
      else if (key === 'samesite') cookie.sameSite = v as 'Strict' | 'Lax' | 'None';
    }
    return cookie;
  });
}
