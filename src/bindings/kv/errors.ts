/**
 * @module
 * KV errors, worded as Workers KV words them so code that matches on them keeps working.
 */
import { OutpostError } from '../../errors.ts';

export const KV_LIMITS = Object.freeze({
  keyBytes: 512,
  valueBytes: 25 * 1024 * 1024,
  metadataBytes: 1024,
  minTtlSeconds: 60,
  maxListLimit: 1000,
  maxBulkKeys: 100,
});

export function kvError(operation: string, status: number, message: string): OutpostError<'KV_LIMIT'> {
  return new OutpostError('KV_LIMIT', `KV ${operation} failed: ${status} ${message}`, { fault: 'user', status: 400 });
}
