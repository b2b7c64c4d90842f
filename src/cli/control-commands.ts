/**
 * @module
 * Commands that talk to a running node's control API: deploy, ls, rollback, invoke, delete
 * (versions, aliases and rollouts are in versions-commands.ts).
 */
import { resolve } from 'node:path';
import { buildFunction } from '../build/index.ts';
import type { FunctionRecord } from '../control/records.ts';
import type { DeployResult } from '../control/deployments.ts';
import { loadProject } from '../project/index.ts';
import type { Values } from './commands.ts';
import { EXIT, UsageError } from './output.ts';
import { relative } from 'node:path';
import { api, clientFrom as client, printResult as print } from './client.ts';



function needName(positionals: string[]): string {
  const name = positionals[0];
  if (!name) throw new UsageError('name the function');
  return name;
}

/** `promote: false` (outpost versions upload) stores the new versions without moving live. */
export async function deploy(values: Values, positionals: string[], options: { promote?: boolean } = {}): Promise<number> {
  const dir = resolve(positionals[0] ?? '.');
  const env = typeof values['env'] === 'string' ? values['env'] : undefined;
  const project = await loadProject(dir, { dev: false, ...(env ? { stage: env } : {}) });
  const functions = [];
  for (const fn of project.functions) {
    const bundle = await buildFunction(fn, project.root);
    functions.push({
      manifest: { ...fn, entry: relative(project.root, fn.entry) },
      bundle: Buffer.from(bundle.code).toString('base64'),
      sourceMap: Buffer.from(bundle.map).toString('base64'),
      digest: bundle.digest,
    });
  }
  const result = await api<DeployResult>(client(values), 'POST', 'deploy', { project: project.name, functions, stateMachines: project.stateMachines, ...(options.promote === false ? { promote: false } : {}) });
  print(
    values,
    result,
    [
      ...result.functions.map((f) =>
        f.unchanged ? `= ${f.name}@${f.version} unchanged` : f.live === false ? `✔ ${f.name}@${f.version} uploaded; live still serves @${f.previous ?? '?'}` : `✔ ${f.name}@${f.version} is live${f.previous === undefined ? '' : ` (was @${f.previous})`}`,
      ),
      ...(result.stateMachines ?? []).map((m) => (m.unchanged ? `= state machine ${m.name} v${m.version} unchanged` : `✔ state machine ${m.name} v${m.version} is live${m.previous === undefined ? '' : ` (was v${m.previous})`}`)),
    ].join('\n'),
  );
  return EXIT.ok;
}

export async function list(values: Values): Promise<number> {
  const { functions } = await api<{ functions: FunctionRecord[] }>(client(values), 'GET', 'functions');
  print(values, functions, functions.length === 0 ? 'no functions deployed' : functions.map((f) => `${f.name.padEnd(24)} v${f.active}  (${f.project}, updated ${f.updatedAt})`).join('\n'));
  return EXIT.ok;
}

export async function rollback(values: Values, positionals: string[]): Promise<number> {
  const name = needName(positionals);
  const version = typeof values['version'] === 'string' ? Number(values['version']) : undefined;
  if (version !== undefined && !Number.isInteger(version)) throw new UsageError('--version must be a number');
  const result = await api<{ name: string; version: number; previous: number }>(client(values), 'POST', `functions/${encodeURIComponent(name)}/rollback`, version === undefined ? {} : { version });
  print(values, result, `✔ ${result.name} now serves v${result.version} (was v${result.previous})`);
  return EXIT.ok;
}

export async function invoke(values: Values, positionals: string[]): Promise<number> {
  const name = needName(positionals);
  if (values['async'] === true) return invokeAsync(values, name);
  let body: unknown;
  if (typeof values['event'] === 'string') {
    try {
      body = { event: JSON.parse(values['event']) };
    } catch {
      throw new UsageError('--event must be JSON');
    }
  } else {
    body = {
      request: {
        ...(typeof values['path'] === 'string' ? { path: values['path'] } : {}),
        ...(typeof values['method'] === 'string' ? { method: values['method'] } : {}),
        ...(typeof values['data'] === 'string' ? { body: values['data'] } : {}),
      },
    };
  }
  const result = await api<{ status?: number; body?: string; result?: unknown }>(client(values), 'POST', `functions/${encodeURIComponent(name)}/invoke`, body);
  print(values, result, result.status !== undefined ? `${result.status}\n${result.body ?? ''}` : JSON.stringify(result.result, null, 2));
  return result.status !== undefined && result.status >= 500 ? EXIT.failed : EXIT.ok;
}

/** `outpost invoke <fn> --async`: queued durably by the node, which answers 202 with the request id. */
async function invokeAsync(values: Values, name: string): Promise<number> {
  if (values['path'] !== undefined || values['method'] !== undefined || values['data'] !== undefined) throw new UsageError('--async sends an event: use --event, not --path/--method/--data');
  let event: unknown = {};
  if (typeof values['event'] === 'string') {
    try {
      event = JSON.parse(values['event']);
    } catch {
      throw new UsageError('--event must be JSON');
    }
  }
  const key = values['idempotency-key'];
  const result = await api<{ function: string; requestId: string; duplicate: boolean }>(client(values), 'POST', `async/${encodeURIComponent(name)}`, { event, ...(typeof key === 'string' ? { idempotencyKey: key } : {}) });
  print(values, result, `✔ queued ${result.duplicate ? '(a repeat of an earlier invocation) ' : ''}${name} — request id ${result.requestId}`);
  return EXIT.ok;
}

export async function remove(values: Values, positionals: string[]): Promise<number> {
  const name = needName(positionals);
  await api(client(values), 'DELETE', `functions/${encodeURIComponent(name)}`);
  print(values, { deleted: name }, `✔ deleted ${name}`);
  return EXIT.ok;
}
