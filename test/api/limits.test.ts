import { parse } from 'graphql';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config/config';
import { isValidCidr } from '../../src/delivery/ssrf';
import { buildAppSchema } from '../../src/graphql/schema';
import { queryCost } from '../../src/graphql/query-limits';
import { codeOf, createProject, createUserWithToken, GqlResult, startTestApi, TestApi } from '../support/api';
import { captureLog } from '../support/log';

/**
 * The limits suite: the attacks of issue 8 replayed against a real server. (1) a VIEWER's query
 * of hundreds of aliased pages, (2) oversized and idle WebSocket clients and too many of them,
 * (4) malformed, oversized and mistyped HTTP bodies. Assertions are on answers, never timings.
 */

// Whole lines, fields and all: a leak anywhere in one is found.
const captured = captureLog();
const logged = captured.raw;
const consoleLines: string[] = [];
let api: TestApi;
let projectId: string;
let blueprintId: string;
let viewer: string;
const WS_INIT_TIMEOUT_MS = 300;

beforeAll(async () => {
  for (const method of ['log', 'error', 'warn', 'info'] as const) {
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void consoleLines.push(args.map(String).join(' ')));
  }
  api = await startTestApi({ ROLE: 'api', WS_INIT_TIMEOUT_MS: String(WS_INIT_TIMEOUT_MS) }, undefined, captured.log);
  projectId = await createProject(api, 'Limits');
  const blueprint = await api.op(api.adminToken, 'CreateBlueprint', { projectId, input: { name: 'Post', fields: [{ name: 'body', type: 'text' }] } });
  blueprintId = blueprint.data.createBlueprint.id;
  // Ten at a time: one by one, 100 requests can outlast the hook's timeout on a busy machine.
  for (let i = 0; i < 100; i += 10) {
    const created = await Promise.all(
      Array.from({ length: 10 }, (_, j) => api.op(api.adminToken, 'CreateDocument', { projectId, input: { blueprintId, title: `doc ${i + j}`, fields: { body: 'x' } } })),
    );
    expect(created.map(codeOf)).toEqual(Array(10).fill('OK'));
  }
  viewer = (await createUserWithToken(api, 'viewer@limits.test', projectId, 'VIEWER')).token;
}, 120_000);

afterAll(async () => {
  await api?.close();
  jest.restoreAllMocks();
});

const PAGE = 'documents(projectId: $p, first: 100) { edges { node { id blueprint { id name } } } }';
const aliased = (count: number) => `query($p: ID!) { ${Array.from({ length: count }, (_, i) => `a${i}: ${PAGE}`).join(' ')} }`;

const { maxCost } = loadConfig({}, isValidCidr).graphqlLimits;

/** How many aliases of PAGE the default GRAPHQL_MAX_COST accepts. */
function largestAccepted(): number {
  return Math.floor(maxCost / queryCost(buildAppSchema(), parse(aliased(1)), { p: projectId })!);
}

