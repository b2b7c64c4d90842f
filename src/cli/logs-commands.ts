/**
 * @module
 * `outpost logs [fn]`: a node's log history (GET /_outpost/api/logs) or, with `--tail`, its
 * live records (the Server-Sent Events of /_outpost/api/logs/stream), printed for people or as
 * one JSON record per line with `--json`.
 *
 * Lambda-style functions print as CloudWatch shows them — `START`, the console lines (which
 * the Lambda adapter formats as `<time>\t<request id>\t<LEVEL>\t<message>`), `END` and
 * `REPORT` — so habits and log parsers made for Lambda keep working. A request's console lines
 * arrive before its invocation record, so they wait for it and print as one block.
 */
import type { Values } from './commands.ts';
import { api, clientFrom } from './client.ts';
import type { ClientOptions } from './client.ts';
import { EXIT, UsageError } from './output.ts';
import { OutpostError } from '../errors.ts';
import type { ConsoleLog, InvocationLog, LogRecord } from '../observe/log-store.ts';

const FILTERS = ['since', 'until', 'status', 'level', 'search', 'sample', 'limit'] as const;
const LAMBDA_STYLES = new Set(['lambda', 'lambda-edge']);

/** Turns records into lines; holds Lambda functions' console lines until their invocation ends. */
export class LogPrinter {
  readonly #json: boolean;
  readonly #out: (text: string) => void;
  readonly #waiting = new Map<string, ConsoleLog[]>();

  constructor(options: { json: boolean; out: (text: string) => void }) {
    this.#json = options.json;
    this.#out = options.out;
  }

  write(record: LogRecord): void {
    if (this.#json) {
      this.#out(`${JSON.stringify(record)}\n`);
      return;
    }
    if (record.type === 'console') {
      if (record.requestId !== undefined && LAMBDA_STYLES.has(record.style ?? '')) {
        const held = this.#waiting.get(record.requestId);
        if (held) held.push(record);
        else this.#waiting.set(record.requestId, [record]);
        return;
      }
      this.#out(`${consoleLine(record)}\n`);
      return;
    }
    const held = this.#waiting.get(record.requestId) ?? [];
    this.#waiting.delete(record.requestId);
    if (LAMBDA_STYLES.has(record.style ?? '')) this.#out(lambdaBlock(record, held));
    else this.#out(`${[...held.map(consoleLine), invocationLine(record)].join('\n')}\n`);
  }

