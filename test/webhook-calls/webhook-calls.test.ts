import crypto from 'node:crypto';
import { toCurl } from '../../src/webhook-calls/curl';
import { WebhookCallKind } from '../../src/delivery/delivery.entity';
import { WebhookCall } from '../../src/webhook-calls/webhook-call.entity';
import { WebhookTrigger } from '../../src/webhooks/triggers';
import { codeOf, createProject, createUserWithToken, createWebhook, GqlResult, startTestApi, TestApi } from '../support/api';
import { callRow, insertCalls } from '../support/fixtures';

let api: TestApi;
let projectId: string;
let otherProjectId: string;
let hookA: string;
let hookB: string;
let otherHook: string;
let rows: Array<Partial<WebhookCall>>;
const tokens: Record<'viewer' | 'editor' | 'admin' | 'outsider', string> = { viewer: '', editor: '', admin: '', outsider: '' };

const TRIGGERS = [WebhookTrigger.DOCUMENT_CREATE, WebhookTrigger.DOCUMENT_UPDATE, WebhookTrigger.BLUEPRINT_DELETE];
const KINDS = [WebhookCallKind.EVENT, WebhookCallKind.EVENT, WebhookCallKind.REPLAY, WebhookCallKind.TEST];
const BASE = Date.parse('2026-03-01T00:00:00.000Z');
const HOSTILE_BODY = `{"title":"it's $(rm -rf ~) \`id\` \\n line\nnext é 🚀"}`;

/** The GraphQL enum name of a stored trigger (`document_create` → `DOCUMENT_CREATE`). */
const triggerName = (t: WebhookTrigger) => Object.entries(WebhookTrigger).find(([, v]) => v === t)![0];

/** Newest first: created_at descending, then id descending (pairs of rows share a millisecond). */
function newestFirst(list: Array<Partial<WebhookCall>>): string[] {
  return [...list]
    .sort((a, b) => b.createdAt!.getTime() - a.createdAt!.getTime() || (a.id! < b.id! ? 1 : a.id! > b.id! ? -1 : 0))
    .map((r) => r.id!);
}

async function pageThrough(filter: Record<string, unknown>, first = 100): Promise<{ ids: string[]; sizes: number[] }> {
  const ids: string[] = [];
  const sizes: number[] = [];
  let after: string | null = null;
  for (;;) {
    const page: GqlResult = await api.op(tokens.admin, 'WebhookCalls', { projectId, filter, first, after });
    expect(codeOf(page)).toBe('OK');
    const { edges, pageInfo } = page.data.webhookCalls;
    sizes.push(edges.length);
    ids.push(...edges.map((e: { node: { id: string } }) => e.node.id));
    if (!pageInfo.hasNextPage) {
      expect(pageInfo.endCursor).toBe(edges.length ? edges[edges.length - 1].cursor : null);
      return { ids, sizes };
    }
    after = pageInfo.endCursor;
    if (sizes.length > 100) throw new Error('paging does not end');
  }
}

async function totalCount(filter: Record<string, unknown>, token = tokens.admin): Promise<GqlResult> {
  return api.op(token, 'WebhookCallsCount', { projectId, filter });
}

beforeAll(async () => {
  api = await startTestApi();
  projectId = await createProject(api, 'Log');
  otherProjectId = await createProject(api, 'Elsewhere');
  hookA = await createWebhook(api, projectId, 'a');
  hookB = await createWebhook(api, projectId, 'b');
  otherHook = await createWebhook(api, otherProjectId, 'other');
  tokens.viewer = (await createUserWithToken(api, 'viewer@log.test', projectId, 'VIEWER')).token;
  tokens.editor = (await createUserWithToken(api, 'editor@log.test', projectId, 'EDITOR')).token;
  tokens.admin = (await createUserWithToken(api, 'admin@log.test', projectId, 'ADMIN')).token;
  tokens.outsider = (await createUserWithToken(api, 'outsider@log.test', otherProjectId, 'OWNER')).token;

  const events = Array.from({ length: 40 }, () => crypto.randomUUID());
  rows = Array.from({ length: 250 }, (_, i) =>
    callRow(projectId, i % 3 === 0 ? hookB : hookA, {
      // Two rows per millisecond: the id breaks the tie, and paging must not lose either.
      createdAt: new Date(BASE + Math.floor(i / 2) * 1000),
      eventId: events[i % events.length],
      success: i % 4 !== 0,
      trigger: TRIGGERS[i % TRIGGERS.length],
      kind: KINDS[i % KINDS.length],
      attempt: 1 + (i % 3),
      requestBody: i === 7 ? HOSTILE_BODY : `{"n":${i}}`,
    }),
  );
  await insertCalls(api.app.dataSource, rows);
  // Another project's calls never show up here.
  await insertCalls(api.app.dataSource, Array.from({ length: 5 }, () => callRow(otherProjectId, otherHook, { createdAt: new Date(BASE) })));
});

