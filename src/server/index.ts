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
import type { FunctionRecord, VersionRecord } from '../control/records.ts';
import { Tokens } from '../control/tokens.ts';
import { BlankPool, Dispatcher } from '../dispatch/index.ts';
import type { RunnableVersion } from '../dispatch/index.ts';
import { OutpostError } from '../errors.ts';
import { createGateway, RouteTable, tidyStack } from '../gateway/index.ts';
import type { AccessRecord, RouteTarget } from '../gateway/index.ts';
import type { Logger } from '../observe/logger.ts';
import { outcomeOf, Telemetry } from '../observe/telemetry.ts';
import type { Outcome, Trigger } from '../observe/telemetry.ts';
import type { RouteSpec } from '../project/spec.ts';
import type { Instance, InvocationError } from '../runtime/instance.ts';
import type { Store } from '../store/types.ts';
import { BufferSink } from './buffer-sink.ts';
import { StreamSink } from './stream-sink.ts';
import { startAwsApi } from '../aws/index.ts';
import type { AwsApi } from '../aws/index.ts';
import type { ActiveFunction, AwsService, GatewayHook, NodeContext, RunningService } from './context.ts';
import { SERVICES } from './services.ts';
import { compilePolicies, nodeState } from '../traffic/index.ts';
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
  trustedProxies?: string[];
  /** Verify S3 signatures in dev too (`--s3-auth`). */
  s3Auth?: boolean;
  /** Blank instances kept warm per memory size (default 2). */
  blankPoolSize?: number;
  /** The state directory (where `secrets.key` lives unless OUTPOST_SECRETS_KEY is set). */
  stateDir?: string;
  /** Bytes the Cache API may hold on this node (default 256 MiB); least recently used entries go first. */
  cacheMaxBytes?: number;
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

interface Active {
  fn: FunctionRecord;
  version: VersionRecord;
  runnable: RunnableVersion;
  /** Changes whenever the function's stored secrets change. */
  secretsFingerprint: string;
}

const TRIGGERS = new Set<string>(['http', 'cron', 'queue', 'object', 'kv', 'd1', 'async', 'workflow', 'invoke', 'service']);

/** The trigger an event invocation reports: what the caller named, else what its kind implies. */
function triggerOf(kind: string): Trigger {
  if (kind === 'scheduled') return 'cron';
  return TRIGGERS.has(kind) ? (kind as Trigger) : 'invoke';
}

