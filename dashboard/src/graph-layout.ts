/**
 * @module
 * Lays an Amazon States Language definition out as boxes and edges for the execution view,
 * and reads an execution's history into the path it took. Pure functions, so the drawing
 * component only draws.
 *
 * Decisions: states are ranked by breadth-first distance from `StartAt` (one row per rank,
 * top to bottom); states no path reaches go in a last row. Edges come from `Next`, `Default`,
 * `Choices[].Next` and `Catch[].Next`. Only top-level states are drawn; the branches of
 * Parallel and Map states stay inside their box (their names are not top-level, so their
 * history events are ignored here).
 */
import type { HistoryEvent } from './types.ts';

export const BOX = { width: 168, height: 40, columnGap: 32, rowGap: 48, margin: 16 };

export interface Box {
  name: string;
  type: string;
  x: number;
  y: number;
  rank: number;
}

interface Edge {
  from: string;
  to: string;
  /** A transition to the same or an earlier row (a loop), drawn around the side. */
  back: boolean;
}

export interface Layout {
  boxes: Box[];
  edges: Edge[];
  width: number;
  height: number;
}

interface StateDefinition {
  Type?: unknown;
  Next?: unknown;
  Default?: unknown;
  Choices?: unknown;
  Catch?: unknown;
}

function targets(state: StateDefinition): string[] {
  const out: string[] = [];
  const add = (v: unknown): void => {
    if (typeof v === 'string' && !out.includes(v)) out.push(v);
  };
  add(state.Next);
  for (const list of [state.Choices, state.Catch]) if (Array.isArray(list)) for (const c of list) add((c as { Next?: unknown }).Next);
  add(state.Default);
  return out;
}

/** The definition as an object: the API may send it as ASL JSON text. */
function parsed(definition: unknown): unknown {
  if (typeof definition !== 'string') return definition;
  try {
    return JSON.parse(definition);
  } catch {
    return undefined;
  }
}

/** Boxes and edges for a definition (`{ StartAt, States }`, as an object or JSON text); unknown shapes give an empty layout. */
export function layoutDefinition(definition: unknown): Layout {
  const def = parsed(definition) as { StartAt?: unknown; States?: Record<string, StateDefinition> } | undefined;
  const states = def?.States ?? {};
  const names = Object.keys(states);
  const rank = new Map<string, number>();
  if (typeof def?.StartAt === 'string' && def.StartAt in states) {
    rank.set(def.StartAt, 0);
    const queue = [def.StartAt];
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      for (const next of targets(states[name] ?? {})) {
        if (next in states && !rank.has(next)) {
          rank.set(next, (rank.get(name) ?? 0) + 1);
          queue.push(next);
        }
      }
    }
  }
  const unreachable = rank.size === 0 ? 0 : Math.max(...rank.values()) + 1;
  for (const n of names) if (!rank.has(n)) rank.set(n, unreachable);

  const rows = new Map<number, string[]>();
  for (const n of names) {
    const r = rank.get(n) ?? 0;
    rows.set(r, [...(rows.get(r) ?? []), n]);
  }
  const widest = Math.max(1, ...[...rows.values()].map((r) => r.length));
  const width = BOX.margin * 2 + widest * BOX.width + (widest - 1) * BOX.columnGap;
  const boxes: Box[] = [];
  for (const [r, row] of rows) {
    const rowWidth = row.length * BOX.width + (row.length - 1) * BOX.columnGap;
    const left = (width - rowWidth) / 2;
    row.forEach((name, i) => {
      boxes.push({ name, type: String(states[name]?.Type ?? ''), rank: r, x: left + i * (BOX.width + BOX.columnGap), y: BOX.margin + r * (BOX.height + BOX.rowGap) });
    });
  }
  const edges: Edge[] = [];
  for (const from of names) {
    for (const to of targets(states[from] ?? {})) {
      if (to in states) edges.push({ from, to, back: (rank.get(to) ?? 0) <= (rank.get(from) ?? 0) });
    }
  }
  const rowsCount = rows.size === 0 ? 0 : Math.max(...rows.keys()) + 1;
  return { boxes, edges, width, height: BOX.margin * 2 + rowsCount * BOX.height + Math.max(0, rowsCount - 1) * BOX.rowGap };
}

interface StateVisit {
  name: string;
  input?: string;
  output?: string;
}

export interface PathTaken {
  /** Top-level states in the order they were entered (a state entered twice appears twice). */
  visits: StateVisit[];
  /** `from→to` keys of the transitions taken. */
  transitions: Set<string>;
  /** The state the execution failed in, if it failed. */
  failed?: string;
}

export const transitionKey = (from: string, to: string): string => `${from}→${to}`;

/** The path an execution took through `layout`'s states, from its history events. */
export function pathTaken(layout: Layout, events: readonly HistoryEvent[]): PathTaken {
  const topLevel = new Set(layout.boxes.map((b) => b.name));
  const visits: StateVisit[] = [];
  let failedExecution = false;
  for (const e of events) {
    if (e.type === 'ExecutionFailed' || e.type === 'ExecutionTimedOut' || e.type === 'ExecutionAborted') failedExecution = true;
    if (e.type.endsWith('StateEntered')) {
      const d = e['stateEnteredEventDetails'] as { name?: string; input?: string } | undefined;
      if (d?.name !== undefined && topLevel.has(d.name)) visits.push({ name: d.name, ...(d.input === undefined ? {} : { input: d.input }) });
    } else if (e.type.endsWith('StateExited')) {
      const d = e['stateExitedEventDetails'] as { name?: string; output?: string } | undefined;
      const open = [...visits].reverse().find((v) => v.name === d?.name && v.output === undefined);
      if (open && d?.output !== undefined) open.output = d.output;
    }
  }
  const transitions = new Set<string>();
  for (let i = 1; i < visits.length; i++) transitions.add(transitionKey((visits[i - 1] as StateVisit).name, (visits[i] as StateVisit).name));
  const last = visits.at(-1);
  const failed = failedExecution && last ? last.name : undefined;
  return { visits, transitions, ...(failed === undefined ? {} : { failed }) };
}
