import { Webhook as Verifier } from 'standardwebhooks';
import { HttpMethod } from '../webhooks/triggers';
import { activeSigningSecrets, buildWebhookRequest, maskSecret, RequestWebhook, USER_AGENT } from './request-builder';
import { generateSigningSecret } from './signing';

const EVENT_ID = '23fd61a1-3423-4d8c-a53a-effb2d89e3ab';
const BODY = '{"event_id":"23fd61a1-3423-4d8c-a53a-effb2d89e3ab"}';

function webhook(overrides: Partial<RequestWebhook> = {}): RequestWebhook {
  return {
    method: HttpMethod.POST,
    url: 'https://example.com/hook',
    headers: [
      { name: 'X-Tenant', value: 'acme', secret: false },
      { name: 'Authorization', value: 'Bearer abcdefgh3gat', secret: true },
    ],
    signingSecret: generateSigningSecret(),
    previousSigningSecret: null,
    previousSecretExpiresAt: null,
    ...overrides,
  };
}

function headerMap(headers: { name: string; value: string }[]): Record<string, string> {
  return Object.fromEntries(headers.map((h) => [h.name.toLowerCase(), h.value]));
}

describe('maskSecret', () => {
  it('shows the last four characters of a value of 16 or more', () => {
    expect(maskSecret('Bearer abcdefgh3gat')).toBe('••••3gat');
    expect(maskSecret('0123456789abcdef')).toBe('••••cdef');
  });

  it('hides values shorter than 16 entirely: four characters would be more than a quarter', () => {
    expect(maskSecret('0123456789abcde')).toBe('••••••••');
    expect(maskSecret('123456789')).toBe('••••••••');
    expect(maskSecret('12345678')).toBe('••••••••');
    expect(maskSecret('abc')).toBe('••••••••');
    expect(maskSecret('')).toBe('••••••••');
  });
});

describe('activeSigningSecrets', () => {
  const now = new Date('2025-06-01T12:00:00Z');
  it('adds the previous secret only before it expires', () => {
    const base = { signingSecret: 'new', previousSigningSecret: 'old' };
    expect(activeSigningSecrets({ ...base, previousSecretExpiresAt: new Date(now.getTime() + 1) }, now)).toEqual(['new', 'old']);
    expect(activeSigningSecrets({ ...base, previousSecretExpiresAt: now }, now)).toEqual(['new']);
    expect(activeSigningSecrets({ ...base, previousSecretExpiresAt: null }, now)).toEqual(['new']);
    expect(activeSigningSecrets({ signingSecret: 'new', previousSigningSecret: null, previousSecretExpiresAt: new Date(now.getTime() + 1000) }, now)).toEqual(['new']);
  });
});

