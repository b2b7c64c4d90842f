// Lambda versions and aliases through @aws-sdk/client-lambda: the SDK's alias operations move
// the same aliases `outpost aliases` does, and Invoke honours qualifiers and qualified ARNs.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CreateAliasCommand,
  DeleteAliasCommand,
  GetAliasCommand,
  InvokeCommand,
  LambdaClient,
  ListAliasesCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import { eventually, runCli, startOutpost, tempDir, writeProject } from './helpers.ts';

const handler = (label: string) => `export const handler = async () => ({ label: '${label}' });\n`;

test('versions, aliases with weighted routing, and qualified invokes through the AWS SDK', async (t) => {
  const node = await startOutpost(t, ['serve', '--state', await tempDir(t), '--port', '0', '--quiet']);
  const token = (await node.waitFor(/admin token \(shown once, keep it\): (op_\S+)/))[1] as string;
  const aws = (await node.waitFor(/aws api on (http:\/\/\S+)/))[1] ?? '';
  const remote = ['--to', node.url, '--token', token];
  const project = await writeProject(t, {
    'serverless.yml': 'service: la\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n  answer:\n    handler: src/answer.handler\n',
    'src/answer.mjs': handler('v1'),
  });
  assert.equal((await runCli(['deploy', project, ...remote])).code, 0);
  for (const label of ['v2', 'v3']) {
    await writeFile(join(project, 'src/answer.mjs'), handler(label));
    const up = await runCli(['versions', 'upload', project, ...remote]);
    assert.equal(up.code, 0, up.stderr);
  }
  const client = new LambdaClient({ endpoint: aws, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  t.after(() => client.destroy());
  const invoke = async (input: { FunctionName: string; Qualifier?: string }): Promise<{ executed: string | undefined; label: string }> => {
    const out = await client.send(new InvokeCommand({ ...input, Payload: '{}' }));
    return { executed: out.ExecutedVersion, label: (JSON.parse(new TextDecoder().decode(out.Payload)) as { label: string }).label };
  };

  const listed = await client.send(new ListVersionsByFunctionCommand({ FunctionName: 'answer' }));
  assert.deepEqual(listed.Versions?.map((v) => v.Version), ['$LATEST', '1', '2', '3']);
  assert.equal(listed.Versions?.[2]?.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:answer:2');
  assert.equal((await client.send(new PublishVersionCommand({ FunctionName: 'answer' }))).Version, '3', 'every deploy already published a version');

  const created = await client.send(new CreateAliasCommand({ FunctionName: 'answer', Name: 'staging', FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: { '3': 0.25 } } }));
  assert.equal(created.AliasArn, 'arn:aws:lambda:us-east-1:000000000000:function:answer:staging');
  assert.equal(created.FunctionVersion, '2');
  assert.deepEqual(created.RoutingConfig?.AdditionalVersionWeights, { '3': 0.25 });
  await assert.rejects(client.send(new CreateAliasCommand({ FunctionName: 'answer', Name: 'staging', FunctionVersion: '1' })), { name: 'ResourceConflictException' });
  await assert.rejects(client.send(new CreateAliasCommand({ FunctionName: 'answer', Name: 'bad', FunctionVersion: '9' })), (e: Error) => e.name === 'InvalidParameterValueException' && /version 9 does not exist/.test(e.message));
  await assert.rejects(client.send(new GetAliasCommand({ FunctionName: 'answer', Name: 'bad' })), { name: 'ResourceNotFoundException' }, 'a refused alias was not written');

  // The same alias as the control API shows it.
  const api = (await (await fetch(`${node.url}/_outpost/api/functions/answer/aliases`, { headers: { authorization: `Bearer ${token}` } })).json()) as unknown;
  assert.deepEqual(api, {
    aliases: [
      { name: 'live', versions: [{ version: 1, weight: 100 }] },
      { name: 'staging', versions: [{ version: 2, weight: 75 }, { version: 3, weight: 25 }] },
    ],
  });
  const aliases = await client.send(new ListAliasesCommand({ FunctionName: 'answer' }));
  assert.deepEqual(aliases.Aliases?.map((a) => [a.Name, a.FunctionVersion]), [['live', '1'], ['staging', '2']]);

  // Invoking the alias runs one of its versions, drawn by weight, and says which.
  const seen = new Map<string, number>();
  for (let i = 0; i < 200; i++) {
    const { executed, label } = await invoke({ FunctionName: 'answer', Qualifier: 'staging' });
    assert.equal(label, `v${executed ?? ''}`, 'X-Amz-Executed-Version names the version that ran');
    seen.set(label, (seen.get(label) ?? 0) + 1);
  }
  // v3 share ~ binomial(200, 0.25): sd ≈ 6 requests, so 20–80 is far beyond chance.
  assert.deepEqual([...seen.keys()].sort(), ['v2', 'v3']);
  assert.ok((seen.get('v3') ?? 0) > 20 && (seen.get('v3') ?? 0) < 80, `v3 ran ${seen.get('v3') ?? 0} of 200 times`);

  assert.deepEqual(await invoke({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:answer:staging', Qualifier: 'staging' }).then((r) => r.label.startsWith('v')), true);
  assert.deepEqual(await invoke({ FunctionName: 'answer' }), { executed: '$LATEST', label: 'v1' });
  assert.deepEqual(await invoke({ FunctionName: 'answer', Qualifier: '3' }), { executed: '3', label: 'v3' });
  assert.deepEqual(await invoke({ FunctionName: 'answer:1' }), { executed: '1', label: 'v1' });
  await assert.rejects(invoke({ FunctionName: 'answer', Qualifier: 'nope' }), { name: 'ResourceNotFoundException' });

  const updated = await client.send(new UpdateAliasCommand({ FunctionName: 'answer', Name: 'staging', FunctionVersion: '3', RoutingConfig: { AdditionalVersionWeights: {} } }));
  assert.equal(updated.FunctionVersion, '3');
  assert.equal(updated.RoutingConfig, undefined);
  for (let i = 0; i < 20; i++) assert.deepEqual(await invoke({ FunctionName: 'answer', Qualifier: 'staging' }), { executed: '3', label: 'v3' });
  // Moving live through the SDK moves what routes and unqualified invokes serve.
  await client.send(new UpdateAliasCommand({ FunctionName: 'answer', Name: 'live', FunctionVersion: '2' }));
  await eventually(async () => ((await invoke({ FunctionName: 'answer' })).label === 'v2' ? true : undefined), 10_000, 'live to serve v2');
  assert.deepEqual(await invoke({ FunctionName: 'answer' }), { executed: '$LATEST', label: 'v2' });

  await client.send(new DeleteAliasCommand({ FunctionName: 'answer', Name: 'staging' }));
  await assert.rejects(client.send(new GetAliasCommand({ FunctionName: 'answer', Name: 'staging' })), { name: 'ResourceNotFoundException' });
  await assert.rejects(client.send(new DeleteAliasCommand({ FunctionName: 'answer', Name: 'live' })), { name: 'InvalidParameterValueException' });
});
