/**
 * @module
 * S3 throughput: PutObject and GetObject of one large object (256 MB by default) through the
 * S3 API of an `outpost dev` node — with plain HTTP (the API's own cost) and with
 * `@aws-sdk/client-s3` (what users' code sees: aws-chunked upload with a CRC32 trailer) —
 * against writing and reading the same bytes with node:fs in the same run. The node:fs write
 * does what the store's must: a fresh temp file, fsync, rename over the previous version.
 * Reads of a just-written file come from the page cache on both sides.
 *
 * The server is not pinned to a core by default: the node:fs baseline runs unpinned in this
 * process, and the store hashes MD5 (S3's ETag, ~600–750 MB/s on one core) on a thread beside
 * its writes, which a server confined to one core cannot do. `--pin` pins it to core 0 as the
 * HTTP benchmarks do, to see the one-core figure.
 *
 * Target (issue 4): ≥ 50 % of the disk's speed through the API.
 *
 *   node bench/s3.ts [--mb 256] [--runs 3] [--pin]
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { once } from 'node:events';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CLI, CORES, MACHINE, cleanup, freePort, median, startServer, table, tempDir, writeFiles } from './lib.ts';

const { values } = parseArgs({ options: { mb: { type: 'string' }, runs: { type: 'string' }, pin: { type: 'boolean' } } });
const MB = Number(values.mb ?? 256);
const RUNS = Number(values.runs ?? 3);
const SIZE = MB * 1024 * 1024;
const CHUNK = 1024 * 1024;

const data = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i += 4096) data.writeUInt32LE(i, i);
const pieces = (): Buffer[] => Array.from({ length: Math.ceil(SIZE / CHUNK) }, (_, i) => data.subarray(i * CHUNK, (i + 1) * CHUNK));

async function timed(run: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await run();
  return SIZE / 1024 / 1024 / ((performance.now() - start) / 1000);
}

/** What a durable put must do: write a fresh file, fsync it (flush), rename it over the old version. */
async function fsWrite(path: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const out = createWriteStream(tmp, { flush: true });
  for (const p of pieces()) if (!out.write(p)) await once(out, 'drain');
  out.end();
  await once(out, 'close');
  await rename(tmp, path);
}

async function fsRead(path: string): Promise<void> {
  let n = 0;
  for await (const c of createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) n += c.byteLength;
  if (n !== SIZE) throw new Error(`read ${n} bytes`);
}

function httpPut(aws: URL, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: aws.hostname, port: aws.port, method: 'PUT', path, headers: { 'content-length': SIZE } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${res.statusCode}`))));
    });
    req.on('error', reject);
    void (async () => {
      for (const p of pieces()) if (!req.write(p)) await once(req, 'drain');
      req.end();
    })();
  });
}

function httpGet(aws: URL, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    request({ host: aws.hostname, port: aws.port, path }, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => (n += d.byteLength));
      res.on('end', () => (n === SIZE ? resolve() : reject(new Error(`GET returned ${n} bytes`))));
    })
      .on('error', reject)
      .end();
  });
}

const root = tempDir('outpost-bench-s3-');
const state = join(root, 'state');
writeFiles(root, { 'app/outpost.toml': 'name = "app"\nmain = "index.js"\n', 'app/index.js': 'export default { fetch() { return new Response("ok") } }' });
const port = await freePort();
const awsPort = await freePort();
const server = await startServer(process.execPath, [CLI, 'dev', join(root, 'app'), '--port', String(port), '--aws-port', String(awsPort), '--state', state, '--quiet'], `http://127.0.0.1:${port}/_outpost/health`, values.pin ? { core: CORES.server } : {});
const aws = new URL(`http://127.0.0.1:${awsPort}`);
const s3 = new S3Client({ endpoint: aws.href, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
try {
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  const results: Record<string, number[]> = { fsWrite: [], fsRead: [], httpPut: [], httpGet: [], sdkPut: [], sdkGet: [] };
  const file = join(root, 'baseline.bin');
  for (let run = 0; run < RUNS; run++) {
    results['fsWrite']?.push(await timed(() => fsWrite(file)));
    results['fsRead']?.push(await timed(() => fsRead(file)));
    results['httpPut']?.push(await timed(() => httpPut(aws, '/bench/raw.bin')));
    results['httpGet']?.push(await timed(() => httpGet(aws, '/bench/raw.bin')));
    results['sdkPut']?.push(await timed(async () => {
      await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'sdk.bin', Body: Readable.from(pieces()), ContentLength: SIZE }));
    }));
    results['sdkGet']?.push(await timed(async () => {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: 'sdk.bin' }));
      let n = 0;
      for await (const c of got.Body as AsyncIterable<Uint8Array>) n += c.byteLength;
      if (n !== SIZE) throw new Error(`SDK GET returned ${n} bytes`);
    }));
  }
  const m = (k: string): number => median(results[k] ?? []);
  const pct = (a: number, b: number): string => `${Math.round((a / b) * 100)} %`;
  console.log(`\nS3 API throughput, ${MB} MB object, median of ${RUNS} runs, server ${values.pin ? `pinned to core ${CORES.server}` : 'not pinned'} (${MACHINE})\n`);
  console.log(table(
    ['operation', 'node:fs MB/s', 'S3 API (http) MB/s', 'ratio', 'S3 API (AWS SDK v3) MB/s', 'ratio'],
    [
      ['write / PutObject', m('fsWrite').toFixed(0), m('httpPut').toFixed(0), pct(m('httpPut'), m('fsWrite')), m('sdkPut').toFixed(0), pct(m('sdkPut'), m('fsWrite'))],
      ['read / GetObject', m('fsRead').toFixed(0), m('httpGet').toFixed(0), pct(m('httpGet'), m('fsRead')), m('sdkGet').toFixed(0), pct(m('sdkGet'), m('fsRead'))],
    ],
  ));
} finally {
  await server.stop();
  cleanup(root);
}