afterAll(async () => {
  await api?.close();
});

describe('webhookCalls', () => {
  const since = new Date(BASE + 30 * 1000);
  const until = new Date(BASE + 90 * 1000);
  const cases: Array<[string, () => Record<string, unknown>, (r: Partial<WebhookCall>) => boolean]> = [
    ['no filter', () => ({}), () => true],
    ['webhookId', () => ({ webhookId: hookA }), (r) => r.webhookId === hookA],
    ['success: false', () => ({ success: false }), (r) => r.success === false],
    ['success: true', () => ({ success: true }), (r) => r.success === true],
    ['trigger', () => ({ trigger: 'DOCUMENT_UPDATE' }), (r) => r.trigger === WebhookTrigger.DOCUMENT_UPDATE],
    ['kind', () => ({ kind: 'REPLAY' }), (r) => r.kind === WebhookCallKind.REPLAY],
    ['since/until (since inclusive, until exclusive)', () => ({ since: since.toISOString(), until: until.toISOString() }), (r) => r.createdAt! >= since && r.createdAt! < until],
    ['eventId', () => ({ eventId: rows[5].eventId }), (r) => r.eventId === rows[5].eventId],
    ['combined', () => ({ webhookId: hookB, success: true, kind: 'EVENT', since: since.toISOString() }), (r) => r.webhookId === hookB && r.success === true && r.kind === WebhookCallKind.EVENT && r.createdAt! >= since],
  ];

  test.each(cases)('pages through every match, newest first, none twice: %s', async (_name, filter, matches) => {
    const expected = newestFirst(rows.filter(matches));
    const { ids, sizes } = await pageThrough(filter(), 100);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expected);
    const full = Math.floor(expected.length / 100);
    expect(sizes.slice(0, full)).toEqual(Array(full).fill(100));
    const count = await totalCount(filter());
    expect(count.data.webhookCalls.totalCount).toBe(expected.length);
  });

  test('250 rows come as 100/100/50 with small pages matching big ones', async () => {
    const big = await pageThrough({}, 100);
    expect(big.sizes).toEqual([100, 100, 50]);
    const small = await pageThrough({ webhookId: hookA }, 7);
    expect(small.ids).toEqual(newestFirst(rows.filter((r) => r.webhookId === hookA)));
  });

  test('first is capped at 100; first: 0 answers an empty page', async () => {
    const capped = await api.op(tokens.admin, 'WebhookCalls', { projectId, first: 1000 });
    expect(capped.data.webhookCalls.edges).toHaveLength(100);
    const none = await api.op(tokens.admin, 'WebhookCalls', { projectId, first: 0 });
    expect(none.data.webhookCalls).toEqual({ edges: [], pageInfo: { hasNextPage: true, endCursor: null } });
  });

  test('every field of the contract fragment, as stored', async () => {
    const page = await api.op(tokens.admin, 'WebhookCalls', { projectId, filter: { eventId: rows[0].eventId }, first: 100 });
    const node = page.data.webhookCalls.edges.find((e: { node: { id: string } }) => e.node.id === rows[0].id).node;
    expect(node).toEqual({
      id: rows[0].id,
      webhookId: hookB,
      projectId,
      eventId: rows[0].eventId,
      trigger: 'DOCUMENT_CREATE',
      kind: 'EVENT',
      attempt: 1,
      success: false,
      error: null,
      durationMs: 12,
      nextRetryAt: null,
      createdAt: new Date(BASE).toISOString(),
      requestMethod: 'POST',
      requestUrl: 'https://receiver.example.test/hook',
      requestHeaders: [
        { name: 'content-type', value: 'application/json' },
        { name: 'x-api-key', value: '••••3gat' },
      ],
      requestBody: '{"n":0}',
      responseStatusCode: 200,
      responseHeaders: [{ name: 'content-type', value: 'text/plain' }],
      responseBody: 'ok',
    });
  });

  test('totalCount is counted only when selected', async () => {
    const count = jest.spyOn(api.app.services.webhookCalls, 'count');
    try {
      await api.op(tokens.admin, 'WebhookCalls', { projectId, first: 5 });
      expect(count).not.toHaveBeenCalled();
      const counted = await totalCount({ kind: 'TEST' });
      expect(counted.data.webhookCalls.totalCount).toBe(rows.filter((r) => r.kind === WebhookCallKind.TEST).length);
      expect(count).toHaveBeenCalledTimes(1);
    } finally {
      count.mockRestore();
    }
  });

  test('bad input names the field and the rule', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ projectId, filter: { webhookId: 'nope' } }, 'filter.webhookId'],
      [{ projectId, filter: { eventId: '123' } }, 'filter.eventId'],
      [{ projectId, filter: { since: '2026-03-02T00:00:00Z', until: '2026-03-01T00:00:00Z' } }, 'filter.until'],
      [{ projectId, after: 'not-a-cursor' }, 'after'],
      [{ projectId, first: -1 }, 'first'],
      [{ projectId: 'x' }, 'projectId'],
    ];
    for (const [variables, field] of cases) {
      const result = await api.op(tokens.admin, 'WebhookCalls', variables);
      expect({ field, code: codeOf(result), reported: result.errors?.[0].extensions?.field }).toEqual({ field, code: 'BAD_USER_INPUT', reported: field });
      expect(result.errors?.[0].message).toMatch(new RegExp(`^${field.replace('.', '\\.')}: `));
    }
    const date = await api.op(tokens.admin, 'WebhookCalls', { projectId, filter: { since: 'yesterday' } });
    expect(codeOf(date)).toBe('BAD_USER_INPUT');
  });

  test('a deep page is an index seek like the first: ordered by the index, no sort, no OFFSET', async () => {
    const service = api.app.services.webhookCalls;
    const cursor = { createdAt: new Date(BASE + 50_000), id: rows[100].id! };
    for (const [filter, index] of [
      [{}, 'webhook_call_project_page_idx'],
      [{ webhookId: hookA }, 'webhook_call_'],
      [{ success: false }, 'webhook_call_project_page_idx'],
    ] as const) {
      const [sql, params] = service.pageQuery(projectId, filter, 100, cursor).getQueryAndParameters();
      expect(sql).not.toMatch(/OFFSET/i);
      const plan = await api.app.dataSource.transaction(async (m) => {
        // 250 rows fit in one page of the heap, where a seq scan (or a bitmap scan and a sort
        // of the few rows, depending on when autovacuum last analysed) wins; ask what the
        // planner does when the table is big.
        await m.query('SET LOCAL enable_seqscan = off');
        await m.query('SET LOCAL enable_bitmapscan = off');
        const out: Array<{ 'QUERY PLAN': string }> = await m.query(`EXPLAIN ${sql}`, params);
        return out.map((l) => l['QUERY PLAN']).join('\n');
      });
      expect(plan).toContain(index);
      expect(plan).toMatch(/Index Scan Backward/);
      expect(plan).not.toMatch(/Sort/);
    }
  });
});

