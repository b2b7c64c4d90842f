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
 *   Qualifier `$LATEST` (what the `live` alias serves), a version number or an alias (one of
 *   its versions, drawn by weight); `X-Amz-Executed-Version` says which ran.
 * - Versions and aliases: PublishVersion (every deploy already published one, so it returns
 *   the newest), ListVersionsByFunction, CreateAlias/GetAlias/UpdateAlias/DeleteAlias/
 *   ListAliases with `RoutingConfig.AdditionalVersionWeights`, all on the aliases of
 *   traffic/aliases.ts: a Lambda alias and an `outpost aliases` alias are the same thing.
 *   Like Invoke, they do not check SigV4 signatures.
 * - Not supported: `X-Amz-Client-Context` (ignored), response streaming, the other management
 *   operations (CreateFunction, ListFunctions…), which answer 400 UnknownOperationException.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isOutpostError } from '../errors.ts';
import { keys } from '../control/records.ts';
import type { FunctionRecord, SplitEntry, VersionRecord } from '../control/records.ts';
import type { MetaStore } from '../store/types.ts';
import { Aliases } from '../traffic/aliases.ts';
import type { AliasView } from '../traffic/aliases.ts';
import { aliasesOf, chooseVersion, primaryVersion } from '../traffic/versions.ts';
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
  /** A body other than `{Type, Message}` (TooManyRequestsException has its own) and extra headers. */
  readonly body: Record<string, unknown> | undefined;
  readonly headers: Record<string, string>;
  constructor(status: number, type: string, message: string, fault: 'User' | 'Service' = 'User', extra: { body?: Record<string, unknown>; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'LambdaApiError';
    this.status = status;
    this.type = type;
    this.fault = fault;
    this.body = extra.body;
    this.headers = extra.headers ?? {};
  }
}

/**
 * A throttled invocation as AWS answers it: 429 TooManyRequestsException with `Reason`, `Type`
 * and a lower-case `message`, and `Retry-After` (the SDK's `retryAfterSeconds`).
 */
function tooManyRequests(error: { details?: Record<string, unknown> | undefined }): LambdaApiError {
  const reason = typeof error.details?.['reason'] === 'string' ? error.details['reason'] : 'ReservedFunctionConcurrentInvocationLimitExceeded';
  const retryAfter = typeof error.details?.['retryAfterSeconds'] === 'number' ? error.details['retryAfterSeconds'] : 1;
  return new LambdaApiError(429, 'TooManyRequestsException', 'Rate Exceeded.', 'User', {
    body: { Reason: reason, Type: 'User', message: 'Rate Exceeded.' },
    headers: { 'retry-after': String(retryAfter) },
  });
}

