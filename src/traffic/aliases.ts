/**
 * @module
 * Aliases of a function: `live` (what routes serve) and any other name (`staging`), each a
 * version or a weighted split of up to four (traffic/versions.ts). The CLI, the Lambda API and
 * rollouts all move aliases through {@link Aliases}, and the dashboard reads them through
 * {@link aliasesApi}.
 *
 * Decisions:
 * - Aliases are stored in the function record, so changing one is one compare-and-set of the
 *   record a deploy or rollback also writes: a concurrent deploy and alias change cannot both
 *   win, and the node's watch on `functions/` picks the change up like a deploy.
 * - Invalid input (unknown version, weights not summing to 100, more than four versions) is
 *   refused with every problem listed and nothing written.
 * - Setting `live` also moves `active` to the split's heaviest version, so everything that
 *   reads `active` (ls, the function API) keeps telling the truth.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OutpostError, isOutpostError } from '../errors.ts';
import { readJsonObject, sendJson } from '../control/http.ts';
import { keys } from '../control/records.ts';
import type { AliasRecord, FunctionRecord, SplitEntry, VersionRecord } from '../control/records.ts';
import type { MetaStore } from '../store/types.ts';
import { LIVE, aliasNameProblems, aliasesOf, primaryVersion, splitProblems } from './versions.ts';

/** An alias as the API shows it. */
export interface AliasView {
  name: string;
  versions: SplitEntry[];
  description?: string;
}

/** How many times a write is retried when another writer moved the record in between. */
const CAS_ATTEMPTS = 5;

function functionNotFound(name: string): OutpostError {
  return new OutpostError('FUNCTION_NOT_FOUND', `no function named ${name}`, { status: 404, fault: 'user', hint: 'outpost ls lists deployed functions' });
}

export function invalidAlias(fn: string, alias: string, problems: readonly string[]): OutpostError {
  return new OutpostError('INVALID_ALIAS', `alias ${alias} of ${fn} was not changed:\n${problems.map((p) => `  ${p}`).join('\n')}`, {
    status: 400,
    fault: 'user',
    hint: `give 1–4 existing versions whose weights sum to 100 (outpost versions ${fn} lists them)`,
    details: { problems },
  });
}

export function aliasNotFound(fn: string, alias: string): OutpostError {
  return new OutpostError('ALIAS_NOT_FOUND', `${fn} has no alias named ${alias}`, { status: 404, fault: 'user', hint: `outpost aliases ls ${fn} lists them` });
}

function view(name: string, alias: AliasRecord): AliasView {
  return { name, versions: alias.versions.map((e) => ({ version: e.version, weight: e.weight })), ...(alias.description === undefined ? {} : { description: alias.description }) };
}

export class Aliases {
  readonly #meta: MetaStore;
  readonly #now: () => Date;

  constructor(meta: MetaStore, now: () => Date = () => new Date()) {
    this.#meta = meta;
    this.#now = now;
  }

  /** Every alias of `fn`, `live` first. Throws FUNCTION_NOT_FOUND. */
  async list(fn: string): Promise<AliasView[]> {
    const record = await this.#meta.get<FunctionRecord>(keys.function(fn));
    if (!record) throw functionNotFound(fn);
    return [...aliasesOf(record.value)].map(([name, alias]) => view(name, alias)).sort((a, b) => (a.name === LIVE ? -1 : b.name === LIVE ? 1 : a.name.localeCompare(b.name)));
  }

  async get(fn: string, alias: string): Promise<AliasView> {
    const found = (await this.list(fn)).find((a) => a.name === alias);
    if (!found) throw aliasNotFound(fn, alias);
    return found;
  }

