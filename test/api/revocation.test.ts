import { performance } from 'node:perf_hooks';
import { Client as PgClient } from 'pg';
import { Client } from 'graphql-ws';
import { OPERATIONS } from '../../sdk/operations';
import { codeOf, createProject, createUserWithToken, createWebhook, startTestApi, TestApi, wsClient } from '../support/api';
import { callRow, insertCalls } from '../support/fixtures';
import { createToken, revoke } from '../support/tokens';
import { waitUntil, within } from '../support/wait';

/**
 * Open subscriptions end soon after losing access, pushed by PostgreSQL NOTIFY (no polling):
 * a revoked token, a user deleted in the database, a bootstrap token replaced by a restart, a
 * removed or demoted member. Two API processes share the database, so the change is made
 * through one and the subscription is held by either.
 *
 * On a quiet machine a stream ends 50-300 ms after the change (bench: the closing note of the
 * issue). The bound here only tells a push from the 15 s re-check poll it replaced: a loaded
 * test machine must not turn a timing into a failure.
 */
const LIMIT_MS = 5000;

let api: TestApi;
let second: TestApi;
let projectId: string;
let hook: string;
const clients: Client[] = [];

type Ending =
  | { how: 'closed'; code: number; reason: string; at: number }
  | { how: 'error'; code: string | undefined; at: number }
  | { how: 'completed'; at: number }
  | { how: 'data'; value: unknown; at: number };

interface Watched {
  /** The subscription's first event: how it ended, or the data that arrived instead. */
  ended: Promise<Ending>;
}

function watch(target: TestApi, token: string, variables: { projectId: string }): Watched {
  const client = wsClient(target, token);
  clients.push(client);
  const stream = client.iterate({ query: OPERATIONS.WebhookCallLogged, operationName: 'WebhookCallLogged', variables });
  const ended = stream.next().then(
    (result): Ending => (result.done ? { how: 'completed', at: performance.now() } : { how: 'data', value: result.value, at: performance.now() }),
    (failure: { code?: number; reason?: string } | Array<{ extensions?: { code?: string } }>): Ending =>
      Array.isArray(failure)
        ? { how: 'error', code: failure[0]?.extensions?.code, at: performance.now() }
        : { how: 'closed', code: failure.code ?? 0, reason: failure.reason ?? '', at: performance.now() },
  );
  return { ended };
}

const subscribers = (target: TestApi) => target.app.services.webhookCallPubSub.subscriberCount();

/** Runs `change`, then waits (at most LIMIT_MS) for the subscription to end; returns how, and how long it took. */
async function endsAfter(watched: Watched, change: () => Promise<unknown>): Promise<Ending & { ms: number }> {
  const start = performance.now();
  await change();
  const ending = await within('the subscription to end', watched.ended, LIMIT_MS);
  return { ...ending, ms: ending.at - start };
}

/** A subscriber nobody touched still gets calls: the changes end only what they concern. */
async function stillLive(watched: Watched): Promise<void> {
  const row = callRow(projectId, hook);
  await insertCalls(api.app.dataSource, [row]);
  const first = await within('a call on the untouched subscription', watched.ended);
  expect(first).toMatchObject({ how: 'data', value: { data: { webhookCallLogged: { id: row.id } } } });
}

async function asPsql(sql: string, params: unknown[]): Promise<void> {
  const client = new PgClient({ connectionString: api.databaseUrl });
  await client.connect();
  try {
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  api = await startTestApi({ ROLE: 'api' });
  second = await startTestApi({ ROLE: 'api', BOOTSTRAP_ADMIN_TOKEN: api.adminToken }, api.databaseUrl);
  projectId = await createProject(api, 'Revocation');
  hook = await createWebhook(api, projectId, 'hook');
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  await waitUntil('every subscriber to be gone', () => subscribers(api) === 0 && subscribers(second) === 0);
});

afterAll(async () => {
  await second?.close();
  await api?.close();
});

test('a revoked token: the connection closes with 4401 on another process, and HTTP refuses the token', async () => {
  const member = await createUserWithToken(api, 'revoked@revocation.test', projectId, 'ADMIN');
  const bystander = await createUserWithToken(api, 'bystander@revocation.test', projectId, 'ADMIN');
  const revoked = watch(second, member.token, { projectId });
  const untouched = watch(second, bystander.token, { projectId });
  await waitUntil('both subscriptions', () => subscribers(second) === 2);
  const [{ id }] = await api.app.dataSource.query(`SELECT id FROM api_token WHERE user_id = $1`, [member.id]);

  const ending = await endsAfter(revoked, async () => expect(codeOf(await revoke(api, member.token, id))).toBe('OK'));
  expect(ending).toMatchObject({ how: 'closed', code: 4401, reason: expect.stringMatching(/^UNAUTHENTICATED/) });
  expect(ending.ms).toBeLessThan(LIMIT_MS);
  expect(codeOf(await second.op(member.token, 'Me'))).toBe('UNAUTHENTICATED');
  expect(codeOf(await api.op(member.token, 'Me'))).toBe('UNAUTHENTICATED');
  await stillLive(untouched);
});

