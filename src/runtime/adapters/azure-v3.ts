/**
 * @module
 * Azure Functions, Node.js programming model v3: `module.exports = async function (context, req)`
 * beside a function.json with an `httpTrigger`. The function is the module's only export, or
 * the one named by `entryPoint`, `run` or `index` (Azure's rule). It gets:
 *
 * - `req`: method, url (absolute), originalUrl, headers (lower-case names), query (last value of
 *   each key), params (route parameters), body (parsed JSON when the Content-Type is JSON and
 *   the text parses; a Buffer for binary types; a string otherwise), rawBody (string),
 *   bufferBody, user (null), get(name), parseFormBody().
 * - `context`: invocationId, executionContext, bindings (`bindings.req`, and outputs by name),
 *   bindingData (route params, query, headers, sys), bindingDefinitions, traceContext,
 *   log/.error/.warn/.info/.verbose (to the function's log), `res` (with the v3 helpers
 *   status/setHeader/send/json/end…), `done(err, result)`.
 *
 * The invocation ends when a returned promise settles or `done()` is called, whichever is first.
 * The response is the http output binding: `context.res` / `context.bindings.res`, a returned
 * `{ res: … }`, or the return value itself when the binding is named `$return`.
 */
import { Buffer } from 'node:buffer';
import type { Adapter, AdapterFactory, AdapterSetup, HttpInvocation, InvocationContext } from './adapter.ts';
import { HandlerShapeError, unsupportedEvent } from './adapter.ts';
import { contextLog, v3Response } from './azure-http.ts';
import { essence, flatQuery } from './http-util.ts';

type V3Function = (context: Record<string, unknown>, ...inputs: unknown[]) => unknown;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** The function Azure would call: entryPoint, else the only export, else `run` or `index`. */
export function resolveV3(module: Record<string, unknown>, handlerExport: string): V3Function {
  const cjs = module['default'];
  const namespaces: Record<string, unknown>[] = [module];
  if (isRecord(cjs) || typeof cjs === 'function') namespaces.push(cjs as Record<string, unknown>);
  if (handlerExport !== 'default') {
    for (const ns of namespaces) if (typeof ns[handlerExport] === 'function') return ns[handlerExport] as V3Function;
    throw new HandlerShapeError(`entryPoint "${handlerExport}" is not an exported function`);
  }
  if (typeof cjs === 'function') return cjs as V3Function;
  for (const ns of namespaces) {
    const fns = Object.entries(ns).filter(([k, v]) => k !== 'default' && typeof v === 'function');
    if (fns.length === 1 && fns[0]) return fns[0][1] as V3Function;
    for (const name of ['run', 'index']) if (typeof ns[name] === 'function') return ns[name] as V3Function;
  }
  throw new HandlerShapeError('the script exports no function; write module.exports = async function (context, req) { … } (or set entryPoint in function.json)');
}

/** The request body as the v3 worker gives it: JSON parsed, binary as a Buffer, else a string. */
export function v3Body(contentType: string | null, bytes: Uint8Array | null): { body: unknown; rawBody: string | undefined; bufferBody: Buffer | undefined } {
  if (bytes === null) return { body: undefined, rawBody: undefined, bufferBody: undefined };
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buffer.toString('utf8');
  const type = essence(contentType);
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return { body: JSON.parse(text) as unknown, rawBody: text, bufferBody: buffer };
    } catch {
      return { body: text, rawBody: text, bufferBody: buffer };
    }
  }
  const binary = type !== '' && !type.startsWith('text/') && !/(json|xml|javascript|x-www-form-urlencoded|graphql|yaml|csv)/.test(type);
  return { body: binary ? buffer : text, rawBody: text, bufferBody: buffer };
}

/** `req.parseFormBody()` for urlencoded bodies: `get`, `getAll`, `has`, `length` as the v3 worker's Form. */
function parseForm(contentType: string | null, raw: string | undefined): { get(n: string): unknown; getAll(n: string): unknown[]; has(n: string): boolean; length: number } {
  if (essence(contentType) !== 'application/x-www-form-urlencoded') throw new Error(`Content type "${contentType ?? ''}" is not supported by parseFormBody; use application/x-www-form-urlencoded`);
  const params = new URLSearchParams(raw ?? '');
  const part = (v: string): { value: Buffer } => ({ value: Buffer.from(v) });
  return {
    get: (n) => (params.has(n) ? part(params.get(n) ?? '') : null),
    getAll: (n) => params.getAll(n).map(part),
    has: (n) => params.has(n),
    get length() {
      return [...params.keys()].length;
    },
  };
}

