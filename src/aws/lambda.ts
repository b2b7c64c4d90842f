/**
 * @module
 * The Lambda Invoke API on the AWS port: `POST /2015-03-31/functions/{FunctionName}/invocations`,
 * as `@aws-sdk/client-lambda`'s InvokeCommand (and `aws lambda invoke`) call it. Every
 * invocation goes through the node's one dispatch path (`ctx.invoke(name, 'invoke', event)`).
 *
 * What is served, following AWS's API reference:
 * - `X-Amz-Invocation-Type`: `RequestResponse` (default; 200 and the result as JSON),
 *   `DryRun` (204 when the function exists) and `Event`: 202 with an empty body once the event
 *   is committed to the function's async queue (events/async.ts delivers it, with retries and
 *   destinations). `X-Outpost-Idempotency-Key` (optional, Outpost's own) suppresses repeats of
 *   an Event invocation within 5 minutes; the 202 then carries the first one's request id.
 * - A function that throws (or times out, or runs out of memory) answers 200 with
 *   `X-Amz-Function-Error: Unhandled` and `{errorType, errorMessage, trace}`, as AWS does.
 * - `X-Amz-Log-Type: Tail` returns `X-Amz-Log-Result`: base64 of the last 4 KB of the
 *   invocation's log (START, the function's console lines, END, REPORT).
 * - FunctionName as a name, `name:qualifier`, a partial ARN (`000000000000:function:name`) or a
 *   full ARN; the Serverless Framework's deployed name (`service-stage-fn`) is accepted too.
 *   Qualifier `$LATEST` or the active version's number; `X-Amz-Executed-Version` says which.
 *   Outpost invokes only a function's active version, so other versions and aliases are
 *   ResourceNotFoundException.
 * - Not supported: `X-Amz-Client-Context` (ignored), response streaming, the management
 *   operations (CreateFunction, ListFunctions…), which answer 400 UnknownOperationException.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isOutpostError } from '../errors.ts';
import { tidyStack } from '../gateway/index.ts';
import type { InvocationError } from '../runtime/instance.ts';
import type { ActiveFunction, AwsService, NodeContext, NodeService, RunningService } from '../server/context.ts';
import { ACCOUNT_ID, readBody } from './index.ts';
import { enqueueAsync } from '../events/async-enqueue.ts';
import { ASYNC_PAYLOAD_LIMIT } from '../events/async-api.ts';

/** Optional client-chosen id of an asynchronous invocation: repeats within 5 minutes are queued once. */
export const IDEMPOTENCY_HEADER = 'x-outpost-idempotency-key';

const PREFIX = '/2015-03-31/functions';
/** Synchronous invocation payloads (request and response) are limited to 6 MB on AWS. */
export const PAYLOAD_LIMIT = 6 * 1024 * 1024;
/** X-Amz-Log-Result carries the last 4 KB of the log. */
export const LOG_TAIL_BYTES = 4096;
const DEFAULT_REGION = 'us-east-1';

/** An error in the REST-JSON shape Lambda uses: `x-amzn-ErrorType` plus `{Type, Message}`. */
export class LambdaApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly fault: 'User' | 'Service';
  constructor(status: number, type: string, message: string, fault: 'User' | 'Service' = 'User') {
    super(message);
    this.name = 'LambdaApiError';
    this.status = status;
    this.type = type;
    this.fault = fault;
  }
}

function sendError(res: ServerResponse, error: LambdaApiError, requestId: string): void {
  const body = JSON.stringify({ Type: error.fault, Message: error.message });
  res.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': error.type,
  });
  res.end(body);
}

/** What a FunctionName (and the Qualifier parameter) names. */
export interface FunctionRef {
  name: string;
  qualifier: string | undefined;
}

const NAME_RE = /^[a-zA-Z0-9_-]{1,140}$/;

/**
 * Splits a FunctionName as AWS accepts it: `name`, `name:qualifier`, `account:function:name[:q]`
 * or `arn:aws:lambda:region:account:function:name[:q]`. A Qualifier parameter must agree with a
 * qualifier in the name. Throws LambdaApiError (400) for anything else.
 */
