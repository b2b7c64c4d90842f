/**
 * @module
 * QueueStore on NATS JetStream: one KV bucket holds every queue's settings (`c.<queue>`),
 * messages (`m.<queue>.<id>`) and dedup ids (`d.<queue>.<dedup id>`); each message is one
 * entry carrying its body and its delivery state (visible-at, receive count, current receipt,
 * dead), and every change of that state is a compare-and-set on the entry's revision. Any node
 * can send, receive and settle; two nodes can never both lease one delivery, because only one
 * compare-and-set on the revision they both read succeeds.
 *
 * Why not a work-queue stream with a pull consumer per queue: the contract (and the SQS API on
 * top of it) needs leases of any length per receive, visibility changed on an existing receipt,
 * delays of up to 15 minutes, per-consumer receive limits, dead messages that stay listed,
 * peeking, counts by state, and all of it on the store's clock (tests inject one). A consumer's
 * ack_wait is one value per consumer on the server's clock, its redelivery count cannot be
 * reset by a redrive, its dedup window runs on the server's clock, and 2.9 has no delayed
 * publish — so those primitives cannot keep these promises. What JetStream does give here:
 * durable, replicated storage, compare-and-set, and per-subject filtering.
 *
 * Costs and limits, said plainly: an unordered receive picks its candidates from this node's
 * live view of the queue (queue-index.ts) and reads the bucket only when that view shows nothing
 * visible; an ordered receive, stats, peek, redrive and nextVisibleAt read the newest entry of
 * every message of the queue — O(messages in the queue), right for the queues of functions
 * (thousands), not for millions of backlogged messages. A batch send is one entry per message,
 * not one transaction: if the node dies mid-batch, the messages stored so far stay. A
 * dead-letter move creates the message in the dead-letter queue under its own id first
 * (creating an existing id fails), then deletes it here, so a move interrupted by a crash is
 * finished by the next receive without a second copy (unless the first copy was already
 * settled in between). A send's dedup id is recorded after its message; a crash between the two
 * can let a retried send through (at least once), never lose a message. Expired dedup ids are
 * overwritten when reused, not removed.
 *
 * Wake-ups: `subscribe` listeners hear about this process's sends at once and about other
 * nodes' over a plain NATS subject, so a consumer loop on any node wakes for any node's send.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { JetStreamApiError } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { OutpostError } from '../../errors.ts';
import { compareAndPublish } from './cas.ts';
import { DEFAULT_QUEUE_CONFIG, QUEUE_NAME_RE } from '../queues.ts';
import type { PeekOptions, QueueConfig, QueueInfo, QueueMessage, QueueSendInput, QueueSendResult, QueueStats, QueueStore, ReceiveOptions, RetryOptions } from '../queues.ts';
import { decodeToken, encodeToken } from './keys.ts';
import { isWrongLastSequence } from './errors.ts';
import { lastPerSubject } from './scan.ts';
import { packEnvelope, unpackEnvelope } from './envelope.ts';
import { QueueIndex } from './queue-index.ts';

/** SQS keeps a deduplication id for five minutes. */
const DEDUP_WINDOW_MS = 5 * 60_000;

/** A message's fields and delivery state, as stored (the body travels beside it). */
interface State {
  id: string;
  /** Send order: the revision the message was created at (absent until its first update, when it is that revision). */
  order?: number;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  receipt?: string;
  dead?: boolean;
  deadReason?: string;
  sourceQueue?: string;
  contentType?: string;
  attributes?: Record<string, unknown>;
  senderId?: string;
}

interface Stored {
  state: State;
  body: Uint8Array;
  /** The entry's revision, for compare-and-set. */
  revision: number;
  order: number;
}

function notFound(name: string): OutpostError<'QUEUE_NOT_FOUND'> {
  return new OutpostError('QUEUE_NOT_FOUND', `no queue named ${name}`, { status: 404, fault: 'user', hint: 'create it first (outpost queues create <name>)' });
}

function checkName(name: string): void {
  if (!QUEUE_NAME_RE.test(name)) {
    throw new OutpostError('QUEUE_INVALID_NAME', `invalid queue name ${JSON.stringify(name)}`, {
      status: 400,
      fault: 'user',
      hint: 'use 1–80 letters, digits, - or _ (a .fifo suffix is allowed)',
    });
  }
}

