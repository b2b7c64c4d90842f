/**
 * @module
 * Pre-warmed blank instances: worker threads that have already paid for Node's start-up and
 * the first Request/Response, waiting for a version to load. A cold start then costs only the
 * function's own module evaluation. Blanks are kept per memory limit, since a worker's heap
 * limit is fixed when it is created; sizes nobody uses are not kept warm.
 */
import { Instance } from '../runtime/instance.ts';

export interface BlankPoolOptions {
  /** Blanks kept ready per memory size in use (default 2). */
  size?: number;
  /** Memory sizes to keep warm from the start (default [128]). */
  warmSizes?: number[];
}

export class BlankPool {
  readonly #size: number;
  readonly #blanks = new Map<number, Instance[]>();
  #closed = false;

  constructor(options: BlankPoolOptions = {}) {
    this.#size = options.size ?? 2;
    for (const mb of options.warmSizes ?? [128]) this.#refill(mb);
  }

  /**
   * A ready (or readying) blank with this heap limit. The caller calls {@link replenish} once
   * the blank has loaded its version: starting a worker thread costs tens of milliseconds of
   * CPU, which must not compete with the cold start it is replacing the blank for.
   */
  take(memoryMb: number): Instance {
    const list = this.#blanks.get(memoryMb) ?? [];
    this.#blanks.set(memoryMb, list);
    return list.shift() ?? new Instance({ memoryMb });
  }

  /** Tops the pool for this memory size back up (after a take). */
  replenish(memoryMb: number): void {
    this.#refill(memoryMb);
  }

  /** Resolves when every blank currently in the pool is warm. */
  async warm(): Promise<void> {
    await Promise.all([...this.#blanks.values()].flat().map((i) => i.ready.catch(() => undefined)));
  }

  #refill(memoryMb: number): void {
    if (this.#closed) return;
    const list = this.#blanks.get(memoryMb) ?? [];
    this.#blanks.set(memoryMb, list);
    while (list.length < this.#size) {
      const blank = new Instance({ memoryMb });
      blank.ready.catch(() => {
        const i = list.indexOf(blank);
        if (i >= 0) list.splice(i, 1);
      });
      list.push(blank);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#blanks.values()].flat();
    this.#blanks.clear();
    await Promise.all(all.map((i) => i.terminate()));
  }
}
