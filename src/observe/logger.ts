/**
 * @module
 * The node's log output: one record per invocation and the functions' own console lines,
 * tagged with the request id. `pretty` is for a developer's terminal (outpost dev); `json` is
 * one JSON object per line for machines (outpost serve). Retention, live tail and metrics come
 * with the observability capability; this is the single place they will hook in.
 */
import type { Writable } from 'node:stream';

export type LogFormat = 'pretty' | 'json';

export interface InvocationLog {
  requestId: string;
  function?: string;
  version?: number;
  trigger: 'http' | 'cron' | 'queue' | 'invoke';
  method?: string;
  path?: string;
  status: number;
  outcome: string;
  durationMs: number;
  cpuMs?: number;
  coldStart?: boolean;
  /** Time spent starting the instance, when coldStart. */
  startMs?: number;
  error?: { code: string; message: string; stack?: string };
}

/** Receives every console line a function prints (see {@link Logger.onConsole}). */
export type ConsoleListener = (fn: string, version: number, requestId: string | undefined, level: string, message: string) => void;

export class Logger {
  readonly #listeners = new Set<ConsoleListener>();
  readonly #out: Writable;
  readonly #format: LogFormat;
  readonly #quiet: boolean;

  constructor(options: { out: Writable; format: LogFormat; quiet?: boolean }) {
    this.#out = options.out;
    this.#format = options.format;
    this.#quiet = options.quiet ?? false;
  }

  /** False when invocation records are dropped anyway: callers skip building them. */
  get recordsInvocations(): boolean {
    return !this.#quiet;
  }

  invocation(record: InvocationLog): void {
    if (this.#quiet) return;
    const level = record.outcome === 'ok' || record.outcome === 'no-route' ? 'info' : 'error';
    if (this.#format === 'json') {
      this.#write(JSON.stringify({ time: new Date().toISOString(), level, type: 'invocation', ...record }));
      return;
    }
    const fn = record.function ? ` ${record.function}@${record.version ?? '?'}` : '';
    const cold = record.coldStart ? ` (cold start ${record.startMs === undefined ? '' : `${record.startMs.toFixed(1)}ms`})`.replace(' )', ')') : '';
    const what = record.trigger === 'http' ? `${record.method ?? ''} ${record.path ?? ''}` : record.trigger;
    const error = record.error ? `\n  ${record.error.code}: ${record.error.message}${record.error.stack ? `\n${indent(record.error.stack)}` : ''}` : '';
    this.#write(`[${record.status}] ${what}${fn} ${record.durationMs.toFixed(1)}ms${cold} ${record.outcome === 'ok' ? '' : record.outcome}${error}`.trimEnd());
  }

  /** Calls `listener` with every console line, even when quiet (the Lambda API's log tail); returns the unsubscribe function. */
  onConsole(listener: ConsoleListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  console(fn: string, version: number, requestId: string | undefined, level: string, message: string): void {
    for (const listener of this.#listeners) listener(fn, version, requestId, level, message);
    if (this.#quiet) return;
    if (this.#format === 'json') {
      this.#write(JSON.stringify({ time: new Date().toISOString(), level, type: 'console', function: fn, version, requestId, message }));
      return;
    }
    this.#write(`  ${fn}${level === 'log' || level === 'info' ? '' : ` ${level}`}: ${message}`);
  }

  system(level: 'info' | 'warn' | 'error', message: string): void {
    if (this.#format === 'json') {
      this.#write(JSON.stringify({ time: new Date().toISOString(), level, type: 'system', message }));
      return;
    }
    this.#write(level === 'info' ? message : `${level}: ${message}`);
  }

  #write(line: string): void {
    this.#out.write(`${line}\n`);
  }
}

function indent(text: string): string {
  return text.split('\n').map((l) => `    ${l}`).join('\n');
}