function toMessage(queue: string, s: Stored, receipt = ''): QueueMessage {
  const { state } = s;
  return {
    id: state.id,
    queue,
    body: s.body,
    sentAt: state.sentAt,
    receiveCount: state.receiveCount,
    receipt,
    ...(state.contentType === undefined ? {} : { contentType: state.contentType }),
    ...(state.attributes === undefined ? {} : { attributes: state.attributes }),
    ...(state.senderId === undefined ? {} : { senderId: state.senderId }),
    ...(state.firstReceivedAt === undefined ? {} : { firstReceivedAt: state.firstReceivedAt }),
    ...(state.deadReason === undefined ? {} : { deadReason: state.deadReason }),
    ...(state.sourceQueue === undefined ? {} : { sourceQueue: state.sourceQueue }),
  };
}

/** Receipts are `<message id>.<random>`: the id finds the entry, the random part proves the lease. */
function idOf(receipt: string): string | undefined {
  const dot = receipt.indexOf('.');
  return dot > 0 ? receipt.slice(0, dot) : undefined;
}

export class NatsQueues implements QueueStore {
  readonly #kv: KV;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #nc: NatsConnection;
  readonly #bucket: string;
  /** The bucket stream's last sequence as this node last saw it applied (its own writes). */
  #lastSequence = 0;
  /** Compare-and-set needs the stream order (cas.ts needsStreamOrder). */
  readonly #streamOrder: boolean;
  readonly #now: () => number;
  readonly #listeners = new Set<(queue: string) => void>();
  readonly #wakeSubject: string;
  readonly #origin = randomUUID();
  readonly #wakeups: Subscription;
  readonly #indexes = new Map<string, QueueIndex<Stored>>();
  readonly #opening = new Map<string, Promise<QueueIndex<Stored>>>();

