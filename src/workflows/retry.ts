/**
 * @module
 * Error matching for Retry and Catch, and retry backoff. Retriers are checked in order and the
 * first whose ErrorEquals matches decides; each keeps its own attempt count. The delay before
 * retry n (0-based, per retrier) is IntervalSeconds × BackoffRate^n, capped by MaxDelaySeconds,
 * and with JitterStrategy FULL scaled by a random number in [0, 1).
 */

import type { Retrier } from './definition.ts';
import { StatesErrorNames } from './failure.ts';

/** Defaults from the spec. */
export const RETRY_DEFAULTS = { IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2.0 } as const;

/** Errors that no wildcard matches: AWS never retries or catches them. */
const UNCATCHABLE: ReadonlySet<string> = new Set([StatesErrorNames.Runtime, StatesErrorNames.DataLimitExceeded]);

/**
 * True when an ErrorEquals list matches `error`. `States.ALL` matches every catchable error;
 * `States.TaskFailed` matches every catchable error except States.Timeout.
 */
export function errorMatches(errorEquals: readonly string[], error: string): boolean {
  for (const name of errorEquals) {
    if (name === error) return true;
    if (UNCATCHABLE.has(error)) continue;
    if (name === StatesErrorNames.ALL) return true;
    if (name === StatesErrorNames.TaskFailed && error !== StatesErrorNames.Timeout) return true;
  }
  return false;
}

/** Index of the first retrier matching `error`, or -1. */
export function findRetrier(retriers: readonly Retrier[] | undefined, error: string): number {
  if (retriers === undefined) return -1;
  return retriers.findIndex((r) => errorMatches(r.ErrorEquals, error));
}

/** Index of the first catcher matching `error`, or -1. */
export function findCatcher(catchers: readonly { ErrorEquals: string[] }[] | undefined, error: string): number {
  if (catchers === undefined) return -1;
  return catchers.findIndex((c) => errorMatches(c.ErrorEquals, error));
}

/**
 * Milliseconds to wait before the retry numbered `retryIndex` (0 for the first retry by this
 * retrier). `random` is only called for JitterStrategy FULL.
 */
export function retryDelayMs(retrier: Retrier, retryIndex: number, random: () => number): number {
  const interval = retrier.IntervalSeconds ?? RETRY_DEFAULTS.IntervalSeconds;
  const rate = retrier.BackoffRate ?? RETRY_DEFAULTS.BackoffRate;
  let seconds = interval * rate ** retryIndex;
  if (retrier.MaxDelaySeconds !== undefined) seconds = Math.min(seconds, retrier.MaxDelaySeconds);
  if (retrier.JitterStrategy === 'FULL') seconds *= random();
  return Math.round(seconds * 1000);
}

/** True when the retrier still allows another attempt after `retriesSoFar` retries. */
export function canRetry(retrier: Retrier, retriesSoFar: number): boolean {
  return retriesSoFar < (retrier.MaxAttempts ?? RETRY_DEFAULTS.MaxAttempts);
}
