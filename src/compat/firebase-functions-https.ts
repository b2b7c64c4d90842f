/**
 * @module
 * `firebase-functions/v2/https` and `firebase-functions/https` on Outpost (also the `https`
 * namespace of `firebase-functions` and `firebase-functions/v1`): `onRequest` returns the
 * `(req, res)` function the gcf adapter calls with Express-style objects; v2 options are
 * accepted and `cors` is honoured as Firebase does (the `cors` middleware in front of the
 * handler). `onCall` speaks the callable protocol (POST `{ data }` → `{ result }` or
 * `{ error: { status, message, details } }`); the caller's ID token is not verified, so
 * `auth` is always undefined. Unstable surface: only what HTTP functions need.
 */
import type { ExpressRequest, ExpressResponse } from '../runtime/adapters/express.ts';

export type Request = ExpressRequest;
export type Response = ExpressResponse;
type Handler = (req: ExpressRequest, res: ExpressResponse) => unknown;

/** A deployed HTTPS function: callable with `(req, res)`, as firebase-functions' own. */
export type HttpsFunction = Handler & { __endpoint: Record<string, unknown>; run?: Handler };

export interface HttpsOptions {
  cors?: boolean | string | RegExp | Array<string | RegExp>;
  region?: string | string[];
  [option: string]: unknown;
}

function originAllowed(rule: string | RegExp | Array<string | RegExp>, origin: string): boolean {
  if (Array.isArray(rule)) return rule.some((r) => originAllowed(r, origin));
  return rule instanceof RegExp ? rule.test(origin) : rule === origin;
}

/** What the `cors` package does for `cors({ origin })`, preflight included (204, no body). */
function withCors(cors: HttpsOptions['cors'], handler: Handler): Handler {
  if (cors === undefined || cors === false) return handler;
  return (req, res) => {
    const origin = typeof req.headers['origin'] === 'string' ? req.headers['origin'] : undefined;
    if (typeof cors === 'string') {
      res.setHeader('Access-Control-Allow-Origin', cors);
      if (cors !== '*') res.vary('Origin');
    } else {
      if (origin !== undefined && (cors === true || originAllowed(cors, origin))) res.setHeader('Access-Control-Allow-Origin', origin);
      res.vary('Origin');
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET,HEAD,PUT,PATCH,POST,DELETE');
      const requested = req.headers['access-control-request-headers'];
      if (typeof requested === 'string') {
        res.setHeader('Access-Control-Allow-Headers', requested);
        res.vary('Access-Control-Request-Headers');
      }
      res.statusCode = 204;
      res.setHeader('Content-Length', '0');
      res.end();
      return undefined;
    }
    return handler(req, res);
  };
}

function endpoint(handler: Handler, options: HttpsOptions, kind: string): HttpsFunction {
  const fn = handler as HttpsFunction;
  Object.defineProperty(fn, '__endpoint', { value: { platform: 'gcfv2', [kind]: {}, ...options }, configurable: true });
  fn.run = handler;
  return fn;
}

/**
 * An HTTPS function: `onRequest(handler)` or `onRequest(options, handler)`.
 * Throws TypeError when no handler function is given.
 */
export function onRequest(a: HttpsOptions | Handler, b?: Handler): HttpsFunction {
  const handler = typeof a === 'function' ? a : b;
  const options = typeof a === 'function' ? {} : a;
  if (typeof handler !== 'function') throw new TypeError('onRequest needs a handler: onRequest((req, res) => { … })');
  const wrapped = withCors(options.cors, handler);
  return endpoint(wrapped === handler ? (req, res) => handler(req, res) : wrapped, options, 'httpsTrigger');
}

export type FunctionsErrorCode =
  | 'ok' | 'cancelled' | 'unknown' | 'invalid-argument' | 'deadline-exceeded' | 'not-found' | 'already-exists'
  | 'permission-denied' | 'resource-exhausted' | 'failed-precondition' | 'aborted' | 'out-of-range' | 'unimplemented'
  | 'internal' | 'unavailable' | 'data-loss' | 'unauthenticated';