test('another token of the same user keeps its subscription', async () => {
  const member = await createUserWithToken(api, 'two-tokens@revocation.test', projectId, 'ADMIN');
  const spare = await createToken(api, member.id);
  const revoked = watch(api, spare.token, { projectId });
  const kept = watch(api, member.token, { projectId });
  await waitUntil('both subscriptions', () => subscribers(api) === 2);
  const ending = await endsAfter(revoked, () => revoke(api, api.adminToken, spare.id));
  expect(ending).toMatchObject({ how: 'closed', code: 4401 });
  await stillLive(kept);
});

test('a user deleted in the database (as with psql): 4401, and HTTP refuses the token', async () => {
  const member = await createUserWithToken(api, 'deleted@revocation.test', projectId, 'ADMIN');
  const bystander = await createUserWithToken(api, 'bystander2@revocation.test', projectId, 'ADMIN');
  const deleted = watch(api, member.token, { projectId });
  const untouched = watch(api, bystander.token, { projectId });
  await waitUntil('both subscriptions', () => subscribers(api) === 2);

  const ending = await endsAfter(deleted, () => asPsql('DELETE FROM app_user WHERE id = $1', [member.id]));
  expect(ending).toMatchObject({ how: 'closed', code: 4401, reason: expect.stringMatching(/^UNAUTHENTICATED/) });
  expect(ending.ms).toBeLessThan(LIMIT_MS);
  expect(codeOf(await api.op(member.token, 'Me'))).toBe('UNAUTHENTICATED');
  await stillLive(untouched);
});

test('a removed member: the stream ends with NOT_FOUND; the connection and token stay', async () => {
  const member = await createUserWithToken(api, 'removed@revocation.test', projectId, 'ADMIN');
  const bystander = await createUserWithToken(api, 'bystander3@revocation.test', projectId, 'ADMIN');
  const removed = watch(second, member.token, { projectId });
  const untouched = watch(second, bystander.token, { projectId });
  await waitUntil('both subscriptions', () => subscribers(second) === 2);

  const ending = await endsAfter(removed, async () =>
    expect(codeOf(await api.op(api.adminToken, 'DeassignProjectMember', { projectId, userId: member.id }))).toBe('OK'),
  );
  expect(ending).toMatchObject({ how: 'error', code: 'NOT_FOUND' });
  expect(ending.ms).toBeLessThan(LIMIT_MS);
  expect(codeOf(await api.op(member.token, 'WebhookCalls', { projectId }))).toBe('NOT_FOUND');
  expect(codeOf(await api.op(member.token, 'Me'))).toBe('OK');
  await stillLive(untouched);
});

test('a demoted member: the stream ends with FORBIDDEN', async () => {
  const member = await createUserWithToken(api, 'demoted@revocation.test', projectId, 'ADMIN');
  const demoted = watch(api, member.token, { projectId });
  await waitUntil('the subscription', () => subscribers(api) === 1);

  const ending = await endsAfter(demoted, async () =>
    expect(codeOf(await api.op(api.adminToken, 'AssignProjectMember', { projectId, userId: member.id, role: 'EDITOR' }))).toBe('OK'),
  );
  expect(ending).toMatchObject({ how: 'error', code: 'FORBIDDEN' });
  expect(ending.ms).toBeLessThan(LIMIT_MS);
  expect(codeOf(await api.op(member.token, 'WebhookCalls', { projectId }))).toBe('FORBIDDEN');
});

test('a call committed with the demotion never reaches the demoted member', async () => {
  const member = await createUserWithToken(api, 'same-commit@revocation.test', projectId, 'ADMIN');
  const stream = watch(api, member.token, { projectId });
  await waitUntil('the subscription', () => subscribers(api) === 1);
  await api.app.dataSource.transaction(async (m) => {
    await m.query(`UPDATE project_member SET role = 'VIEWER' WHERE project_id = $1 AND user_id = $2`, [projectId, member.id]);
    await insertCalls(m, [callRow(projectId, hook)]);
  });
  expect(await within('the subscription to end', stream.ended, LIMIT_MS)).toMatchObject({ how: 'error', code: 'FORBIDDEN' });
});

test('a promotion or a change elsewhere ends nothing', async () => {
  const member = await createUserWithToken(api, 'promoted@revocation.test', projectId, 'ADMIN');
  const other = await createUserWithToken(api, 'other@revocation.test', projectId, 'VIEWER');
  const promoted = watch(api, member.token, { projectId });
  await waitUntil('the subscription', () => subscribers(api) === 1);
  expect(codeOf(await api.op(api.adminToken, 'AssignProjectMember', { projectId, userId: member.id, role: 'OWNER' }))).toBe('OK');
  expect(codeOf(await api.op(api.adminToken, 'DeassignProjectMember', { projectId, userId: other.id }))).toBe('OK');
  await stillLive(promoted);
});

