/**
 * @module
 * Token buckets per key, the rate-limit model API Gateway and Cloudflare use: `rate` tokens a
 * second refill up to `burst`; a request takes one. Buckets are refilled lazily on use, so an
 * idle key costs nothing but its entry, and the least recently used keys are dropped past
 * `maxKeys`.
 */
export interface BucketConfig {
  /** Tokens added per second. */
  rate: number;
  /** Bucket size: the most requests allowed at once after idling. */
  burst: number;
}

export interface TakeResult {
  allowed: boolean;
  /** Tokens left after this request. */
  remaining: number;
  /** Seconds until a token is available again (0 when allowed). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  readonly #config: BucketConfig;
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxKeys: number;
  readonly #now: () => number;

  constructor(config: BucketConfig, options: { maxKeys?: number; now?: () => number } = {}) {
    this.#config = config;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  take(key: string, cost = 1): TakeResult {
    const now = this.#now();
    const { rate, burst } = this.#config;
    let bucket = this.#buckets.get(key);
    if (bucket) {
      this.#buckets.delete(key); // re-inserted below: the map's order is least recently used first
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
      bucket.at = now;
    } else {
      bucket = { tokens: burst, at: now };
      if (this.#buckets.size >= this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value as string);
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { allowed: true, remaining: Math.floor(bucket.tokens), retryAfterSeconds: 0 };
    }
    const wait = rate > 0 ? (cost - bucket.tokens) / rate : Infinity;
    return { allowed: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil(wait)) };
  }
}
