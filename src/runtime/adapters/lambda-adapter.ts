/**
 * @module
 * AWS Lambda Node.js handlers (`export const handler = async (event, context) => …`, the
 * callback style `(event, context, callback)`, CommonJS `exports.handler`), called the way
 * AWS's Node.js runtime calls them. HTTP routes reach the handler as API Gateway events (REST
 * payload 1.0 or HTTP API payload 2.0; the event/response mapping lives in lambda-http.ts), and
 * direct invocations (`outpost invoke --event`, the Lambda Invoke API, Step Functions tasks)
 * pass their payload as the event. Functions with CloudFront triggers use the Lambda@Edge
 * factory in lambda-edge-adapter.ts, which shares the handler runtime defined here.
 *
 * Runs inside the function's isolate: Web APIs only.
 *
 * How a handler finishes, as in AWS's runtime: a returned promise settles the invocation; a
 * handler that does not return one finishes when it calls `callback` or `context.done` /
 * `succeed` / `fail` (whichever comes first wins). A plain (non-async) handler that takes no
 * callback and returns no promise answers `null` once its pending timers have run, as AWS does
 * when the event loop empties. After a callback, `context.callbackWaitsForEmptyEventLoop`
 * (default true) makes the invocation wait for pending timers first; open sockets (database
 * pools, keep-alive connections) are not waited for.
 */
import type { Adapter, AdapterFactory, AdapterSetup, HttpInvocation, InvocationContext } from './adapter.ts';
import { HandlerShapeError, unsupportedEvent } from './adapter.ts';
import { createLambdaContext, defaultLogStreamName, lambdaEnvironment } from './lambda-context.ts';
import type { LambdaContext } from './lambda-context.ts';
import { apiGatewayAuthorizer, DEFAULT_ACCOUNT_ID, fromHttpApiResult, fromRestApiResult, toHttpApiEvent, toRestApiEvent } from './lambda-http.ts';
import type { HttpRequestInfo, HttpResult } from './lambda-http.ts';
import type { LogLevel } from '../protocol.ts';

export type LambdaCallback = (error?: unknown, result?: unknown) => void;
export type LambdaHandler = (event: unknown, context: LambdaContext, callback: LambdaCallback) => unknown;

/** The region a Lambda function is told it runs in: its project's, else the node's, else us-east-1. */
function regionOf(setup: AdapterSetup): string {
  const fromProject = setup.platform['region'];
  if (fromProject) return fromProject;
  const node = setup.host?.region;
  return node && node !== 'local' ? node : 'us-east-1';
}

/** Facts every Lambda invocation of this instance shares. */
export interface LambdaFacts {
  functionName: string;
  region: string;
  accountId: string;
  memoryMb: number;
  logStreamName: string;
}

/** Per-instance facts: the log stream name is per execution environment, as on AWS. */
export function lambdaFacts(setup: AdapterSetup, instanceId: string, now: number): LambdaFacts {
  return {
    functionName: setup.functionName,
    region: regionOf(setup),
    accountId: setup.platform['accountId'] ?? DEFAULT_ACCOUNT_ID,
    memoryMb: setup.memoryMb ?? 128,
    logStreamName: defaultLogStreamName('$LATEST', instanceId, now),
  };
}

/** Lambda's reserved environment variables for this function (see lambda-context.ts). */
export function lambdaVariables(setup: AdapterSetup, facts: LambdaFacts): Record<string, string> {
  const env = lambdaEnvironment({
    functionName: facts.functionName,
    memoryLimitInMB: facts.memoryMb,
    region: facts.region,
    logStreamName: facts.logStreamName,
    ...(setup.platform['runtime'] ? { runtime: setup.platform['runtime'] } : {}),
    ...(setup.platform['handler'] ? { handler: setup.platform['handler'] } : {}),
    ...(setup.host?.awsEndpoint ? { endpointUrl: setup.host.awsEndpoint } : {}),
  });
  return env;
}

const LEVEL_NAMES: Record<LogLevel, string> = { debug: 'DEBUG', info: 'INFO', log: 'INFO', warn: 'WARN', error: 'ERROR' };

