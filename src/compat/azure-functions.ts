/**
 * @module
 * `@azure/functions` (programming model v4) on Outpost: `app.http(name, { methods, route,
 * authLevel, handler })` and `app.get/post/put/patch/deleteRequest`, `HttpRequest`,
 * `HttpResponse` and `InvocationContext`, plus `input`/`output`/`trigger` builders and
 * `app.hook` so modules written for Azure load unchanged. Registrations go to a registry the
 * azure-v4 adapter reads (see runtime/adapters/azure-v4.ts); the loader finds the same names in
 * the source and routes them. Non-HTTP registrations (timer, queues…) are recorded but only
 * HTTP functions are served by this module today.
 */
import { format } from 'node:util';

/** Shared with the adapter: Symbol.for keys are the same in every module copy of one isolate. */
const REGISTRY = Symbol.for('outpost.azure.functions');
/** An HttpResponse hands the adapter its Web Response and cookies through this key. */
const RESPONSE = Symbol.for('outpost.azure.response');
/** The adapter hands HttpRequest the Web Request it wraps through this key. */
const NATIVE = Symbol.for('outpost.azure.request');

export type HttpMethod = 'GET' | 'POST' | 'DELETE' | 'HEAD' | 'PATCH' | 'PUT' | 'OPTIONS' | 'TRACE' | 'CONNECT';

export interface Cookie {
  name: string;
  value: string;
  domain?: string;
  path?: string;
  expires?: Date | number;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
  maxAge?: number;
}

export interface HttpRequestUser {
  type: 'AppService' | 'StaticWebApps';
  id: string;
  username: string;
  identityProvider: string;
  claimsPrincipalData: Record<string, unknown>;
}

export interface HttpRequestInit {
  method?: string;
  url?: string;
  body?: { string?: string; bytes?: Uint8Array };
  headers?: Record<string, string>;
  query?: Record<string, string>;
  params?: Record<string, string>;
  user?: HttpRequestUser | null;
}

type Body = ReadableStream<Uint8Array> | null;

/** The request a v4 HTTP handler receives: a Web Request plus `query`, `params` and `user`. */
export class HttpRequest {
  readonly query: URLSearchParams;
  readonly params: Record<string, string>;
  readonly user: HttpRequestUser | null;
  readonly #request: globalThis.Request;

  constructor(init: HttpRequestInit & { [NATIVE]?: globalThis.Request } = {}) {
    const native = init[NATIVE];
    if (native) this.#request = native;
    else {
      const url = new URL(init.url ?? 'http://localhost/');
      for (const [k, v] of Object.entries(init.query ?? {})) url.searchParams.set(k, v);
      const body = init.body?.bytes ?? init.body?.string;
      this.#request = new Request(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, ...(body !== undefined ? { body: body as BodyInit } : {}) });
    }
    this.query = new URL(this.#request.url).searchParams;
    this.params = { ...(init.params ?? {}) };
    this.user = init.user ?? null;
  }

  get method(): string {
    return this.#request.method;
  }
  get url(): string {
    return this.#request.url;
  }
  get headers(): Headers {
    return this.#request.headers;
  }
  get body(): Body {
    return this.#request.body;
  }
  get bodyUsed(): boolean {
    return this.#request.bodyUsed;
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#request.arrayBuffer();
  }
  blob(): Promise<Blob> {
    return this.#request.blob();
  }
  formData(): Promise<FormData> {
    return this.#request.formData();
  }
  json(): Promise<unknown> {
    return this.#request.json() as Promise<unknown>;
  }
  text(): Promise<string> {
    return this.#request.text();
  }
  clone(): HttpRequest {
    return new HttpRequest({ [NATIVE]: this.#request.clone(), params: this.params, user: this.user });
  }
}

export type HttpResponseBodyInit = BodyInit | AsyncIterable<Uint8Array> | null | undefined;

export interface HttpResponseInit {
  status?: number | string;
  body?: HttpResponseBodyInit;
  jsonBody?: unknown;
  headers?: HeadersInit;
  cookies?: Cookie[];
  enableContentNegotiation?: boolean;
}

function bodyOf(body: HttpResponseBodyInit): BodyInit | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'object' && !(body instanceof ReadableStream) && Symbol.asyncIterator in body) {
    const it = (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await it.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel(reason) {
        await it.return?.(reason);
      },
    });
  }
  return body as BodyInit;
}

/**
 * A Web Response from an HttpResponseInit, as @azure/functions builds it: `jsonBody` is
 * serialised with Content-Type application/json unless one is set; `status` defaults to 200.
 * Throws TypeError for a status that is not a number from 200 to 599.
 */
