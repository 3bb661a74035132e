import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import { countCalls } from '../../src/webhook-calls/webhook-call.count';
import type { WebhookCallFilterData } from '../../src/webhook-calls/webhook-call.service';
import { WebhookCallKind } from '../../src/delivery/delivery.entity';
import { type CallRow, settleOutcomes } from '../../src/delivery/queue';
import { WebhookTrigger } from '../../src/webhooks/triggers';
import { createTestDatabase } from '../support/database';
import { createFixture, createWebhook } from '../support/fixtures';

/**
 * totalCount sums per-hour counters kept by triggers and counts only the partial hours at the
 * window's edges row by row. Compared here with a plain count(*) over the log, for random
 * filters and windows, after inserts, retention deletes and a webhook's deletion.
 */
let dataSource: DataSource;
let projectId: string;
let webhooks: string[];
const HOUR = 3_600_000;
const BASE = Date.UTC(2026, 10, 30, 6, 0, 0);
const triggers = [WebhookTrigger.DOCUMENT_CREATE, WebhookTrigger.DOCUMENT_DELETE];
const kinds = [WebhookCallKind.EVENT, WebhookCallKind.TEST];

function call(webhookId: string, at: number, i: number): CallRow {
  return {
    id: randomUUID(), deliveryId: null, webhookId, projectId, eventId: randomUUID(), trigger: triggers[i % 2], kind: kinds[(i >> 1) % 2],
    attempt: 1, success: i % 3 !== 0, error: null, durationMs: 3, requestMethod: 'POST', requestUrl: 'http://127.0.0.1:9/', requestHeaders: [],
    requestBody: '{}', responseStatusCode: 200, responseHeaders: [], responseBody: 'ok', createdAt: new Date(at),
  };
}

async function plainCount(filter: WebhookCallFilterData): Promise<number> {
  const [{ n }] = await dataSource.query(
    `SELECT count(*)::int AS n FROM webhook_call WHERE project_id = $1
        AND ($2::uuid IS NULL OR webhook_id = $2) AND ($3::boolean IS NULL OR success = $3) AND ($4::text IS NULL OR trigger = $4)
        AND ($5::text IS NULL OR kind = $5) AND ($6::timestamptz IS NULL OR created_at >= $6) AND ($7::timestamptz IS NULL OR created_at < $7)
        AND ($8::uuid IS NULL OR event_id = $8)`,
    [projectId, filter.webhookId ?? null, filter.success ?? null, filter.trigger ?? null, filter.kind ?? null, filter.since ?? null, filter.until ?? null, filter.eventId ?? null],
  );
  return n;
}

const filters = () =>
  fc.record({
    webhook: fc.option(fc.integer({ min: 0, max: 2 })),
    success: fc.option(fc.boolean()),
    trigger: fc.option(fc.constantFrom(...triggers)),
    kind: fc.option(fc.constantFrom(...kinds)),
    // Minutes from BASE - 1 h to BASE + 7 h, so windows start and end inside hours and on their edges.
    since: fc.option(fc.integer({ min: -60, max: 420 }).map((m) => (m % 7 === 0 ? Math.round(m / 60) * 60 : m))),
    length: fc.option(fc.integer({ min: 0, max: 480 })),
  });

async function check(): Promise<void> {
  await fc.assert(
    fc.asyncProperty(filters(), async (f) => {
      const since = f.since === null ? null : new Date(BASE + f.since * 60_000);
      const until = f.length === null ? null : new Date((since?.getTime() ?? BASE) + f.length * 60_000);
      const filter: WebhookCallFilterData = {
        webhookId: f.webhook === null ? null : (webhooks[f.webhook] ?? randomUUID()),
        success: f.success,
        trigger: f.trigger,
        kind: f.kind,
        since,
        until,
      };
      expect(await countCalls(dataSource, projectId, filter)).toBe(await plainCount(filter));
    }),
    { numRuns: 150 },
  );
}

beforeAll(async () => {
  ({ dataSource } = await createTestDatabase('callcount'));
  const fixture = await createFixture(dataSource);
  projectId = fixture.project.id;
  webhooks = [];
  for (let i = 0; i < 2; i++) webhooks.push((await createWebhook(dataSource, { projectId, url: `http://127.0.0.1:9/${i}`, triggers })).id);
  // 600 rows over 6 hours, some at exact hour boundaries, written in batches like the worker's.
  const rows: CallRow[] = [];
  for (let i = 0; i < 600; i++) rows.push(call(webhooks[i % 2], BASE + (i % 7 === 0 ? Math.floor(i / 100) * HOUR : i * 36_000 + (i % 1000)), i));
  for (let i = 0; i < rows.length; i += 97) await settleOutcomes(dataSource, rows.slice(i, i + 97).map((c) => ({ call: c })));
}, 60_000);

afterAll(async () => {
  await dataSource?.destroy();
});

test('equals a plain count for any filter and window', async () => {
  expect(await plainCount({})).toBe(600);
  await check();
});

test('stays equal after rows are deleted (retention) and after a webhook and its log are deleted', async () => {
  await dataSource.query(`DELETE FROM webhook_call WHERE id IN (SELECT id FROM webhook_call WHERE created_at < $1 LIMIT 150)`, [new Date(BASE + 2.5 * HOUR)]);
  await dataSource.query(`DELETE FROM webhook WHERE id = $1`, [webhooks[1]]);
  expect(await plainCount({})).toBeLessThan(450);
  await check();
});

test('counts the attempts of one event through its index', async () => {
  const [{ event_id: eventId }] = await dataSource.query(`SELECT event_id FROM webhook_call WHERE project_id = $1 LIMIT 1`, [projectId]);
  expect(await countCalls(dataSource, projectId, { eventId })).toBe(1);
  expect(await countCalls(dataSource, projectId, { eventId, success: true })).toBe(await plainCount({ eventId, success: true }));
});
