/**
 * @module
 * An SQS-compatible API on the AWS port (JSON protocol: `x-amz-target: AmazonSQS.<Op>`,
 * `application/x-amz-json-1.0`), served from the queue store — so a queue fed by an AWS SDK
 * triggers the functions that consume it, and a Workers producer's messages can be read by an
 * SQS client. Queue URLs are `http://<aws host>/000000000000/<name>`. Errors carry both the JSON
 * `__type` and the `x-amzn-query-error` header, which the SDK (awsQueryCompatible) turns into
 * `error.name` (QueueDoesNotExist) and `error.Code` (AWS.SimpleQueueService.NonExistentQueue).
 *
 * Not served: FIFO ordering and message groups (MessageGroupId is accepted, ordering is the
 * queue's), tags, permissions, dead-letter source listing, message move tasks.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AwsService, NodeService, RunningService } from '../server/context.ts';
import { DEFAULT_QUEUE_CONFIG, QUEUE_NAME_RE } from '../store/queues.ts';
import type { QueueConfig, QueueInfo, QueueMessage, QueueSendInput, QueueStore } from '../store/queues.ts';
import { ACCOUNT_ID, readBody } from './index.ts';

const MAX_MESSAGE_BYTES = 262_144;

class SqsError extends Error {
  readonly type: string;
  readonly queryCode: string;
  readonly status: number;
  readonly sender: boolean;
  constructor(type: string, message: string, options: { queryCode?: string; status?: number; sender?: boolean } = {}) {
    super(message);
    this.type = type;
    this.queryCode = options.queryCode ?? type;
    this.status = options.status ?? 400;
    this.sender = options.sender ?? true;
  }
}

const noQueue = (): SqsError => new SqsError('QueueDoesNotExist', 'The specified queue does not exist.', { queryCode: 'AWS.SimpleQueueService.NonExistentQueue' });
const invalid = (message: string): SqsError => new SqsError('InvalidParameterValue', message);

function sendJson(res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': randomUUID(), ...extra });
  res.end(body);
}

function sendError(res: ServerResponse, e: SqsError): void {
  sendJson(res, e.status, { __type: `com.amazonaws.sqs#${e.type}`, message: e.message }, { 'x-amzn-query-error': `${e.queryCode};${e.sender ? 'Sender' : 'Receiver'}` });
}

const md5 = (data: string | Uint8Array): string => createHash('md5').update(data).digest('hex');

interface Attribute {
  DataType?: string;
  StringValue?: string;
  BinaryValue?: string;
}

/** SQS's MD5 of message attributes: names sorted, each as length-prefixed name, type, transport byte and value. */
export function md5OfAttributes(attributes: Record<string, Attribute>): string {
  const parts: Buffer[] = [];
  const field = (data: Buffer): void => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.byteLength);
    parts.push(len, data);
  };
  for (const name of Object.keys(attributes).sort()) {
    const a = attributes[name] ?? {};
    field(Buffer.from(name, 'utf8'));
    field(Buffer.from(a.DataType ?? 'String', 'utf8'));
    if (a.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      field(Buffer.from(a.BinaryValue, 'base64'));
    } else {
      parts.push(Buffer.from([1]));
      field(Buffer.from(a.StringValue ?? '', 'utf8'));
    }
  }
  return md5(Buffer.concat(parts));
}

function checkAttributes(value: unknown): Record<string, Attribute> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('MessageAttributes must be a map');
  const out: Record<string, Attribute> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    const a = v as Attribute;
    if (typeof a !== 'object' || a === null || typeof a.DataType !== 'string') throw invalid(`The message attribute '${name}' must contain a non-empty attribute type.`);
    if (a.StringValue === undefined && a.BinaryValue === undefined) throw invalid(`The message attribute '${name}' must contain a non-empty message attribute value.`);
    out[name] = { DataType: a.DataType, ...(a.StringValue === undefined ? {} : { StringValue: String(a.StringValue) }), ...(a.BinaryValue === undefined ? {} : { BinaryValue: String(a.BinaryValue) }) };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function intIn(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw invalid(`Value ${String(value)} for parameter ${name} is invalid. Reason: must be between ${min} and ${max}.`);
  return n;
}

