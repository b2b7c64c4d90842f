/**
 * @module
 * Deno KV keys ↔ bytes. A key is a tuple of parts (Uint8Array, string, number, bigint,
 * boolean); the encoding is chosen so that comparing the bytes compares the keys in the order
 * Deno documents for `Deno.KvKeyPart`: first by type (Uint8Array < string < number < bigint <
 * boolean), then by value (bytes and UTF-8 bytewise; numbers -NaN < -Infinity < … < -0 < 0 <
 * … < Infinity < NaN; bigints mathematically; false < true). The bytes never leave the host.
 *
 * Layout per part (FoundationDB tuple style): a type byte, then
 * - bytes/string: the bytes with 0x00 escaped as 0x00 0xFF, ended by 0x00;
 * - number: 8 bytes of IEEE 754 big-endian, sign bit flipped (all bits for negatives);
 * - bigint: a length byte (0x80 + n for n ≥ 0, 0x7F − n for negatives) and the magnitude
 *   (its complement for negatives), big-endian;
 * - booleans: the type byte alone.
 */

export type KvKeyPart = Uint8Array | string | number | bigint | boolean;
export type KvKey = readonly KvKeyPart[];

const BYTES = 0x01;
const STRING = 0x02;
const NUMBER = 0x21;
const BIGINT = 0x28;
const FALSE = 0x30;
const TRUE = 0x31;

/** Deno's limit on an encoded key. */
export const MAX_KEY_BYTES = 2048;
const MAX_BIGINT_BYTES = 126;

export class KvKeyError extends TypeError {
  readonly code = 'DENOKV_INVALID_KEY';
}

function escaped(out: number[], bytes: Uint8Array): void {
  for (const b of bytes) {
    out.push(b);
    if (b === 0) out.push(0xff);
  }
  out.push(0);
}

function bigintBytes(n: bigint): number[] {
  const out: number[] = [];
  while (n > 0n) {
    out.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  return out;
}

function encodePart(out: number[], part: unknown): void {
  if (part instanceof Uint8Array) {
    out.push(BYTES);
    escaped(out, part);
  } else if (typeof part === 'string') {
    out.push(STRING);
    escaped(out, new TextEncoder().encode(part));
  } else if (typeof part === 'number') {
    out.push(NUMBER);
    const bytes = new Uint8Array(8);
    // JavaScript has one NaN, written as the canonical positive NaN: it sorts after Infinity.
    new DataView(bytes.buffer).setFloat64(0, part);
    if ((bytes[0] ?? 0) & 0x80) for (let i = 0; i < 8; i++) bytes[i] = ~(bytes[i] ?? 0) & 0xff;
    else bytes[0] = (bytes[0] ?? 0) | 0x80;
    out.push(...bytes);
  } else if (typeof part === 'bigint') {
    out.push(BIGINT);
    const negative = part < 0n;
    const magnitude = bigintBytes(negative ? -part : part);
    if (magnitude.length > MAX_BIGINT_BYTES) throw new KvKeyError('bigint key part is too large');
    if (negative) {
      out.push(0x7f - magnitude.length, ...magnitude.map((b) => ~b & 0xff));
    } else out.push(0x80 + magnitude.length, ...magnitude);
  } else if (typeof part === 'boolean') {
    out.push(part ? TRUE : FALSE);
  } else {
    throw new KvKeyError(`invalid key part: ${part === null ? 'null' : typeof part} (key parts are Uint8Array, string, number, bigint or boolean)`);
  }
}

/** Encodes a key; throws KvKeyError for a part of the wrong type or a key over 2048 bytes. */
export function encodeKey(key: unknown): Uint8Array {
  if (!Array.isArray(key)) throw new KvKeyError('a key must be an array of key parts');
  const out: number[] = [];
  for (const part of key) encodePart(out, part);
  if (out.length > MAX_KEY_BYTES) throw new KvKeyError(`Key too large for write (max ${MAX_KEY_BYTES} bytes)`);
  return new Uint8Array(out);
}

function unescape(bytes: Uint8Array, at: number): { value: Uint8Array; next: number } {
  const out: number[] = [];
  let i = at;
  for (;;) {
    const b = bytes[i++];
    if (b === undefined) throw new KvKeyError('truncated key');
    if (b === 0) {
      if (bytes[i] === 0xff) {
        out.push(0);
        i++;
        continue;
      }
      return { value: new Uint8Array(out), next: i };
    }
    out.push(b);
  }
}

/** Bytes → the key they encode. */
export function decodeKey(bytes: Uint8Array): KvKeyPart[] {
  const parts: KvKeyPart[] = [];
  let i = 0;
  while (i < bytes.length) {
    const type = bytes[i++];
    if (type === BYTES || type === STRING) {
      const { value, next } = unescape(bytes, i);
      parts.push(type === BYTES ? value : new TextDecoder().decode(value));
      i = next;
    } else if (type === NUMBER) {
      const raw = bytes.slice(i, i + 8);
      if ((raw[0] ?? 0) & 0x80) raw[0] = (raw[0] ?? 0) & 0x7f;
      else for (let k = 0; k < 8; k++) raw[k] = ~(raw[k] ?? 0) & 0xff;
      parts.push(new DataView(raw.buffer).getFloat64(0));
      i += 8;
    } else if (type === BIGINT) {
      const head = bytes[i++] ?? 0x80;
      const negative = head < 0x80;
      const length = negative ? 0x7f - head : head - 0x80;
      let n = 0n;
      for (let k = 0; k < length; k++) n = (n << 8n) | BigInt(negative ? ~(bytes[i + k] ?? 0) & 0xff : (bytes[i + k] ?? 0));
      parts.push(negative ? -n : n);
      i += length;
    } else if (type === FALSE || type === TRUE) {
      parts.push(type === TRUE);
    } else {
      throw new KvKeyError(`unknown key part type 0x${(type ?? 0).toString(16)}`);
    }
  }
  return parts;
}

/** The range of keys strictly under `prefix` (the prefix key itself excluded, as Deno's list does). */
export function prefixRange(prefix: Uint8Array): { start: Uint8Array; end: Uint8Array } {
  const start = new Uint8Array(prefix.length + 1);
  start.set(prefix);
  start[prefix.length] = 0x00;
  const end = new Uint8Array(prefix.length + 1);
  end.set(prefix);
  end[prefix.length] = 0xff;
  return { start, end };
}

/** The smallest byte string greater than `key` (for exclusive → inclusive bounds). */
export function successor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
