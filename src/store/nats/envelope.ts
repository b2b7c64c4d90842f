/**
 * @module
 * The byte layout of entries that carry raw bytes beside structured fields (KV values with
 * metadata, queue messages with their state): a 4-byte big-endian length, that many bytes of
 * JSON, then the raw bytes. Bodies stay binary (no base64 growth) and the fields stay readable.
 */

export function packEnvelope(head: object, body: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(head));
  const out = new Uint8Array(4 + json.length + body.byteLength);
  new DataView(out.buffer).setUint32(0, json.length);
  out.set(json, 4);
  out.set(body, 4 + json.length);
  return out;
}

export function unpackEnvelope<T>(data: Uint8Array): { head: T; body: Uint8Array } {
  const length = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
  return { head: JSON.parse(Buffer.from(data.subarray(4, 4 + length)).toString('utf8')) as T, body: data.slice(4 + length) };
}
