/**
 * @module
 * `firebase-functions/logger` on Outpost: each call becomes one line in the function's log at
 * the matching level (DEBUG → debug, INFO/NOTICE → info, WARNING → warn, ERROR and above →
 * error). A trailing plain object is structured data, as in Cloud Logging; it is appended to
 * the message as JSON.
 */

export type LogSeverity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL' | 'ALERT' | 'EMERGENCY';

export interface LogEntry {
  severity: LogSeverity;
  message?: string;
  [key: string]: unknown;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Error) && Object.getPrototypeOf(v) === Object.prototype;
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Error) return v.stack ?? String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

export function write(entry: LogEntry): void {
  const { severity, message, ...data } = entry;
  const line = [message ?? '', Object.keys(data).length > 0 ? text(data) : ''].filter((s) => s !== '').join(' ');
  switch (severity) {
    case 'DEBUG':
      console.debug(line);
      return;
    case 'INFO':
    case 'NOTICE':
      console.info(line);
      return;
    case 'WARNING':
      console.warn(line);
      return;
    default:
      console.error(line);
  }
}

function entryFrom(severity: LogSeverity, args: unknown[]): LogEntry {
  const last = args[args.length - 1];
  const data = args.length > 1 && isPlain(last) ? last : undefined;
  const parts = data ? args.slice(0, -1) : args;
  return { ...(data ?? {}), severity, message: parts.map(text).join(' ') };
}

export const debug = (...args: unknown[]): void => write(entryFrom('DEBUG', args));
export const log = (...args: unknown[]): void => write(entryFrom('INFO', args));
export const info = (...args: unknown[]): void => write(entryFrom('INFO', args));
export const warn = (...args: unknown[]): void => write(entryFrom('WARNING', args));
export const error = (...args: unknown[]): void => write(entryFrom('ERROR', args));

export default { write, debug, log, info, warn, error };
