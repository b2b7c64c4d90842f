/**
 * @module
 * Queues: depth (ready, in flight, delayed), the age of the oldest message, dead messages and
 * consumers, refreshed every 5 s. "Redrive" moves a queue's dead messages (and, for a
 * dead-letter queue, the messages it holds) back to be delivered again.
 *
 * A queue is a dead-letter queue when another queue's config names it (SQS style) or when its
 * oldest message says which queue it came from (`sourceQueue`; Workers consumers name their
 * DLQ in the consumer's settings, which the queues API does not show). For a DLQ, every message
 * in it counts as dead.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.ts';
import { age } from './format.ts';
import { Empty, Show } from './status.tsx';
import type { QueueInfo } from './types.ts';

interface QueueRow extends QueueInfo {
  /** The queue(s) this one is the dead-letter queue of. */
  deadLetterOf: string[];
  /** Messages a redrive would move. */
  redrivable: number;
}

async function loadQueues(signal: AbortSignal): Promise<QueueRow[]> {
  const { queues } = await api<{ queues: QueueInfo[] }>('/queues', { signal });
  return Promise.all(
    queues.map(async (q) => {
      const sources = new Set(queues.filter((o) => o.config.deadLetterQueue === q.name).map((o) => o.name));
      if (q.stats.visible + q.stats.delayed + q.stats.inFlight > 0) {
        const { messages } = await api<{ messages: Array<{ sourceQueue?: string }> }>(`/queues/${encodeURIComponent(q.name)}/messages?limit=1&dead=false`, { signal });
        for (const m of messages) if (m.sourceQueue !== undefined) sources.add(m.sourceQueue);
      }
      const deadLetterOf = [...sources];
      return { ...q, deadLetterOf, redrivable: q.stats.dead + (deadLetterOf.length > 0 ? q.stats.visible + q.stats.delayed : 0) };
    }),
  );
}
import { useLoad } from './use-load.ts';

const REFRESH_MS = 5000;

export function QueuesPage() {
  const queues = useLoad(loadQueues, []);
  const [message, setMessage] = useState<string | undefined>();
  useEffect(() => {
    const timer = setInterval(queues.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [queues.reload]);
  const redrive = async (name: string): Promise<void> => {
    try {
      const { moved } = await api<{ moved: number }>(`/queues/${encodeURIComponent(name)}/redrive`, { method: 'POST', body: {} });
      setMessage(`${moved} message${moved === 1 ? '' : 's'} of ${name} moved back to be delivered.`);
      queues.reload();
    } catch (e) {
      setMessage(`Redrive of ${name} failed: ${(e as Error).message}`);
    }
  };
  return (
    <section aria-labelledby="queues-title">
      <h1 id="queues-title">Queues</h1>
      <p role="status" class="notice">
        {message ?? ''}
      </p>
      <Show loaded={queues}>
        {(list) =>
          list.length === 0 ? (
            <Empty>No queues yet.</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Queue</th>
                  <th scope="col">Ready</th>
                  <th scope="col">In flight</th>
                  <th scope="col">Delayed</th>
                  <th scope="col">Oldest</th>
                  <th scope="col">Dead</th>
                  <th scope="col">Dead letters go to</th>
                  <th scope="col">Consumers</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((q) => (
                  <tr key={q.name}>
                    <th scope="row">
                      {q.name}
                      {q.deadLetterOf.length > 0 && <span class="muted"> (dead-letter queue of {q.deadLetterOf.join(', ')})</span>}
                    </th>
                    <td>{q.stats.visible}</td>
                    <td>{q.stats.inFlight}</td>
                    <td>{q.stats.delayed}</td>
                    <td>{q.stats.oldestSentAt === undefined ? '—' : age(Date.now() - q.stats.oldestSentAt)}</td>
                    <td>{q.redrivable}</td>
                    <td>{q.config.deadLetterQueue ?? '—'}</td>
                    <td>{q.consumers.join(', ') || '—'}</td>
                    <td>
                      <button type="button" disabled={q.redrivable === 0} onClick={() => void redrive(q.name)} aria-label={`Redrive ${q.name}`}>
                        Redrive
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
    </section>
  );
}
