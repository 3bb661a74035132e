import { captureLog } from '../../test/support/log';
import { maskSecretsIn, printOnce, resolveLogFormat, saneRequestId } from './logger';

const TOKEN = 'cms_q0VmJ3x8Yp2LwT9sKd4Rb7NcZf1Ha6Ue5Gi0Oj3Ml8';
const SIGNING = 'whsec_MfKQ9r8GKYqXC0a1b2c3d4e5f6g7h8i9j0k1l2m3';

describe('maskSecretsIn', () => {
  test.each([
    [`token ${TOKEN} used`, 'token cms_••••3Ml8 used'],
    [`"${SIGNING}"`, '"whsec_••••l2m3"'],
    ['postgres://cms:Pa55w0rd@db.internal:5432/cms', 'postgres://cms:****@db.internal:5432/cms'],
    ['nothing to hide_here', 'nothing to hide_here'],
    ['cms_short', 'cms_short'],
  ])('%s', (input, expected) => {
    expect(maskSecretsIn(input)).toBe(expected);
  });
});

test('secret-named fields are redacted and token-shaped strings masked, in fields, messages and errors', () => {
  const { raw, records, log } = captureLog();
  log.info({ authorization: `Bearer ${TOKEN}`, headers: { authorization: 'x' }, webhook: { signingSecret: 'anything' }, note: `see ${SIGNING}` }, `message with ${TOKEN}`);
  log.error({ err: new Error(`connect to postgres://u:Pa55w0rd@h/db failed with ${TOKEN}`) }, 'failed');
  log.child({ requestId: TOKEN }).warn('child');
  const whole = raw.join('');
  for (const secret of [TOKEN, SIGNING, 'Pa55w0rd', 'anything']) expect(whole).not.toContain(secret);
  expect(records[0]).toMatchObject({ authorization: '[redacted]', headers: { authorization: '[redacted]' }, webhook: { signingSecret: '[redacted]' }, note: 'see whsec_••••l2m3', msg: 'message with cms_••••3Ml8' });
  expect(records[1]).toMatchObject({ level: 'error', err: { type: 'Error', message: 'connect to postgres://u:****@h/db failed with cms_••••3Ml8' } });
  expect(records[2]).toMatchObject({ requestId: 'cms_••••3Ml8' });
});

test('a driver error is logged by name, message, code and stack: never the statement\'s parameters', () => {
  const { raw, records, log } = captureLog();
  const error = Object.assign(new Error('insert or update on table "webhook_call" violates foreign key constraint'), {
    name: 'QueryFailedError',
    query: 'INSERT INTO webhook_call …',
    parameters: ['hdr-secret-value-1234567890', '{"big":"body"}'],
    driverError: { code: '23503', detail: 'Key (webhook_id)=(x) is not present' },
  });
  log.error({ err: error }, 'could not record');
  expect(records[0].err).toEqual({ type: 'QueryFailedError', message: error.message, stack: expect.any(String), code: '23503' });
  expect(raw.join('')).not.toContain('hdr-secret-value');
});

test('printOnce is the one way a credential reaches a line: its own message, marked, at warn', () => {
  const { raw, records, log } = captureLog('warn');
  printOnce(log, `its API token (shown only now): ${TOKEN}`);
  log.warn(`again ${TOKEN}`);
  expect(records[0]).toMatchObject({ level: 'warn', credential: true, msg: `its API token (shown only now): ${TOKEN}` });
  expect(raw.filter((line) => line.includes(TOKEN))).toHaveLength(1);
});

test('request ids: printable, short, no spaces; anything else is replaced', () => {
  expect(saneRequestId('lb-7f3a.42')).toBe('lb-7f3a.42');
  expect(saneRequestId('0af7651916cd43dd8448eb211c80319c')).toBe('0af7651916cd43dd8448eb211c80319c');
  expect(saneRequestId('a b')).toBeUndefined();
  expect(saneRequestId('x'.repeat(129))).toBeUndefined();
  expect(saneRequestId('line\nbreak')).toBeUndefined();
  expect(saneRequestId(['a', 'b'])).toBeUndefined();
  expect(saneRequestId(undefined)).toBeUndefined();
});

test('LOG_FORMAT unset: pretty in a terminal, JSON in a pipe; set, as set', () => {
  expect(resolveLogFormat(undefined, true)).toBe('pretty');
  expect(resolveLogFormat(undefined, false)).toBe('json');
  expect(resolveLogFormat('json', true)).toBe('json');
  expect(resolveLogFormat('pretty', false)).toBe('pretty');
});
