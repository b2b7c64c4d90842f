/**
 * @module
 * The Workers Rate Limiting binding a function sees on `env`: `limit({ key })` resolves to
 * `{ success }`. Runs inside the isolate (Web APIs only); the host owns the counters and the
 * binding's limit, so a function cannot change either.
 */
import type { Rpc } from '../rpc.ts';

export function createRateLimiter(binding: string, rpc: Rpc): object {
  return {
    async limit(options: unknown): Promise<{ success: boolean }> {
      const key = typeof options === 'object' && options !== null ? (options as { key?: unknown }).key : undefined;
      if (typeof key !== 'string') throw new TypeError('limit() expects an options object with a string `key`, e.g. limit({ key: userId })');
      return { success: (await rpc(binding, 'limit', [key])) === true };
    },
  };
}
