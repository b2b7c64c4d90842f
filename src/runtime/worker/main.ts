/**
 * @module
 * The entry point of an instance: a worker thread that starts blank (pre-warmed, waiting in
 * the pool), then loads one function version and serves its invocations until the host stops
 * it. Everything privileged is captured here before user code runs; see harden.ts for what the
 * function can reach afterwards.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parentPort, resourceLimits } from 'node:worker_threads';
import { ADAPTERS } from '../adapters/index.ts';
import type { Adapter, AdapterSetup, InvocationContext } from '../adapters/index.ts';
import { CACHE_BINDING, createBindings, createCaches } from '../../bindings/guest.ts';
import type { EventMessage, HostToInstance, HttpMessage, InstanceToHost, LoadMessage, LogLevel, TraceContext, Usage, WireError } from '../protocol.ts';
import { TRACE_BINDING } from '../protocol.ts';
import { tracedBindingCall, tracedFetch } from './trace.ts';
import type { InstanceSpan } from './trace.ts';
import { Batcher, decode } from '../batcher.ts';
import type { Packet } from '../batcher.ts';
import { RequestBodies, ResponseCredits, sendResponse } from './bodies.ts';
import { append, SafeMap } from './safe-map.ts';
import { checkEgress, EgressDenied, guardSockets } from './egress.ts';
import type { EgressPolicy } from './egress.ts';
import { fenceProcess, restrictImports, stripNodeGlobals } from './harden.ts';

if (!parentPort) throw new Error('the instance runtime must run in a worker thread');
const port = parentPort;
// Captured once: later lookups through prototypes could be redirected by user code.
const postRaw = port.postMessage.bind(port);
const out = new Batcher<InstanceToHost>((batch, transfer) => postRaw(batch, transfer as never));
const post = (message: InstanceToHost, transfer?: Transferable[]): void => out.post(message, transfer);
const threadCpu = process.threadCpuUsage.bind(process);
const setSourceMaps = process.setSourceMapsEnabled.bind(process);
const hostFetch = globalThis.fetch;
const activeResources = process.getActiveResourcesInfo.bind(process);
const hostSetTimeout = globalThis.setTimeout;
const hostSetImmediate = globalThis.setImmediate;
const hostConsole = globalThis.console;
const now = Date.now;

interface Invocation {
  /** Created on first use: most functions never look at request.signal. */
  controller: AbortController | undefined;
  abortReason: unknown;
  id: number;
  requestId: string;
  startCpu: NodeJS.CpuUsage;
  /** Usage was reported with the response; nothing is left to report. */
  reported: boolean;
  waitUntil: Promise<unknown>[];
  subrequests: number;
  passThrough: boolean;
  aborted: boolean;
  /** Set when the host traces this invocation; `spans` collects what it timed until reported. */
  trace: TraceContext | undefined;
  spans: InstanceSpan[] | undefined;
}

const current = new AsyncLocalStorage<Invocation>();
const invocations = new SafeMap<number, Invocation>();
const requestBodies = new RequestBodies(post);
const credits = new ResponseCredits();
const rpcWaiting = new SafeMap<number, { resolve(v: unknown): void; reject(e: Error): void }>();
let rpcSeq = 0;
let adapter: Adapter | undefined;
let subrequestLimit = 1000;
let egress: EgressPolicy = { allowPrivate: false, denyHosts: [] };
/** Names of the version's service bindings: their fetch calls carry traceparent. */
let serviceBindings = new Set<string>();

function toWire(error: unknown): WireError {
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}), ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: typeof error === 'string' ? error : JSON.stringify(error) ?? String(error) };
}

function fromWire(error: WireError): Error {
  const e = new Error(error.message);
  e.name = error.name;
  if (error.code !== undefined) (e as Error & { code: string }).code = error.code;
  return e;
}

/** Calls a binding method on the host for the current invocation (a span when it is traced). */
function rpc(binding: string, method: string, args: unknown[]): Promise<unknown> {
  const inv = current.getStore();
  if (inv?.trace) return tracedBindingCall(binding, method, args, serviceBindings.has(binding), inv.trace, inv.spans, (sent) => hostCall(inv.id, binding, method, sent));
  return hostCall(inv?.id ?? 0, binding, method, args);
}

