/**
 * @module
 * How consumer loops idle: sleep until woken (a new message, a finished batch, a stop) or until
 * a timeout, whichever comes first. A wake that arrives while the loop is busy is kept, so the
 * next sleep returns at once instead of missing it.
 */

/** The longest a loop sleeps without being woken. */
const MAX_SLEEP_MS = 60_000;

interface Pending {
  promise: Promise<void>;
  wake(): void;
}

function pending(): Pending {
  let wake = (): void => {};
  const promise = new Promise<void>((resolve) => (wake = resolve));
  return { promise, wake };
}

export class Wakeup {
  #current = pending();

  wake(): void {
    this.#current.wake();
  }

  /** Resolves when woken (or already woken since the last sleep) or after `ms` (at most 60 s). */
  async sleep(ms: number): Promise<void> {
    const w = this.#current;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([w.promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, Math.min(ms, MAX_SLEEP_MS)))))]);
    clearTimeout(timer);
    if (this.#current === w) this.#current = pending();
  }
}
