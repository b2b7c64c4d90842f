/**
 * @module
 * Adapter overhead: the same hello world as a Workers module, a Lambda behind an HTTP API
 * (payload 2.0) and a Next.js edge route handler, each served alone by one node pinned to one
 * core, wrk on the other. Reports each style's throughput as a ratio of the Workers-module path.
 *
 *   node bench/adapters.ts [--rounds 4] [--seconds 5]
 */
import { parseArgs } from 'node:util';
import { CLI, CORES, MACHINE, cleanup, ensureWrk, freePort, median, startServer, table, tempDir, wrk, writeFiles } from './lib.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '4' }, seconds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
ensureWrk();
const dir = tempDir('outpost-adapters-');
writeFiles(dir, {
  'workers/wrangler.toml': 'name = "hello"\nmain = "index.js"\n',
  'workers/index.js': "export default { fetch() { return new Response('Hello World'); } };\n",
  'lambda/template.yaml': `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: nodejs22.x
      Events:
        Root:
          Type: HttpApi
          Properties:
            Path: /
            Method: GET
`,
  'lambda/src/app.mjs': "export const handler = async () => ({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'Hello World' });\n",
  'next/package.json': '{ "name": "hello-next", "private": true }\n',
  'next/app/route.ts': "export const runtime = 'edge';\nexport function GET() { return new Response('Hello World'); }\n",
});

const styles = [
  { name: 'Workers module', dir: 'workers' },
  { name: 'Lambda (HTTP API v2)', dir: 'lambda' },
  { name: 'Next.js edge route', dir: 'next' },
];
const results = new Map<string, number[]>();
for (let round = 1; round <= rounds; round++) {
  for (const s of styles) {
    const port = await freePort();
    const server = await startServer(process.execPath, [CLI, 'dev', `${dir}/${s.dir}`, '--port', String(port), '--aws-port', '0', '--state', `${dir}/state-${s.dir}-${round}`, '--quiet'], `http://127.0.0.1:${port}/`, { core: CORES.server, readyLine: true });
    wrk(server.url, { seconds: 1 });
    const r = wrk(server.url, { seconds });
    await server.stop();
    results.set(s.name, [...(results.get(s.name) ?? []), r.rps]);
    console.error(`round ${round}: ${s.name.padEnd(22)} ${r.rps.toFixed(0)} req/s`);
  }
}
cleanup(dir);
const base = median(results.get('Workers module') ?? [1]);
console.log(`\n### Adapter overhead (median of ${rounds} rounds × ${seconds} s, wrk -t1 -c50, server on core ${CORES.server})\n`);
console.log(`Machine: ${MACHINE}\n`);
console.log(table(['style', 'req/s', 'vs Workers module'], styles.map((s) => {
  const rps = median(results.get(s.name) ?? [0]);
  return [s.name, rps.toFixed(0), `${((rps / base - 1) * 100).toFixed(1)} %`];
})));
