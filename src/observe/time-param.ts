/**
 * @module
 * The `since`/`until` parameters every observability API and command takes: an ISO time, or
 * a span back from now (`90s`, `15m`, `1h`, `7d`).
 */
const SPAN = /^(\d+(?:\.\d+)?)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `value` as epoch ms, or undefined when it is neither an ISO time nor a span. */
export function parseTimeParam(value: string, now: number): number | undefined {
  const span = SPAN.exec(value);
  if (span) return now - Number(span[1]) * UNIT_MS[span[2] as keyof typeof UNIT_MS];
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}
