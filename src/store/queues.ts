/**
 * @module
 * The queue store: durable message queues with leases, for the queue bindings, the consumers
 * that invoke functions, and the SQS-compatible API. One interface, implemented by every
 * backend (sqlite/queues.ts today; NATS JetStream streams later) and checked by
 * queues.contract.ts.
 *
 * Semantics (at-least-once):
 * - `send` returns only after the messages are durable; a message is then delivered until it is
 *   acknowledged, or until it has been received `maxReceives` times and is dead-lettered.
 * - `receive` leases up to `max` visible messages for a visibility timeout and counts the
 *   receive; a lease that runs out makes the message visible again (a crashed consumer's work
 *   comes back). Each receive gets a new receipt; only the current receipt can settle a message.
 * - Dead-lettering is one transaction: the message leaves its queue and enters the dead-letter
 *   queue exactly once. Without a dead-letter queue it stays where it is in the `dead` state,
 *   counted and listed, never delivered and never dropped, until redriven or purged.
 */

export interface QueueConfig {
  /** Lease length of a receive when the caller gives none (SQS default 30). */
  visibilityTimeoutSeconds: number;
  /** Delay of every message sent without its own (0–900, default 0). */
  delaySeconds: number;
  /** Messages older than this are removed (default 4 days, as SQS and Cloudflare). */
  messageRetentionSeconds: number;
  /** Longest wait of a receive with no WaitTimeSeconds (SQS ReceiveMessageWaitTimeSeconds, default 0). */
  receiveWaitTimeSeconds: number;
  /** Receives after which a message is dead-lettered (SQS maxReceiveCount); absent: never by count. */
  maxReceiveCount?: number;
  /** Where dead messages go; absent: they stay in this queue, dead. */
  deadLetterQueue?: string;
}

export const DEFAULT_QUEUE_CONFIG: Readonly<QueueConfig> = Object.freeze({
  visibilityTimeoutSeconds: 30,
  delaySeconds: 0,
  messageRetentionSeconds: 345_600,
  receiveWaitTimeSeconds: 0,
});

export interface QueueInfo {
  name: string;
  /** Epoch ms. */
  createdAt: number;
  config: QueueConfig;
  /** Attributes a client set that Outpost keeps but does not act on (SQS tags, policy…). */
  extra: Record<string, string>;
}

export interface QueueSendInput {
  body: Uint8Array;
  /** How the body was encoded: 'json' | 'text' | 'bytes' | 'v8' (Workers), absent for raw SQS bodies. */
  contentType?: string;
  /** Overrides the queue's delaySeconds. */
  delaySeconds?: number;
  /** Message attributes (SQS MessageAttributes), kept as given. */
  attributes?: Record<string, unknown>;
  /** Sends with the same id within 5 minutes are accepted once (SQS MessageDeduplicationId). */
  dedupId?: string;
  /** Who sent it (SQS SenderId). */
  senderId?: string;
}

export interface QueueSendResult {
  id: string;
  /** True when a dedupId matched an earlier send: nothing new was stored, `id` is the earlier message's. */
  duplicate: boolean;
}

export interface QueueMessage {
  id: string;
  queue: string;
  body: Uint8Array;
  contentType?: string;
  attributes?: Record<string, unknown>;
  senderId?: string;
  /** Epoch ms when it was first sent (kept across dead-lettering and redrive). */
  sentAt: number;
  /** Epoch ms of the first receive, if any. */
  firstReceivedAt?: number;
  /** Receives so far, including the one that returned this message. */
  receiveCount: number;
  /** Settles this delivery (ack, retry, change visibility); changes with every receive. */
  receipt: string;
  /** Why it is dead, for dead messages. */
  deadReason?: string;
  /** The queue it was dead-lettered from, for messages in a dead-letter queue. */
  sourceQueue?: string;
}

export interface ReceiveOptions {
  max: number;
  /** Lease length (default: the queue's visibilityTimeoutSeconds). */
  visibilityTimeoutSeconds?: number;
  /**
   * A message already received this many times is dead-lettered instead of delivered
   * (default: the queue's maxReceiveCount). With `deadLetterQueue` it overrides the queue's
   * redrive policy for this consumer (a Workers consumer's max_retries and dead_letter_queue).
   */
  maxReceives?: number;
  deadLetterQueue?: string;
  /**
   * Strict send order: only messages before the first live one that is not visible (leased or
   * delayed) are returned, so nothing overtakes a message still being worked on or retried —
   * even across a crash, when the lease of the dead consumer must run out first. For one
   * consumer that needs order (KV change events).
   */
  ordered?: boolean;
}

