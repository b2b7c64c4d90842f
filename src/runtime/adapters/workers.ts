/**
 * @module
 * Cloudflare Workers module syntax: `export default { fetch, scheduled, queue }` called as
 * `fetch(request, env, ctx)`. `request.cf` carries the request's geo metadata, as on Cloudflare.
 */
import type { Adapter, AdapterFactory, AdapterSetup, InvocationContext } from './adapter.ts';
import { HandlerShapeError, unsupportedEvent } from './adapter.ts';
import { runQueueBatch } from './workers-queue.ts';
import type { QueueBatchPayload } from './workers-queue.ts';

type Handler = (...args: unknown[]) => unknown;

interface WorkersHandlers {
  fetch?: Handler;
  scheduled?: Handler;
  queue?: Handler;
}

function executionContext(ctx: InvocationContext): Record<string, unknown> {
  return {
    waitUntil: (p: unknown) => ctx.waitUntil(p),
    passThroughOnException: () => ctx.passThroughOnException(),
    props: {},
  };
}

export interface ScheduledPayload {
  cron: string;
  scheduledTime: number;
}

function readHandlers(module: Record<string, unknown>, exportName: string): { target: object; handlers: WorkersHandlers } {
  const exported = module[exportName];
  if (exported === undefined) {
    throw new HandlerShapeError(
      `the module has no ${exportName === 'default' ? 'default export' : `export named ${exportName}`}; a Worker must \`export default { async fetch(request, env, ctx) { … } }\``,
    );
  }
  if (typeof exported !== 'object' || exported === null) {
    throw new HandlerShapeError('the default export must be an object with a fetch() method (export default { fetch })');
  }
  const h = exported as Record<string, unknown>;
  const handlers: WorkersHandlers = {};
  for (const name of ['fetch', 'scheduled', 'queue'] as const) {
    const fn = h[name];
    if (typeof fn === 'function') handlers[name] = fn as Handler;
  }
  if (!handlers.fetch && !handlers.scheduled && !handlers.queue) {
    throw new HandlerShapeError('the default export has no fetch, scheduled or queue handler');
  }
  return { target: exported, handlers };
}

export const workersAdapter: AdapterFactory = {
  create(module, setup: AdapterSetup): Adapter {
    const { target, handlers } = readHandlers(module, setup.handlerExport);
    return {
      async fetch(request, http, ctx) {
        if (!handlers.fetch) throw new HandlerShapeError('this Worker has no fetch handler');
        Object.defineProperty(request, 'cf', { value: http.meta.cf, enumerable: true });
        const response = await handlers.fetch.call(target, request, setup.env, executionContext(ctx));
        if (!(response instanceof Response)) {
          throw new TypeError(`fetch() must return a Response, got ${response === null ? 'null' : typeof response}`);
        }
        return response;
      },
      async event(kind, payload, ctx) {
        if (kind === 'scheduled' && handlers.scheduled) {
          const p = payload as ScheduledPayload;
          let retry = true;
          const controller = { cron: p.cron, scheduledTime: p.scheduledTime, type: 'scheduled', noRetry: () => void (retry = false) };
          await handlers.scheduled.call(target, controller, setup.env, executionContext(ctx));
          return { retry };
        }
        if (kind === 'queue' && handlers.queue) {
          const queue = handlers.queue;
          return runQueueBatch(payload as QueueBatchPayload, (batch) => Promise.resolve(queue.call(target, batch, setup.env, executionContext(ctx))), (message) => console.warn(message));
        }
        throw unsupportedEvent('Workers module without a matching handler', kind);
      },
    };
  },
};
