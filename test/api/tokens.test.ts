import { GraphQLObjectType } from 'graphql';
import { hashToken } from '../../src/auth/tokens';
import { buildAppSchema } from '../../src/graphql/schema';
import { codeOf, createUserWithToken, GqlResult, startTestApi, TestApi } from '../support/api';
import { createToken, listTokens, revoke, TOKEN_OPERATIONS } from '../support/tokens';

/** apiTokens and revokeApiToken through the API: what is shown, who may, and last-used times. */
let api: TestApi;
let alice: { id: string; token: string };
let bob: { id: string; token: string };

beforeAll(async () => {
  api = await startTestApi({ ROLE: 'api' });
  alice = await createUserWithToken(api, 'alice@tokens.test');
  bob = await createUserWithToken(api, 'bob@tokens.test');
});

afterAll(async () => {
  await api?.close();
});

const tokenIdOf = async (token: string, owner: string) => {
  await api.app.services.identity.touched();
  const [row] = await api.app.dataSource.query(`SELECT id FROM api_token WHERE token_hash = $1 AND user_id = $2`, [hashToken(token), owner]);
  return row.id as string;
};

const me = (token: string) => api.op(token, 'Me');

describe('apiTokens', () => {
  test('lists your own tokens, newest first, with no secret in the answer', async () => {
    const second = await createToken(api, alice.id, 'ci');
    const result = await api.gql(alice.token, TOKEN_OPERATIONS.ApiTokens);
    expect(codeOf(result)).toBe('OK');
    const listed = result.data.apiTokens;
    expect(listed.map((t: { name: string }) => t.name)).toEqual(['ci', 'test']);
    expect(listed[0]).toEqual({ id: second.id, name: 'ci', createdAt: expect.any(String), lastUsedAt: null, revokedAt: null });
    const text = JSON.stringify(result);
    for (const secret of [alice.token, second.token]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(hashToken(secret));
    }
  });

  test('the schema has no field that could carry a token or its hash', () => {
    const schema = buildAppSchema();
    const apiToken = schema.getType('ApiToken') as GraphQLObjectType;
    expect(Object.keys(apiToken.getFields()).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'revokedAt']);
    const everyField = Object.values(schema.getTypeMap())
      .filter((type): type is GraphQLObjectType => type instanceof GraphQLObjectType)
      .flatMap((type) => Object.keys(type.getFields()).map((field) => `${type.name}.${field}`));
    expect(everyField.filter((f) => /hash/i.test(f))).toEqual([]);
    // The one place a token is shown is the answer to its creation.
    expect(everyField.filter((f) => /\.token$/i.test(f))).toEqual(['CreatedApiToken.token']);
  });

  test('your own userId works like none', async () => {
    const own = await listTokens(api, bob.token, bob.id);
    expect(own.map((t) => t.name)).toEqual(['test']);
  });

  test("another user's tokens: FORBIDDEN for a user (whether or not that user exists), listed for a super-admin", async () => {
    const forbidden = await api.gql(bob.token, TOKEN_OPERATIONS.ApiTokens, { userId: alice.id });
    expect(codeOf(forbidden)).toBe('FORBIDDEN');
    expect(forbidden.data ?? null).toBeNull();
    const missing = await api.gql(bob.token, TOKEN_OPERATIONS.ApiTokens, { userId: crypto.randomUUID() });
    expect({ code: codeOf(missing), message: missing.errors?.[0].message }).toEqual({ code: 'FORBIDDEN', message: forbidden.errors?.[0].message });
    const asAdmin = await listTokens(api, api.adminToken, alice.id);
    expect(asAdmin.map((t) => t.name)).toEqual(['ci', 'test']);
  });

  test('bad or unknown ids, and no token', async () => {
    expect(codeOf(await api.gql(api.adminToken, TOKEN_OPERATIONS.ApiTokens, { userId: crypto.randomUUID() }))).toBe('NOT_FOUND');
    const bad = await api.gql(api.adminToken, TOKEN_OPERATIONS.ApiTokens, { userId: 'nope' });
    expect(bad.errors?.[0]).toMatchObject({ message: 'userId: must be a UUID', extensions: { code: 'BAD_USER_INPUT', field: 'userId' } });
    expect(codeOf(await api.gql(null, TOKEN_OPERATIONS.ApiTokens))).toBe('UNAUTHENTICATED');
  });
});

