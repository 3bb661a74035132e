import fc from 'fast-check';
import { buildAppSchema } from '../../src/graphql/schema';
import { createUserWithToken, startTestApi, TestApi } from '../support/api';
import { getNamedType, isListType, isNonNullType } from 'graphql';
import { coreExamples, describe as describeValue, hostileFor, inside } from '../support/hostile';
import { startReceiver, Receiver } from '../support/receiver';
import { argumentsFor, enumerateSlots, Fixture, requestBody, Slot, slotName, slotPath, validValue } from '../support/schema-slots';

/**
 * Every argument and input field of every query and mutation, read from the schema, gets
 * hostile values (NUL, lone surrogates, huge strings, ids and cursors that are not ours, dates
 * PostgreSQL cannot store, deep JSON, wrong types) with valid values everywhere else, over real
 * HTTP, as the super-admin and as a project ADMIN. The answer must be data or an error with a
 * client code, never INTERNAL_SERVER_ERROR or a 5xx; and when the request was refused, nothing
 * stored may have changed. Deterministic (fixed seeds) and bounded (runs per slot).
 *
 * Left out: malformed request bodies (JSON syntax, size, content type), which never reach an
 * argument and are the HTTP layer's to answer.
 */

const SEED = 20261201;
const RANDOM_RUNS_PER_SLOT = 3;

let api: TestApi;
let receiver: Receiver;
let fixture: Fixture;
const tokens: Record<'super-admin' | 'admin', string> = { 'super-admin': '', admin: '' };
let tables: string[] = [];
/** The fixture's rows as created, put back after a mutation that was accepted and may have edited them. */
let saved: Array<{ table: string; key: string[]; row: Record<string, unknown> }> = [];

beforeAll(async () => {
  receiver = await startReceiver();
  api = await startTestApi({ ROLE: 'api' });
  const admin = api.adminToken;
  const must = async (name: string, variables: Record<string, unknown>) => {
    const result = await api.op(admin, name, variables);
    if (result.errors) throw new Error(`${name} failed: ${JSON.stringify(result.errors)}`);
    return result.data;
  };
  const project = (await must('CreateProject', { input: { name: 'Main' } })).createProject.id;
  const blueprint = (await must('CreateBlueprint', { projectId: project, input: { name: 'Post', fields: [{ name: 'body', type: 'string' }] } })).createBlueprint.id;
  const document = (await must('CreateDocument', { projectId: project, input: { blueprintId: blueprint, title: 'T', fields: { body: 'b' } } })).createDocument.id;
  const webhook = (
    await must('CreateWebhook', {
      projectId: project,
      input: { name: 'Hook', url: receiver.url, triggers: ['DOCUMENT_CREATE'], headers: [{ name: 'X-Key', value: 'secret-value-0123456789', secret: true }] },
    })
  ).createWebhook.id;
  const call = await api.gql(admin, 'mutation($id: ID!) { testWebhook(id: $id) { id eventId } }', { id: webhook });
  const user = await createUserWithToken(api, 'project-admin@example.com', project, 'ADMIN');
  const token = await api.gql(admin, 'mutation($u: ID) { createApiToken(userId: $u, name: "spare") { apiToken { id } } }', { u: user.id });
  fixture = {
    ids: {
      project,
      blueprint,
      document,
      webhook,
      webhookCall: call.data.testWebhook.id,
      event: call.data.testWebhook.eventId,
      user: user.id,
      apiToken: token.data.createApiToken.apiToken.id,
    },
    receiverUrl: receiver.url,
  };
  tokens['super-admin'] = admin;
  tokens.admin = user.token;
  tables = (
    (await api.app.dataSource.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations' ORDER BY 1`)) as Array<{
      tablename: string;
    }>
  ).map((r) => r.tablename);
  const { ids } = fixture;
  const rows: Array<[string, string[], string, unknown[]]> = [
    ['project', ['id'], 'id = $1', [ids.project]],
    ['blueprint', ['id'], 'id = $1', [ids.blueprint]],
    ['document', ['id'], 'id = $1', [ids.document]],
    ['webhook', ['id'], 'id = $1', [ids.webhook]],
    ['app_user', ['id'], 'id = $1', [ids.user]],
    ['project_member', ['project_id', 'user_id'], 'project_id = $1 AND user_id = $2', [ids.project, ids.user]],
  ];
  for (const [table, key, where, params] of rows) {
    const [found] = (await api.app.dataSource.query(`SELECT to_jsonb(t) AS row FROM "${table}" t WHERE ${where}`, params)) as Array<{ row: Record<string, unknown> }>;
    saved.push({ table, key, row: found.row });
  }
});

/** Puts the fixture's rows back as they were (an accepted update may have emptied a blueprint's fields, say). */
async function restoreFixture(): Promise<void> {
  for (const { table, key, row } of saved) {
    const set = Object.keys(row).map((c) => `"${c}" = EXCLUDED."${c}"`).join(', ');
    await api.app.dataSource.query(
      `INSERT INTO "${table}" SELECT * FROM jsonb_populate_record(NULL::"${table}", $1) ON CONFLICT (${key.map((k) => `"${k}"`).join(', ')}) DO UPDATE SET ${set}`,
      [row],
    );
  }
}

