/** @module Tests for the gateway route table: precedence, hosts, methods, params, greedy paths, mount prefixes and a large table. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RouteSpec } from '../project/spec.ts';
import { RouteTable } from './routes.ts';

const FETCH = { kind: 'fetch' } as const;

/** A route for the table; `target` names it so a test can say which route won. */
function r(target: string, path: string, extra: Omit<RouteSpec, 'path' | 'event'> = {}): { target: string; route: RouteSpec } {
  return { target, route: { ...extra, path, event: FETCH } };
}

/** The winning target's name, or undefined. */
function winner(table: RouteTable<string>, method: string, host: string, path: string): string | undefined {
  return table.match(method, host, path)?.target;
}

describe('path precedence', () => {
  const table = new RouteTable([
    r('star', '/users/*'),
    r('greedy', '/users/{rest+}'),
    r('param', '/users/{id}'),
    r('literal', '/users/me'),
  ]);

  test('a literal segment beats a {param}', () => {
    assert.equal(winner(table, 'GET', 'example.com', '/users/me'), 'literal');
  });

  test('a {param} beats greedy and wildcard routes for one segment', () => {
    const m = table.match('GET', 'example.com', '/users/42');
    assert.ok(m);
    assert.equal(m.target, 'param');
    assert.deepEqual(m.params, { id: '42' });
  });

  test('greedy routes take deeper paths the single-segment routes cannot', () => {
    const w = winner(table, 'GET', 'example.com', '/users/42/posts');
    assert.ok(w === 'greedy' || w === 'star', `got ${String(w)}`);
  });

  test('precedence is decided segment by segment, left to right', () => {
    const t = new RouteTable([r('param-first', '/{tenant}/settings'), r('literal-first', '/acme/{page}')]);
    assert.equal(winner(t, 'GET', 'h', '/acme/settings'), 'literal-first');
    assert.equal(winner(t, 'GET', 'h', '/other/settings'), 'param-first');
  });

  test('a longer literal prefix beats a shorter mount', () => {
    const t = new RouteTable([r('api', '/api/*'), r('v1', '/api/v1/*')]);
    assert.equal(winner(t, 'GET', 'h', '/api/v1/items'), 'v1');
    assert.equal(winner(t, 'GET', 'h', '/api/v2/items'), 'api');
  });

  test('an exact literal route beats a trailing * for the same path', () => {
    const t = new RouteTable([r('exact', '/api'), r('mount', '/api/*')]);
    assert.equal(winner(t, 'GET', 'h', '/api'), 'exact');
    const root = new RouteTable([r('root', '/'), r('catch-all', '/*')]);
    assert.equal(winner(root, 'GET', 'h', '/'), 'root');
  });

  test('a route with a literal first segment and a route without one are ranked together', () => {
    const t = new RouteTable([r('catch-all', '/*'), r('users', '/users/{id}')]);
    assert.equal(winner(t, 'GET', 'h', '/users/7'), 'users');
    assert.equal(winner(t, 'GET', 'h', '/teams/7'), 'catch-all');
  });

  test('a trailing slash and doubled slashes do not change the match', () => {
    const t = new RouteTable([r('user', '/users/{id}')]);
    assert.deepEqual(t.match('GET', 'h', '/users/42/')?.params, { id: '42' });
    assert.deepEqual(t.match('GET', 'h', '//users//42')?.params, { id: '42' });
  });
});