export interface RetryOptions {
  delaySeconds?: number;
  /** As in ReceiveOptions: a message received this many times is dead-lettered now instead. */
  maxReceives?: number;
  deadLetterQueue?: string;
  /** Recorded on the message if it is dead-lettered (the consumer's error). */
  reason?: string;
}

export interface QueueStats {
  name: string;
  /** Ready to be received now. */
  visible: number;
  /** Leased by a consumer. */
  inFlight: number;
  /** Waiting for their delay (or a retry delay) to pass. */
  delayed: number;
  /** Dead here (no dead-letter queue was configured when they died). */
  dead: number;
  /** Epoch ms of the oldest message that is not dead, if any. */
  oldestSentAt?: number;
}

export interface PeekOptions {
  limit: number;
  /** Only dead messages (true), only live ones (false), or both (absent). */
  dead?: boolean;
}

export interface QueueStore {
  /**
   * Creates the queue, or returns the existing one unchanged (`created` false). Queue names are
   * 1–80 characters of `[a-zA-Z0-9_-]` (a `.fifo` suffix allowed); otherwise throws
   * OutpostError QUEUE_INVALID_NAME.
   */
  createQueue(name: string, config?: Partial<QueueConfig>, extra?: Record<string, string>): Promise<{ queue: QueueInfo; created: boolean }>;
  getQueue(name: string): Promise<QueueInfo | undefined>;
  /** Changes settings; a key set to undefined is removed. Throws QUEUE_NOT_FOUND. */
  updateQueue(name: string, config: { [K in keyof QueueConfig]?: QueueConfig[K] | undefined }, extra?: Record<string, string>): Promise<QueueInfo>;
  /** Removes the queue and its messages (no error when missing). */
  deleteQueue(name: string): Promise<void>;
  listQueues(prefix?: string): Promise<QueueInfo[]>;
  /** Stores the messages in one transaction, durable when it resolves. Throws QUEUE_NOT_FOUND. */
  send(queue: string, messages: readonly QueueSendInput[]): Promise<QueueSendResult[]>;
  /** Leases up to `max` visible messages, oldest first. Throws QUEUE_NOT_FOUND. */
  receive(queue: string, options: ReceiveOptions): Promise<QueueMessage[]>;
  /** Deletes the messages whose receipt is current; returns the receipts that settled. */
  ack(queue: string, receipts: readonly string[]): Promise<string[]>;
  /**
   * Ends a lease early: the message becomes visible after `delaySeconds`, or is dead-lettered
   * now if it has reached `maxReceives`. Returns 'retried', 'dead' or 'stale' (receipt not current).
   */
  retry(queue: string, receipt: string, options?: RetryOptions): Promise<'retried' | 'dead' | 'stale'>;
  /** Sets the remaining lease of a received message; false when the receipt is not current. */
  changeVisibility(queue: string, receipt: string, seconds: number): Promise<boolean>;
  /** Removes every message of the queue (live and dead); returns how many. */
  purge(queue: string): Promise<number>;
  stats(queue: string): Promise<QueueStats>;
  /** Messages without leasing them, oldest first; `receipt` is empty. */
  peek(queue: string, options: PeekOptions): Promise<QueueMessage[]>;
  /**
   * Moves dead messages back to be delivered again, with their receive counts reset: the dead
   * messages of `queue` itself, and the messages of `queue` as a dead-letter queue (to the queue
   * each came from, or `to`). Returns how many moved.
   */
  redrive(queue: string, options?: { to?: string; limit?: number }): Promise<number>;
  /** Epoch ms when the next message of the queue becomes visible (undefined: none waiting). */
  nextVisibleAt(queue: string): Promise<number | undefined>;
  /** Called (after commit, in this process) with the queue's name whenever messages may have become visible. */
  subscribe(listener: (queue: string) => void): () => void;
}

/** Queue names Outpost accepts (SQS's rule, which also covers Cloudflare's). */
export const QUEUE_NAME_RE = /^[a-zA-Z0-9_-]{1,80}$|^[a-zA-Z0-9_-]{1,75}\.fifo$/;
