/**
 * @module
 * Owner leases in the MetaStore: "this process runs that thing until `expiresAt`", taken and
 * kept by compare-and-set, so that in a fleet of nodes sharing one store exactly one node works
 * on an item (a workflow execution) and another takes it over when the owner stops renewing.
 *
 * Decisions: a lease is one MetaStore entry `{ owner, expiresAt }`; the owner renews it (a
 * compare-and-set on the revision it last wrote) well before it expires, and a renewal that
 * finds another revision means the lease was taken over — the holder must stop and write
 * nothing more. A lease also names the owner's node (host and state directory): a process that
 * finds a lease of its own node under another owner knows that owner was its predecessor, now
 * dead (one node runs one process), and takes the lease at once instead of waiting out the
 * expiry — so a restarted single node resumes its work immediately. Expiry is judged on the reader's clock, so clocks across nodes must agree to
 * well within the lease length (NTP does). This is a lease, not a fence: a holder paused
 * between a successful renewal and its next write can still write once after a takeover, so
 * users renew right before each write that matters and keep the work idempotent.
 */
import { isOutpostError } from '../errors.ts';
import type { MetaChange, MetaStore } from './types.ts';

export interface LeaseRecord {
  owner: string;
  /** The owner's node, when it has a stable identity (see {@link nodeIdentity}). */
  node?: string;
  /** Epoch ms after which any node may take the lease. */
  expiresAt: number;
}

/** How long leases last when nothing says otherwise; renewals come every third of it. */
export const DEFAULT_LEASE_MS = 15_000;

/** `OUTPOST_LEASE_SECONDS` (fleet failover time), else {@link DEFAULT_LEASE_MS}. */
export function leaseMsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env['OUTPOST_LEASE_SECONDS']);
  return env['OUTPOST_LEASE_SECONDS'] !== undefined && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_LEASE_MS;
}

/** A node's lasting identity: its host and state directory (two live nodes never share one). */
export function nodeIdentity(host: string, stateDir: string | undefined): string | undefined {
  return stateDir === undefined ? undefined : `${host}:${stateDir}`;
}

/** True when `lease` no longer protects anything from `self`: expired, or left by a dead predecessor on the same node. */
export function leaseIsFree(lease: LeaseRecord, self: { owner: string; node?: string | undefined }, now: number): boolean {
  if (lease.owner === self.owner) return true;
  if (self.node !== undefined && lease.node === self.node) return true;
  return lease.expiresAt <= now;
}

export interface LeaseOptions {
  meta: MetaStore;
  /** This process's identity; unique per process so a restarted node is a new owner. */
  owner: string;
  node?: string | undefined;
  ttlMs: number;
  now: () => number;
}

/** A lease this process holds. */
export class HeldLease {
  readonly key: string;
  readonly #options: LeaseOptions;
  #revision: number;
  #lost = false;
  /** When this process last wrote the lease (its clock). */
  #renewedAt: number;

  constructor(options: LeaseOptions, key: string, revision: number) {
    this.#options = options;
    this.key = key;
    this.#revision = revision;
    this.#renewedAt = options.now();
  }

  /**
   * True while the lease is certainly still ours: renewed less than a third of its length ago
   * (nobody can have taken it, clocks agreeing), else renewed now. Call it before each write the
   * lease guards; it costs a store write at most every third of the lease.
   */
  async confirm(): Promise<boolean> {
    if (this.#lost) return false;
    if (this.#options.now() - this.#renewedAt < this.#options.ttlMs / 3) return true;
    return this.renew();
  }

  /** True once a renewal found the lease taken over or gone. */
  get lost(): boolean {
    return this.#lost;
  }

  /** Extends the lease; false (and `lost`) when another owner has it now. Store errors reject. */
  async renew(): Promise<boolean> {
    if (this.#lost) return false;
    const { meta, ttlMs, now } = this.#options;
    try {
      const at = now();
      this.#revision = await meta.put(this.key, leaseRecord(this.#options, at + ttlMs), { expectRevision: this.#revision });
      this.#renewedAt = at;
      return true;
    } catch (error) {
      if (!isOutpostError(error, 'STORE_CONFLICT')) throw error;
      this.#lost = true;
      return false;
    }
  }

  /**
   * Tells the lease about a change of its key seen through a watch: a write by another owner
   * (or a delete this lease did not make) means it is lost, without waiting for a renewal.
   */
  observe(change: MetaChange): void {
    if (change.revision <= this.#revision) return;
    const record = change.value as LeaseRecord | undefined;
    if (change.op === 'delete' || record?.owner !== this.#options.owner) this.#lost = true;
  }

  /** Gives the lease up so another node may take it at once (a no-op when already lost). */
  async release(): Promise<void> {
    if (this.#lost) return;
    this.#lost = true;
    await this.#options.meta.delete(this.key, { expectRevision: this.#revision }).catch(() => undefined);
  }
}

/**
 * Takes the lease at `key` whoever holds it (an operator's stop of work running elsewhere): the
 * holder finds out at its next renewal and stops.
 */
export async function seizeLease(options: LeaseOptions, key: string): Promise<HeldLease> {
  const revision = await options.meta.put(key, leaseRecord(options, options.now() + options.ttlMs));
  return new HeldLease(options, key, revision);
}

/**
 * Takes the lease at `key` when nobody holds it or its holder let it expire; undefined while
 * another owner's lease is live (or another node won the race for it).
 */
export async function acquireLease(options: LeaseOptions, key: string): Promise<HeldLease | undefined> {
  const { meta, ttlMs, now } = options;
  const current = await meta.get<LeaseRecord>(key);
  if (current && !leaseIsFree(current.value, options, now())) return undefined;
  try {
    const revision = await meta.put(key, leaseRecord(options, now() + ttlMs), { expectRevision: current?.revision ?? 0 });
    return new HeldLease(options, key, revision);
  } catch (error) {
    if (isOutpostError(error, 'STORE_CONFLICT')) return undefined;
    throw error;
  }
}

function leaseRecord(options: LeaseOptions, expiresAt: number): LeaseRecord {
  return { owner: options.owner, ...(options.node === undefined ? {} : { node: options.node }), expiresAt };
}
