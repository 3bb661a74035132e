import { WebhookStats1764400000000 } from '../../migrations/1764400000000-WebhookStats';
import { DURATION_BOUNDS_MS } from '../../src/stats/duration-histogram';
import { createProject, createWebhook } from '../support/api';
import { callRow, insertCalls } from '../support/fixtures';
import { waitUntil } from '../support/wait';
import { codeOf, createUserWithToken, GqlResult, startTestApi, TestApi } from '../support/api';
import { startReceiver, Receiver } from '../support/receiver';

/**
 * webhookStats, Webhook.lastCall and Project.myRole through GraphQL, on rollups the database
 * keeps from the log's inserts (migrations/1764400000000-WebhookStats.ts).
 */
let api: TestApi;
let receiver: Receiver;
let projectId: string;
let hook: string;
const tokens = { editor: '', admin: '', outsider: '' };

const STATS = `query($webhookId: ID!, $from: DateTime!, $to: DateTime!, $bucket: StatsBucket!) {
  webhookStats(webhookId: $webhookId, from: $from, to: $to, bucket: $bucket) {
    webhookId bucket from to succeeded failed p50DurationMs p95DurationMs
    buckets { start succeeded failed p50DurationMs p95DurationMs }
  }
}`;
const DAY = 86_400_000;
const BASE = Date.parse('2026-03-01T00:00:00.000Z');

function stats(token: string | null, variables: Record<string, unknown>): Promise<GqlResult> {
  return api.gql(token, STATS, { webhookId: hook, bucket: 'HOUR', ...variables });
}

beforeAll(async () => {
  receiver = await startReceiver(() => ({ status: 200, body: 'ok' }));
  api = await startTestApi();
  projectId = await createProject(api, 'Stats');
  hook = await createWebhook(api, projectId, 'stats');
  const other = await createProject(api, 'Elsewhere');
  tokens.editor = (await createUserWithToken(api, 'editor@stats.test', projectId, 'EDITOR')).token;
  tokens.admin = (await createUserWithToken(api, 'admin@stats.test', projectId, 'ADMIN')).token;
  tokens.outsider = (await createUserWithToken(api, 'outsider@stats.test', other, 'OWNER')).token;
});

afterAll(async () => {
  await api?.close();
  await receiver?.close();
});

test('the rollups use the same duration bounds as the code reading them', async () => {
  const [row] = await api.app.dataSource.query('SELECT cms_webhook_call_duration_bounds() AS bounds');
  expect(row.bounds).toEqual(DURATION_BOUNDS_MS);
});

test('hourly buckets count every insert, batched or not, with p50 and p95 within √2 above the true values', async () => {
  const at = (hour: number, minute: number) => new Date(BASE + hour * 3_600_000 + minute * 60_000);
  // Hour 1: 20 calls of 10..200 ms in one INSERT, 2 of them failed; hour 3: one slow call, alone.
  const batch = Array.from({ length: 20 }, (_, i) => callRow(projectId, hook, { createdAt: at(1, i), durationMs: 10 * (i + 1), success: i % 10 !== 0 }));
  await insertCalls(api.app.dataSource, batch);
  await insertCalls(api.app.dataSource, [callRow(projectId, hook, { createdAt: at(3, 59), durationMs: 4000, success: false })]);
  const result = await stats(tokens.admin, { from: new Date(BASE + 30 * 60_000).toISOString(), to: new Date(BASE + 4 * 3_600_000).toISOString() });
  expect(codeOf(result)).toBe('OK');
  const s = result.data.webhookStats;
  expect(s.from).toBe(new Date(BASE).toISOString()); // rounded down to the hour
  expect(s.buckets.map((b: any) => [b.start.slice(11, 16), b.succeeded, b.failed])).toEqual([
    ['00:00', 0, 0],
    ['01:00', 18, 2],
    ['02:00', 0, 0],
    ['03:00', 0, 1],
  ]);
  const hour1 = s.buckets[1];
  // True p50 of 10, 20, … 200 is 100 ms, p95 190 ms.
  expect(hour1.p50DurationMs).toBeGreaterThanOrEqual(100);
  expect(hour1.p50DurationMs).toBeLessThanOrEqual(100 * Math.SQRT2);
  expect(hour1.p95DurationMs).toBeGreaterThanOrEqual(190);
  expect(hour1.p95DurationMs).toBeLessThanOrEqual(200); // capped at the slowest call
  expect(s.buckets[0].p50DurationMs).toBeNull();
  expect(s.buckets[3].p95DurationMs).toBe(4000);
  // Over the range, rank 20 of 21 is the 200 ms call: its bucket [181, 256) answers 256.
  expect([s.succeeded, s.failed, s.p95DurationMs]).toEqual([18, 3, 256]);
});