/** Queue settings from SQS attribute strings; unknown ones are kept as extra. */
function readAttributes(attributes: unknown): { config: { [K in keyof QueueConfig]?: QueueConfig[K] | undefined }; extra: Record<string, string> } {
  const config: { [K in keyof QueueConfig]?: QueueConfig[K] | undefined } = {};
  const extra: Record<string, string> = {};
  for (const [k, raw] of Object.entries((attributes ?? {}) as Record<string, unknown>)) {
    const v = String(raw);
    switch (k) {
      case 'VisibilityTimeout':
        config.visibilityTimeoutSeconds = intIn(v, k, 0, 43_200);
        break;
      case 'DelaySeconds':
        config.delaySeconds = intIn(v, k, 0, 900);
        break;
      case 'MessageRetentionPeriod':
        config.messageRetentionSeconds = intIn(v, k, 60, 1_209_600);
        break;
      case 'ReceiveMessageWaitTimeSeconds':
        config.receiveWaitTimeSeconds = intIn(v, k, 0, 20);
        break;
      case 'RedrivePolicy': {
        if (v === '') {
          config.maxReceiveCount = undefined;
          config.deadLetterQueue = undefined;
          break;
        }
        let p: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
        try {
          p = JSON.parse(v) as typeof p;
        } catch {
          throw invalid('Value for parameter RedrivePolicy is invalid. Reason: Invalid value for the parameter RedrivePolicy.');
        }
        const arn = typeof p.deadLetterTargetArn === 'string' ? p.deadLetterTargetArn : '';
        const dlq = arn.split(':').at(-1) ?? '';
        if (!QUEUE_NAME_RE.test(dlq)) throw invalid('Value for parameter RedrivePolicy is invalid. Reason: Dead-letter target ARN is missing or invalid.');
        config.deadLetterQueue = dlq;
        config.maxReceiveCount = intIn(p.maxReceiveCount, 'maxReceiveCount', 1, 1000);
        break;
      }
      default:
        extra[k] = v;
    }
  }
  return { config, extra };
}

export class SqsApi implements AwsService {
  readonly name = 'sqs';
  readonly #queues: QueueStore;
  readonly #region: string;
  readonly #polls = new Set<() => void>();
  #closed = false;

  constructor(queues: QueueStore, region: string) {
    this.#queues = queues;
    this.#region = region;
  }

  matches(req: IncomingMessage): boolean {
    const target = req.headers['x-amz-target'];
    return typeof target === 'string' && target.startsWith('AmazonSQS.');
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const op = String(req.headers['x-amz-target']).slice('AmazonSQS.'.length);
    const base = `http://${req.headers.host ?? '127.0.0.1'}`;
    let input: Record<string, unknown>;
    try {
      const raw = (await readBody(req, 2 * 1024 * 1024)).toString('utf8');
      input = raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
      if (typeof input !== 'object' || input === null) throw new Error('not an object');
    } catch {
      sendError(res, new SqsError('SerializationException', 'The request body could not be read as JSON.', { queryCode: 'MalformedInput' }));
      return;
    }
    try {
      sendJson(res, 200, await this.#op(op, input, base));
    } catch (error) {
      if (error instanceof SqsError) sendError(res, error);
      else if ((error as { code?: string }).code === 'QUEUE_NOT_FOUND') sendError(res, noQueue());
      else if ((error as { code?: string }).code === 'QUEUE_INVALID_NAME') sendError(res, invalid((error as Error).message));
      else sendError(res, new SqsError('InternalError', (error as Error).message, { status: 500, sender: false, queryCode: 'InternalError' }));
    }
  }

  #url(base: string, name: string): string {
    return `${base}/${ACCOUNT_ID}/${name}`;
  }

