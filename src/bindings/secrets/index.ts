/**
 * @module
 * Secrets: values set with `outpost secret put`, stored encrypted (AES-256-GCM, node:crypto)
 * in the store's metadata under `secrets/<function>/<name>`, and handed to a function on `env`
 * (and `process.env` for Node styles) when an instance loads. The node is the only party that
 * decrypts; no API returns a value after it was set (listing shows names and dates only).
 *
 * The key is 32 bytes: `OUTPOST_SECRETS_KEY` (base64) when set, otherwise `secrets.key` in the
 * state directory, created with mode 0600 at first use. The ciphertext is bound to its slot
 * (function and name as additional authenticated data), so a record copied to another function
 * does not decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OutpostError } from '../../errors.ts';
import type { MetaStore } from '../../store/types.ts';

const PREFIX = 'secrets/';
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const FUNCTION = /^[a-zA-Z0-9_-]{1,63}$/;
/** Largest secret value (Workers allows 5 KiB per secret). */
export const MAX_SECRET_BYTES = 5 * 1024;

interface SealedSecret {
  iv: string;
  tag: string;
  data: string;
  updatedAt: string;
}

export interface SecretInfo {
  name: string;
  updatedAt: string;
}

/** Reads (or creates) the 32-byte key: `OUTPOST_SECRETS_KEY`, else `<stateDir>/secrets.key`. */
export function secretsKeySource(stateDir: string | undefined, env: Record<string, string | undefined> = process.env): () => Promise<Buffer> {
  let cached: Promise<Buffer> | undefined;
  const load = async (): Promise<Buffer> => {
    const fromEnv = env['OUTPOST_SECRETS_KEY'];
    if (fromEnv !== undefined && fromEnv !== '') {
      const key = Buffer.from(fromEnv, 'base64');
      if (key.byteLength !== 32) {
        throw new OutpostError('SECRETS_KEY_INVALID', `OUTPOST_SECRETS_KEY must be 32 bytes in base64, got ${key.byteLength} bytes`, {
          hint: 'generate one with: node -e "console.log(crypto.randomBytes(32).toString(\'base64\'))"',
        });
      }
      return key;
    }
    if (stateDir === undefined) {
      throw new OutpostError('SECRETS_KEY_INVALID', 'this node has no state directory and no OUTPOST_SECRETS_KEY to encrypt secrets with', {
        hint: 'set OUTPOST_SECRETS_KEY (32 bytes, base64) or start the node with --state <dir>',
      });
    }
    const path = join(stateDir, 'secrets.key');
    try {
      const handle = await open(path, 'wx', 0o600);
      const key = randomBytes(32);
      try {
        await handle.writeFile(key.toString('base64'));
        await handle.sync();
      } finally {
        await handle.close();
      }
      return key;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
    if (key.byteLength !== 32) throw new OutpostError('SECRETS_KEY_INVALID', `${path} does not hold a 32-byte base64 key`, { hint: 'restore the file from a backup; without it stored secrets cannot be read' });
    return key;
  };
  return () => {
    cached ??= load().catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}

function checkFunction(fn: string): void {
  if (!FUNCTION.test(fn)) throw new OutpostError('INVALID_SECRET', `invalid function name ${JSON.stringify(fn)}`, { status: 400, fault: 'user' });
}

function checkName(name: string): void {
  if (!NAME.test(name)) {
    throw new OutpostError('INVALID_SECRET', `invalid secret name ${JSON.stringify(name)}`, { status: 400, fault: 'user', hint: 'use letters, digits and _, starting with a letter or _ (at most 128)' });
  }
}

/** The node's secrets: encrypts on put, decrypts only for instance loads. */
export class SecretVault {
  readonly #meta: MetaStore;
  readonly #key: () => Promise<Buffer>;
  readonly #now: () => Date;

  constructor(meta: MetaStore, key: () => Promise<Buffer>, now: () => Date = () => new Date()) {
    this.#meta = meta;
    this.#key = key;
    this.#now = now;
  }

  /** Key prefix under which every change to secrets is written (nodes watch it). */
  static readonly prefix = PREFIX;

  /** The function a secrets key belongs to, or undefined for other keys. */
  static functionOf(key: string): string | undefined {
    if (!key.startsWith(PREFIX)) return undefined;
    return key.slice(PREFIX.length).split('/')[0];
  }

  async put(fn: string, name: string, value: string): Promise<void> {
    checkFunction(fn);
    checkName(name);
    const plain = Buffer.from(value, 'utf8');
    if (plain.byteLength > MAX_SECRET_BYTES) throw new OutpostError('INVALID_SECRET', `secret ${name} is ${plain.byteLength} bytes; the limit is ${MAX_SECRET_BYTES}`, { status: 400, fault: 'user' });
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', await this.#key(), iv);
    cipher.setAAD(Buffer.from(`${fn}/${name}`));
    const data = Buffer.concat([cipher.update(plain), cipher.final()]);
    const sealed: SealedSecret = { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64'), updatedAt: this.#now().toISOString() };
    await this.#meta.put(`${PREFIX}${fn}/${name}`, sealed);
  }

  /** Names and dates of a function's secrets — never values. */
  async list(fn: string): Promise<SecretInfo[]> {
    checkFunction(fn);
    return (await this.#meta.list<SealedSecret>(`${PREFIX}${fn}/`)).map((e) => ({ name: e.key.slice(`${PREFIX}${fn}/`.length), updatedAt: e.value.updatedAt }));
  }

  async delete(fn: string, name: string): Promise<void> {
    checkFunction(fn);
    checkName(name);
    const key = `${PREFIX}${fn}/${name}`;
    if (!(await this.#meta.get(key))) throw new OutpostError('SECRET_NOT_FOUND', `${fn} has no secret named ${name}`, { status: 404, fault: 'user', hint: `outpost secret list --function ${fn}` });
    await this.#meta.delete(key);
  }

  /**
   * The decrypted values of a function's secrets, for an instance load on this node, and a
   * fingerprint that changes with any put or delete.
   */
  async values(fn: string): Promise<{ values: Record<string, string>; fingerprint: string }> {
    const entries = await this.#meta.list<SealedSecret>(`${PREFIX}${fn}/`);
    const values: Record<string, string> = {};
    if (entries.length === 0) return { values, fingerprint: '' };
    const key = await this.#key();
    for (const e of entries) {
      const name = e.key.slice(`${PREFIX}${fn}/`.length);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(e.value.iv, 'base64'));
        decipher.setAAD(Buffer.from(`${fn}/${name}`));
        decipher.setAuthTag(Buffer.from(e.value.tag, 'base64'));
        values[name] = Buffer.concat([decipher.update(Buffer.from(e.value.data, 'base64')), decipher.final()]).toString('utf8');
      } catch (error) {
        throw new OutpostError('SECRETS_KEY_INVALID', `secret ${name} of ${fn} does not decrypt with this node's key`, {
          cause: error,
          hint: 'start the node with the key the secret was set with (OUTPOST_SECRETS_KEY or the state dir\'s secrets.key), or set the secret again',
        });
      }
    }
    return { values, fingerprint: entries.map((e) => `${e.key}:${e.revision}`).join(',') };
  }
}

/**
 * Replaces every secret value in `text` with `[REDACTED]`. Values shorter than 4 characters are
 * left alone: redacting them would mangle ordinary output and hide nothing worth hiding.
 */
export function redact(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of values) if (v.length >= 4 && out.includes(v)) out = out.split(v).join('[REDACTED]');
  return out;
}

/** Secret values of one function, longest first (so a value containing another is replaced whole). */
export function redactionList(...sources: Array<Record<string, string>>): string[] {
  const all = new Set<string>();
  for (const s of sources) for (const v of Object.values(s)) if (v.length >= 4) all.add(v);
  return [...all].sort((a, b) => b.length - a.length);
}
