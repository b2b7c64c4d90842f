/**
 * @module
 * The storage interfaces. Everything Outpost keeps goes through these; nothing outside
 * `store/` knows SQL (or, later, NATS subjects). Each interface is small and async so the
 * embedded SQLite backend and the NATS JetStream backend can both implement it, and one
 * contract suite (contract.ts) runs against every backend.
 */
import type { QueueStore } from './queues.ts';

/** A JSON value with the revision it was written at. */
export interface MetaEntry<T = unknown> {
  key: string;
  value: T;
  /** Increases with every write to the store; compare-and-set uses it. */
  revision: number;
}

export interface MetaChange {
  key: string;
  op: 'put' | 'delete';
  value?: unknown;
  revision: number;
}

/**
 * Control-plane metadata (functions, versions, routes, tokens): small JSON documents by key,
 * with compare-and-set and change notification. Every node watches it.
 */
export interface MetaStore {
  get<T = unknown>(key: string): Promise<MetaEntry<T> | undefined>;
  /**
   * Writes `value`. With `expectRevision`, only if the key is still at that revision
   * (0 = the key must not exist); otherwise throws OutpostError STORE_CONFLICT.
   */
  put(key: string, value: unknown, options?: { expectRevision?: number }): Promise<number>;
  delete(key: string, options?: { expectRevision?: number }): Promise<void>;
  /** Entries whose key starts with `prefix`, in key order. */
  list<T = unknown>(prefix: string): Promise<MetaEntry<T>[]>;
  /** Calls `listener` for every later change under `prefix`; returns the unsubscribe function. */
  watch(prefix: string, listener: (change: MetaChange) => void): () => void;
}

/** Immutable bytes by key (bundles, source maps; objects later). */
export interface BlobStore {
  put(key: string, data: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /**
   * A local file path with the blob's bytes, for loaders that import from disk. The embedded
   * store returns its own file; a remote store materialises a cached copy.
   */
  localPath(key: string): Promise<string | undefined>;
}

export interface KvValue {
  value: Uint8Array;
  metadata?: unknown;
  /** Seconds since the epoch. */
  expiration?: number;
}

export interface KvListKey {
  name: string;
  expiration?: number;
  metadata?: unknown;
}

export interface KvListResult {
  keys: KvListKey[];
  complete: boolean;
  cursor?: string;
}

/** Function KV (Workers KV semantics): namespaced keys, TTLs exact to the second, metadata. */
export interface KvStore {
  get(namespace: string, key: string): Promise<KvValue | undefined>;
  put(namespace: string, key: string, entry: KvValue): Promise<void>;
  delete(namespace: string, key: string): Promise<void>;
  list(namespace: string, options: { prefix?: string; limit: number; cursor?: string }): Promise<KvListResult>;
  namespaces(): Promise<string[]>;
  /**
   * Change capture (kv-changes.ts): from now on every put or delete that changes a key of
   * `namespace` also sends a KvChange to each of `queues`, in the write's transaction.
   * Replaces the namespace's set; persisted; an empty list stops capture. A missing queue is created.
   */
  setChangeFeeds(namespace: string, queues: readonly string[]): Promise<void>;
  /** Every namespace's capture queues. */
  changeFeeds(): Promise<Record<string, string[]>>;
}

export interface Store {
  readonly meta: MetaStore;
  readonly blobs: BlobStore;
  readonly kv: KvStore;
  /** Durable message queues (queues.ts). */
  readonly queues: QueueStore;
  /** Buckets of objects for R2 and S3 (objects.ts). */
  readonly objects: import('./objects.ts').ObjectStore;
  /** Deno KV databases (denokv.ts). */
  readonly denokv: import('./denokv.ts').DenoKvStore;
  /** SQL databases for functions, the D1 binding (sql.ts). */
  readonly sql: import('./sql.ts').SqlStore;
  /** Human-readable description for logs (`sqlite:<dir>`). */
  readonly description: string;
  close(): Promise<void>;
}
