/**
 * @module
 * The NATS JetStream store: Outpost's state in JetStream, so several stateless nodes can share
 * it (`outpost serve --store nats://a:4222,b:4222`). One module per facet; this one connects,
 * creates the buckets and streams (idempotently, so every node of a fleet may start first) and
 * hands out the facets. docs/architecture.md ("The NATS store") describes the mapping.
 *
 * Everything a fleet shares lives in JetStream under one name prefix (default `outpost`), so
 * one NATS deployment can hold several fleets (or every test of a file). What stays on the node,
 * under `cacheDir`: materialised blobs and the D1 databases (SQLite files, per node by design).
 */
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { OutpostError } from '../../errors.ts';
import { SqliteSql } from '../sqlite/sql.ts';
import type { Store } from '../types.ts';
import { NatsMeta } from './meta.ts';
import { NatsBlobs } from './blobs.ts';
import { NatsKv } from './kv.ts';
import { needsStreamOrder } from './cas.ts';
import { RegionalKv, regionalKvBucket, regionTag } from './regions.ts';
import type { RegionPin } from './regions.ts';
import { FeedSets } from './feeds.ts';
import { NatsObjects } from './objects.ts';
import { NatsDenoKv } from './denokv.ts';
import { NatsQueues } from './queues.ts';

export { natsServers } from './url.ts';
export { parsePin } from './regions.ts';
export type { RegionPin } from './regions.ts';

export interface NatsStoreOptions {
  /** NATS server URLs (`nats://host:4222`); the client fails over between them. */
  servers: string[];
  /** This node's name (the NATS connection name, shown by `nats server report connections`). */
  name: string;
  /** This node's region, for descriptions and logs. */
  region: string;
  /** Node-local directory for cached blobs and what stays per node (D1). */
  cacheDir: string;
  /** Prefix of every bucket and stream name (`[a-zA-Z0-9_-]`, default `outpost`; JetStream refuses others). */
  prefix?: string;
  /** Replicas of every bucket and stream: 1 for a single server, 3 for production clusters. */
  replicas?: number;
  /** Injected clock (ms) for TTLs; defaults to Date.now. */
  now?: () => number;
  /** KV namespaces stored only on their region's JetStream servers (regions.ts). */
  pins?: readonly RegionPin[];
}

/**
 * Connects and opens (creating when missing) the store's buckets. Throws OutpostError
 * STORE_UNAVAILABLE when no server answers or JetStream is off.
 */
export async function openNatsStore(options: NatsStoreOptions): Promise<Store> {
  const prefix = options.prefix ?? 'outpost';
  const replicas = options.replicas ?? 1;
  const nc = await connect({ servers: options.servers, name: options.name }).catch((error: unknown) => {
    throw new OutpostError('STORE_UNAVAILABLE', `could not connect to NATS at ${options.servers.join(',')}: ${String(error)}`, {
      cause: error,
      hint: 'check that nats-server runs with JetStream (-js) and that --store lists its client URLs',
    });
  });
  try {
    const js = jetstream(nc);
    const kvm = new Kvm(js);
    const objm = new Objm(js);
    const metaBucket = `${prefix}_meta`;
    // Compare-and-set on replicated buckets of servers before 2.9.21 must be serialised (cas.ts).
    const streamOrder = needsStreamOrder(replicas, nc.info?.version);
    const meta = await NatsMeta.open(await kvm.create(metaBucket, { history: 1, replicas }), js, metaBucket, streamOrder);
    const blobs = new NatsBlobs(await objm.create(`${prefix}_blobs`, { replicas }), join(options.cacheDir, 'blobs'));
    const now = options.now ?? Date.now;
    const queuesBucket = `${prefix}_queues`;
    const jsm = await jetstreamManager(nc);
    const queues = new NatsQueues({ kv: await kvm.create(queuesBucket, { history: 1, replicas }), js, jsm, nc, bucket: queuesBucket, now, streamOrder });
    const kvBucket = `${prefix}_kv`;
    const feedsBucket = `${prefix}_kv_feeds`;
    const kvFeeds = await FeedSets.open(await kvm.create(feedsBucket, { history: 1, replicas }), js, feedsBucket, '');
    const sharedKv = new NatsKv({
      kv: await kvm.create(kvBucket, { history: 1, replicas }),
      js,
      bucket: kvBucket,
      feeds: kvFeeds,
      queues,
      now,
      maxPayload: () => nc.info?.max_payload,
      streamOrder,
    });
    const regionalKv = new Map<string, NatsKv>();
    const pinned = new Map<string, { pin: RegionPin; store: NatsKv }>();
    for (const pin of options.pins ?? []) {
      let store = regionalKv.get(pin.region);
      if (!store) {
        const bucket = regionalKvBucket(prefix, pin.region);
        const placed = await kvm.create(bucket, { history: 1, replicas, placement: { tags: [regionTag(pin.region)], cluster: '' } });
        store = new NatsKv({ kv: placed, js, bucket, feeds: kvFeeds, queues, now, maxPayload: () => nc.info?.max_payload, streamOrder });
        regionalKv.set(pin.region, store);
      }
      pinned.set(pin.name, { pin, store });
    }
    const kv = pinned.size === 0 ? sharedKv : new RegionalKv(sharedKv, pinned, options.region);
    const objectsBucket = `${prefix}_objects`;
    const objectsKv = await kvm.create(objectsBucket, { history: 1, replicas });
    const objectFeeds = await FeedSets.open(objectsKv, js, objectsBucket, 'f.');
    const objects = new NatsObjects({ kv: objectsKv, js, bucket: objectsBucket, bodies: await objm.create(`${prefix}_object_bodies`, { replicas }), feeds: objectFeeds, queues, now });
    const denokvStream = `${prefix}_denokv`;
    await jsm.streams.add({ name: denokvStream, subjects: [`${denokvStream}.>`], num_replicas: replicas });
    const denokv = new NatsDenoKv({ js, jsm, stream: denokvStream, now });
    // D1 stays on the node (SQLite files, per node); captured changes go to the fleet's queues.
    const sql = new SqliteSql(join(options.cacheDir, 'd1'), { queues, now });
    return {
      meta,
      blobs,
      kv,
      queues,
      objects,
      denokv,
      sql,
      description: `nats:${options.servers.join(',')} (${prefix}, node ${options.name} in ${options.region})`,
      close: async () => {
        meta.close();
        kvFeeds.close();
        objectFeeds.close();
        queues.close();
        sql.close();
        await nc.drain();
      },
    };
  } catch (error) {
    await nc.close();
    if (error instanceof OutpostError) throw error;
    throw new OutpostError('STORE_UNAVAILABLE', `NATS at ${options.servers.join(',')} refused to open the store: ${String(error)}`, {
      cause: error,
      hint: 'run nats-server with JetStream enabled (-js), and with enough servers for the replicas asked',
    });
  }
}