  constructor(opts: { kv: KV; js: JetStreamClient; jsm: JetStreamManager; nc: NatsConnection; bucket: string; now: () => number; streamOrder: boolean }) {
    this.#streamOrder = opts.streamOrder;
    this.#kv = opts.kv;
    this.#js = opts.js;
    this.#jsm = opts.jsm;
    this.#nc = opts.nc;
    this.#bucket = opts.bucket;
    this.#now = opts.now;
    this.#wakeSubject = `${opts.bucket}.wake`;
    this.#wakeups = this.#nc.subscribe(this.#wakeSubject, {
      callback: (error, msg) => {
        if (error) return;
        const [origin, queue] = msg.string().split('\n');
        if (origin !== this.#origin && queue !== undefined) this.#emit(queue);
      },
    });
  }

  // ---- keys and entries -------------------------------------------------------------------

  #configKey(queue: string): string {
    return `c.${encodeToken(queue)}`;
  }
  #messageKey(queue: string, id: string): string {
    return `m.${encodeToken(queue)}.${encodeToken(id)}`;
  }
  #dedupKey(queue: string, dedupId: string): string {
    return `d.${encodeToken(queue)}.${encodeToken(dedupId)}`;
  }

  #decode(data: Uint8Array, revision: number): Stored {
    const { head, body } = unpackEnvelope<State>(data);
    return { state: head, body, revision, order: head.order ?? revision };
  }

  async #message(queue: string, id: string): Promise<Stored | undefined> {
    const entry = await this.#kv.get(this.#messageKey(queue, id));
    return entry && entry.operation === 'PUT' ? this.#decode(entry.value, entry.revision) : undefined;
  }

  /** Every message of the queue, in send order. */
  async #messages(queue: string): Promise<Stored[]> {
    const all = await lastPerSubject(this.#js, `KV_${this.#bucket}`, `$KV.${this.#bucket}.m.${encodeToken(queue)}.*`);
    return all.filter((m) => m.operation === undefined).map((m) => this.#decode(m.data, m.seq)).sort((a, b) => a.order - b.order);
  }

  /**
   * Writes a message's new state if its entry is still at `s.revision`; false when it moved on.
   * Serialised through the stream's last sequence too (cas.ts), so two nodes never both lease
   * one delivery on a replicated bucket of nats-server < 2.9.21.
   */
  async #update(queue: string, s: Stored, state: State): Promise<boolean> {
    const key = this.#messageKey(queue, state.id);
    const revision = await compareAndPublish(this.#js, {
      stream: `KV_${this.#bucket}`,
      subject: `$KV.${this.#bucket}.${key}`,
      data: packEnvelope({ ...state, order: s.order }, s.body),
      expectedRevision: s.revision,
      streamOrder: this.#streamOrder,
      lastSequence: this.#lastSequence,
      currentRevision: async () => (await this.#kv.get(key))?.revision ?? 0,
      seen: (sequence) => (this.#lastSequence = Math.max(this.#lastSequence, sequence)),
    });
    if (revision === undefined) {
      await this.#refresh(queue, s);
      return false;
    }
    this.#lastSequence = Math.max(this.#lastSequence, revision);
    this.#indexes.get(queue)?.set(state.id, { state: { ...state, order: s.order }, body: s.body, revision, order: s.order });
    return true;
  }

  /** Creates a message entry (a new message, or one moved here) and records it in this node's view. */
  async #create(queue: string, state: State, body: Uint8Array): Promise<Stored> {
    const revision = await this.#kv.create(this.#messageKey(queue, state.id), packEnvelope(state, body));
    const stored: Stored = { state, body, revision, order: revision };
    this.#indexes.get(queue)?.set(state.id, stored);
    return stored;
  }

  /** Reads an entry whose compare-and-set failed again, and corrects this node's view of it. */
  async #refresh(queue: string, s: Stored): Promise<void> {
    const index = this.#indexes.get(queue);
    if (!index) return;
    const fresh = await this.#message(queue, s.state.id);
    if (fresh) index.set(fresh.state.id, fresh);
    else index.remove(s.state.id, s.revision);
  }

  /** This node's live view of the queue's messages (queue-index.ts), opened on first use. */
  async #index(queue: string): Promise<QueueIndex<Stored>> {
    const open = this.#indexes.get(queue);
    if (open) return open;
    const opening = this.#opening.get(queue) ?? QueueIndex.open<Stored>({
      kv: this.#kv,
      js: this.#js,
      bucket: this.#bucket,
      prefix: `m.${encodeToken(queue)}.`,
      idOf: decodeToken,
      decode: (data, revision) => this.#decode(data, revision),
    });
    this.#opening.set(queue, opening);
    const index = await opening;
    this.#opening.delete(queue);
    this.#indexes.set(queue, index);
    return index;
  }

  /** Forgets this node's view of a queue whose messages were removed wholesale. */
  #dropIndex(queue: string): void {
    this.#indexes.get(queue)?.close();
    this.#indexes.delete(queue);
  }

  /**
   * Removes the message if its entry is still at `s.revision`: deleting that exact stream
   * sequence is the compare-and-set (a newer write has already replaced it, so it is gone),
   * and unlike a KV delete it leaves no marker behind for every settled message.
   */
  async #remove(queue: string, s: Stored): Promise<boolean> {
    let removed: boolean;
    try {
      removed = await this.#jsm.streams.deleteMessage(`KV_${this.#bucket}`, s.revision, false);
    } catch (error) {
      if (!(error instanceof JetStreamApiError)) throw error;
      removed = false;
    }
    if (removed) this.#indexes.get(queue)?.remove(s.state.id, s.revision);
    else await this.#refresh(queue, s);
    return removed;
  }

  #emit(queue: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(queue);
      } catch {
        // A listener's failure is its own; the write is stored.
      }
    }
  }

  /** Wakes this process's listeners now and other nodes' through NATS. */
  #wake(queue: string): void {
    this.#emit(queue);
    this.#nc.publish(this.#wakeSubject, `${this.#origin}\n${queue}`);
  }

  // ---- queues -----------------------------------------------------------------------------

  async #info(name: string): Promise<{ info: QueueInfo; revision: number } | undefined> {
    const entry = await this.#kv.get(this.#configKey(name));
    return entry && entry.operation === 'PUT' ? { info: entry.json<QueueInfo>(), revision: entry.revision } : undefined;
  }

  async #require(name: string): Promise<QueueInfo> {
    const found = await this.#info(name);
    if (!found) throw notFound(name);
    return found.info;
  }

  /** Creates a queue with the defaults when missing (dead-letter and redrive targets). */
  async #ensure(name: string): Promise<void> {
    checkName(name);
    if (!(await this.#info(name))) await this.createQueue(name);
  }

  async createQueue(name: string, config: Partial<QueueConfig> = {}, extra: Record<string, string> = {}): Promise<{ queue: QueueInfo; created: boolean }> {
    checkName(name);
    const existing = await this.#info(name);
    if (existing) return { queue: existing.info, created: false };
    const queue: QueueInfo = { name, createdAt: this.#now(), config: { ...DEFAULT_QUEUE_CONFIG, ...config }, extra };
    try {
      await this.#kv.create(this.#configKey(name), JSON.stringify(queue));
      return { queue, created: true };
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      return { queue: await this.#require(name), created: false };
    }
  }

  async getQueue(name: string): Promise<QueueInfo | undefined> {
    return (await this.#info(name))?.info;
  }

  async updateQueue(name: string, config: { [K in keyof QueueConfig]?: QueueConfig[K] | undefined }, extra?: Record<string, string>): Promise<QueueInfo> {
    for (;;) {
      const found = await this.#info(name);
      if (!found) throw notFound(name);
      const next: Record<string, unknown> = { ...found.info.config };
      for (const [k, v] of Object.entries(config)) {
        if (v === undefined) delete next[k];
        else next[k] = v;
      }
      const updated: QueueInfo = { ...found.info, config: next as unknown as QueueConfig, extra: extra ? { ...found.info.extra, ...extra } : found.info.extra };
      try {
        await this.#kv.update(this.#configKey(name), JSON.stringify(updated), found.revision);
      } catch (error) {
        if (isWrongLastSequence(error)) continue;
        throw error;
      }
      this.#wake(name);
      return updated;
    }
  }

  async deleteQueue(name: string): Promise<void> {
    await this.#kv.purge(this.#configKey(name));
    await this.#purgeMessages(name);
    await this.#jsm.streams.purge(`KV_${this.#bucket}`, { filter: `$KV.${this.#bucket}.d.${encodeToken(name)}.*` });
  }

  async listQueues(prefix = ''): Promise<QueueInfo[]> {
    const head = `$KV.${this.#bucket}.c.`;
    const found = await lastPerSubject(this.#js, `KV_${this.#bucket}`, `${head}*`);
    return found
      .filter((m) => m.operation === undefined && decodeToken(m.subject.slice(head.length)).startsWith(prefix))
      .map((m) => JSON.parse(Buffer.from(m.data).toString('utf8')) as QueueInfo)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  // ---- messages ---------------------------------------------------------------------------

  async send(queue: string, messages: readonly QueueSendInput[]): Promise<QueueSendResult[]> {
    const info = await this.#require(queue);
    const out: QueueSendResult[] = [];
    for (const m of messages) out.push(await this.#sendOne(queue, info, m));
    if (out.some((r) => !r.duplicate)) this.#wake(queue);
    return out;
  }

  async #sendOne(queue: string, info: QueueInfo, m: QueueSendInput): Promise<QueueSendResult> {
    const now = this.#now();
    const dedup = m.dedupId === undefined ? undefined : await this.#dedup(queue, m.dedupId, now);
    if (dedup?.id !== undefined) return { id: dedup.id, duplicate: true };
    const id = randomUUID();
    const state: State = {
      id,
      sentAt: now,
      visibleAt: now + (m.delaySeconds ?? info.config.delaySeconds) * 1000,
      receiveCount: 0,
      ...(m.contentType === undefined ? {} : { contentType: m.contentType }),
      ...(m.attributes === undefined ? {} : { attributes: m.attributes }),
      ...(m.senderId === undefined ? {} : { senderId: m.senderId }),
    };
    const created = await this.#create(queue, state, m.body);
    if (m.dedupId === undefined || dedup === undefined) return { id, duplicate: false };
    // Record the dedup id; if another sender recorded it first, its message wins and ours goes.
    try {
      const record = JSON.stringify({ id, expiresAt: now + DEDUP_WINDOW_MS });
      if (dedup.revision === 0) await this.#kv.create(this.#dedupKey(queue, m.dedupId), record);
      else await this.#kv.update(this.#dedupKey(queue, m.dedupId), record, dedup.revision);
      return { id, duplicate: false };
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      await this.#remove(queue, created);
      return this.#sendOne(queue, info, m);
    }
  }

  /** The live message id of a dedup id (if within its window), and the record's revision for compare-and-set. */
  async #dedup(queue: string, dedupId: string, now: number): Promise<{ id?: string; revision: number }> {
    const entry = await this.#kv.get(this.#dedupKey(queue, dedupId));
    if (!entry || entry.operation !== 'PUT') return { revision: entry?.revision ?? 0 };
    const record = entry.json<{ id: string; expiresAt: number }>();
    return record.expiresAt > now ? { id: record.id, revision: entry.revision } : { revision: entry.revision };
  }

  /**
   * Moves a message to its dead-letter queue (create there under the same id, then remove
   * here), or marks it dead where it is. False when another node changed it first.
   */
  async #deadLetter(queue: string, s: Stored, dlq: string | undefined, reason: string): Promise<boolean> {
    const { receipt: _receipt, ...rest } = s.state;
    if (dlq === undefined || dlq === queue) return this.#update(queue, s, { ...rest, dead: true, deadReason: reason });
    await this.#ensure(dlq);
    const { order: _order, ...moved } = rest;
    const state: State = { ...moved, visibleAt: this.#now(), deadReason: reason, sourceQueue: queue };
    try {
      await this.#create(dlq, state, s.body);
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error; // already there: an interrupted move, finished now
    }
    await this.#remove(queue, s);
    this.#wake(dlq);
    return true;
  }

  async receive(queue: string, options: ReceiveOptions): Promise<QueueMessage[]> {
    const info = await this.#require(queue);
    const now = this.#now();
    const lease = (options.visibilityTimeoutSeconds ?? info.config.visibilityTimeoutSeconds) * 1000;
    const maxReceives = options.maxReceives ?? info.config.maxReceiveCount;
    const dlq = options.maxReceives !== undefined ? options.deadLetterQueue : info.config.deadLetterQueue;
    let live: Stored[];
    if (options.ordered) {
      // Strict order needs the true head of the queue, so an ordered receive reads the bucket.
      live = (await this.#messages(queue)).filter((s) => !s.state.dead);
      const blocked = live.findIndex((s) => s.state.visibleAt > now);
      if (blocked !== -1) live = live.slice(0, blocked);
    } else {
      const index = await this.#index(queue);
      const visible = (all: Stored[]): Stored[] => all.filter((s) => !s.state.dead && s.state.visibleAt <= now).sort((a, b) => a.state.visibleAt - b.state.visibleAt || a.order - b.order);
      live = visible(index.values());
      if (live.length === 0) {
        // Nothing in this node's view: another node's send may not have reached it yet, so read the bucket.
        const all = await this.#messages(queue);
        for (const s of all) index.set(s.state.id, s);
        live = visible(all);
      }
    }
    // Candidates are leased a round at a time, the compare-and-sets of a round concurrently; a
    // lost one (another receiver got it) is skipped — in ordered mode it ends the receive, as
    // that message is now leased ahead of us.
    const got: QueueMessage[] = [];
    let next = 0;
    while (got.length < options.max && next < live.length) {
      const round = live.slice(next, next + (options.ordered ? 1 : options.max - got.length));
      next += round.length;
      const leased = await Promise.all(round.map((s) => this.#lease(queue, s, { now, lease, maxReceives, dlq })));
      for (const m of leased) if (m !== 'lost' && m !== 'dead') got.push(m);
      if (options.ordered && leased[0] === 'lost') break;
    }
    return got;
  }

  /** Leases one message, or dead-letters it past its receive limit; 'lost' when another receiver changed it first. */
  async #lease(queue: string, s: Stored, o: { now: number; lease: number; maxReceives: number | undefined; dlq: string | undefined }): Promise<QueueMessage | 'dead' | 'lost'> {
    if (o.maxReceives !== undefined && s.state.receiveCount >= o.maxReceives) {
      await this.#deadLetter(queue, s, o.dlq, `received ${s.state.receiveCount} times without being acknowledged`);
      return 'dead';
    }
    const receipt = `${s.state.id}.${randomBytes(9).toString('base64url')}`;
    const state: State = { ...s.state, receiveCount: s.state.receiveCount + 1, firstReceivedAt: s.state.firstReceivedAt ?? o.now, receipt, visibleAt: o.now + o.lease };
    return (await this.#update(queue, s, state)) ? toMessage(queue, { ...s, state }, receipt) : 'lost';
  }

  /** The message `receipt` currently leases, if it does. */
  async #current(queue: string, receipt: string): Promise<Stored | undefined> {
    const id = idOf(receipt);
    if (id === undefined) return undefined;
    const s = await this.#message(queue, id);
    return s && s.state.receipt === receipt && !s.state.dead ? s : undefined;
  }

  async ack(queue: string, receipts: readonly string[]): Promise<string[]> {
    const settled = await Promise.all(receipts.map(async (receipt) => {
      const s = await this.#current(queue, receipt);
      return s !== undefined && (await this.#remove(queue, s));
    }));
    return receipts.filter((_, i) => settled[i]);
  }

  async retry(queue: string, receipt: string, options: RetryOptions = {}): Promise<'retried' | 'dead' | 'stale'> {
    const info = await this.#require(queue);
    const s = await this.#current(queue, receipt);
    if (!s) return 'stale';
    const maxReceives = options.maxReceives ?? info.config.maxReceiveCount;
    if (maxReceives !== undefined && s.state.receiveCount >= maxReceives) {
      const dlq = options.maxReceives !== undefined ? options.deadLetterQueue : info.config.deadLetterQueue;
      return (await this.#deadLetter(queue, s, dlq, options.reason ?? `failed ${s.state.receiveCount} times`)) ? 'dead' : 'stale';
    }
    const { receipt: _receipt, ...rest } = s.state;
    if (!(await this.#update(queue, s, { ...rest, visibleAt: this.#now() + (options.delaySeconds ?? 0) * 1000 }))) return 'stale';
    this.#wake(queue);
    return 'retried';
  }

  async changeVisibility(queue: string, receipt: string, seconds: number): Promise<boolean> {
    const s = await this.#current(queue, receipt);
    if (!s || !(await this.#update(queue, s, { ...s.state, visibleAt: this.#now() + seconds * 1000 }))) return false;
    if (seconds === 0) this.#wake(queue);
    return true;
  }

  async purge(queue: string): Promise<number> {
    await this.#require(queue);
    return this.#purgeMessages(queue);
  }

  async #purgeMessages(queue: string): Promise<number> {
    this.#dropIndex(queue);
    const purged = await this.#jsm.streams.purge(`KV_${this.#bucket}`, { filter: `$KV.${this.#bucket}.m.${encodeToken(queue)}.*` });
    return purged.purged;
  }

  async stats(queue: string): Promise<QueueStats> {
    await this.#require(queue);
    const now = this.#now();
    const stats: QueueStats = { name: queue, visible: 0, inFlight: 0, delayed: 0, dead: 0 };
    for (const { state } of await this.#messages(queue)) {
      if (state.dead) {
        stats.dead++;
        continue;
      }
      if (state.visibleAt <= now) stats.visible++;
      else if (state.receipt !== undefined) stats.inFlight++;
      else stats.delayed++;
      if (stats.oldestSentAt === undefined || state.sentAt < stats.oldestSentAt) stats.oldestSentAt = state.sentAt;
    }
    return stats;
  }

  async peek(queue: string, options: PeekOptions): Promise<QueueMessage[]> {
    await this.#require(queue);
    return (await this.#messages(queue))
      .filter((s) => options.dead === undefined || (s.state.dead === true) === options.dead)
      .slice(0, options.limit)
      .map((s) => toMessage(queue, s));
  }

  async redrive(queue: string, options: { to?: string; limit?: number } = {}): Promise<number> {
    await this.#require(queue);
    const movable = (await this.#messages(queue)).filter((s) => s.state.dead || s.state.sourceQueue !== undefined).slice(0, options.limit ?? Infinity);
    const targets = new Set<string>();
    let n = 0;
    for (const s of movable) {
      const target = options.to ?? s.state.sourceQueue ?? queue;
      await this.#ensure(target);
      const { id, sentAt, contentType, attributes, senderId } = s.state;
      const state: State = { id, sentAt, visibleAt: this.#now(), receiveCount: 0, ...(contentType === undefined ? {} : { contentType }), ...(attributes === undefined ? {} : { attributes }), ...(senderId === undefined ? {} : { senderId }) };
      if (target === queue) {
        if (!(await this.#update(queue, s, state))) continue;
      } else {
        try {
          await this.#create(target, state, s.body);
        } catch (error) {
          if (!isWrongLastSequence(error)) throw error;
          continue; // the target already holds a message with this id
        }
        await this.#remove(queue, s);
      }
      n++;
      targets.add(target);
    }
    for (const t of targets) this.#wake(t);
    return n;
  }

  async nextVisibleAt(queue: string): Promise<number | undefined> {
    const now = this.#now();
    let next: number | undefined;
    for (const { state } of await this.#messages(queue)) {
      if (!state.dead && state.visibleAt > now && (next === undefined || state.visibleAt < next)) next = state.visibleAt;
    }
    return next;
  }

  subscribe(listener: (queue: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops hearing other nodes' wake-ups (the store is closing). */
  close(): void {
    this.#wakeups.unsubscribe();
    for (const index of this.#indexes.values()) index.close();
  }
}