describe('1. a VIEWER cannot stall the server with aliases', () => {
  test.each([300, 1000])('%i aliases of a page of 100 documents with blueprints: QUERY_TOO_COMPLEX, HTTP 400', async (count) => {
    const result = await api.gql(viewer, aliased(count), { p: projectId });
    expect(result.status).toBe(400);
    expect(codeOf(result)).toBe('QUERY_TOO_COMPLEX');
    expect(result.errors![0].message).toMatch(/^(Token|Aliases|Cost) limit of \d+ exceeded/);
    expect(result.data).toBeUndefined();
  });

  test('the largest accepted number of aliases returns every document with its blueprint; one more is refused by cost', async () => {
    const count = largestAccepted();
    expect(count).toBeGreaterThanOrEqual(10);
    const accepted = await api.gql<Record<string, { edges: Array<{ node: { id: string; blueprint: { id: string; name: string } } }> }>>(viewer, aliased(count), { p: projectId });
    expect(accepted.errors).toBeUndefined();
    expect(Object.keys(accepted.data!)).toHaveLength(count);
    for (const page of Object.values(accepted.data!)) {
      expect(page.edges).toHaveLength(100);
      expect(new Set(page.edges.map((e) => e.node.id)).size).toBe(100);
      for (const { node } of page.edges) expect(node.blueprint).toEqual({ id: blueprintId, name: 'Post' });
    }
    const refused = await api.gql(viewer, aliased(count + 1), { p: projectId });
    expect(codeOf(refused)).toBe('QUERY_TOO_COMPLEX');
    expect(refused.errors![0].message).toMatch(new RegExp(`^Cost limit of ${maxCost} exceeded, found \\d+\\.`));
  }, 60_000);

  test('first given as a variable is counted too', async () => {
    const query = `query($p: ID!, $n: Int) { ${Array.from({ length: 30 }, (_, i) => `a${i}: documents(projectId: $p, first: $n) { edges { node { id title } } }`).join(' ')} }`;
    expect(codeOf(await api.gql(viewer, query, { p: projectId, n: 100 }))).toBe('QUERY_TOO_COMPLEX');
    expect(codeOf(await api.gql(viewer, query, { p: projectId, n: 10 }))).toBe('OK');
  });

  test('/healthz keeps answering while refused attacks and the largest accepted query run', async () => {
    const load = Promise.all([
      ...Array.from({ length: 4 }, () => api.gql(viewer, aliased(1000), { p: projectId })),
      ...Array.from({ length: 4 }, () => api.gql(viewer, aliased(300), { p: projectId })),
      ...Array.from({ length: 2 }, () => api.gql(viewer, aliased(largestAccepted()), { p: projectId })),
    ]);
    let done = false;
    void load.finally(() => (done = true));
    const health: number[] = [];
    while (!done || health.length === 0) health.push((await fetch(api.url.replace('/graphql', '/healthz'))).status);
    const results = await load;
    expect(results.slice(0, 8).map(codeOf)).toEqual(Array(8).fill('QUERY_TOO_COMPLEX'));
    expect(results.slice(8).map(codeOf)).toEqual(['OK', 'OK']);
    expect(new Set(health)).toEqual(new Set([200]));
  }, 60_000);
});

/** A raw graphql-transport-ws socket: what a hostile client can send, frame by frame. */
function openSocket(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', options);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the socket was not closed in time')), timeoutMs);
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** The next message of a type (or any message) on a socket, with a deadline. */
function nextMessage(ws: WebSocket, timeoutMs = 10_000): Promise<{ type: string; id?: string; payload?: any }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message arrived in time')), timeoutMs);
    ws.once('message', (data) => {
      clearTimeout(timer);
      resolve(JSON.parse(String(data)));
    });
  });
}

async function initialised(token: string, target: TestApi = api): Promise<WebSocket> {
  const ws = await openSocket(target.url);
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  expect((await nextMessage(ws)).type).toBe('connection_ack');
  return ws;
}

