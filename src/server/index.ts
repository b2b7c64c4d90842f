/**
 * @module
 * One Outpost node: the store, dispatch, the gateway and the control API wired together on one
 * HTTP port. The node follows the store: every change to a function record (from this node's
 * API or, later, another node) rebuilds the route table and registers the active versions.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostBindings, NodeCache } from '../bindings/index.ts';
import type { ServiceRequest, ServiceResponse } from '../bindings/index.ts';
import { redact, redactionList, SecretVault, secretsKeySource } from '../bindings/secrets/index.ts';
import { secretsApi } from '../bindings/secrets/api.ts';
import { d1Api } from '../bindings/d1/api.ts';
import { kvApi } from '../bindings/kv/api.ts';
import { bearerAuth, createControlApi } from '../control/api.ts';
import type { InvokeRequest } from '../control/api.ts';
import { Deployments } from '../control/deployments.ts';
import { keys } from '../control/records.ts';
import type { FunctionRecord, SplitEntry, VersionRecord } from '../control/records.ts';
import { Tokens } from '../control/tokens.ts';
import { BlankPool, Dispatcher } from '../dispatch/index.ts';
import type { InvokeOptions, RunnableVersion } from '../dispatch/index.ts';
import { OutpostError } from '../errors.ts';
import { createGateway, RouteTable, tidyStack } from '../gateway/index.ts';
import type { AccessRecord, RouteTarget } from '../gateway/index.ts';
import type { Logger } from '../observe/logger.ts';
import { derivedFields, outcomeOf, Telemetry } from '../observe/telemetry.ts';
import type { ObserveOptions } from '../observe/logs-service.ts';
import { StackMapper } from '../observe/source-map.ts';
import { accessTiming, handlerContext, keepTrace, serviceTrace, TraceSampler } from '../observe/tracing.ts';
import type { InvocationEvent, Outcome, Trigger } from '../observe/telemetry.ts';
import type { Limits, RouteSpec } from '../project/spec.ts';
import type { Instance, InvocationError } from '../runtime/instance.ts';
import type { Store } from '../store/types.ts';
import type { RegionPin } from '../store/nats/index.ts';
import { NodeRegistry } from './node-registry.ts';
import type { NodeEntry } from './node-registry.ts';
import { cachedLiveNodes, FORWARDED_BY, forwardToRegion, servingRegion } from './region-routing.ts';
import { BufferSink } from './buffer-sink.ts';
import { StreamSink } from './stream-sink.ts';
import { startAwsApi } from '../aws/index.ts';
import type { AwsApi } from '../aws/index.ts';
import type { ActiveFunction, AwsService, GatewayHook, NodeContext, RunningService } from './context.ts';
import { SERVICES } from './services.ts';
import { compilePolicies, nodeState } from '../traffic/index.ts';
import type { RoutePolicy } from '../traffic/index.ts';
import { aliasesOf, chooseVersion, LIVE, primaryVersion, servedVersions, versionPolicy } from '../traffic/versions.ts';
import { experimentPolicy, experimentVersions } from '../traffic/experiments.ts';
import type { PolicyNode } from '../traffic/index.ts';

export interface NodeOptions {
  /** Let functions reach loopback and private addresses (always on in dev). */
  allowPrivateNetwork?: boolean;
  /** Port of the AWS-compatible APIs (0 = any free port); they listen only when a capability serves one. */
  awsPort?: number;
  store: Store;
  logger: Logger;
  /** Development node: trusts client geo headers, loopback needs no token, stacks in errors. */
  dev: boolean;
  host?: string;
  port?: number;
  region?: string;
  /**
   * The node's name in the fleet's node registry (`--name`); without it the node does not
   * register and does not route requests to other regions (region-routing.ts).
   */
  name?: string;
  /** KV namespaces pinned to regions (`--pin`): functions using one pinned `:refuse` elsewhere are forwarded there. */
  pins?: readonly RegionPin[];
  trustedProxies?: string[];
  /** Verify S3 signatures in dev too (`--s3-auth`). */
  s3Auth?: boolean;
  /** Blank instances kept warm per memory size (default 2). */
  blankPoolSize?: number;
  /** The state directory (where `secrets.key` lives unless OUTPOST_SECRETS_KEY is set). */
  stateDir?: string;
  /** Bytes the Cache API may hold on this node (default 256 MiB); least recently used entries go first. */
  cacheMaxBytes?: number;
  /** Concurrent invocations on this node, reserved and shared (default 1 000; `--max-concurrency`). */
  maxConcurrency?: number;
  /** Log retention and price tables for the logs and usage capability. */
  observe?: ObserveOptions;
  /** Invocation records, logs, metrics and traces (default on); off leaves the hot path bare (`--telemetry off`). */
  telemetry?: boolean;
  /** New traces recorded per second at most (default 50; OUTPOST_TRACES_PER_SECOND); see TraceSampler. */
  tracesPerSecond?: number;
}

