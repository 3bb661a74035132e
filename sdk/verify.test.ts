import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { WebhookTrigger } from './types';
import {
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
  type WebhookPayload,
  type WebhookTriggerName,
  type WebhookVerificationFailure,
} from './verify';

// standardwebhooks reads the clock itself, so every timestamp here is relative to the real
// now, and never within a few seconds of the 300 s tolerance edge.
const nowSeconds = () => Math.floor(Date.now() / 1000);

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const otherSecret = `whsec_${randomBytes(24).toString('base64')}`;
const msgId = '23fd61a1-3423-4d8c-a53a-effb2d89e3ab';

// The contract's sample-payload.json.
const payload: WebhookPayload = {
  event_id: '23fd61a1-3423-4d8c-a53a-effb2d89e3ab',
  metadata: { blueprint_id: '', document_id: 'de0a74d8-e472-4dd1-909c-d233f14f4da5', document_status_id: 2 },
  scope: { project_id: '713bef0a-25f7-4d68-a4ec-23b8f5926459' },
  webhook: { trigger: 'document_update', webhook_id: 'b5ee7588-6874-461d-9e30-f6e0e1391d63' },
};
const body = JSON.stringify(payload);

function headersFor(id: string, timestamp: number | string, signature: string): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
}

function theirSign(key: string, id: string, seconds: number, text: string): string {
  return new Webhook(key).sign(id, new Date(seconds * 1000), text);
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

function attempt(fn: () => unknown): Outcome {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

function reasonOf(outcome: Outcome): WebhookVerificationFailure | 'accepted' | 'other error' {
  if (outcome.ok) return 'accepted';
  return outcome.error instanceof WebhookVerificationError ? outcome.error.reason : 'other error';
}

describe('verifyWebhook against standardwebhooks', () => {
  it('accepts what standardwebhooks signs', () => {
    const ts = nowSeconds();
    const signature = new Webhook(secret).sign(msgId, new Date(), body);
    expect(verifyWebhook(secret, headersFor(msgId, ts, signature), body)).toEqual(payload);
    expect(verifyWebhook(secret, headersFor(msgId, ts, signature), Buffer.from(body))).toEqual(payload);
  });

  it('produces what standardwebhooks accepts', () => {
    const ts = nowSeconds();
    const ours = signWebhook(secret, msgId, ts, body);
    expect(new Webhook(secret).verify(body, headersFor(msgId, ts, ours))).toEqual(payload);
    expect(signWebhook(secret, msgId, new Date(ts * 1000 + 999), body)).toBe(ours);
  });

  it.each([
    ['ascii JSON', body],
    ['non-ASCII text', JSON.stringify({ ...payload, metadata: { ...payload.metadata, changed_fields: ['tïtle', '名前', '🙂'] } })],
    ['an empty body', ''],
    ['a Buffer', Buffer.from('{"a":"ü"}')],
  ])('signs %s byte for byte like standardwebhooks', (_name, text) => {
    for (const key of [secret, secret.slice('whsec_'.length)]) {
      expect(signWebhook(key, msgId, 1_700_000_000, text)).toBe(
        new Webhook(key).sign(msgId, new Date(1_700_000_000_000), text),
      );
    }
  });

  interface Case {
    name: string;
    expected: WebhookVerificationFailure | 'accepted';
    build(ts: number, sig: (key: string, id: string, seconds: number, text: string) => string): {
      verifyWith?: string;
      headers: Record<string, string>;
      body?: string;
    };
  }

  const cases: Case[] = [
    { name: 'a genuine request', expected: 'accepted', build: (ts, sig) => ({ headers: headersFor(msgId, ts, sig(secret, msgId, ts, body)) }) },
    {
      name: 'header names in any case',
      expected: 'accepted',
      build: (ts, sig) => ({
        headers: { 'Webhook-Id': msgId, 'WEBHOOK-TIMESTAMP': String(ts), 'webhook-Signature': sig(secret, msgId, ts, body) },
      }),
    },
    {
      name: 'a changed body',
      expected: 'no_matching_signature',
      build: (ts, sig) => ({ headers: headersFor(msgId, ts, sig(secret, msgId, ts, body)), body: body.replace('"document_status_id":2', '"document_status_id":3') }),
    },
    {
      name: 'a changed id',
      expected: 'no_matching_signature',
      build: (ts, sig) => ({ headers: headersFor('another-id', ts, sig(secret, msgId, ts, body)) }),
    },
    {
      name: 'a changed timestamp',
      expected: 'no_matching_signature',
      build: (ts, sig) => ({ headers: headersFor(msgId, ts - 1, sig(secret, msgId, ts, body)) }),
    },
    {
      name: 'the wrong secret',
      expected: 'no_matching_signature',
      build: (ts, sig) => ({ headers: headersFor(msgId, ts, sig(secret, msgId, ts, body)), verifyWith: otherSecret }),
    },
    ...(['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const).map(
      (missing): Case => ({
        name: `no ${missing} header`,
        expected: 'missing_headers',
        build: (ts, sig) => {
          const headers = headersFor(msgId, ts, sig(secret, msgId, ts, body));
          delete headers[missing];
          return { headers };
        },
      }),
    ),
    { name: 'an empty signature header', expected: 'missing_headers', build: (ts) => ({ headers: headersFor(msgId, ts, '') }) },
    {
      name: 'a non-numeric timestamp',
      expected: 'invalid_timestamp',
      build: (ts, sig) => ({ headers: headersFor(msgId, 'yesterday', sig(secret, msgId, ts, body)) }),
    },
    {
      name: 'a timestamp 6 minutes old',
      expected: 'timestamp_too_old',
      build: (ts, sig) => ({ headers: headersFor(msgId, ts - 360, sig(secret, msgId, ts - 360, body)) }),
    },
    {
      name: 'a timestamp 6 minutes in the future',
      expected: 'timestamp_too_new',
      build: (ts, sig) => ({ headers: headersFor(msgId, ts + 360, sig(secret, msgId, ts + 360, body)) }),
    },
    {
      name: 'a timestamp 4 minutes old',
      expected: 'accepted',
      build: (ts, sig) => ({ headers: headersFor(msgId, ts - 240, sig(secret, msgId, ts - 240, body)) }),
    },
    {
      name: 'a timestamp 4 minutes in the future',
      expected: 'accepted',
      build: (ts, sig) => ({ headers: headersFor(msgId, ts + 240, sig(secret, msgId, ts + 240, body)) }),
    },
    {
      name: 'trailing junk after the timestamp (both read it with parseInt)',
      expected: 'accepted',
      build: (ts, sig) => ({ headers: headersFor(msgId, `${ts}abc`, sig(secret, msgId, ts, body)) }),
    },
    {
      name: 'several signatures, one of them valid',
      expected: 'accepted',
      build: (ts, sig) => ({
        headers: headersFor(msgId, ts, `v1,${randomBytes(32).toString('base64')} ${sig(secret, msgId, ts, body)} v1,bm90IGl0`),
      }),
    },
    {
      name: 'several signatures, none valid',
      expected: 'no_matching_signature',
      build: (ts, sig) => ({ headers: headersFor(msgId, ts, `${sig(otherSecret, msgId, ts, body)} v1,bm90IGl0`) }),
    },
    {
      name: 'v2 and v1a entries beside a valid v1 entry',
      expected: 'accepted',
      build: (ts, sig) => ({ headers: headersFor(msgId, ts, `v2,xyz v1a,abc ${sig(secret, msgId, ts, body)}`) }),
    },
    {
      name: 'a valid signature under version v2 only',
      expected: 'no_matching_signature',
      build: (ts, sig) => ({ headers: headersFor(msgId, ts, sig(secret, msgId, ts, body).replace(/^v1,/, 'v2,')) }),
    },
    {
      name: 'a signature without its version',
      expected: 'no_matching_signature',
      build: (ts, sig) => ({ headers: headersFor(msgId, ts, sig(secret, msgId, ts, body).slice(3)) }),
    },
    {
      name: 'a truncated signature',
      expected: 'no_matching_signature',
      build: (ts, sig) => ({ headers: headersFor(msgId, ts, sig(secret, msgId, ts, body).slice(0, -2)) }),
    },
    {
      name: 'a signed body that is not JSON',
      expected: 'invalid_body',
      build: (ts, sig) => ({ headers: headersFor(msgId, ts, sig(secret, msgId, ts, 'not json')), body: 'not json' }),
    },
  ];

  describe.each([
    ['standardwebhooks', theirSign],
    ['signWebhook', signWebhook],
  ])('signed with %s', (_signer, sig) => {
    it.each(cases.map((c) => [c.name, c] as const))('%s: both verifiers agree', (_name, c) => {
      const ts = nowSeconds();
      const built = c.build(ts, sig);
      const text = built.body ?? body;
      const key = built.verifyWith ?? secret;

      const theirs = attempt(() => new Webhook(key).verify(text, built.headers));
      const ours = attempt(() => verifyWebhook(key, built.headers, text));

      expect(reasonOf(ours)).toBe(c.expected);
      expect(theirs.ok).toBe(ours.ok);
      if (ours.ok && theirs.ok) expect(ours.value).toEqual(theirs.value);
    });
  });

  it.each([
    ['with the whsec_ prefix', `whsec_${Buffer.alloc(24, 7).toString('base64')}`],
    ['as bare base64', Buffer.alloc(32, 9).toString('base64')],
    ['with one padding character', 'whsec_AAAAAAA='],
    ['with two padding characters', 'AA=='],
    ['with a length not a multiple of 4', 'whsec_abcdef'],
    ['empty', 'whsec_'],
    ['too short', 'abc'],
    ['in the URL-safe alphabet', 'whsec_ab-_cd'],
    ['with whitespace', 'whsec_abcd efgh'],
    ['with three padding characters', 'whsec_A==='],
  ])('takes or refuses a secret %s exactly as standardwebhooks does', (_name, key) => {
    const theirs = attempt(() => theirSign(key, msgId, 1_700_000_000, body));
    const ours = attempt(() => signWebhook(key, msgId, 1_700_000_000, body));
    expect(ours.ok).toBe(theirs.ok);
    if (ours.ok && theirs.ok) expect(ours.value).toBe(theirs.value);
    if (!ours.ok) {
      expect(ours.error).toBeInstanceOf(TypeError);
      const encoded = key.replace('whsec_', '');
      if (encoded) expect(String(ours.error)).not.toContain(encoded);
    }
  });
});

describe('verifyWebhook', () => {
  const fixed = 1_600_000_000;
  const signed = (ts: number) => headersFor(msgId, ts, signWebhook(secret, msgId, ts, body));

  it('checks the timestamp against options.now and options.toleranceSeconds', () => {
    const at = (seconds: number) => new Date(seconds * 1000);
    expect(verifyWebhook(secret, signed(fixed), body, { now: at(fixed + 300) })).toEqual(payload);
    expect(verifyWebhook(secret, signed(fixed), body, { now: at(fixed - 300) })).toEqual(payload);
    expect(reasonOf(attempt(() => verifyWebhook(secret, signed(fixed), body, { now: at(fixed + 301) })))).toBe('timestamp_too_old');
    expect(reasonOf(attempt(() => verifyWebhook(secret, signed(fixed), body, { now: at(fixed - 301) })))).toBe('timestamp_too_new');
    expect(verifyWebhook(secret, signed(fixed), body, { now: at(fixed + 10), toleranceSeconds: 10 })).toEqual(payload);
    expect(
      reasonOf(attempt(() => verifyWebhook(secret, signed(fixed), body, { now: at(fixed + 11), toleranceSeconds: 10 }))),
    ).toBe('timestamp_too_old');
  });

  it('rejects options that would switch the timestamp check off', () => {
    expect(() => verifyWebhook(secret, signed(fixed), body, { now: new Date('nope') })).toThrow(TypeError);
    expect(() => verifyWebhook(secret, signed(fixed), body, { now: new Date(fixed * 1000), toleranceSeconds: NaN })).toThrow(
      TypeError,
    );
  });

  it('reads fetch Headers, Node-style arrays and mixed-case keys', () => {
    const ts = nowSeconds();
    const sig = signWebhook(secret, msgId, ts, body);
    const fetchHeaders = new Headers({ 'Webhook-Id': msgId, 'Webhook-Timestamp': String(ts), 'Webhook-Signature': sig });
    expect(verifyWebhook(secret, fetchHeaders, body)).toEqual(payload);
    const repeated = { 'webhook-id': msgId, 'webhook-timestamp': [String(ts)], 'webhook-signature': ['v1,bm90IGl0', sig] };
    expect(verifyWebhook(secret, repeated, body)).toEqual(payload);
    expect(reasonOf(attempt(() => verifyWebhook(secret, { 'webhook-id': msgId, 'webhook-timestamp': undefined }, body)))).toBe(
      'missing_headers',
    );
  });

  it.each([
    ['an empty body (standardwebhooks returns undefined; a payload is always an object)', ''],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['an object without the payload keys', '{"hello":"world"}'],
  ])('rejects %s as invalid_body', (_name, text) => {
    const ts = nowSeconds();
    const headers = headersFor(msgId, ts, signWebhook(secret, msgId, ts, text));
    expect(reasonOf(attempt(() => verifyWebhook(secret, headers, text)))).toBe('invalid_body');
  });

  it('never puts the secret in an error', () => {
    const ts = nowSeconds();
    const attempts = [
      () => verifyWebhook(secret, headersFor(msgId, ts, 'v1,AAAA'), body),
      () => verifyWebhook(secret, {}, body),
      () => verifyWebhook(secret, signed(fixed), body),
      () => verifyWebhook(`whsec_${secret}!`, signed(fixed), body),
    ];
    for (const run of attempts) {
      const outcome = attempt(run);
      expect(outcome.ok).toBe(false);
      if (outcome.ok) continue;
      const error = outcome.error as Error;
      for (const text of [error.message, String(error), error.stack ?? '', JSON.stringify(error)]) {
        expect(text).not.toContain(secret.slice('whsec_'.length));
      }
    }
  });

  it('throws a WebhookVerificationError that is an Error with a reason', () => {
    const outcome = attempt(() => verifyWebhook(secret, {}, body));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error).toBeInstanceOf(Error);
    expect(outcome.error).toBeInstanceOf(WebhookVerificationError);
    expect(outcome.error).toMatchObject({ name: 'WebhookVerificationError', reason: 'missing_headers' });
  });

  it('names the same nine triggers as the API, in lower case', () => {
    type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
    const same: Same<WebhookTriggerName, Lowercase<WebhookTrigger>> = true;
    expect(same).toBe(true);
  });
});
