/**
 * @module
 * BlobStore on a NATS Object Store bucket (chunked; the client records and checks a SHA-256). Keys
 * follow the embedded store's rule (relative paths of `[a-zA-Z0-9._/-]`, never `..`) so the same
 * key works on both backends and maps to a safe cache path.
 *
 * `localPath` materialises the blob in the cache directory the first time and reuses it
 * afterwards. The cached file is named by the blob's version (the Object Store's nuid, new with
 * every put) as well as its key, so it never goes stale even if a key were rewritten (Outpost's
 * keys are content-addressed anyway: bundles are named by their hash). The bucket is asked for
 * the version each time, so a deleted blob has no path even where an old copy is cached.
 */
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ObjectStore } from '@nats-io/obj';
import { OutpostError } from '../../errors.ts';
import type { BlobStore } from '../types.ts';

function checkKey(key: string): string {
  if (!/^[a-zA-Z0-9._/-]+$/.test(key) || key.split('/').some((s) => s === '..' || s === '' || s === '.')) {
    throw new OutpostError('INVALID_BLOB_KEY', `invalid blob key ${JSON.stringify(key)}`);
  }
  return key;
}

export class NatsBlobs implements BlobStore {
  readonly #bucket: ObjectStore;
  readonly #cacheDir: string;

  constructor(bucket: ObjectStore, cacheDir: string) {
    this.#bucket = bucket;
    this.#cacheDir = cacheDir;
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    await this.#bucket.putBlob({ name: checkKey(key) }, data);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    if (!(await this.#info(key))) return undefined;
    return (await this.#bucket.getBlob(key)) ?? undefined;
  }

  /** The blob's current version (its Object Store nuid changes with every put), if it exists. */
  async #info(key: string): Promise<{ nuid: string } | undefined> {
    const info = await this.#bucket.info(checkKey(key));
    return info !== null && !info.deleted ? info : undefined;
  }

  async has(key: string): Promise<boolean> {
    return (await this.#info(key)) !== undefined;
  }

  /** Where this version of the blob is cached: the version before the file name, the extension kept. */
  #cachePath(key: string, nuid: string): string {
    return join(this.#cacheDir, dirname(key), `${nuid}.${basename(key)}`);
  }

  async delete(key: string): Promise<void> {
    const info = await this.#info(key);
    if (!info) return;
    await this.#bucket.delete(key);
    await rm(this.#cachePath(key, info.nuid), { force: true });
  }

  async localPath(key: string): Promise<string | undefined> {
    const info = await this.#info(key);
    if (!info) return undefined;
    const path = this.#cachePath(key, info.nuid);
    if (await stat(path).catch(() => undefined)) return path;
    const data = await this.#bucket.getBlob(key);
    if (data === null) return undefined;
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, path);
    return path;
  }
}
