/**
 * @module
 * The one typed shape every project format is read into. wrangler.toml, outpost.toml,
 * serverless.yml, SAM templates, Next.js folders, deno.json and Azure/Google projects each have
 * a loader in this folder that produces a {@link ProjectSpec}; nothing after the loader knows
 * which file a setting came from. Every field says its default.
 */
import type { ExperimentSpec } from '../traffic/experiments.ts';

/** How a function's entry module is called; each style has one adapter in runtime/adapters/. */
export type HandlerStyle =
  | 'workers-module' //    export default { fetch, scheduled, queue }
  | 'service-worker' //    addEventListener('fetch', e => e.respondWith(…))
  | 'lambda' //            export const handler = async (event, context) => …
  | 'lambda-edge' //       CloudFront Records[0].cf events
  | 'vercel-app-route' //  app/**/route.ts exporting GET/POST/…
  | 'vercel-pages-api' //  pages/api/*.ts default export with config.runtime 'edge'
  | 'deno' //              Deno.serve(handler)
  | 'gcf' //               functions.https.onRequest((req, res) => …)
  | 'azure-v3' //          module.exports = async (context, req)
  | 'azure-v4'; //         app.http(name, { handler })

export type ProjectFormat = 'outpost' | 'wrangler' | 'serverless' | 'sam' | 'next' | 'deno' | 'gcf' | 'azure';

/** Resource limits of one function; defaults in {@link DEFAULT_LIMITS}. */
export interface Limits {
  /** V8 heap limit of one instance (default 128). */
  memoryMb: number;
  /** CPU time one invocation may use (default 30 000). */
  cpuMs: number;
  /** Wall-clock time one invocation may take (default 60 000). */
  wallMs: number;
  /** Time the module's top-level code may take when an instance starts (default 1 000). */
  startupMs: number;
  /** Largest request body accepted (default 100 MiB). */
  requestBodyBytes: number;
  /** Outbound fetch() calls allowed per invocation (default 1 000). */
  subrequests: number;
  /** Invocations one instance runs at once (default: 1 for Node-style handlers, 100 otherwise). */
  concurrency: number;
  /** An instance with no work for this long is stopped (scale to zero; default 300 000). */
  idleMs: number;
  /**
   * Instances of one version on a node (default 8). When all are at their concurrency, further
   * invocations wait for a free one instead of starting more: on a node's few cores, more
   * threads only add switching, and a burst of first requests does not start a herd of cold
   * instances.
   */
  maxInstances: number;
  /**
   * Concurrent invocations of the function across its versions, reserved from the node's total
   * (`--max-concurrency`): both a cap and a guarantee. Absent: the function shares the
   * unreserved rest with the others.
   */
  reservedConcurrency?: number;
  /** Concurrent invocations kept warm (started at deploy, never evicted when idle); default 0. */
  provisionedConcurrency?: number;
  /** How long an invocation over the reserved or shared cap waits for a slot before 429 (default 0: at once). */
  queueTimeoutMs?: number;
  /** Invocations that may wait for a slot at once; more are refused with 429 at once (default 1 000). */
  maxQueued?: number;
}

export const DEFAULT_LIMITS: Readonly<Omit<Limits, 'concurrency'>> = Object.freeze({
  memoryMb: 128,
  cpuMs: 30_000,
  wallMs: 60_000,
  startupMs: 1_000,
  requestBodyBytes: 100 * 1024 * 1024,
  subrequests: 1_000,
  idleMs: 300_000,
  maxInstances: 8,
});

/** How an HTTP route's request reaches the handler, for styles that have several shapes. */
export type HttpEventShape =
  | { kind: 'fetch' } //                                 Request in, Response out
  | { kind: 'api-gateway'; payloadVersion: '1.0' | '2.0'; resource: string; stage: string }
  | { kind: 'cloudfront'; eventType: 'viewer-request' | 'origin-request' | 'origin-response' | 'viewer-response'; origin?: string }
  | { kind: 'export'; name: string }; //                 one named export serves this route (Vercel methods, GCF, Azure v4)

/**
 * One HTTP route. Patterns are normalised by the loaders:
 * - `host`: exact host, `*.example.com`, or absent for any host;
 * - `path`: `/users/{id}`, greedy `/files/{path+}`, or a trailing `*` (`/api/*`); matching is
 *   most-specific-first (literal segments beat parameters beat greedy/wildcard);
 * - `method`: upper-case, absent for any method.
 */
export interface RouteSpec {
  host?: string;
  path: string;
  method?: string;
  /** Remove this prefix from the path the function sees (dev mounts such as `/<function>/*`). */
  stripPrefix?: string;
  /** Literal segments match in any case (Azure Functions routes do). */
  caseInsensitive?: boolean;
  event: HttpEventShape;
  /** Traffic rules the gateway applies on this route (src/traffic/), as the loaders normalised them. */
  policies?: RoutePolicySpec;
}

