/**
 * @module
 * Queue producer errors and limits, worded as Cloudflare Queues words them (workerd prefixes
 * the broker's answer with "Queue send failed:" / "Queue sendBatch failed:"), so code that
 * logs or matches them keeps working.
 */
import { OutpostError } from '../../errors.ts';

export const QUEUE_LIMITS = Object.freeze({
  /** Largest message (bytes, after encoding). */
  messageBytes: 128_000,
  /** Most messages in one sendBatch. */
  batchMessages: 100,
  /** Largest sendBatch (bytes, all bodies). */
  batchBytes: 256_000,
  /** Longest delivery or retry delay (12 hours). */
  maxDelaySeconds: 43_200,
});

export function queueError(operation: 'send' | 'sendBatch', message: string): OutpostError<'QUEUE_LIMIT'> {
  return new OutpostError('QUEUE_LIMIT', `Queue ${operation} failed: ${message}`, { fault: 'user', status: 400 });
}
