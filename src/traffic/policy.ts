/**
 * @module
 * Route policies: configuration the gateway applies around a function, never inside it (auth,
 * CORS, response caching, rate limits, experiments). A route's policies are compiled once per
 * deploy into an ordered list on its target; the gateway runs them in order before dispatch.
 * A route without policies pays nothing.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Outcome } from '../observe/telemetry.ts';

export interface PolicyRequest {
  readonly requestId: string;
  readonly method: string;
  readonly host: string;
  /** The path as the client sent it. */
  readonly path: string;
  /** The query string with its `?`, or ''. */
  readonly search: string;
  readonly headers: IncomingHttpHeaders;
  /** The client's address (after trusted proxies). */
  readonly ip: string;
  readonly functionName: string;
  /** What earlier policies' authorizers returned (JWT claims…), for later ones (rate limit keys). */
  readonly authorizer?: Record<string, unknown>;
}

/** A response the gateway sends instead of invoking the function. */
export interface PolicyReply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** How the request is logged (default: `rejected` for 4xx/5xx, `ok` otherwise). */
  outcome?: Outcome;
}

/** Sees the function's response once it is complete (the response cache stores it). */
export type ResponseObserver = (status: number, headers: string[], body: Uint8Array) => void;

export interface PolicyPass {
  /** Headers added to the request the function sees (claims, the A/B variant). */
  requestHeaders?: Array<[string, string]>;
  /** Headers added to the function's response (CORS). */
  responseHeaders?: Array<[string, string]>;
  /** What an API Gateway-style authorizer returned, for the Lambda event's requestContext.authorizer. */
  authorizer?: Record<string, unknown>;
  onResponse?: ResponseObserver;
  /** Dispatch to this version of the function instead of the route's (version splits, overrides). */
  version?: { key: string; version: number };
  /** A/B assignments of this request (experiment → variant), for its invocation record. */
  experiments?: Record<string, string>;
}

/** Before dispatch: answer now (`reply`), or let the request through, perhaps with additions. */
export type PolicyDecision = { reply: PolicyReply } | PolicyPass | undefined;

export interface RoutePolicy {
  readonly name: string;
  decide(request: PolicyRequest): PolicyDecision | Promise<PolicyDecision>;
}

/** The passes of every policy that let a request through, merged in order. */
export interface PolicyOutcome {
  reply?: PolicyReply;
  pass: Required<Pick<PolicyPass, 'requestHeaders' | 'responseHeaders'>> & Pick<PolicyPass, 'authorizer' | 'version' | 'experiments'> & { observers: ResponseObserver[] };
}

/** Runs `policies` in order; the first reply wins and the rest are not asked. */
export async function runPolicies(policies: readonly RoutePolicy[], request: PolicyRequest): Promise<PolicyOutcome> {
  const pass: PolicyOutcome['pass'] = { requestHeaders: [], responseHeaders: [], observers: [] };
  for (const policy of policies) {
    const decision = await policy.decide(pass.authorizer ? { ...request, authorizer: pass.authorizer } : request);
    if (!decision) continue;
    if ('reply' in decision) return { reply: decision.reply, pass };
    if (decision.requestHeaders) pass.requestHeaders.push(...decision.requestHeaders);
    if (decision.responseHeaders) pass.responseHeaders.push(...decision.responseHeaders);
    if (decision.authorizer) pass.authorizer = { ...pass.authorizer, ...decision.authorizer };
    if (decision.onResponse) pass.observers.push(decision.onResponse);
    if (decision.version) pass.version = decision.version;
    if (decision.experiments) pass.experiments = { ...pass.experiments, ...decision.experiments };
  }
  return { pass };
}