test('daily buckets fold the hours of each UTC day', async () => {
  await insertCalls(api.app.dataSource, [
    callRow(projectId, hook, { createdAt: new Date(BASE + 2 * DAY + 5_000), durationMs: 50 }),
    callRow(projectId, hook, { createdAt: new Date(BASE + 2 * DAY + 23 * 3_600_000), durationMs: 60 }),
  ]);
  const result = await stats(tokens.admin, { bucket: 'DAY', from: new Date(BASE).toISOString(), to: new Date(BASE + 3 * DAY).toISOString() });
  expect(codeOf(result)).toBe('OK');
  expect(result.data.webhookStats.buckets.map((b: any) => [b.start.slice(0, 10), b.succeeded + b.failed])).toEqual([
    ['2026-03-01', 21],
    ['2026-03-02', 0],
    ['2026-03-03', 2],
  ]);
});

test('a call logged by a real send (the sender\'s one-statement insert) reaches the rollups and lastCall', async () => {
  const created = await api.op(tokens.admin, 'CreateWebhook', { projectId, input: { name: 'live', url: receiver.url, triggers: ['DOCUMENT_CREATE'] } });
  const live = created.data.createWebhook.id;
  const before = await api.gql(tokens.admin, `query($p: ID!) { webhooks(projectId: $p) { id lastCall { id } } }`, { p: projectId });
  expect(before.data.webhooks.find((w: any) => w.id === live).lastCall).toBeNull();
  const sent = await api.op(tokens.admin, 'TestWebhook', { id: live });
  expect(codeOf(sent)).toBe('OK');
  await receiver.waitUntil('the test call', (r) => r.length >= 1, 5000);
  const now = Date.now();
  let result: GqlResult | undefined;
  await waitUntil('the test call in the rollups', async () => {
    result = await api.gql(tokens.admin, STATS, { webhookId: live, bucket: 'HOUR', from: new Date(now - 3_600_000).toISOString(), to: new Date(now + 60_000).toISOString() });
    return result.data?.webhookStats.succeeded === 1;
  });
  expect(result!.data.webhookStats.failed).toBe(0);
  const after = await api.gql(tokens.admin, `query($p: ID!) { webhooks(projectId: $p) { id lastCall { id createdAt success responseStatusCode error durationMs } } }`, { p: projectId });
  const lastCall = after.data.webhooks.find((w: any) => w.id === live).lastCall;
  expect(lastCall).toMatchObject({ id: sent.data.testWebhook.id, success: true, responseStatusCode: 200, error: null });
  // The first webhook's newest call is the 23:00 one of day 3, not an older one.
  expect(after.data.webhooks.find((w: any) => w.id === hook).lastCall.createdAt).toBe(new Date(BASE + 2 * DAY + 23 * 3_600_000).toISOString());
});

test('writers logging at once do not wait for each other: the second takes the next slot of the hour', async () => {
  const hookId = await createWebhook(api, projectId, 'concurrent');
  const at = new Date(BASE + 5 * DAY + 3_600_000);
  // The hour's first row exists (only the very first writers of an hour may wait, once, for each other's new row).
  await insertCalls(api.app.dataSource, [callRow(projectId, hookId, { createdAt: at, durationMs: 10 })]);
  const first = api.app.dataSource.createQueryRunner();
  const second = api.app.dataSource.createQueryRunner();
  await Promise.all([first.connect(), second.connect()]);
  try {
    await first.startTransaction();
    await first.manager.insert('webhook_call', callRow(projectId, hookId, { createdAt: at, durationMs: 10 }));
    // The first transaction holds its rollup row. A second writer that waited for it would hit the lock timeout.
    await second.query("SET lock_timeout = '5s'");
    await second.startTransaction();
    await second.manager.insert('webhook_call', callRow(projectId, hookId, { createdAt: at, durationMs: 20, success: false }));
    await second.commitTransaction();
    await first.commitTransaction();
  } finally {
    for (const runner of [first, second]) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.query('RESET lock_timeout');
      await runner.release();
    }
  }
  const slots = await api.app.dataSource.query('SELECT slot, succeeded, failed FROM webhook_call_hourly WHERE webhook_id = $1 ORDER BY slot', [hookId]);
  expect(slots).toEqual([{ slot: 0, succeeded: 2, failed: 0 }, { slot: 1, succeeded: 0, failed: 1 }]);
  const result = await api.gql(tokens.admin, STATS, { webhookId: hookId, bucket: 'HOUR', from: at.toISOString(), to: new Date(at.getTime() + 3_600_000).toISOString() });
  expect(result.data.webhookStats.buckets).toEqual([{ start: at.toISOString(), succeeded: 2, failed: 1, p50DurationMs: 11, p95DurationMs: 20 }]);
  // A later insert adds to a free slot rather than opening a third.
  await insertCalls(api.app.dataSource, [callRow(projectId, hookId, { createdAt: at })]);
  expect((await api.app.dataSource.query('SELECT count(*)::int AS n FROM webhook_call_hourly WHERE webhook_id = $1', [hookId]))[0].n).toBe(2);
});