describe('revokeApiToken', () => {
  test('by its owner: the next request with it is UNAUTHENTICATED, and it stays listed as revoked', async () => {
    const carol = await createUserWithToken(api, 'carol@tokens.test');
    const spare = await createToken(api, carol.id, 'spare');
    expect(codeOf(await me(spare.token))).toBe('OK');
    const revoked = await revoke(api, carol.token, spare.id);
    expect({ code: codeOf(revoked), data: revoked.data }).toEqual({ code: 'OK', data: { revokeApiToken: true } });
    expect(codeOf(await me(spare.token))).toBe('UNAUTHENTICATED');
    expect(codeOf(await me(carol.token))).toBe('OK'); // only that token
    const listed = await listTokens(api, carol.token);
    const row = listed.find((t) => t.id === spare.id)!;
    expect(Date.parse(row.revokedAt!)).toBeGreaterThan(Date.now() - 60_000);
    // Again: still true, and the first revocation time is kept.
    expect((await revoke(api, carol.token, spare.id)).data).toEqual({ revokeApiToken: true });
    expect((await listTokens(api, carol.token)).find((t) => t.id === spare.id)!.revokedAt).toBe(row.revokedAt);
  });

  test('the token you are using can revoke itself; nothing after that is accepted with it', async () => {
    const dave = await createUserWithToken(api, 'dave@tokens.test');
    const own = await tokenIdOf(dave.token, dave.id);
    expect((await revoke(api, dave.token, own)).data).toEqual({ revokeApiToken: true });
    const after = await revoke(api, dave.token, own);
    expect(codeOf(after)).toBe('UNAUTHENTICATED');
    expect(codeOf(await api.gql(dave.token, TOKEN_OPERATIONS.ApiTokens))).toBe('UNAUTHENTICATED');
  });

  test("by a super-admin, anyone's", async () => {
    const erin = await createUserWithToken(api, 'erin@tokens.test');
    const id = await tokenIdOf(erin.token, erin.id);
    expect((await revoke(api, api.adminToken, id)).data).toEqual({ revokeApiToken: true });
    expect(codeOf(await me(erin.token))).toBe('UNAUTHENTICATED');
  });

  test("another user's token answers NOT_FOUND, exactly as a missing id, and stays valid", async () => {
    const frank = await createUserWithToken(api, 'frank@tokens.test');
    const id = await tokenIdOf(frank.token, frank.id);
    const foreign = await revoke(api, bob.token, id);
    const missing = await revoke(api, bob.token, crypto.randomUUID());
    const answer = (r: GqlResult) => ({ code: codeOf(r), message: r.errors?.[0]?.message, data: r.data ?? null });
    expect(answer(foreign)).toEqual({ code: 'NOT_FOUND', message: 'API token not found', data: null });
    expect(answer(missing)).toEqual(answer(foreign));
    expect(codeOf(await me(frank.token))).toBe('OK');
    expect((await listTokens(api, frank.token))[0].revokedAt).toBeNull();
  });

  test('bad ids and no token', async () => {
    const bad = await revoke(api, alice.token, 'nope');
    expect(bad.errors?.[0]).toMatchObject({ message: 'id: must be a UUID', extensions: { code: 'BAD_USER_INPUT', field: 'id' } });
    expect(codeOf(await revoke(api, null, crypto.randomUUID()))).toBe('UNAUTHENTICATED');
  });
});

describe('lastUsedAt', () => {
  const lastUsed = async (id: string) => {
    const [row] = await api.app.dataSource.query(`SELECT last_used_at FROM api_token WHERE id = $1`, [id]);
    return row.last_used_at as Date | null;
  };

  test('is set by the first use and written at most once a minute after that', async () => {
    const gina = await createUserWithToken(api, 'gina@tokens.test');
    const id = await tokenIdOf(gina.token, gina.id);
    expect(await lastUsed(id)).toBeNull(); // creating it (with the admin's token) is not using it

    expect(codeOf(await me(gina.token))).toBe('OK');
    await api.app.services.identity.touched();
    const first = await lastUsed(id);
    expect(first).not.toBeNull();
    expect((await listTokens(api, gina.token))[0].lastUsedAt).toBe(first!.toISOString());

    for (let i = 0; i < 3; i++) expect(codeOf(await me(gina.token))).toBe('OK');
    await api.app.services.identity.touched();
    expect(await lastUsed(id)).toEqual(first);

    // A minute later (moved back in the database rather than waited for), the next use writes again.
    await api.app.dataSource.query(`UPDATE api_token SET last_used_at = last_used_at - interval '61 seconds' WHERE id = $1`, [id]);
    const old = (await lastUsed(id))!;
    expect(codeOf(await me(gina.token))).toBe('OK');
    await api.app.services.identity.touched();
    expect((await lastUsed(id))!.getTime()).toBeGreaterThan(old.getTime() + 60_000);
  });

  test('a failed write does not fail the request', async () => {
    const hank = await createUserWithToken(api, 'hank@tokens.test');
    const id = await tokenIdOf(hank.token, hank.id);
    await api.app.dataSource.query(`CREATE FUNCTION test_refuse_last_used() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'last_used_at refused by the test'; END $$`);
    await api.app.dataSource.query(
      `CREATE TRIGGER test_refuse_last_used BEFORE UPDATE OF last_used_at ON api_token FOR EACH ROW EXECUTE FUNCTION test_refuse_last_used()`,
    );
    try {
      const result = await me(hank.token);
      expect(codeOf(result)).toBe('OK');
      await api.app.services.identity.touched();
      expect(await lastUsed(id)).toBeNull();
    } finally {
      await api.app.dataSource.query(`DROP TRIGGER test_refuse_last_used ON api_token; DROP FUNCTION test_refuse_last_used`);
    }
  });
});

test('a revoked BOOTSTRAP_ADMIN_TOKEN works again after a start with the same setting', async () => {
  const id = await tokenIdOf(api.adminToken, (await me(api.adminToken)).data.me.id);
  expect((await revoke(api, api.adminToken, id)).data).toEqual({ revokeApiToken: true });
  expect(codeOf(await me(api.adminToken))).toBe('UNAUTHENTICATED');
  const restarted = await startTestApi({ ROLE: 'api', BOOTSTRAP_ADMIN_TOKEN: api.adminToken }, api.databaseUrl);
  try {
    expect(codeOf(await me(api.adminToken))).toBe('OK');
    const listed = await listTokens(api, api.adminToken);
    expect(listed.filter((t) => t.name === 'bootstrap')).toEqual([expect.objectContaining({ revokedAt: null })]);
  } finally {
    await restarted.close();
  }
});
