/**
 * @module
 * Access keys for the AWS port (`outpost keys create|list|delete`): an access key id and a
 * secret, kept in the MetaStore under `access-keys/<id>`. SigV4 is an HMAC, so the node needs
 * the secret itself to verify a signature (as AWS does): the secret is stored, is returned
 * once by `create`, and never by any other API or command.
 *
 * Control API (behind its auth): GET /_outpost/api/keys, POST /_outpost/api/keys {label?},
 * DELETE /_outpost/api/keys/<id>.
 */
import { randomBytes } from 'node:crypto';
import { OutpostError } from '../errors.ts';
import type { GatewayHook } from '../server/context.ts';
import type { MetaStore } from '../store/types.ts';
import { readJsonObject as readJson, sendJson as send } from '../control/http.ts';

const PREFIX = 'access-keys/';
const ROUTE = '/_outpost/api/keys';
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

interface AccessKeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  label: string;
  createdAt: string;
}

export interface AccessKeySummary {
  accessKeyId: string;
  label: string;
  createdAt: string;
}

export class AccessKeys {
  readonly #meta: MetaStore;
  #cache = new Map<string, string | undefined>();

  constructor(meta: MetaStore) {
    this.#meta = meta;
    meta.watch(PREFIX, () => (this.#cache = new Map()));
  }

  /** Creates a key pair; the only time the secret is returned. */
  async create(label: string): Promise<AccessKeyRecord> {
    const id = `OPAK${[...randomBytes(16)].map((b) => ID_ALPHABET[b % 32]).join('')}`;
    const record: AccessKeyRecord = { accessKeyId: id, secretAccessKey: randomBytes(30).toString('base64'), label, createdAt: new Date().toISOString() };
    await this.#meta.put(PREFIX + id, record, { expectRevision: 0 });
    return record;
  }

  async list(): Promise<AccessKeySummary[]> {
    return (await this.#meta.list<AccessKeyRecord>(PREFIX)).map(({ value: { accessKeyId, label, createdAt } }) => ({ accessKeyId, label, createdAt }));
  }

  /** False when there was no such key. */
  async delete(accessKeyId: string): Promise<boolean> {
    const existing = await this.#meta.get(PREFIX + accessKeyId);
    if (!existing) return false;
    await this.#meta.delete(PREFIX + accessKeyId);
    return true;
  }

  /** The secret of a key, for signature checks. */
  async secretOf(accessKeyId: string): Promise<string | undefined> {
    if (this.#cache.has(accessKeyId)) return this.#cache.get(accessKeyId);
    const secret = (await this.#meta.get<AccessKeyRecord>(PREFIX + accessKeyId))?.value.secretAccessKey;
    this.#cache.set(accessKeyId, secret);
    return secret;
  }
}



/** The control API routes of `outpost keys`. */
export function accessKeysApi(keys: AccessKeys): GatewayHook {
  return async (req, res, requestId) => {
    const path = new URL(req.url ?? '/', 'http://node').pathname;
    if (path !== ROUTE && !path.startsWith(`${ROUTE}/`)) return false;
    const id = decodeURIComponent(path.slice(ROUTE.length + 1));
    if (id === '' && req.method === 'GET') {
      send(res, 200, { keys: await keys.list() }, requestId);
    } else if (id === '' && req.method === 'POST') {
      const body = await readJson(req);
      const record = await keys.create(typeof body['label'] === 'string' ? body['label'] : '');
      send(res, 201, record, requestId);
    } else if (id !== '' && req.method === 'DELETE') {
      if (!(await keys.delete(id))) throw new OutpostError('ACCESS_KEY_NOT_FOUND', `no access key ${id}`, { status: 404, fault: 'user', hint: 'outpost keys list shows the keys' });
      send(res, 200, { deleted: id }, requestId);
    } else {
      return false;
    }
    return true;
  };
}