test('the log is ADMIN and up: an EDITOR is FORBIDDEN, a non-member and a missing id NOT_FOUND, no token UNAUTHENTICATED', async () => {
  const range = { from: new Date(BASE).toISOString(), to: new Date(BASE + DAY).toISOString() };
  expect(codeOf(await stats(tokens.editor, range))).toBe('FORBIDDEN');
  expect(codeOf(await stats(tokens.outsider, range))).toBe('NOT_FOUND');
  expect(codeOf(await stats(tokens.admin, { ...range, webhookId: '00000000-0000-4000-8000-000000000000' }))).toBe('NOT_FOUND');
  expect(codeOf(await stats(null, range))).toBe('UNAUTHENTICATED');
});

test('bad ranges are BAD_USER_INPUT naming the argument', async () => {
  const bad = async (variables: Record<string, unknown>) => {
    const result = await stats(tokens.admin, variables);
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    return { field: result.errors![0].extensions!.field, message: result.errors![0].message };
  };
  const from = new Date(BASE).toISOString();
  expect(await bad({ from, to: from })).toEqual({ field: 'to', message: 'to: must be after from' });
  expect((await bad({ from, to: new Date(BASE + 32 * DAY).toISOString() })).message).toMatch(/^to: must be at most 31 days after from with bucket HOUR.*use bucket DAY/);
  expect((await bad({ bucket: 'DAY', from, to: new Date(BASE + 93 * DAY).toISOString() })).message).toMatch(/^to: must be at most 92 days/);
  expect(await bad({ webhookId: 'nope', from, to: new Date(BASE + DAY).toISOString() })).toEqual({ field: 'webhookId', message: 'webhookId: must be a UUID' });
  // 31 days of hours and 92 days of days are accepted, from any instant (one more bucket once rounded down).
  expect(codeOf(await stats(tokens.admin, { from, to: new Date(BASE + 31 * DAY).toISOString() }))).toBe('OK');
  const offHour = await stats(tokens.admin, { from: new Date(BASE + 1_800_000).toISOString(), to: new Date(BASE + 1_800_000 + 31 * DAY).toISOString() });
  expect(offHour.data.webhookStats.buckets).toHaveLength(745);
  expect(codeOf(await stats(tokens.admin, { bucket: 'DAY', from, to: new Date(BASE + 92 * DAY).toISOString() }))).toBe('OK');
});

test('Project.myRole: a member gets their role, a super-admin OWNER', async () => {
  const query = '{ projects { id myRole } }';
  const asEditor = await api.gql(tokens.editor, query);
  expect(asEditor.data.projects).toEqual([{ id: projectId, myRole: 'EDITOR' }]);
  const asAdmin = await api.gql(api.adminToken, query);
  expect(asAdmin.data.projects.map((p: any) => p.myRole)).toEqual(['OWNER', 'OWNER']);
});

test('deleting a webhook deletes its rollups', async () => {
  const doomed = await createWebhook(api, projectId, 'doomed');
  await insertCalls(api.app.dataSource, [callRow(projectId, doomed, { createdAt: new Date(BASE) })]);
  const count = async () => (await api.app.dataSource.query('SELECT count(*)::int AS n FROM webhook_call_hourly WHERE webhook_id = $1', [doomed]))[0].n;
  expect(await count()).toBe(1);
  expect(codeOf(await api.op(tokens.admin, 'DeleteWebhook', { id: doomed }))).toBe('OK');
  expect(await count()).toBe(0);
});

test('the migration counts calls logged before it, once', async () => {
  const runner = api.app.dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    const migration = new WebhookStats1764400000000();
    await migration.down(runner);
    const old = await createWebhookIn(runner);
    await runner.query(
      `INSERT INTO webhook_call (webhook_id, project_id, event_id, trigger, kind, attempt, success, duration_ms, created_at, request_method, request_url, request_headers, request_body)
       SELECT $1, $2, gen_random_uuid(), 'document_create', 'EVENT', 1, g % 4 <> 0, g, $3::timestamptz + g * interval '1 minute', 'POST', 'http://x.test', '[]', '{}'
         FROM generate_series(1, 100) g`,
      [old, projectId, new Date(BASE)],
    );
    await migration.up(runner);
    const rows = await runner.query('SELECT sum(succeeded)::int AS s, sum(failed)::int AS f FROM webhook_call_hourly WHERE webhook_id = $1', [old]);
    expect(rows).toEqual([{ s: 75, f: 25 }]);
    const [all] = await runner.query(
      'SELECT (SELECT count(*) FROM webhook_call)::int AS calls, (SELECT sum(succeeded + failed) FROM webhook_call_hourly)::int AS rolled',
    );
    expect(all.rolled).toBe(all.calls);
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }

  async function createWebhookIn(r: typeof runner): Promise<string> {
    const [row] = await r.query(`INSERT INTO webhook (project_id, name, url, triggers, signing_secret) VALUES ($1, 'old', 'http://x.test', '{document_create}', 'whsec_x') RETURNING id`, [projectId]);
    return row.id;
  }
});
