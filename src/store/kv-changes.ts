/**
 * @module
 * KV change capture, the store side: a namespace can feed one or more queues, and every put or
 * delete that changes one of its keys sends a {@link KvChange} (JSON) to each of them **in the
 * same transaction as the write** — so a change is never written without its record, nor a
 * record without its change. events/kv-changes.ts turns these neutral records into the
 * DynamoDB Streams shape and delivers them.
 */

/** A value as the change record carries it (bytes as base64). */
export interface KvChangeImage {
  value: string;
  metadata?: unknown;
  /** Seconds since the epoch. */
  expiration?: number;
}

export interface KvChange {
  namespace: string;
  key: string;
  /** 'put' of a key that had no live value is an insert; 'put' over one a modify. */
  op: 'put' | 'delete';
  /** Increases with every captured change of the store: 21 digits, so it also sorts as a string. */
  sequence: string;
  /** Epoch ms of the write. */
  at: number;
  old?: KvChangeImage;
  new?: KvChangeImage;
}

/** Zero-padded so lexical and numeric order agree (DynamoDB sequence numbers are 21+ digits). */
export function formatSequence(n: number): string {
  return String(n).padStart(21, '0');
}
