/**
 * @module
 * A function's live log: the recent records from the logs API, then new ones as the stream
 * API sends them (fetch + a stream reader, so the bearer header goes with it). Filters (level,
 * status, search) restart both. A record's request id opens its trace. The list is an ARIA
 * log region, capped at the newest {@link KEEP} records.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, authHeaders, API, optionalApi, query } from './api.ts';
import { duration, time } from './format.ts';
import { readEvents } from './sse.ts';
import { Empty } from './status.tsx';
import type { LogRecord } from './types.ts';

const KEEP = 500;
const RETRY_MS = 3000;

interface Filters {
  level: string;
  status: string;
  search: string;
}

type TailState = 'connecting' | 'live' | 'unavailable' | 'no-stream';

function keep(records: LogRecord[]): LogRecord[] {
  return records.length > KEEP ? records.slice(records.length - KEEP) : records;
}

function useTail(name: string, filters: Filters): { records: LogRecord[] | undefined; state: TailState; error: string | undefined } {
  const [records, setRecords] = useState<LogRecord[] | undefined>();
  const [state, setState] = useState<TailState>('connecting');
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    const params = query({ function: name, level: filters.level, status: filters.status, search: filters.search });
    setRecords(undefined);
    setState('connecting');
    setError(undefined);
    const stream = async (): Promise<void> => {
      while (!signal.aborted) {
        try {
          const response = await fetch(`${API}/logs/stream${params}`, { headers: { accept: 'text/event-stream', ...authHeaders() }, signal });
          if (response.status === 404) return setState('no-stream');
          if (!response.ok || !response.body) throw new ApiError(response.status, `HTTP_${response.status}`, `the log stream answered ${response.status}`);
          setState('live');
          setError(undefined);
          await readEvents(response.body, (data) => {
            try {
              const record = JSON.parse(data) as LogRecord;
              setRecords((old) => keep([...(old ?? []), record]));
            } catch {
              // A keep-alive or a malformed event: nothing to show.
            }
          }, signal);
        } catch (e) {
          if (signal.aborted) return;
          setError((e as Error).message);
        }
        if (signal.aborted) return;
        setState('connecting');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    };
    optionalApi<{ records: LogRecord[] }>(`/logs${query({ function: name, since: '15m', level: filters.level, status: filters.status, search: filters.search, limit: 100 })}`, { signal })
      .then((recent) => {
        if (signal.aborted) return;
        if (!recent) {
          setState('unavailable');
          return;
        }
        // Oldest first, like a terminal; the stream appends.
        setRecords(keep([...recent.records].sort((a, b) => new Date(a.time).getTime() - new Date(b.time).getTime())));
        void stream();
      })
      .catch((e: unknown) => {
        if (!signal.aborted) setError((e as Error).message);
      });
    return () => controller.abort();
  }, [name, filters.level, filters.status, filters.search]);
  return { records, state, error };
}

export function LogTail({ name, onTrace }: { name: string; onTrace: (requestId: string) => void }) {
  const [filters, setFilters] = useState<Filters>({ level: '', status: '', search: '' });
  const [search, setSearch] = useState('');
  const { records, state, error } = useTail(name, filters);
  return (
    <section aria-labelledby="logs-title">
      <div class="section-head">
        <h2 id="logs-title">Logs</h2>
        <span class={`badge ${state}`} role="status">
          {state === 'live' ? 'live' : state === 'connecting' ? 'connecting…' : state === 'no-stream' ? 'not live' : 'no data yet'}
        </span>
      </div>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ ...filters, search });
        }}
      >
        <label>
          Level
          <select value={filters.level} onChange={(e) => setFilters({ ...filters, level: e.currentTarget.value })}>
            <option value="">any</option>
            <option value="debug">debug</option>
            <option value="info">info</option>
            <option value="warn">warn</option>
            <option value="error">error</option>
          </select>
        </label>
        <label>
          Status
          <select value={filters.status} onChange={(e) => setFilters({ ...filters, status: e.currentTarget.value })}>
            <option value="">any</option>
            <option value="2xx">2xx</option>
            <option value="4xx">4xx</option>
            <option value="5xx">5xx</option>
          </select>
        </label>
        <label>
          Search
          <input type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        </label>
        <button type="submit">Filter</button>
      </form>
      {error && (
        <p class="failure" role="alert">
          {error}
        </p>
      )}
      {state === 'unavailable' ? (
        <Empty>No data yet: this node does not serve logs yet.</Empty>
      ) : records === undefined ? null : records.length === 0 ? (
        <Empty>No log records yet. Requests to this function appear here as they happen.</Empty>
      ) : (
        <div role="log" aria-label="Log records" aria-live="polite">
          <ol class="log">
            {records.map((r, i) => (
              <li key={`${r.requestId}-${i}`} class={`level-${r.level ?? 'info'}`}>
                <time dateTime={new Date(r.time).toISOString()}>{time(r.time)}</time>
                <span class="level">{r.level ?? (r.type === 'invocation' ? 'req' : 'log')}</span>
                <span class={r.status === undefined ? 'status' : `status s${String(r.status).charAt(0)}`}>{r.status ?? ''}</span>
                <span class="message">{r.type === 'invocation' ? `${r.outcome ?? ''} ${duration(r.durationMs)}` : (r.message ?? '')}</span>
                <button type="button" class="link request-id" onClick={() => onTrace(r.requestId)} title="Show this request's trace">
                  {r.requestId}
                </button>
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}