export function parseFunctionName(raw: string, qualifierParam: string | undefined): FunctionRef {
  const parts = raw.split(':');
  let name: string | undefined;
  let qualifier: string | undefined;
  if (parts[0] === 'arn') {
    // arn:aws:lambda:region:account:function:name[:qualifier]
    if (parts.length < 7 || parts.length > 8 || parts[2] !== 'lambda' || parts[5] !== 'function') throw invalidName(raw);
    name = parts[6];
    qualifier = parts[7];
  } else if (parts.length >= 3 && parts[1] === 'function') {
    if (parts.length > 4) throw invalidName(raw);
    name = parts[2];
    qualifier = parts[3];
  } else if (parts.length <= 2) {
    name = parts[0];
    qualifier = parts[1];
  }
  if (name === undefined || !NAME_RE.test(name) || qualifier === '') throw invalidName(raw);
  const q = qualifierParam === undefined || qualifierParam === '' ? undefined : qualifierParam;
  if (q !== undefined && qualifier !== undefined && q !== qualifier) {
    throw new LambdaApiError(400, 'InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.');
  }
  return { name, qualifier: qualifier ?? q };
}

function invalidName(raw: string): LambdaApiError {
  return new LambdaApiError(
    400,
    'ValidationException',
    `1 validation error detected: Value '${raw}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
  );
}

export function functionArnOf(region: string, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${name}${qualifier === undefined ? '' : `:${qualifier}`}`;
}

function regionOf(fn: ActiveFunction, node: string): string {
  return fn.version.manifest.platform['region'] ?? (node === 'local' ? DEFAULT_REGION : node);
}

/** Finds the active function a reference names; the Serverless deployed name works too. */
export function findFunction(functions: ReadonlyMap<string, ActiveFunction>, name: string): ActiveFunction | undefined {
  const direct = functions.get(name);
  if (direct) return direct;
  for (const fn of functions.values()) if (fn.version.manifest.platform['functionName'] === name) return fn;
  return undefined;
}

/** The version an invocation runs: `$LATEST` unless the caller named the active version's number. */
export function executedVersion(fn: ActiveFunction, ref: FunctionRef, region: string): string {
  if (ref.qualifier === undefined || ref.qualifier === '$LATEST') return '$LATEST';
  if (ref.qualifier === String(fn.version.version)) return ref.qualifier;
  throw new LambdaApiError(
    404,
    'ResourceNotFoundException',
    `Function not found: ${functionArnOf(region, fn.name, ref.qualifier)} (Outpost invokes a function's active version, ${fn.version.version}, or $LATEST)`,
  );
}

/** The body AWS returns for an unhandled function error. */
export interface FunctionErrorBody {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/** How AWS reports each way an invocation can fail (errorType), for Outpost's limit codes. */
const LIMIT_ERROR_TYPES: Record<string, string> = {
  TIMEOUT: 'Sandbox.Timedout',
  EXCEEDED_MEMORY: 'Runtime.OutOfMemory',
  EXCEEDED_CPU: 'Runtime.ExitError',
  INSTANCE_CRASHED: 'Runtime.ExitError',
  STARTUP_EXCEEDED: 'Sandbox.Timedout',
  INVALID_HANDLER: 'Runtime.HandlerNotFound',
  NO_RESPONSE: 'Runtime.NoResponse',
};

const OUTPOST_SOURCES = new URL('../', import.meta.url).href;

/**
 * A stack as AWS shows it: the function's frames only (not Outpost's runtime or Node's
 * internals), with the bundle's location on this host shown as Lambda's task root, /var/task.
 */
export function traceOf(stack: string | undefined, sourceRoot: string | undefined): string[] {
  const tidy = tidyStack(stack, [sourceRoot]);
  if (!tidy) return [];
  return tidy
    .split('\n')
    .filter((line) => !line.includes(OUTPOST_SOURCES) && !line.includes('node:internal'))
    .map((line) => line.replace(/(?:file:\/\/)?\/\S*\/bundles\/[0-9a-f]{16,}\//g, '/var/task/'));
}

/** The error body for a failed invocation: the function's own error name, or the runtime's. */
export function functionErrorBody(error: InvocationError, ctx: { requestId: string; timeoutSeconds: number; sourceRoot?: string | undefined }): FunctionErrorBody {
  if (error.code === 'TIMEOUT') {
    return { errorType: 'Sandbox.Timedout', errorMessage: `${new Date().toISOString()} ${ctx.requestId} Task timed out after ${ctx.timeoutSeconds.toFixed(2)} seconds` };
  }
  const user = error.userError;
  if (user && error.code !== 'INVALID_HANDLER') {
    return { errorType: user.name, errorMessage: user.message, trace: traceOf(user.stack, ctx.sourceRoot) };
  }
  return { errorType: LIMIT_ERROR_TYPES[error.code] ?? 'Runtime.Unknown', errorMessage: user?.message ?? error.message };
}

/** The last `LOG_TAIL_BYTES` of a log, base64 (X-Amz-Log-Result). */
export function logTail(lines: readonly string[]): string {
  const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
  return bytes.subarray(Math.max(0, bytes.length - LOG_TAIL_BYTES)).toString('base64');
}

/** Collects the console lines of invocations whose log tail was asked for, by request id. */
class LogTails {
  readonly #open = new Map<string, string[]>();

  open(requestId: string): string[] {
    const lines: string[] = [];
    this.#open.set(requestId, lines);
    return lines;
  }

  close(requestId: string): void {
    this.#open.delete(requestId);
  }

  /** Lambda's runtime writes `time\trequestId\tLEVEL\tmessage`; the request id is the second field. */
  line(requestId: string | undefined, message: string): void {
    if (this.#open.size === 0) return;
    const id = requestId ?? message.split('\t', 3)[1];
    if (id !== undefined) this.#open.get(id)?.push(message);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseEvent(bytes: Buffer): unknown {
  if (bytes.length === 0) return {};
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new LambdaApiError(400, 'InvalidRequestContentException', `Could not parse request body into json: ${(error as Error).message}`);
  }
}

/** Invoke, served on the AWS port. */
export function createLambdaApi(ctx: NodeContext): AwsService & { close(): void } {
  const tails = new LogTails();
  const unsubscribe = ctx.telemetry.add({ console: (line) => tails.line(line.requestId, line.message) });

  const invoke = async (req: IncomingMessage, res: ServerResponse, rawName: string, url: URL, requestId: string): Promise<void> => {
    const ref = parseFunctionName(rawName, url.searchParams.get('Qualifier') ?? undefined);
    const fn = findFunction(ctx.functions(), ref.name);
    if (!fn) throw new LambdaApiError(404, 'ResourceNotFoundException', `Function not found: ${functionArnOf(ctx.region === 'local' ? DEFAULT_REGION : ctx.region, ref.name, ref.qualifier)}`);
    const region = regionOf(fn, ctx.region);
    const version = executedVersion(fn, ref, region);
    const type = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
    const logType = header(req, 'x-amz-log-type') ?? 'None';
    if (logType !== 'None' && logType !== 'Tail') throw new LambdaApiError(400, 'InvalidParameterValueException', `X-Amz-Log-Type must be None or Tail, got ${logType}`);
    if (type !== 'RequestResponse' && type !== 'DryRun' && type !== 'Event') {
      throw new LambdaApiError(400, 'InvalidParameterValueException', `InvocationType must be RequestResponse, Event or DryRun, got ${type}`);
    }
    const body = await readBody(req, PAYLOAD_LIMIT).catch((error: unknown) => {
      if ((error as { status?: number }).status === 413) {
        throw new LambdaApiError(413, 'RequestTooLargeException', `Request must be smaller than ${PAYLOAD_LIMIT} bytes for the InvokeFunction operation`);
      }
      throw error;
    });
    if (type === 'Event' && body.length > ASYNC_PAYLOAD_LIMIT) throw new LambdaApiError(413, 'RequestTooLargeException', `Request must be smaller than ${ASYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction operation`);
    const event = parseEvent(body);
    if (type === 'Event') {
      const key = header(req, IDEMPOTENCY_HEADER);
      if (key !== undefined && (key === '' || key.length > 128)) throw new LambdaApiError(400, 'InvalidParameterValueException', `${IDEMPOTENCY_HEADER} must be 1–128 characters`);
      // Committed to the store before the 202: a crash after this answer loses nothing.
      const queued = await enqueueAsync(ctx.store.queues, fn.name, event, key === undefined ? {} : { idempotencyKey: key });
      res.writeHead(202, { 'x-amzn-requestid': queued.requestId, 'content-length': 0, ...(queued.duplicate ? { 'x-outpost-duplicate': 'true' } : {}) });
      res.end();
      return;
    }
    if (type === 'DryRun') {
      res.writeHead(204, { 'x-amzn-requestid': requestId });
      res.end();
      return;
    }

    const invocationId = randomUUID();
    const log = logType === 'Tail' ? tails.open(invocationId) : undefined;
    const limits = fn.version.manifest.limits;
    const started = performance.now();
    let payload: string;
    let functionError = false;
    let initMs: number | undefined;
    try {
      const { result, record } = await ctx.invoke(fn.name, 'invoke', event, { requestId: invocationId, trigger: 'invoke' });
      if (record.coldStart) initMs = record.startMs;
      payload = JSON.stringify(result === undefined ? null : result) ?? 'null';
      if (Buffer.byteLength(payload) > PAYLOAD_LIMIT) {
        functionError = true;
        payload = JSON.stringify({ errorMessage: `Response payload size exceeded maximum allowed payload size (${PAYLOAD_LIMIT} bytes).`, errorType: 'Function.ResponseSizeTooLarge' });
      }
    } catch (error) {
      if (isOutpostError(error, 'FUNCTION_NOT_FOUND')) throw new LambdaApiError(404, 'ResourceNotFoundException', `Function not found: ${functionArnOf(region, fn.name)}`);
      if (!isOutpostError(error) || (error as InvocationError).userError === undefined && !(error.code in LIMIT_ERROR_TYPES)) {
        throw new LambdaApiError(500, 'ServiceException', (error as Error).message, 'Service');
      }
      functionError = true;
      const errorBody = functionErrorBody(error as InvocationError, { requestId: invocationId, timeoutSeconds: limits.wallMs / 1000, sourceRoot: fn.version.sourceRoot });
      payload = JSON.stringify(errorBody);
      log?.push(`${new Date().toISOString()}\t${invocationId}\tERROR\tInvoke Error \t${payload}`);
    } finally {
      tails.close(invocationId);
    }
    const durationMs = performance.now() - started;
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      'x-amzn-requestid': invocationId,
      'x-amz-executed-version': version,
    };
    if (functionError) headers['x-amz-function-error'] = 'Unhandled';
    if (log) {
      const report =
        `REPORT RequestId: ${invocationId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.max(1, Math.ceil(durationMs))} ms\t` +
        `Memory Size: ${limits.memoryMb} MB\t${initMs === undefined ? '' : `Init Duration: ${initMs.toFixed(2)} ms\t`}`;
      headers['x-amz-log-result'] = logTail([`START RequestId: ${invocationId} Version: ${version}`, ...log, `END RequestId: ${invocationId}`, report]);
    }
    res.writeHead(200, headers);
    res.end(payload);
  };

  return {
    name: 'lambda',
    matches: (_req, url) => url.pathname === PREFIX || url.pathname.startsWith(`${PREFIX}/`),
    async handle(req, res, url) {
      const requestId = randomUUID();
      try {
        const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/.exec(url.pathname);
        if (!m || req.method !== 'POST') {
          req.resume();
          throw new LambdaApiError(400, 'UnknownOperationException', `Outpost's Lambda API serves Invoke only (POST ${PREFIX}/{FunctionName}/invocations), not ${req.method ?? ''} ${url.pathname}`);
        }
        let name: string;
        try {
          name = decodeURIComponent(m[1] ?? '');
        } catch {
          throw invalidName(m[1] ?? '');
        }
        await invoke(req, res, name, url, requestId);
      } catch (error) {
        if (!(error instanceof LambdaApiError)) throw error;
        if (!req.readableEnded) req.resume();
        sendError(res, error, requestId);
      }
    },
    close: unsubscribe,
  };
}

export const lambdaService: NodeService = {
  name: 'lambda',
  servesAws: true,
  start(ctx): RunningService {
    const api = createLambdaApi(ctx);
    return { aws: [api], close: async () => api.close() };
  },
};
