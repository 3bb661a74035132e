import type { Logger } from 'typeorm';
import { codeOf, createProject, createUserWithToken, createWebhook, startTestApi, TestApi } from '../support/api';
import { waitUntil } from '../support/wait';

/**
 * Per-row relations are loaded in batches: the number of SQL statements a page costs does not
 * grow with the page. Counted on the app's own DataSource (ROLE=api: no worker polls in between).
 */
let api: TestApi;
let projectId: string;
let admin: string;
const statements: string[] = [];

const counter: Logger = {
  logQuery: (query) => void statements.push(query),
  logQueryError: () => undefined,
  logQuerySlow: () => undefined,
  logSchemaBuild: () => undefined,
  logMigration: () => undefined,
  log: () => undefined,
};

beforeAll(async () => {
  api = await startTestApi({ ROLE: 'api' });
  projectId = await createProject(api, 'Batching');
  const blueprints: string[] = [];
  for (const name of ['Post', 'Page', 'Author']) {
    const created = await api.op(api.adminToken, 'CreateBlueprint', { projectId, input: { name, fields: [{ name: 'body', type: 'text' }] } });
    blueprints.push(created.data.createBlueprint.id);
  }
  // Ten at a time: one by one, 100 requests can outlast the hook's timeout on a busy machine.
  for (let i = 0; i < 100; i += 10) {
    const created = await Promise.all(
      Array.from({ length: 10 }, (_, j) => api.op(api.adminToken, 'CreateDocument', { projectId, input: { blueprintId: blueprints[(i + j) % 3], title: `doc ${i + j}` } })),
    );
    expect(created.map(codeOf)).toEqual(Array(10).fill('OK'));
  }
  for (let i = 0; i < 12; i++) await createWebhook(api, projectId, `hook-${i}`);
  const user = await createUserWithToken(api, 'admin@batching.test', projectId, 'ADMIN');
  admin = user.token;
  // A token's first use records lastUsedAt in a statement of its own; not what is counted here.
  expect(codeOf(await api.op(admin, 'Me'))).toBe('OK');
  await waitUntil('the token marked as used', async () => {
    const [row] = await api.app.dataSource.query('SELECT last_used_at FROM api_token WHERE user_id = $1', [user.id]);
    return row.last_used_at !== null;
  });
  api.app.dataSource.setOptions({ logger: counter });
}, 120_000);

afterAll(async () => {
  await api?.close();
});

/** The statements one request ran, and its result. */
async function counted<T>(query: string, variables: Record<string, unknown>): Promise<{ count: number; data: T }> {
  statements.length = 0;
  const result = await api.gql<T>(admin, query, variables);
  expect(result.errors).toBeUndefined();
  return { count: statements.length, data: result.data! };
}

const DOCUMENTS = 'query($p: ID!, $n: Int) { documents(projectId: $p, first: $n) { edges { node { id blueprint { id name } } } } }';
type Documents = { documents: { edges: Array<{ node: { id: string; blueprint: { id: string; name: string } } }> } };

test('a page of 10 and a page of 100 documents with their blueprints cost the same number of statements', async () => {
  const ten = await counted<Documents>(DOCUMENTS, { p: projectId, n: 10 });
  const hundred = await counted<Documents>(DOCUMENTS, { p: projectId, n: 100 });
  expect(ten.data.documents.edges).toHaveLength(10);
  expect(hundred.data.documents.edges).toHaveLength(100);
  expect(new Set(hundred.data.documents.edges.map((e) => e.node.blueprint.name))).toEqual(new Set(['Post', 'Page', 'Author']));
  expect(hundred.count).toBe(ten.count);
  // Token check, role check, the page, the blueprints: nothing per row.
  expect(hundred.count).toBeLessThanOrEqual(5);
});

test('the same blueprint asked for by several aliases is loaded once per request', async () => {
  const query = `query($p: ID!) { a: documents(projectId: $p, first: 50) { edges { node { blueprint { id } } } } b: documents(projectId: $p, first: 100) { edges { node { blueprint { id } } } } }`;
  const single = await counted<Documents>(DOCUMENTS, { p: projectId, n: 100 });
  const both = await counted<Record<string, unknown>>(query, { p: projectId });
  const blueprintStatements = statements.filter((s) => /FROM "blueprint"/.test(s));
  expect(blueprintStatements.length).toBeLessThanOrEqual(2);
  expect(both.count).toBeLessThanOrEqual(single.count * 2);
});

test("the webhook list's call counts are one statement for every webhook", async () => {
  const query = 'query($p: ID!) { webhooks(projectId: $p) { id successfulCallsLast30Days failedCallsLast30Days } }';
  const withCounts = await counted<{ webhooks: Array<{ successfulCallsLast30Days: number }> }>(query, { p: projectId });
  const without = await counted<{ webhooks: unknown[] }>('query($p: ID!) { webhooks(projectId: $p) { id } }', { p: projectId });
  expect(withCounts.data.webhooks).toHaveLength(12);
  expect(withCounts.data.webhooks.every((w) => w.successfulCallsLast30Days === 0)).toBe(true);
  expect(withCounts.count).toBe(without.count + 1);
});
