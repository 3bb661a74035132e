import { Webhook } from 'standardwebhooks';
import { generateSigningSecret, sign, signatureHeader } from './signing';

const body = JSON.stringify({ event_id: 'evt_1', metadata: { title: 'Ünïcødé ✓' }, scope: 'project', webhook: {} });
const now = () => Math.floor(Date.now() / 1000);

function headers(msgId: string, ts: number, signature: string) {
  return { 'webhook-id': msgId, 'webhook-timestamp': String(ts), 'webhook-signature': signature };
}

describe('generateSigningSecret', () => {
  it('is whsec_ and 32 random bytes in base64', () => {
    const secret = generateSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(generateSigningSecret()).not.toBe(secret);
  });
});

describe('sign', () => {
  it('matches the Standard Webhooks reference implementation', () => {
    const secret = generateSigningSecret();
    const ts = now();
    expect(sign(secret, 'msg_1', ts, body)).toBe(new Webhook(secret).sign('msg_1', new Date(ts * 1000), body));
  });

  it('is verified by the standardwebhooks package', () => {
    const secret = generateSigningSecret();
    const ts = now();
    const signature = sign(secret, 'evt_42', ts, body);
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers('evt_42', ts, signature))).toEqual(JSON.parse(body));
  });

  it('fails verification when the body, id or secret differ', () => {
    const secret = generateSigningSecret();
    const ts = now();
    const signature = sign(secret, 'evt_42', ts, body);
    const webhook = new Webhook(secret);
    expect(() => webhook.verify(body + ' ', headers('evt_42', ts, signature))).toThrow();
    expect(() => webhook.verify(body, headers('evt_43', ts, signature))).toThrow();
    expect(() => new Webhook(generateSigningSecret()).verify(body, headers('evt_42', ts, signature))).toThrow();
  });

  it('has a known value for a fixed key (computed independently with Python hmac)', () => {
    const secret = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
    expect(sign(secret, 'id', 1700000000, '{}')).toBe('v1,VeGPD7eGjNetKqv8x5rCgPoEstaAbpbYN4ov482/uZQ=');
  });

  it('refuses fractional timestamps and garbage secrets', () => {
    expect(() => sign(generateSigningSecret(), 'id', 1.5, body)).toThrow(/whole Unix seconds/);
    expect(() => sign('whsec_', 'id', 1, body)).toThrow(/base64/);
  });
});

describe('signatureHeader', () => {
  it('carries one signature per secret, each verifiable alone', () => {
    const oldSecret = generateSigningSecret();
    const newSecret = generateSigningSecret();
    const ts = now();
    const header = signatureHeader([newSecret, oldSecret], 'evt_7', ts, body);
    expect(header.split(' ')).toEqual([sign(newSecret, 'evt_7', ts, body), sign(oldSecret, 'evt_7', ts, body)]);
    expect(new Webhook(oldSecret).verify(body, headers('evt_7', ts, header))).toEqual(JSON.parse(body));
    expect(new Webhook(newSecret).verify(body, headers('evt_7', ts, header))).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateSigningSecret()).verify(body, headers('evt_7', ts, header))).toThrow();
  });

  it('needs a secret', () => {
    expect(() => signatureHeader([], 'id', now(), body)).toThrow();
  });
});