/** `context.res`: a plain object with the v3 worker's helpers; `end()` completes the invocation. */
function createResponse(done: () => void): Record<string, unknown> {
  const res: Record<string, unknown> = { headers: {} as Record<string, unknown>, cookies: [] as unknown[] };
  const headers = (): Record<string, unknown> => (isRecord(res['headers']) ? res['headers'] : (res['headers'] = {}));
  const set = (field: string, value: unknown): Record<string, unknown> => {
    headers()[field.toLowerCase()] = value;
    return res;
  };
  const get = (field: string): unknown => headers()[field.toLowerCase()];
  const end = (body?: unknown): Record<string, unknown> => {
    if (body !== undefined) res['body'] = body;
    if (res['body'] !== undefined && get('content-type') === undefined && Buffer.isBuffer(res['body'])) set('content-type', 'application/octet-stream');
    done();
    return res;
  };
  const helpers: Record<string, unknown> = {
    setHeader: set,
    header: set,
    set,
    getHeader: get,
    get,
    removeHeader: (field: string) => {
      delete headers()[field.toLowerCase()];
      return res;
    },
    status: (code: number | string) => {
      res['statusCode'] = code;
      return res;
    },
    sendStatus: (code: number | string) => {
      res['statusCode'] = code;
      return end();
    },
    type: (type: string) => set('content-type', type),
    json: (body: unknown) => {
      set('content-type', 'application/json');
      return end(body);
    },
    send: end,
    end,
  };
  // Helpers are not enumerable, so JSON.stringify(context.res) and spreading show only the data.
  for (const [k, v] of Object.entries(helpers)) Object.defineProperty(res, k, { value: v, enumerable: false, writable: true, configurable: true });
  return res;
}

function untouched(res: Record<string, unknown>): boolean {
  return res['body'] === undefined && res['statusCode'] === undefined && (typeof res['status'] === 'function' || res['status'] === undefined) && Object.keys(isRecord(res['headers']) ? res['headers'] : {}).length === 0 && (!Array.isArray(res['cookies']) || res['cookies'].length === 0);
}

async function invoke(fn: V3Function, setup: AdapterSetup, request: Request, http: HttpInvocation, ctx: InvocationContext): Promise<Response> {
  const url = new URL(request.url);
  const inputName = setup.platform['httpInput'] ?? 'req';
  const outputName = setup.platform['httpOutput'] ?? 'res';
  const contentType = request.headers.get('content-type');
  const { body, rawBody, bufferBody } = v3Body(contentType, request.body === null ? null : new Uint8Array(await request.arrayBuffer()));
  const headers: Record<string, string> = {};
  for (const [k, v] of request.headers) headers[k] = v;
  const query = flatQuery(url.searchParams);
  const req: Record<string, unknown> = {
    method: request.method,
    url: request.url,
    originalUrl: request.url,
    headers,
    query,
    params: { ...http.params },
    body,
    rawBody,
    bufferBody,
    user: null,
  };
  Object.defineProperty(req, 'get', { value: (field: string) => headers[field.toLowerCase()], enumerable: false });
  Object.defineProperty(req, 'parseFormBody', { value: () => parseForm(contentType, rawBody), enumerable: false });

  let finish: (result: { error?: unknown; value?: unknown }) => void = () => {};
  const finished = new Promise<{ error?: unknown; value?: unknown }>((resolve) => (finish = resolve));
  let isDone = false;
  const done = (error?: unknown, value?: unknown): void => {
    if (isDone) {
      console.error("Error: 'done' has already been called. Please check your script for extraneous calls to 'done'.");
      return;
    }
    isDone = true;
    finish(error === undefined || error === null ? { value } : { error });
  };
  const res = createResponse(() => done());
  const invocationId = ctx.requestId;
  const executionContext = {
    invocationId,
    functionName: setup.functionName,
    functionDirectory: `/home/site/wwwroot/${setup.functionName}`,
    retryContext: null,
  };
  const bindings: Record<string, unknown> = { [inputName]: req };
  const context: Record<string, unknown> = {
    invocationId,
    executionContext,
    bindings,
    bindingData: {
      ...query,
      ...http.params,
      invocationId,
      query: { ...query },
      headers: { ...headers },
      sys: { methodName: setup.functionName, utcNow: new Date().toISOString(), randGuid: crypto.randomUUID() },
    },
    bindingDefinitions: [
      { name: inputName, type: 'httpTrigger', direction: 'in' },
      { name: outputName, type: 'http', direction: 'out' },
    ],
    traceContext: { traceparent: request.headers.get('traceparent') ?? undefined, tracestate: request.headers.get('tracestate') ?? undefined, attributes: {} },
    log: contextLog(),
    req,
    res,
    done,
  };

  const raw = fn(context, req);
  let outcome: { error?: unknown; value?: unknown };
  if (isRecord(raw) && typeof raw['then'] === 'function') {
    const returned = (raw as unknown as Promise<unknown>).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    outcome = await Promise.race([returned, finished]);
    isDone = true;
  } else outcome = await finished;
  if ('error' in outcome && outcome.error !== undefined) throw outcome.error instanceof Error ? outcome.error : new Error(typeof outcome.error === 'string' ? outcome.error : JSON.stringify(outcome.error));

  const result = outcome.value;
  let out: unknown;
  if (outputName === '$return') out = result;
  else if (isRecord(result) && result[outputName] !== undefined) out = result[outputName];
  else if (bindings[outputName] !== undefined) out = bindings[outputName];
  else {
    const current = context['res'];
    out = isRecord(current) && current === res && untouched(res) ? undefined : current;
  }
  return v3Response(out, request.method);
}

export const azureV3Adapter: AdapterFactory = {
  environment(setup) {
    return { FUNCTIONS_WORKER_RUNTIME: 'node', AZURE_FUNCTIONS_ENVIRONMENT: setup.dev ? 'Development' : 'Production', WEBSITE_SITE_NAME: setup.functionName };
  },
  create(module, setup): Adapter {
    const fn = resolveV3(module, setup.handlerExport);
    return {
      fetch: (request, http, ctx) => invoke(fn, setup, request, http, ctx),
      async event(kind) {
        throw unsupportedEvent('Azure Functions (v3) HTTP function', kind);
      },
    };
  },
};
