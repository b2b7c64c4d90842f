// The R2 binding through real functions on a real node: the Workers R2 API (get with ranges and
// onlyIf, head, put with metadata and checksums, delete, list with delimiter and cursor,
// multipart), bodies streamed in both directions, the same bucket seen through the S3 API, and
// least privilege between functions.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startOutpost, tempDir, writeProject } from './helpers.ts';

const FILES = `
const json = (v, status = 200) => new Response(JSON.stringify(v), { status, headers: { 'content-type': 'application/json' } });
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const key = decodeURIComponent(url.pathname.slice('/obj/'.length));
    if (url.pathname.startsWith('/obj/') && request.method === 'PUT') {
      const o = await env.FILES.put(key, request.body, { httpMetadata: request.headers, customMetadata: { via: 'binding' } });
      return json({ etag: o.etag, httpEtag: o.httpEtag, size: o.size, version: o.version });
    }
    if (url.pathname.startsWith('/obj/') && request.method === 'GET') {
      const o = await env.FILES.get(key, { range: request.headers, onlyIf: request.headers });
      if (o === null) return new Response('not found', { status: 404 });
      const headers = new Headers({ etag: o.httpEtag });
      o.writeHttpMetadata(headers);
      if (!('body' in o)) return new Response(null, { status: 304, headers });
      return new Response(o.body, { status: o.range && request.headers.has('range') ? 206 : 200, headers });
    }
    if (url.pathname.startsWith('/sha256/')) {
      const o = await env.FILES.get(decodeURIComponent(url.pathname.slice('/sha256/'.length)));
      if (!o) return json(null, 404);
      const parts = [];
      let size = 0;
      const reader = o.body.getReader();
      // Hash incrementally is not in Web Crypto; gather (the test object is small enough) but count chunks.
      let chunks = 0;
      for (;;) { const { done, value } = await reader.read(); if (done) break; parts.push(value); size += value.byteLength; chunks++; }
      const all = new Uint8Array(size); let at = 0; for (const p of parts) { all.set(p, at); at += p.byteLength; }
      return json({ size, chunks, sha256: hex(await crypto.subtle.digest('SHA-256', all)), etag: o.etag, contentType: o.httpMetadata.contentType ?? null, custom: o.customMetadata });
    }
    if (url.pathname === '/generate') {
      // A 12 MiB object written from a stream that produces it piece by piece.
      const total = 12 * 1024 * 1024;
      let sent = 0;
      const stream = new ReadableStream({ pull(c) { if (sent >= total) { c.close(); return; } const n = Math.min(300_000, total - sent); const chunk = new Uint8Array(n); for (let i = 0; i < n; i++) chunk[i] = (sent + i) % 251; sent += n; c.enqueue(chunk); } });
      const o = await env.FILES.put('generated.bin', stream, { httpMetadata: { contentType: 'application/x-generated' } });
      return json({ size: o.size, etag: o.etag });
    }
    if (url.pathname === '/suite') {
      const r = {};
      const B = env.FILES;
      const put = await B.put('suite/a.txt', 'hello world', { httpMetadata: { contentType: 'text/plain', cacheControl: 'no-cache' }, customMetadata: { n: 1 } });
      r.put = { key: put.key, size: put.size, etag: put.etag, httpEtag: put.httpEtag, uploaded: put.uploaded instanceof Date, md5: hex(put.checksums.md5) };
      const got = await B.get('suite/a.txt');
      r.text = await got.text();
      r.bodyUsed = got.bodyUsed;
      r.meta = [got.httpMetadata.contentType, got.httpMetadata.cacheControl, got.customMetadata.n];
      r.json = await (await B.get('suite/j', {}) ?? { json: async () => 'missing' }).json();
      await B.put('suite/j', JSON.stringify({ a: [1, 2] }));
      r.jsonValue = await (await B.get('suite/j')).json();
      r.arrayBuffer = (await (await B.get('suite/a.txt')).arrayBuffer()).byteLength;
      r.blob = await (await (await B.get('suite/a.txt')).blob()).text();
      r.ranges = [
        await (await B.get('suite/a.txt', { range: { offset: 6 } })).text(),
        await (await B.get('suite/a.txt', { range: { offset: 0, length: 5 } })).text(),
        await (await B.get('suite/a.txt', { range: { suffix: 3 } })).text(),
      ];
      const ranged = await B.get('suite/a.txt', { range: { offset: 2, length: 3 } });
      r.rangeField = ranged.range;
      await ranged.body.cancel();
      r.head = (await B.head('suite/a.txt')).etag === put.etag;
      r.headMissing = await B.head('suite/none');
      r.getMissing = await B.get('suite/none');
      const notModified = await B.get('suite/a.txt', { onlyIf: { etagDoesNotMatch: put.etag } });
      r.onlyIfFails = notModified !== null && !('body' in notModified);
      r.onlyIfHolds = 'body' in (await B.get('suite/a.txt', { onlyIf: { etagMatches: put.etag } }));
      r.onlyIfHeaders = 'body' in (await B.get('suite/a.txt', { onlyIf: new Headers({ 'if-none-match': put.httpEtag }) }));
      r.putOnlyIfFails = await B.put('suite/a.txt', 'replaced?', { onlyIf: { etagMatches: 'nope' } });
      r.putOnlyIfNew = (await B.put('suite/new', 'x', { onlyIf: { etagDoesNotMatch: '*' } })) !== null;
      try { await B.put('suite/bad', 'data', { md5: '00000000000000000000000000000000' }); r.badMd5 = 'stored'; } catch (e) { r.badMd5 = e.message; }
      r.goodSha256 = (await B.put('suite/good', 'data', { sha256: hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('data'))) })) !== null;
      r.afterBadMd5 = await B.head('suite/bad');
      for (const k of ['l/a/1', 'l/a/2', 'l/b', 'l/c/1', 'l/d']) await B.put(k, k);
      const top = await B.list({ prefix: 'l/', delimiter: '/' });
      r.listTop = { keys: top.objects.map((o) => o.key), prefixes: top.delimitedPrefixes, truncated: top.truncated };
      const seen = [];
      let cursor;
      do { const page = await B.list({ prefix: 'l/', limit: 2, cursor }); seen.push(...page.objects.map((o) => o.key)); cursor = page.truncated ? page.cursor : undefined; } while (cursor);
      r.listPaged = seen;
      r.listInclude = (await B.list({ prefix: 'suite/a', include: ['httpMetadata', 'customMetadata'] })).objects.map((o) => [o.httpMetadata.contentType, o.customMetadata.n]);
      r.listNoInclude = (await B.list({ prefix: 'suite/a' })).objects.map((o) => o.httpMetadata.contentType ?? null);
      r.startAfter = (await B.list({ prefix: 'l/', startAfter: 'l/b' })).objects.map((o) => o.key);
      await B.delete(['l/a/1', 'l/a/2']);
      await B.delete('l/b');
      r.afterDelete = (await B.list({ prefix: 'l/' })).objects.map((o) => o.key);
      const big = new Uint8Array(5 * 1024 * 1024).fill(120);
      const up = await B.createMultipartUpload('suite/multi', { httpMetadata: { contentType: 'application/x-multi' } });
      const p1 = await up.uploadPart(1, big);
      const resumed = B.resumeMultipartUpload('suite/multi', up.uploadId);
      const p2 = await resumed.uploadPart(2, 'tail');
      const done = await up.complete([p1, p2]);
      r.multipart = { etag: done.etag, size: done.size, p1: p1.etag };
      const aborted = await B.createMultipartUpload('suite/aborted');
      await aborted.abort();
      try { await aborted.uploadPart(1, 'x'); r.afterAbort = 'accepted'; } catch (e) { r.afterAbort = e.code ?? e.message; }
      r.writeHttpMetadata = (() => { const h = new Headers(); got.writeHttpMetadata(h); return Object.fromEntries(h); })();
      return json(r);
    }
    return new Response('no route', { status: 404 });
  },
};
`;

