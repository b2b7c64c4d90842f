/**
 * @module
 * The Lambda `context` object handed to a Node.js handler, and the reserved environment
 * variables the Lambda runtime sets, built the way AWS's Node.js runtime builds them so that
 * handlers (and libraries such as the AWS SDK or Powertools that sniff the environment) behave
 * as they do on AWS.
 *
 * Runs inside the function's isolate: Web APIs only, and time comes from the injected `now`
 * so that the host (and tests) decide what the clock is.
 *
 * Things worth knowing:
 * - `memoryLimitInMB` is a **string**: AWS's runtime copies it from the
 *   `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` environment variable.
 * - `identity` and `clientContext` are `undefined` unless the invoker supplied them (AWS only
 *   sets them for mobile SDK invocations).
 * - `done`/`succeed`/`fail` are the pre-async legacy API; they report once through `onDone`.
 * - The log stream name is per execution environment, not per request: pass the same
 *   `logStreamName` to {@link createLambdaContext} and {@link lambdaEnvironment} (or the same
 *   `instanceId`), otherwise each derives its own.
 */

/** How a handler finished through the legacy `done`/`succeed`/`fail` API. */
export type LambdaDoneCallback = (error: unknown, result?: unknown) => void;

export interface LambdaContextOptions {
  functionName: string;
  /** Default `'$LATEST'`. */
  functionVersion?: string;
  memoryLimitInMB: number;
  region: string;
  accountId: string;
  requestId: string;
  /** Epoch milliseconds at which the invocation times out. */
  deadlineMs: number;
  /** The clock, in epoch milliseconds. */
  now: () => number;
  /** Default `/aws/lambda/NAME`. */
  logGroupName?: string;
  /** Default {@link defaultLogStreamName} for `instanceId` (or the function name) and today. */
  logStreamName?: string;
  /** Identifies the execution environment; used only to derive a default log stream name. */
  instanceId?: string;
  /** Version or alias the caller used; appended to the ARN (`…:function:NAME:QUALIFIER`). */
  qualifier?: string;
  /** Mobile SDK identity (`{ cognitoIdentityId, cognitoIdentityPoolId }`), if the invoker sent one. */
  identity?: Record<string, unknown>;
  /** Mobile SDK client context, if the invoker sent one. */
  clientContext?: Record<string, unknown>;
  /** Receives the first `done`/`succeed`/`fail` call; later calls are ignored, as on AWS. */
  onDone?: LambdaDoneCallback;
}

/** The context object, typed as `@types/aws-lambda` describes it. */
export interface LambdaContext {
  callbackWaitsForEmptyEventLoop: boolean;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly identity: Record<string, unknown> | undefined;
  readonly clientContext: Record<string, unknown> | undefined;
  getRemainingTimeInMillis(): number;
  done(error?: unknown, result?: unknown): void;
  succeed(result?: unknown): void;
  fail(error?: unknown): void;
}

/** Small stable hash (FNV-1a, 32 bit). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** 32 lower-case hex digits derived from a seed: the shape of the id in AWS log stream names. */
function hex32(seed: string): string {
  let out = '';
  for (let i = 0; i < 4; i++) out += fnv1a(`${i}:${seed}`).toString(16).padStart(8, '0');
  return out;
}

/**
 * AWS's log stream name for an execution environment: `YYYY/MM/DD/[VERSION]` followed by 32 hex
 * digits, dated in UTC. Derived from `instanceId`, so the same environment keeps the same name.
 */
