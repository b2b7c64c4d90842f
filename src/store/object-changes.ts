/**
 * @module
 * Object change capture, the store side: a bucket can feed one or more queues, and every object
 * created (put, copy, completed multipart upload) or deleted in it sends an {@link ObjectChange}
 * (JSON) to each of them **in the same transaction as the object's metadata write** — so an
 * acknowledged write is never without its record. events/object-changes.ts turns these neutral
 * records into S3 event notifications and R2 event notification messages and delivers them.
 */

export type ObjectChangeAction = 'put' | 'copy' | 'complete-multipart' | 'delete';

export interface ObjectChange {
  bucket: string;
  key: string;
  action: ObjectChangeAction;
  /** Increases with every captured change of the store: 21 digits, so it also sorts as a string. */
  sequence: string;
  /** Epoch ms of the write. */
  at: number;
  /** The new object's size and ETag (no quotes); absent for deletes. */
  size?: number;
  etag?: string;
  /** For copies: where the bytes came from. */
  copySource?: { bucket: string; key: string };
}
