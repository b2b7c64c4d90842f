/**
 * @module
 * Commands for versions, aliases and rollouts, spelled like wrangler's where it has them:
 * `outpost versions upload|deploy`, `outpost aliases ls|set|delete`, `outpost rollout`.
 * They only call the control API; validation happens on the node (traffic/aliases.ts,
 * traffic/rollout.ts) so the CLI, the dashboard and the Lambda API refuse the same things.
 */
import type { FunctionRecord, SplitEntry, VersionRecord } from '../control/records.ts';
import type { AliasView } from '../traffic/aliases.ts';
import type { RolloutPlan } from '../traffic/rollout.ts';
import { api, clientFrom as client, printResult as print } from './client.ts';
import type { Values } from './commands.ts';
import { deploy } from './control-commands.ts';
import { EXIT, UsageError } from './output.ts';

/** `3`, `3=10%` or `3=10` (the weight defaults to 100 for a lone version). */
function parseEntry(text: string, alone: boolean): SplitEntry {
  const m = /^(\d+)(?:=(\d+(?:\.\d+)?)%?)?$/.exec(text);
  if (!m) throw new UsageError(`"${text}" is not <version>=<percent>% (e.g. 3=10%)`);
  if (m[2] === undefined && !alone) throw new UsageError(`give every version a weight when splitting: ${text}=<percent>%`);
  return { version: Number(m[1]), weight: m[2] === undefined ? 100 : Number(m[2]) };
}

function describe(split: readonly SplitEntry[]): string {
  return split.map((e) => `v${e.version} ${e.weight}%`).join(', ');
}

async function setAlias(values: Values, fn: string, alias: string, split: SplitEntry[]): Promise<number> {
  const result = await api<AliasView>(client(values), 'PUT', `functions/${encodeURIComponent(fn)}/aliases/${encodeURIComponent(alias)}`, { versions: split });
  print(values, result, `✔ ${fn} ${alias} → ${describe(result.versions)}`);
  return EXIT.ok;
}

/** Each version with the aliases that point at it (`live 10%, staging`). */
async function listVersions(values: Values, fn: string | undefined): Promise<number> {
  if (!fn) throw new UsageError('name the function');
  const c = client(values);
  const path = `functions/${encodeURIComponent(fn)}`;
  const [{ versions: all }, { function: record }, { aliases }] = await Promise.all([
    api<{ versions: VersionRecord[] }>(c, 'GET', `${path}/versions`),
    api<{ function: FunctionRecord }>(c, 'GET', path),
    api<{ aliases: AliasView[] }>(c, 'GET', `${path}/aliases`),
  ]);
  const pointers = (version: number): string =>
    aliases
      .flatMap((a) => a.versions.filter((e) => e.version === version).map((e) => (a.versions.length > 1 ? `${a.name} ${e.weight}%` : a.name)))
      .join(', ');
  print(values, { active: record.active, versions: all, aliases }, all.map((v) => `${v.version === record.active ? '*' : ' '} v${v.version}  ${v.createdAt}  ${v.digest.slice(0, 12)}  ${pointers(v.version)}`.trimEnd()).join('\n'));
  return EXIT.ok;
}

/** `outpost versions <fn>`, `outpost versions upload [dir]`, `outpost versions deploy fn@3=10% fn@2=90%`. */
export async function versionsCommand(values: Values, positionals: string[]): Promise<number> {
  const [sub, ...rest] = positionals;
  if (sub === 'upload') return deploy(values, rest, { promote: false });
  if (sub !== 'deploy') return listVersions(values, sub);
  if (rest.length === 0) throw new UsageError('name the versions: outpost versions deploy fn@3=10% fn@2=90%');
  let fn: string | undefined;
  const split = rest.map((spec) => {
    const at = spec.lastIndexOf('@');
    if (at <= 0) throw new UsageError(`"${spec}" is not <function>@<version>=<percent>%`);
    const name = spec.slice(0, at);
    if (fn !== undefined && name !== fn) throw new UsageError(`one function at a time: ${fn} and ${name}`);
    fn = name;
    return parseEntry(spec.slice(at + 1), rest.length === 1);
  });
  const alias = typeof values['alias'] === 'string' ? values['alias'] : 'live';
  return setAlias(values, fn ?? '', alias, split);
}

