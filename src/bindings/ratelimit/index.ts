/**
 * @module
 * The host side of the Workers Rate Limiting binding (wrangler `[[ratelimits]]`): each
 * `limit({ key })` takes one token from `key`'s bucket in the binding's namespace; it succeeds
 * while the key has made no more than `limit` requests in the last `period` seconds.
 *
 * Decisions:
 * - Counters belong to the namespace (`namespace_id`), not to a function: every function bound
 *   to the same namespace on a node draws on the same counts, as on Cloudflare, where they are
 *   shared within a location. The limit and period are part of the namespace's identity here,
 *   so two bindings that name one namespace with different limits count separately.
 * - A token bucket (`limit` tokens, refilled at `limit / period` a second) rather than fixed
 *   windows: the same allowance, without a window edge where twice the limit gets through.
 *   Cloudflare documents its counts as approximate, so either is faithful.
 * - The counters live in memory as long as the node's store object (one per node): a restart
 *   forgets them, as it would forget a location's counts.
 */
import type { BindingSpec } from '../../project/spec.ts';
import { TokenBuckets } from '../../traffic/token-bucket.ts';
import type { HostBinding } from '../rpc.ts';

/** Token buckets per namespace (and limit) on one node. */
export class RateLimitNamespaces {
  readonly #namespaces = new Map<string, TokenBuckets>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** The buckets of `namespace` for bindings with this `limit` per `periodSeconds`. */
  buckets(namespace: string, limit: number, periodSeconds: number): TokenBuckets {
    const id = `${namespace}\n${limit}\n${periodSeconds}`;
    let buckets = this.#namespaces.get(id);
    if (!buckets) this.#namespaces.set(id, (buckets = new TokenBuckets({ rate: limit / periodSeconds, burst: limit }, { now: this.#now })));
    return buckets;
  }
}

/** One set of namespaces per node, found from the node's store (every binding of a node shares it). */
const NODE_NAMESPACES = new WeakMap<object, RateLimitNamespaces>();

export function nodeRateLimits(node: object, now: () => number): RateLimitNamespaces {
  let namespaces = NODE_NAMESPACES.get(node);
  if (!namespaces) NODE_NAMESPACES.set(node, (namespaces = new RateLimitNamespaces(now)));
  return namespaces;
}

export function rateLimitHost(namespaces: RateLimitNamespaces, spec: BindingSpec): HostBinding {
  if (spec.type !== 'ratelimit') throw new TypeError(`${spec.name} is not a rate limiting binding`);
  const buckets = namespaces.buckets(spec.namespace, spec.limit, spec.periodSeconds);
  return async (method, args) => {
    if (method !== 'limit') throw new TypeError(`the rate limiting binding has no method ${method}`);
    return buckets.take(String(args[0])).allowed;
  };
}