function sendError(res: ServerResponse, error: LambdaApiError, requestId: string): void {
  const body = JSON.stringify(error.body ?? { Type: error.fault, Message: error.message });
  res.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': error.type,
    ...error.headers,
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

/**
 * The version an invocation runs and what `X-Amz-Executed-Version` says: no qualifier or
 * `$LATEST` runs what `live` serves (reported as `$LATEST`); a number runs that version; an
 * alias runs one of its versions, drawn by weight.
 */
export async function resolveQualifier(meta: MetaStore, fn: ActiveFunction, ref: FunctionRef, region: string): Promise<{ version?: number; executed: string }> {
  const q = ref.qualifier;
  if (q === undefined || q === '$LATEST') return { executed: '$LATEST' };
  const notFound = (): LambdaApiError => new LambdaApiError(404, 'ResourceNotFoundException', `Function not found: ${functionArnOf(region, fn.name, q)}`);
  if (/^\d+$/.test(q)) {
    if (!(await meta.get(keys.version(fn.name, Number(q))))) throw notFound();
    return { version: Number(q), executed: q };
  }
  const record = await meta.get<FunctionRecord>(keys.function(fn.name));
  const alias = record && aliasesOf(record.value).get(q);
  if (!alias) throw notFound();
  const version = chooseVersion(alias.versions, Math.random() * 100);
  return { version, executed: String(version) };
}

/** What Lambda's version operations answer for one version (FunctionConfiguration). */
function versionConfiguration(region: string, v: VersionRecord, qualifier: string): Record<string, unknown> {
  const m = v.manifest;
  return {
    FunctionName: v.function,
    FunctionArn: functionArnOf(region, v.function, qualifier),
    Version: qualifier,
    Handler: m.handlerExport,
    MemorySize: m.limits.memoryMb,
    Timeout: Math.ceil(m.limits.wallMs / 1000),
    CodeSha256: Buffer.from(v.digest, 'hex').toString('base64'),
    LastModified: v.createdAt.replace('Z', '+0000'),
    State: 'Active',
    LastUpdateStatus: 'Successful',
    RevisionId: revisionOf(v.digest, qualifier),
    Description: '',
  };
}

interface AliasConfiguration {
  AliasArn: string;
  Name: string;
  FunctionVersion: string;
  Description: string;
  RevisionId: string;
  RoutingConfig?: { AdditionalVersionWeights: Record<string, number> };
}

/** A UUID-shaped id that changes whenever `parts` do (Lambda's RevisionId). */
function revisionOf(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\0')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * An Outpost alias in Lambda's shape: the heaviest version is FunctionVersion, the others are
 * RoutingConfig.AdditionalVersionWeights as fractions (Lambda allows one; Outpost up to three).
 */
export function aliasConfiguration(arn: string, alias: AliasView): AliasConfiguration {
  const primary = primaryVersion(alias.versions);
  const others = alias.versions.filter((e) => e.version !== primary);
  return {
    AliasArn: arn,
    Name: alias.name,
    FunctionVersion: String(primary),
    Description: alias.description ?? '',
    RevisionId: revisionOf(JSON.stringify(alias)),
    ...(others.length > 0 ? { RoutingConfig: { AdditionalVersionWeights: Object.fromEntries(others.map((e) => [String(e.version), e.weight / 100])) } } : {}),
  };
}

/** A split from CreateAlias/UpdateAlias input; omitted fields keep `current`'s. */
export function splitFromLambda(body: Record<string, unknown>, current: readonly SplitEntry[] | undefined): SplitEntry[] {
  const previous = current ? primaryVersion(current) : undefined;
  const raw = body['FunctionVersion'];
  if (raw === '$LATEST') throw new LambdaApiError(400, 'InvalidParameterValueException', 'Outpost aliases point at numbered versions; every deploy publishes one (see ListVersionsByFunction)');
  const primary = raw === undefined ? previous : Number(raw);
  if (primary === undefined || !Number.isInteger(primary)) throw new LambdaApiError(400, 'InvalidParameterValueException', 'FunctionVersion must be a version number');
  const routing = body['RoutingConfig'] as { AdditionalVersionWeights?: Record<string, unknown> } | undefined;
  const weights = routing === undefined ? Object.fromEntries((current ?? []).filter((e) => e.version !== previous).map((e) => [String(e.version), e.weight / 100])) : (routing.AdditionalVersionWeights ?? {});
  // Percent with four decimals, so 0.1 + 0.9 sums to exactly 100.
  const others = Object.entries(weights).map(([v, w]) => ({ version: Number(v), weight: Math.round(Number(w) * 1_000_000) / 10_000 }));
  const rest = others.reduce((sum, e) => sum + e.weight, 0);
  return [{ version: primary, weight: Math.round((100 - rest) * 10_000) / 10_000 }, ...others];
}

function descriptionOf(body: Record<string, unknown>, fallback?: string): { description?: string } {
  const d = body['Description'];
  return typeof d === 'string' ? { description: d } : fallback === undefined ? {} : { description: fallback };
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
    const { version: pinned, executed: version } = await resolveQualifier(ctx.store.meta, fn, ref, region);
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
      const { result, record } = await ctx.invoke(fn.name, 'invoke', event, { requestId: invocationId, trigger: 'invoke', ...(pinned === undefined ? {} : { version: pinned }) });
      if (record.coldStart) initMs = record.startMs;
      payload = JSON.stringify(result === undefined ? null : result) ?? 'null';
      if (Buffer.byteLength(payload) > PAYLOAD_LIMIT) {
        functionError = true;
        payload = JSON.stringify({ errorMessage: `Response payload size exceeded maximum allowed payload size (${PAYLOAD_LIMIT} bytes).`, errorType: 'Function.ResponseSizeTooLarge' });
      }
    } catch (error) {
      if (isOutpostError(error, 'FUNCTION_NOT_FOUND')) throw new LambdaApiError(404, 'ResourceNotFoundException', `Function not found: ${functionArnOf(region, fn.name)}`);
      if (isOutpostError(error, 'THROTTLED')) throw tooManyRequests(error);
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

  const aliases = new Aliases(ctx.store.meta);

  /** PublishVersion, ListVersionsByFunction and the alias operations; false for other paths. */
  const versionsAndAliases = async (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): Promise<boolean> => {
    const m = /^\/2015-03-31\/functions\/([^/]+)\/(versions|aliases)(?:\/([^/]+))?\/?$/.exec(url.pathname);
    if (!m) return false;
    const ref = parseFunctionName(decodeURIComponent(m[1] ?? ''), undefined);
    const fn = findFunction(ctx.functions(), ref.name);
    const region = fn ? regionOf(fn, ctx.region) : ctx.region === 'local' ? DEFAULT_REGION : ctx.region;
    const record = fn && (await ctx.store.meta.get<FunctionRecord>(keys.function(fn.name)));
    if (!fn || !record) throw new LambdaApiError(404, 'ResourceNotFoundException', `Function not found: ${functionArnOf(region, ref.name)}`);
    const name = fn.name;
    const method = req.method ?? 'GET';
    const aliasName = m[3] === undefined ? undefined : decodeURIComponent(m[3]);
    const body = method === 'POST' || method === 'PUT' ? (parseEvent(await readBody(req, 1024 * 1024)) as Record<string, unknown>) : {};
    const arn = (alias: string): string => functionArnOf(region, name, alias);
    const view = async (alias: string): Promise<AliasConfiguration> => aliasConfiguration(arn(alias), await aliases.get(name, alias));
    /** The operation's status and body (undefined: no body). */
    const operate = async (): Promise<[number, unknown]> => {
      if (m[2] === 'versions' && aliasName === undefined) {
        const versions = (await ctx.store.meta.list<VersionRecord>(keys.versionPrefix(name))).map((e) => e.value);
        const latest = versions.find((v) => v.version === record.value.latest);
        if (!latest) throw new LambdaApiError(500, 'ServiceException', `the newest version of ${name} is missing`, 'Service');
        // Every deploy already publishes an immutable version, so publishing returns the newest.
        if (method === 'POST') return [201, versionConfiguration(region, latest, String(latest.version))];
        if (method === 'GET') return [200, { Versions: [versionConfiguration(region, latest, '$LATEST'), ...versions.map((v) => versionConfiguration(region, v, String(v.version)))] }];
      }
      if (m[2] === 'aliases' && aliasName === undefined) {
        if (method === 'GET') return [200, { Aliases: await Promise.all((await aliases.list(name)).map((a) => view(a.name))) }];
        if (method === 'POST') {
          const alias = String(body['Name'] ?? '');
          await aliases.set(name, alias, splitFromLambda(body, undefined), { ...descriptionOf(body), expect: (current) => current === undefined }).catch((error: unknown) => {
            throw isOutpostError(error, 'ALIAS_CHANGED') ? new LambdaApiError(409, 'ResourceConflictException', `Alias already exists: ${arn(alias)}`) : error;
          });
          return [201, await view(alias)];
        }
      }
      if (m[2] === 'aliases' && aliasName !== undefined) {
        if (method === 'GET') return [200, await view(aliasName)];
        if (method === 'PUT') {
          const current = await aliases.get(name, aliasName);
          await aliases.set(name, aliasName, splitFromLambda(body, current.versions), { ...descriptionOf(body, current.description), expect: (c) => c !== undefined });
          return [200, await view(aliasName)];
        }
        if (method === 'DELETE') {
          await aliases.delete(name, aliasName);
          return [204, undefined];
        }
      }
      throw new LambdaApiError(400, 'UnknownOperationException', `Outpost's Lambda API does not serve ${method} ${url.pathname}`);
    };
    let status: number;
    let value: unknown;
    try {
      [status, value] = await operate();
    } catch (error) {
      if (isOutpostError(error, 'ALIAS_NOT_FOUND') || isOutpostError(error, 'ALIAS_CHANGED')) throw new LambdaApiError(404, 'ResourceNotFoundException', `Alias not found: ${arn(aliasName ?? '')}`);
      if (isOutpostError(error, 'INVALID_ALIAS')) throw new LambdaApiError(400, 'InvalidParameterValueException', error.message);
      throw error;
    }
    const text = value === undefined ? '' : JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': requestId });
    res.end(text);
    return true;
  };

  return {
    name: 'lambda',
    matches: (_req, url) => url.pathname === PREFIX || url.pathname.startsWith(`${PREFIX}/`),
    async handle(req, res, url) {
      const requestId = randomUUID();
      try {
        if (await versionsAndAliases(req, res, url, requestId)) return;
        const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/.exec(url.pathname);
        if (!m || req.method !== 'POST') {
          req.resume();
          throw new LambdaApiError(400, 'UnknownOperationException', `Outpost's Lambda API serves Invoke, versions and aliases, not ${req.method ?? ''} ${url.pathname}`);
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
