/**
 * @module
 * Schedule expressions as each platform writes them, read into one `next(after)` function.
 * Cron arithmetic is croner's; this file only maps each dialect onto it:
 *
 * - Workers `triggers.crons`: five fields, Quartz extensions (`L`, `W`, `#`), weekdays 1–7 with
 *   1 = Sunday, UTC.
 * - EventBridge `cron(min hour dom month dow year)`: six fields, `?` in day-of-month or
 *   day-of-week, `L`, `W`, `#`, `n/step` steps, weekdays 1–7 with 1 = Sunday, UTC unless a
 *   time zone is given.
 * - EventBridge / serverless / SAM `rate(5 minutes)`: fixed periods, counted from the epoch so
 *   every node and every restart agree on the ticks.
 * - Azure NCRONTAB: six fields with seconds first, weekdays 0–6 with 0 = Sunday, and the
 *   `hh:mm:ss` TimeSpan form; chosen by `format: 'ncrontab'` (Azure loaders) or, for any other
 *   project, by writing six plain fields (Outpost reads those as seconds-first as well).
 */
import { Cron } from 'croner';
import type { CronOptions } from 'croner';
import { OutpostError } from '../errors.ts';

export interface Schedule {
  /** The expression as written in the project. */
  readonly expression: string;
  readonly dialect: 'cron' | 'eventbridge-cron' | 'rate' | 'ncrontab';
  /** The first tick strictly after `after` (epoch ms), or undefined when there is none. */
  next(after: number): number | undefined;
}

export interface ScheduleOptions {
  /** 'ncrontab' for Azure timer triggers; otherwise the dialect follows from the expression. */
  format?: 'ncrontab' | 'auto';
  /** IANA time zone for cron forms (default UTC). */
  timezone?: string;
}

function invalid(expression: string, why: string): OutpostError<'INVALID_SCHEDULE'> {
  return new OutpostError('INVALID_SCHEDULE', `invalid schedule expression "${expression}": ${why}`, {
    status: 400,
    fault: 'user',
    hint: 'use five cron fields (*/5 * * * *), cron(0 12 * * ? *), rate(5 minutes), or six NCRONTAB fields with seconds first (0 */5 * * * *)',
  });
}

const UNIT_MS: Record<string, number> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };

function fixedPeriod(expression: string, dialect: Schedule['dialect'], periodMs: number): Schedule {
  return { expression, dialect, next: (after) => (Math.floor(after / periodMs) + 1) * periodMs };
}

function cronSchedule(expression: string, dialect: Schedule['dialect'], pattern: string, options: CronOptions): Schedule {
  let cron: Cron;
  try {
    cron = new Cron(pattern, { ...options, paused: true });
  } catch (error) {
    throw invalid(expression, (error as Error).message.replace(/^CronPattern: /, ''));
  }
  return {
    expression,
    dialect,
    next(after) {
      // croner counts whole seconds: a tick at exactly `after` is not "after".
      const next = cron.nextRun(new Date(after));
      return next ? next.getTime() : undefined;
    },
  };
}

/** Reads a schedule; throws OutpostError INVALID_SCHEDULE naming what is wrong. */
export function parseSchedule(expression: string, options: ScheduleOptions = {}): Schedule {
  const trimmed = expression.trim();
  const timezone = options.timezone ?? 'Etc/UTC';
  const rate = /^rate\((.*)\)$/i.exec(trimmed);
  if (rate) {
    const m = /^\s*(\d+)\s+([a-z]+)\s*$/i.exec(rate[1] ?? '');
    const value = Number(m?.[1]);
    const unit = UNIT_MS[(m?.[2] ?? '').toLowerCase()];
    if (!m || !unit || !Number.isSafeInteger(value) || value < 1) throw invalid(expression, 'a rate is rate(<positive whole number> minute(s)|hour(s)|day(s))');
    return fixedPeriod(expression, 'rate', value * unit);
  }
  const eb = /^cron\((.*)\)$/i.exec(trimmed);
  if (eb) {
    const fields = (eb[1] ?? '').trim().split(/\s+/);
    if (fields.length !== 6) throw invalid(expression, `cron() takes six fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`);
    const [, , dom, , dow] = fields;
    if (dom !== '?' && dow !== '?') throw invalid(expression, 'one of day-of-month and day-of-week must be ?');
    if (dom === '?' && dow === '?') throw invalid(expression, 'day-of-month and day-of-week cannot both be ?');
    return cronSchedule(expression, 'eventbridge-cron', `0 ${fields.join(' ')}`, { mode: '7-part', alternativeWeekdays: true, sloppyRanges: true, timezone });
  }
  if (/^\d{1,2}:\d{2}:\d{2}$/.test(trimmed) && options.format === 'ncrontab') {
    const [h = 0, m = 0, s = 0] = trimmed.split(':').map(Number);
    const period = ((h * 60 + m) * 60 + s) * 1000;
    if (period <= 0) throw invalid(expression, 'a TimeSpan schedule must be longer than zero');
    return fixedPeriod(expression, 'ncrontab', period);
  }
  const fields = trimmed.split(/\s+/);
  if (options.format === 'ncrontab' || fields.length === 6) {
    if (fields.length !== 6) throw invalid(expression, `NCRONTAB takes six fields (second minute hour day month day-of-week), got ${fields.length}`);
    return cronSchedule(expression, 'ncrontab', trimmed, { mode: '6-part', timezone });
  }
  if (fields.length !== 5) throw invalid(expression, `a cron expression takes five fields (minute hour day-of-month month day-of-week), got ${fields.length}`);
  return cronSchedule(expression, 'cron', trimmed, { mode: '5-part', alternativeWeekdays: true, timezone });
}