/**
 * Per-route traffic configuration, whatever config it came from (SAM/serverless authorizers
 * and CORS, outpost.toml `[[route_rules]]`). Each key is compiled by one policy in src/traffic/.
 */
export interface RoutePolicySpec {
  /** API Gateway-style response cache (src/traffic/response-cache.ts). */
  cache?: ResponseCacheSpec;
  /** Token-bucket rate limit per client key (src/traffic/rate-limit.ts). */
  rateLimit?: RateLimitSpec;
  /** Cross-origin rules; preflights are answered by the gateway (src/traffic/cors.ts). */
  cors?: CorsSpec;
  /** A JWT authorizer (src/traffic/jwt.ts). */
  jwt?: JwtSpec;
  /** A Lambda REQUEST authorizer: another function of the project decides (src/traffic/lambda-authorizer.ts). */
  authorizer?: LambdaAuthorizerSpec;
  /** `x-api-key` required, with a usage plan (src/traffic/api-keys.ts). */
  apiKey?: ApiKeySpec;
}

/** Where a credential is read: a request header or a query parameter (API Gateway identity sources). */
export interface IdentitySource {
  in: 'header' | 'query';
  /** Header names lower-case. */
  name: string;
}

export interface CorsSpec {
  /** Origins allowed: exact (`https://app.example.com`), `*`, or `https://*.example.com` (default none). */
  allowOrigins: string[];
  /** Methods a preflight may ask for, upper-case; `*` allows any (default `*`). */
  allowMethods: string[];
  /** Request headers a preflight may ask for, lower-case; `*` allows any (default none). */
  allowHeaders: string[];
  /** Response headers scripts may read (default none). */
  exposeHeaders: string[];
  /** Send `access-control-allow-credentials: true` (default false). */
  allowCredentials: boolean;
  /** How long browsers cache a preflight, seconds (default: no header). */
  maxAgeSeconds?: number;
}

export interface JwtSpec {
  /** Required `iss`; with `keys: { discover }` also where the JWKS is found (OIDC discovery). */
  issuer?: string;
  /** `aud` must contain one of these (default: not checked). */
  audiences: string[];
  /** A JWKS URL, the name of a var/secret holding an HMAC secret, or OIDC discovery from the issuer. */
  keys: { jwksUrl: string } | { secretName: string } | { discover: true };
  /** Allowed `alg` values (default RS256, ES256, EdDSA with a JWKS; HS256 with a secret). */
  algorithms: string[];
  /** Scopes the token must all carry (`scope` or `scp`); a missing one answers 403 (default none). */
  scopes: string[];
  /** Tolerance for `exp`/`nbf`, seconds (default 0). */
  clockSkewSeconds: number;
  /** Where the token is read (default the Authorization header; a `Bearer ` prefix is removed). */
  identitySource: IdentitySource;
  /** After an unknown `kid` refetched the JWKS, no other refetch for this long, seconds (default 30). */
  jwksCooldownSeconds: number;
}

export interface LambdaAuthorizerSpec {
  /** The project function that decides. */
  function: string;
  /** Values the request must carry; a missing one answers 401 without invoking. They key the cache. */
  identitySource: IdentitySource[];
  /** REQUEST (the request's headers, query…) or TOKEN (REST: one token, `authorizationToken`). */
  type: 'REQUEST' | 'TOKEN';
  /** Event shape: '2.0' (HTTP API) or '1.0' (REST). */
  payloadVersion: '1.0' | '2.0';
  /** Payload 2.0 answers `{ isAuthorized, context }` instead of an IAM policy (default false from serverless/SAM, as AWS; true in outpost.toml). */
  simpleResponses: boolean;
  /** How long an answer is cached per identity, seconds (default 300; 0: not cached). */
  ttlSeconds: number;
}

export interface ApiKeySpec {
  /** Keys declared in config; one without a value is created on the node (`outpost apikeys create`). */
  keys: Array<{ name: string; value?: string }>;
  /** Throttle and quota per key on this route (an API Gateway usage plan); absent: unlimited. */
  usagePlan?: UsagePlanSpec;
}

export interface UsagePlanSpec {
  /** Steady requests per second per key, `burst` at once (token bucket). */
  throttle?: { rate: number; burst: number };
  /** Requests per key per calendar period (UTC). */
  quota?: { limit: number; period: 'DAY' | 'WEEK' | 'MONTH' };
}

export interface ResponseCacheSpec {
  /** Seconds a stored response is served (1–3600; API Gateway's default 300). */
  ttlSeconds: number;
  /** Query parameters that are part of the cache key (default none: other query strings share an entry). */
  keyQuery: string[];
  /** Request headers, lower-case, that are part of the cache key (default none). */
  keyHeaders: string[];
  /** Statuses that are stored (default [200]). */
  statuses: number[];
}