describe('greedy {param+} and trailing *', () => {
  const table = new RouteTable([r('proxy', '/files/{proxy+}'), r('mount', '/static/*')]);

  test('{proxy+} needs at least one segment', () => {
    assert.equal(table.match('GET', 'h', '/files'), undefined);
    assert.equal(table.match('GET', 'h', '/files/'), undefined);
    const m = table.match('GET', 'h', '/files/a/b/c.txt');
    assert.ok(m);
    assert.equal(m.target, 'proxy');
    assert.deepEqual(m.params, { proxy: 'a/b/c.txt' });
  });

  test('a trailing * matches zero segments and any number more, with no param', () => {
    const zero = table.match('GET', 'h', '/static');
    assert.ok(zero);
    assert.equal(zero.target, 'mount');
    assert.deepEqual(zero.params, {});
    assert.equal(winner(table, 'GET', 'h', '/static/css/site.css'), 'mount');
  });

  test('a * that is not the last segment is a literal', () => {
    const t = new RouteTable([r('mid', '/a/*/b')]);
    assert.equal(winner(t, 'GET', 'h', '/a/*/b'), 'mid');
    assert.equal(t.match('GET', 'h', '/a/x/b'), undefined);
  });

  test('a route needs every one of its segments', () => {
    const t = new RouteTable([r('user-post', '/users/{id}/posts/{post}')]);
    assert.equal(t.match('GET', 'h', '/users/1/posts'), undefined);
    assert.equal(t.match('GET', 'h', '/users/1/posts/2/comments'), undefined);
    assert.deepEqual(t.match('GET', 'h', '/users/1/posts/2')?.params, { id: '1', post: '2' });
  });
});

describe('params', () => {
  test('path parameters are percent-decoded', () => {
    const t = new RouteTable([r('user', '/users/{name}'), r('files', '/files/{path+}')]);
    assert.deepEqual(t.match('GET', 'h', '/users/John%20Doe')?.params, { name: 'John Doe' });
    assert.deepEqual(t.match('GET', 'h', '/users/caf%C3%A9')?.params, { name: 'café' });
    assert.deepEqual(t.match('GET', 'h', '/files/my%20docs/a%2Bb.txt')?.params, { path: 'my docs/a+b.txt' });
  });

  test('a malformed escape is passed through rather than failing the request', () => {
    const t = new RouteTable([r('user', '/users/{name}')]);
    assert.deepEqual(t.match('GET', 'h', '/users/100%')?.params, { name: '100%' });
  });
});

describe('hosts', () => {
  test('a host-specific route beats a host-less one; other hosts fall back to the host-less one', () => {
    const t = new RouteTable([r('any-host', '/api/*'), r('shop', '/api/*', { host: 'shop.example.com' })]);
    assert.equal(winner(t, 'GET', 'shop.example.com', '/api/cart'), 'shop');
    assert.equal(winner(t, 'GET', 'blog.example.com', '/api/cart'), 'any-host');
  });

  test('a host-specific route wins even over a more specific host-less path', () => {
    const t = new RouteTable([r('any-host', '/api/users'), r('shop', '/*', { host: 'shop.example.com' })]);
    assert.equal(winner(t, 'GET', 'shop.example.com', '/api/users'), 'shop');
  });

  test('*.example.com matches subdomains but not look-alike hosts', () => {
    const t = new RouteTable([r('wild', '/*', { host: '*.example.com' })]);
    assert.equal(winner(t, 'GET', 'api.example.com', '/'), 'wild');
    assert.equal(winner(t, 'GET', 'a.b.example.com', '/x'), 'wild');
    assert.equal(t.match('GET', 'example.com.evil.net', '/'), undefined);
    assert.equal(t.match('GET', 'evilexample.com', '/'), undefined);
    assert.equal(t.match('GET', 'example.org', '/'), undefined);
  });

  test('an exact host beats a wildcard host', () => {
    const t = new RouteTable([r('wild', '/*', { host: '*.example.com' }), r('api', '/*', { host: 'api.example.com' })]);
    assert.equal(winner(t, 'GET', 'api.example.com', '/'), 'api');
    assert.equal(winner(t, 'GET', 'www.example.com', '/'), 'wild');
  });

  test('the Host header port is ignored and hosts compare case-insensitively', () => {
    const t = new RouteTable([r('api', '/*', { host: 'API.Example.com' })]);
    assert.equal(winner(t, 'GET', 'api.example.com:8787', '/x'), 'api');
    assert.equal(winner(t, 'GET', 'Api.EXAMPLE.com', '/x'), 'api');
    assert.equal(t.match('GET', 'api.example.com.8787', '/x'), undefined);
  });
});

