import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpSender, RESPONSE_BODY_LIMIT, buildRequestHeaders, type OutgoingRequest } from './http-sender';

// Every receiver here listens on 127.0.0.1: no test sends traffic anywhere else.

type Received = { method: string; url: string; rawHeaders: string[]; body: string };

const received: Received[] = [];
const held: http.ServerResponse[] = [];
let connections = 0;
let base = '';
let port = 0;
let refusedPort = 0;

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push({ method: req.method!, url: req.url!, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks).toString() });
    route(req.url!, res);
  });
});
server.on('connection', () => connections++);

function route(path: string, res: http.ServerResponse) {
  switch (path) {
    case '/ok':
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Receiver': 'yes' }).end('thanks');
      return;
    case '/fail':
      res.writeHead(503, { 'Retry-After': '120' }).end('busy');
      return;
    case '/redirect':
      res.writeHead(302, { Location: 'http://127.0.0.1:1/elsewhere' }).end();
      return;
    case '/slow':
      held.push(res); // answered only in afterAll
      return;
    case '/stall-body':
      res.writeHead(200).write('partial');
      held.push(res);
      return;
    case '/reset':
      res.socket?.destroy();
      return;
    case '/big':
      res.writeHead(200).end(Buffer.alloc(1024 * 1024, 'a'));
      return;
    case '/endless': {
      // Writes for as long as the client keeps reading: only the sender's cap ends this.
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 'b');
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
      };
      res.on('drain', pump);
      pump();
      return;
    }
    default:
      res.writeHead(200).end();
  }
}

