/**
 * @module
 * The route table: built once per deploy from every active version's routes, then matched per
 * request without allocation-heavy work. Most specific wins, as API Gateway and Workers order
 * routes: a host-specific route beats a host-less one; segment by segment a literal beats a
 * `{param}`, which beats a greedy `{param+}` or trailing `*`; a route with a method beats ANY.
 */
import type { HttpEventShape, RouteSpec } from '../project/spec.ts';

type Segment = { kind: 'literal'; value: string } | { kind: 'param'; name: string } | { kind: 'greedy'; name: string | undefined };

interface CompiledRoute<T> {
  target: T;
  caseInsensitive: boolean;
  spec: RouteSpec;
  host: string | undefined;
  hostWildcard: boolean;
  method: string | undefined;
  segments: Segment[];
  /** Specificity key, compared lexicographically. */
  rank: number[];
}

export interface RouteMatch<T> {
  target: T;
  route: RouteSpec;
  event: HttpEventShape;
  params: Record<string, string>;
  /** The path the function sees (mount prefix removed). */
  path: string;
}

function compileSegments(path: string): Segment[] {
  const parts = path.split('/').filter((p) => p !== '');
  return parts.map((part, i): Segment => {
    if (part === '*' && i === parts.length - 1) return { kind: 'greedy', name: undefined };
    const greedy = /^\{([^}]+)\+\}$/.exec(part);
    if (greedy && i === parts.length - 1) return { kind: 'greedy', name: greedy[1] };
    const param = /^\{([^}+]+)\}$/.exec(part);
    if (param?.[1]) return { kind: 'param', name: param[1] };
    return { kind: 'literal', value: part };
  });
}

/** Lower-cases a path's literal segments, leaving `{param}` names as written. */
function lowerLiterals(path: string): string {
  return path
    .split('/')
    .map((s) => (s.startsWith('{') ? s : s.toLowerCase()))
    .join('/');
}

function rankOf(host: string | undefined, hostWildcard: boolean, method: string | undefined, segments: Segment[]): number[] {
  const rank = [host === undefined ? 0 : hostWildcard ? 1 : 2];
  for (const s of segments) rank.push(s.kind === 'literal' ? 3 : s.kind === 'param' ? 2 : 1);
  // The end of a pattern ranks between a greedy tail and a {param}: `/api` beats `/api/*` for
  // the path `/api`, and `/api/{id}` beats `/api/*` for `/api/5`.
  rank.push(1.5);
  rank.push(method === undefined ? 0 : 1);
  return rank;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (b[i] ?? -1) - (a[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export class RouteTable<T> {
  /** Routes whose first segment is a literal, by that literal; the rest in `wild`. */
  readonly #byFirst = new Map<string, CompiledRoute<T>[]>();
  readonly #wild: CompiledRoute<T>[] = [];
  readonly size: number;

  constructor(entries: ReadonlyArray<{ target: T; route: RouteSpec }>) {
    const compiled = entries.map(({ target, route }) => {
      const caseInsensitive = route.caseInsensitive === true;
      const segments = compileSegments(caseInsensitive ? lowerLiterals(route.path) : route.path);
      const hostWildcard = route.host?.startsWith('*.') ?? false;
      const host = route.host?.toLowerCase();
      return { target, caseInsensitive, spec: route, host, hostWildcard, method: route.method, segments, rank: rankOf(host, hostWildcard, route.method, segments) };
    });
    compiled.sort((a, b) => compare(a.rank, b.rank));
    for (const r of compiled) {
      const first = r.segments[0];
      if (first?.kind === 'literal') {
        const list = this.#byFirst.get(first.value) ?? [];
        list.push(r);
        this.#byFirst.set(first.value, list);
      } else this.#wild.push(r);
    }
    this.size = compiled.length;
  }

  /** The best route for this request, or undefined. `path` excludes the query string. */
  match(method: string, host: string, path: string): RouteMatch<T> | undefined {
    const parts = path.split('/').filter((p) => p !== '');
    const hostname = host.replace(/:\d+$/, '').toLowerCase();
    const first = parts[0];
    let a = (first === undefined ? undefined : this.#byFirst.get(first)) ?? [];
    // Case-insensitive routes are indexed by their lower-cased first segment.
    const lower = first?.toLowerCase();
    if (lower !== undefined && lower !== first) {
      const more = (this.#byFirst.get(lower) ?? []).filter((r) => r.caseInsensitive);
      if (more.length > 0) a = [...a, ...more].sort((x, y) => compare(x.rank, y.rank));
    }
    const b = this.#wild;
    // Merge the two ranked lists; the first route that matches is the most specific.
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      const next = j >= b.length || (i < a.length && compare((a[i] as CompiledRoute<T>).rank, (b[j] as CompiledRoute<T>).rank) <= 0) ? a[i++] : b[j++];
      if (!next) break;
      const m = this.#try(next, method, hostname, parts, path);
      if (m) return m;
    }
    return undefined;
  }

  #try(r: CompiledRoute<T>, method: string, hostname: string, parts: string[], path: string): RouteMatch<T> | undefined {
    if (r.method !== undefined && r.method !== method && !(r.method === 'GET' && method === 'HEAD')) return undefined;
    if (r.host !== undefined) {
      if (r.hostWildcard ? !(hostname.endsWith(r.host.slice(1)) || hostname === r.host.slice(2)) : hostname !== r.host) return undefined;
    }
    const params: Record<string, string> = {};
    for (let k = 0; k < r.segments.length; k++) {
      const seg = r.segments[k] as Segment;
      if (seg.kind === 'greedy') {
        const rest = parts.slice(k);
        // `{proxy+}` needs at least one segment (as API Gateway); a trailing `*` matches none too.
        if (seg.name !== undefined && rest.length === 0) return undefined;
        if (seg.name !== undefined) params[seg.name] = rest.map(decode).join('/');
        return this.#result(r, params, path);
      }
      const part = parts[k];
      if (part === undefined) return undefined;
      if (seg.kind === 'literal' ? seg.value !== (r.caseInsensitive ? part.toLowerCase() : part) : part === '') return undefined;
      if (seg.kind === 'param') params[seg.name] = decode(part);
    }
    return parts.length === r.segments.length ? this.#result(r, params, path) : undefined;
  }

  #result(r: CompiledRoute<T>, params: Record<string, string>, path: string): RouteMatch<T> {
    let seen = path;
    const strip = r.spec.stripPrefix;
    if (strip && path.startsWith(strip)) seen = path.slice(strip.length) || '/';
    if (!seen.startsWith('/')) seen = `/${seen}`;
    return { target: r.target, route: r.spec, event: r.spec.event, params, path: seen };
  }
}