function hostCall(invocation: number, binding: string, method: string, args: unknown[]): Promise<unknown> {
  const callId = ++rpcSeq;
  return new Promise((resolve, reject) => {
    rpcWaiting.set(callId, { resolve, reject });
    post({ t: 'rpc', callId, invocation, binding, method, args });
  });
}

/** Sends the spans the invocation timed so far to the host; nothing waits for the answer. */
function reportSpans(inv: Invocation): void {
  if (!inv.spans || inv.spans.length === 0) return;
  const spans = inv.spans;
  inv.spans = [];
  hostCall(inv.id, TRACE_BINDING, 'spans', [spans]).catch(() => undefined);
}

type LineFormat = (level: LogLevel, message: string, requestId: string | undefined) => string;

function installConsole(line: LineFormat | undefined): void {
  const format = (args: unknown[]): string =>
    args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? (a.stack ?? String(a)) : safeJson(a))).join(' ');
  const make = (level: LogLevel) => (...args: unknown[]) => {
    const inv = current.getStore();
    const text = format(args);
    post({ t: 'log', invocation: inv?.id ?? 0, level, message: line ? line(level, text, inv?.requestId) : text });
  };
  const c = hostConsole as unknown as Record<string, unknown>;
  for (const level of ['debug', 'info', 'log', 'warn', 'error'] as const) c[level] = make(level);
  c['trace'] = make('debug');
}

function safeJson(value: unknown): string {
  try {
    return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  } catch {
    return String(value);
  }
}

function installFetch(): void {
  const guarded = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const inv = current.getStore();
    if (inv) {
      inv.subrequests++;
      if (inv.subrequests > subrequestLimit) {
        throw Object.assign(new Error(`Too many subrequests: this invocation made more than ${subrequestLimit} fetch() calls`), { code: 'SUBREQUEST_LIMIT' });
      }
    }
    await checkEgress(new URL(request.url), egress);
    if (inv?.trace) return tracedFetch(request, inv.trace, inv.spans, hostFetch);
    return hostFetch(request);
  };
  Object.defineProperty(globalThis, 'fetch', { value: guarded, writable: true, configurable: true, enumerable: true });
}

async function load(message: LoadMessage): Promise<void> {
  subrequestLimit = message.subrequestLimit;
  egress = message.egress;
  serviceBindings = new Set(message.bindings.filter((b) => b.type === 'service').map((b) => b.name));
  const factory = ADAPTERS[message.style];
  if (!factory) throw Object.assign(new Error(`handler style ${message.style} is not supported yet`), { code: 'UNSUPPORTED_STYLE' });
  const bindings = createBindings(message.bindings, rpc);
  const setup: AdapterSetup = {
    functionName: message.functionName,
    version: message.version,
    handlerExport: message.handlerExport,
    env: { ...message.vars, ...bindings },
    variables: message.vars,
    bindings: message.bindings,
    platform: message.platform,
    dev: message.dev,
    host: message.host,
    ...(resourceLimits.maxOldGenerationSizeMb ? { memoryMb: resourceLimits.maxOldGenerationSizeMb } : {}),
  };
  setSourceMaps(true);
  installConsole(factory.formatLog?.bind(factory));
  installFetch();
  const bundleUrl = pathToFileURL(message.bundlePath).href;
  restrictImports({ nodeCompat: message.nodeCompat, bundleUrl });
  if (message.nodeCompat) {
    fenceProcess();
    guardSockets(message.egress);
    // process.env holds the function's own variables (and its platform's reserved ones) only.
    for (const key of Object.keys(process.env)) delete process.env[key];
    Object.assign(process.env, factory.environment?.(setup) ?? {}, message.vars);
    // CommonJS code bundled to ESM calls require() for Node built-ins; the import hooks above
    // still decide what it may load (denied built-ins and other files are refused).
    Object.defineProperty(globalThis, 'require', { value: createRequire(bundleUrl), writable: true, configurable: true, enumerable: false });
  } else {
    stripNodeGlobals(message.style === 'workers-module' || message.style === 'service-worker' ? 'Cloudflare-Workers' : 'Outpost');
  }
  // The Cache API (caches.default / caches.open) is a global on Workers, not a binding.
  if (message.style === 'workers-module' || message.style === 'service-worker') Object.defineProperty(globalThis, 'caches', { value: createCaches(CACHE_BINDING, rpc), writable: true, configurable: true, enumerable: false });
  if (factory.requestClass) IncomingRequest = incomingRequestClass(factory.requestClass);
  factory.prepare?.(setup);
  const module = (await import(bundleUrl)) as Record<string, unknown>;
  adapter = factory.create(module, setup);
}

