/**
 * @module
 * Which version of a function serves a request when an alias splits traffic between versions.
 *
 * Decisions:
 * - A split is 1–4 distinct versions with weights in percent summing to 100 (wrangler's limit
 *   of versions per deployment). The same checks serve the API, the CLI and rollouts.
 * - Affinity: the client's version key (the `Cloudflare-Workers-Version-Key` header, else the
 *   `outpost-vk` cookie the gateway sets on first visit) is hashed with the function's name
 *   (FNV-1a, 32 bits, with murmur3's finaliser) onto [0, 100). The hash needs no state, so every node picks the same
 *   version for the same key. Versions take their ranges newest first: while a rollout raises
 *   the new version's weight, clients already on it stay on it.
 * - `Cloudflare-Workers-Version-Overrides: <fn>="<version>"` pins a version for callers with a
 *   valid node bearer token, and only a version some alias serves; otherwise it is ignored,
 *   as an unauthenticated client must not be able to pick a version under test.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { AliasRecord, FunctionRecord, SplitEntry } from '../control/records.ts';
import type { PolicyDecision, PolicyRequest, RoutePolicy } from './policy.ts';

/** The alias routes serve. */
export const LIVE = 'live';
export const MAX_SPLIT_VERSIONS = 4;
export const VERSION_KEY_HEADER = 'cloudflare-workers-version-key';
export const OVERRIDES_HEADER = 'cloudflare-workers-version-overrides';
export const AFFINITY_COOKIE = 'outpost-vk';
const AFFINITY_MAX_AGE_S = 365 * 24 * 3600;
const ALIAS_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;

/** Every alias of `fn`, `live` included (absent in old records: `active` at 100 %). */
export function aliasesOf(fn: FunctionRecord): Map<string, AliasRecord> {
  const out = new Map<string, AliasRecord>(Object.entries(fn.aliases ?? {}));
  if (!out.has(LIVE)) out.set(LIVE, { versions: [{ version: fn.active, weight: 100 }] });
  return out;
}

/** Every version some alias of `fn` points at: the ones a node keeps registered. */
export function servedVersions(fn: FunctionRecord): Set<number> {
  const out = new Set<number>();
  for (const alias of aliasesOf(fn).values()) for (const entry of alias.versions) out.add(entry.version);
  return out;
}

/** The version with the largest share (the newest on a tie): what `active` reports. */
export function primaryVersion(split: readonly SplitEntry[]): number {
  let best: SplitEntry | undefined;
  for (const e of split) if (!best || e.weight > best.weight || (e.weight === best.weight && e.version > best.version)) best = e;
  if (!best) throw new Error('an empty split has no primary version');
  return best.version;
}

/** What is wrong with an alias name (empty when nothing). */
export function aliasNameProblems(name: string): string[] {
  return ALIAS_NAME.test(name) ? [] : [`alias name "${name}" must start with a letter and have 1–64 letters, digits, - or _`];
}

/** Everything wrong with `split` as an alias target, given the versions that exist. */
export function splitProblems(split: readonly SplitEntry[], exists: (version: number) => boolean): string[] {
  const problems: string[] = [];
  if (split.length === 0) problems.push('an alias needs at least one version');
  if (split.length > MAX_SPLIT_VERSIONS) problems.push(`an alias splits traffic between at most ${MAX_SPLIT_VERSIONS} versions, got ${split.length}`);
  const seen = new Set<number>();
  let total = 0;
  for (const { version, weight } of split) {
    if (!Number.isInteger(version) || version < 1) problems.push(`version ${String(version)} is not a version number`);
    else if (!exists(version)) problems.push(`version ${version} does not exist`);
    if (seen.has(version)) problems.push(`version ${version} is listed twice`);
    seen.add(version);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0 || weight > 100) problems.push(`the weight of version ${String(version)} must be a percentage above 0 and at most 100, got ${String(weight)}`);
    else total += weight;
  }
  if (split.length > 0 && problems.length === 0 && Math.abs(total - 100) > 1e-9) problems.push(`weights must sum to 100, got ${total}`);
  return problems;
}

/** A 32-bit hash of `text` mapped onto [0, 100); the same on every node and every run. */
export function hashPoint(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // FNV alone spreads keys that differ in their last characters poorly (client-1, client-2…);
  // murmur3's finaliser mixes every bit into every other.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return ((h >>> 0) / 0x1_0000_0000) * 100;
}

/** The version whose range holds `point` (0 ≤ point < 100); ranges are laid out newest version first. */
export function chooseVersion(split: readonly SplitEntry[], point: number): number {
  const ordered = [...split].sort((a, b) => b.version - a.version);
  let upTo = 0;
  for (const e of ordered) {
    upTo += e.weight;
    if (point < upTo) return e.version;
  }
  const last = ordered[ordered.length - 1];
  if (!last) throw new Error('an empty split has no version');
  return last.version;
}

/** The versions `Cloudflare-Workers-Version-Overrides` asks for, by function name. */
export function parseOverrides(header: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const member of header.split(',')) {
    const eq = member.indexOf('=');
    if (eq === -1) continue;
    const name = member.slice(0, eq).trim();
    const value = Number(member.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
    if (name !== '' && Number.isInteger(value) && value > 0) out.set(name, value);
  }
  return out;
}

/** The value of cookie `name` in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export interface VersionPolicyOptions {
  functionName: string;
  /** The alias's split the route serves. */
  split: readonly SplitEntry[];
  /** Dispatch key of every version this node serves for the function. */
  served: ReadonlyMap<number, string>;
  /** True when the bearer token is valid (overrides are honoured only then). */
  verifyToken(token: string): Promise<boolean>;
}

/** The route policy that picks a version per request: override, else affinity hash. */
export function versionPolicy(options: VersionPolicyOptions): RoutePolicy {
  const { functionName, split, served } = options;
  const pick = (version: number): PolicyDecision => {
    const key = served.get(version);
    return key === undefined ? undefined : { version: { key, version } };
  };
  const override = async (request: PolicyRequest): Promise<PolicyDecision> => {
    const header = single(request.headers, OVERRIDES_HEADER);
    const wanted = header === undefined ? undefined : parseOverrides(header).get(functionName);
    if (wanted === undefined || !served.has(wanted)) return undefined;
    const auth = single(request.headers, 'authorization') ?? '';
    if (!auth.startsWith('Bearer ') || !(await options.verifyToken(auth.slice(7)))) return undefined;
    return pick(wanted);
  };
  return {
    name: 'versions',
    async decide(request) {
      if (request.headers[OVERRIDES_HEADER] !== undefined) {
        const pinned = await override(request);
        if (pinned) return pinned;
      }
      if (split.length === 1 && split[0]) return pick(split[0].version);
      let key = single(request.headers, VERSION_KEY_HEADER) ?? cookieValue(single(request.headers, 'cookie'), AFFINITY_COOKIE);
      let setCookie: Array<[string, string]> = [];
      if (!key) {
        key = randomUUID();
        setCookie = [['set-cookie', `${AFFINITY_COOKIE}=${key}; Path=/; Max-Age=${AFFINITY_MAX_AGE_S}; HttpOnly; SameSite=Lax`]];
      }
      const decision = pick(chooseVersion(split, hashPoint(`${functionName}:${key}`)));
      return decision && setCookie.length > 0 ? { ...decision, responseHeaders: setCookie } : decision;
    },
  };
}