describe('2. WebSocket', () => {
  const maxPayload = 256 * 1024;

  test('a message over WS_MAX_PAYLOAD_BYTES closes the socket with 1009 before anything else; the server stays up', async () => {
    const before = logged.length + consoleLines.length;
    const ws = await openSocket(api.url);
    const code = closed(ws);
    ws.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(maxPayload) } }));
    expect(await code).toBe(1009);
    // The client's mistake, not an internal error: nothing printed.
    expect(logged.length + consoleLines.length).toBe(before);
    const after = await initialised(viewer);
    after.close();
    expect((await fetch(api.url.replace('/graphql', '/healthz'))).status).toBe(200);
  });

  test('the largest real message fits: an operation padded to just under the limit is answered', async () => {
    const ws = await initialised(viewer);
    const query = `{ me { email } }${' '.repeat(maxPayload - 200)}`;
    ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
    const answer = await nextMessage(ws);
    expect(answer).toMatchObject({ id: '1', type: 'next', payload: { data: { me: { email: 'viewer@limits.test' } } } });
    ws.close();
  });

  test('operations over WebSocket get the same limits, as coded errors for that operation only', async () => {
    const ws = await initialised(viewer);
    ws.send(JSON.stringify({ id: 'a', type: 'subscribe', payload: { query: aliased(300), variables: { p: projectId } } }));
    const refused = await nextMessage(ws);
    expect(refused).toMatchObject({ id: 'a', type: 'error' });
    expect(refused.payload[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    const subscription = `subscription($p: ID!) { webhookCallLogged(projectId: $p) { ${Array.from({ length: 31 }, (_, i) => `f${i}: id`).join(' ')} } }`;
    ws.send(JSON.stringify({ id: 'b', type: 'subscribe', payload: { query: subscription, variables: { p: projectId } } }));
    expect(await nextMessage(ws)).toMatchObject({ id: 'b', type: 'error', payload: [{ message: 'Aliases limit of 30 exceeded, found 31.', extensions: { code: 'QUERY_TOO_COMPLEX' } }] });
    ws.send(JSON.stringify({ id: 'c', type: 'subscribe', payload: { query: '{ me { id ' } }));
    expect(await nextMessage(ws)).toMatchObject({ id: 'c', type: 'error', payload: [{ extensions: { code: 'GRAPHQL_PARSE_FAILED' } }] });
    // The socket is still open and serves the next operation.
    ws.send(JSON.stringify({ id: 'd', type: 'subscribe', payload: { query: '{ me { email } }' } }));
    expect(await nextMessage(ws)).toMatchObject({ id: 'd', type: 'next' });
    ws.close();
  });

  test(`a socket that sends no connection_init is closed with 4408 after WS_INIT_TIMEOUT_MS`, async () => {
    const ws = await openSocket(api.url);
    expect(await closed(ws)).toBe(4408);
  });

  test('connections over the per-address cap get 429 and over the total cap 503, before the handshake', async () => {
    const capped = await startTestApi({ ROLE: 'api', WS_MAX_CONNECTIONS: '3', WS_MAX_CONNECTIONS_PER_ADDRESS: '2' }, api.databaseUrl);
    const refusal = (localAddress: string) =>
      new Promise<{ status: number; body: any }>((resolve, reject) => {
        const ws = new WebSocket(capped.url.replace(/^http/, 'ws'), 'graphql-transport-ws', { localAddress });
        ws.once('open', () => reject(new Error(`a connection from ${localAddress} was admitted`)));
        ws.once('error', () => undefined);
        ws.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(body) }));
        });
      });
    try {
      const first = [await openSocket(capped.url, { localAddress: '127.0.0.1' }), await openSocket(capped.url, { localAddress: '127.0.0.1' })];
      const perAddress = await refusal('127.0.0.1');
      expect(perAddress.status).toBe(429);
      expect(perAddress.body).toEqual({ errors: [{ message: expect.stringContaining('limit 2'), extensions: { code: 'TOO_MANY_CONNECTIONS' } }] });
      const third = await openSocket(capped.url, { localAddress: '127.0.0.2' });
      const total = await refusal('127.0.0.3');
      expect(total.status).toBe(503);
      expect(total.body.errors[0]).toEqual({ message: expect.stringContaining('limit 3'), extensions: { code: 'TOO_MANY_CONNECTIONS' } });
      // A closed connection frees its place; the refused ones never took one.
      const gone = closed(first[0]);
      first[0].close();
      await gone;
      const replacement = await waitForAdmission(capped.url, '127.0.0.1');
      for (const ws of [first[1], third, replacement]) ws.close();
    } finally {
      await capped.close();
    }
  }, 60_000);
});

