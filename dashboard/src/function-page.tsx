/**
 * @module
 * One function: what is live (active version, instances, splits), its charts, its versions,
 * its live log and, when a log line's request id is clicked, that request's trace.
 */
import { useState } from 'preact/hooks';
import { api, optionalApi } from './api.ts';
import { ChartsPanel } from './charts-panel.tsx';
import { dateTime } from './format.ts';
import { Splits } from './functions-page.tsx';
import { LogTail } from './log-tail.tsx';
import { href } from './router.ts';
import { Show } from './status.tsx';
import { TraceWaterfall } from './trace-waterfall.tsx';
import type { Alias, FunctionDetail, VersionRecord } from './types.ts';
import { useLoad } from './use-load.ts';

export function FunctionPage({ name }: { name: string }) {
  const path = `/functions/${encodeURIComponent(name)}`;
  const detail = useLoad(
    async (signal) => {
      const [d, aliases] = await Promise.all([api<FunctionDetail>(path, { signal }), optionalApi<{ aliases: Alias[] }>(`${path}/aliases`, { signal }).catch(() => undefined)]);
      return { ...d, aliases: aliases?.aliases };
    },
    [name],
  );
  const versions = useLoad((signal) => api<{ versions: VersionRecord[] }>(`${path}/versions`, { signal }), [name]);
  const [trace, setTrace] = useState<string | undefined>();
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href({ page: 'functions' })}>Functions</a> / <span aria-current="page">{name}</span>
      </nav>
      <h1>{name}</h1>
      <Show loaded={detail}>
        {(d) => (
          <dl class="facts">
            <dt>Active version</dt>
            <dd>v{d.function.active}</dd>
            <dt>Project</dt>
            <dd>{d.function.project}</dd>
            <dt>Instances</dt>
            <dd>
              {d.runtime.instances} ({d.runtime.inFlight} in flight)
            </dd>
            <dt>Traffic splits</dt>
            <dd>
              <Splits aliases={d.aliases} />
            </dd>
          </dl>
        )}
      </Show>
      <ChartsPanel name={name} />
      {trace !== undefined && <TraceWaterfall requestId={trace} onClose={() => setTrace(undefined)} />}
      <LogTail name={name} onTrace={setTrace} />
      <section aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        <Show loaded={versions}>
          {({ versions: list }) => (
            <table>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Deployed</th>
                  <th scope="col">Digest</th>
                </tr>
              </thead>
              <tbody>
                {[...list].reverse().map((v) => (
                  <tr key={v.version}>
                    <th scope="row">
                      v{v.version}
                      {detail.state === 'done' && detail.value.function.active === v.version && <span class="badge live"> active</span>}
                    </th>
                    <td>{dateTime(v.createdAt)}</td>
                    <td>
                      <code>{v.digest.slice(0, 12)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Show>
      </section>
    </>
  );
}