/** AWS's Node.js runtime prefixes every console line: `2024-01-01T00:00:00.000Z\t<requestId>\tINFO\t<message>`. */
export function formatLambdaLog(level: LogLevel, message: string, requestId: string | undefined): string {
  return `${new Date().toISOString()}\t${requestId ?? 'undefined'}\t${LEVEL_NAMES[level]}\t${message}`;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * The handler function the module exports under `exportName`. esbuild's ESM output of a
 * CommonJS module puts `module.exports` on `default`, so a CommonJS `exports.handler` is found
 * there.
 */
export function resolveHandler(module: Record<string, unknown>, exportName: string): LambdaHandler {
  const direct = module[exportName];
  if (typeof direct === 'function') return direct as LambdaHandler;
  const fallback = module['default'];
  if ((typeof fallback === 'object' || typeof fallback === 'function') && fallback !== null) {
    const nested = (fallback as Record<string, unknown>)[exportName];
    if (typeof nested === 'function') return nested as LambdaHandler;
  }
  const found = direct ?? (typeof fallback === 'object' && fallback !== null ? (fallback as Record<string, unknown>)[exportName] : undefined);
  throw new HandlerShapeError(
    found === undefined
      ? `Runtime.HandlerNotFound: the module has no export named ${exportName}; export the handler (\`export const ${exportName} = async (event, context) => …\` or \`exports.${exportName} = …\`)`
      : `Runtime.HandlerNotFound: ${exportName} is a ${typeof found}, not a function`,
  );
}

/**
 * What a callback or `context.fail` received, as an Error the host can report. AWS reports a
 * non-Error value with `errorType` set to its `typeof` (`callback('boom')` → `string`).
 */
export function asError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string') {
    const e = new Error((value as { message: string }).message);
    const name = (value as { name?: unknown }).name;
    e.name = typeof name === 'string' ? name : 'Error';
    return e;
  }
  const e = new Error(typeof value === 'string' ? value : String(value));
  e.name = typeof value;
  e.stack = '';
  return e;
}

/** Runs Lambda handlers: one call per invocation with a fresh context object. */
export class LambdaRuntime {
  readonly #handler: LambdaHandler;
  readonly #facts: LambdaFacts;

  constructor(handler: LambdaHandler, facts: LambdaFacts) {
    this.#handler = handler;
    this.#facts = facts;
  }

  /** Calls the handler with `event` and resolves with its result (or rejects with its error). */
  async invoke(event: unknown, ctx: InvocationContext): Promise<unknown> {
    const settled = Promise.withResolvers<{ error: unknown; result: unknown; viaCallback: boolean }>();
    let done = false;
    const finish = (error: unknown, result: unknown, viaCallback: boolean): void => {
      if (done) return;
      done = true;
      settled.resolve({ error, result, viaCallback });
    };
    const facts = this.#facts;
    const context = createLambdaContext({
      functionName: facts.functionName,
      memoryLimitInMB: facts.memoryMb,
      region: facts.region,
      accountId: facts.accountId,
      requestId: ctx.requestId,
      deadlineMs: ctx.deadline,
      now: Date.now,
      logStreamName: facts.logStreamName,
      onDone: (error, result) => finish(error, result, true),
    });
    const callback: LambdaCallback = (error, result) => finish(error ?? null, result, true);
    const returned = this.#handler(event, context, callback);
    if (isThenable(returned)) {
      Promise.resolve(returned).then(
        (result) => finish(null, result, false),
        (error: unknown) => finish(error ?? new Error('the handler rejected with no reason'), undefined, false),
      );
    } else if (this.#handler.length < 3 && !done) {
      // A plain handler without a callback: AWS answers null once the event loop is empty.
      void (ctx.untilIdle?.() ?? Promise.resolve()).then(() => finish(null, null, false));
    }
    const outcome = await settled.promise;
    if (outcome.viaCallback && context.callbackWaitsForEmptyEventLoop) await ctx.untilIdle?.();
    if (outcome.error !== null && outcome.error !== undefined) throw asError(outcome.error);
    return outcome.result;
  }
}