/** The server sees a closed socket a moment after the client does: retry until it admits, with a deadline. */
async function waitForAdmission(url: string, localAddress: string, timeoutMs = 5000): Promise<WebSocket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await openSocket(url, { localAddress });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe('4. malformed, oversized and mistyped HTTP bodies', () => {
  const SECRET = 'sekret-value-4f1c9a';

  async function post(body: string | Buffer, headers: Record<string, string>): Promise<{ status: number; contentType: string | null; text: string }> {
    const res = await fetch(api.url, { method: 'POST', headers, body });
    return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
  }

  const cases: Array<[string, () => string | Buffer, Record<string, string>, number, string]> = [
    ['malformed JSON', () => `{"query": "{ me { id } }", "variables": {"token": "${SECRET}"`, { 'content-type': 'application/json' }, 400, 'BAD_REQUEST'],
    ['a JSON string, not an object', () => JSON.stringify(SECRET), { 'content-type': 'application/json' }, 400, 'BAD_REQUEST'],
    ['a body over 2 MiB', () => JSON.stringify({ query: '{ me { id } }', variables: { token: SECRET, pad: 'x'.repeat(2 * 1024 * 1024) } }), { 'content-type': 'application/json' }, 413, 'PAYLOAD_TOO_LARGE'],
    ['text/plain', () => JSON.stringify({ query: `{ me { id } } # ${SECRET}` }), { 'content-type': 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['form-urlencoded', () => `query=${SECRET}`, { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['no content type', () => Buffer.from(JSON.stringify({ query: SECRET })), {}, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['JSON in another charset', () => JSON.stringify({ query: SECRET }), { 'content-type': 'application/json; charset=latin1' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a content encoding that is not one', () => JSON.stringify({ query: SECRET }), { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 400, 'BAD_REQUEST'],
  ];

  test.each(cases)('%s: a GraphQL-shaped JSON error with its status and code, nothing of the body anywhere', async (_name, body, headers, status, code) => {
    const before = logged.length + consoleLines.length;
    const res = await post(body(), headers);
    expect(res.status).toBe(status);
    expect(res.contentType).toMatch(/^application\/json/);
    const json = JSON.parse(res.text);
    expect(json).toEqual({ errors: [{ message: expect.any(String), extensions: { code } }] });
    for (const leak of [SECRET, 'node_modules', '/work', 'at ', 'Error:']) expect(res.text).not.toContain(leak);
    expect(logged.join('\n') + consoleLines.join('\n')).not.toContain(SECRET);
    expect(logged.length + consoleLines.length).toBe(before);
  });

  test('the 413 names the limit', async () => {
    const res = await post(JSON.stringify({ query: 'x'.repeat(3 * 1024 * 1024) }), { 'content-type': 'application/json' });
    expect(JSON.parse(res.text).errors[0].message).toContain('2097152 bytes');
  });

  test('GET /graphql still runs a query from the URL, and refuses a mutation', async () => {
    const get = (query: string) =>
      fetch(`${api.url}?query=${encodeURIComponent(query)}`, { headers: { authorization: `Bearer ${viewer}`, 'apollo-require-preflight': '1' } });
    const read = await get('{ me { email } }');
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual({ data: { me: { email: 'viewer@limits.test' } } });
    const write = await get('mutation { createProject(input: {name: "x"}) { id } }');
    expect(write.status).toBe(405);
    expect(((await write.json()) as GqlResult).errors![0].extensions!.code).toBe('BAD_REQUEST');
  });

  test('a bogus persisted-query hash is a coded client error, never INTERNAL_SERVER_ERROR', async () => {
    const send = (body: unknown) => post(JSON.stringify(body), { 'content-type': 'application/json' }).then((r) => ({ status: r.status, body: JSON.parse(r.text) }));
    const unknown = await send({ extensions: { persistedQuery: { version: 1, sha256Hash: 'deadbeef' } } });
    expect(unknown.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const mismatch = await send({ query: '{ me { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'deadbeef' } } });
    expect(mismatch).toEqual({ status: 400, body: { errors: [{ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } }] } });
    for (const persistedQuery of [{ version: 2, sha256Hash: 'deadbeef' }, 'bogus', { version: 1, sha256Hash: { not: 'a string' } }]) {
      const result = await send({ query: '{ me { id } }', extensions: { persistedQuery } });
      expect(result.status).toBe(400);
      expect(result.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    }
  });
});