export function defaultLogStreamName(functionVersion: string, instanceId: string, epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/[${functionVersion}]${hex32(instanceId)}`;
}

/** `arn:aws:lambda:REGION:ACCOUNT:function:NAME`, plus `:QUALIFIER` when one was used. */
export function functionArn(region: string, accountId: string, functionName: string, qualifier?: string): string {
  const base = `arn:aws:lambda:${region}:${accountId}:function:${functionName}`;
  return qualifier === undefined || qualifier === '' ? base : `${base}:${qualifier}`;
}

/** The Lambda context object for one invocation. */
export function createLambdaContext(opts: LambdaContextOptions): LambdaContext {
  const functionVersion = opts.functionVersion ?? '$LATEST';
  const logStreamName =
    opts.logStreamName ?? defaultLogStreamName(functionVersion, opts.instanceId ?? opts.functionName, opts.now());
  let finished = false;
  const finish = (error: unknown, result?: unknown): void => {
    if (finished) return;
    finished = true;
    opts.onDone?.(error, result);
  };
  const context: LambdaContext = {
    // A plain data property: handlers set it to false, the host reads it after the callback.
    callbackWaitsForEmptyEventLoop: true,
    functionName: opts.functionName,
    functionVersion,
    invokedFunctionArn: functionArn(opts.region, opts.accountId, opts.functionName, opts.qualifier),
    memoryLimitInMB: String(opts.memoryLimitInMB),
    awsRequestId: opts.requestId,
    logGroupName: opts.logGroupName ?? `/aws/lambda/${opts.functionName}`,
    logStreamName,
    identity: opts.identity,
    clientContext: opts.clientContext,
    getRemainingTimeInMillis: () => Math.max(0, Math.floor(opts.deadlineMs - opts.now())),
    done: (error?: unknown, result?: unknown) => finish(error ?? null, result),
    succeed: (result?: unknown) => finish(null, result),
    // A falsy error still has to mean failure, so it is replaced by a generic one.
    fail: (error?: unknown) => finish(error === undefined || error === null || error === '' ? new Error('handled') : error),
  };
  return context;
}

export interface LambdaEnvironmentOptions {
  functionName: string;
  /** Default `'$LATEST'`. */
  functionVersion?: string;
  memoryLimitInMB: number;
  region: string;
  /** Default `/aws/lambda/NAME`. */
  logGroupName?: string;
  /** Default {@link defaultLogStreamName} for `instanceId` (or the function name) at `now()`. */
  logStreamName?: string;
  instanceId?: string;
  /** Needed only for the default log stream name's date. Default `Date.now`. */
  now?: () => number;
  /** Lambda runtime identifier; `AWS_EXECUTION_ENV` is `AWS_Lambda_` + this. Default `'nodejs22.x'`. */
  runtime?: string;
  /** `_HANDLER`, e.g. `'index.handler'`. */
  handler?: string;
  /** `AWS_ENDPOINT_URL`: where the host serves AWS APIs, so SDK clients call it instead of AWS. */
  endpointUrl?: string;
  /** Default: fixed, obviously fake credentials (SDKs refuse to sign without some). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Default `'/var/task'`. */
  taskRoot?: string;
}

/** Credentials that can sign requests to the local endpoint and can never work against AWS. */
export const FAKE_CREDENTIALS = {
  accessKeyId: 'ASIAOUTPOSTLOCAL0000',
  secretAccessKey: 'outpost/local/fake/secret/access/key/0000',
  sessionToken: 'outpost-local-fake-session-token',
} as const;

/**
 * The environment variables Lambda's Node.js runtime sets for a function (AWS's "defined runtime
 * environment variables"), with Outpost's values. Not included: `_X_AMZN_TRACE_ID` (changes per
 * invocation), `AWS_LAMBDA_RUNTIME_API` (there is no runtime API to poll), `PATH`,
 * `LD_LIBRARY_PATH` and `NODE_PATH` (meaningless in an isolate), and `NODE_OPTIONS` (Lambda does
 * not set it). `TZ` is `:UTC` as AWS sets it.
 */
export function lambdaEnvironment(opts: LambdaEnvironmentOptions): Record<string, string> {
  const functionVersion = opts.functionVersion ?? '$LATEST';
  const now = opts.now ?? Date.now;
  const credentials = opts.credentials ?? FAKE_CREDENTIALS;
  const env: Record<string, string> = {
    AWS_REGION: opts.region,
    AWS_DEFAULT_REGION: opts.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${opts.runtime ?? 'nodejs22.x'}`,
    AWS_LAMBDA_FUNCTION_NAME: opts.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(opts.memoryLimitInMB),
    AWS_LAMBDA_FUNCTION_VERSION: functionVersion,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: opts.logGroupName ?? `/aws/lambda/${opts.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME:
      opts.logStreamName ?? defaultLogStreamName(functionVersion, opts.instanceId ?? opts.functionName, now()),
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    LAMBDA_TASK_ROOT: opts.taskRoot ?? '/var/task',
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
  };
  if (credentials.sessionToken !== undefined) env['AWS_SESSION_TOKEN'] = credentials.sessionToken;
  if (opts.handler !== undefined) env['_HANDLER'] = opts.handler;
  if (opts.endpointUrl !== undefined) env['AWS_ENDPOINT_URL'] = opts.endpointUrl;
  return env;
}