export interface OutpostNode {
  readonly url: string;
  /** The AWS-compatible API, when a capability serves one. */
  readonly awsUrl: string | undefined;
  readonly port: number;
  readonly deployments: Deployments;
  readonly tokens: Tokens;
  /** Resolves when the node has applied every function change made so far. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

interface ServedVersion {
  version: VersionRecord;
  runnable: RunnableVersion;
}

interface Active {
  fn: FunctionRecord;
  /** The primary version of `live` (fn.active). */
  version: VersionRecord;
  runnable: RunnableVersion;
  /** Every version an alias points at, registered with dispatch. */
  served: Map<number, ServedVersion>;
  /** Changes whenever the function's stored secrets change. */
  secretsFingerprint: string;
}

const TRIGGERS = new Set<string>(['http', 'cron', 'queue', 'object', 'kv', 'd1', 'async', 'workflow', 'invoke', 'service']);

function sameSet(a: Iterable<number>, b: ReadonlySet<number>): boolean {
  const left = new Set(a);
  return left.size === b.size && [...left].every((v) => b.has(v));
}

/** The trigger an event invocation reports: what the caller named, else what its kind implies. */
function triggerOf(kind: string): Trigger {
  if (kind === 'scheduled') return 'cron';
  return TRIGGERS.has(kind) ? (kind as Trigger) : 'invoke';
}