export function responseFromInit(init: HttpResponseInit): globalThis.Response {
  const headers = new Headers(init.headers);
  const raw = init.status;
  const status = raw === undefined || raw === null ? 200 : Number(raw);
  if (!Number.isInteger(status) || status < 200 || status > 599) throw new TypeError(`invalid HTTP status ${JSON.stringify(raw)}: use a number from 200 to 599`);
  let body: BodyInit | null;
  if (init.jsonBody !== undefined) {
    body = JSON.stringify(init.jsonBody);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  } else body = bodyOf(init.body);
  return new Response(status === 204 || status === 304 ? null : body, { status, headers });
}

/** A response a handler may return instead of a plain HttpResponseInit. */
export class HttpResponse {
  readonly cookies: Cookie[];
  readonly enableContentNegotiation: boolean;
  readonly #response: globalThis.Response;

  constructor(init: HttpResponseInit = {}) {
    this.#response = responseFromInit(init);
    this.cookies = init.cookies ?? [];
    this.enableContentNegotiation = init.enableContentNegotiation === true;
  }
  get status(): number {
    return this.#response.status;
  }
  get headers(): Headers {
    return this.#response.headers;
  }
  get body(): Body {
    return this.#response.body;
  }
  get bodyUsed(): boolean {
    return this.#response.bodyUsed;
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#response.arrayBuffer();
  }
  blob(): Promise<Blob> {
    return this.#response.blob();
  }
  formData(): Promise<FormData> {
    return this.#response.formData();
  }
  json(): Promise<unknown> {
    return this.#response.json() as Promise<unknown>;
  }
  text(): Promise<string> {
    return this.#response.text();
  }
  clone(): HttpResponse {
    const copy = new HttpResponse({ cookies: this.cookies, enableContentNegotiation: this.enableContentNegotiation });
    copy.#replace(this.#response.clone());
    return copy;
  }
  #replace(response: globalThis.Response): void {
    Object.defineProperty(this, RESPONSE, { value: () => ({ response, cookies: this.cookies }) });
  }
  [RESPONSE](): { response: globalThis.Response; cookies: Cookie[] } {
    return { response: this.#response, cookies: this.cookies };
  }
}

export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';
export type LogHandler = (level: LogLevel, ...args: unknown[]) => void;

export interface InvocationContextInit {
  invocationId?: string;
  functionName?: string;
  options?: Record<string, unknown>;
  triggerMetadata?: Record<string, unknown>;
  retryContext?: Record<string, unknown>;
  traceContext?: Record<string, unknown>;
  logHandler?: LogHandler;
}

function consoleLog(level: LogLevel, ...args: unknown[]): void {
  const line = format(...args);
  if (level === 'error' || level === 'critical') console.error(line);
  else if (level === 'warning') console.warn(line);
  else if (level === 'trace' || level === 'debug') console.debug(line);
  else if (level !== 'none') console.info(line);
}

class ExtraBindings {
  readonly #values = new Map<string, unknown>();
  get(binding: string | { name: string }): unknown {
    return this.#values.get(typeof binding === 'string' ? binding : binding.name);
  }
  set(binding: string | { name: string }, value: unknown): void {
    this.#values.set(typeof binding === 'string' ? binding : binding.name, value);
  }
}

/** The second argument of a v4 handler; its log methods write to the function's log. */
export class InvocationContext {
  invocationId: string;
  functionName: string;
  extraInputs = new ExtraBindings();
  extraOutputs = new ExtraBindings();
  retryContext?: Record<string, unknown>;
  traceContext?: Record<string, unknown>;
  triggerMetadata?: Record<string, unknown>;
  options: Record<string, unknown>;
  readonly #log: LogHandler;

  constructor(init: InvocationContextInit = {}) {
    this.invocationId = init.invocationId ?? 'unknown';
    this.functionName = init.functionName ?? 'unknown';
    this.options = init.options ?? { trigger: {}, extraInputs: [], extraOutputs: [] };
    if (init.triggerMetadata) this.triggerMetadata = init.triggerMetadata;
    if (init.retryContext) this.retryContext = init.retryContext;
    if (init.traceContext) this.traceContext = init.traceContext;
    this.#log = init.logHandler ?? consoleLog;
  }
  log(...args: unknown[]): void {
    this.#log('information', ...args);
  }
  trace(...args: unknown[]): void {
    this.#log('trace', ...args);
  }
  debug(...args: unknown[]): void {
    this.#log('debug', ...args);
  }
  info(...args: unknown[]): void {
    this.#log('information', ...args);
  }
  warn(...args: unknown[]): void {
    this.#log('warning', ...args);
  }
  error(...args: unknown[]): void {
    this.#log('error', ...args);
  }
}

