/**
 * @module
 * The functions list: each function with its active version, its routes and its traffic
 * splits (aliases; "—" where the node has none or no aliases API yet). One request for the
 * list, then one per function for its routes and splits, in parallel.
 */
import { api, optionalApi } from './api.ts';
import { href } from './router.ts';
import { Empty, Show } from './status.tsx';
import type { Alias, FunctionDetail, FunctionRecord } from './types.ts';
import { useLoad } from './use-load.ts';

interface Row {
  record: FunctionRecord;
  detail?: FunctionDetail;
  aliases?: Alias[];
}

async function loadRows(signal: AbortSignal): Promise<Row[]> {
  const { functions } = await api<{ functions: FunctionRecord[] }>('/functions', { signal });
  return Promise.all(
    functions.map(async (record) => {
      const path = `/functions/${encodeURIComponent(record.name)}`;
      const [detail, aliases] = await Promise.all([api<FunctionDetail>(path, { signal }).catch(() => undefined), optionalApi<{ aliases: Alias[] }>(`${path}/aliases`, { signal }).catch(() => undefined)]);
      return { record, ...(detail ? { detail } : {}), ...(aliases ? { aliases: aliases.aliases } : {}) };
    }),
  );
}

export function Splits({ aliases }: { aliases: Alias[] | undefined }) {
  if (!aliases || aliases.length === 0) return <>—</>;
  return (
    <ul class="plain">
      {aliases.map((a) => (
        <li key={a.name}>
          <strong>{a.name}</strong>: {a.versions.map((v) => `v${v.version} ${Math.round(v.weight * (v.weight <= 1 ? 100 : 1))}%`).join(' · ')}
        </li>
      ))}
    </ul>
  );
}

export function FunctionsPage() {
  const rows = useLoad(loadRows, []);
  return (
    <section aria-labelledby="functions-title">
      <h1 id="functions-title">Functions</h1>
      <Show loaded={rows}>
        {(list) =>
          list.length === 0 ? (
            <Empty>No functions deployed yet. Deploy one with `outpost deploy`.</Empty>
          ) : (
            <table>
              <caption class="visually-hidden">Deployed functions</caption>
              <thead>
                <tr>
                  <th scope="col">Function</th>
                  <th scope="col">Active version</th>
                  <th scope="col">Routes</th>
                  <th scope="col">Traffic splits</th>
                  <th scope="col">Instances</th>
                </tr>
              </thead>
              <tbody>
                {list.map(({ record, detail, aliases }) => (
                  <tr key={record.name}>
                    <th scope="row">
                      <a href={href({ page: 'function', name: record.name })}>{record.name}</a>
                    </th>
                    <td>
                      v{record.active}
                      {record.latest !== record.active && <span class="muted"> (latest v{record.latest})</span>}
                    </td>
                    <td>
                      <ul class="plain">
                        {(detail?.active.manifest.routes ?? []).map((r) => (
                          <li key={`${r.method ?? '*'} ${r.host ?? ''}${r.path}`}>
                            <code>
                              {r.method ?? '*'} {r.host ?? ''}
                              {r.path}
                            </code>
                          </li>
                        ))}
                        {/* Every function is also mounted under its name, and each other alias under name@alias. */}
                        {[record.name, ...(aliases ?? []).filter((a) => a.name !== 'live').map((a) => `${record.name}@${a.name}`)].map((mount) => (
                          <li key={mount}>
                            <code>/{mount}/*</code>
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td>
                      <Splits aliases={aliases} />
                    </td>
                    <td>{detail ? `${detail.runtime.instances} (${detail.runtime.inFlight} in flight)` : '—'}</td>
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
