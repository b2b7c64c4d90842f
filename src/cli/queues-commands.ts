/**
 * @module
 * `outpost queues list|create|send|peek|dlq redrive` and `outpost trigger cron <fn>`: the
 * queue and schedule commands, talking to a node's control API (routes in
 * src/events/queues-api.ts and src/events/cron.ts).
 */
import type { Values } from './commands.ts';
import { EXIT, UsageError } from './output.ts';
import { api, clientFrom as client, printResult as print } from './client.ts';



function wholeNumber(values: Values, key: string): number | undefined {
  const v = values[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${key} must be a whole number`);
  return n;
}

interface QueueRow {
  name: string;
  config: { deadLetterQueue?: string; maxReceiveCount?: number };
  stats: { visible: number; inFlight: number; delayed: number; dead: number; oldestSentAt?: number };
  consumers: string[];
}

function age(ms: number | undefined): string {
  if (ms === undefined) return '-';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

export async function queues(values: Values, positionals: string[]): Promise<number> {
  const [verb, ...rest] = positionals;
  const c = client(values);
  const name = rest[0];
  const path = (n: string): string => `queues/${encodeURIComponent(n)}`;
  switch (verb) {
    case 'list':
    case undefined: {
      const { queues: all } = await api<{ queues: QueueRow[] }>(c, 'GET', 'queues');
      const header = `${'QUEUE'.padEnd(28)} ${'READY'.padStart(7)} ${'IN FLIGHT'.padStart(9)} ${'DELAYED'.padStart(7)} ${'DEAD'.padStart(6)} ${'OLDEST'.padStart(6)}  CONSUMERS`;
      const rows = all.map((q) => `${q.name.padEnd(28)} ${String(q.stats.visible).padStart(7)} ${String(q.stats.inFlight).padStart(9)} ${String(q.stats.delayed).padStart(7)} ${String(q.stats.dead).padStart(6)} ${age(q.stats.oldestSentAt).padStart(6)}  ${q.consumers.join(', ') || '-'}`);
      const dead = all.filter((q) => q.stats.dead > 0);
      const note = dead.length > 0 ? `\n! ${dead.map((q) => `${q.name} holds ${q.stats.dead} dead message(s)`).join('; ')} — outpost queues peek <queue> --dead, outpost queues dlq redrive <queue>` : '';
      print(values, all, all.length === 0 ? 'no queues' : `${header}\n${rows.join('\n')}${note}`);
      return EXIT.ok;
    }
    case 'create': {
      if (!name) throw new UsageError('name the queue: outpost queues create <name>');
      const visibility = wholeNumber(values, 'visibility-timeout');
      const maxReceives = wholeNumber(values, 'max-receives');
      const dlq = typeof values['dlq'] === 'string' ? values['dlq'] : undefined;
      const result = await api<{ created: boolean }>(c, 'POST', 'queues', {
        name,
        ...(visibility === undefined ? {} : { visibilityTimeoutSeconds: visibility }),
        ...(maxReceives === undefined ? {} : { maxReceiveCount: maxReceives }),
        ...(dlq === undefined ? {} : { deadLetterQueue: dlq }),
      });
      print(values, result, result.created ? `✔ created queue ${name}` : `= queue ${name} already exists`);
      return EXIT.ok;
    }
    case 'send': {
      const body = rest[1];
      if (!name || body === undefined) throw new UsageError('outpost queues send <queue> <body>');
      const contentType = typeof values['content-type'] === 'string' ? values['content-type'] : 'json';
      let parsed: unknown = body;
      if (contentType === 'json') {
        try {
          parsed = JSON.parse(body);
        } catch {
          throw new UsageError('the body is not JSON; pass --content-type text to send it as text');
        }
      }
      const delay = wholeNumber(values, 'delay');
      const result = await api<{ id: string }>(c, 'POST', `${path(name)}/messages`, { body: parsed, contentType, ...(delay === undefined ? {} : { delaySeconds: delay }) });
      print(values, result, `✔ sent ${result.id}`);
      return EXIT.ok;
    }
    case 'peek': {
      if (!name) throw new UsageError('outpost queues peek <queue>');
      const limit = wholeNumber(values, 'limit') ?? 10;
      const dead = values['dead'] === true ? '&dead=true' : '';
      const { messages } = await api<{ messages: Array<Record<string, unknown>> }>(c, 'GET', `${path(name)}/messages?limit=${limit}${dead}`);
      print(
        values,
        messages,
        messages.length === 0
          ? 'no messages'
          : messages.map((m) => `${String(m['id'])}  attempts ${String(m['receiveCount'])}  ${String(m['sentAt'])}${m['deadReason'] ? `  dead: ${String(m['deadReason'])}` : ''}\n  ${String(m['body']).slice(0, 500)}`).join('\n'),
      );
      return EXIT.ok;
    }
    case 'dlq': {
      const [action, queue] = rest;
      if (action !== 'redrive' || !queue) throw new UsageError('outpost queues dlq redrive <dead-letter queue or queue with dead messages> [--to <queue>]');
      const to = typeof values['to-queue'] === 'string' ? values['to-queue'] : undefined;
      const result = await api<{ moved: number }>(c, 'POST', `${path(queue)}/redrive`, to === undefined ? {} : { to });
      print(values, result, `✔ moved ${result.moved} message(s) back to be delivered`);
      return EXIT.ok;
    }
    case 'purge': {
      if (!name) throw new UsageError('outpost queues purge <queue>');
      const result = await api<{ purged: number }>(c, 'DELETE', `${path(name)}/messages`);
      print(values, result, `✔ purged ${result.purged} message(s)`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown queues command "${verb}"`);
  }
}

export async function trigger(values: Values, positionals: string[]): Promise<number> {
  const [what, fn] = positionals;
  if (what !== 'cron' || !fn) throw new UsageError('outpost trigger cron <function> [--cron <expression>]');
  const cron = typeof values['cron'] === 'string' ? values['cron'] : undefined;
  const result = await api<{ function: string; cron: string; scheduledTime: number; result: unknown }>(client(values), 'POST', `functions/${encodeURIComponent(fn)}/trigger/cron`, cron === undefined ? {} : { cron });
  print(values, result, `✔ ran ${result.function}'s scheduled handler for "${result.cron}"`);
  return EXIT.ok;
}