test('a super-admin demoted in the database loses the streams of projects they are not a member of', async () => {
  const root = await createUserWithToken(api, 'root@revocation.test');
  await api.app.dataSource.query(`UPDATE app_user SET is_super_admin = true WHERE id = $1`, [root.id]);
  const stream = watch(api, root.token, { projectId });
  await waitUntil('the subscription', () => subscribers(api) === 1);
  const ending = await endsAfter(stream, () => asPsql('UPDATE app_user SET is_super_admin = false WHERE id = $1', [root.id]));
  expect(ending).toMatchObject({ how: 'error', code: 'NOT_FOUND' });
  expect(ending.ms).toBeLessThan(LIMIT_MS);
});

/**
 * A NOTIFY sent while the LISTEN connection is down is lost; the re-check on reconnect must
 * catch what it announced. In one transaction: end the processes' LISTEN sessions, make the
 * changes, commit.
 *
 * PostgreSQL hands a new listener the notifications still queued unless another listener of
 * the database has read past them, so a listener of the test's own stays connected and reads
 * them. Whether the process really missed them is then read from its counter, not guessed
 * from timing: an attempt in which the notification got through (the session had not died
 * yet, or was back already) proves nothing and is made again with fresh users.
 */
test('changes committed while the LISTEN connection is down are caught when it comes back', async () => {
  const witness = new PgClient({ connectionString: api.databaseUrl });
  await witness.connect();
  let heard = 0;
  witness.on('notification', () => heard++);
  await witness.query('LISTEN cms_access');
  const watchStats = () => api.app.services.accessWatch.stats();
  try {
    for (let attempt = 1; ; attempt++) {
      const revoked = await createUserWithToken(api, `missed-token-${attempt}@revocation.test`, projectId, 'ADMIN');
      const removed = await createUserWithToken(api, `missed-member-${attempt}@revocation.test`, projectId, 'ADMIN');
      const tokenStream = watch(api, revoked.token, { projectId });
      const memberStream = watch(api, removed.token, { projectId });
      await waitUntil('both subscriptions', () => subscribers(api) === 2);
      const reconnects = api.app.services.webhookCallPubSub.stats().reconnects;
      const received = watchStats().notifications;
      heard = 0;

      await api.app.dataSource.transaction(async (m) => {
        const killed = await m.query(
          `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = 'cms-call-log' AND datname = current_database()`,
        );
        expect(killed).toEqual([{ killed: true }, { killed: true }]); // this process's and the second's
        await m.query(`UPDATE api_token SET revoked_at = now() WHERE user_id = $1`, [revoked.id]);
        await m.query(`DELETE FROM project_member WHERE project_id = $1 AND user_id = $2`, [projectId, removed.id]);
      });
      await waitUntil('the witness to hear both changes', () => heard === 2);
      // When the process missed the notification, only the reconnect's re-check can end them.
      const [tokenEnding, memberEnding] = await within('both subscriptions to end', Promise.all([tokenStream.ended, memberStream.ended]), 5000);
      await waitUntil('the LISTEN connection to be back', () => api.app.services.webhookCallPubSub.stats().reconnects > reconnects);

      if (watchStats().notifications !== received) {
        expect(attempt).toBeLessThan(10); // the notification kept getting through: nothing proven, say so
        continue;
      }
      expect(tokenEnding).toMatchObject({ how: 'closed', code: 4401 });
      expect(memberEnding).toMatchObject({ how: 'error', code: 'NOT_FOUND' });
      return;
    }
  } finally {
    await witness.end();
  }
});

/** Last: it replaces the bootstrap token the other tests use to set things up. */
test('a bootstrap token replaced by a restart: its subscriptions on the running processes close with 4401', async () => {
  const onFirst = watch(api, api.adminToken, { projectId });
  const onSecond = watch(second, api.adminToken, { projectId });
  await waitUntil('both subscriptions', () => subscribers(api) === 1 && subscribers(second) === 1);
  const replacement = `test-admin-replaced-${crypto.randomUUID()}`;
  let restarted: TestApi | undefined;
  try {
    const started = performance.now();
    restarted = await startTestApi({ ROLE: 'api', BOOTSTRAP_ADMIN_TOKEN: replacement }, api.databaseUrl);
    const ready = performance.now();
    const endings = await within('both subscriptions to end', Promise.all([onFirst.ended, onSecond.ended]), LIMIT_MS);
    for (const ending of endings) {
      expect(ending).toMatchObject({ how: 'closed', code: 4401, reason: expect.stringMatching(/^UNAUTHENTICATED/) });
      // The old token is deleted while the restarted process starts, before it is ready.
      expect(ending.at - ready).toBeLessThan(LIMIT_MS);
      expect(ending.at).toBeGreaterThan(started);
    }
    expect(codeOf(await api.op(api.adminToken, 'Me'))).toBe('UNAUTHENTICATED');
    expect(codeOf(await second.op(replacement, 'Me'))).toBe('OK');
  } finally {
    await restarted?.close();
  }
});