describe('buildWebhookRequest', () => {
  const now = new Date();
  const timestamp = Math.floor(now.getTime() / 1000);

  it('orders headers: own, user-agent, content-type, webhook-id, -timestamp, -signature', () => {
    const { request } = buildWebhookRequest(webhook(), { eventId: EVENT_ID, body: BODY }, timestamp, now);
    expect(request.headers.map((h) => h.name)).toEqual([
      'X-Tenant',
      'Authorization',
      'user-agent',
      'content-type',
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ]);
    expect(headerMap(request.headers)).toMatchObject({
      authorization: 'Bearer abcdefgh3gat',
      'user-agent': USER_AGENT,
      'content-type': 'application/json',
      'webhook-id': EVENT_ID,
      'webhook-timestamp': String(timestamp),
    });
    expect(request).toMatchObject({ method: 'POST', url: 'https://example.com/hook', body: BODY });
  });

  it('masks secret header values in the log copy only, and keeps the signature', () => {
    const { request, loggedHeaders } = buildWebhookRequest(webhook(), { eventId: EVENT_ID, body: BODY }, timestamp, now);
    expect(loggedHeaders.map((h) => h.name)).toEqual(request.headers.map((h) => h.name));
    const logged = headerMap(loggedHeaders);
    expect(logged.authorization).toBe('••••3gat');
    expect(logged['x-tenant']).toBe('acme');
    expect(logged['webhook-signature']).toBe(headerMap(request.headers)['webhook-signature']);
    expect(JSON.stringify(loggedHeaders)).not.toContain('abcdefgh');
  });

  it('signs so that the standardwebhooks package verifies the request', () => {
    const hook = webhook();
    const { request } = buildWebhookRequest(hook, { eventId: EVENT_ID, body: BODY }, timestamp, now);
    expect(() => new Verifier(hook.signingSecret).verify(BODY, headerMap(request.headers))).not.toThrow();
    expect(() => new Verifier(generateSigningSecret()).verify(BODY, headerMap(request.headers))).toThrow();
  });

  it('signs with both secrets during a rotation, and with the new one only after it', () => {
    const old = generateSigningSecret();
    const rotating = webhook({ previousSigningSecret: old, previousSecretExpiresAt: new Date(now.getTime() + 60_000) });
    const during = headerMap(buildWebhookRequest(rotating, { eventId: EVENT_ID, body: BODY }, timestamp, now).request.headers);
    expect(during['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Verifier(old).verify(BODY, during)).not.toThrow();
    expect(() => new Verifier(rotating.signingSecret).verify(BODY, during)).not.toThrow();

    const later = new Date(now.getTime() + 61_000);
    const after = headerMap(buildWebhookRequest(rotating, { eventId: EVENT_ID, body: BODY }, timestamp, later).request.headers);
    expect(after['webhook-signature'].split(' ')).toHaveLength(1);
    expect(() => new Verifier(old).verify(BODY, after)).toThrow();
  });

  it('drops own headers that would shadow ours or the framing', () => {
    const hook = webhook({
      headers: [
        { name: 'Webhook-Signature', value: 'v1,forged', secret: false },
        { name: 'Content-Length', value: '1', secret: false },
        { name: 'Host', value: 'evil', secret: false },
        { name: 'X-Ok', value: 'yes', secret: false },
      ],
    });
    const { request } = buildWebhookRequest(hook, { eventId: EVENT_ID, body: BODY }, timestamp, now);
    expect(request.headers.map((h) => h.name)).toEqual(['X-Ok', 'user-agent', 'content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature']);
  });

  it('leaves out, of the request and the log alike, a header stored before HTTP-safe values were checked', () => {
    const hook = webhook({
      headers: [
        { name: 'X-Control', value: 'a\x01b', secret: false },
        { name: 'X-Euro', value: '€5', secret: true },
        { name: 'X-Padded', value: ' v ', secret: false },
        { name: 'X Space', value: 'v', secret: false },
        { name: '__proto__', value: 'kept', secret: false },
      ],
    });
    const { request, loggedHeaders } = buildWebhookRequest(hook, { eventId: EVENT_ID, body: BODY }, timestamp, now);
    expect(request.headers.slice(0, 2)).toEqual([{ name: '__proto__', value: 'kept' }, { name: 'user-agent', value: USER_AGENT }]);
    expect(loggedHeaders.map((h) => h.name)).toEqual(request.headers.map((h) => h.name));
  });

  it('keeps the method, also for GET with a body', () => {
    const { request } = buildWebhookRequest(webhook({ method: HttpMethod.GET }), { eventId: EVENT_ID, body: BODY }, timestamp, now);
    expect(request.method).toBe('GET');
    expect(request.body).toBe(BODY);
  });
});

describe('buildWebhookRequest with a traceparent', () => {
  const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('comes last, after the signature, which it leaves alone; a webhook header of that name gives way', () => {
    const hook = webhook({ headers: [{ name: 'TraceParent', value: 'theirs', secret: false }, { name: 'tracestate', value: 'a=b', secret: false }, { name: 'X-Tenant', value: 'acme', secret: false }] });
    const at = new Date(1_700_000_000_000);
    const traced = buildWebhookRequest(hook, { eventId: EVENT_ID, body: BODY, traceparent: TRACEPARENT }, 1_700_000_000, at);
    const plain = buildWebhookRequest(hook, { eventId: EVENT_ID, body: BODY }, 1_700_000_000, at);
    expect(traced.request.headers.map((h) => h.name)).toEqual(['X-Tenant', 'user-agent', 'content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'traceparent']);
    expect(traced.request.headers.at(-1)).toEqual({ name: 'traceparent', value: TRACEPARENT });
    expect(traced.loggedHeaders).toEqual(traced.request.headers);
    expect(headerMap(traced.request.headers)['webhook-signature']).toBe(headerMap(plain.request.headers)['webhook-signature']);
    // Without ours, the webhook's own headers of those names are sent as stored.
    expect(headerMap(plain.request.headers)).toMatchObject({ traceparent: 'theirs', tracestate: 'a=b' });
  });
});
