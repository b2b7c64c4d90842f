/**
 * @module
 * Storage: the interfaces and the backends that implement them.
 */
export type { BlobStore, KvListKey, KvListResult, KvStore, KvValue, MetaChange, MetaEntry, MetaStore, Store } from './types.ts';
export { openSqliteStore } from './sqlite/index.ts';
export type { SqliteStoreOptions } from './sqlite/index.ts';
export { natsServers, openNatsStore } from './nats/index.ts';
export type { NatsStoreOptions } from './nats/index.ts';
