import { AppError, ErrorCode } from '../common/app-error';
import type { User } from '../auth/user.entity';
import { AccessIdentity, AccessWatch, CLOSE_UNAUTHENTICATED, GuardedStream, parseAccessChange } from './access-watch';
import type { Actor } from './actor';

const T1 = '11111111-1111-4111-8111-111111111111';
const T2 = '22222222-2222-4222-8222-222222222222';
const U1 = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const P1 = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';

const actor = (tokenId: string, userId = U1, isSuperAdmin = false): Actor => ({ user: { id: userId } as User, isSuperAdmin, tokenId });

/** Tokens that authenticate are those in `valid`; `authenticate` can be held to let a change slip in. */
function identity(valid: Map<string, Actor>) {
  let hold: Promise<void> | undefined;
  const fake: AccessIdentity & { holdNextAuthentication(until: Promise<void>): void; lookups: number } = {
    lookups: 0,
    holdNextAuthentication(until) {
      hold = until;
    },
    async authenticate(token) {
      const found = token ? valid.get(token) : undefined;
      const waitFor = hold;
      hold = undefined;
      await waitFor;
      return found ? { ...found } : null;
    },
    async actorsForTokens(ids) {
      fake.lookups++;
      return new Map(ids.filter((id) => valid.has(id)).map((id) => [id, { ...valid.get(id)! }]));
    },
  };
  return fake;
}

class FakeStream implements GuardedStream {
  failure: unknown;
  private readonly ended: Array<() => void> = [];
  fail(error: unknown): void {
    this.failure = error;
    for (const callback of this.ended.splice(0)) callback();
  }
  onEnd(callback: () => void): void {
    this.ended.push(callback);
  }
}

function closer() {
  const closes: Array<{ code: number; reason: string }> = [];
  return { closes, close: (code: number, reason: string) => closes.push({ code, reason }) };
}

test('parses the payloads the triggers send, and nothing else', () => {
  expect(parseAccessChange(`token:${T1}`)).toEqual({ kind: 'token', id: T1 });
  expect(parseAccessChange(`user:${U1}`)).toEqual({ kind: 'user', id: U1 });
  expect(parseAccessChange(`member:${P1}:${U1}`)).toEqual({ kind: 'member', projectId: P1, userId: U1 });
  expect(parseAccessChange('all')).toEqual({ kind: 'all' });
  for (const bad of ['', 'token', `token:${T1}:${T1}`, 'token:nope', `member:${P1}`, `group:${T1}`, `user:${U1}x`]) {
    expect(parseAccessChange(bad)).toBeUndefined();
  }
});

test('a revoked token closes its connection with 4401; other tokens of the user stay', async () => {
  const valid = new Map([
    [T1, actor(T1)],
    [T2, actor(T2)],
  ]);
  const watch = new AccessWatch(identity(valid));
  const first = closer();
  const second = closer();
  expect(await watch.openSession(T1, first.close)).not.toBeNull();
  expect(await watch.openSession(T2, second.close)).not.toBeNull();
  valid.delete(T1);
  await watch.notified([`token:${T1}`]);
  expect(first.closes).toEqual([{ code: CLOSE_UNAUTHENTICATED, reason: expect.stringMatching(/^UNAUTHENTICATED/) }]);
  expect(second.closes).toEqual([]);
  expect(watch.stats().sessions).toBe(1);
});

test('a change announced while the token was being looked up is not missed', async () => {
  const valid = new Map([[T1, actor(T1)]]);
  const fake = identity(valid);
  const watch = new AccessWatch(fake);
  let release!: () => void;
  fake.holdNextAuthentication(new Promise((resolve) => (release = resolve)));
  const { closes, close } = closer();
  const opening = watch.openSession(T1, close);
  // Revoked (and announced) after the lookup read the token, before the session was registered.
  valid.delete(T1);
  await watch.notified([`token:${T1}`]);
  release();
  expect(await opening).toBeNull();
  expect(closes).toEqual([{ code: CLOSE_UNAUTHENTICATED, reason: expect.any(String) }]);
  expect(watch.stats().sessions).toBe(0);
});