const HTTP_STATUS: Record<FunctionsErrorCode, number> = {
  ok: 200, cancelled: 499, unknown: 500, 'invalid-argument': 400, 'deadline-exceeded': 504, 'not-found': 404,
  'already-exists': 409, 'permission-denied': 403, unauthenticated: 401, 'resource-exhausted': 429,
  'failed-precondition': 400, aborted: 409, 'out-of-range': 400, unimplemented: 501, internal: 500,
  unavailable: 503, 'data-loss': 500,
};

/** The error a callable function throws to send a specific code to the client. */
export class HttpsError extends Error {
  readonly code: FunctionsErrorCode;
  readonly details: unknown;
  readonly httpErrorCode: { canonicalName: string; status: number };
  constructor(code: FunctionsErrorCode, message: string, details?: unknown) {
    super(message);
    if (!(code in HTTP_STATUS)) throw new Error(`Unknown error code: ${String(code)}.`);
    this.name = 'HttpsError';
    this.code = code;
    this.details = details;
    this.httpErrorCode = { canonicalName: code.toUpperCase().replace(/-/g, '_'), status: HTTP_STATUS[code] };
  }
  toJSON(): { status: string; message: string; details?: unknown } {
    return { status: this.httpErrorCode.canonicalName, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) };
  }
}

export interface CallableRequest<T = unknown> {
  data: T;
  auth: undefined;
  app: undefined;
  instanceIdToken: string | undefined;
  rawRequest: ExpressRequest;
  acceptsStreaming: boolean;
}

type CallableHandler = (request: CallableRequest, response?: unknown) => unknown;
type V1CallableHandler = (data: unknown, context: Omit<CallableRequest, 'data'>) => unknown;

function callable(run: (data: unknown, req: ExpressRequest) => unknown, options: HttpsOptions): HttpsFunction {
  const handler: Handler = async (req, res) => {
    const body = req.body;
    if (req.method !== 'POST' || typeof body !== 'object' || body === null || !('data' in body) || !String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      const e = new HttpsError('invalid-argument', 'Bad Request');
      res.status(400).json({ error: e.toJSON() });
      return;
    }
    try {
      const result = await run((body as { data: unknown }).data, req);
      res.status(200).json({ result: result === undefined ? null : result });
    } catch (error) {
      const e = error instanceof HttpsError ? error : new HttpsError('internal', 'INTERNAL');
      if (!(error instanceof HttpsError)) console.error('Unhandled error', error);
      res.status(e.httpErrorCode.status).json({ error: e.toJSON() });
    }
  };
  return endpoint(withCors(options.cors ?? true, handler), options, 'callableTrigger');
}

/** A callable function, v2 form: `onCall(handler)` / `onCall(options, handler)` with `request.data`. */
export function onCall(a: HttpsOptions | CallableHandler, b?: CallableHandler): HttpsFunction {
  const handler = typeof a === 'function' ? a : b;
  if (typeof handler !== 'function') throw new TypeError('onCall needs a handler: onCall((request) => { … })');
  const options = typeof a === 'function' ? {} : a;
  return callable(
    (data, req) => handler({ data, auth: undefined, app: undefined, instanceIdToken: headerOf(req, 'firebase-instance-id-token'), rawRequest: req, acceptsStreaming: false }),
    options,
  );
}

/** A callable function, v1 form: `(data, context)`. */
export function onCallV1(handler: V1CallableHandler): HttpsFunction {
  if (typeof handler !== 'function') throw new TypeError('onCall needs a handler: onCall((data, context) => { … })');
  return callable((data, req) => handler(data, { auth: undefined, app: undefined, instanceIdToken: headerOf(req, 'firebase-instance-id-token'), rawRequest: req, acceptsStreaming: false }), {});
}

function headerOf(req: ExpressRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

/** Task queue functions are not served by Outpost; defining one is allowed, calling it is not. */
export function onTaskDispatched(): never {
  throw new Error('onTaskDispatched (Cloud Tasks) functions are not supported by Outpost');
}