/** Builds the request description the event mappings read. */
export async function requestInfo(request: Request, http: HttpInvocation, ctx: InvocationContext): Promise<HttpRequestInfo> {
  const headers: Array<[string, string]> = [];
  const raw = http.rawHeaders;
  if (raw) for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i] as string, raw[i + 1] as string]);
  else request.headers.forEach((value, name) => headers.push([name, value]));
  const bytes = request.body === null ? null : new Uint8Array(await request.arrayBuffer());
  return { method: request.method, url: request.url, headers, body: bytes, sourceIp: http.meta.ip, requestId: ctx.requestId, requestTimeEpochMs: Date.now() };
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
/** Headers the host computes itself: passing the function's copy would contradict the body sent. */
const HOP_BY_HOP = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/** An HttpResult as a Response (the host frames the body itself). */
export function toResponse(result: HttpResult): Response {
  const headers = new Headers();
  for (const [name, value] of result.headers) if (!HOP_BY_HOP.has(name.toLowerCase())) headers.append(name, value);
  if (result.status < 200) {
    return new Response(`the function answered with status ${result.status}, which cannot be sent as a final response`, { status: 502 });
  }
  const body = NULL_BODY_STATUS.has(result.status) || result.body.length === 0 ? null : (result.body as Uint8Array<ArrayBuffer>);
  return new Response(body, { status: result.status, headers });
}

/** An API Gateway request (or Outpost's `/<function>/` mount, served as HTTP API `$default`). */
export async function serveApiGateway(runtime: LambdaRuntime, request: Request, http: HttpInvocation, ctx: InvocationContext): Promise<Response> {
  const info = await requestInfo(request, http, ctx);
  const shape = http.event.kind === 'api-gateway' ? http.event : { payloadVersion: '2.0' as const, resource: '$default', stage: '$default' };
  const route = { resource: shape.resource, pathParameters: http.params, stage: shape.stage, ...(http.authorizer ? { authorizer: apiGatewayAuthorizer(shape.payloadVersion, http.authorizer) } : {}) };
  if (shape.payloadVersion === '1.0') return toResponse(fromRestApiResult(await runtime.invoke(toRestApiEvent(info, route), ctx)));
  return toResponse(fromHttpApiResult(await runtime.invoke(toHttpApiEvent(info, route), ctx)));
}

/** The shared part of both Lambda factories: the handler, its runtime, its environment. */
export function createRuntime(module: Record<string, unknown>, setup: AdapterSetup, facts: LambdaFacts): LambdaRuntime {
  return new LambdaRuntime(resolveHandler(module, setup.handlerExport), facts);
}

/**
 * Facts are computed once per instance and shared by `environment` (before the bundle loads)
 * and `create` (after), so the log stream name in process.env matches context.logStreamName.
 */
const factsBySetup = new WeakMap<AdapterSetup, LambdaFacts>();
export function factsFor(setup: AdapterSetup): LambdaFacts {
  let facts = factsBySetup.get(setup);
  if (!facts) {
    facts = lambdaFacts(setup, crypto.randomUUID(), Date.now());
    factsBySetup.set(setup, facts);
  }
  return facts;
}

/** Lambda's CommonJS globals that esbuild leaves to the runtime; the task root is /var/task, as on AWS. */
export function prepareLambdaGlobals(): void {
  const g = globalThis as Record<string, unknown>;
  if (g['__dirname'] === undefined) g['__dirname'] = '/var/task';
  if (g['__filename'] === undefined) g['__filename'] = '/var/task/index.js';
}

export const lambdaAdapter: AdapterFactory = {
  prepare: prepareLambdaGlobals,
  environment: (setup) => lambdaVariables(setup, factsFor(setup)),
  formatLog: formatLambdaLog,
  create(module, setup): Adapter {
    const runtime = createRuntime(module, setup, factsFor(setup));
    return {
      async fetch(request, http, ctx) {
        if (http.event.kind === 'cloudfront') {
          throw new HandlerShapeError('a CloudFront route needs the lambda-edge handler style (a cloudFront event in serverless.yml)');
        }
        return serveApiGateway(runtime, request, http, ctx);
      },
      async event(kind, payload, ctx) {
        if (kind === 'invoke') return runtime.invoke(payload, ctx);
        throw unsupportedEvent('Lambda', kind);
      },
    };
  },
};
