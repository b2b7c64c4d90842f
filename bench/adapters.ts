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

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '4' }, seconds: { type: 'string', default: '5' }, connections: { type: 'string', default: '1,50' } } });
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
/** -c1 isolates the adapter's own cost; -c50 adds each platform's concurrency model (Lambda: one request per instance). */
const connectionCounts = values.connections.split(',').map(Number);
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
    for (const c of connectionCounts) {
      wrk(server.url, { seconds: 1, connections: c });
      const r = wrk(server.url, { seconds, connections: c });
      results.set(`${s.name}|${c}`, [...(results.get(`${s.name}|${c}`) ?? []), r.rps]);
      console.error(`round ${round}: ${s.name.padEnd(22)} -c${c} ${r.rps.toFixed(0)} req/s`);
    }
    await server.stop();
  }
}
cleanup(dir);
console.log(`\n### Adapter overhead (median of ${rounds} rounds × ${seconds} s, wrk -t1, server on core ${CORES.server})\n`);
console.log(`Machine: ${MACHINE}\n`);
const head = ['style', ...connectionCounts.flatMap((c) => [`req/s -c${c}`, `vs Workers -c${c}`])];
console.log(table(head, styles.map((s) => [s.name, ...connectionCounts.flatMap((c) => {
  const rps = median(results.get(`${s.name}|${c}`) ?? [0]);
  const base = median(results.get(`Workers module|${c}`) ?? [1]);
  return [rps.toFixed(0), `${((rps / base - 1) * 100).toFixed(1)} %`];
})])));
