/**
 * @module
 * Hashing beside the write path: S3's ETag needs the MD5 of every body, and MD5 runs at about
 * 600–750 MB/s on one core — slower than the disk. A large body is hashed on one worker thread
 * (shared by the store, started on first use, unref'd) straight out of the writer's
 * SharedArrayBuffer blocks, at the same time as those blocks are written, so the event loop only
 * receives and copies. Each block is acknowledged once hashed, so the writer reuses it: nothing
 * is allocated per block and a slow hash holds back the upload instead of piling up memory.
 * Small bodies are hashed inline.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.t === 'data') {
    for (const [, h] of jobs.get(m.id) ?? []) h.update(new Uint8Array(m.buffer, m.offset, m.length));
    parentPort.postMessage({ id: m.id, t: 'hashed' });
  } else if (m.t === 'start') jobs.set(m.id, m.algorithms.map((a) => [a, createHash(a)]));
  else if (m.t === 'end') {
    const hashes = jobs.get(m.id) ?? [];
    jobs.delete(m.id);
    parentPort.postMessage({ id: m.id, t: 'digests', digests: Object.fromEntries(hashes.map(([a, h]) => [a, h.digest('hex')])) });
  } else if (m.t === 'drop') jobs.delete(m.id);
});
`;

/** Running digests of one body, hashed inline. */
export interface Digester {
  update(block: Uint8Array): void;
  digest(): Promise<Record<string, string>>;
  drop(): void;
}

/** Running digests of one body, hashed on the hashing thread. */
export interface SharedDigester {
  /**
   * Hashes `block` (a view of a SharedArrayBuffer) on the hashing thread; resolves once it has
   * been hashed and may be overwritten. Blocks are hashed in the order they are given.
   */
  update(block: Uint8Array): Promise<void>;
  digest(): Promise<Record<string, string>>;
  drop(): void;
}

class InlineDigester implements Digester {
  readonly #hashes: Array<[string, ReturnType<typeof createHash>]>;
  constructor(algorithms: readonly string[]) {
    this.#hashes = algorithms.map((a) => [a, createHash(a)]);
  }
  update(block: Uint8Array): void {
    for (const [, h] of this.#hashes) h.update(block);
  }
  async digest(): Promise<Record<string, string>> {
    return Object.fromEntries(this.#hashes.map(([a, h]) => [a, h.digest('hex')]));
  }
  drop(): void {}
}

/** What the hashing thread still owes one body: block acknowledgements (in order), then its digests. */
interface Job {
  blocks: Array<PromiseWithResolvers<void>>;
  digests: PromiseWithResolvers<Record<string, string>> | undefined;
}

type Reply = { id: number; t: 'hashed' } | { id: number; t: 'digests'; digests: Record<string, string> };

export class HashThread {
  #worker: Worker | undefined;
  #seq = 0;
  readonly #jobs = new Map<number, Job>();

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', (m: Reply) => {
      const job = this.#jobs.get(m.id);
      if (!job) return;
      if (m.t === 'hashed') job.blocks.shift()?.resolve();
      else {
        this.#jobs.delete(m.id);
        job.digests?.resolve(m.digests);
      }
      this.#idle(worker);
    });
    const fail = (error: Error): void => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const job of this.#jobs.values()) {
        for (const b of job.blocks) b.reject(error);
        job.digests?.reject(error);
      }
      this.#jobs.clear();
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new Error('the hashing thread stopped')));
    // After the listeners: adding a 'message' listener refs the worker again.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  /** Referenced only while someone waits for it: an idle store does not keep the process alive. */
  #idle(worker: Worker): void {
    for (const job of this.#jobs.values()) if (job.blocks.length > 0 || job.digests) return;
    worker.unref();
  }

  /** A digester on the hashing thread, for blocks of SharedArrayBuffers. */
  shared(algorithms: readonly string[]): SharedDigester {
    const worker = this.#start();
    const id = ++this.#seq;
    const job: Job = { blocks: [], digests: undefined };
    this.#jobs.set(id, job);
    worker.postMessage({ t: 'start', id, algorithms });
    const stopped = (): Error | undefined => (this.#worker === worker && this.#jobs.get(id) === job ? undefined : new Error('the hashing thread stopped'));
    return {
      update: (block) => {
        const error = stopped();
        if (error) return Promise.reject(error);
        const hashed = Promise.withResolvers<void>();
        job.blocks.push(hashed);
        worker.ref();
        worker.postMessage({ t: 'data', id, buffer: block.buffer, offset: block.byteOffset, length: block.byteLength });
        return hashed.promise;
      },
      digest: () => {
        const error = stopped();
        if (error) return Promise.reject(error);
        job.digests = Promise.withResolvers<Record<string, string>>();
        worker.ref();
        worker.postMessage({ t: 'end', id });
        return job.digests.promise;
      },
      drop: () => {
        if (this.#jobs.get(id) !== job) return;
        this.#jobs.delete(id);
        for (const b of job.blocks) b.reject(new Error('the upload was dropped'));
        job.digests?.reject(new Error('the upload was dropped'));
        worker.postMessage({ t: 'drop', id });
        this.#idle(worker);
      },
    };
  }

  inline(algorithms: readonly string[]): Digester {
    return new InlineDigester(algorithms);
  }

  async close(): Promise<void> {
    await this.#worker?.terminate();
    this.#worker = undefined;
  }
}
