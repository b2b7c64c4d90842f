/** @module Tests for the service binding's host side: it calls only the declared service, checks the request shape, and hands a streamed body out chunk by chunk under an id only it knows. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOutpostError } from '../../errors.ts';
import { serviceHost } from './index.ts';
import type { ServiceRequest } from './index.ts';

test('a service binding calls only its declared service', async () => {
  const calls: Array<{ name: string; request: ServiceRequest }> = [];
  const host = serviceHost('auth', async (name, request) => {
    calls.push({ name, request });
    return { status: 200, headers: ['x-a', 'b'], body: new TextEncoder().encode('ok') };
  });
  const r = (await host('fetch', [{ method: 'post', url: 'http://other/x', headers: ['a', 'b'], body: new Uint8Array([1]), service: 'billing' }])) as { status: number; stream?: string };
  assert.equal(r.status, 200);
  assert.equal(r.stream, undefined);
  assert.deepEqual(calls.map((c) => c.name), ['auth']);
  assert.equal(calls[0]?.request.method, 'POST');
  await assert.rejects(host('connect', []), (e) => isOutpostError(e, 'INVALID_SERVICE_REQUEST'));
  await assert.rejects(host('fetch', [{ url: 'http://x/' }]), (e) => isOutpostError(e, 'INVALID_SERVICE_REQUEST'));
  await assert.rejects(serviceHost('auth', undefined)('fetch', [{ method: 'GET', url: 'http://x/', headers: [] }]), (e) => isOutpostError(e, 'SERVICE_NOT_FOUND'));
});

test('a streamed body is read chunk by chunk, then forgotten', async () => {
  const chunks = [new Uint8Array([2]), new Uint8Array([3])];
  let cancelled = false;
  const host = serviceHost('s', async () => ({
    status: 200,
    headers: [],
    body: new Uint8Array([1]),
    rest: { read: async () => chunks.shift() ?? null, cancel: () => void (cancelled = true) },
  }));
  const r = (await host('fetch', [{ method: 'GET', url: 'http://s/', headers: [] }])) as { stream: string };
  assert.equal(typeof r.stream, 'string');
  assert.deepEqual(await host('read', [r.stream]), new Uint8Array([2]));
  assert.deepEqual(await host('read', [r.stream]), new Uint8Array([3]));
  assert.equal(await host('read', [r.stream]), null);
  assert.equal(await host('read', [r.stream]), null, 'an id is forgotten once its body ended');
  assert.equal(await host('read', ['guessed-id']), null);
  const again = (await host('fetch', [{ method: 'GET', url: 'http://s/', headers: [] }])) as { stream: string };
  await host('cancel', [again.stream]);
  assert.equal(cancelled, true);
});