describe('webhookCall', () => {
  test('returns the call with a curl command that re-sends it', async () => {
    const hostile = rows[7];
    const result = await api.op(tokens.admin, 'WebhookCall', { id: hostile.id });
    expect(codeOf(result)).toBe('OK');
    expect(result.data.webhookCall).toMatchObject({ id: hostile.id, requestBody: HOSTILE_BODY });
    expect(result.data.webhookCall.curl).toBe(
      toCurl({ method: 'POST', url: hostile.requestUrl!, headers: hostile.requestHeaders!, body: HOSTILE_BODY }),
    );
    expect(result.data.webhookCall.curl).toContain("--data-raw '{\"title\":\"it'\\''s $(rm -rf ~)");
    expect(result.data.webhookCall.curl).toContain("--header 'x-api-key: ••••3gat'");
  });

  test('unknown and malformed ids', async () => {
    expect(codeOf(await api.op(tokens.admin, 'WebhookCall', { id: crypto.randomUUID() }))).toBe('NOT_FOUND');
    const bad = await api.op(tokens.admin, 'WebhookCall', { id: 'nope' });
    expect([codeOf(bad), bad.errors?.[0].extensions?.field]).toEqual(['BAD_USER_INPUT', 'id']);
  });
});

describe('who may read the log', () => {
  test.each([
    ['viewer', 'FORBIDDEN'],
    ['editor', 'FORBIDDEN'],
    ['outsider', 'NOT_FOUND'],
    ['admin', 'OK'],
  ] as const)('%s gets %s', async (who, expected) => {
    const token = tokens[who];
    expect(codeOf(await api.op(token, 'WebhookCalls', { projectId, first: 1 }))).toBe(expected);
    expect(codeOf(await totalCount({}, token))).toBe(expected);
    expect(codeOf(await api.op(token, 'WebhookCall', { id: rows[0].id }))).toBe(expected);
  });

  test('an outsider cannot tell a call of another project from a missing one', async () => {
    const missing = await api.op(tokens.outsider, 'WebhookCall', { id: crypto.randomUUID() });
    const hidden = await api.op(tokens.outsider, 'WebhookCall', { id: rows[0].id });
    expect(hidden.errors?.[0]).toEqual(missing.errors?.[0]);
  });

  test('the super-admin reads any project; no token is UNAUTHENTICATED', async () => {
    expect(codeOf(await api.op(api.adminToken, 'WebhookCalls', { projectId: otherProjectId }))).toBe('OK');
    expect(codeOf(await api.op(null, 'WebhookCalls', { projectId, filter: { webhookId: 'nope' } }))).toBe('UNAUTHENTICATED');
  });
});
