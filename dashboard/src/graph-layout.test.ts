/// <reference types="node" />
// The state graph's layout and the path an execution took, from a definition and a history.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layoutDefinition, pathTaken } from './graph-layout.ts';
import type { HistoryEvent } from './types.ts';

const definition = {
  StartAt: 'Fetch',
  States: {
    Fetch: { Type: 'Task', Next: 'Check', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Broken' }] },
    Check: { Type: 'Choice', Choices: [{ Variable: '$.more', BooleanEquals: true, Next: 'Fetch' }], Default: 'Done' },
    Done: { Type: 'Succeed' },
    Broken: { Type: 'Fail' },
    Orphan: { Type: 'Pass', End: true },
  },
};

let id = 0;
const entered = (name: string, input = '{}'): HistoryEvent => ({ id: ++id, type: 'TaskStateEntered', stateEnteredEventDetails: { name, input } });
const exited = (name: string, output: string): HistoryEvent => ({ id: ++id, type: 'TaskStateExited', stateExitedEventDetails: { name, output } });

test('states are ranked by distance from StartAt; loops are back edges; unreachable states go last', () => {
  const layout = layoutDefinition(JSON.stringify(definition));
  const rank = Object.fromEntries(layout.boxes.map((b) => [b.name, b.rank]));
  assert.deepEqual(rank, { Fetch: 0, Check: 1, Broken: 1, Done: 2, Orphan: 3 });
  assert.deepEqual(
    layout.edges.map((e) => `${e.from}→${e.to}${e.back ? ' (back)' : ''}`),
    ['Fetch→Check', 'Fetch→Broken', 'Check→Fetch (back)', 'Check→Done'],
  );
  assert.ok(layout.boxes.every((b) => b.x >= 0 && b.x + 168 <= layout.width && b.y + 40 <= layout.height));
  assert.deepEqual(layoutDefinition('not json').boxes, []);
});

test('the path taken: visits in order with their input and output, transitions, the failed state', () => {
  const layout = layoutDefinition(definition);
  const events: HistoryEvent[] = [
    { id: ++id, type: 'ExecutionStarted' },
    entered('Fetch', '{"page":1}'),
    exited('Fetch', '{"more":true}'),
    entered('Check'),
    exited('Check', '{}'),
    entered('Fetch', '{"page":2}'),
    { id: ++id, type: 'ParallelStateEntered', stateEnteredEventDetails: { name: 'inner branch state' } },
    entered('Broken'),
    { id: ++id, type: 'ExecutionFailed' },
  ];
  const path = pathTaken(layout, events);
  assert.deepEqual(path.visits.map((v) => v.name), ['Fetch', 'Check', 'Fetch', 'Broken'], 'states not at the top level are left out');
  assert.equal(path.visits[0]?.output, '{"more":true}');
  assert.equal(path.visits[2]?.input, '{"page":2}');
  assert.equal(path.visits[2]?.output, undefined, 'the second Fetch never finished');
  assert.deepEqual([...path.transitions], ['Fetch→Check', 'Check→Fetch', 'Fetch→Broken']);
  assert.equal(path.failed, 'Broken');
  assert.equal(pathTaken(layout, events.slice(0, 4)).failed, undefined, 'a running execution has no failed state');
});
