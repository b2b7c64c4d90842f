/**
 * @module
 * One workflow execution: its status, its state graph with the path it took, and the input and
 * output of the state picked on the graph (the first one until another is picked).
 */
import { useMemo, useState } from 'preact/hooks';
import { api } from './api.ts';
import { dateTime, prettyJson } from './format.ts';
import { layoutDefinition, pathTaken } from './graph-layout.ts';
import { href } from './router.ts';
import { StateGraph } from './state-graph.tsx';
import { Show } from './status.tsx';
import type { Execution, HistoryEvent, StateMachine } from './types.ts';
import { useLoad } from './use-load.ts';
import { StatusText } from './workflows-page.tsx';

interface Loaded {
  execution: Execution;
  definition: unknown;
  events: HistoryEvent[];
}

async function loadExecution(arn: string, signal: AbortSignal): Promise<Loaded> {
  const path = `/workflows/${encodeURIComponent(arn)}`;
  const [{ execution }, { events }] = await Promise.all([api<{ execution: Loaded['execution'] }>(path, { signal }), api<{ events: HistoryEvent[] }>(`${path}/history`, { signal })]);
  const { stateMachine } = await api<{ stateMachine: StateMachine & { definition: unknown } }>(`/workflows/${encodeURIComponent(execution.stateMachine)}`, { signal });
  return { execution, definition: stateMachine.definition, events };
}

function ExecutionView({ data }: { data: Loaded }) {
  const layout = useMemo(() => layoutDefinition(data.definition), [data.definition]);
  const path = useMemo(() => pathTaken(layout, data.events), [layout, data.events]);
  const [selected, setSelected] = useState<string | undefined>(path.visits[0]?.name);
  const visit = [...path.visits].reverse().find((v) => v.name === selected);
  const machine = data.execution.stateMachine;
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href({ page: 'workflows' })}>Workflows</a> / <a href={href({ page: 'state-machine', name: machine })}>{machine}</a> / <span aria-current="page">{data.execution.name}</span>
      </nav>
      <h1>{data.execution.name}</h1>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <StatusText status={data.execution.status} />
        </dd>
        <dt>Started</dt>
        <dd>{dateTime(data.execution.startDate)}</dd>
        {data.execution.error !== undefined && (
          <>
            <dt>Error</dt>
            <dd>
              <code>{data.execution.error}</code> {data.execution.cause ?? ''}
            </dd>
          </>
        )}
      </dl>
      <section aria-labelledby="graph-title">
        <h2 id="graph-title">Path taken</h2>
        <p class="muted">
          {path.visits.map((v) => v.name).join(' → ') || 'No state entered yet.'}
          {path.failed !== undefined && ` (failed in ${path.failed})`}
        </p>
        <StateGraph definition={data.definition} path={path} {...(selected === undefined ? {} : { selected })} onSelect={setSelected} />
      </section>
      <section aria-labelledby="io-title" aria-live="polite">
        <h2 id="io-title">{selected === undefined ? 'State input and output' : `State ${selected}`}</h2>
        {visit ? (
          <div class="io">
            <div>
              <h3>Input</h3>
              <pre data-io="input">{prettyJson(visit.input)}</pre>
            </div>
            <div>
              <h3>Output</h3>
              <pre data-io="output">{visit.output === undefined ? '(no output: the state did not finish)' : prettyJson(visit.output)}</pre>
            </div>
          </div>
        ) : (
          <p class="empty">Pick a visited state on the graph.</p>
        )}
      </section>
    </>
  );
}

export function ExecutionPage({ arn }: { arn: string }) {
  const data = useLoad((signal) => loadExecution(arn, signal), [arn]);
  return <Show loaded={data}>{(d) => <ExecutionView data={d} />}</Show>;
}
