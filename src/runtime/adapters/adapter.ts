/**
 * @module
 * What every handler style implements inside the instance. An adapter turns the platform's
 * shape (Workers' `fetch(request, env, ctx)`, Lambda's `handler(event, context)`, …) into one
 * internal invocation: a Request in and a Response out for HTTP, an event in and a result out
 * for everything else. Platform types stay in the adapter files.
 */
import type { BindingSpec, HttpEventShape } from '../../project/spec.ts';
import type { EventKind, LogLevel, RequestMeta } from '../protocol.ts';

export interface AdapterSetup {
  functionName: string;
  version: number;
  handlerExport: string;
  /** vars, secrets and binding objects, by name. */
  env: Record<string, unknown>;
  /** Plain string variables only (vars and secrets): what Node styles see as process.env. */
  variables: Record<string, string>;
  bindings: readonly BindingSpec[];
  platform: Record<string, string>;
  dev: boolean;
  /** The instance's memory limit (MB), for platforms that report it (Lambda's memoryLimitInMB). */
  memoryMb?: number;
  /** Facts about the node (region, AWS endpoint, gateway URL) a platform exposes to its functions. */
  host?: { region: string; awsEndpoint?: string; gatewayUrl: string };
}

export interface InvocationContext {
  requestId: string;
  /** Aborted when the client goes away or a limit ends the invocation. */
  signal: AbortSignal;
  /** Epoch ms at which the wall-time limit ends the invocation. */
  deadline: number;
  waitUntil(promise: unknown): void;
  passThroughOnException(): void;
  /**
   * Resolves once the function has no pending timers or immediates left (or the deadline
   * passed): Lambda's `callbackWaitsForEmptyEventLoop`. Open sockets do not count.
   */
  untilIdle?(): Promise<void>;
}

export interface HttpInvocation {
  meta: RequestMeta;
  event: HttpEventShape;
  params: Record<string, string>;
  /** Request headers as received, flat `[name, value, …]` with lower-case names (repeats kept). */
  rawHeaders?: readonly string[];
  /** What the route's authorizer returned (flat Lambda authorizer context, or `{ jwt: { claims, scopes } }`). */
  authorizer?: Record<string, unknown>;
}

export interface Adapter {
  fetch(request: Request, http: HttpInvocation, ctx: InvocationContext): Promise<Response>;
  event(kind: EventKind, payload: unknown, ctx: InvocationContext): Promise<unknown>;
}

/** Raised for a module that loads but does not have the shape its style needs. */
export class HandlerShapeError extends Error {
  readonly code = 'INVALID_HANDLER';
  constructor(message: string) {
    super(message);
    this.name = 'HandlerShapeError';
  }
}

export interface AdapterFactory {
  /**
   * The Request class the function receives (default: Request). A platform whose handlers get
   * a Request subclass (Next.js's NextRequest) names it here, so the instance builds it once
   * instead of the adapter copying every request into it.
   */
  requestClass?: new (input: string, init: RequestInit) => Request;
  /** Runs before the bundle is imported (styles that register handlers as globals install them here). */
  prepare?(setup: AdapterSetup): void;
  create(module: Record<string, unknown>, setup: AdapterSetup): Adapter;
  /** Variables the platform's runtime sets for every function (Lambda's AWS_REGION…); the function's own vars win. */
  environment?(setup: AdapterSetup): Record<string, string>;
  /** How the platform's runtime prints a console line (Lambda: `time\trequestId\tLEVEL\tmessage`). */
  formatLog?(level: LogLevel, message: string, requestId: string | undefined): string;
}

/** Thrown by an adapter when an event kind is not something its style can receive. */
export function unsupportedEvent(style: string, kind: EventKind): Error {
  return new HandlerShapeError(`a ${style} function cannot receive ${kind} events`);
}