export async function startNode(options: NodeOptions): Promise<OutpostNode> {
  const { store, logger, dev } = options;
  const telemetry = new Telemetry();
  if (!logger.quiet) telemetry.add(logger);
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
    const sink = new StreamSink();
    const requestId = crypto.randomUUID();
    const time = Date.now();
    const started = performance.now();
    const { record } = await dispatcher.http(
      a.runnable.key,
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
      },
      sink,
    );
    const head = await sink.response;
    // Logged when the callee's invocation is over, body included.
    void record.then(
      (r) => {
        if (telemetry.wantsInvocations) telemetry.invocation({ time, requestId, trigger: 'service', method: request.method, path: new URL(request.url).pathname, function: name, version: a.version.version, memoryMb: a.runnable.limits.memoryMb, status: head.status, outcome: 'ok', durationMs: performance.now() - started, cpuMs: r.cpuMs, coldStart: r.coldStart });
      },
      () => undefined,
    );
    return { status: head.status, headers: head.headers, body: head.body, ...(head.more ? { rest: sink } : {}) };
  };

  const runnable = (record: VersionRecord, bundlePath: string, stored: Record<string, string> = {}): RunnableVersion => {
    const m = record.manifest;
    // Stored secrets (outpost secret put) override .dev.vars ones of the same name.
    redactions.set(record.function, redactionList(m.secrets, stored));
    return {
      key: `${record.function}@${record.version}`,
      functionName: record.function,
      version: record.version,
      limits: m.limits,
      bindings: hostBindings(m.bindings, { store, now: Date.now, invokeHttp, cache }),
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
  const deployments = new Deployments(store, async (record, bundlePath) => {
    const candidate = runnable(record, bundlePath, (await vault.values(record.function)).values);
    try {
      probed.set(candidate.key, await dispatcher.probe(candidate));
    } catch (error) {
      const e = error as InvocationError;
      const where = tidyStack(e.userError?.stack, [record.sourceRoot]);
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
  let table = new RouteTable<RouteTarget>([]);
  const policyNode: PolicyNode = { state: nodeState(), invoke: (...args) => invokeEvent(...args), now: Date.now };

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
      for (const route of m.routes) {
        const policies = compilePolicies({ functionName: a.fn.name, manifest: m, route, node: policyNode });
        entries.push({ target: policies.length > 0 ? { ...target, policies } : target, route: anyCase ? { ...route, caseInsensitive: true } : route });
      }
      // Every function is reachable under /<name>/ with the prefix removed.
      entries.push({ target, route: { path: `/${a.fn.name}/*`, stripPrefix: `/${a.fn.name}`, event: { kind: 'fetch' } } });
      // Routes that only carry rules (outpost.toml [[route_rules]]) do not count as the function's own.
      if (m.routes.every((r) => r.policies !== undefined)) withoutRoutes.push(a);
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
      if (existing && existing.fn.active === fn.active && existing.secretsFingerprint === secrets.fingerprint) {
        next.set(fn.name, { ...existing, fn });
        continue;
      }
      const version = await store.meta.get<VersionRecord>(keys.version(fn.name, fn.active));
      const path = version && (await store.blobs.localPath(keys.bundle(version.value.digest)));
      if (!version || !path) {
        logger.system('error', `cannot serve ${fn.name}@${fn.active}: its version record or bundle is missing`);
        continue;
      }
      const r = runnable(version.value, path, secrets.values);
      // A secret changed: the running instances hold the old values, so they stop taking new
      // work (in-flight invocations finish) and the next invocation starts a fresh instance.
      if (existing && existing.runnable.key === r.key) dispatcher.retire(r.key);
      dispatcher.register(r);
      const instance = probed.get(r.key);
      if (instance) {
        probed.delete(r.key);
        dispatcher.adopt(r.key, instance);
      }
      next.set(fn.name, { fn, version: version.value, runnable: r, secretsFingerprint: secrets.fingerprint });
    }
    const previous = active;
    active = next;
    table = buildRoutes();
    // In-flight requests keep their instances; retired versions stop when those finish.
    for (const [name, a] of previous) if (next.get(name)?.runnable.key !== a.runnable.key) dispatcher.retire(a.runnable.key);
    for (const listener of changeListeners) listener();
  };
  const changeListeners = new Set<() => void>();

  let syncing: Promise<void> = Promise.resolve();
  const resync = (): Promise<void> => (syncing = syncing.then(sync, sync).catch((e: unknown) => logger.system('error', `route sync failed: ${(e as Error).message}`)));
  store.meta.watch(keys.functionPrefix, () => void resync());
  store.meta.watch(SecretVault.prefix, () => void resync());
  await resync();

  const invokeEvent: NodeContext['invoke'] = async (name, kind, payload, opts = {}) => {
    const a = active.get(name);
    if (!a) throw new OutpostError('FUNCTION_NOT_FOUND', `no function named ${name}`, { status: 404, fault: 'user' });
    const requestId = opts.requestId ?? crypto.randomUUID();
    const time = Date.now();
    const started = performance.now();
    const base = { time, requestId, trigger: triggerOf(opts.trigger ?? kind), function: name, version: a.version.version, memoryMb: a.runnable.limits.memoryMb };
    try {
      const { result, record } = await dispatcher.event(a.runnable.key, kind, payload, requestId);
      if (telemetry.wantsInvocations) telemetry.invocation({ ...base, status: 200, outcome: 'ok', durationMs: performance.now() - started, cpuMs: record.cpuMs, coldStart: record.coldStart, ...(record.coldStart ? { startMs: record.startMs } : {}) });
      return { requestId, result, record };
    } catch (error) {
      const e = error as InvocationError;
      if (telemetry.wantsInvocations) {
        const stack = tidyStack(e.userError?.stack, [a.version.sourceRoot]);
        telemetry.invocation({ ...base, status: e.status ?? 500, outcome: outcomeOf(e.code ?? 'ERROR'), durationMs: performance.now() - started, error: { code: e.code ?? 'ERROR', message: hide(name, e.message), ...(stack ? { stack: hide(name, stack) } : {}) } });
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
    const { record } = await dispatcher.http(
      a.runnable.key,
      {
        requestId,
        method: (r.method ?? (bytes ? 'POST' : 'GET')).toUpperCase(),
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
    const response = await sink.done;
    await record;
    return { requestId, ...response };
  };

  const runtimeOf = (name: string): { instances: number; inFlight: number } => {
    const a = active.get(name);
    return a ? dispatcher.stats(a.runnable.key) : { instances: 0, inFlight: 0 };
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
    if (!telemetry.wantsInvocations) return;
    // The log always carries the user's stack (operators need it); responses carry it only in dev.
    const stack = r.error && 'userError' in r.error ? tidyStack((r.error as InvocationError).userError?.stack, [r.target?.sourceRoot]) : undefined;
    telemetry.invocation({
      time: r.time,
      requestId: r.requestId,
      trigger: 'http',
      method: r.method,
      path: r.path,
      status: r.status,
      outcome: r.outcome,
      durationMs: r.durationMs,
      ...(r.target ? { function: r.target.functionName, version: r.target.version, memoryMb: r.target.limits.memoryMb } : {}),
      ...(r.invocation ? { cpuMs: r.invocation.cpuMs, coldStart: r.invocation.coldStart, ...(r.invocation.coldStart ? { startMs: r.invocation.startMs } : {}) } : {}),
      ...(r.error && r.outcome !== 'no-route' ? { error: { code: r.error.code, message: hide(r.target?.functionName, r.error.message), ...(stack ? { stack: hide(r.target?.functionName, stack) } : {}) } } : {}),
    });
  };
  const gatewayRoutes = new Map<string, GatewayHook>();
  const byPath: GatewayHook = (req, res, requestId) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const handle = gatewayRoutes.get(q === -1 ? url : url.slice(0, q));
    return handle ? handle(req, res, requestId) : Promise.resolve(false);
  };
  server.on(
    'request',
    createGateway({
      dispatcher,
      routes: () => table,
      geo: { trustAll: dev, trustedProxies: new Set(options.trustedProxies ?? []), region },
      dev,
      control,
      preRoute: () => (gatewayRoutes.size > 0 ? byPath : undefined),
      access,
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  for (const a of active.values()) {
    a.runnable.load.egress.denyHosts = denyHosts();
    a.runnable.load.host.gatewayUrl = `http://${host}:${port}`;
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
    awsServices.push(...(r.aws ?? []));
  }
  await blanks.warm();

  return {
    url: `http://${host}:${port}`,
    awsUrl: awsApi?.url,
    port,
    deployments,
    tokens,
    settled: () => resync(),
    async close() {
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
