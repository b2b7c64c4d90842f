/**
 * @module
 * Reads the newest message of every subject under a filter in one pass: an ordered consumer
 * with `deliver_policy: last_per_subject`, fetched in batches until the server reports nothing
 * pending. This is how listings read a KV bucket (keys and values together) without a request
 * per key. The consumer is ephemeral and goes away with the scan.
 */
import { DeliverPolicy } from '@nats-io/jetstream';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';

export interface ScannedMessage {
  subject: string;
  seq: number;
  data: Uint8Array;
  /** KV-Operation header (`DEL`, `PURGE`), absent for puts. */
  operation?: string;
}

const BATCH = 1000;

/** The latest message of each subject matching `filter` in `stream`, in stream order; `headersOnly` leaves the data out. */
export async function lastPerSubject(js: JetStreamClient, stream: string, filter: string, options: { headersOnly?: boolean } = {}): Promise<ScannedMessage[]> {
  const consumer = await js.consumers.get(stream, { filter_subjects: filter, deliver_policy: DeliverPolicy.LastPerSubject, headers_only: options.headersOnly === true });
  try {
    const info = await consumer.info(false);
    let pending = info.num_pending;
    const out: ScannedMessage[] = [];
    while (pending > 0) {
      const batch = await consumer.fetch({ max_messages: Math.min(BATCH, pending), expires: 5_000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        out.push(scanned(m));
        pending = m.info.pending;
        if (pending === 0) break;
      }
      if (got === 0) break;
    }
    return out;
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}

function scanned(m: JsMsg): ScannedMessage {
  const operation = m.headers?.get('KV-Operation');
  return { subject: m.subject, seq: m.seq, data: m.data, ...(operation ? { operation } : {}) };
}

/** The messages of `filter` in `stream` with sequences from `start` to `until` (inclusive), in order. */
export async function readFrom(js: JetStreamClient, stream: string, filter: string, start: number, until: number): Promise<ScannedMessage[]> {
  const consumer = await js.consumers.get(stream, { filter_subjects: filter, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start });
  try {
    const out: ScannedMessage[] = [];
    let more = true;
    while (more) {
      more = false;
      const batch = await consumer.fetch({ max_messages: BATCH, expires: 5_000 });
      for await (const m of batch) {
        if (m.seq > until) break;
        out.push(scanned(m));
        if (m.seq === until || m.info.pending === 0) break;
        more = true;
      }
      if (out.at(-1)?.seq === until) break;
    }
    return out;
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}
