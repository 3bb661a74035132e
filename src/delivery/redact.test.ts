import { maskSecret } from '../common/mask';
import { maskEchoedSecrets, maskEchoedSecretsInHeaders } from './redact';

describe('maskSecret', () => {
  test('never shows more than a quarter of a secret, and nothing of one shorter than 16', () => {
    expect(maskSecret('sk_live_9f8e7d6c5b4a3gat')).toBe('••••3gat');
    expect(maskSecret('0123456789abcdef')).toBe('••••cdef');
    for (const short of ['', 'abc', '12345678', '123456789', '0123456789abcde']) expect(maskSecret(short)).toBe('••••••••');
    for (let length = 0; length <= 64; length++) {
      const secret = 'x'.repeat(length);
      const shown = maskSecret(secret).replace(/•/g, '').length;
      expect(shown).toBeLessThanOrEqual(length / 4);
    }
  });
});

describe('maskEchoedSecrets', () => {
  const LONG = 'sk_live_9f8e7d6c5b4a3gat';
  const SHORT = 'pin-1234';

  test('masks every occurrence, raw and JSON-escaped', () => {
    const quoted = 'tok"en\\with-quotes-and-backslash';
    const echo = JSON.stringify({ headers: { 'X-Key': LONG, 'X-Pin': SHORT, 'X-Quoted': quoted }, again: `${LONG}${LONG}` });
    const masked = maskEchoedSecrets(echo, [LONG, SHORT, quoted]);
    expect(masked).not.toContain(LONG.slice(0, 20));
    expect(masked).not.toContain(SHORT);
    expect(masked).not.toContain('with-quotes');
    expect(JSON.parse(masked)).toEqual({
      headers: { 'X-Key': '••••3gat', 'X-Pin': '••••••••', 'X-Quoted': maskSecret(quoted) },
      again: '••••3gat••••3gat',
    });
  });

  test('masks a secret containing another one whole', () => {
    expect(maskEchoedSecrets(`a ${LONG} b`, [LONG.slice(0, 8), LONG])).toBe('a ••••3gat b');
  });

  test('leaves text without secrets as it is, and ignores an empty secret', () => {
    expect(maskEchoedSecrets('nothing to see', [LONG, ''])).toBe('nothing to see');
  });

  test('masks a secret cut short at the end of a capped body, only when the body may have been cut', () => {
    const cut = `body ${LONG.slice(0, 11)}`;
    expect(maskEchoedSecrets(cut, [LONG], true)).toBe('body ••••3gat');
    expect(maskEchoedSecrets(cut, [LONG], false)).toBe(cut);
  });

  test('masks names and values of response headers', () => {
    expect(maskEchoedSecretsInHeaders([{ name: 'x-echo', value: `Bearer ${LONG}` }, { name: SHORT, value: 'v' }], [LONG, SHORT])).toEqual([
      { name: 'x-echo', value: 'Bearer ••••3gat' },
      { name: '••••••••', value: 'v' },
    ]);
  });
});