const OTHER = `
export default {
  async fetch(request, env) {
    const list = await env.OTHER.list();
    return new Response(JSON.stringify({ keys: list.objects.map((o) => o.key), bindings: Object.keys(env).sort(), sneaky: await env.OTHER.get('../shared-bucket/suite/a.txt') }));
  },
};
`;

const md5hex = (b: Uint8Array | string): string => createHash('md5').update(b).digest('hex');

test('R2 binding: the Workers API through a real function, the same bucket through S3, least privilege', async (t) => {
  const root = await tempDir(t);
  await writeProject(t, { 'outpost.toml': 'name = "files"\nmain = "src/index.js"\n\n[[r2_buckets]]\nbinding = "FILES"\nbucket_name = "shared-bucket"\n', 'src/index.js': FILES }, `${root}/files`);
  await writeProject(t, { 'outpost.toml': 'name = "other"\nmain = "src/index.js"\n\n[[r2_buckets]]\nbinding = "OTHER"\nbucket_name = "other-bucket"\n', 'src/index.js': OTHER }, `${root}/other`);
  const state = await tempDir(t);
  const node = await startOutpost(t, ['dev', root, '--port', '0', '--state', state, '--quiet']);
  const aws = (await node.waitFor(/aws api on (http:\/\/[\d.]+:\d+)/))[1] as string;
  const s3 = new S3Client({ endpoint: aws, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

  await t.test('the R2 API inside a function', async () => {
    const response = await fetch(`${node.url}/files/suite`);
    const r = (await response.json()) as Record<string, unknown>;
    assert.equal(response.status, 200, JSON.stringify(r));
    assert.deepEqual(r['put'], { key: 'suite/a.txt', size: 11, etag: md5hex('hello world'), httpEtag: `"${md5hex('hello world')}"`, uploaded: true, md5: md5hex('hello world') });
    assert.equal(r['text'], 'hello world');
    assert.equal(r['bodyUsed'], true);
    assert.deepEqual(r['meta'], ['text/plain', 'no-cache', '1']);
    assert.equal(r['json'], 'missing');
    assert.deepEqual(r['jsonValue'], { a: [1, 2] });
    assert.equal(r['arrayBuffer'], 11);
    assert.equal(r['blob'], 'hello world');
    assert.deepEqual(r['ranges'], ['world', 'hello', 'rld']);
    assert.deepEqual(r['rangeField'], { offset: 2, length: 3 });
    assert.equal(r['head'], true);
    assert.equal(r['headMissing'], null);
    assert.equal(r['getMissing'], null);
    assert.equal(r['onlyIfFails'], true, 'a failed onlyIf gives the object without a body');
    assert.equal(r['onlyIfHolds'], true);
    assert.equal(r['onlyIfHeaders'], false);
    assert.equal(r['putOnlyIfFails'], null);
    assert.equal(r['putOnlyIfNew'], true);
    assert.match(String(r['badMd5']), /^put: .*md5/);
    assert.equal(r['goodSha256'], true);
    assert.equal(r['afterBadMd5'], null);
    assert.deepEqual(r['listTop'], { keys: ['l/b', 'l/d'], prefixes: ['l/a/', 'l/c/'], truncated: false });
    assert.deepEqual(r['listPaged'], ['l/a/1', 'l/a/2', 'l/b', 'l/c/1', 'l/d']);
    assert.deepEqual(r['listInclude'], [['text/plain', '1']]);
    assert.deepEqual(r['listNoInclude'], [null]);
    assert.deepEqual(r['startAfter'], ['l/c/1', 'l/d']);
    assert.deepEqual(r['afterDelete'], ['l/c/1', 'l/d']);
    const part1 = createHash('md5').update(new Uint8Array(5 * 1024 * 1024).fill(120)).digest();
    const part2 = createHash('md5').update('tail').digest();
    assert.deepEqual(r['multipart'], { etag: `${createHash('md5').update(Buffer.concat([part1, part2])).digest('hex')}-2`, size: 5 * 1024 * 1024 + 4, p1: part1.toString('hex') });
    assert.equal(r['afterAbort'], 'OBJECT_NO_SUCH_UPLOAD');
    assert.deepEqual(r['writeHttpMetadata'], { 'cache-control': 'no-cache', 'content-type': 'text/plain' });
  });

  await t.test('requests stream through the binding: PUT a body, GET it with Range and conditional headers', async () => {
    const body = 'streamed through a function';
    const put = await fetch(`${node.url}/files/obj/web%20page.html`, { method: 'PUT', body, headers: { 'content-type': 'text/html' } });
    const info = (await put.json()) as { etag: string; httpEtag: string };
    assert.equal(info.etag, md5hex(body));
    const got = await fetch(`${node.url}/files/obj/web%20page.html`);
    assert.equal(await got.text(), body);
    assert.equal(got.headers.get('content-type'), 'text/html');
    const part = await fetch(`${node.url}/files/obj/web%20page.html`, { headers: { range: 'bytes=0-7' } });
    assert.equal(part.status, 206);
    assert.equal(await part.text(), 'streamed');
    const notModified = await fetch(`${node.url}/files/obj/web%20page.html`, { headers: { 'if-none-match': info.httpEtag } });
    assert.equal(notModified.status, 304);
  });

  await t.test('objects written by a function are read by the S3 SDK, and the other way round; large bodies cross in chunks', async () => {
    const generated = (await (await fetch(`${node.url}/files/generate`)).json()) as { size: number; etag: string };
    const expected = Buffer.alloc(12 * 1024 * 1024);
    for (let i = 0; i < expected.byteLength; i++) expected[i] = i % 251;
    assert.deepEqual(generated, { size: expected.byteLength, etag: md5hex(expected) });
    const viaSdk = await s3.send(new GetObjectCommand({ Bucket: 'shared-bucket', Key: 'generated.bin' }));
    assert.equal(viaSdk.ContentType, 'application/x-generated');
    assert.ok(Buffer.from((await viaSdk.Body?.transformToByteArray()) ?? []).equals(expected));

    const fromSdk = Buffer.alloc(3 * 1024 * 1024 + 5, 'sdk!');
    await s3.send(new PutObjectCommand({ Bucket: 'shared-bucket', Key: 'from sdk.bin', Body: fromSdk, ContentType: 'application/x-sdk', Metadata: { who: 'sdk' } }));
    const seen = (await (await fetch(`${node.url}/files/sha256/from%20sdk.bin`)).json()) as Record<string, unknown>;
    assert.deepEqual(seen, { size: fromSdk.byteLength, chunks: 4, sha256: createHash('sha256').update(fromSdk).digest('hex'), etag: md5hex(fromSdk), contentType: 'application/x-sdk', custom: { who: 'sdk' } });
  });

  await t.test('a function reaches only the bucket it declared', async () => {
    const other = (await (await fetch(`${node.url}/other/`)).json()) as { keys: string[]; bindings: string[]; sneaky: unknown };
    assert.deepEqual(other.keys, []);
    assert.deepEqual(other.bindings, ['OTHER']);
    assert.equal(other.sneaky, null, 'a key naming another bucket is just a key in this one');
  });
});
