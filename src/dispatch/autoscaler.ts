/**
 * @module
 * How many instances one version should have, in Knative's KPA model. Dispatch samples the
 * version's demand (invocations admitted and not finished: running or waiting for a slot) on
 * its watchdog tick; this module averages the samples over a stable window (60 s) and a panic
 * window (6 s) and turns them into a desired instance count:
 *
 *   desired = ceil(average demand / (concurrency × target utilisation))
 *
 * Panic mode starts when the panic window's demand exceeds twice the current capacity
 * (instances × concurrency × utilisation); while panicking the count follows the panic window upward at once and never goes down.
 * Panic ends when a whole stable window has passed without the panic condition.
 *
 * Decisions:
 * - Samples go into one-second buckets (sum and count), so a window is a ring of 60 numbers
 *   whatever the sampling period; the request path never touches this module.
 * - The target utilisation defaults to 1, not Knative's 0.7: instances on a node share its few
 *   cores, so a spare instance costs switching rather than buying headroom, and a start from
 *   the blank pool takes milliseconds. A burst of first requests therefore starts exactly
 *   ceil(demand / concurrency) instances.
 * - The clock is passed in, so tests drive the windows without waiting.
 */

export interface AutoscalerOptions {
  /** Averaging window for steady-state decisions (default 60 000 ms). */
  stableWindowMs?: number;
  /** Short window that detects bursts (default 6 000 ms). */
  panicWindowMs?: number;
  /** Panic when the panic window needs this many times the current instances (default 2). */
  panicThreshold?: number;
  /** Share of an instance's concurrency to plan for (default 1; Knative uses 0.7). */
  targetUtilisation?: number;
}

export interface ScaleDecision {
  /** Instances wanted now (before the caller applies its floor and cap). */
  desired: number;
  panicking: boolean;
}

const BUCKET_MS = 1000;

export class Autoscaler {
  readonly #stableBuckets: number;
  readonly #panicBuckets: number;
  readonly #panicThreshold: number;
  readonly #utilisation: number;
  readonly #stableWindowMs: number;
  /** Per-second sums and sample counts, indexed by second modulo the stable window. */
  readonly #sums: Float64Array;
  readonly #counts: Uint32Array;
  readonly #seconds: Float64Array;
  #panicUntil = 0;
  #panicDesired = 0;

  constructor(options: AutoscalerOptions = {}) {
    this.#stableWindowMs = options.stableWindowMs ?? 60_000;
    this.#stableBuckets = Math.max(1, Math.round(this.#stableWindowMs / BUCKET_MS));
    this.#panicBuckets = Math.max(1, Math.round((options.panicWindowMs ?? 6_000) / BUCKET_MS));
    this.#panicThreshold = options.panicThreshold ?? 2;
    this.#utilisation = options.targetUtilisation ?? 1;
    this.#sums = new Float64Array(this.#stableBuckets);
    this.#counts = new Uint32Array(this.#stableBuckets);
    this.#seconds = new Float64Array(this.#stableBuckets).fill(-1);
  }

  /** Records the demand (invocations admitted and not finished) seen at `now`. */
  sample(now: number, demand: number): void {
    const second = Math.floor(now / BUCKET_MS);
    const at = second % this.#stableBuckets;
    if (this.#seconds[at] !== second) {
      this.#seconds[at] = second;
      this.#sums[at] = 0;
      this.#counts[at] = 0;
    }
    this.#sums[at] = (this.#sums[at] ?? 0) + demand;
    this.#counts[at] = (this.#counts[at] ?? 0) + 1;
  }

  /** Average demand over the last `buckets` seconds; seconds without samples count as 0. */
  #average(now: number, buckets: number): number {
    const second = Math.floor(now / BUCKET_MS);
    let total = 0;
    for (let s = second - buckets + 1; s <= second; s++) {
      const at = ((s % this.#stableBuckets) + this.#stableBuckets) % this.#stableBuckets;
      const count = this.#counts[at] ?? 0;
      if (this.#seconds[at] === s && count > 0) total += (this.#sums[at] ?? 0) / count;
    }
    return total / buckets;
  }

  /** Instances for an average demand at this concurrency. */
  #instancesFor(demand: number, concurrency: number): number {
    return Math.max(0, Math.ceil(demand / (concurrency * this.#utilisation) - 1e-9));
  }

  /**
   * The decision at `now` for a version running `current` instances of `concurrency` each.
   * The panic window is the one that sees a burst; averaging over it means a burst shorter than
   * the window still counts in proportion, which is what Knative intends.
   */
  decide(now: number, current: number, concurrency: number): ScaleDecision {
    const stable = this.#instancesFor(this.#average(now, this.#stableBuckets), concurrency);
    const panicDemand = this.#average(now, this.#panicBuckets);
    const panic = this.#instancesFor(panicDemand, concurrency);
    // Capacity counts at least one instance: scaling from zero is the request path's job.
    if (panicDemand > this.#panicThreshold * Math.max(1, current) * concurrency * this.#utilisation) {
      if (now >= this.#panicUntil) this.#panicDesired = 0;
      this.#panicUntil = now + this.#stableWindowMs;
    }
    if (now < this.#panicUntil) {
      // Never down while panicking: hold the highest count the burst asked for.
      this.#panicDesired = Math.max(this.#panicDesired, panic, current);
      return { desired: this.#panicDesired, panicking: true };
    }
    this.#panicDesired = 0;
    return { desired: stable, panicking: false };
  }
}
