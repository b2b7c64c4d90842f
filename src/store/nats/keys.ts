/**
 * @module
 * Outpost keys as NATS subject tokens. NATS KV keys (and object names we filter on) may only
 * hold `[-/_=.a-zA-Z0-9]`, and `.` separates subject tokens, so a key is encoded as one token:
 * bytes outside `[-/_a-zA-Z0-9]` become `=` and two upper-case hex digits of their UTF-8 bytes
 * (`=` itself included, so decoding is unambiguous). The encoding keeps non-empty prefixes
 * (the encoding of `p + x` starts with the encoding of `p`) but not order, so listings filter
 * and sort decoded keys. The empty string becomes `=`, which no other key encodes to.
 */

const PLAIN = /^[-/_a-zA-Z0-9]$/;
const EMPTY = '=';

/** One subject token for `key`. */
export function encodeToken(key: string): string {
  if (key === '') return EMPTY;
  let out = '';
  for (const ch of key) {
    if (PLAIN.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The key `token` encodes; inverse of {@link encodeToken}. */
export function decodeToken(token: string): string {
  if (token === EMPTY) return '';
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '=') {
      bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Byte (UTF-8, i.e. code point) order of strings, the order the embedded store lists in. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