function startInvocation(id: number, requestId: string, trace: TraceContext | undefined): Invocation {
  const inv: Invocation = { id, requestId, startCpu: threadCpu(), reported: false, controller: undefined, abortReason: undefined, waitUntil: [], subrequests: 0, passThrough: false, aborted: false, trace, spans: trace?.sampled ? [] : undefined };
  invocations.set(id, inv);
  return inv;
}

function signalOf(inv: Invocation): AbortSignal {
  if (!inv.controller) {
    inv.controller = new AbortController();
    if (inv.aborted) inv.controller.abort(inv.abortReason);
  }
  return inv.controller.signal;
}

/**
 * The Request a function receives. It is a real Request (instanceof holds, every method
 * works); only `signal` is created on first access, which saves an AbortController and a
 * listener on every request that never asks for it.
 */
function incomingRequestClass(base: new (input: string, init: RequestInit) => Request): new (url: string, init: RequestInit, inv: Invocation) => Request {
  return class IncomingRequest extends base {
    readonly #inv: Invocation;
    constructor(url: string, init: RequestInit, inv: Invocation) {
      super(url, init);
      this.#inv = inv;
    }
    override get signal(): AbortSignal {
      return signalOf(this.#inv);
    }
  };
}

/** Set at load: the adapter's Request class (or Request) with the lazy signal. */
let IncomingRequest = incomingRequestClass(Request);

function contextFor(inv: Invocation, requestId: string, deadline: number): InvocationContext {
  return {
    requestId,
    get signal() {
      return signalOf(inv);
    },
    deadline,
    waitUntil: (p) => append(inv.waitUntil, Promise.resolve(p)),
    passThroughOnException: () => void (inv.passThrough = true),
    untilIdle: () => untilIdle(deadline),
  };
}

/** Resources that do not keep a Lambda invocation open: sockets (pools, keep-alive) and the host channel. */
const NOT_WAITED = new Set(['TCPSocketWrap', 'TCPWRAP', 'TLSWrap', 'PipeWrap', 'TTYWrap', 'UDPWrap', 'MessagePort', 'TCPServerWrap']);

/** Resolves when no timers, immediates or pending requests are left in the isolate, or at `deadline`. */
async function untilIdle(deadline: number): Promise<void> {
  for (;;) {
    await new Promise<void>((resolve) => hostSetImmediate(resolve));
    if (now() >= deadline || !activeResources().some((r) => !NOT_WAITED.has(r))) return;
    await new Promise<void>((resolve) => hostSetTimeout(resolve, 2).unref());
  }
}

function usage(inv: Invocation): Usage {
  const cpu = threadCpu(inv.startCpu);
  return { cpuMicros: cpu.user + cpu.system, subrequests: inv.subrequests };
}

/** Ends the invocation now if no waitUntil work is pending; returns its usage then. */
function completeIfIdle(inv: Invocation): Usage | undefined {
  if (inv.waitUntil.length > 0) return undefined;
  reportSpans(inv);
  inv.reported = true;
  invocations.delete(inv.id);
  return usage(inv);
}

async function finish(inv: Invocation): Promise<void> {
  if (inv.reported) return;
  // waitUntil work may add more waitUntil work; wait until the list stops growing.
  for (let seen = 0; seen < inv.waitUntil.length; ) {
    const batch: Promise<unknown>[] = [];
    for (let i = seen; i < inv.waitUntil.length; i++) append(batch, inv.waitUntil[i] as Promise<unknown>);
    seen = inv.waitUntil.length;
    const results = await Promise.allSettled(batch);
    for (const r of results) if (r.status === 'rejected') post({ t: 'log', invocation: inv.id, level: 'error', message: `waitUntil: ${toWire(r.reason).stack ?? toWire(r.reason).message}` });
  }
  invocations.delete(inv.id);
  reportSpans(inv);
  post({ t: 'done', id: inv.id, ...usage(inv) });
}

async function serveHttp(message: HttpMessage): Promise<void> {
  const inv = startInvocation(message.id, message.requestId, message.trace);
  await current.run(inv, async () => {
    try {
      if (!adapter) throw new Error('instance not loaded');
      const headers = new Headers();
      for (let i = 0; i < message.headers.length; i += 2) headers.append(message.headers[i] as string, message.headers[i + 1] as string);
      const init: RequestInit & { duplex?: 'half' } = { method: message.method, headers };
      if (message.body === 'inline') init.body = (message.bytes ?? null) as BodyInit | null;
      else if (message.body === 'stream') {
        init.body = requestBodies.stream(message.id);
        init.duplex = 'half';
      }
      const request = new IncomingRequest(message.url, init, inv);
      const response = await adapter.fetch(request, { meta: message.meta, event: message.event, params: message.params, rawHeaders: message.headers, ...(message.authorizer ? { authorizer: message.authorizer } : {}) }, contextFor(inv, message.requestId, message.deadline));
      await sendResponse(message.id, response, post, credits, () => inv.aborted, () => completeIfIdle(inv));
    } catch (error) {
      post({ t: 'error', id: message.id, error: toWire(error), ...(inv.passThrough ? { passThrough: true } : {}) });
    }
  });
  await finish(inv);
}

async function serveEvent(message: EventMessage): Promise<void> {
  const inv = startInvocation(message.id, message.requestId, message.trace);
  await current.run(inv, async () => {
    try {
      if (!adapter) throw new Error('instance not loaded');
      const value = await adapter.event(message.kind, message.payload, contextFor(inv, message.requestId, message.deadline));
      post({ t: 'result', id: message.id, value });
    } catch (error) {
      post({ t: 'error', id: message.id, error: toWire(error) });
    }
  });
  await finish(inv);
}

port.on('message', (packet: Packet) => {
  for (const message of decode<HostToInstance>(packet)) receive(message);
});

function receive(message: HostToInstance): void {
  switch (message.t) {
    case 'http':
      void serveHttp(message);
      return;
    case 'event':
      void serveEvent(message);
      return;
    case 'req-chunk':
      requestBodies.chunk(message.id, message.data);
      return;
    case 'req-end':
      requestBodies.chunk(message.id, null);
      return;
    case 'req-error':
      requestBodies.fail(message.id, message.message);
      return;
    case 'ack':
      credits.ack(message.id);
      return;
    case 'abort': {
      const inv = invocations.get(message.id);
      if (inv) {
        inv.aborted = true;
        inv.abortReason = new DOMException(message.reason, 'AbortError');
        inv.controller?.abort(inv.abortReason);
      }
      return;
    }
    case 'rpc-result':
    case 'rpc-error': {
      const waiter = rpcWaiting.get(message.callId);
      rpcWaiting.delete(message.callId);
      if (message.t === 'rpc-result') waiter?.resolve(message.value);
      else waiter?.reject(fromWire(message.error));
      return;
    }
    case 'load':
      load(message).then(
        () => post({ t: 'loaded' }),
        (error: unknown) => post({ t: 'load-error', error: toWire(error) }),
      );
      return;
  }
}

/** The first Request/Response/URL in a fresh isolate costs tens of ms; pay it before we are needed. */
async function warm(): Promise<void> {
  const request = new Request('http://warm.invalid/path?q=1', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
  await request.text();
  await new Response('warm', { headers: { 'x-a': 'b' } }).text();
  Response.json({ a: 1 });
  new URL('http://warm.invalid/').searchParams.get('q');
  new TextEncoder().encode('x');
  new TextDecoder().decode(new Uint8Array(1));
  void new AbortController().signal;
  void now();
  void EgressDenied;
}

await warm();
post({ t: 'ready' });
