/** @module Unit tests of SigV4 verification (against AWS's documented example), the aws-chunked decoder and the S3 addressing helpers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IncomingMessage } from 'node:http';
import { decodeAwsChunked, SigV4Error, verifySigV4 } from './sigv4.ts';
import { address, parseRange } from './s3.ts';

async function decode(pieces: string[]): Promise<string> {
  async function* source(): AsyncGenerator<Uint8Array> {
    for (const p of pieces) yield Buffer.from(p, 'latin1');
  }
  let out = '';
  for await (const c of decodeAwsChunked(source())) out += Buffer.from(c).toString('latin1');
  return out;
}

test('aws-chunked bodies decode whatever the network splits, signed and unsigned-with-trailer forms', async () => {
  const signed = `5;chunk-signature=${'a'.repeat(64)}\r\nhello\r\n6;chunk-signature=${'b'.repeat(64)}\r\n world\r\n0;chunk-signature=${'c'.repeat(64)}\r\n\r\n`;
  const trailer = '5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n';
  for (const body of [signed, trailer]) {
    assert.equal(await decode([body]), 'hello world');
    assert.equal(await decode([...body]), 'hello world', 'split into single bytes');
    assert.equal(await decode([body.slice(0, 9), body.slice(9, 40), body.slice(40)]), 'hello world');
  }
  await assert.rejects(decode(['5\r\nhel']), /ended before its last chunk/);
  const trailers = new Map<string, string>();
  async function* one(): AsyncGenerator<Uint8Array> {
    yield Buffer.from(trailer.slice(0, 30));
    yield Buffer.from(trailer.slice(30));
  }
  for await (const _ of decodeAwsChunked(one(), trailers)) void _;
  assert.equal(trailers.get('x-amz-checksum-crc32'), 'DUoRhQ==');
  await assert.rejects(decode(['zz\r\nhello\r\n']), /malformed aws-chunked body/);
});

test('S3 addressing: path style, virtual host style; Range headers', () => {
  assert.deepEqual(address('127.0.0.1:4566', '/'), { bucket: undefined, key: undefined });
  assert.deepEqual(address('127.0.0.1:4566', '/b1'), { bucket: 'b1', key: undefined });
  assert.deepEqual(address('127.0.0.1:4566', '/b1/a%20b/c'), { bucket: 'b1', key: 'a b/c' });
  assert.deepEqual(address('b1.localhost:4566', '/a/b'), { bucket: 'b1', key: 'a/b' });
  assert.deepEqual(address('b1.s3.localhost', '/'), { bucket: 'b1', key: undefined });
  assert.deepEqual(address('s3.localhost:4566', '/b1/k'), { bucket: 'b1', key: 'k' });
  assert.deepEqual(parseRange('bytes=0-9'), { offset: 0, length: 10 });
  assert.deepEqual(parseRange('bytes=5-'), { offset: 5 });
  assert.deepEqual(parseRange('bytes=-5'), { suffix: 5 });
  assert.equal(parseRange('bytes=0-1,4-5'), undefined);
  assert.equal(parseRange('items=0-1'), undefined);
});

// AWS's documented chunked-upload example ("Signature Calculations for the Authorization Header:
// Transferring Payload in Multiple Chunks", Example: PUT Object): its seed signature and chunk
// signatures are the test vectors.
const EXAMPLE = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  seed: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  chunks: ['ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648', '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497', 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9'],
};

function exampleRequest(signature: string): IncomingMessage {
  const headers: Array<[string, string]> = [
    ['Host', 's3.amazonaws.com'],
    ['x-amz-date', '20130524T000000Z'],
    ['x-amz-storage-class', 'REDUCED_REDUNDANCY'],
    ['Authorization', `AWS4-HMAC-SHA256 Credential=${EXAMPLE.accessKeyId}/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=${signature}`],
    ['x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'],
    ['Content-Encoding', 'aws-chunked'],
    ['x-amz-decoded-content-length', '66560'],
    ['Content-Length', '66824'],
  ];
  return {
    method: 'PUT',
    url: '/examplebucket/chunkObject.txt',
    rawHeaders: headers.flat(),
    headers: Object.fromEntries(headers.map(([k, v]) => [k.toLowerCase(), v])),
  } as unknown as IncomingMessage;
}

test('SigV4 and chunk signatures match AWS\'s documented chunked-upload example; tampering is refused', async () => {
  const now = Date.UTC(2013, 4, 24, 0, 5);
  const lookup = async (id: string): Promise<string | undefined> => (id === EXAMPLE.accessKeyId ? EXAMPLE.secret : undefined);
  const req = exampleRequest(EXAMPLE.seed);
  const verified = await verifySigV4(req, new URL('http://s3.amazonaws.com/examplebucket/chunkObject.txt'), lookup, now);
  assert.equal(verified.accessKeyId, EXAMPLE.accessKeyId);
  const signer = verified.chunkSigner;
  assert.ok(signer);
  const body = (sigs: readonly string[], data = 'a'): string =>
    `10000;chunk-signature=${sigs[0]}\r\n${data.repeat(65536)}\r\n400;chunk-signature=${sigs[1]}\r\n${'a'.repeat(1024)}\r\n0;chunk-signature=${sigs[2]}\r\n\r\n`;
  const run = async (text: string): Promise<number> => {
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < text.length; at += 10_000) yield Buffer.from(text.slice(at, at + 10_000), 'latin1');
    }
    let n = 0;
    for await (const c of decodeAwsChunked(source(), undefined, signer)) n += c.byteLength;
    return n;
  };
  assert.equal(await run(body(EXAMPLE.chunks)), 66_560);
  await assert.rejects(run(body(EXAMPLE.chunks, 'b')), (e: unknown) => e instanceof SigV4Error && e.s3Code === 'SignatureDoesNotMatch', 'changed data');
  await assert.rejects(run(body([EXAMPLE.chunks[1] ?? '', EXAMPLE.chunks[0] ?? '', EXAMPLE.chunks[2] ?? ''])), (e: unknown) => e instanceof SigV4Error && e.s3Code === 'SignatureDoesNotMatch', 'reordered signatures');
  await assert.rejects(verifySigV4(exampleRequest(EXAMPLE.seed.replace('4f', '5f')), new URL('http://s3.amazonaws.com/examplebucket/chunkObject.txt'), lookup, now), (e: unknown) => e instanceof SigV4Error && e.s3Code === 'SignatureDoesNotMatch');
  await assert.rejects(verifySigV4(req, new URL('http://s3.amazonaws.com/examplebucket/chunkObject.txt'), lookup, now + 3_600_000), (e: unknown) => e instanceof SigV4Error && e.s3Code === 'RequestTimeTooSkewed');
});
