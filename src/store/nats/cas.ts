/**
 * @module
 * Compare-and-set on one key that holds on replicated streams of nats-server 2.9.
 *
 * Why: before 2.9.21, a clustered stream checks a publish's expected-last-*subject*-sequence
 * against what it has applied, not against what it has already proposed, so concurrent
 * publishes expecting the same revision can all be accepted (nats-server issue #4319, fixed in
 * 2.9.21). Measured here on Debian's 2.9.10 with three replicas: about half of three-way races
 * had more than one winner — two nodes each "won" one cron tick. The expected-last-*stream*-
 * sequence is checked against the proposals, so it serialises.
 *
 * How: each publish carries both expectations — the key's revision, and the stream's last
 * sequence as last seen applied (a watcher event, an acknowledgement, or stream info, never a
 * number from an error, which may count proposals not yet applied). When the stream check
 * passes, nothing else is in flight, so the subject check is judged on complete state. When the
 * stream moved on (any other key was written), the key is read again: changed means a real
 * conflict, unchanged means try again with the stream's new last sequence. Costs: one publish
 * when the stream is quiet; under load, a stream-info request and a read per retry — and every
 * compare-and-set of the bucket is serialised, so writers on several nodes do not add up. So
 * the stream order is used only where it is needed: replicated buckets on servers older than
 * 2.9.21 ({@link needsStreamOrder}); elsewhere a write carries the subject expectation alone.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/nats-core';
import { isWrongLastSequence } from './errors.ts';

export interface CompareAndPublish {
  stream: string;
  subject: string;
  data: string | Uint8Array;
  /** The key's revision the write expects (0: the key must not exist). */
  expectedRevision: number;
  /** The stream's last sequence as last seen applied. */
  lastSequence: number;
  /** The key's revision now (0 when missing or deleted). */
  currentRevision: () => Promise<number>;
  headers?: MsgHdrs;
  /** Serialise through the stream's last sequence ({@link needsStreamOrder}); false: the subject check alone. */
  streamOrder: boolean;
  /** Told each applied last sequence learnt from the stream, so the next write starts from it. */
  seen?: (sequence: number) => void;
}

/** How often the stream may move on under one write before it counts as lost. */
const MAX_ATTEMPTS = 50;

/**
 * True when compare-and-set on a bucket with `replicas` replicas, on a server of version
 * `serverVersion`, needs the stream order: replicated, and older than 2.9.21 (or unknown).
 */
export function needsStreamOrder(replicas: number, serverVersion: string | undefined): boolean {
  if (replicas <= 1) return false;
  const [major = 0, minor = 0, patch = 0] = (serverVersion ?? '').split(/[.-]/).map(Number);
  if (!Number.isFinite(major) || !Number.isFinite(minor) || !Number.isFinite(patch) || major === 0) return true;
  return major < 2 || (major === 2 && (minor < 9 || (minor === 9 && patch < 21)));
}

/** Publishes when the key is still at `expectedRevision`; resolves with the new sequence, or undefined on a conflict. */
export async function compareAndPublish(js: JetStreamClient, write: CompareAndPublish): Promise<number | undefined> {
  if (!write.streamOrder) {
    try {
      const ack = await js.publish(write.subject, write.data, { expect: { lastSubjectSequence: write.expectedRevision }, ...(write.headers ? { headers: write.headers } : {}) });
      return ack.seq;
    } catch (error) {
      if (isWrongLastSequence(error)) return undefined;
      throw error;
    }
  }
  // 0 would switch the stream check off: ask the stream instead.
  let lastSequence = write.lastSequence > 0 ? write.lastSequence : await streamLastSequence(js, write.stream);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    try {
      const ack = await js.publish(write.subject, write.data, {
        expect: { lastSequence, lastSubjectSequence: write.expectedRevision },
        ...(write.headers ? { headers: write.headers } : {}),
      });
      return ack.seq;
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
    }
    if ((await write.currentRevision()) !== write.expectedRevision) return undefined;
    lastSequence = await streamLastSequence(js, write.stream);
    write.seen?.(lastSequence);
  }
  return undefined;
}

async function streamLastSequence(js: JetStreamClient, stream: string): Promise<number> {
  return (await (await js.jetstreamManager()).streams.info(stream)).state.last_seq;
}