  /** Prints console lines whose invocation record never came (cut off by a limit or filter). */
  end(): void {
    for (const lines of this.#waiting.values()) for (const line of lines) this.#out(`${lambdaConsole(line)}\n`);
    this.#waiting.clear();
  }
}

function consoleLine(r: ConsoleLog): string {
  return `${r.time} ${r.function}@${r.version} ${r.level.toUpperCase().padEnd(5)} ${r.message}`;
}

function invocationLine(r: InvocationLog): string {
  const what = r.trigger === 'http' || r.trigger === 'service' ? `${r.method ?? ''} ${r.path ?? ''}` : r.trigger;
  const fn = r.function === undefined ? '' : ` ${r.function}@${r.version ?? '?'}`;
  const cold = r.coldStart ? ' cold start' : '';
  const outcome = r.outcome === 'ok' ? '' : ` ${r.outcome}`;
  const head = `${r.time}${fn} [${r.status}] ${what} ${r.durationMs.toFixed(1)}ms${cold}${outcome} ${r.requestId}`;
  if (!r.error) return head;
  return `${head}\n  ${r.error.code}: ${r.error.message}${r.error.stack ? `\n${r.error.stack.split('\n').map((l) => `    ${l}`).join('\n')}` : ''}`;
}

/**
 * A console line as Lambda's Node.js runtime writes it to CloudWatch. The Lambda adapter
 * already formats the message that way (`<time>\t<request id>\t<LEVEL>\t<text>`) so the
 * function's own log tail matches too; it is printed as it is.
 */
function lambdaConsole(r: ConsoleLog): string {
  return r.message;
}

/** START, the console lines, the error if any, END and REPORT — CloudWatch's lines for one invocation. */
export function lambdaBlock(r: InvocationLog, lines: readonly ConsoleLog[]): string {
  const out = [`START RequestId: ${r.requestId} Version: ${r.version ?? '$LATEST'}`, ...lines.map(lambdaConsole)];
  if (r.error) out.push(`${r.time}\t${r.requestId}\tERROR\t${r.error.code}: ${r.error.message}${r.error.stack ? `\n${r.error.stack}` : ''}`);
  out.push(`END RequestId: ${r.requestId}`);
  let report = `REPORT RequestId: ${r.requestId}\tDuration: ${r.durationMs.toFixed(2)} ms\tBilled Duration: ${r.billedDurationMs} ms\tMemory Size: ${r.memoryMb ?? 128} MB\tMax Memory Used: ${r.maxMemoryMB ?? 0} MB`;
  if (r.coldStart && r.startMs !== undefined) report += `\tInit Duration: ${r.startMs.toFixed(2)} ms`;
  out.push(report);
  return `${out.join('\n')}\n`;
}

function query(values: Values, fn: string | undefined, history: boolean): string {
  const params = new URLSearchParams();
  if (fn) params.set('function', fn);
  for (const name of FILTERS) {
    const v = values[name];
    if (typeof v === 'string') params.set(name, v);
  }
  if (history && !params.has('since')) params.set('since', '1h');
  if (history && !params.has('limit')) params.set('limit', '200');
  return params.toString();
}

/** Reads the node's Server-Sent Events and hands each record to `onRecord` until the node closes it. */
async function follow(client: ClientOptions, search: string, onRecord: (r: LogRecord) => void, signal: AbortSignal): Promise<void> {
  let response: Response;
  try {
    response = await fetch(new URL(`/_outpost/api/logs/stream?${search}`, client.url), { signal, headers: client.token ? { authorization: `Bearer ${client.token}` } : {} });
  } catch (error) {
    throw new OutpostError('NODE_UNREACHABLE', `could not reach an Outpost node at ${client.url}: ${(error as Error).message}`, { fault: 'user', hint: 'start one with `outpost serve` or pass --to <url>' });
  }
  if (!response.ok || !response.body) {
    const body = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string; hint?: string } };
    throw new OutpostError(body.error?.code ?? 'REQUEST_FAILED', body.error?.message ?? `the log stream answered ${response.status}`, { status: response.status, fault: 'user', ...(body.error?.hint ? { hint: body.error.hint } : {}) });
  }
  let buffered = '';
  for await (const text of response.body.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    let end: number;
    while ((end = buffered.indexOf('\n\n')) !== -1) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = event.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (data) onRecord(JSON.parse(data) as LogRecord);
    }
  }
}

export async function logs(values: Values, positionals: string[]): Promise<number> {
  if (positionals.length > 1) throw new UsageError('outpost logs takes at most one function name');
  const fn = positionals[0];
  // --url is accepted beside --to, the flag every other remote command uses.
  const client = clientFrom(typeof values['url'] === 'string' && values['to'] === undefined ? { ...values, to: values['url'] } : values);
  const printer = new LogPrinter({ json: values['json'] === true, out: (text) => process.stdout.write(text) });
  if (values['tail'] === true) {
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    try {
      await follow(client, query(values, fn, false), (r) => printer.write(r), stop.signal);
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    }
    printer.end();
    return EXIT.ok;
  }
  const { records } = await api<{ records: LogRecord[] }>(client, 'GET', `logs?${query(values, fn, true)}`);
  for (const r of records) printer.write(r);
  printer.end();
  if (records.length === 0 && values['json'] !== true) process.stderr.write('no log records match (widen --since, or drop a filter)\n');
  return EXIT.ok;
}