export async function startNode(options: NodeOptions): Promise<OutpostNode> {
  const { store, logger, dev } = options;
  const telemetry = new Telemetry({ enabled: options.telemetry !== false });
  const sampler = new TraceSampler(options.tracesPerSecond ?? 50);
  if (!logger.quiet) telemetry.add(logger);
  /** Error stacks as the user's source lines, for logs and dev error bodies. */
  const stacks = new StackMapper();
  const mapStack = (stack: string | undefined, sourceRoot: string | undefined): string | undefined => stacks.map(tidyStack(stack, [sourceRoot]));
  /** Size of an event's payload or result as JSON, for metering. */
  const jsonBytes = (value: unknown): number => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value) ?? ''));
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'local';
  const cache = new NodeCache(options.cacheMaxBytes === undefined ? {} : { maxBytes: options.cacheMaxBytes });
  const vault = new SecretVault(store.meta, secretsKeySource(options.stateDir));
  /** Secret values per function name, for log redaction. */
  const redactions = new Map<string, string[]>();
  const hide = (fn: string | undefined, text: string): string => (fn === undefined ? text : redact(text, redactions.get(fn) ?? []));
  const blanks = new BlankPool({ size: options.blankPoolSize ?? 2 });
  const dispatcher = new Dispatcher({
    blanks,
    hooks: {
      // A function that prints one of its secrets logs [REDACTED] instead.
      log: (fn, version, requestId, level, message) => telemetry.console({ time: Date.now(), function: fn, version, requestId, level, message: redact(message, redactions.get(fn) ?? []) }),
      limit: (fn, version, code) => logger.system('warn', `${fn}@${version}: instance stopped (${code})`),
    },
    ...(options.maxConcurrency === undefined ? {} : { totalConcurrency: options.maxConcurrency }),
  });
  const server: Server = createServer({ requestTimeout: 300_000, headersTimeout: 20_000, keepAliveTimeout: 5_000 });
  let port = options.port ?? 8787;
  // The AWS port opens first so functions can be told its address (AWS_ENDPOINT_URL).
  const awsServices: AwsService[] = [];
  const awsApi: AwsApi | undefined =
    options.awsPort !== undefined && SERVICES.some((s) => s.servesAws) ? await startAwsApi({ host, port: options.awsPort, services: () => awsServices }) : undefined;
  // Functions may call the AWS-compatible APIs (AWS_ENDPOINT_URL points there, as an SDK
  // inside a Lambda expects) but never the port that carries the control API.
  const denyHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];

  /** Runs an HTTP invocation of another function's active version (service bindings). */
  const invokeHttp = async (name: string, request: ServiceRequest): Promise<ServiceResponse> => {
    const a = active.get(name);
    if (!a) throw new OutpostError('SERVICE_NOT_FOUND', `no function named ${name} is deployed on this node`, { status: 502, fault: 'user', hint: 'deploy the service the binding names, or fix `service` in the binding' });
    // As for any other caller: a version drawn from live's split (it has no client to keep affinity with).
    const served = await versionFor(a);
    const sink = new StreamSink();
    const requestId = crypto.randomUUID();
    const time = Date.now();
    const started = performance.now();
    const trace = telemetry.wantsSpans ? serviceTrace(request.headers) : undefined;
    const { record } = await dispatcher.http(
      served.runnable.key,
      {
        requestId,
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: request.body ? 'inline' : 'none',
        ...(request.body ? { bytes: request.body } : {}),
        meta: { ip: '127.0.0.1', cf: { colo: region } },
        event: { kind: 'fetch' },
        params: {},
        ...(trace ? { trace: handlerContext(trace) } : {}),
      },
      sink,
    );
    if (trace) trace.dispatchTo = performance.now() - started;
    const head = await sink.response;
    // Logged when the callee's invocation is over, body included.
    void record.then(
      (r) => {
        const durationMs = performance.now() - started;
        if (trace && (trace.sampled || r.coldStart)) {
          const dispatch = { from: 0, to: trace.dispatchTo ?? 0, ...(r.coldStart ? { coldStartMs: r.startMs } : {}) };
          const { traceId, parentSpanId, spanId, handlerSpanId } = trace;
          telemetry.trace({ traceId, ...(parentSpanId ? { parentSpanId } : {}), spanId, handlerSpanId, requestId, function: name, version: served.version.version, method: request.method, path: new URL(request.url).pathname, status: head.status, outcome: 'ok', start: time, durationMs, dispatch });
        }
        if (telemetry.wantsInvocations) telemetry.invocation({ time, requestId, ...(trace ? { traceId: trace.traceId } : {}), trigger: 'service', method: request.method, path: new URL(request.url).pathname, function: name, version: served.version.version, memoryMb: served.runnable.limits.memoryMb, status: head.status, outcome: 'ok', durationMs, cpuMs: r.cpuMs, coldStart: r.coldStart, ...(r.coldStart ? { startMs: r.startMs } : {}), maxMemoryMB: r.maxMemoryMB, bytesIn: request.body?.byteLength ?? 0, ...derivedFields('ok', durationMs) });
      },
      () => undefined,
    );
    return { status: head.status, headers: head.headers, body: head.body, ...(head.more ? { rest: sink } : {}) };
  };

  const runnable = (record: VersionRecord, bundlePath: string, stored: Record<string, string> = {}): RunnableVersion => {
    const m = record.manifest;
    void stacks.prepare(record.digest, () => store.blobs.localPath(keys.sourceMap(record.digest)));
    // Stored secrets (outpost secret put) override .dev.vars ones of the same name.
    redactions.set(record.function, redactionList(m.secrets, stored));
    return {
      key: `${record.function}@${record.version}`,
      functionName: record.function,
      version: record.version,
      limits: m.limits,
      bindings: hostBindings(m.bindings, { store, now: Date.now, invokeHttp, cache, telemetry }),
      load: {
        functionName: record.function,
        version: record.version,
        style: m.style,
        handlerExport: m.handlerExport,
        bundlePath,
        vars: { ...m.vars, ...m.secrets, ...stored },
        secretNames: [...new Set([...Object.keys(m.secrets), ...Object.keys(stored)])],
        bindings: m.bindings,
        nodeCompat: m.nodeCompat,
        subrequestLimit: m.limits.subrequests,
        egress: {
          allowPrivate: dev || options.allowPrivateNetwork === true,
          denyHosts: denyHosts(),
          ...(awsApi ? { allowHosts: [`127.0.0.1:${awsApi.port}`, `localhost:${awsApi.port}`] } : {}),
        },
        platform: m.platform,
        dev,
        host: { region, gatewayUrl: `http://${host}:${port}`, ...(awsApi ? { awsEndpoint: awsApi.url } : {}) },
      },
    };
  };

  /** Instances that proved a version during deploy, handed to dispatch when it goes live. */
  const probed = new Map<string, Instance>();
  /**
   * Reservations of versions proved but not yet live, so that two functions of one deploy
   * cannot together reserve more than the node has. An entry leaves when its version is live,
   * or after a minute (its deploy failed).
   */
  const pendingReservations = new Map<string, { version: number; reserved: number; at: number }>();
  const reservationsPending = (): Map<string, number> => {
    const out = new Map<string, number>();
    for (const [fn, p] of pendingReservations) if (Date.now() - p.at < 60_000) out.set(fn, p.reserved);
    return out;
  };
  const deployments = new Deployments(store, async (record, bundlePath) => {
    const limits = record.manifest.limits;
    // Refused before anything starts: the deploy changes nothing.
    dispatcher.checkReservation(record.function, limits.reservedConcurrency, reservationsPending());
    const candidate = runnable(record, bundlePath, (await vault.values(record.function)).values);
    try {
      const instance = await dispatcher.probe(candidate);
      const provisioned = limits.provisionedConcurrency ?? 0;
      if (provisioned > 0) {
        // Provisioned concurrency is warm before the pointer moves: the first requests of the new
        // version find loaded instances. One instance serves `concurrency` invocations at once.
        dispatcher.register(candidate);
        dispatcher.adopt(candidate.key, instance);
        await dispatcher.provision(candidate.key, Math.ceil(provisioned / limits.concurrency));
        // A version that never goes live (its deploy failed later) does not keep them forever.
        setTimeout(() => {
          if (![...active.values()].some((a) => [...a.served.values()].some((s) => s.runnable.key === candidate.key))) dispatcher.retire(candidate.key);
        }, 60_000).unref();
      } else probed.set(candidate.key, instance);
      if (limits.reservedConcurrency !== undefined) pendingReservations.set(record.function, { version: record.version, reserved: limits.reservedConcurrency, at: Date.now() });
    } catch (error) {
      const e = error as InvocationError;
      const where = mapStack(e.userError?.stack, record.sourceRoot);
      throw new OutpostError('DEPLOY_FAILED', `${record.function} failed to start: ${e.userError ? `${e.userError.name}: ${e.userError.message}` : e.message}`, {
        status: 400,
        fault: 'user',
        hint: e.code === 'STARTUP_EXCEEDED' ? 'move slow work out of top-level code, or raise limits.startup_ms' : 'fix the error below; the previous version keeps serving',
        details: { function: record.function, code: e.code, ...(where ? { stack: where } : {}) },
      });
    }
  });
  const tokens = new Tokens(store.meta);

  let active = new Map<string, Active>();
  /** Versions no alias points at, loaded because a caller named them (Lambda `Qualifier`), by key. */
  const onDemand = new Map<string, ServedVersion>();
  let table = new RouteTable<RouteTarget>([]);
  /** Functions only another region may run, by name → that region; their requests are forwarded there. */
  let forwarded = new Map<string, string>();
  let registry: NodeRegistry | undefined;
  let liveNodes: ((region: string) => Promise<NodeEntry[]>) | undefined;
  const policyNode: PolicyNode = { state: nodeState(), invoke: (...args) => invokeEvent(...args), now: Date.now, verifyToken: (token) => tokens.verify(token), meta: store.meta };

  const buildRoutes = (): RouteTable<RouteTarget> => {
    const entries: Array<{ target: RouteTarget; route: RouteSpec }> = [];
    const withoutRoutes: Active[] = [];
    for (const a of active.values()) {
      const m = a.version.manifest;
      const target: RouteTarget = {
        functionName: a.fn.name,
        versionKey: a.runnable.key,
        version: a.version.version,
        limits: m.limits,
        ...(a.version.sourceRoot ? { sourceRoot: a.version.sourceRoot } : {}),
        ...(m.platform['origin'] ? { origin: m.platform['origin'] } : {}),
      };
      // Azure matches its routes in any case; its loader says so in platform.caseInsensitiveRoutes.
      const anyCase = m.platform['caseInsensitiveRoutes'] === 'true';
      // With more than one version served, a policy picks one per request (split, affinity, override).
      const servedKeys = new Map([...a.served].map(([v, s]) => [v, s.runnable.key]));
      const choose = (split: readonly SplitEntry[]): RoutePolicy[] =>
        servedKeys.size > 1 ? [versionPolicy({ functionName: a.fn.name, split, served: servedKeys, verifyToken: (token) => tokens.verify(token) })] : [];
      const aliases = aliasesOf(a.fn);
      const live = choose(aliases.get(LIVE)?.versions ?? []);
      // A/B experiments come after the split, so a variant's own version wins over it.
      if (m.experiments && m.experiments.length > 0) live.push(experimentPolicy({ experiments: m.experiments, served: servedKeys }));
      const withLive = (t: RouteTarget): RouteTarget => (live.length === 0 ? t : { ...t, policies: [...(t.policies ?? []), ...live] });
      for (const route of m.routes) {
        const policies = compilePolicies({ functionName: a.fn.name, manifest: m, route, node: policyNode, env: a.runnable.load.vars });
        entries.push({ target: withLive(policies.length > 0 ? { ...target, policies } : target), route: anyCase ? { ...route, caseInsensitive: true } : route });
      }
      // Every function is reachable under /<name>/ with the prefix removed.
      entries.push({ target: withLive(target), route: { path: `/${a.fn.name}/*`, stripPrefix: `/${a.fn.name}`, event: { kind: 'fetch' } } });
      // …and each other alias under /<name>@<alias>/, for testing a version before it goes live.
      for (const [alias, record] of aliases) {
        const primary = a.served.get(primaryVersion(record.versions));
        if (alias === LIVE || !primary) continue;
        const policies = choose(record.versions);
        const aliasTarget: RouteTarget = { ...target, versionKey: primary.runnable.key, version: primary.version.version, ...(policies.length > 0 ? { policies } : {}) };
        entries.push({ target: aliasTarget, route: { path: `/${a.fn.name}@${alias}/*`, stripPrefix: `/${a.fn.name}@${alias}`, event: { kind: 'fetch' } } });
      }
      // Routes that only carry rules (outpost.toml [[route_rules]]) do not count as the function's own;
      // API Gateway routes with authorizers or CORS do (a catch-all would bypass their auth).
      if (m.routes.every((r) => r.policies !== undefined && r.event.kind === 'fetch')) withoutRoutes.push(a);
    }
    // In dev, a lone function without routes also answers at the root, as `wrangler dev` does.
    const only = withoutRoutes[0];
    if (dev && withoutRoutes.length === 1 && only) {
      const target = entries.find((e) => e.target.functionName === only.fn.name)?.target;
      if (target) entries.push({ target, route: { path: '/*', event: { kind: 'fetch' } } });
    }
    return new RouteTable(entries);
  };

  /** Re-reads every function record and makes the node serve exactly the active versions. */
  const sync = async (): Promise<void> => {
    const next = new Map<string, Active>();
    for (const { value: fn } of await store.meta.list<FunctionRecord>(keys.functionPrefix)) {
      const existing = active.get(fn.name);
      let secrets: { values: Record<string, string>; fingerprint: string };
      try {
        secrets = await vault.values(fn.name);
      } catch (error) {
        logger.system('error', `cannot load the secrets of ${fn.name}: ${(error as Error).message}`);
        if (existing) next.set(fn.name, { ...existing, fn });
        continue;
      }
      // Every version an alias or an experiment of live points at is registered; the route
      // table decides who gets which.
      const wanted = servedVersions(fn);
      const sameSecrets = existing?.secretsFingerprint === secrets.fingerprint;
      if (existing && sameSecrets && existing.fn.active === fn.active && sameSet(existing.served.keys(), new Set([...wanted, ...experimentVersions(existing.version.manifest.experiments)]))) {
        next.set(fn.name, { ...existing, fn });
        continue;
      }
      const served = new Map<number, ServedVersion>();
      const serve = async (v: number): Promise<void> => {
        const old = existing?.served.get(v);
        if (served.has(v)) return;
        if (old && sameSecrets) {
          served.set(v, old);
          return;
        }
        const version = await store.meta.get<VersionRecord>(keys.version(fn.name, v));
        const path = version && (await store.blobs.localPath(keys.bundle(version.value.digest)));
        if (!version || !path) {
          logger.system('error', `cannot serve ${fn.name}@${v}: its version record or bundle is missing`);
          return;
        }
        const r = runnable(version.value, path, secrets.values);
        // A secret changed: the running instances hold the old values, so they stop taking new
        // work (in-flight invocations finish) and the next invocation starts a fresh instance.
        if (old) dispatcher.retire(r.key);
        dispatcher.register(r);
        const instance = probed.get(r.key);
        if (instance) {
          probed.delete(r.key);
          dispatcher.adopt(r.key, instance);
        }
        served.set(v, { version: version.value, runnable: r });
      };
      for (const v of wanted) await serve(v);
      for (const v of experimentVersions(served.get(fn.active)?.version.manifest.experiments)) await serve(v);
      const primary = served.get(fn.active);
      if (!primary) {
        if (existing) next.set(fn.name, existing);
        continue;
      }
      next.set(fn.name, { fn, version: primary.version, runnable: primary.runnable, served, secretsFingerprint: secrets.fingerprint });
    }
    const previous = active;
    active = next;
    for (const [fn, p] of pendingReservations) if (next.get(fn)?.served.has(p.version)) pendingReservations.delete(fn);
    // A function's reserved concurrency is its live version's, whatever else is registered.
    for (const a of next.values()) dispatcher.reserve(a.fn.name, a.runnable.limits.reservedConcurrency);
    table = buildRoutes();
    forwarded = new Map();
    if (options.name !== undefined && options.pins && options.pins.length > 0) {
      for (const a of next.values()) {
        const serving = servingRegion(a.version.manifest.bindings, options.pins, region);
        if (serving) forwarded.set(a.fn.name, serving);
      }
    }
    // In-flight requests keep their instances; retired versions stop when those finish.
    const stillServed = new Set<string>();
    for (const a of next.values()) for (const s of a.served.values()) stillServed.add(s.runnable.key);
    for (const a of previous.values()) for (const s of a.served.values()) if (!stillServed.has(s.runnable.key)) dispatcher.retire(s.runnable.key);
    // Versions loaded for one call (a Lambda qualifier) are loaded afresh after any change.
    for (const [key, s] of onDemand) if (!stillServed.has(key)) dispatcher.retire(s.runnable.key);
    onDemand.clear();
    for (const listener of changeListeners) listener();
  };
  const changeListeners = new Set<() => void>();

  let syncing: Promise<void> = Promise.resolve();
  const resync = (): Promise<void> => (syncing = syncing.then(sync, sync).catch((e: unknown) => logger.system('error', `route sync failed: ${(e as Error).message}`)));
  store.meta.watch(keys.functionPrefix, () => void resync());
  store.meta.watch(SecretVault.prefix, () => void resync());
  await resync();

  /**
   * The version an invocation of `a` runs: `version` when the caller named one (loaded on demand
   * when no alias serves it), else one drawn from live's split by weight (events carry no
   * client to keep affinity with).
   */
  const versionFor = async (a: Active, version?: number): Promise<ServedVersion> => {
    const live = aliasesOf(a.fn).get(LIVE)?.versions ?? [];
    const wanted = version ?? (live.length > 1 ? chooseVersion(live, Math.random() * 100) : a.fn.active);
    const known = a.served.get(wanted) ?? onDemand.get(`${a.fn.name}@${wanted}`);
    if (known) return known;
    const record = await store.meta.get<VersionRecord>(keys.version(a.fn.name, wanted));
    const path = record && (await store.blobs.localPath(keys.bundle(record.value.digest)));
    if (!record || !path) throw new OutpostError('VERSION_NOT_FOUND', `${a.fn.name} has no version ${wanted}`, { status: 404, fault: 'user', hint: `outpost versions ${a.fn.name} lists them` });
    const r = runnable(record.value, path, (await vault.values(a.fn.name)).values);
    dispatcher.register(r);
    const loaded = { version: record.value, runnable: r };
    onDemand.set(r.key, loaded);
    return loaded;
  };

  /**
   * Event sources (queues, async invocations, cron, change feeds, workflows) wait for a slot
   * when the function is at its concurrency cap, rather than fail: there is no caller to answer
   * 429 to. The wait is the function's wall time, at most 30 s, so that wait and run fit in the
   * lease (wall time + 30 s) of the message being delivered. Synchronous callers (Invoke,
   * service bindings) follow the function's limits.
   */
  const admissionOf = (trigger: Trigger, limits: Limits): InvokeOptions | undefined =>
    trigger === 'invoke' || trigger === 'service' || trigger === 'http' ? undefined : { queueTimeoutMs: Math.min(30_000, limits.wallMs) };

  const invokeEvent: NodeContext['invoke'] = async (name, kind, payload, opts = {}) => {
    const a = active.get(name);
    if (!a) throw new OutpostError('FUNCTION_NOT_FOUND', `no function named ${name}`, { status: 404, fault: 'user' });
    const chosen = await versionFor(a, opts.version);
    const requestId = opts.requestId ?? crypto.randomUUID();
    const time = Date.now();
    const started = performance.now();
    const base = { time, requestId, trigger: triggerOf(opts.trigger ?? kind), function: name, version: chosen.version.version, memoryMb: chosen.runnable.limits.memoryMb };
    try {
      const { result, record } = await dispatcher.event(chosen.runnable.key, kind, payload, requestId, admissionOf(base.trigger, chosen.runnable.limits));
      if (telemetry.wantsInvocations) {
        const durationMs = performance.now() - started;
        telemetry.invocation({ ...base, status: 200, outcome: 'ok', durationMs, cpuMs: record.cpuMs, coldStart: record.coldStart, ...(record.coldStart ? { startMs: record.startMs } : {}), maxMemoryMB: record.maxMemoryMB, bytesIn: jsonBytes(payload), bytesOut: jsonBytes(result), ...derivedFields('ok', durationMs) });
      }
      return { requestId, result, record, version: chosen.version.version };
    } catch (error) {
      const e = error as InvocationError;
      if (telemetry.wantsInvocations) {
        const stack = mapStack(e.userError?.stack, chosen.version.sourceRoot);
        const outcome = outcomeOf(e.code ?? 'ERROR');
        const durationMs = performance.now() - started;
        telemetry.invocation({ ...base, status: e.status ?? 500, outcome, durationMs, bytesIn: jsonBytes(payload), ...derivedFields(outcome, durationMs), error: { code: e.code ?? 'ERROR', message: hide(name, e.message), ...(stack ? { stack: hide(name, stack) } : {}) } });
      }
      throw error;
    }
  };

  const invoke = async (name: string, body: InvokeRequest): Promise<unknown> => {
    const a = active.get(name);
    if (!a) throw new OutpostError('FUNCTION_NOT_FOUND', `no function named ${name}`, { status: 404, fault: 'user' });
    const requestId = crypto.randomUUID();
    if (body.event !== undefined) {
      const { result } = await invokeEvent(name, 'invoke', body.event, { requestId });
      return { requestId, result };
    }
    const r = body.request ?? {};
    const headers: string[] = [];
    for (const [k, v] of Object.entries(r.headers ?? {})) headers.push(k.toLowerCase(), v);
    const bytes = r.body === undefined ? undefined : new TextEncoder().encode(r.body);
    const sink = new BufferSink();
    const chosen = await versionFor(a);
    const method = (r.method ?? (bytes ? 'POST' : 'GET')).toUpperCase();
    const time = Date.now();
    const started = performance.now();
    const report = (status: number, outcome: Outcome, extra: Partial<InvocationEvent>): void => {
      const durationMs = performance.now() - started;
      if (telemetry.wantsInvocations) telemetry.invocation({ time, requestId, trigger: 'invoke', method, path: r.path ?? '/', function: name, version: chosen.version.version, memoryMb: chosen.runnable.limits.memoryMb, status, outcome, durationMs, bytesIn: bytes?.byteLength ?? 0, ...derivedFields(outcome, durationMs), ...extra });
    };
    const { record } = await dispatcher.http(
      chosen.runnable.key,
      {
        requestId,
        method,
        url: `http://${name}.invoke${r.path ?? '/'}`,
        headers,
        body: bytes ? 'inline' : 'none',
        ...(bytes ? { bytes } : {}),
        meta: { ip: '127.0.0.1', cf: { colo: region } },
        event: { kind: 'fetch' },
        params: {},
      },
      sink,
    );
    let response: Awaited<typeof sink.done>;
    try {
      response = await sink.done;
    } catch (error) {
      const e = error as InvocationError;
      const stack = mapStack(e.userError?.stack, chosen.version.sourceRoot);
      report(e.status, outcomeOf(e.code), { error: { code: e.code, message: hide(name, e.message), ...(stack ? { stack: hide(name, stack) } : {}) } });
      throw error;
    }
    const done = await record;
    report(response.status, 'ok', { cpuMs: done.cpuMs, coldStart: done.coldStart, ...(done.coldStart ? { startMs: done.startMs } : {}), maxMemoryMB: done.maxMemoryMB, bytesOut: Buffer.byteLength(response.body) });
    return { requestId, ...response };
  };

  const runtimeOf = (name: string): { instances: number; inFlight: number } => {
    const a = active.get(name);
    if (!a) return { instances: 0, inFlight: 0 };
    const { instances, inFlight } = dispatcher.stats(a.runnable.key);
    return { instances, inFlight };
  };
  const controlRoutes: GatewayHook[] = [secretsApi(vault), d1Api(store.sql), kvApi(store)];
  const runControlRoutes: GatewayHook = async (req, res, requestId) => {
    for (const handle of controlRoutes) if (await handle(req, res, requestId)) return true;
    return false;
  };
  const controlApi = createControlApi({ deployments, tokens, trustLoopback: dev, invoke, runtime: runtimeOf, extensions: runControlRoutes });
  const pages: GatewayHook[] = [];
  const control: GatewayHook = async (req, res, requestId) => {
    if (await controlApi(req, res, requestId)) return true;
    for (const handle of pages) if (await handle(req, res, requestId)) return true;
    return false;
  };
  const access = (r: AccessRecord): void => {
    if (r.trace && telemetry.wantsSpans && keepTrace(r, r.trace)) telemetry.trace(accessTiming(r, r.trace));
    if (!telemetry.wantsInvocations) return;
    // The log always carries the user's stack (operators need it); responses carry it only in dev.
    const stack = r.error && 'userError' in r.error ? mapStack((r.error as InvocationError).userError?.stack, r.target?.sourceRoot) : undefined;
    // Built by assignment: this runs for every request, and spreads of optional parts allocate.
    const { level, billedDurationMs } = derivedFields(r.outcome, r.durationMs);
    const event: InvocationEvent = {
      time: r.time,
      requestId: r.requestId,
      trigger: 'http',
      method: r.method,
      path: r.path,
      status: r.status,
      outcome: r.outcome,
      durationMs: r.durationMs,
      level,
      billedDurationMs,
      bytesIn: r.bytesIn,
      bytesOut: r.bytesOut,
    };
    if (r.trace) event.traceId = r.trace.traceId;
    if (r.target) {
      event.function = r.target.functionName;
      event.version = r.target.version;
      event.memoryMb = r.target.limits.memoryMb;
    }
    if (r.experiments) event.experiments = r.experiments;
    if (r.invocation) {
      event.cpuMs = r.invocation.cpuMs;
      event.coldStart = r.invocation.coldStart;
      event.maxMemoryMB = r.invocation.maxMemoryMB;
      if (r.invocation.coldStart) event.startMs = r.invocation.startMs;
    }
    if (r.error && r.outcome !== 'no-route') {
      const fn = r.target?.functionName;
      event.error = { code: r.error.code, message: hide(fn, r.error.message), ...(stack ? { stack: hide(fn, stack) } : {}) };
    }
    telemetry.invocation(event);
  };
  const gatewayRoutes = new Map<string, GatewayHook>();
  const byPath: GatewayHook = (req, res, requestId) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const handle = gatewayRoutes.get(q === -1 ? url : url.slice(0, q));
    return handle ? handle(req, res, requestId) : Promise.resolve(false);
  };
  /** Installed only while some function must be forwarded: a second route match per request. */
  const toRegion: GatewayHook = async (req, res, requestId) => {
    if (gatewayRoutes.size > 0 && (await byPath(req, res, requestId))) return true;
    if (req.headers[FORWARDED_BY] !== undefined || !liveNodes) return false;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const match = table.match(req.method ?? 'GET', req.headers.host ?? 'localhost', q === -1 ? url : url.slice(0, q));
    const serving = match && forwarded.get(match.target.functionName);
    if (!match || !serving) return false;
    await forwardToRegion(req, res, requestId, { nodeName: options.name ?? '', region: serving, functionName: match.target.functionName, bodyLimit: match.target.limits.requestBodyBytes, liveNodes });
    return true;
  };
  server.on(
    'request',
    createGateway({
      dispatcher,
      routes: () => table,
      geo: { trustAll: dev, trustedProxies: new Set(options.trustedProxies ?? []), region },
      dev,
      control,
      preRoute: () => (forwarded.size > 0 ? toRegion : gatewayRoutes.size > 0 ? byPath : undefined),
      access,
      mapStack: (stack, target) => mapStack(stack, target.sourceRoot),
      tracing: () => (telemetry.wantsSpans ? sampler : undefined),
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  for (const a of active.values()) {
    for (const { runnable: r } of a.served.values()) {
      r.load.egress.denyHosts = denyHosts();
      r.load.host.gatewayUrl = `http://${host}:${port}`;
    }
  }

  const ctx: NodeContext = {
    store,
    logger,
    telemetry,
    dispatcher,
    deployments,
    dev,
    ...(options.s3Auth ? { s3Auth: true } : {}),
    region,
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    ...(options.observe ? { observe: options.observe } : {}),
    authorize: bearerAuth(tokens, dev),
    urls: { gateway: `http://${host}:${port}`, ...(awsApi ? { aws: awsApi.url } : {}) },
    functions: () => {
      const out = new Map<string, ActiveFunction>();
      for (const [name, a] of active) out.set(name, { name, version: a.version, key: a.runnable.key });
      return out;
    },
    onFunctionsChanged: (listener) => {
      changeListeners.add(listener);
      return () => changeListeners.delete(listener);
    },
    invoke: invokeEvent,
  };
  const running: RunningService[] = [];
  for (const service of SERVICES) {
    const r = await service.start(ctx);
    running.push(r);
    for (const route of r.gatewayRoutes ?? []) for (const path of route.paths) gatewayRoutes.set(path, route.handle);
    controlRoutes.push(...(r.controlRoutes ?? []));
    pages.push(...(r.pages ?? []));
    // S3 API requests count towards outpost_s3_operations_total, by HTTP method.
    for (const aws of r.aws ?? []) awsServices.push(aws.name === 's3' ? { ...aws, handle: (req, res, url) => (telemetry.operation('s3', (req.method ?? 'GET').toLowerCase()), aws.handle(req, res, url)) } : aws);
  }
  await blanks.warm();
  if (options.name !== undefined) {
    registry = new NodeRegistry({ meta: store.meta, self: { name: options.name, region, url: `http://${host}:${port}` } });
    await registry.start();
    const nodes = registry;
    liveNodes = cachedLiveNodes((r) => nodes.live(r));
  }

  return {
    url: `http://${host}:${port}`,
    awsUrl: awsApi?.url,
    port,
    deployments,
    tokens,
    settled: () => resync(),
    async close() {
      // Others would count this node live for three more heartbeats; say so, but close anyway.
      await registry?.close().catch((e: unknown) => logger.system('warn', `could not remove this node from the node registry: ${(e as Error).message}`));
      for (const r of running.reverse()) await r.close();
      await awsApi?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await dispatcher.close();
      await blanks.close();
      for (const i of probed.values()) await i.terminate();
    },
  };
}
