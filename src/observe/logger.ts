/**
 * @module
 * The node's log output: one record per invocation and the functions' own console lines,
 * tagged with the request id. `pretty` is for a developer's terminal (outpost dev); `json` is
 * one JSON object per line for machines (outpost serve). It is one sink of the node's
 * {@link Telemetry}; the log store, metrics and traces are others.
 */
import type { Writable } from 'node:stream';
import type { ConsoleLine, InvocationEvent, TelemetrySink } from './telemetry.ts';

export type LogFormat = 'pretty' | 'json';

export class Logger implements TelemetrySink {
  readonly #out: Writable;
  readonly #format: LogFormat;
  readonly #quiet: boolean;

  constructor(options: { out: Writable; format: LogFormat; quiet?: boolean }) {
    this.#out = options.out;
    this.#format = options.format;
    this.#quiet = options.quiet ?? false;
  }

  /** True when invocation records and console lines are dropped (the node does not subscribe it). */
  get quiet(): boolean {
    return this.#quiet;
  }

  invocation(record: InvocationEvent): void {
    const level = record.outcome === 'ok' || record.outcome === 'no-route' ? 'info' : 'error';
    if (this.#format === 'json') {
      this.#write(JSON.stringify({ type: 'invocation', ...record, level, time: new Date(record.time).toISOString() }));
      return;
    }
    const fn = record.function ? ` ${record.function}@${record.version ?? '?'}` : '';
    const cold = record.coldStart ? ` (cold start ${record.startMs === undefined ? '' : `${record.startMs.toFixed(1)}ms`})`.replace(' )', ')') : '';
    const what = record.trigger === 'http' ? `${record.method ?? ''} ${record.path ?? ''}` : record.trigger;
    const error = record.error ? `\n  ${record.error.code}: ${record.error.message}${record.error.stack ? `\n${indent(record.error.stack)}` : ''}` : '';
    this.#write(`[${record.status}] ${what}${fn} ${record.durationMs.toFixed(1)}ms${cold} ${record.outcome === 'ok' ? '' : record.outcome}${error}`.trimEnd());
  }

  console(line: ConsoleLine): void {
    const { level, message } = line;
    if (this.#format === 'json') {
      this.#write(JSON.stringify({ time: new Date(line.time).toISOString(), level, type: 'console', function: line.function, version: line.version, requestId: line.requestId, message }));
      return;
    }
    this.#write(`  ${line.function}${level === 'log' || level === 'info' ? '' : ` ${level}`}: ${message}`);
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
