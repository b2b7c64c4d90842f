/**
 * @module
 * The messages between the host (gateway/dispatch on the main thread) and one instance (a
 * worker thread running one function version). Plain structured-clone data only: Web types
 * are rebuilt on each side, which is what keeps `instanceof` honest inside the function.
 *
 * Bodies stream: request bodies are pulled by the instance chunk by chunk; response bodies are
 * pushed with a small credit window the host refills as the socket drains.
 */
import type { BindingSpec, HandlerStyle, HttpEventShape } from '../project/spec.ts';

/** An error as it crosses the thread boundary. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** Outpost error code when the runtime (not user code) raised it. */
  code?: string;
}

export interface LoadMessage {
  t: 'load';
  functionName: string;
  version: number;
  style: HandlerStyle;
  handlerExport: string;
  bundlePath: string;
  /** vars and secrets together; the function sees them on `env` (or process.env for Node styles). */
  vars: Record<string, string>;
  secretNames: string[];
  bindings: BindingSpec[];
  nodeCompat: boolean;
  subrequestLimit: number;
  /** Hosts/CIDRs outbound fetch may reach besides the public internet (dev: loopback allowed). */
  egress: { allowPrivate: boolean; denyHosts: string[]; allowHosts?: string[] };
  platform: Record<string, string>;
  dev: boolean;
  /** Facts about the node a function's platform exposes (AWS_ENDPOINT_URL, AWS_REGION…). */
  host: { region: string; awsEndpoint?: string; gatewayUrl: string };
}

/** Request metadata the gateway computed once (geo, client ip). */
export interface RequestMeta {
  ip: string;
  cf: Record<string, string | number>;
}

export interface HttpMessage {
  t: 'http';
  id: number;
  requestId: string;
  method: string;
  url: string;
  /** Flat [name, value, name, value…] as received, lower-case names. */
  headers: string[];
  /** 'none': no body; 'inline': all of it in `bytes`; 'stream': pull with `pull` messages. */
  body: 'none' | 'inline' | 'stream';
  bytes?: Uint8Array;
  meta: RequestMeta;
  event: HttpEventShape;
  /** Path parameters the router extracted. */
  params: Record<string, string>;
  /** What the route's authorizer returned (JWT claims, a Lambda authorizer's context). */
  authorizer?: Record<string, unknown>;
  /** Set when the invocation is traced: the function's fetches carry this trace onwards. */
  trace?: TraceContext;
  deadline: number;
}

/** The trace an invocation belongs to and its handler span, the parent of what the function does. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  /** False: pass the trace on (flags 00) but time nothing. */
  sampled: boolean;
  /** The caller's `tracestate`, passed on unchanged. */
  tracestate?: string;
}

/**
 * The binding name an instance reports its spans (subrequests, binding calls) on, once per
 * invocation, through the ordinary binding call path.
 */
export const TRACE_BINDING = '__outpost_trace';

export type EventKind = 'scheduled' | 'queue' | 'invoke';

export interface EventMessage {
  t: 'event';
  id: number;
  requestId: string;
  kind: EventKind;
  payload: unknown;
  trace?: TraceContext;
  deadline: number;
}

export type HostToInstance =
  | LoadMessage
  | HttpMessage
  | EventMessage
  | { t: 'req-chunk'; id: number; data: Uint8Array }
  | { t: 'req-end'; id: number }
  | { t: 'req-error'; id: number; message: string }
  | { t: 'ack'; id: number }
  | { t: 'abort'; id: number; reason: string }
  | { t: 'rpc-result'; callId: number; value: unknown }
  | { t: 'rpc-error'; callId: number; error: WireError };

export type InstanceToHost =
  | { t: 'ready' }
  | { t: 'loaded' }
  | { t: 'load-error'; error: WireError }
  | { t: 'pull'; id: number }
  /** `done` is set when the invocation finished with this message (no waitUntil work left), saving a message. */
  | { t: 'head'; id: number; status: number; headers: string[]; body: Uint8Array | null; more: boolean; done?: Usage }
  | { t: 'chunk'; id: number; data: Uint8Array }
  | { t: 'end'; id: number }
  | { t: 'result'; id: number; value: unknown }
  | { t: 'error'; id: number; error: WireError; passThrough?: boolean }
  /** Every waitUntil promise of the invocation settled; cpu is the instance's thread CPU in µs. */
  | ({ t: 'done'; id: number } & Usage)
  | { t: 'rpc'; callId: number; invocation: number; binding: string; method: string; args: unknown[] }
  | { t: 'log'; invocation: number; level: LogLevel; message: string };

export interface Usage {
  /** Thread CPU time during the invocation (µs; includes concurrent invocations' share). */
  cpuMicros: number;
  subrequests: number;
}

export type LogLevel = 'debug' | 'info' | 'log' | 'warn' | 'error';

/** Error codes a limit raises; each maps to a status in the gateway. */
export const LIMIT_CODES = ['EXCEEDED_CPU', 'EXCEEDED_MEMORY', 'TIMEOUT', 'STARTUP_EXCEEDED', 'INSTANCE_CRASHED'] as const;
export type LimitCode = (typeof LIMIT_CODES)[number];