/** `outpost aliases ls <fn>`, `set <fn> <alias> <version>[=<percent>%]…`, `delete <fn> <alias>`. */
export async function aliasesCommand(values: Values, positionals: string[]): Promise<number> {
  const [sub, fn, alias, ...entries] = positionals;
  if (!fn) throw new UsageError('usage: outpost aliases ls|set|delete <function> …');
  if (sub === 'ls' || sub === 'list') {
    const { aliases } = await api<{ aliases: AliasView[] }>(client(values), 'GET', `functions/${encodeURIComponent(fn)}/aliases`);
    print(values, { aliases }, aliases.map((a) => `${a.name.padEnd(16)} ${describe(a.versions)}`).join('\n'));
    return EXIT.ok;
  }
  if (!alias) throw new UsageError('name the alias');
  if (sub === 'set') {
    if (entries.length === 0) throw new UsageError(`give the version(s): outpost aliases set ${fn} ${alias} 3  (or 3=10% 2=90%)`);
    return setAlias(values, fn, alias, entries.map((e) => parseEntry(e, entries.length === 1)));
  }
  if (sub === 'delete') {
    await api(client(values), 'DELETE', `functions/${encodeURIComponent(fn)}/aliases/${encodeURIComponent(alias)}`);
    print(values, { deleted: alias }, `✔ deleted alias ${alias} of ${fn}`);
    return EXIT.ok;
  }
  throw new UsageError(`unknown aliases command ${sub ?? ''}: ls, set or delete`);
}

function printPlan(values: Values, plan: RolloutPlan | null, fn: string): void {
  if (!plan) {
    print(values, { rollout: null }, `${fn} has never been rolled out`);
    return;
  }
  const share = plan.step < 0 ? 0 : (plan.steps[plan.step] ?? 100);
  const head = `${fn}: v${plan.from} → v${plan.to}  ${plan.state}  (v${plan.to} at ${share}%, steps ${plan.steps.join(',')} every ${plan.everyMs} ms)`;
  print(values, { rollout: plan }, [head, ...plan.log.map((l) => `  ${l.time}  ${l.message}`)].join('\n'));
}

function optionalNumber(values: Values, name: string): number | undefined {
  const v = values[name];
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number`);
  return n;
}

/** `outpost rollout <fn> --to 3 …`, `outpost rollout status <fn>`, `outpost rollout cancel <fn>`. */
export async function rolloutCommand(values: Values, positionals: string[]): Promise<number> {
  const [first, second] = positionals;
  if ((first === 'status' || first === 'cancel') && second) {
    const url = ([] as unknown[]).concat(values['to'] ?? []).map(String)[0];
    values = { ...values, to: url };
    const path = `functions/${encodeURIComponent(second)}/rollout`;
    const { rollout } = await api<{ rollout: RolloutPlan | null }>(client(values), first === 'status' ? 'GET' : 'DELETE', path);
    printPlan(values, rollout, second);
    return EXIT.ok;
  }
  if (!first) throw new UsageError('name the function: outpost rollout <function> --to <version>');
  // --to names both the version (a number) and, as everywhere, the node (a URL).
  const tos = ([] as unknown[]).concat(values['to'] ?? []).map(String);
  const to = tos.filter((v) => /^\d+$/.test(v)).map(Number)[0];
  if (to === undefined) throw new UsageError('--to <version> is required');
  const nodeUrl = tos.find((v) => !/^\d+$/.test(v));
  values = { ...values, to: nodeUrl };
  const body: Record<string, unknown> = { to };
  if (typeof values['steps'] === 'string') body['steps'] = values['steps'].split(',').map((s) => Number(s.trim().replace(/%$/, '')));
  if (typeof values['every'] === 'string') body['every'] = values['every'];
  const maxError = optionalNumber(values, 'max-error-rate-increase');
  if (maxError !== undefined) body['maxErrorRateIncrease'] = maxError;
  const maxP99 = optionalNumber(values, 'max-p99-increase-ms');
  if (maxP99 !== undefined) body['maxP99IncreaseMs'] = maxP99;
  const minRequests = optionalNumber(values, 'min-requests');
  if (minRequests !== undefined) body['minRequests'] = minRequests;
  const { rollout } = await api<{ rollout: RolloutPlan }>(client(values), 'POST', `functions/${encodeURIComponent(first)}/rollout`, body);
  printPlan(values, rollout, first);
  return EXIT.ok;
}