  async #queueOf(input: Record<string, unknown>): Promise<QueueInfo> {
    const url = input['QueueUrl'];
    if (typeof url !== 'string' || url === '') throw new SqsError('MissingParameter', 'The request must contain the parameter QueueUrl.');
    const name = url.replace(/\/+$/, '').split('/').at(-1) ?? '';
    const info = QUEUE_NAME_RE.test(name) ? await this.#queues.getQueue(name) : undefined;
    if (!info) throw noQueue();
    return info;
  }

  #arn(name: string): string {
    return `arn:aws:sqs:${this.#region}:${ACCOUNT_ID}:${name}`;
  }

  #toInput(entry: Record<string, unknown>): QueueSendInput {
    const body = entry['MessageBody'];
    if (typeof body !== 'string' || body === '') throw new SqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
    if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) throw invalid(`One or more parameters are invalid. Reason: Message must be shorter than ${MAX_MESSAGE_BYTES} bytes.`);
    const attributes = checkAttributes(entry['MessageAttributes']);
    const delay = intIn(entry['DelaySeconds'], 'DelaySeconds', 0, 900);
    const dedup = entry['MessageDeduplicationId'];
    return {
      body: new TextEncoder().encode(body),
      senderId: ACCOUNT_ID,
      ...(attributes ? { attributes: attributes as Record<string, unknown> } : {}),
      ...(delay === undefined ? {} : { delaySeconds: delay }),
      ...(typeof dedup === 'string' ? { dedupId: dedup } : {}),
    };
  }

  #sent(input: QueueSendInput, id: string): Record<string, string> {
    return {
      MessageId: id,
      MD5OfMessageBody: md5(input.body),
      ...(input.attributes ? { MD5OfMessageAttributes: md5OfAttributes(input.attributes as Record<string, Attribute>) } : {}),
    };
  }

  async #op(op: string, input: Record<string, unknown>, base: string): Promise<unknown> {
    switch (op) {
      case 'CreateQueue': {
        const name = input['QueueName'];
        if (typeof name !== 'string' || !QUEUE_NAME_RE.test(name)) {
          throw invalid('Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
        }
        const { config, extra } = readAttributes(input['Attributes']);
        const clean = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) as Partial<QueueConfig>;
        const { created } = await this.#queues.createQueue(name, clean, extra);
        if (!created && Object.keys(clean).length > 0) await this.#queues.updateQueue(name, clean);
        return { QueueUrl: this.#url(base, name) };
      }
      case 'GetQueueUrl': {
        const name = input['QueueName'];
        if (typeof name !== 'string' || !(await this.#queues.getQueue(name))) throw noQueue();
        return { QueueUrl: this.#url(base, name) };
      }
      case 'ListQueues': {
        const prefix = typeof input['QueueNamePrefix'] === 'string' ? input['QueueNamePrefix'] : '';
        const max = intIn(input['MaxResults'], 'MaxResults', 1, 1000);
        let names = (await this.#queues.listQueues(prefix)).map((q) => q.name);
        const token = typeof input['NextToken'] === 'string' ? input['NextToken'] : undefined;
        if (token) names = names.filter((n) => n > Buffer.from(token, 'base64url').toString('utf8'));
        const page = max === undefined ? names : names.slice(0, max);
        const last = page.at(-1);
        return {
          ...(page.length > 0 ? { QueueUrls: page.map((n) => this.#url(base, n)) } : {}),
          ...(max !== undefined && names.length > max && last ? { NextToken: Buffer.from(last, 'utf8').toString('base64url') } : {}),
        };
      }
      case 'DeleteQueue': {
        const q = await this.#queueOf(input);
        await this.#queues.deleteQueue(q.name);
        return {};
      }
      case 'PurgeQueue': {
        const q = await this.#queueOf(input);
        await this.#queues.purge(q.name);
        return {};
      }
      case 'SendMessage': {
        const q = await this.#queueOf(input);
        const message = this.#toInput(input);
        const [sent] = await this.#queues.send(q.name, [message]);
        return this.#sent(message, sent?.id ?? '');
      }
      case 'SendMessageBatch': {
        const q = await this.#queueOf(input);
        const entries = input['Entries'];
        if (!Array.isArray(entries) || entries.length === 0) throw new SqsError('EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.', { queryCode: 'AWS.SimpleQueueService.EmptyBatchRequest' });
        if (entries.length > 10) throw new SqsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`, { queryCode: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest' });
        const ids = entries.map((e: Record<string, unknown>) => String(e['Id'] ?? ''));
        if (new Set(ids).size !== ids.length) throw new SqsError('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.', { queryCode: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct' });
        const total = entries.reduce((n: number, e: Record<string, unknown>) => n + Buffer.byteLength(String(e['MessageBody'] ?? '')), 0);
        if (total > MAX_MESSAGE_BYTES) throw new SqsError('BatchRequestTooLong', `Batch requests cannot be longer than ${MAX_MESSAGE_BYTES} bytes. You have sent ${total} bytes.`, { queryCode: 'AWS.SimpleQueueService.BatchRequestTooLong' });
        const ok: Array<{ id: string; input: QueueSendInput }> = [];
        const failed: unknown[] = [];
        for (const [i, e] of (entries as Array<Record<string, unknown>>).entries()) {
          const id = ids[i] ?? '';
          try {
            ok.push({ id, input: this.#toInput(e) });
          } catch (error) {
            const err = error instanceof SqsError ? error : invalid((error as Error).message);
            failed.push({ Id: id, SenderFault: true, Code: err.queryCode, Message: err.message });
          }
        }
        const sent = ok.length > 0 ? await this.#queues.send(q.name, ok.map((o) => o.input)) : [];
        return { Successful: ok.map((o, i) => ({ Id: o.id, ...this.#sent(o.input, sent[i]?.id ?? '') })), Failed: failed };
      }
      case 'ReceiveMessage':
        return this.#receive(await this.#queueOf(input), input);
      case 'DeleteMessage': {
        const q = await this.#queueOf(input);
        const receipt = input['ReceiptHandle'];
        if (typeof receipt !== 'string' || !/^\d+\./.test(receipt)) throw new SqsError('ReceiptHandleIsInvalid', `The input receipt handle "${String(receipt)}" is not a valid receipt handle.`);
        await this.#queues.ack(q.name, [receipt]);
        return {};
      }
      case 'DeleteMessageBatch': {
        const q = await this.#queueOf(input);
        const entries = (Array.isArray(input['Entries']) ? input['Entries'] : []) as Array<Record<string, unknown>>;
        if (entries.length === 0) throw new SqsError('EmptyBatchRequest', 'There should be at least one DeleteMessageBatchRequestEntry in the request.', { queryCode: 'AWS.SimpleQueueService.EmptyBatchRequest' });
        if (entries.length > 10) throw new SqsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`, { queryCode: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest' });
        const successful: unknown[] = [];
        const failed: unknown[] = [];
        const valid = entries.filter((e) => typeof e['ReceiptHandle'] === 'string' && /^\d+\./.test(String(e['ReceiptHandle'])));
        await this.#queues.ack(q.name, valid.map((e) => String(e['ReceiptHandle'])));
        for (const e of entries) {
          if (valid.includes(e)) successful.push({ Id: e['Id'] });
          else failed.push({ Id: e['Id'], SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: 'The input receipt handle is not a valid receipt handle.' });
        }
        return { Successful: successful, Failed: failed };
      }
      case 'ChangeMessageVisibility': {
        const q = await this.#queueOf(input);
        const seconds = intIn(input['VisibilityTimeout'], 'VisibilityTimeout', 0, 43_200) ?? 0;
        const ok = await this.#queues.changeVisibility(q.name, String(input['ReceiptHandle'] ?? ''), seconds);
        if (!ok) throw new SqsError('MessageNotInflight', 'The message referred to is not in flight.', { queryCode: 'AWS.SimpleQueueService.MessageNotInflight' });
        return {};
      }
      case 'GetQueueAttributes': {
        const q = await this.#queueOf(input);
        const wanted = Array.isArray(input['AttributeNames']) ? (input['AttributeNames'] as unknown[]).map(String) : [];
        const all = await this.#attributes(q);
        const pick = wanted.includes('All') ? all : Object.fromEntries(Object.entries(all).filter(([k]) => wanted.includes(k)));
        return Object.keys(pick).length > 0 ? { Attributes: pick } : {};
      }
      case 'SetQueueAttributes': {
        const q = await this.#queueOf(input);
        const { config, extra } = readAttributes(input['Attributes']);
        await this.#queues.updateQueue(q.name, config, extra);
        return {};
      }
      default:
        throw new SqsError('InvalidAction', `The action ${op} is not valid for this endpoint.`, { queryCode: 'InvalidAction' });
    }
  }

  async #attributes(q: QueueInfo): Promise<Record<string, string>> {
    const s = await this.#queues.stats(q.name);
    const c = { ...DEFAULT_QUEUE_CONFIG, ...q.config };
    return {
      QueueArn: this.#arn(q.name),
      ApproximateNumberOfMessages: String(s.visible),
      ApproximateNumberOfMessagesNotVisible: String(s.inFlight),
      ApproximateNumberOfMessagesDelayed: String(s.delayed),
      CreatedTimestamp: String(Math.floor(q.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(q.createdAt / 1000)),
      VisibilityTimeout: String(c.visibilityTimeoutSeconds),
      MaximumMessageSize: String(MAX_MESSAGE_BYTES),
      MessageRetentionPeriod: String(c.messageRetentionSeconds),
      DelaySeconds: String(c.delaySeconds),
      ReceiveMessageWaitTimeSeconds: String(c.receiveWaitTimeSeconds),
      SqsManagedSseEnabled: 'false',
      ...(c.deadLetterQueue && c.maxReceiveCount !== undefined ? { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: this.#arn(c.deadLetterQueue), maxReceiveCount: c.maxReceiveCount }) } : {}),
      ...q.extra,
    };
  }

  async #receive(q: QueueInfo, input: Record<string, unknown>): Promise<unknown> {
    const max = intIn(input['MaxNumberOfMessages'], 'MaxNumberOfMessages', 1, 10) ?? 1;
    const visibility = intIn(input['VisibilityTimeout'], 'VisibilityTimeout', 0, 43_200);
    const wait = intIn(input['WaitTimeSeconds'], 'WaitTimeSeconds', 0, 20) ?? q.config.receiveWaitTimeSeconds;
    const deadline = Date.now() + wait * 1000;
    let messages: QueueMessage[] = [];
    for (;;) {
      messages = await this.#queues.receive(q.name, { max, ...(visibility === undefined ? {} : { visibilityTimeoutSeconds: visibility }) });
      if (messages.length > 0 || Date.now() >= deadline || this.#closed) break;
      const next = await this.#queues.nextVisibleAt(q.name);
      await this.#waitFor(q.name, Math.min(deadline, next ?? deadline) - Date.now());
    }
    const names = [...(Array.isArray(input['AttributeNames']) ? input['AttributeNames'] : []), ...(Array.isArray(input['MessageSystemAttributeNames']) ? input['MessageSystemAttributeNames'] : [])].map(String);
    const attrNames = (Array.isArray(input['MessageAttributeNames']) ? input['MessageAttributeNames'] : []).map(String);
    const wantAll = names.includes('All');
    if (messages.length === 0) return {};
    return {
      Messages: messages.map((m) => {
        const system: Record<string, string> = {
          ApproximateReceiveCount: String(m.receiveCount),
          SentTimestamp: String(m.sentAt),
          SenderId: m.senderId ?? ACCOUNT_ID,
          ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? m.sentAt),
          ...(m.sourceQueue ? { DeadLetterQueueSourceArn: this.#arn(m.sourceQueue) } : {}),
        };
        const attributes = wantAll ? system : Object.fromEntries(Object.entries(system).filter(([k]) => names.includes(k)));
        const all = (m.attributes ?? {}) as Record<string, Attribute>;
        const picked = attrNames.includes('All') || attrNames.includes('.*') ? all : Object.fromEntries(Object.entries(all).filter(([k]) => attrNames.some((n) => n === k || (n.endsWith('.*') && k.startsWith(n.slice(0, -1))))));
        const body = m.contentType === 'bytes' || m.contentType === 'v8' ? Buffer.from(m.body).toString('base64') : new TextDecoder().decode(m.body);
        return {
          MessageId: m.id,
          ReceiptHandle: m.receipt,
          MD5OfBody: md5(body),
          Body: body,
          ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
          ...(Object.keys(picked).length > 0 ? { MessageAttributes: picked, MD5OfMessageAttributes: md5OfAttributes(picked) } : {}),
        };
      }),
    };
  }

  /** Long polling: resolves on a send to the queue, after `ms`, or when the API closes. */
  #waitFor(queue: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        off();
        this.#polls.delete(done);
        resolve();
      };
      const off = this.#queues.subscribe((q) => {
        if (q === queue) done();
      });
      this.#polls.add(done);
      timer = setTimeout(done, Math.max(0, ms));
    });
  }

  close(): void {
    this.#closed = true;
    for (const done of [...this.#polls]) done();
  }
}

export const sqsService: NodeService = {
  name: 'sqs',
  servesAws: true,
  start(ctx): RunningService {
    const api = new SqsApi(ctx.store.queues, ctx.region === 'local' ? 'us-east-1' : ctx.region);
    return { aws: [api], close: async () => api.close() };
  },
};
