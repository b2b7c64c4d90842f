/**
 * @module
 * The wire between host and instance. Everything posted during one turn of the event loop
 * goes as one postMessage: each postMessage costs a serialisation and a wake-up of the other
 * thread, and on a single core those, not the work, were the bottleneck (bench/throughput).
 *
 * Messages travel as one JSON string (V8's JSON is several times faster than structured
 * clone for small objects) with their binary fields (`bytes`, `body`, `data`) moved to a side
 * list of Uint8Arrays. Messages carrying arbitrary values (binding calls, events, loads) keep
 * structured clone, so a Uint8Array nested anywhere in them survives.
 */

const BINARY_FIELDS = ['bytes', 'body', 'data'] as const;
const CLONED = new Set(['rpc', 'rpc-result', 'rpc-error', 'event', 'result', 'load', 'error', 'load-error']);

interface Packet {
  /** JSON of the plain messages, with binary fields replaced by `{ $bin: index }`. */
  j: string;
  b: Uint8Array[];
  /** Messages that need structured clone, and their position in the batch. */
  c: Array<[number, unknown]>;
}

interface Tagged {
  t: string;
  [field: string]: unknown;
}

export class Batcher<T extends { t: string }> {
  readonly #send: (packet: Packet, transfer: Transferable[]) => void;
  #queue: T[] = [];
  #transfer: Transferable[] = [];
  #scheduled = false;

  constructor(send: (packet: Packet, transfer: Transferable[]) => void) {
    this.#send = send;
  }

  post(message: T, transfer?: Transferable[]): void {
    // Index assignment, not push(): on the instance side this runs in the function's realm.
    this.#queue[this.#queue.length] = message;
    if (transfer) for (const t of transfer) this.#transfer[this.#transfer.length] = t;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const batch = this.#queue;
    const transfer = this.#transfer;
    this.#queue = [];
    this.#transfer = [];
    if (batch.length > 0) this.#send(encode(batch), transfer);
  };
}

function encode(batch: ReadonlyArray<{ t: string }>): Packet {
  const plain: unknown[] = [];
  const b: Uint8Array[] = [];
  const c: Array<[number, unknown]> = [];
  for (let i = 0; i < batch.length; i++) {
    const message = batch[i] as { t: string };
    if (CLONED.has(message.t)) {
      c[c.length] = [i, message];
      plain[plain.length] = 0;
      continue;
    }
    const m = message as Tagged;
    let copy: Tagged | undefined;
    for (const field of BINARY_FIELDS) {
      const value = m[field];
      if (value instanceof Uint8Array) {
        copy ??= { ...m };
        copy[field] = { $bin: b.length };
        b[b.length] = value;
      }
    }
    plain[plain.length] = copy ?? m;
  }
  return { j: JSON.stringify(plain), b, c };
}

/** Restores a batch posted by a Batcher. */
export function decode<T>(packet: Packet): T[] {
  const plain = JSON.parse(packet.j) as Array<Tagged | 0>;
  for (const [i, message] of packet.c) plain[i] = message as Tagged;
  for (const m of plain) {
    if (m === 0) continue;
    for (const field of BINARY_FIELDS) {
      const value = m[field] as { $bin?: number } | undefined;
      if (value !== null && typeof value === 'object' && typeof value.$bin === 'number') m[field] = packet.b[value.$bin];
    }
  }
  return plain as T[];
}

export type { Packet };