afterAll(async () => {
  await api?.close();
  await receiver?.close();
});

/**
 * A checksum of every stored row, per table (order-independent, so no sort). `last_used_at`
 * moves on every authenticated request, whatever the input, so it is left out.
 */
async function snapshot(): Promise<Record<string, string>> {
  const columns = tables.map(
    (t) => `(SELECT count(*) || ':' || coalesce(sum(hashtextextended((to_jsonb(x) - 'last_used_at')::text, 0)::numeric), 0) FROM "${t}" x) AS "${t}"`,
  );
  const [row] = (await api.app.dataSource.query(`SELECT ${columns.join(', ')}`)) as Array<Record<string, string>>;
  return row;
}

interface Outcome {
  status: number;
  codes: string[];
  /** extensions.field of each error. */
  fields: Array<string | undefined>;
}

async function send(body: string, token: string): Promise<Outcome> {
  const res = await fetch(api.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
  const text = await res.text();
  try {
    const errors = (JSON.parse(text) as { errors?: Array<{ extensions?: { code?: unknown; field?: string } }> }).errors ?? [];
    return {
      status: res.status,
      codes: errors.map((e) => (typeof e.extensions?.code === 'string' ? e.extensions.code : '(no code)')),
      fields: errors.map((e) => e.extensions?.field),
    };
  } catch {
    return { status: res.status, codes: [`(not JSON: ${text.slice(0, 60)})`], fields: [] };
  }
}

type Mode = 'variables' | 'literal';
type Role = 'super-admin' | 'admin';
const tally = { tried: 0, internal: 0 };
const failures: string[] = [];
/** Nothing else writes (ROLE=api: no worker), so the state after one request is the state before the next. */
let stored: Record<string, string>;

async function tryOne(slot: Slot, value: unknown, mode: Mode, role: Role): Promise<Outcome> {
  const body = requestBody(slot, argumentsFor(slot, value, fixture), mode);
  const before = stored;
  const outcome = await send(body, tokens[role]);
  const { status, codes } = outcome;
  if (codes.length === 0 && slot.operation === 'mutation') await restoreFixture();
  stored = await snapshot();
  tally.tried += 1;
  const what = `${slotName(slot)} = ${describeValue(value)} as ${mode}, ${role}`;
  if (status >= 500 || codes.some((c) => c === 'INTERNAL_SERVER_ERROR' || c.startsWith('('))) {
    tally.internal += 1;
    failures.push(`${what}: HTTP ${status} ${codes.join(',')}`);
    return outcome;
  }
  const changed = tables.filter((t) => before[t] !== stored[t]);
  if (codes.length > 0 && changed.length > 0) failures.push(`${what}: refused with ${codes.join(',')} but changed ${changed.join(', ')}`);
  return outcome;
}

/** A slot that holds one string (String or ID, not a list of them). */
function isTextSlot(slot: Slot): boolean {
  const inner = isNonNullType(slot.type) ? slot.type.ofType : slot.type;
  return !isListType(inner) && ['String', 'ID'].includes(getNamedType(inner).name);
}

test('every argument and input field: hostile values get data or a coded client error, never a 500, and a refusal stores nothing', async () => {
  const slots = enumerateSlots(buildAppSchema());
  expect(slots.length).toBeGreaterThan(50);
  stored = await snapshot();
  const roles = fc.constantFrom<Role>('super-admin', 'admin');
  for (const [i, slot] of slots.entries()) {
    const valid = () => validValue(slot.type, String(slot.path[slot.path.length - 1]), slot.field, fixture);
    if (isTextSlot(slot)) {
      // Every text input passes the one check, which names the place exactly: this also shows
      // that the requests reach the server's own checks rather than stopping at some limit.
      const { codes, fields } = await tryOne(slot, inside(valid(), '\u0000'), 'variables', 'super-admin');
      if (codes[0] !== 'BAD_USER_INPUT' || fields[0] !== slotPath(slot)) {
        failures.push(`${slotName(slot)} = U+0000: expected BAD_USER_INPUT naming ${slotPath(slot)}, got ${codes.join(',')} naming ${fields.join(',')}`);
      }
    }
    // The property records instead of throwing, so one run reports every defect (and how many
    // requests answered 500) rather than stopping at the first; each case is already minimal,
    // one hostile value in one slot, so there is nothing to shrink.
    const examples = coreExamples(slot.type, valid).map(([value, mode], n): [unknown, Mode, Role] => [value, mode, n % 2 === 0 ? 'super-admin' : 'admin']);
    await fc.assert(
      fc.asyncProperty(hostileFor(slot.type, valid), fc.constantFrom<Mode>('variables', 'literal'), roles, async (value, mode, role) => {
        await tryOne(slot, value, mode, role);
      }),
      { seed: SEED + i, numRuns: examples.length + RANDOM_RUNS_PER_SLOT, examples },
    );
  }
  console.log(`bad-input suite: ${tally.tried} hostile requests over ${slots.length} slots, ${tally.internal} answered INTERNAL_SERVER_ERROR or 5xx`);
  expect(failures).toEqual([]);
}, 600_000);
