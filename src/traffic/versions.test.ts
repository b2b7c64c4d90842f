import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PolicyPass, PolicyRequest } from './policy.ts';
import { AFFINITY_COOKIE, chooseVersion, hashPoint, parseOverrides, primaryVersion, splitProblems, versionPolicy } from './versions.ts';

const exists = (v: number): boolean => v >= 1 && v <= 5;

test('a split is refused with every problem listed', () => {
  assert.deepEqual(splitProblems([{ version: 1, weight: 100 }], exists), []);
  assert.deepEqual(splitProblems([{ version: 9, weight: 100 }], exists), ['version 9 does not exist']);
  assert.deepEqual(splitProblems([{ version: 1, weight: 50 }, { version: 2, weight: 40 }], exists), ['weights must sum to 100, got 90']);
  assert.match(splitProblems([1, 2, 3, 4, 5].map((version) => ({ version, weight: 20 })), exists).join(), /at most 4 versions, got 5/);
  assert.match(splitProblems([{ version: 1, weight: 50 }, { version: 1, weight: 50 }], exists).join(), /listed twice/);
  assert.match(splitProblems([{ version: 1, weight: 0 }, { version: 2, weight: 100 }], exists).join(), /above 0/);
  assert.deepEqual(splitProblems([], exists), ['an alias needs at least one version']);
});

test('ranges are laid out newest first, so raising the new share keeps its clients', () => {
  const at10 = [{ version: 2, weight: 90 }, { version: 3, weight: 10 }];
  const at50 = [{ version: 2, weight: 50 }, { version: 3, weight: 50 }];
  assert.equal(chooseVersion(at10, 5), 3);
  assert.equal(chooseVersion(at10, 10), 2);
  for (let p = 0; p < 100; p += 0.5) if (chooseVersion(at10, p) === 3) assert.equal(chooseVersion(at50, p), 3);
  assert.equal(primaryVersion(at10), 2);
  assert.equal(primaryVersion(at50), 3, 'a tie goes to the newest');
});

test('the affinity hash is stable and spreads keys evenly', () => {
  assert.equal(hashPoint('api:client-1'), hashPoint('api:client-1'));
  const buckets = new Array<number>(10).fill(0);
  for (let i = 0; i < 10_000; i++) {
    const p = hashPoint(`api:client-${i}`);
    assert.ok(p >= 0 && p < 100);
    buckets[Math.floor(p / 10)] = (buckets[Math.floor(p / 10)] ?? 0) + 1;
  }
  // Each decile expects 1000 (sd ≈ 30); 150 is five standard deviations.
  for (const count of buckets) assert.ok(Math.abs(count - 1000) < 150, `decile count ${count}`);
});

test('overrides are parsed as a structured-header dictionary', () => {
  assert.deepEqual([...parseOverrides('api="3", other=2, bad="x"')], [['api', 3], ['other', 2]]);
});

function request(headers: Record<string, string>): PolicyRequest {
  return { requestId: 'r', method: 'GET', host: 'h', path: '/', search: '', headers, ip: '127.0.0.1', functionName: 'api' };
}

test('the version policy: override with a token, affinity by key, a cookie for new clients', async () => {
  const policy = versionPolicy({
    functionName: 'api',
    split: [{ version: 2, weight: 50 }, { version: 3, weight: 50 }],
    served: new Map([[2, 'api@2'], [3, 'api@3'], [4, 'api@4']]),
    verifyToken: async (token) => token === 'good',
  });
  const decide = async (headers: Record<string, string>): Promise<PolicyPass> => (await policy.decide(request(headers))) as PolicyPass;
  const pinned = await decide({ 'cloudflare-workers-version-overrides': 'api="4"', authorization: 'Bearer good', 'cloudflare-workers-version-key': 'k' });
  assert.equal(pinned.version?.version, 4);
  const refused = await decide({ 'cloudflare-workers-version-overrides': 'api="4"', authorization: 'Bearer bad', 'cloudflare-workers-version-key': 'k' });
  assert.notEqual(refused.version?.version, 4, 'without a valid token the override is ignored');
  const first = await decide({ 'cloudflare-workers-version-key': 'k' });
  for (let i = 0; i < 50; i++) assert.equal((await decide({ 'cloudflare-workers-version-key': 'k' })).version?.version, first.version?.version);
  const fresh = await decide({});
  const cookie = fresh.responseHeaders?.find(([name]) => name === 'set-cookie')?.[1] ?? '';
  assert.match(cookie, new RegExp(`^${AFFINITY_COOKIE}=[0-9a-f-]{36};`));
  const again = await decide({ cookie: `a=b; ${cookie.split(';')[0] ?? ''}` });
  assert.equal(again.version?.version, fresh.version?.version, 'the cookie keeps the version');
  assert.equal(again.responseHeaders, undefined, 'no new cookie once the client has one');
});
