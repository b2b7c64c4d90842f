/**
 * @module
 * Test support for schedulers: a clock the test moves by hand, whose timers run when it is
 * advanced past them, so cron tests need no real waiting.
 */
import type { Clock } from './cron.ts';

export class FakeClock implements Clock {
  ms: number;
  #timers = new Set<{ at: number; fn: () => void }>();

  constructor(startMs: number) {
    this.ms = startMs;
  }

  now(): number {
    return this.ms;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const timer = { at: this.ms + ms, fn };
    this.#timers.add(timer);
    return () => this.#timers.delete(timer);
  }

  /** Moves to `to`, running every timer that falls due on the way, in order. */
  async advance(to: number, settle: () => Promise<void>): Promise<void> {
    for (;;) {
      const due = [...this.#timers].filter((t) => t.at <= to).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#timers.delete(due);
      this.ms = Math.max(this.ms, due.at);
      due.fn();
      await settle();
    }
    this.ms = to;
  }
}