describe('methods', () => {
  test('a method-specific route beats ANY for the same path', () => {
    const t = new RouteTable([r('any', '/items/{id}'), r('get', '/items/{id}', { method: 'GET' })]);
    assert.equal(winner(t, 'GET', 'h', '/items/1'), 'get');
    assert.equal(winner(t, 'POST', 'h', '/items/1'), 'any');
  });

  test('a route for another method does not match', () => {
    const t = new RouteTable([r('post', '/items', { method: 'POST' })]);
    assert.equal(t.match('GET', 'h', '/items'), undefined);
    assert.equal(winner(t, 'POST', 'h', '/items'), 'post');
  });

  test('a GET route also serves HEAD, and beats ANY for it', () => {
    const only = new RouteTable([r('get', '/page', { method: 'GET' })]);
    assert.equal(winner(only, 'HEAD', 'h', '/page'), 'get');
    const both = new RouteTable([r('any', '/page'), r('get', '/page', { method: 'GET' })]);
    assert.equal(winner(both, 'HEAD', 'h', '/page'), 'get');
    const post = new RouteTable([r('post', '/page', { method: 'POST' })]);
    assert.equal(post.match('HEAD', 'h', '/page'), undefined);
  });
});

describe('what the function sees', () => {
  const table = new RouteTable([r('hello', '/hello/*', { stripPrefix: '/hello' })]);

  test('stripPrefix removes the mount from the path', () => {
    assert.equal(table.match('GET', 'h', '/hello/x')?.path, '/x');
    assert.equal(table.match('GET', 'h', '/hello/a/b')?.path, '/a/b');
    assert.equal(table.match('GET', 'h', '/hello')?.path, '/');
    assert.equal(table.match('GET', 'h', '/hello/')?.path, '/');
  });

  test('without stripPrefix the function sees the whole path', () => {
    const t = new RouteTable([r('api', '/api/*')]);
    assert.equal(t.match('GET', 'h', '/api/x')?.path, '/api/x');
  });

  test('the match carries the route and its event shape', () => {
    const event = { kind: 'api-gateway', payloadVersion: '2.0', resource: '/users/{id}', stage: '$default' } as const;
    const route: RouteSpec = { path: '/users/{id}', method: 'GET', event };
    const t = new RouteTable([{ target: 7, route }]);
    const m = t.match('GET', 'h', '/users/1');
    assert.ok(m);
    assert.equal(m.target, 7);
    assert.equal(m.route, route);
    assert.deepEqual(m.event, event);
    assert.equal(t.size, 1);
  });

  test('no matching route gives undefined', () => {
    assert.equal(table.match('GET', 'h', '/goodbye'), undefined);
    assert.equal(table.match('GET', 'h', '/'), undefined);
    assert.equal(new RouteTable<string>([]).match('GET', 'h', '/'), undefined);
  });
});

test('a table of 1,000 mounts picks the right one', () => {
  const entries = Array.from({ length: 1000 }, (_, n) => ({ target: n, route: { path: `/fn-${n}/*`, stripPrefix: `/fn-${n}`, event: FETCH } satisfies RouteSpec }));
  const table = new RouteTable(entries);
  assert.equal(table.size, 1000);
  for (const n of [0, 1, 10, 100, 499, 737, 999]) {
    const m = table.match('GET', 'localhost:8787', `/fn-${n}/a/b`);
    assert.ok(m);
    assert.equal(m.target, n);
    assert.equal(m.path, '/a/b');
  }
  assert.equal(table.match('GET', 'localhost', '/fn-1000/a'), undefined);
  assert.equal(table.match('GET', 'localhost', '/fn-12x/a'), undefined);
});

test('case-insensitive routes (Azure) match literals in any case, parameters keep their case', () => {
  const table = new RouteTable([
    { target: 'azure', route: { path: '/api/HttpHello/{Name}', caseInsensitive: true, event: { kind: 'fetch' } } },
    { target: 'strict', route: { path: '/api/Strict', event: { kind: 'fetch' } } },
  ]);
  const m = table.match('GET', 'h', '/API/httphello/Kim');
  assert.equal(m?.target, 'azure');
  assert.deepEqual(m?.params, { Name: 'Kim' });
  assert.equal(table.match('GET', 'h', '/api/HTTPHELLO/x')?.target, 'azure');
  assert.equal(table.match('GET', 'h', '/api/strict'), undefined, 'other routes stay case-sensitive');
  assert.equal(table.match('GET', 'h', '/api/Strict')?.target, 'strict');
});