function listen(s: http.Server) {
  return new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

function close(s: http.Server) {
  return new Promise<void>((resolve) => s.close(() => resolve()));
}

const timeoutMs = 400;
const sender = createHttpSender({ timeoutMs, allowedCidrs: ['127.0.0.0/8', '::1/128'], userAgent: 'cms-webhooks-test/1' });
const guarded = createHttpSender({ timeoutMs, allowedCidrs: [], userAgent: 'cms-webhooks-test/1' });

beforeAll(async () => {
  port = await listen(server);
  base = `http://127.0.0.1:${port}`;
  const gone = http.createServer();
  refusedPort = await listen(gone);
  await close(gone);
});

afterAll(async () => {
  sender.close();
  guarded.close();
  for (const res of held) res.end();
  server.closeAllConnections();
  await close(server);
});

const post = (path: string, extra: Partial<OutgoingRequest> = {}): OutgoingRequest => ({
  method: 'POST',
  url: `${base}${path}`,
  headers: [],
  body: '{"event_id":"evt_1"}',
  ...extra,
});

describe('createHttpSender', () => {
  it('succeeds on 2xx and records the answer', async () => {
    const result = await sender.send(post('/ok'));
    expect(result).toMatchObject({ success: true, statusCode: 200, responseBody: 'thanks', error: null, errorCode: null });
    expect(result.responseHeaders).toContainEqual({ name: 'X-Receiver', value: 'yes' });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.retryAfterMs).toBeUndefined();
  });

  it('fails on 5xx and reads Retry-After', async () => {
    const result = await sender.send(post('/fail'));
    expect(result).toMatchObject({
      success: false,
      statusCode: 503,
      responseBody: 'busy',
      error: 'receiver answered 503',
      errorCode: 'status',
      retryAfterMs: 120_000,
    });
  });

  it('does not follow a redirect', async () => {
    const before = received.length;
    const result = await sender.send(post('/redirect'));
    expect(result).toMatchObject({
      success: false,
      statusCode: 302,
      errorCode: 'redirect',
      error: 'redirect not followed: 302 to http://127.0.0.1:1/elsewhere',
    });
    expect(received.length).toBe(before + 1);
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    const result = await sender.send(post('/slow'));
    expect(result).toMatchObject({ success: false, statusCode: null, errorCode: 'timeout', responseBody: null });
    expect(result.error).toBe(`timed out after ${timeoutMs} ms (WEBHOOK_TIMEOUT_MS)`);
    expect(result.durationMs).toBeGreaterThanOrEqual(timeoutMs - 5);
    expect(result.durationMs).toBeLessThan(timeoutMs + 1500);
  });

  it('counts a 2xx whose body never finishes as delivered, noting the cut', async () => {
    const result = await sender.send(post('/stall-body'));
    expect(result).toMatchObject({ success: true, statusCode: 200, responseBody: 'partial', errorCode: null });
    expect(result.error).toMatch(/^response body incomplete: timed out/);
  });

  it('reports a refused connection', async () => {
    const result = await sender.send(post('/', { url: `http://127.0.0.1:${refusedPort}/` }));
    expect(result).toMatchObject({ success: false, statusCode: null, errorCode: 'refused' });
    expect(result.error).toMatch(/^connection refused: .*ECONNREFUSED/);
  });

  it('reports a connection the receiver drops', async () => {
    const result = await sender.send(post('/reset'));
    expect(result).toMatchObject({ success: false, statusCode: null, errorCode: 'reset' });
    expect(result.error).toMatch(/^connection reset: /);
  });

  it('caps a large response body at 64 KiB', async () => {
    const result = await sender.send(post('/big'));
    expect(result.success).toBe(true);
    expect(result.responseBody).toHaveLength(RESPONSE_BODY_LIMIT);
  });

  it('stops reading an endless response at the cap instead of waiting for its end', async () => {
    const result = await sender.send(post('/endless'));
    expect(result).toMatchObject({ success: true, statusCode: 200, error: null });
    expect(result.responseBody).toBe('b'.repeat(RESPONSE_BODY_LIMIT));
  });

  it('sends the body with GET too', async () => {
    const body = '{"event_id":"evt_get"}';
    await sender.send(post('/echo-get', { method: 'GET', body }));
    const got = received.find((r) => r.url === '/echo-get')!;
    expect(got.method).toBe('GET');
    expect(got.body).toBe(body);
  });

  it.each(['PUT', 'PATCH', 'DELETE'] as const)('sends %s with its body', async (method) => {
    const result = await sender.send(post(`/echo-${method}`, { method }));
    expect(result.success).toBe(true);
    expect(received.find((r) => r.url === `/echo-${method}`)).toMatchObject({ method, body: '{"event_id":"evt_1"}' });
  });

  it('sends the headers as given, in order and spelling, with user-agent before the webhook-* ones', async () => {
    const headers = [
      { name: 'X-Tenant', value: 'acme' },
      { name: 'Authorization', value: 'Bearer s3cret' },
      { name: 'webhook-id', value: 'evt_1' },
      { name: 'webhook-timestamp', value: '1700000000' },
      { name: 'webhook-signature', value: 'v1,abc' },
    ];
    const result = await sender.send(post('/echo-headers', { headers }));
    const names = [
      'X-Tenant',
      'Authorization',
      'user-agent',
      'content-type',
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ];
    expect(result.requestHeaders.map((h) => h.name)).toEqual(names);

    const raw = received.find((r) => r.url === '/echo-headers')!.rawHeaders;
    const wire: Array<[string, string]> = [];
    for (let i = 0; i < raw.length; i += 2) wire.push([raw[i], raw[i + 1]]);
    expect(wire.filter(([name]) => names.includes(name))).toEqual([
      ['X-Tenant', 'acme'],
      ['Authorization', 'Bearer s3cret'],
      ['user-agent', 'cms-webhooks-test/1'],
      ['content-type', 'application/json'],
      ['webhook-id', 'evt_1'],
      ['webhook-timestamp', '1700000000'],
      ['webhook-signature', 'v1,abc'],
    ]);
  });

  it('sends names an object would lose or mangle, repeats and spelling exactly as given, Host first', async () => {
    const headers = [
      { name: '__proto__', value: 'p' },
      { name: 'constructor', value: 'c' },
      { name: 'toString', value: 't' },
      { name: '123', value: 'digits' },
      { name: 'X-Dup', value: 'one' },
      { name: 'x-dup', value: 'two' },
    ];
    const result = await sender.send(post('/exact', { headers }));
    expect(result.success).toBe(true);
    const raw = received.find((r) => r.url === '/exact')!.rawHeaders;
    const wire: Array<[string, string]> = [];
    for (let i = 0; i < raw.length; i += 2) wire.push([raw[i], raw[i + 1]]);
    expect(wire[0]).toEqual(['host', `127.0.0.1:${port}`]);
    expect(wire.slice(1, 1 + result.requestHeaders.length)).toEqual(result.requestHeaders.map((h) => [h.name, h.value]));
    expect(wire.slice(1, 7)).toEqual(headers.map((h) => [h.name, h.value]));
    // After the given ones, only what got and Node add for the transport.
    expect(wire.slice(1 + result.requestHeaders.length).map(([name]) => name.toLowerCase()).sort()).toEqual(['accept-encoding', 'connection', 'content-length']);
  });

  it('keeps a content-type or user-agent the webhook set itself', async () => {
    const headers = [
      { name: 'Content-Type', value: 'application/cloudevents+json' },
      { name: 'User-Agent', value: 'mine' },
    ];
    await sender.send(post('/echo-own', { headers }));
    const raw = received.find((r) => r.url === '/echo-own')!.rawHeaders;
    expect(raw).toEqual(expect.arrayContaining(['Content-Type', 'application/cloudevents+json', 'User-Agent', 'mine']));
    expect(raw.filter((v) => v.toLowerCase() === 'user-agent')).toHaveLength(1);
  });

  it('refuses a malformed or non-http URL without sending', async () => {
    expect(await sender.send(post('', { url: 'not a url' }))).toMatchObject({ errorCode: 'other', statusCode: null });
    expect(await sender.send(post('', { url: 'file:///etc/passwd' }))).toMatchObject({ errorCode: 'other' });
  });

  it('reaches localhost through the guarded lookup when loopback is allowed', async () => {
    const result = await sender.send(post('/ok', { url: `http://localhost:${port}/ok` }));
    expect(result).toMatchObject({ success: true, statusCode: 200 });
  });
});

describe('createHttpSender without an allow-list', () => {
  it.each([
    ['a literal loopback IP', () => `http://127.0.0.1:${port}/blocked`, /^destination 127\.0\.0\.1 is a loopback address/],
    ['a bracketed IPv6 loopback', () => `http://[::1]:${port}/blocked`, /^destination ::1 is a loopback address/],
    ['an IPv4-mapped loopback', () => `http://[::ffff:127.0.0.1]:${port}/blocked`, /embeds 127\.0\.0\.1/],
    ['a name resolving to loopback', () => `http://localhost:${port}/blocked`, /loopback.*\(localhost resolved to /],
  ])('refuses %s before connecting', async (_what, url, reason) => {
    const before = { requests: received.length, connections };
    const result = await guarded.send(post('', { url: url() }));
    expect(result).toMatchObject({ success: false, statusCode: null, errorCode: 'blocked', responseBody: null });
    expect(result.error).toMatch(reason);
    expect(result.error).toContain('WEBHOOK_ALLOWED_CIDRS');
    expect({ requests: received.length, connections }).toEqual(before);
  });
});

describe('buildRequestHeaders', () => {
  it('appends when there is no webhook-* header', () => {
    expect(buildRequestHeaders([{ name: 'a', value: '1' }], 'ua')).toEqual([
      { name: 'a', value: '1' },
      { name: 'user-agent', value: 'ua' },
      { name: 'content-type', value: 'application/json' },
    ]);
  });
});
