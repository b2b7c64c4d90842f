/**
 * @module
 * The fleet's node registry in the MetaStore: each node keeps `nodes/<name>` = {@link NodeEntry}
 * fresh so that other nodes can find a live node of a region (region routing forwards requests
 * there).
 *
 * Decisions: liveness is a heartbeat, not a lease the store expires — a node rewrites its entry
 * every `heartbeatMs` (default 5 s) and readers count an entry older than three heartbeats as
 * gone, so a node that crashed drops out within ~15 s without any store support for TTLs. A
 * clean close deletes the entry at once. Clocks of the nodes are assumed to agree to within a
 * heartbeat or so; the clock is injectable for tests.
 */
import type { MetaStore } from '../store/types.ts';

export interface NodeEntry {
  name: string;
  region: string;
  /** The node's gateway URL, where forwarded requests go. */
  url: string;
  /** When the node last wrote its entry, epoch ms. */
  seenAt: number;
}

export interface NodeRegistryOptions {
  meta: MetaStore;
  self: Omit<NodeEntry, 'seenAt'>;
  /** Default 5 000. */
  heartbeatMs?: number;
  now?: () => number;
}

const PREFIX = 'nodes/';
/** Missed heartbeats after which an entry counts as gone. */
const MISSED = 3;

export class NodeRegistry {
  readonly #meta: MetaStore;
  readonly #self: Omit<NodeEntry, 'seenAt'>;
  readonly #heartbeatMs: number;
  readonly #now: () => number;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: NodeRegistryOptions) {
    this.#meta = options.meta;
    this.#self = options.self;
    this.#heartbeatMs = options.heartbeatMs ?? 5_000;
    this.#now = options.now ?? Date.now;
  }

  /** Writes this node's entry now and again every heartbeat until {@link close}. */
  async start(): Promise<void> {
    await this.heartbeat();
    this.#timer = setInterval(() => void this.heartbeat().catch(() => undefined), this.#heartbeatMs);
    this.#timer.unref();
  }

  /** Writes this node's entry with the current time. */
  async heartbeat(): Promise<void> {
    await this.#meta.put(PREFIX + this.#self.name, { ...this.#self, seenAt: this.#now() } satisfies NodeEntry);
  }

  /** The nodes whose entries are fresh, optionally only those of `region`, in name order. */
  async live(region?: string): Promise<NodeEntry[]> {
    const oldest = this.#now() - MISSED * this.#heartbeatMs;
    const out: NodeEntry[] = [];
    for (const { value } of await this.#meta.list<NodeEntry>(PREFIX)) {
      if (value.seenAt >= oldest && (region === undefined || value.region === region)) out.push(value);
    }
    return out;
  }

  /** Stops the heartbeat and removes this node's entry. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#meta.delete(PREFIX + this.#self.name);
  }
}