  /**
   * Points `alias` at `versions` in one write. `expect`, when given, must hold for the current
   * record or nothing is written (rollouts use it to stop when someone else moved `live`).
   * Throws INVALID_ALIAS, FUNCTION_NOT_FOUND or ALIAS_CHANGED.
   */
  async set(fn: string, alias: string, versions: SplitEntry[], options: { description?: string; expect?: (current: AliasRecord | undefined) => boolean } = {}): Promise<AliasView> {
    const nameProblems = aliasNameProblems(alias);
    if (nameProblems.length > 0) throw invalidAlias(fn, alias, nameProblems);
    const existing = new Set((await this.#meta.list<VersionRecord>(keys.versionPrefix(fn))).map((v) => v.value.version));
    const problems = splitProblems(versions, (v) => existing.has(v));
    if (problems.length > 0) throw invalidAlias(fn, alias, problems);
    const record: AliasRecord = { versions: versions.map((e) => ({ version: e.version, weight: e.weight })), ...(options.description === undefined ? {} : { description: options.description }) };
    await this.#update(fn, (current) => {
      if (options.expect && !options.expect(aliasesOf(current).get(alias))) {
        throw new OutpostError('ALIAS_CHANGED', `alias ${alias} of ${fn} changed while it was being moved`, { status: 409, fault: 'user', hint: 'read the alias again and retry' });
      }
      const next: FunctionRecord = { ...current, aliases: { ...current.aliases, [alias]: record }, updatedAt: this.#now().toISOString() };
      if (alias === LIVE) next.active = primaryVersion(record.versions);
      else if (!current.aliases?.[LIVE]) next.aliases = { ...next.aliases, [LIVE]: { versions: [{ version: current.active, weight: 100 }] } };
      return next;
    });
    return view(alias, record);
  }

  /** Removes an alias other than `live`. Throws ALIAS_NOT_FOUND, INVALID_ALIAS. */
  async delete(fn: string, alias: string): Promise<void> {
    if (alias === LIVE) throw invalidAlias(fn, alias, ['live is what routes serve and cannot be deleted; point it elsewhere instead']);
    await this.#update(fn, (current) => {
      if (!current.aliases?.[alias]) throw aliasNotFound(fn, alias);
      const rest = { ...current.aliases };
      delete rest[alias];
      return { ...current, aliases: rest, updatedAt: this.#now().toISOString() };
    });
  }

  async #update(fn: string, change: (current: FunctionRecord) => FunctionRecord): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.#meta.get<FunctionRecord>(keys.function(fn));
      if (!current) throw functionNotFound(fn);
      try {
        await this.#meta.put(keys.function(fn), change(current.value), { expectRevision: current.revision });
        return;
      } catch (error) {
        if (!isOutpostError(error, 'STORE_CONFLICT') || attempt >= CAS_ATTEMPTS) throw error;
      }
    }
  }
}

/** Reads `{ versions: [{ version, weight }], description? }` as the API and CLI send it. */
export function parseSplitBody(body: Record<string, unknown>, fn: string, alias: string): { versions: SplitEntry[]; description?: string } {
  const raw = body['versions'];
  if (!Array.isArray(raw)) throw invalidAlias(fn, alias, ['the body needs "versions": [{ "version": 3, "weight": 100 }]']);
  const versions = raw.map((e: unknown) => {
    const entry = (typeof e === 'object' && e !== null ? e : {}) as { version?: unknown; weight?: unknown };
    return { version: Number(entry.version), weight: entry.weight === undefined && raw.length === 1 ? 100 : Number(entry.weight) };
  });
  const description = body['description'];
  return { versions, ...(typeof description === 'string' ? { description } : {}) };
}

/**
 * `GET /_outpost/api/functions/<fn>/aliases` → `{ aliases: [{ name, versions: [{ version, weight }] }] }`,
 * `GET|PUT|DELETE …/aliases/<alias>` (PUT takes `{ versions: [...] }`). Behind the control API's auth.
 */
export function aliasesApi(aliases: Aliases): (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<boolean> {
  return async (req, res, requestId) => {
    const m = /^\/_outpost\/api\/functions\/([^/]+)\/aliases(?:\/([^/]+))?\/?$/.exec(new URL(req.url ?? '/', 'http://node').pathname);
    if (!m) return false;
    const fn = decodeURIComponent(m[1] ?? '');
    const alias = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    const method = req.method ?? 'GET';
    if (alias === undefined && method === 'GET') {
      sendJson(res, 200, { aliases: await aliases.list(fn) }, requestId);
      return true;
    }
    if (alias !== undefined && method === 'GET') {
      sendJson(res, 200, await aliases.get(fn, alias), requestId);
      return true;
    }
    if (alias !== undefined && method === 'PUT') {
      const { versions, description } = parseSplitBody(await readJsonObject(req), fn, alias);
      sendJson(res, 200, await aliases.set(fn, alias, versions, description === undefined ? {} : { description }), requestId);
      return true;
    }
    if (alias !== undefined && method === 'DELETE') {
      await aliases.delete(fn, alias);
      sendJson(res, 200, { deleted: alias }, requestId);
      return true;
    }
    return false;
  };
}
