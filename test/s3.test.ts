// The S3-compatible API on the AWS port, driven by the official AWS SDK v3 client and presigner
// against real nodes: `outpost dev` (any credentials) and `outpost serve` (SigV4 verified with
// keys from `outpost keys create`).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketCommand,
  DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListBucketsCommand, ListObjectsCommand,
  ListObjectsV2Command, ListPartsCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { runCli, startOutpost, tempDir, worker, writeProject } from './helpers.ts';

const md5hex = (data: Uint8Array | string): string => createHash('md5').update(data).digest('hex');

function client(endpoint: string, accessKeyId = 'test', secretAccessKey = 'test'): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
}

/** The error an SDK call rejects with: its name (S3's code) and HTTP status. */
async function failure(p: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await p;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  assert.fail('expected the call to fail');
}

test('S3 API (outpost dev, any credentials)', async (t) => {
  const dir = await writeProject(t, worker('s3-dev', 'export default { fetch() { return new Response("ok") } }'));
  const state = await tempDir(t);
  const node = await startOutpost(t, ['dev', dir, '--port', '0', '--state', state, '--quiet']);
  const aws = (await node.waitFor(/aws api on (http:\/\/[\d.]+:\d+)/))[1] as string;
  const s3 = client(aws);

  await t.test('buckets: create, already owned, list, head, not empty, delete', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'alpha' }));
    assert.deepEqual(await failure(s3.send(new CreateBucketCommand({ Bucket: 'alpha' }))), { name: 'BucketAlreadyOwnedByYou', status: 409 });
    assert.deepEqual(await failure(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' }))), { name: 'InvalidBucketName', status: 400 });
    const list = await s3.send(new ListBucketsCommand({}));
    assert.ok(list.Buckets?.some((b) => b.Name === 'alpha' && b.CreationDate instanceof Date));
    await s3.send(new HeadBucketCommand({ Bucket: 'alpha' }));
    assert.equal((await failure(s3.send(new HeadBucketCommand({ Bucket: 'missing-bucket' })))).status, 404);
    await s3.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'x', Body: 'x' }));
    assert.deepEqual(await failure(s3.send(new DeleteBucketCommand({ Bucket: 'alpha' }))), { name: 'BucketNotEmpty', status: 409 });
    await s3.send(new DeleteObjectCommand({ Bucket: 'alpha', Key: 'x' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'alpha' }));
    assert.deepEqual(await failure(s3.send(new DeleteBucketCommand({ Bucket: 'alpha' }))), { name: 'NoSuchBucket', status: 404 });
  });

  await t.test('put, get, head, delete with metadata; NoSuchKey, NoSuchBucket, BadDigest; a streamed (aws-chunked) upload', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'objects' }));
    const put = await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'dir/hello world.txt', Body: 'hello world', ContentType: 'text/plain', CacheControl: 'max-age=60', Metadata: { owner: 'ada' } }));
    assert.equal(put.ETag, `"${md5hex('hello world')}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'dir/hello world.txt' }));
    assert.equal(await got.Body?.transformToString(), 'hello world');
    assert.equal(got.ContentType, 'text/plain');
    assert.equal(got.CacheControl, 'max-age=60');
    assert.deepEqual(got.Metadata, { owner: 'ada' });
    assert.equal(got.ContentLength, 11);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'dir/hello world.txt' }));
    assert.equal(head.ETag, put.ETag);
    assert.ok(head.LastModified instanceof Date);
    assert.deepEqual(await failure(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'nope' }))), { name: 'NoSuchKey', status: 404 });
    assert.deepEqual(await failure(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'nope' }))), { name: 'NoSuchBucket', status: 404 });
    assert.deepEqual(await failure(s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'nope' }))), { name: 'NotFound', status: 404 });
    const wrongMd5 = createHash('md5').update('something else').digest('base64');
    assert.deepEqual(await failure(s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'bad', Body: 'hello', ContentMD5: wrongMd5 }))), { name: 'BadDigest', status: 400 });
    assert.equal((await failure(s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'bad' })))).status, 404, 'nothing was stored');
    // A stream body of unknown hash goes as aws-chunked with a trailing checksum.
    const big = Buffer.alloc(3 * 1024 * 1024 + 7, 'abcdefgh');
    const streamed = await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'streamed', Body: Readable.from([big.subarray(0, 1_000_000), big.subarray(1_000_000)]), ContentLength: big.byteLength }));
    assert.equal(streamed.ETag, `"${md5hex(big)}"`);
    const back = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'streamed' }))).Body?.transformToByteArray() ?? []);
    assert.ok(back.equals(big));
    await s3.send(new DeleteObjectCommand({ Bucket: 'objects', Key: 'dir/hello world.txt' }));
    assert.equal((await failure(s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'dir/hello world.txt' })))).status, 404);
  });

  await t.test('range reads and conditional GETs', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'ranges' }));
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'ranges', Key: 'digits', Body: '0123456789' }));
    const part = await s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'digits', Range: 'bytes=2-5' }));
    assert.equal(part.$metadata.httpStatusCode, 206);
    assert.equal(part.ContentRange, 'bytes 2-5/10');
    assert.equal(await part.Body?.transformToString(), '2345');
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'digits', Range: 'bytes=-3' }))).Body?.transformToString(), '789');
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'digits', Range: 'bytes=7-' }))).Body?.transformToString(), '789');
    assert.deepEqual(await failure(s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'digits', Range: 'bytes=20-30' }))), { name: 'InvalidRange', status: 416 });
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'digits', IfMatch: ETag }))).Body?.transformToString(), '0123456789');
    assert.deepEqual(await failure(s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'digits', IfMatch: '"0000"' }))), { name: 'PreconditionFailed', status: 412 });
    assert.equal((await failure(s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'digits', IfNoneMatch: ETag })))).status, 304);
    const later = new Date(Date.now() + 60_000);
    const earlier = new Date(Date.now() - 3_600_000);
    assert.equal((await failure(s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'digits', IfModifiedSince: later })))).status, 304);
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'digits', IfModifiedSince: earlier }))).$metadata.httpStatusCode, 200);
    assert.deepEqual(await failure(s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'digits', IfUnmodifiedSince: earlier }))), { name: 'PreconditionFailed', status: 412 });
  });

  await t.test('ListObjectsV2 pages with a delimiter; ListObjects v1; CopyObject; DeleteObjects', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'listing' }));
    const keys = ['a/1', 'a/2', 'b/1', 'c', 'd', 'e/x/y', 'f'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: 'listing', Key, Body: Key }));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/', MaxKeys: 2, ...(token ? { ContinuationToken: token } : {}) }));
      assert.equal(page.KeyCount, (page.Contents?.length ?? 0) + (page.CommonPrefixes?.length ?? 0));
      seen.push(...(page.Contents ?? []).map((c) => c.Key ?? ''), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      pages++;
    } while (token);
    assert.deepEqual(seen.sort(), ['a/', 'b/', 'c', 'd', 'e/', 'f']);
    assert.equal(pages, 3);
    const inA = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'a/' }));
    assert.deepEqual(inA.Contents?.map((c) => [c.Key, c.Size, c.ETag]), [['a/1', 3, `"${md5hex('a/1')}"`], ['a/2', 3, `"${md5hex('a/2')}"`]]);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', StartAfter: 'c' }));
    assert.deepEqual(after.Contents?.map((c) => c.Key), ['d', 'e/x/y', 'f']);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'listing', Marker: 'b/1', MaxKeys: 2 }));
    assert.deepEqual(v1.Contents?.map((c) => c.Key), ['c', 'd']);
    assert.equal(v1.IsTruncated, true);
    const v1Seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await s3.send(new ListObjectsCommand({ Bucket: 'listing', Delimiter: '/', MaxKeys: 2, ...(marker ? { Marker: marker } : {}) }));
      v1Seen.push(...(page.Contents ?? []).map((c) => c.Key ?? ''), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''));
      marker = page.IsTruncated ? page.NextMarker : undefined;
    } while (marker);
    assert.deepEqual(v1Seen.sort(), ['a/', 'b/', 'c', 'd', 'e/', 'f'], 'v1 pages with a delimiter: NextMarker skips a whole common prefix');

    await s3.send(new PutObjectCommand({ Bucket: 'listing', Key: 'src', Body: 'copy me', ContentType: 'text/plain', Metadata: { a: '1' } }));
    const copy = await s3.send(new CopyObjectCommand({ Bucket: 'listing', Key: 'dst', CopySource: 'listing/src' }));
    assert.equal(copy.CopyObjectResult?.ETag, `"${md5hex('copy me')}"`);
    const dst = await s3.send(new GetObjectCommand({ Bucket: 'listing', Key: 'dst' }));
    assert.equal(await dst.Body?.transformToString(), 'copy me');
    assert.deepEqual([dst.ContentType, dst.Metadata], ['text/plain', { a: '1' }]);
    await s3.send(new CopyObjectCommand({ Bucket: 'listing', Key: 'dst2', CopySource: 'listing/src', MetadataDirective: 'REPLACE', ContentType: 'application/json', Metadata: { b: '2' } }));
    const dst2 = await s3.send(new HeadObjectCommand({ Bucket: 'listing', Key: 'dst2' }));
    assert.deepEqual([dst2.ContentType, dst2.Metadata], ['application/json', { b: '2' }]);
    assert.deepEqual(await failure(s3.send(new CopyObjectCommand({ Bucket: 'listing', Key: 'dst3', CopySource: 'listing/missing' }))), { name: 'NoSuchKey', status: 404 });

    const deleted = await s3.send(new DeleteObjectsCommand({ Bucket: 'listing', Delete: { Objects: [{ Key: 'a/1' }, { Key: 'a/2' }, { Key: 'never' }] } }));
    assert.deepEqual(deleted.Deleted?.map((d) => d.Key).sort(), ['a/1', 'a/2', 'never']);
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'a/' }))).KeyCount, 0);
  });

  await t.test('a 50 MB multipart upload gets S3\'s multipart ETag; part errors; abort', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'multi' }));
    const partSize = 5 * 1024 * 1024;
    const parts = Array.from({ length: 10 }, (_, i) => Buffer.alloc(i === 9 ? 3 * 1024 * 1024 : partSize, String.fromCharCode(97 + i)));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'multi', Key: 'big.bin', ContentType: 'application/x-test' }));
    assert.ok(UploadId);
    const etags = await Promise.all(parts.map(async (Body, i) => (await s3.send(new UploadPartCommand({ Bucket: 'multi', Key: 'big.bin', UploadId, PartNumber: i + 1, Body }))).ETag ?? ''));
    assert.equal(etags[0], `"${md5hex(parts[0] ?? '')}"`);
    const listed = await s3.send(new ListPartsCommand({ Bucket: 'multi', Key: 'big.bin', UploadId }));
    assert.deepEqual(listed.Parts?.map((p) => p.PartNumber), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const completeParts = etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 }));
    assert.deepEqual(await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: 'multi', Key: 'big.bin', UploadId, MultipartUpload: { Parts: [...completeParts].reverse() } }))), { name: 'InvalidPartOrder', status: 400 });
    assert.deepEqual(await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: 'multi', Key: 'big.bin', UploadId, MultipartUpload: { Parts: [{ ETag: '"00"', PartNumber: 1 }] } }))), { name: 'InvalidPart', status: 400 });
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'multi', Key: 'big.bin', UploadId, MultipartUpload: { Parts: completeParts } }));
    const expected = `"${createHash('md5').update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()))).digest('hex')}-10"`;
    assert.equal(done.ETag, expected);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'multi', Key: 'big.bin' }));
    assert.equal(head.ContentLength, 9 * partSize + 3 * 1024 * 1024);
    assert.equal(head.ETag, expected);
    assert.equal(head.ContentType, 'application/x-test');
    const edge = await s3.send(new GetObjectCommand({ Bucket: 'multi', Key: 'big.bin', Range: `bytes=${partSize - 2}-${partSize + 1}` }));
    assert.equal(await edge.Body?.transformToString(), 'aabb');

    const small = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'multi', Key: 'small' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'multi', Key: 'small', UploadId: small.UploadId, PartNumber: 1, Body: 'tiny' }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: 'multi', Key: 'small', UploadId: small.UploadId, PartNumber: 2, Body: 'last' }));
    assert.deepEqual(await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: 'multi', Key: 'small', UploadId: small.UploadId, MultipartUpload: { Parts: [{ ETag: p1.ETag ?? '', PartNumber: 1 }, { ETag: p2.ETag ?? '', PartNumber: 2 }] } }))), { name: 'EntityTooSmall', status: 400 });
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'multi', Key: 'small', UploadId: small.UploadId }));
    assert.deepEqual(await failure(s3.send(new UploadPartCommand({ Bucket: 'multi', Key: 'small', UploadId: small.UploadId, PartNumber: 3, Body: 'x' }))), { name: 'NoSuchUpload', status: 404 });
  });

  await t.test('virtual-host style addressing (bucket.localhost and bucket.s3.localhost) reaches the same bucket', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'vhost' }));
    await s3.send(new PutObjectCommand({ Bucket: 'vhost', Key: 'k/1', Body: 'via path' }));
    const port = new URL(aws).port;
    const get = (host: string, path: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, headers: { host: `${host}:${port}` } }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    assert.deepEqual(await get('vhost.localhost', '/k/1'), { status: 200, body: 'via path' });
    assert.deepEqual(await get('vhost.s3.localhost', '/k/1'), { status: 200, body: 'via path' });
    const missing = await get('vhost.localhost', '/nope');
    assert.equal(missing.status, 404);
    assert.match(missing.body, /<Code>NoSuchKey<\/Code>/);
    assert.match((await get('vhost.s3.localhost', '/?list-type=2')).body, /<Key>k\/1<\/Key>/);
  });

  await t.test('an aws-chunked upload whose trailing CRC32 does not match the bytes is refused and stores nothing', async () => {
    const put = (key: string, crc: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const body = `5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`;
        const headers = { 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-decoded-content-length': '11', 'content-length': String(body.length) };
        const req = request(`${aws}/vhost/${key}`, { method: 'PUT', headers }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const bad = await put('crc-bad', 'AAAAAA==');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /<Code>BadDigest<\/Code>/);
    assert.equal((await failure(s3.send(new HeadObjectCommand({ Bucket: 'vhost', Key: 'crc-bad' })))).status, 404);
    assert.equal((await put('crc-good', 'DUoRhQ==')).status, 200);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'vhost', Key: 'crc-good' }))).Body?.transformToString(), 'hello world');
  });
});

describe('S3 API (outpost serve, SigV4 verified)', () => {
  test('outpost dev --s3-auth verifies signatures as serve does', async (t) => {
    const dir = await writeProject(t, worker('s3-auth', 'export default { fetch() { return new Response("ok") } }'));
    const node = await startOutpost(t, ['dev', dir, '--port', '0', '--state', await tempDir(t), '--quiet', '--s3-auth']);
    const aws = (await node.waitFor(/aws api on (http:\/\/[\d.]+:\d+)/))[1] as string;
    assert.deepEqual(await failure(client(aws, 'anything', 'goes').send(new ListBucketsCommand({}))), { name: 'InvalidAccessKeyId', status: 403 });
    const created = await runCli(['keys', 'create', '--json', '--to', node.url]);
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout) as { accessKeyId: string; secretAccessKey: string };
    assert.deepEqual((await client(aws, key.accessKeyId, key.secretAccessKey).send(new ListBucketsCommand({}))).Buckets, []);
  });

  test('keys from outpost keys create sign requests and presigned URLs; wrong secrets, unknown keys, unsigned and expired requests are refused', async (t) => {
    const state = await tempDir(t);
    const node = await startOutpost(t, ['serve', '--port', '0', '--state', state, '--quiet']);
    const aws = (await node.waitFor(/aws api on (http:\/\/[\d.]+:\d+)/))[1] as string;
    const token = (await node.waitFor(/admin token[^:]*: (\S+)/))[1] as string;
    const created = await runCli(['keys', 'create', '--label', 'test', '--json', '--to', node.url, '--token', token]);
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout) as { accessKeyId: string; secretAccessKey: string };
    const listed = await runCli(['keys', 'list', '--json', '--to', node.url, '--token', token]);
    assert.ok(listed.stdout.includes(key.accessKeyId));
    assert.ok(!listed.stdout.includes(key.secretAccessKey), 'the secret is never listed');

    const s3 = client(aws, key.accessKeyId, key.secretAccessKey);
    await s3.send(new CreateBucketCommand({ Bucket: 'secure' }));
    await s3.send(new PutObjectCommand({ Bucket: 'secure', Key: 'a b/ü.txt', Body: 'signed' }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'secure', Key: 'a b/ü.txt' }))).Body?.transformToString(), 'signed');
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: 'secure', Prefix: 'a b/' }))).KeyCount, 1);

    assert.deepEqual(await failure(client(aws, key.accessKeyId, 'wrong-secret').send(new GetObjectCommand({ Bucket: 'secure', Key: 'a b/ü.txt' }))), { name: 'SignatureDoesNotMatch', status: 403 });
    assert.deepEqual(await failure(client(aws, 'OPAKUNKNOWN', 'x').send(new ListBucketsCommand({}))), { name: 'InvalidAccessKeyId', status: 403 });
    const unsigned = await fetch(`${aws}/secure/a%20b/%C3%BC.txt`);
    assert.equal(unsigned.status, 403);
    assert.match(await unsigned.text(), /<Code>AccessDenied<\/Code>/);

    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'secure', Key: 'a b/ü.txt' }), { expiresIn: 60 });
    const viaUrl = await fetch(getUrl);
    assert.equal(viaUrl.status, 200);
    assert.equal(await viaUrl.text(), 'signed');
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'secure', Key: 'uploaded' }), { expiresIn: 60 });
    const putResponse = await fetch(putUrl, { method: 'PUT', body: 'from a presigned URL' });
    assert.equal(putResponse.status, 200, await putResponse.text());
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'secure', Key: 'uploaded' }))).Body?.transformToString(), 'from a presigned URL');
    const expired = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'secure', Key: 'uploaded' }), { expiresIn: 1, signingDate: new Date(Date.now() - 60_000) });
    const refused = await fetch(expired);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /<Code>AccessDenied<\/Code><Message>Request has expired/);
    const tampered = getUrl.replace('a%20b', 'a%20c');
    assert.equal((await fetch(tampered)).status, 403);

    const removed = await runCli(['keys', 'delete', key.accessKeyId, '--to', node.url, '--token', token]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(await failure(s3.send(new ListBucketsCommand({}))), { name: 'InvalidAccessKeyId', status: 403 });
  });
});
