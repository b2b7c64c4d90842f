/** @module Tests for the Google Cloud Functions / Firebase loader: fixture, v1/v2/Functions Framework forms, layout and bad projects. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { detectGcf, loadGcf } from './gcf.ts';
import { expectProblems, fixturePath, tempProject } from './testing.ts';

function exportNames(routes: ReadonlyArray<{ path: string; event: { kind: string; name?: string } }>): string[] {
  return [...new Set(routes.map((r) => (r.event.kind === 'export' ? (r.event.name ?? '') : '')))];
}

test('gcf-firebase fixture: two v1 HTTPS exports, each at /<name> and /<name>/*', async () => {
  const root = fixturePath('gcf-firebase');
  assert.equal(await detectGcf(root), true);
  const spec = await loadGcf(root, { dev: true });
  assert.equal(spec.format, 'gcf');
  assert.equal(spec.name, 'hello-functions');
  const [fn] = spec.functions;
  assert.ok(fn);
  assert.equal(fn.style, 'gcf');
  assert.equal(fn.entry, path.join(root, 'index.js'));
  assert.equal(fn.nodeCompat, true);
  assert.equal(fn.limits.concurrency, 80, "Cloud Functions 2nd gen default concurrency");
  assert.deepEqual(fn.routes, [
    { path: '/helloWorld', event: { kind: 'export', name: 'helloWorld' } },
    { path: '/helloWorld/*', event: { kind: 'export', name: 'helloWorld' } },
    { path: '/echoBody', event: { kind: 'export', name: 'echoBody' } },
    { path: '/echoBody/*', event: { kind: 'export', name: 'echoBody' } },
  ]);
  assert.equal(fn.platform['runtime'], 'nodejs20');
});

test('v2 onRequest, region/runWith chains, CommonJS exports, non-HTTP and commented-out functions', async (t) => {
  const root = await tempProject(t, {
    'package.json': JSON.stringify({ name: 'mixed', main: 'index.js', dependencies: { 'firebase-functions': '^6' } }),
    'index.js': `
const functions = require('firebase-functions/v1');
const { onRequest } = require('firebase-functions/v2/https');
const { onSchedule } = require('firebase-functions/v2/scheduler');
exports.v1 = functions.region('europe-west1').runWith({ memory: '256MB' }).https.onRequest((req, res) => res.send('1'));
exports.v2 = onRequest({ cors: true }, (req, res) => res.send('2'));
exports.nightly = onSchedule('every day 00:00', async () => {});
exports.onUser = functions.auth.user().onCreate(() => {});
// exports.old = functions.https.onRequest((req, res) => {});
const internal = onRequest((req, res) => res.send('x'));
exports.fromFile = require('./more').fromFile;
`,
    'more.js': "const { onRequest } = require('firebase-functions/https');\nexports.fromFile = onRequest((req, res) => res.end());\n",
  });
  const spec = await loadGcf(root, { dev: true });
  assert.deepEqual(exportNames(spec.functions[0]?.routes ?? []).sort(), ['fromFile', 'v1', 'v2']);
});

test('ESM re-exports, export lists and Functions Framework registrations', async (t) => {
  const ff = await tempProject(t, {
    'package.json': JSON.stringify({ name: 'ff', type: 'module', dependencies: { '@google-cloud/functions-framework': '^3' } }),
    'index.js': "import * as functions from '@google-cloud/functions-framework';\nfunctions.http('helloHttp', (req, res) => res.send('hi'));\nfunctions.cloudEvent('onEvent', () => {});\n",
  });
  assert.equal(await detectGcf(ff), true);
  assert.deepEqual(exportNames((await loadGcf(ff, { dev: true })).functions[0]?.routes ?? []), ['helloHttp']);

  const esm = await tempProject(t, {
    'package.json': JSON.stringify({ name: 'esm', type: 'module', dependencies: { 'firebase-functions': '^6' } }),
    'index.js': "export * from './api.js';\nimport { onRequest } from 'firebase-functions/v2/https';\nconst local = onRequest((q, s) => s.end());\nexport { local };\n",
    'api.js': "import { onRequest } from 'firebase-functions/v2/https';\nexport const api = onRequest((q, s) => s.end());\nconst hidden = onRequest((q, s) => s.end());\n",
  });
  assert.deepEqual(exportNames((await loadGcf(esm, { dev: true })).functions[0]?.routes ?? []).sort(), ['api', 'local']);

  const target = await tempProject(t, {
    'package.json': JSON.stringify({ name: 'plain', scripts: { start: 'functions-framework --target=handle' } }),
    'index.js': "require('@google-cloud/functions-framework');\nexports.handle = (req, res) => res.send('ok');\n",
  });
  assert.deepEqual(exportNames((await loadGcf(target, { dev: true })).functions[0]?.routes ?? []), ['handle']);
});

test('firebase.json functions source folder, TypeScript before build, .env files and project id', async (t) => {
  const root = await tempProject(t, {
    'firebase.json': JSON.stringify({ functions: [{ source: 'backend', codebase: 'default' }] }),
    '.firebaserc': JSON.stringify({ projects: { default: 'demo-app' } }),
    'backend/package.json': JSON.stringify({ name: 'backend', main: 'lib/index.js', engines: { node: '22' }, dependencies: { 'firebase-functions': '^6' } }),
    'backend/src/index.ts': "import { onRequest } from 'firebase-functions/v2/https';\nexport const api = onRequest((req, res) => { res.send('ts'); });\n",
    'backend/.env': 'A=1\nB=1\n',
    'backend/.env.demo-app': 'B=2\n',
    'backend/.env.local': 'C=3\n',
  });
  assert.equal(await detectGcf(root), true);
  const spec = await loadGcf(root, { dev: true });
  const fn = spec.functions[0];
  assert.ok(fn);
  assert.equal(fn.entry, path.join(root, 'backend/src/index.ts'));
  assert.equal(fn.name, 'backend');
  assert.deepEqual(fn.vars, { A: '1', B: '2', C: '3' });
  assert.equal(fn.platform['projectId'], 'demo-app');
  assert.equal(fn.platform['runtime'], 'nodejs22');
  assert.deepEqual(spec.configFiles, ['firebase.json', 'backend/package.json', '.firebaserc', 'backend/.env', 'backend/.env.demo-app', 'backend/.env.local']);
  assert.equal((await loadGcf(root, { dev: false })).functions[0]?.vars['C'], undefined);
});

test('bad projects: missing main, no HTTPS functions, broken package.json', async (t) => {
  const noMain = await tempProject(t, { 'package.json': JSON.stringify({ main: 'dist/index.js', dependencies: { 'firebase-functions': '1' } }) });
  await expectProblems(() => loadGcf(noMain, { dev: true }), [{ file: 'package.json', key: 'main', message: /does not exist/ }]);
  const none = await tempProject(t, {
    'package.json': JSON.stringify({ dependencies: { 'firebase-functions': '1' } }),
    'index.js': "const functions = require('firebase-functions');\nexports.onUser = functions.auth.user().onCreate(() => {});\n",
  });
  await expectProblems(() => loadGcf(none, { dev: true }), [{ file: 'index.js', key: '', message: /no HTTPS functions/ }]);
  const broken = await tempProject(t, { 'package.json': '{ "name": ', 'index.js': '' });
  await expectProblems(() => loadGcf(broken, { dev: true }), [{ file: 'package.json', key: '', message: /not valid JSON/ }]);
  const badSource = await tempProject(t, { 'firebase.json': '{ "functions": { "source": "nope" } }', 'index.js': '' });
  await expectProblems(() => loadGcf(badSource, { dev: true }), [{ file: 'firebase.json', key: 'functions.source' }]);
});
