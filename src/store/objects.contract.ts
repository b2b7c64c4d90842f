/** @module The ObjectStore contract suite: what every backend's object storage must do, run by each backend's test file. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { isOutpostError } from '../errors.ts';
import type { OpenStore } from './contract.ts';
import type { ObjectBody } from './objects.ts';
import type { Store } from './types.ts';

const EPOCH_MS = Date.UTC(2030, 0, 1);
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const md5 = (data: Uint8Array | string): string => createHash('md5').update(data).digest('hex');

async function* chunks(...parts: Array<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? bytes(p) : p;
}

async function readAll(body: ObjectBody): Promise<string> {
  const out: Uint8Array[] = [];
  for await (const c of body) out.push(c);
  return Buffer.concat(out).toString('utf8');
}

const is = (code: string) => (e: unknown): boolean => isOutpostError(e, code);

export function objectStoreContract(name: string, open: OpenStore): void {
  async function fresh(t: TestContext): Promise<{ store: Store; clock: { ms: number } }> {
    const dir = await mkdtemp(join(tmpdir(), 'outpost-objects-'));
    const clock = { ms: EPOCH_MS };
    const store = await open({ dir, now: () => clock.ms });
    t.after(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    return { store, clock };
  }

  describe(`object store contract: ${name}`, () => {
    test('buckets: create is idempotent, list, head, bad names refused, delete only when empty', async (t) => {
      const { store } = await fresh(t);
      const o = store.objects;
      assert.equal((await o.createBucket('photos')).created, true);
      assert.equal((await o.createBucket('photos')).created, false);
      await o.createBucket('logs.2030');
      assert.deepEqual((await o.listBuckets()).map((b) => b.name), ['logs.2030', 'photos']);
      assert.equal((await o.headBucket('photos'))?.createdAt, EPOCH_MS);
      assert.equal(await o.headBucket('nope'), undefined);
      for (const bad of ['ab', 'Upper', '-x-', 'a'.repeat(64), 'a..b', '192.168.1.1']) await assert.rejects(o.createBucket(bad), is('OBJECT_INVALID_BUCKET_NAME'), bad);
      await o.put('photos', 'a.jpg', chunks('x'));
      await assert.rejects(o.deleteBucket('photos'), is('OBJECT_BUCKET_NOT_EMPTY'));
      await o.delete('photos', ['a.jpg']);
      await o.deleteBucket('photos');
      await assert.rejects(o.deleteBucket('photos'), is('OBJECT_NO_SUCH_BUCKET'));
      await assert.rejects(o.put('photos', 'k', chunks('x')), is('OBJECT_NO_SUCH_BUCKET'));
    });

    test('put streams chunks; get returns metadata, ETag (md5) and body; ranges; head; overwrite; delete', async (t) => {
      const { store, clock } = await fresh(t);
      const o = store.objects;
      await o.createBucket('bkt');
      const info = await o.put('bkt', 'dir/hello.txt', chunks('hello ', 'world'), {
        httpMetadata: { contentType: 'text/plain', cacheControl: 'max-age=60', expires: EPOCH_MS + 1000 },
        customMetadata: { owner: 'ada' },
        expect: { sha256: createHash('sha256').update('hello world').digest('hex') },
      });
      assert.equal(info.etag, md5('hello world'));
      assert.equal(info.size, 11);
      assert.equal(info.uploaded, EPOCH_MS);
      assert.equal(info.checksums.sha256, createHash('sha256').update('hello world').digest('hex'));
      const got = await o.get('bkt', 'dir/hello.txt');
      assert.ok(got);
      assert.equal(await readAll(got.body), 'hello world');
      assert.deepEqual(got.info.httpMetadata, { contentType: 'text/plain', cacheControl: 'max-age=60', expires: EPOCH_MS + 1000 });
      assert.deepEqual(got.info.customMetadata, { owner: 'ada' });
      const cases: Array<[Parameters<typeof o.get>[2], string, number]> = [
        [{ range: { offset: 6 } }, 'world', 6],
        [{ range: { offset: 0, length: 5 } }, 'hello', 0],
        [{ range: { suffix: 3 } }, 'rld', 8],
        [{ range: { offset: 6, length: 100 } }, 'world', 6],
        [{ range: { suffix: 100 } }, 'hello world', 0],
      ];
      for (const [options, want, offset] of cases) {
        const r = await o.get('bkt', 'dir/hello.txt', options);
        assert.ok(r);
        assert.equal(r.range.offset, offset);
        assert.equal(await readAll(r.body), want);
      }
      await assert.rejects(o.get('bkt', 'dir/hello.txt', { range: { offset: 11 } }), is('OBJECT_INVALID_RANGE'));
      assert.equal((await o.head('bkt', 'dir/hello.txt'))?.etag, md5('hello world'));
      assert.equal(await o.get('bkt', 'missing'), undefined);
      // A reader that opened the old version keeps reading it while the key is replaced.
      const old = await o.get('bkt', 'dir/hello.txt');
      clock.ms += 1000;
      const second = await o.put('bkt', 'dir/hello.txt', chunks('second'));
      assert.notEqual(second.version, info.version);
      assert.equal(second.uploaded, EPOCH_MS + 1000);
      assert.ok(old);
      assert.equal(await readAll(old.body), 'hello world');
      const now = await o.get('bkt', 'dir/hello.txt');
      assert.ok(now);
      assert.equal(await readAll(now.body), 'second');
      assert.deepEqual(now.info.customMetadata, {}, 'an overwrite replaces the metadata');
      await o.delete('bkt', ['dir/hello.txt', 'never-existed']);
      assert.equal(await o.head('bkt', 'dir/hello.txt'), undefined);
      // Empty objects exist and read as empty.
      const empty = await o.put('bkt', 'empty', chunks());
      assert.equal(empty.etag, md5(''));
      const e = await o.get('bkt', 'empty');
      assert.ok(e);
      assert.equal(await readAll(e.body), '');
      await e.body.close();
    });

    test('a body of many blocks, in uneven chunks, keeps its bytes, MD5 and requested SHA-256', async (t) => {
      const { store } = await fresh(t);
      const o = store.objects;
      await o.createBucket('bkt');
      const big = Buffer.alloc(3 * 1024 * 1024 + 12_345);
      for (let i = 0; i < big.byteLength; i++) big[i] = (i * 7) % 256;
      const pieces: Uint8Array[] = [];
      for (let at = 0, n = 1; at < big.byteLength; at += n, n = (n * 3 + 17) % 300_000 + 1) pieces.push(big.subarray(at, at + n));
      const sha256 = createHash('sha256').update(big).digest('hex');
      const info = await o.put('bkt', 'big', chunks(...pieces), { expect: { sha256 } });
      assert.equal(info.etag, md5(big));
      assert.equal(info.checksums.sha256, sha256);
      await assert.rejects(o.put('bkt', 'big2', chunks(...pieces), { expect: { sha256: md5('x') + md5('y') } }), is('OBJECT_BAD_DIGEST'));
      const got = await o.get('bkt', 'big');
      assert.ok(got);
      const back: Uint8Array[] = [];
      for await (const c of got.body) back.push(c);
      assert.ok(Buffer.concat(back).equals(big));
      const part = await o.get('bkt', 'big', { range: { offset: 1024 * 1024 - 3, length: 6 } });
      assert.ok(part);
      const p: Uint8Array[] = [];
      for await (const c of part.body) p.push(c);
      assert.ok(Buffer.concat(p).equals(big.subarray(1024 * 1024 - 3, 1024 * 1024 + 3)));
      // The optional BYOB read gives the same bytes, into the caller's (reused) buffer.
      const byob = await o.get('bkt', 'big', { range: { offset: 5, length: 2 * 1024 * 1024 } });
      assert.ok(byob);
      if (byob.body.readInto) {
        const into = new Uint8Array(700_000);
        const read: Buffer[] = [];
        for (;;) {
          const n = await byob.body.readInto(into);
          if (n === 0) break;
          read.push(Buffer.from(into.subarray(0, n)));
        }
        assert.ok(Buffer.concat(read).equals(big.subarray(5, 5 + 2 * 1024 * 1024)));
      }
      await byob.body.close();
    });

    test('a digest mismatch, a failed precondition or a broken stream stores nothing', async (t) => {
      const { store } = await fresh(t);
      const o = store.objects;
      await o.createBucket('bkt');
      await o.put('bkt', 'k', chunks('original'));
      await assert.rejects(o.put('bkt', 'k', chunks('other'), { expect: { md5: md5('nope') } }), is('OBJECT_BAD_DIGEST'));
      await assert.rejects(o.put('bkt', 'k', chunks('other'), { onlyIf: (current) => current === undefined }), is('OBJECT_PRECONDITION_FAILED'));
      async function* broken(): AsyncGenerator<Uint8Array> {
        yield bytes('partial');
        throw new Error('client went away');
      }
      await assert.rejects(o.put('bkt', 'k', broken()), /client went away/);
      async function* brokenLate(): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < 40; i++) yield new Uint8Array(64 * 1024).fill(i);
        throw new Error('client went away after 2.5 MiB');
      }
      await assert.rejects(o.put('bkt', 'k', brokenLate()), /client went away after 2.5 MiB/);
      const got = await o.get('bkt', 'k');
      assert.ok(got);
      assert.equal(await readAll(got.body), 'original');
      const ok = await o.put('bkt', 'k', chunks('next'), { onlyIf: (current) => current?.etag === md5('original') });
      assert.equal(ok.etag, md5('next'));
      await assert.rejects(o.put('bkt', '', chunks('x')), is('OBJECT_INVALID_KEY'));
      await assert.rejects(o.put('bkt', 'x'.repeat(1025), chunks('x')), is('OBJECT_INVALID_KEY'));
    });

    test('list: byte order, prefix, delimiter with common prefixes, limit and cursor, startAfter', async (t) => {
      const { store } = await fresh(t);
      const o = store.objects;
      await o.createBucket('bkt');
      const keys = ['a/1', 'a/2', 'a/b/3', 'b', 'c/1', 'c/2', 'd', 'é', 'Z'];
      for (const k of keys) await o.put('bkt', k, chunks(k));
      assert.deepEqual((await o.list('bkt')).objects.map((x) => x.key), ['Z', 'a/1', 'a/2', 'a/b/3', 'b', 'c/1', 'c/2', 'd', 'é']);
      assert.deepEqual((await o.list('bkt', { prefix: 'a/' })).objects.map((x) => x.key), ['a/1', 'a/2', 'a/b/3']);
      const top = await o.list('bkt', { delimiter: '/' });
      assert.deepEqual(top.objects.map((x) => x.key), ['Z', 'b', 'd', 'é']);
      assert.deepEqual(top.delimitedPrefixes, ['a/', 'c/']);
      assert.equal(top.truncated, false);
      const inA = await o.list('bkt', { prefix: 'a/', delimiter: '/' });
      assert.deepEqual(inA.objects.map((x) => x.key), ['a/1', 'a/2']);
      assert.deepEqual(inA.delimitedPrefixes, ['a/b/']);
      // Pages of 2 with a delimiter: objects and prefixes both count, nothing repeats or is lost.
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await o.list('bkt', { delimiter: '/', limit: 2, ...(cursor ? { cursor } : {}) });
        assert.ok(page.objects.length + page.delimitedPrefixes.length <= 2);
        seen.push(...page.objects.map((x) => x.key), ...page.delimitedPrefixes);
        cursor = page.truncated ? page.cursor : undefined;
        pages++;
      } while (cursor);
      assert.deepEqual(seen.sort(), ['Z', 'a/', 'b', 'c/', 'd', 'é'].sort());
      assert.equal(pages, 3);
      assert.deepEqual((await o.list('bkt', { startAfter: 'c/1' })).objects.map((x) => x.key), ['c/2', 'd', 'é']);
      await assert.rejects(o.list('bkt', { limit: 1001 }), is('OBJECT_INVALID_LIMIT'));
    });

    test('multipart: parts stream, complete joins them in order with S3\'s ETag; errors; abort', async (t) => {
      const { store } = await fresh(t);
      const o = store.objects;
      await o.createBucket('bkt');
      const up = await o.createMultipartUpload('bkt', 'big', { httpMetadata: { contentType: 'application/octet-stream' }, customMetadata: { kind: 'test' } });
      const partA = new Uint8Array(1024).fill(97);
      const partB = new Uint8Array(1024).fill(98);
      const p2 = await o.uploadPart('bkt', 'big', up.uploadId, 2, chunks(partB));
      const p1 = await o.uploadPart('bkt', 'big', up.uploadId, 1, chunks(partA.subarray(0, 512), partA.subarray(512)));
      assert.equal(p1.etag, md5(partA));
      assert.deepEqual((await o.listParts('bkt', 'big', up.uploadId)).map((p) => [p.partNumber, p.size]), [[1, 1024], [2, 1024]]);
      await assert.rejects(o.completeMultipartUpload('bkt', 'big', up.uploadId, [p2, p1]), is('OBJECT_INVALID_PART_ORDER'));
      await assert.rejects(o.completeMultipartUpload('bkt', 'big', up.uploadId, [p1, { partNumber: 2, etag: md5('x') }], { minPartSize: 1 }), is('OBJECT_INVALID_PART'));
      await assert.rejects(o.completeMultipartUpload('bkt', 'big', up.uploadId, [p1, p2]), is('OBJECT_ENTITY_TOO_SMALL'));
      await assert.rejects(o.deleteBucket('bkt'), is('OBJECT_BUCKET_NOT_EMPTY'), 'an open upload keeps a bucket');
      const info = await o.completeMultipartUpload('bkt', 'big', up.uploadId, [p1, { partNumber: 2, etag: `"${p2.etag}"` }], { minPartSize: 1024 });
      const expected = `${createHash('md5').update(Buffer.concat([Buffer.from(md5(partA), 'hex'), Buffer.from(md5(partB), 'hex')])).digest('hex')}-2`;
      assert.equal(info.etag, expected);
      assert.equal(info.size, 2048);
      assert.deepEqual(info.customMetadata, { kind: 'test' });
      const got = await o.get('bkt', 'big', { range: { offset: 1020, length: 8 } });
      assert.ok(got);
      assert.equal(await readAll(got.body), 'aaaabbbb');
      await assert.rejects(o.uploadPart('bkt', 'big', up.uploadId, 3, chunks('x')), is('OBJECT_NO_SUCH_UPLOAD'), 'a completed upload is gone');
      const up2 = await o.createMultipartUpload('bkt', 'other');
      await assert.rejects(o.uploadPart('bkt', 'other', up2.uploadId, 0, chunks('x')), is('OBJECT_INVALID_PART'));
      await o.uploadPart('bkt', 'other', up2.uploadId, 1, chunks('x'));
      await o.abortMultipartUpload('bkt', 'other', up2.uploadId);
      await assert.rejects(o.listParts('bkt', 'other', up2.uploadId), is('OBJECT_NO_SUCH_UPLOAD'));
      assert.equal(await o.head('bkt', 'other'), undefined);
    });
  });
}