test('without a change meanwhile, opening a session costs no second lookup', async () => {
  const fake = identity(new Map([[T1, actor(T1)]]));
  const watch = new AccessWatch(fake);
  await watch.openSession(T1, closer().close);
  expect(fake.lookups).toBe(0);
});

test("a membership change re-checks that member's streams of that project only, and ends them with the check's error", async () => {
  const watch = new AccessWatch(identity(new Map([[T1, actor(T1)]])));
  const session = (await watch.openSession(T1, closer().close))!;
  let allowed = true;
  const checks: string[] = [];
  const check = (project: string) => async () => {
    checks.push(project);
    if (!allowed) throw new AppError(ErrorCode.FORBIDDEN, 'demoted');
  };
  const here = await watch.openStream(session.actor, P1, check(P1), () => new FakeStream());
  const elsewhere = await watch.openStream(session.actor, T2, check(T2), () => new FakeStream());
  checks.length = 0;
  allowed = false;
  await watch.notified([`member:${P1}:${U1}`, `member:${P1}:${T2}`]);
  expect(checks).toEqual([P1]);
  expect(here.failure).toMatchObject({ code: ErrorCode.FORBIDDEN });
  expect(elsewhere.failure).toBeUndefined();
  expect(watch.stats().streams).toBe(1);
});

test('a stream whose member changed while it was being opened is checked again', async () => {
  const watch = new AccessWatch(identity(new Map([[T1, actor(T1)]])));
  const session = (await watch.openSession(T1, closer().close))!;
  let calls = 0;
  const stream = await watch.openStream(
    session.actor,
    P1,
    async () => {
      calls++;
      if (calls === 1) await watch.notified([`member:${P1}:${U1}`]); // arrives during the first check
      else throw new AppError(ErrorCode.NOT_FOUND, 'Project not found');
    },
    () => new FakeStream(),
  );
  expect(stream.failure).toMatchObject({ code: ErrorCode.NOT_FOUND });
});

test('a user no longer super-admin: the actor is refreshed in place and their streams re-checked', async () => {
  const valid = new Map([[T1, actor(T1, U1, true)]]);
  const watch = new AccessWatch(identity(valid));
  const session = (await watch.openSession(T1, closer().close))!;
  const stream = await watch.openStream(
    session.actor,
    P1,
    async () => {
      if (!session.actor.isSuperAdmin) throw new AppError(ErrorCode.NOT_FOUND, 'Project not found');
    },
    () => new FakeStream(),
  );
  valid.set(T1, actor(T1, U1, false));
  await watch.notified([`user:${U1}`]);
  expect(session.actor.isSuperAdmin).toBe(false);
  expect(stream.failure).toMatchObject({ code: ErrorCode.NOT_FOUND });
});

test('after a reconnect (or a TRUNCATE) everything is re-checked, sessions in one lookup', async () => {
  const valid = new Map([
    [T1, actor(T1)],
    [T2, actor(T2)],
  ]);
  const fake = identity(valid);
  const watch = new AccessWatch(fake);
  const first = closer();
  const second = closer();
  await watch.openSession(T1, first.close);
  await watch.openSession(T2, second.close);
  valid.delete(T2);
  await watch.restored();
  expect(fake.lookups).toBe(1);
  expect(first.closes).toEqual([]);
  expect(second.closes).toHaveLength(1);
  valid.delete(T1);
  await watch.notified(['all']);
  expect(first.closes).toHaveLength(1);
});

test('a re-check that cannot run ends what it was checking', async () => {
  const fake = identity(new Map([[T1, actor(T1)]]));
  const watch = new AccessWatch(fake);
  const { closes, close } = closer();
  const session = (await watch.openSession(T1, close))!;
  const stream = await watch.openStream(
    session.actor,
    P1,
    async () => {
      if (watch.stats().sessions === 0) throw new Error('database unavailable');
    },
    () => new FakeStream(),
  );
  fake.actorsForTokens = async () => {
    throw new Error('database unavailable');
  };
  await expect(watch.notified([`token:${T1}`, `member:${P1}:${U1}`])).rejects.toThrow('database unavailable');
  expect(closes).toEqual([{ code: 1011, reason: expect.any(String) }]);
  // The failed token lookup did not spare the stream's own re-check, which failed too.
  expect(stream.failure).toBeInstanceOf(Error);
});
