import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOutpostError } from '../errors.ts';
import { parseSchedule } from './schedule.ts';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The next `n` ticks after `from`. */
function ticks(expression: string, from: string, n: number, options = {}): string[] {
  const s = parseSchedule(expression, options);
  const out: string[] = [];
  let t = at(from);
  for (let i = 0; i < n; i++) {
    const next = s.next(t);
    if (next === undefined) break;
    out.push(iso(next) ?? '');
    t = next;
  }
  return out;
}

test('Workers five-field crons run in UTC; a tick exactly at `after` is not repeated', () => {
  assert.deepEqual(ticks('*/5 * * * *', '2030-01-01T00:00:00Z', 3), ['2030-01-01T00:05:00.000Z', '2030-01-01T00:10:00.000Z', '2030-01-01T00:15:00.000Z']);
  assert.deepEqual(ticks('*/5 * * * *', '2030-01-01T00:04:59.999Z', 1), ['2030-01-01T00:05:00.000Z']);
  assert.equal(parseSchedule('0 12 * * *').dialect, 'cron');
});

test('Workers weekdays are 1–7 with 1 = Sunday, names, L and #', () => {
  // 2030-01-06 is a Sunday.
  assert.deepEqual(ticks('0 17 * * 1', '2030-01-01T00:00:00Z', 1), ['2030-01-06T17:00:00.000Z']);
  assert.deepEqual(ticks('0 17 * * sun', '2030-01-01T00:00:00Z', 1), ['2030-01-06T17:00:00.000Z']);
  assert.deepEqual(ticks('10 7 * * mon-fri', '2030-01-04T08:00:00Z', 2), ['2030-01-07T07:10:00.000Z', '2030-01-08T07:10:00.000Z']);
  // Last Friday of January 2030 is the 25th; second Monday is the 14th.
  assert.deepEqual(ticks('0 18 * * 6L', '2030-01-01T00:00:00Z', 1), ['2030-01-25T18:00:00.000Z']);
  assert.deepEqual(ticks('0 10 * * MON#2', '2030-01-01T00:00:00Z', 1), ['2030-01-14T10:00:00.000Z']);
  // Last weekday of March 2030 (the 31st is a Sunday) is Friday the 29th.
  assert.deepEqual(ticks('59 23 LW * *', '2030-03-01T00:00:00Z', 1), ['2030-03-29T23:59:00.000Z']);
});

test('EventBridge cron(): six fields, ? and year, L W #, n/step', () => {
  assert.equal(parseSchedule('cron(0 12 * * ? *)').dialect, 'eventbridge-cron');
  assert.deepEqual(ticks('cron(0 12 * * ? *)', '2030-01-01T12:00:00Z', 2), ['2030-01-02T12:00:00.000Z', '2030-01-03T12:00:00.000Z']);
  // 10:15 on the last day of each month.
  assert.deepEqual(ticks('cron(15 10 L * ? *)', '2030-01-31T11:00:00Z', 1), ['2030-02-28T10:15:00.000Z']);
  // Weekday nearest the 1st: 2030-06-01 is a Saturday; W stays in the month, so Monday the 3rd.
  assert.deepEqual(ticks('cron(0 8 1W * ? *)', '2030-05-31T00:00:00Z', 1), ['2030-06-03T08:00:00.000Z']);
  // Third Friday (6#3) of each month; 1 = Sunday as in Quartz.
  assert.deepEqual(ticks('cron(0 9 ? * 6#3 *)', '2030-01-01T00:00:00Z', 1), ['2030-01-18T09:00:00.000Z']);
  assert.deepEqual(ticks('cron(0 18 ? * MON-FRI *)', '2030-01-05T00:00:00Z', 1), ['2030-01-07T18:00:00.000Z']);
  // 1/10: every tenth minute from minute 1.
  assert.deepEqual(ticks('cron(1/10 * * * ? *)', '2030-01-01T00:00:00Z', 3), ['2030-01-01T00:01:00.000Z', '2030-01-01T00:11:00.000Z', '2030-01-01T00:21:00.000Z']);
  // A year field ends the schedule.
  assert.deepEqual(ticks('cron(0 0 1 1 ? 2031)', '2030-06-01T00:00:00Z', 3), ['2031-01-01T00:00:00.000Z']);
  assert.deepEqual(ticks('cron(0 12 * * ? *)', '2030-01-01T00:00:00Z', 1, { timezone: 'America/New_York' }), ['2030-01-01T17:00:00.000Z']);
});

test('EventBridge cron() mistakes are explained', () => {
  for (const [expr, why] of [
    ['cron(0 12 * * * *)', /must be \?/],
    ['cron(0 12 ? * ? *)', /cannot both be \?/],
    ['cron(0 12 * *)', /six fields/],
    ['cron(0 99 * * ? *)', /invalid schedule/],
  ] as const) {
    assert.throws(() => parseSchedule(expr), (e: unknown) => isOutpostError(e, 'INVALID_SCHEDULE') && why.test((e as Error).message), expr);
  }
});

test('rate(): periods counted from the epoch', () => {
  assert.deepEqual(ticks('rate(5 minutes)', '2030-01-01T00:03:00Z', 2), ['2030-01-01T00:05:00.000Z', '2030-01-01T00:10:00.000Z']);
  assert.deepEqual(ticks('rate(1 hour)', '2030-01-01T00:00:00Z', 1), ['2030-01-01T01:00:00.000Z']);
  assert.deepEqual(ticks('rate(2 days)', '2030-01-01T00:00:00Z', 1), [new Date((Math.floor(at('2030-01-01T00:00:00Z') / 172_800_000) + 1) * 172_800_000).toISOString()]);
  for (const bad of ['rate(0 minutes)', 'rate(5 weeks)', 'rate(five minutes)']) assert.throws(() => parseSchedule(bad), (e: unknown) => isOutpostError(e, 'INVALID_SCHEDULE'), bad);
});

test('Azure NCRONTAB: seconds first, 0 = Sunday, TimeSpan form', () => {
  assert.deepEqual(ticks('0 */5 * * * *', '2030-01-01T00:00:00Z', 2, { format: 'ncrontab' }), ['2030-01-01T00:05:00.000Z', '2030-01-01T00:10:00.000Z']);
  assert.deepEqual(ticks('*/1 * * * * *', '2030-01-01T00:00:00Z', 2), ['2030-01-01T00:00:01.000Z', '2030-01-01T00:00:02.000Z']);
  assert.deepEqual(ticks('0 30 9 * * 0', '2030-01-01T00:00:00Z', 1, { format: 'ncrontab' }), ['2030-01-06T09:30:00.000Z']);
  assert.deepEqual(ticks('00:00:30', '2030-01-01T00:00:10Z', 1, { format: 'ncrontab' }), ['2030-01-01T00:00:30.000Z']);
  assert.throws(() => parseSchedule('*/5 * * * *', { format: 'ncrontab' }), (e: unknown) => isOutpostError(e, 'INVALID_SCHEDULE'));
});
