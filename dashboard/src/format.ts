/**
 * @module
 * How the dashboard writes times, ages and durations: short, in the viewer's locale.
 */

function dateOf(value: number | string): Date {
  return new Date(typeof value === 'number' && value < 1e11 ? value * 1000 : value);
}

export const time = (value: number | string): string => dateOf(value).toLocaleTimeString();
export const dateTime = (value: number | string): string => dateOf(value).toLocaleString();

/** "4 s", "3 min", "2 h", "5 d". */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

export function duration(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** A JSON text pretty-printed, or as it is when it is not JSON. */
export function prettyJson(text: string | undefined): string {
  if (text === undefined) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
