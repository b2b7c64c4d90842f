/**
 * @module
 * A one-shot wake-up for consumer loops: a loop awaits `promise` when it has nothing to do, and
 * whoever has news (a new message, a finished batch, a stop) calls `wake()`.
 */
export interface Waiter {
  promise: Promise<void>;
  wake(): void;
}

export function waiter(): Waiter {
  let wake = (): void => {};
  const promise = new Promise<void>((resolve) => (wake = resolve));
  return { promise, wake };
}
