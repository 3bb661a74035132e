import type { DataSource } from 'typeorm';
import type { CallRow } from './queue';
import { UnrecordedAttempts } from './unrecorded';
import { DeliveryStatus } from './delivery.entity';
import { silentLogger } from '../observability/logger';
import { captureLog } from '../../test/support/log';

/**
 * The bounds and the give-up path. Whether kept attempts reach the log once PostgreSQL is back
 * is tested against a real database in test/api/outage.test.ts; here the database stays away.
 */
const away = { query: async () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })) } as unknown as DataSource;

function row(n: number, bodyBytes = 10): CallRow {
  return {
    id: `c${n}`, deliveryId: `d${n}`, webhookId: 'w', projectId: 'p', eventId: `e${n}`, trigger: 'DOCUMENT_CREATE', kind: 'EVENT', attempt: 1,
    success: true, error: null, durationMs: 5, requestMethod: 'POST', requestUrl: 'http://127.0.0.1/hook', requestHeaders: [],
    requestBody: 'x'.repeat(bodyBytes), responseStatusCode: 200, responseHeaders: [], responseBody: 'ok',
  };
}
const keepRow = (store: UnrecordedAttempts, n: number, bytes?: number) =>
  store.keep({ call: row(n, bytes), delivery: { id: `d${n}`, workerId: 'me', status: DeliveryStatus.SUCCEEDED, retryInMs: null } });

test('keeps at most the configured number of attempts, dropping the oldest, and says so', async () => {
  const { lines, log } = captureLog();
  const store = new UnrecordedAttempts(away, log, { attempts: 3, bytes: 1e9 });
  for (let n = 1; n <= 5; n++) keepRow(store, n);
  expect(store.size).toBe(3);
  expect(store.deliveryIds()).toEqual(['d3', 'd4', 'd5']);
  expect(lines.filter((l) => /dropped the 1 oldest/.test(l))).toHaveLength(2);
  await store.close();
  expect(lines.at(-1)).toMatch(/3 attempt\(s\) made while the database was unavailable could not be logged/);
});

test('keeps at most the configured bytes, but always the newest attempt', async () => {
  const store = new UnrecordedAttempts(away, silentLogger, { attempts: 100, bytes: 5_000 });
  keepRow(store, 1, 1_000);
  keepRow(store, 2, 1_000);
  expect(store.size).toBe(2);
  keepRow(store, 3, 10_000);
  expect(store.deliveryIds()).toEqual(['d3']);
  await store.close();
});

test('an outage keeps everything in order for the next try', async () => {
  const store = new UnrecordedAttempts(away, silentLogger);
  for (let n = 1; n <= 3; n++) keepRow(store, n);
  await store.flush();
  expect(store.deliveryIds()).toEqual(['d1', 'd2', 'd3']);
  await store.close();
});