export type HttpHandler = (request: HttpRequest, context: InvocationContext) => unknown;

export interface HttpFunctionOptions {
  handler: HttpHandler;
  methods?: HttpMethod[];
  route?: string;
  authLevel?: 'anonymous' | 'function' | 'admin';
  trigger?: unknown;
  return?: unknown;
  extraInputs?: unknown[];
  extraOutputs?: unknown[];
}

interface Registration {
  trigger: string;
  options: Record<string, unknown>;
}

interface Registry {
  functions: Map<string, Registration>;
  hooks: Map<string, Array<(context: Record<string, unknown>) => unknown>>;
  HttpRequest: typeof HttpRequest;
  InvocationContext: typeof InvocationContext;
  responseFromInit: typeof responseFromInit;
}

function registry(): Registry {
  const g = globalThis as Record<symbol, unknown>;
  let r = g[REGISTRY] as Registry | undefined;
  if (!r) {
    r = { functions: new Map(), hooks: new Map(), HttpRequest, InvocationContext, responseFromInit };
    Object.defineProperty(globalThis, REGISTRY, { value: r, configurable: false, enumerable: false, writable: false });
  }
  return r;
}

function register(trigger: string, name: string, options: unknown): void {
  if (typeof name !== 'string' || name === '') throw new TypeError(`app.${trigger} needs a function name`);
  const opts = typeof options === 'function' ? { handler: options } : options;
  if (typeof opts !== 'object' || opts === null || typeof (opts as { handler?: unknown }).handler !== 'function') {
    throw new TypeError(`app.${trigger}("${name}", …) needs a handler function`);
  }
  const r = registry();
  if (r.functions.has(name)) throw new Error(`A function with the name "${name}" has already been registered.`);
  r.functions.set(name, { trigger, options: opts as Record<string, unknown> });
}

type Options<T> = T | HttpHandler;
const withMethod = (method: HttpMethod) => (name: string, options: Options<Omit<HttpFunctionOptions, 'methods'>>) => {
  const opts = typeof options === 'function' ? { handler: options } : options;
  register('http', name, { ...opts, methods: [method] });
};

function hook(kind: string) {
  return (handler: (context: Record<string, unknown>) => unknown): { dispose(): void } => {
    const hooks = registry().hooks;
    const list = hooks.get(kind) ?? [];
    list.push(handler);
    hooks.set(kind, list);
    return { dispose: () => void list.splice(list.indexOf(handler), 1) };
  };
}

const generic = (trigger: string) => (name: string, options: unknown) => register(trigger, name, options);

export const app = {
  http: (name: string, options: HttpFunctionOptions) => register('http', name, options),
  get: withMethod('GET'),
  put: withMethod('PUT'),
  post: withMethod('POST'),
  patch: withMethod('PATCH'),
  deleteRequest: withMethod('DELETE'),
  timer: generic('timer'),
  storageBlob: generic('storageBlob'),
  storageQueue: generic('storageQueue'),
  serviceBusQueue: generic('serviceBusQueue'),
  serviceBusTopic: generic('serviceBusTopic'),
  eventHub: generic('eventHub'),
  eventGrid: generic('eventGrid'),
  cosmosDB: generic('cosmosDB'),
  sql: generic('sql'),
  mySql: generic('mySql'),
  warmup: generic('warmup'),
  webPubSub: generic('webPubSub'),
  generic: generic('generic'),
  setup: (_options: Record<string, unknown>): void => {},
  hook: {
    appStart: hook('appStart'),
    appTerminate: hook('appTerminate'),
    preInvocation: hook('preInvocation'),
    postInvocation: hook('postInvocation'),
  },
};

/** Binding descriptions (`output.storageQueue({ … })`): plain objects, as the library returns. */
function bindings(direction: string): Record<string, (options?: Record<string, unknown>) => Record<string, unknown>> {
  let n = 0;
  return new Proxy({} as Record<string, (options?: Record<string, unknown>) => Record<string, unknown>>, {
    get: (_t, type) => (typeof type === 'symbol' ? undefined : (options: Record<string, unknown> = {}) => ({ ...options, type, name: `${direction}${type}${++n}` })),
  });
}

export const input = bindings('input');
export const output = bindings('output');
export const trigger = bindings('trigger');

export default { app, HttpRequest, HttpResponse, InvocationContext, input, output, trigger };
