// Usage metering end to end: the counters equal the invocations made (requests, errors,
// GB-seconds = Σ billed duration × memory), survive a restart, group by version and hour, and
// `outpost usage` prints the table with the built-in and a custom price table.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, startOutpost, tempDir, writeProject, eventually } from './helpers.ts';

interface Counters {
  requests: number;
  errors: number;
  coldStarts: number;
  durationMs: number;
  billedMs: number;
  gbSeconds: number;
  cpuMs: number;
  bytesIn: number;
  bytesOut: number;
}

interface Report {
  rows: Array<Counters & { function: string; version?: number; hour?: string }>;
  totals: Counters;
  estimates: Array<{ table: string; currency: string; total: number; lines: Array<{ item: string; quantity: number; unitPrice: number; amount: number }> }>;
}

test('usage sums equal the invocations made, survive a restart, and are priced', async (t) => {
  const root = await writeProject(t, {
    'outpost.toml': 'name = "metered"\nmain = "index.js"\n[limits]\nmemory_mb = 256\n',
    'index.js': "export default { fetch(r) { if (new URL(r.url).pathname === '/fail') throw new Error('no'); return new Response('fine'); } };\n",
  });
  const state = await tempDir(t, 'outpost-usage-state-');
  const prices = join(await tempDir(t), 'prices.json');
  await writeFile(prices, JSON.stringify({ name: 'my-cloud', currency: 'EUR', lines: [{ item: 'requests', meter: 'requests', unitPrice: 0.001 }] }));
  let node = await startOutpost(t, ['dev', root, '--port', '0', '--state', state, '--quiet', '--prices', prices]);
  for (let i = 0; i < 22; i++) await (await fetch(`${node.url}/`)).text();
  for (let i = 0; i < 3; i++) await (await fetch(`${node.url}/fail`)).text();

  const report = async (query: string): Promise<Report> => {
    const res = await fetch(`${node.url}/_outpost/api/usage?${query}`);
    assert.equal(res.status, 200);
    return (await res.json()) as Report;
  };
  // Records reach the meter when each invocation ends, just after its response.
  const usage = await eventually(async () => {
    const r = await report('function=metered');
    return r.totals.requests === 25 ? r : undefined;
  }, 10_000, '25 metered requests');
  assert.equal(usage.totals.errors, 3);
  assert.deepEqual(usage.rows.map((r) => [r.function, r.requests]), [['metered', 25]]);

  // GB-seconds are the sum of each invocation's billed duration × 256 MB.
  const logs = (await (await fetch(`${node.url}/_outpost/api/logs?function=metered&limit=1000`)).json()) as { records: Array<{ type: string; billedDurationMs: number; durationMs: number; cpuMs?: number }> };
  const invocations = logs.records.filter((r) => r.type === 'invocation');
  assert.equal(invocations.length, 25);
  const billed = invocations.reduce((n, r) => n + r.billedDurationMs, 0);
  assert.equal(usage.totals.billedMs, billed);
  assert.ok(Math.abs(usage.totals.gbSeconds - (billed / 1000) * (256 / 1024)) < 1e-9);
  assert.ok(usage.totals.billedMs >= usage.totals.durationMs);
  assert.ok(usage.totals.bytesIn > 0 && usage.totals.bytesOut > 0);

  const aws = usage.estimates.find((e) => e.table === 'aws-lambda');
  assert.ok(aws);
  assert.equal(aws.currency, 'USD');
  assert.deepEqual(aws.lines.map((l) => [l.item, l.quantity, l.unitPrice]), [['requests', 25, 0.0000002], ['compute (GB-seconds)', usage.totals.gbSeconds, 0.0000166667]]);
  const custom = usage.estimates.find((e) => e.table === 'my-cloud');
  assert.deepEqual(custom && [custom.currency, custom.total], ['EUR', 0.025]);
  assert.ok(usage.estimates.some((e) => e.table === 'cloudflare-workers'));

  // Flushed at close, read back by the next run on the same state.
  await node.stop();
  node = await startOutpost(t, ['dev', root, '--port', '0', '--state', state, '--quiet']);
  await (await fetch(`${node.url}/`)).text();
  const after = await eventually(async () => {
    const r = await report('by=version');
    return r.totals.requests === 26 ? r : undefined;
  }, 10_000, 'usage after a restart');
  assert.deepEqual(after.rows.map((r) => [r.function, r.version, r.requests]), [['metered', 1, 26]]);
  const byHour = await report('by=hour&since=2h');
  assert.match(byHour.rows[0]?.hour ?? '', /^\d{4}-\d\d-\d\dT\d\d$/);
  assert.equal((await report('since=2000-01-01T00:00:00Z&until=2000-01-01T05:00:00Z')).totals.requests, 0);

  const cli = await runCli(['usage', '--to', node.url]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /FUNCTION\s+REQUESTS\s+ERRORS\s+COLD\s+BILLED MS\s+GB-S/);
  assert.match(cli.stdout, /metered\s+26\s+3\s/);
  assert.match(cli.stdout, /aws-lambda: \d+\.\d{6} USD/);
  assert.match(cli.stdout, /cloudflare-workers: \d+\.\d{6} USD/);
  const json = await runCli(['usage', 'metered', '--by', 'version', '--json', '--to', node.url]);
  assert.equal((JSON.parse(json.stdout) as Report).totals.requests, 26);
  const bad = await runCli(['usage', '--by', 'day', '--to', node.url]);
  assert.equal(bad.code, 2);
});
