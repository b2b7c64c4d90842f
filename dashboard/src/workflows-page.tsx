/**
 * @module
 * Workflows: the state machines, and one state machine with its definition drawn as a graph
 * and its executions (newest first), each linking to the execution view.
 */
import { api } from './api.ts';
import { dateTime } from './format.ts';
import { href } from './router.ts';
import { StateGraph } from './state-graph.tsx';
import { Empty, Show } from './status.tsx';
import type { Execution, StateMachine } from './types.ts';
import { useLoad } from './use-load.ts';

export function WorkflowsPage() {
  const machines = useLoad((signal) => api<{ stateMachines: StateMachine[] }>('/workflows', { signal }), []);
  return (
    <section aria-labelledby="workflows-title">
      <h1 id="workflows-title">Workflows</h1>
      <Show loaded={machines}>
        {({ stateMachines }) =>
          stateMachines.length === 0 ? (
            <Empty>No state machines yet.</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">State machine</th>
                  <th scope="col">Type</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {stateMachines.map((m) => (
                  <tr key={m.name}>
                    <th scope="row">
                      <a href={href({ page: 'state-machine', name: m.name })}>{m.name}</a>
                    </th>
                    <td>{m.type ?? ''}</td>
                    <td>{m.createdAt === undefined ? '' : dateTime(m.createdAt)}</td>
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

export function StatusText({ status }: { status: string }) {
  return <span class={`badge status-${status.toLowerCase()}`}>{status}</span>;
}

export function StateMachinePage({ name }: { name: string }) {
  const path = `/workflows/${encodeURIComponent(name)}`;
  const machine = useLoad((signal) => api<{ stateMachine: StateMachine & { definition: unknown } }>(path, { signal }), [name]);
  const executions = useLoad((signal) => api<{ executions: Execution[] }>(`${path}/executions`, { signal }), [name]);
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href({ page: 'workflows' })}>Workflows</a> / <span aria-current="page">{name}</span>
      </nav>
      <h1>{name}</h1>
      <section aria-labelledby="executions-title">
        <h2 id="executions-title">Executions</h2>
        <Show loaded={executions}>
          {({ executions: list }) =>
            list.length === 0 ? (
              <Empty>No executions yet.</Empty>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Execution</th>
                    <th scope="col">Status</th>
                    <th scope="col">Started</th>
                    <th scope="col">Stopped</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((e) => (
                    <tr key={e.arn}>
                      <th scope="row">
                        <a href={href({ page: 'execution', arn: e.arn })}>{e.name}</a>
                      </th>
                      <td>
                        <StatusText status={e.status} />
                      </td>
                      <td>{dateTime(e.startDate)}</td>
                      <td>{e.stopDate === undefined ? '—' : dateTime(e.stopDate)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </Show>
      </section>
      <section aria-labelledby="definition-title">
        <h2 id="definition-title">Definition</h2>
        <Show loaded={machine}>{({ stateMachine }) => <StateGraph definition={stateMachine.definition} />}</Show>
      </section>
    </>
  );
}
