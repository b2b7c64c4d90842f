/** @module Tests for object change events: capture in the object store (same transaction as the write, every kind of write), the S3 and R2 record shapes, the filters, S3's key encoding, and the outpost.toml `[[r2_notifications]]` key. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadProject } from '../project/index.ts';
import type { ObjectTrigger, R2NotificationRule } from '../project/spec.ts';
import { expectProblems, tempProject } from '../project/testing.ts';
import type { ObjectChange } from '../store/object-changes.ts';
import { openSqliteStore } from '../store/sqlite/index.ts';
import type { Store } from '../store/types.ts';
import { matchesObjectTrigger, matchesR2Rule, r2EventMessage, s3EventKey, s3EventRecord, s3EventTypeMatches } from './object-changes.ts';

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield new TextEncoder().encode(p);
}

async function store(t: { after(fn: () => unknown): void }, dir?: string): Promise<{ store: Store; dir: string }> {
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'outpost-objchanges-')));
  const s = openSqliteStore({ dir: d, now: () => NOW });
  t.after(async () => {
    await s.close().catch(() => {}); // a test may have closed it to reopen the dir
    if (!dir) await rm(d, { recursive: true, force: true });
  });
  return { store: s, dir: d };
}

async function changes(s: Store, queue: string): Promise<ObjectChange[]> {
  return (await s.queues.peek(queue, { limit: 100 })).map((m) => JSON.parse(new TextDecoder().decode(m.body)) as ObjectChange);
}

test('capture: puts, copies, completed multipart uploads and deletes of a fed bucket are recorded, in order', async (t) => {
  const { store: s } = await store(t);
  await s.objects.createBucket('photos');
  await s.objects.createBucket('other');
  await s.objects.put('photos', 'before', chunks('not captured'));
  await s.objects.setChangeFeeds('photos', ['feed']);
  assert.deepEqual(await s.objects.changeFeeds(), { photos: ['feed'] });
  await s.objects.put('other', 'x', chunks('other bucket: not captured'));
  const put = await s.objects.put('photos', 'a b.jpg', chunks('hello'));
  await s.objects.put('photos', 'copy', chunks('hello'), { copySource: { bucket: 'photos', key: 'a b.jpg' } });
  const up = await s.objects.createMultipartUpload('photos', 'big');
  const p1 = await s.objects.uploadPart('photos', 'big', up.uploadId, 1, chunks('one'));
  const done = await s.objects.completeMultipartUpload('photos', 'big', up.uploadId, [{ partNumber: 1, etag: p1.etag }]);
  await s.objects.delete('photos', ['copy', 'missing', 'big']);
  // A write that fails its precondition changes nothing and records nothing.
  await assert.rejects(s.objects.put('photos', 'a b.jpg', chunks('x'), { onlyIf: () => false }), { code: 'OBJECT_PRECONDITION_FAILED' });
  const got = await changes(s, 'feed');
  assert.deepEqual(got.map((c) => [c.action, c.key]), [['put', 'a b.jpg'], ['copy', 'copy'], ['complete-multipart', 'big'], ['delete', 'copy'], ['delete', 'big']]);
  const [first, copy, multi, del] = got as [ObjectChange, ObjectChange, ObjectChange, ObjectChange];
  assert.deepEqual(first, { bucket: 'photos', key: 'a b.jpg', action: 'put', at: NOW, size: 5, etag: put.etag, sequence: first.sequence });
  assert.deepEqual(copy.copySource, { bucket: 'photos', key: 'a b.jpg' });
  assert.equal(multi.etag, done.etag);
  assert.equal(del.size, undefined);
  const seqs = got.map((c) => c.sequence);
  assert.deepEqual([...seqs].sort(), seqs);
  assert.equal(new Set(seqs).size, seqs.length);
});

test('capture: feeds are persisted, and an empty list stops capture', async (t) => {
  const { store: s, dir } = await store(t);
  await s.objects.createBucket('bkt');
  await s.objects.setChangeFeeds('bkt', ['q']);
  await s.close();
  const again = openSqliteStore({ dir, now: () => NOW });
  t.after(() => again.close());
  assert.deepEqual(await again.objects.changeFeeds(), { bkt: ['q'] });
  await again.objects.put('bkt', 'k', chunks('v'));
  await again.objects.setChangeFeeds('bkt', []);
  await again.objects.put('bkt', 'k2', chunks('v'));
  assert.deepEqual((await changes(again, 'q')).map((c) => c.key), ['k']);
  assert.deepEqual(await again.objects.changeFeeds(), {});
});

test('S3 keys are form-URL-encoded as S3 event notifications spell them', () => {
  assert.equal(s3EventKey('photos/my file (1).jpg'), 'photos/my+file+%281%29.jpg');
  assert.equal(s3EventKey('a+b=c&d'), 'a%2Bb%3Dc%26d');
  assert.equal(s3EventKey('日本/ü~*.-_'), '%E6%97%A5%E6%9C%AC/%C3%BC%7E*.-_');
  for (const key of ['photos/my file (1).jpg', 'a+b=c&d', '日本/ü~*.-_']) assert.equal(decodeURIComponent(s3EventKey(key).replaceAll('+', ' ')), key);
});

const change = (over: Partial<ObjectChange> = {}): ObjectChange => ({ bucket: 'photos', key: 'in/a b.jpg', action: 'put', sequence: '000000000000000000042', at: NOW, size: 5, etag: '5d41402abc4b2a76b9719d911017c592', ...over });

test('S3 event record: AWS 2.1 shape, eventName per write, no size or eTag for deletes', () => {
  assert.deepEqual(s3EventRecord(change(), { region: 'eu-west-1', configurationId: 'cfg' }), {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'eu-west-1',
    eventTime: '2026-01-02T03:04:05.678Z',
    eventName: 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:000000000000' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': '000000000000002A', 'x-amz-id-2': Buffer.from('outpost/000000000000000000042').toString('base64') },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'cfg',
      bucket: { name: 'photos', ownerIdentity: { principalId: '000000000000' }, arn: 'arn:aws:s3:::photos' },
      object: { key: 'in/a+b.jpg', size: 5, eTag: '5d41402abc4b2a76b9719d911017c592', sequencer: '000000000000002A' },
    },
  });
  const names = (['put', 'copy', 'complete-multipart', 'delete'] as const).map((action) => s3EventRecord(change({ action }), { region: 'r', configurationId: 'c' }).eventName);
  assert.deepEqual(names, ['ObjectCreated:Put', 'ObjectCreated:Copy', 'ObjectCreated:CompleteMultipartUpload', 'ObjectRemoved:Delete']);
  const { size: _s, etag: _e, ...deleted } = change({ action: 'delete' });
  assert.deepEqual(s3EventRecord(deleted, { region: 'r', configurationId: 'c' }).s3.object, { key: 'in/a+b.jpg', sequencer: '000000000000002A' });
});

test('R2 event message: Cloudflare shape, copySource for copies, no size or eTag for deletes', () => {
  assert.deepEqual(r2EventMessage(change()), {
    account: '00000000000000000000000000000000',
    action: 'PutObject',
    bucket: 'photos',
    object: { key: 'in/a b.jpg', size: 5, eTag: '5d41402abc4b2a76b9719d911017c592' },
    eventTime: '2026-01-02T03:04:05.678Z',
  });
  assert.deepEqual(r2EventMessage(change({ action: 'copy', copySource: { bucket: 'src', key: 'orig' } })).copySource, { bucket: 'src', object: 'orig' });
  assert.equal(r2EventMessage(change({ action: 'complete-multipart' })).action, 'CompleteMultipartUpload');
  const del = r2EventMessage(change({ action: 'delete' }));
  assert.equal(del.action, 'DeleteObject');
  assert.deepEqual(del.object, { key: 'in/a b.jpg' });
});

test('filters: S3 event types with wildcards, prefix and suffix; R2 event types', () => {
  assert.ok(s3EventTypeMatches('s3:ObjectCreated:*', 'ObjectCreated:Copy'));
  assert.ok(s3EventTypeMatches('s3:ObjectCreated:Put', 'ObjectCreated:Put'));
  assert.ok(!s3EventTypeMatches('s3:ObjectCreated:Put', 'ObjectCreated:CompleteMultipartUpload'));
  assert.ok(!s3EventTypeMatches('s3:ObjectCreated:*', 'ObjectRemoved:Delete'));
  assert.ok(s3EventTypeMatches('s3:ObjectRemoved:*', 'ObjectRemoved:Delete'));
  const trigger: ObjectTrigger = { type: 'object', bucket: 'photos', events: ['s3:ObjectCreated:*'], prefix: 'in/', suffix: '.jpg' };
  assert.ok(matchesObjectTrigger(trigger, change()));
  assert.ok(!matchesObjectTrigger(trigger, change({ key: 'out/a.jpg' })));
  assert.ok(!matchesObjectTrigger(trigger, change({ key: 'in/a.png' })));
  assert.ok(!matchesObjectTrigger(trigger, change({ bucket: 'other' })));
  assert.ok(!matchesObjectTrigger(trigger, change({ action: 'delete' })));
  const rule: R2NotificationRule = { type: 'r2-notification', bucket: 'photos', queue: 'q', events: ['object-delete'], suffix: '.jpg' };
  assert.ok(matchesR2Rule(rule, change({ action: 'delete' })));
  assert.ok(!matchesR2Rule(rule, change()));
  assert.ok(!matchesR2Rule(rule, change({ action: 'delete', key: 'x.png' })));
  assert.ok(matchesR2Rule({ ...rule, events: ['object-create'] }, change({ action: 'copy' })));
});

test('outpost.toml: [[r2_notifications]] becomes notification rules, checked like every key', async (t) => {
  const root = await tempProject(t, {
    'outpost.toml': 'name = "w"\nmain = "index.js"\n[[r2_notifications]]\nbucket = "photos"\nqueue = "uploads"\nevents = ["object-create", "object-delete"]\nprefix = "in/"\nsuffix = ".jpg"\n',
    'index.js': 'export default { fetch() { return new Response("") } }\n',
  });
  const spec = await loadProject(root, { dev: true });
  assert.deepEqual(spec.functions[0]?.triggers, [{ type: 'r2-notification', bucket: 'photos', queue: 'uploads', events: ['object-create', 'object-delete'], prefix: 'in/', suffix: '.jpg' }]);
  const bad = await tempProject(t, { 'outpost.toml': 'name = "w"\nmain = "index.js"\n[[r2_notifications]]\nbucket = "b"\nevents = ["object-update"]\nbogus = 1\n', 'index.js': 'export default {}\n' });
  const problems = await expectProblems(() => loadProject(bad, { dev: true }), [
    { file: 'outpost.toml', key: 'r2_notifications[0].queue' },
    { file: 'outpost.toml', key: 'r2_notifications[0].events', message: /object-update/ },
  ]);
  assert.ok(problems.some((p) => p.severity === 'warning' && p.key === 'r2_notifications[0].bogus'));
});
