/**
 * @module
 * Compiles a route's traffic configuration into the policies the gateway runs for it. Each
 * kind of policy is one factory in {@link POLICY_FACTORIES}, asked in order for every route at
 * deploy time; a factory returns nothing when the route does not configure it.
 */
import type { FunctionManifest } from '../control/records.ts';
import type { NodeContext } from '../server/context.ts';
import type { RouteSpec } from '../project/spec.ts';
import type { MetaStore } from '../store/types.ts';
import { apiKeyFactory } from './api-keys.ts';
import type { RoutePolicy } from './policy.ts';
import { corsFactory } from './cors.ts';
import { jwtFactory } from './jwt.ts';
import { lambdaAuthorizerFactory } from './lambda-authorizer.ts';
import { rateLimitPolicy } from './rate-limit.ts';
import { responseCachePolicy } from './response-cache.ts';

export type { PolicyDecision, PolicyReply, PolicyRequest, RoutePolicy } from './policy.ts';

/** What policies get from the node. */
export interface PolicyNode {
  /**
   * Node-lifetime state a policy keeps across redeploys (token buckets, cached responses,
   * fetched JWKS), created on first use under `key`.
   */
  state<T>(key: string, create: () => T): T;
  /** Invokes a function (Lambda authorizers). */
  invoke: NodeContext['invoke'];
  now(): number;
  /** The node's meta store (API keys created on the node); absent in unit tests. */
  meta?: MetaStore;
  /** True when `token` is one of the node's control API tokens (who may invalidate cached responses). */
  verifyToken?(token: string): Promise<boolean>;
}

export interface PolicyScope {
  functionName: string;
  manifest: FunctionManifest;
  route: RouteSpec;
  node: PolicyNode;
  /** The function's vars and secrets as it sees them (stored secrets included): where a JWT authorizer's HMAC secret is read. */
  env?: Readonly<Record<string, string>>;
}

export type PolicyFactory = (scope: PolicyScope) => RoutePolicy | undefined;

/** In the order they run on a request. */
export const POLICY_FACTORIES: PolicyFactory[] = [corsFactory, jwtFactory, lambdaAuthorizerFactory, apiKeyFactory, rateLimitPolicy, responseCachePolicy];

/** The policies `route` configures, in order; empty for a route that configures none. */
export function compilePolicies(scope: PolicyScope): RoutePolicy[] {
  const out: RoutePolicy[] = [];
  for (const factory of POLICY_FACTORIES) {
    const policy = factory(scope);
    if (policy) out.push(policy);
  }
  return out;
}

/** A {@link PolicyNode.state} backed by one map for the node's lifetime. */
export function nodeState(): PolicyNode['state'] {
  const states = new Map<string, unknown>();
  return <T>(key: string, create: () => T): T => {
    if (!states.has(key)) states.set(key, create());
    return states.get(key) as T;
  };
}
