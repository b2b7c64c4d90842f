/**
 * @module
 * Data residency for a fleet spread over regions: a KV namespace can be pinned to a region so
 * that its entries are stored only on that region's JetStream servers.
 *
 * Mechanism: JetStream placement tags (nats-server ≥ 2.8). Each nats-server of a region carries
 * `server_tags: ["region:<name>"]`; a pinned namespace lives in its own bucket
 * `<prefix>_kv_in_<region>`, created with `placement: { tags: ["region:<region>"] }`, so every
 * replica of its stream is on a server of that region (the region needs at least
 * `--store-replicas` servers, or the bucket cannot be created). Everything else stays in the
 * shared buckets, which JetStream places anywhere.
 *
 * Access from other regions, per pin: `proxy` (the default) lets a node elsewhere read and write
 * the namespace through NATS — the data crosses the network but is stored only in the region;
 * `refuse` answers such a node with DATA_RESIDENCY (so its gateway forwards requests for the
 * functions binding the namespace to a node of the region: server/region-routing.ts). Limits, plainly: pins are node flags, so
 * every node of the fleet must be given the same ones (a node without the pin reads and writes
 * the shared bucket instead); metadata (which namespaces exist, change-feed settings), queue
 * messages carrying KV change records and logs are not pinned; there are no local read mirrors.
 */
import { OutpostError } from '../../errors.ts';
import type { KvListResult, KvStore, KvValue } from '../types.ts';

export interface RegionPin {
  kind: 'kv';
  /** The KV namespace id. */
  name: string;
  region: string;
  /** What a node of another region may do: use it through NATS, or be refused. */
  access: 'proxy' | 'refuse';
}

const REGION = /^[A-Za-z0-9_-]{1,32}$/;

/** Parses `kv:<namespace>=<region>[:refuse|:proxy]` (the `--pin` flag); a string says what is wrong. */
export function parsePin(text: string): RegionPin | string {
  const m = /^kv:([^=]+)=([^:]+)(?::(proxy|refuse))?$/.exec(text);
  if (!m) return `--pin ${text}: expected kv:<namespace>=<region>, optionally followed by :refuse or :proxy`;
  const [, name = '', region = '', access = 'proxy'] = m;
  if (!REGION.test(region)) return `--pin ${text}: a region is 1–32 of A–Z a–z 0–9 _ - (it names a JetStream bucket)`;
  return { kind: 'kv', name, region, access: access === 'refuse' ? 'refuse' : 'proxy' };
}

/** The bucket holding the KV namespaces pinned to `region`. */
export function regionalKvBucket(prefix: string, region: string): string {
  return `${prefix}_kv_in_${region}`;
}

/** The placement tag nats-servers of `region` carry. */
export function regionTag(region: string): string {
  return `region:${region}`;
}

/** A KvStore that sends each pinned namespace to its region's store and the rest to the shared one. */
export class RegionalKv implements KvStore {
  readonly #shared: KvStore;
  readonly #pinned: ReadonlyMap<string, { pin: RegionPin; store: KvStore }>;
  readonly #nodeRegion: string;

  constructor(shared: KvStore, pinned: ReadonlyMap<string, { pin: RegionPin; store: KvStore }>, nodeRegion: string) {
    this.#shared = shared;
    this.#pinned = pinned;
    this.#nodeRegion = nodeRegion;
  }

  #route(namespace: string): KvStore {
    const pinned = this.#pinned.get(namespace);
    if (!pinned) return this.#shared;
    if (pinned.pin.access === 'refuse' && pinned.pin.region !== this.#nodeRegion) {
      throw new OutpostError('DATA_RESIDENCY', `KV namespace ${namespace} is pinned to region ${pinned.pin.region} and refuses nodes of other regions; this node is in ${this.#nodeRegion}`, {
        status: 403,
        fault: 'user',
        hint: `serve this function from a node started with --region ${pinned.pin.region}, or pin it with :proxy to allow access through NATS`,
      });
    }
    return pinned.store;
  }

  get(namespace: string, key: string): Promise<KvValue | undefined> {
    return this.#route(namespace).get(namespace, key);
  }

  put(namespace: string, key: string, entry: KvValue): Promise<void> {
    return this.#route(namespace).put(namespace, key, entry);
  }

  delete(namespace: string, key: string): Promise<void> {
    return this.#route(namespace).delete(namespace, key);
  }

  list(namespace: string, options: { prefix?: string; limit: number; cursor?: string }): Promise<KvListResult> {
    return this.#route(namespace).list(namespace, options);
  }

  async namespaces(): Promise<string[]> {
    const all = new Set(await this.#shared.namespaces());
    for (const store of new Set([...this.#pinned.values()].map((p) => p.store))) for (const ns of await store.namespaces()) if (this.#pinned.has(ns)) all.add(ns);
    return [...all].sort();
  }

  setChangeFeeds(namespace: string, queues: readonly string[]): Promise<void> {
    return this.#route(namespace).setChangeFeeds(namespace, queues);
  }

  /** Feed settings are shared by every bucket (one feed set bucket), so the shared store lists them all. */
  changeFeeds(): Promise<Record<string, string[]>> {
    return this.#shared.changeFeeds();
  }
}
