import fs from 'node:fs';
import path from 'node:path';
import { contentSecurityPolicy } from '../../src/console/static';
import { startTestApi, TestApi } from '../support/api';

/** How the server serves the built console (dist/console, from `npm run build`). */
let api: TestApi;
let base: string;
const built = path.join(__dirname, '..', '..', 'dist', 'console');

beforeAll(async () => {
  if (!fs.existsSync(path.join(built, 'index.html'))) throw new Error('dist/console is missing: run `npm run build` first (npm test does)');
  api = await startTestApi();
  base = `http://127.0.0.1:${api.app.http!.port}`;
});

afterAll(async () => {
  await api?.close();
});

function assetsOf(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
}

test('/ and client routes answer index.html, revalidated on every load, under a strict Content-Security-Policy', async () => {
  const index = fs.readFileSync(path.join(built, 'index.html'), 'utf8');
  for (const route of ['/', '/projects/8c1e0000-0000-4000-8000-000000000000/webhooks', '/projects/x/activity/y?webhook=z']) {
    const res = await fetch(base + route);
    expect({ route, status: res.status, type: res.headers.get('content-type') }).toEqual({ route, status: 200, type: 'text/html; charset=utf-8' });
    expect(await res.text()).toBe(index);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${api.app.http!.port} wss://127.0.0.1:${api.app.http!.port}`);
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  }
  // No inline script for the policy to forbid: every script is a file under /assets.
  expect(index).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
});

test('hashed assets are cached for a year; an unknown asset is a 404, never index.html', async () => {
  const assets = assetsOf(fs.readFileSync(path.join(built, 'index.html'), 'utf8'));
  expect(assets.length).toBeGreaterThanOrEqual(2);
  for (const asset of assets) {
    const res = await fetch(base + asset);
    expect({ asset, status: res.status, cache: res.headers.get('cache-control') }).toEqual({ asset, status: 200, cache: 'public, max-age=31536000, immutable' });
    expect(Buffer.from(await res.arrayBuffer()).equals(fs.readFileSync(path.join(built, asset)))).toBe(true);
  }
  for (const missing of ['/assets/index-00000000.js', '/favicon.ico', '/robots.txt']) {
    const res = await fetch(base + missing);
    expect({ missing, status: res.status }).toEqual({ missing, status: 404 });
    expect(await res.text()).not.toContain('<div id="root">');
  }
});

test('the API paths are not taken by the fallback', async () => {
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  const graphql = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
  expect(await graphql.json()).toEqual({ data: { __typename: 'Query' } });
  // Below /graphql, Apollo answers (a GET without a query is its 400); /healthz/x is nobody's: 404.
  for (const [route, status] of [['/graphql/anything', 400], ['/healthz/x', 404]] as const) {
    const res = await fetch(base + route);
    expect({ route, status: res.status }).toEqual({ route, status });
    expect(await res.text()).not.toContain('<div id="root">');
  }
});

test('a Host header that is not a plain host adds nothing to connect-src', () => {
  expect(contentSecurityPolicy('evil.test; script-src *')).toContain("connect-src 'self';");
  expect(contentSecurityPolicy('[::1]:4000')).toContain("connect-src 'self' ws://[::1]:4000 wss://[::1]:4000;");
  expect(contentSecurityPolicy(undefined)).toContain("connect-src 'self';");
});