export interface RateLimitSpec {
  /** Requests a second a key may make on average. */
  rate: number;
  /** Requests a key may make at once after idling (default: `rate`, at least 1). */
  burst: number;
  /**
   * What a request is counted by: the client address, a request header, a claim an earlier
   * authorizer returned, or nothing (`route`: one bucket for every caller, as API Gateway throttles).
   */
  key: { by: 'ip' } | { by: 'route' } | { by: 'header'; name: string } | { by: 'claim'; name: string };
}

/** A binding the function declared; the host serves it, the function sees it on `env`. */
export type BindingSpec =
  | { type: 'kv'; name: string; namespace: string }
  | { type: 'r2'; name: string; bucket: string }
  | { type: 'queue'; name: string; queue: string }
  | { type: 'd1'; name: string; database: string }
  | { type: 'service'; name: string; service: string }
  | { type: 'workflow'; name: string; stateMachine: string }
  | { type: 'denokv'; name: string; database: string } //  Deno.openKv(): one database per function
  | { type: 'ratelimit'; name: string; namespace: string; limit: number; periodSeconds: 10 | 60 }; // Workers Rate Limiting

export interface CronTrigger { type: 'cron'; expression: string; timezone?: string }
export interface QueueTrigger {
  type: 'queue';
  queue: string;
  maxBatchSize?: number;
  maxBatchTimeoutSeconds?: number;
  maxRetries?: number;
  retryDelaySeconds?: number;
  deadLetterQueue?: string;
  maxConcurrency?: number;
  visibilityTimeoutSeconds?: number;
}
/**
 * Objects created or deleted in a bucket invoke the function with an S3 event notification
 * (events/object-changes.ts). `events` are S3 event types (`s3:ObjectCreated:*`,
 * `s3:ObjectRemoved:Delete`, …); a key must start with `prefix` and end with `suffix`.
 */
export interface ObjectTrigger { type: 'object'; bucket: string; events: string[]; prefix?: string; suffix?: string }
/** Row changes of a D1 database, delivered in the DynamoDB Streams record shape (events/d1-changes.ts). */
export interface D1Trigger { type: 'd1'; database: string; maxBatchSize?: number; maxBatchTimeoutSeconds?: number; maxRetries?: number; retryDelaySeconds?: number }
export type R2NotificationEvent = 'object-create' | 'object-delete';
/**
 * An R2 event notification rule (outpost.toml `[[r2_notifications]]`): objects created or deleted
 * in `bucket` send Cloudflare's notification message to `queue`. Not a trigger of the function that
 * declares it — whoever consumes the queue receives the messages; it is active while that function is.
 */
export interface R2NotificationRule { type: 'r2-notification'; bucket: string; queue: string; events: R2NotificationEvent[]; prefix?: string; suffix?: string }
/** Changes of a KV namespace, delivered in the DynamoDB Streams record shape (events/kv-changes.ts). */
export interface KvTrigger { type: 'kv'; namespace: string; maxBatchSize?: number; maxBatchTimeoutSeconds?: number; maxRetries?: number; retryDelaySeconds?: number }
/** Non-HTTP triggers; served by events/ (a later capability) through the same dispatch path. */
export type TriggerSpec = CronTrigger | QueueTrigger | ObjectTrigger | KvTrigger | D1Trigger | R2NotificationRule;

export interface FunctionSpec {
  /** Unique within the node; `[a-zA-Z0-9_-]`, 1–63 characters. */
  name: string;
  style: HandlerStyle;
  /** Absolute path of the entry source file. */
  entry: string;
  /** Export that holds the handler (`default` for Workers; `handler` for `app.handler`). */
  handlerExport: string;
  /** Plain variables (vars, environment); visible to the function. */
  vars: Record<string, string>;
  /** Local secrets (.dev.vars); visible like vars, never printed. */
  secrets: Record<string, string>;
  bindings: BindingSpec[];
  routes: RouteSpec[];
  triggers: TriggerSpec[];
  limits: Limits;
  /** Give the function Node's globals and `node:` built-ins (Lambda, Google, Azure; Workers with nodejs_compat). */
  nodeCompat: boolean;
  compatibilityDate?: string;
  compatibilityFlags: string[];
  /** Platform facts an adapter needs (Lambda runtime, region…); free-form, set by the loader. */
  platform: Record<string, string>;
  /** A/B experiments on the function's routes (outpost.toml `[[experiments]]`, traffic/experiments.ts). */
  experiments?: ExperimentSpec[];
}

export interface ProjectSpec {
  /** Project name (wrangler `name`, serverless `service`, folder name otherwise). */
  name: string;
  /** Absolute path of the project folder. */
  root: string;
  format: ProjectFormat;
  /** Files the loader read, relative to root (dev watches these and the sources). */
  configFiles: string[];
  functions: FunctionSpec[];
  /** State machines (SAM / serverless stepFunctions); definitions as parsed JSON. */
  stateMachines: StateMachineSpec[];
}

export interface StateMachineSpec {
  name: string;
  definition: unknown;
  type: 'STANDARD' | 'EXPRESS';
}
