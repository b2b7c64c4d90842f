/**
 * @module
 * What a node offers the capabilities that hang off it (event sources, workflows, the AWS
 * APIs, later metrics): the store, the one dispatch path, the active functions and a way to
 * invoke them. A capability is a {@link NodeService} listed in services.ts; it gets this context
 * at start and returns how to stop it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Deployments } from '../control/deployments.ts';
import type { VersionRecord } from '../control/records.ts';
import type { Dispatcher, InvocationRecord } from '../dispatch/index.ts';
import type { Logger } from '../observe/logger.ts';
import type { ObserveOptions } from '../observe/logs-service.ts';
import type { Telemetry } from '../observe/telemetry.ts';
import type { EventKind } from '../runtime/protocol.ts';
import type { Store } from '../store/types.ts';

/** A function as this node serves it right now. */
export interface ActiveFunction {
  name: string;
  version: VersionRecord;
  /** Dispatch key `<name>@<version>`. */
  key: string;
}

export interface InvokeResult {
  requestId: string;
  result: unknown;
  record: InvocationRecord;
  /** The version that ran (live's split may pick any of its versions). */
  version?: number;
}

export interface NodeContext {
  readonly store: Store;
  /** System messages (the terminal or JSON log). */
  readonly logger: Logger;
  /** Every invocation record and console line; services subscribe sinks here. */
  readonly telemetry: Telemetry;
  readonly dispatcher: Dispatcher;
  readonly deployments: Deployments;
  readonly dev: boolean;
  /** Verify SigV4 on the S3 API even in dev (`outpost dev --s3-auth`); serve always verifies. */
  readonly s3Auth?: boolean;
  readonly region: string;
  /** The node's state directory, when it has one (in-process nodes may not). */
  readonly stateDir?: string;
  /** Log retention and price tables (`outpost serve|dev` flags). */
  readonly observe?: ObserveOptions;
  /** The gateway's URL and, once listening, the AWS API's. */
  readonly urls: { gateway: string; aws?: string };
  /** True when `req` may use the node's private endpoints (a valid bearer token; loopback in dev). */
  authorize(req: IncomingMessage): Promise<boolean>;
  /** Active functions by name. */
  functions(): ReadonlyMap<string, ActiveFunction>;
  /** Called after every change of the active set (deploy, rollback, delete). */
  onFunctionsChanged(listener: () => void): () => void;
  /**
   * Runs an event invocation (cron tick, queue batch, direct invoke) of a function through
   * dispatch: `options.version` when given (VERSION_NOT_FOUND when it does not exist), else a
   * version drawn from its `live` alias by weight. Rejects with an InvocationError when the function throws or a
   * limit ends it; `error.userError` carries the function's own error name and message.
   */
  invoke(functionName: string, kind: EventKind, payload: unknown, options?: { requestId?: string; trigger?: string; version?: number }): Promise<InvokeResult>;
}

/** A request handler that answers (true) or passes (false). */
export type GatewayHook = (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<boolean>;

/**
 * Public endpoints on the gateway port that come before function routes (dev endpoints such as
 * /__scheduled). They are looked up by exact path, so they cost nothing on other requests.
 */
export interface GatewayRoute {
  paths: readonly string[];
  handle: GatewayHook;
}

/** A handler for one AWS-compatible API on the AWS port. */
export interface AwsService {
  name: string;
  /** True when the request belongs to this service (by x-amz-target, path or host). */
  matches(req: IncomingMessage, url: URL): boolean;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
}

export interface RunningService {
  /** Public endpoints on the gateway port, matched by exact path before function routes. */
  gatewayRoutes?: GatewayRoute[];
  /** Handlers for `/_outpost/api/…` paths the control API does not know, after its auth. */
  controlRoutes?: GatewayHook[];
  /**
   * Handlers for other `/_outpost/…` paths on the gateway port (metrics, the dashboard), tried
   * after the control API. They are not behind its auth: each checks `ctx.authorize` as it needs.
   */
  pages?: GatewayHook[];
  /** APIs served on the AWS port. */
  aws?: AwsService[];
  close(): Promise<void>;
}

export interface NodeService {
  name: string;
  /** Serves APIs on the AWS port (the port opens only when some service does). */
  servesAws?: boolean;
  start(ctx: NodeContext): Promise<RunningService> | RunningService;
}
