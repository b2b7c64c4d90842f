/**
 * @module
 * A state machine drawn in SVG: states as boxes, transitions as arrows. Given the path an
 * execution took, visited states and taken transitions are highlighted, the failed state is
 * red, and each visited state is a button that selects it (for its input and output). Every
 * visual mark is also in text: the box says "visited" or "failed" to screen readers.
 */
import { BOX, transitionKey } from './graph-layout.ts';
import type { Box, Layout, PathTaken } from './graph-layout.ts';
import { layoutDefinition } from './graph-layout.ts';
import { useMemo } from 'preact/hooks';

function edgePath(from: Box, to: Box, back: boolean): string {
  if (back) {
    // Around the right-hand side, so a loop does not cross the boxes between.
    const x1 = from.x + BOX.width;
    const y1 = from.y + BOX.height / 2;
    const x2 = to.x + BOX.width;
    const y2 = to.y + BOX.height / 2;
    const out = Math.max(x1, x2) + 28;
    return `M ${x1} ${y1} C ${out} ${y1}, ${out} ${y2}, ${x2 + 2} ${y2}`;
  }
  const x1 = from.x + BOX.width / 2;
  const y1 = from.y + BOX.height;
  const x2 = to.x + BOX.width / 2;
  const y2 = to.y - 2;
  const mid = (y1 + y2) / 2;
  return `M ${x1} ${y1} C ${x1} ${mid}, ${x2} ${mid}, ${x2} ${y2}`;
}

export function StateGraph({ definition, path, selected, onSelect }: { definition: unknown; path?: PathTaken; selected?: string; onSelect?: (name: string) => void }) {
  const layout: Layout = useMemo(() => layoutDefinition(definition), [definition]);
  const byName = new Map(layout.boxes.map((b) => [b.name, b]));
  const visited = new Set(path?.visits.map((v) => v.name) ?? []);
  if (layout.boxes.length === 0) return <p class="empty">This definition has no states to draw.</p>;
  return (
    <div class="graph-scroll">
      <svg class="state-graph" width={layout.width + 40} height={layout.height} viewBox={`0 0 ${layout.width + 40} ${layout.height}`} role="group" aria-label="State graph">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
          </marker>
          <marker id="arrow-taken" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head taken" />
          </marker>
        </defs>
        {layout.edges.map((e) => {
          const from = byName.get(e.from);
          const to = byName.get(e.to);
          if (!from || !to) return null;
          const taken = path?.transitions.has(transitionKey(e.from, e.to)) ?? false;
          return <path key={`${e.from}-${e.to}`} d={edgePath(from, to, e.back)} class={taken ? 'edge taken' : 'edge'} data-edge={transitionKey(e.from, e.to)} marker-end={taken ? 'url(#arrow-taken)' : 'url(#arrow)'} />;
        })}
        {layout.boxes.map((b) => {
          const failed = path?.failed === b.name;
          const state = failed ? 'failed' : visited.has(b.name) ? 'visited' : 'not visited';
          const cls = ['state', failed ? 'failed' : visited.has(b.name) ? 'visited' : '', selected === b.name ? 'selected' : ''].filter(Boolean).join(' ');
          const clickable = onSelect !== undefined && visited.has(b.name);
          return (
            <g
              key={b.name}
              class={cls}
              data-state={b.name}
              data-visit={path ? state : undefined}
              transform={`translate(${b.x} ${b.y})`}
              {...(clickable
                ? {
                    role: 'button',
                    tabindex: 0,
                    'aria-pressed': selected === b.name ? 'true' : 'false',
                    'aria-label': `${b.name} (${b.type}, ${state})`,
                    onClick: () => onSelect(b.name),
                    onKeyDown: (ev: KeyboardEvent) => {
                      if (ev.key === 'Enter' || ev.key === ' ') {
                        ev.preventDefault();
                        onSelect(b.name);
                      }
                    },
                  }
                : { role: 'img', 'aria-label': `${b.name} (${b.type}${path ? `, ${state}` : ''})` })}
            >
              <rect width={BOX.width} height={BOX.height} rx="6" />
              <text x={BOX.width / 2} y={17} text-anchor="middle" class="state-name">
                {b.name.length > 22 ? `${b.name.slice(0, 21)}…` : b.name}
              </text>
              <text x={BOX.width / 2} y={32} text-anchor="middle" class="state-type">
                {b.type}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
