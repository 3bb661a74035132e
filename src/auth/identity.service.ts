import { DataSource, In, IsNull } from 'typeorm';
import { ADVISORY_LOCKS } from '../db/names';
import { AppError, badInput, ErrorCode, notFound } from '../common/app-error';
import { ApiToken } from '../auth/api-token.entity';
import { User } from '../auth/user.entity';
import type { Actor } from './actor';
import { generateToken, hashToken } from './tokens';

const EMAIL = /^[^\s@]+@[^\s@]+$/;
const BOOTSTRAP_EMAIL = 'admin@localhost';
/** lastUsedAt is kept to the minute: enough to tell a live token from a forgotten one. */
const TOUCH_EVERY_MS = 60_000;

export class IdentityService {
  private readonly touching = new Set<Promise<void>>();

  constructor(private readonly dataSource: DataSource) {}

  /**
   * Every request and every WebSocket connection: one indexed lookup, no cache, so a revoked
   * token is refused by the very next request.
   */
  async authenticate(token: string | undefined): Promise<Actor | null> {
    if (!token) return null;
    // A query builder, not findOne: findOne with a relation runs two statements (a DISTINCT
    // id query, then the join), and this runs on every request. The hash is unique: one row.
    const row = await this.dataSource
      .getRepository(ApiToken)
      .createQueryBuilder('t')
      .innerJoinAndSelect('t.user', 'u')
      .where('t.token_hash = :hash AND t.revoked_at IS NULL', { hash: hashToken(token) })
      .getOne();
    if (!row?.user) return null;
    // The row just read says whether a write is due; most requests need no second statement.
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() >= TOUCH_EVERY_MS) this.touch(row.id);
    return { user: row.user, isSuperAdmin: row.user.isSuperAdmin, tokenId: row.id };
  }

  /** What those tokens stand for now, by token id; revoked ones and those of deleted users are missing. One query. */
  async actorsForTokens(tokenIds: string[]): Promise<Map<string, Actor>> {
    const rows = tokenIds.length === 0 ? [] : await this.dataSource.getRepository(ApiToken).find({
      where: { id: In(tokenIds), revokedAt: IsNull() },
      relations: { user: true },
    });
    return new Map(rows.filter((row) => row.user).map((row) => [row.id, { user: row.user!, isSuperAdmin: row.user!.isSuperAdmin, tokenId: row.id }]));
  }

  /** Resolves once every last-used write started so far has finished (or failed). */
  async touched(): Promise<void> {
    await Promise.all([...this.touching]);
  }

  /**
   * Records that a token was used, at most once a minute. The condition is also in the
   * statement, so requests arriving together (or on other processes) still write once.
   * Fire and forget: the request never waits for it, and a failure only leaves the time a
   * little old.
   */
  private touch(tokenId: string): void {
    const write = this.dataSource
      .query(`UPDATE api_token SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [tokenId])
      .then(
        () => undefined,
        () => undefined,
      );
    this.touching.add(write);
    void write.finally(() => this.touching.delete(write));
  }

  /**
   * With BOOTSTRAP_ADMIN_TOKEN the super-admin holding it exists after every start (the same
   * token keeps working across restarts). Without it, the first start on an empty database
   * creates a super-admin and returns its token so the caller can print it once.
   */
  async bootstrap(configuredToken: string | undefined): Promise<{ createdToken?: string }> {
    return this.dataSource.transaction(async (m) => {
      // Two processes starting together must not both create the first admin.
      await m.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.bootstrap]);
      if (configuredToken) {
        const hash = hashToken(configuredToken);
        if (await m.findOneBy(ApiToken, { tokenHash: hash, revokedAt: IsNull() })) return {};
        let admin = await m.findOneBy(User, { email: BOOTSTRAP_EMAIL });
        if (!admin) admin = await m.save(m.create(User, { email: BOOTSTRAP_EMAIL, name: 'Administrator', isSuperAdmin: true }));
        // A changed BOOTSTRAP_ADMIN_TOKEN replaces the previous one: that is how it is rotated.
        // Deleting it ends its open subscriptions on every process (a trigger NOTIFYs them).
        await m.delete(ApiToken, { userId: admin.id, name: 'bootstrap' });
        // The configured token, revoked through the API, comes back: the operator's setting
        // wins over a revocation, so rotating it means changing the variable.
        await m.delete(ApiToken, { tokenHash: hash });
        await m.save(m.create(ApiToken, { userId: admin.id, name: 'bootstrap', tokenHash: hash }));
        return {};
      }
      if ((await m.count(User)) > 0) return {};
      const admin = await m.save(m.create(User, { email: BOOTSTRAP_EMAIL, name: 'Administrator', isSuperAdmin: true }));
      const token = generateToken();
      await m.save(m.create(ApiToken, { userId: admin.id, name: 'bootstrap', tokenHash: hashToken(token) }));
      return { createdToken: token };
    });
  }

  /** Users are created by super-admins; they then join projects through memberships. */
  async createUser(actor: Actor, input: { email: string; name?: string | null }): Promise<User> {
    if (!actor.isSuperAdmin) throw new AppError(ErrorCode.FORBIDDEN, 'Only a super-admin can create users');
    const email = input.email.trim().toLowerCase();
    if (!EMAIL.test(email) || email.length > 320) throw badInput('input.email', 'must be an e-mail address of at most 320 characters');
    if (input.name != null && input.name.length > 200) throw badInput('input.name', 'must be at most 200 characters');
    const repo = this.dataSource.getRepository(User);
    if (await repo.findOneBy({ email })) throw badInput('input.email', 'is already used by another user');
    return repo.save(repo.create({ email, name: input.name ?? null, isSuperAdmin: false }));
  }

  /** A token for yourself, or (super-admin) for another user. The token is returned only here. */
  async createApiToken(actor: Actor, userId: string | undefined, name: string): Promise<{ token: string; apiToken: ApiToken }> {
    const trimmed = name.trim();
    if (trimmed.length < 1 || trimmed.length > 200) throw badInput('name', 'must be 1 to 200 characters');
    const ownerId = userId ?? actor.user.id;
    if (ownerId !== actor.user.id) {
      if (!actor.isSuperAdmin) throw new AppError(ErrorCode.FORBIDDEN, 'Only a super-admin can create tokens for other users');
      if (!(await this.dataSource.getRepository(User).findOneBy({ id: ownerId }))) throw notFound('User');
    }
    const token = generateToken();
    const repo = this.dataSource.getRepository(ApiToken);
    const apiToken = await repo.save(repo.create({ userId: ownerId, name: trimmed, tokenHash: hashToken(token) }));
    return { token, apiToken };
  }

  /** Your own tokens, or (super-admin) any user's; newest first, revoked ones included. */
  async listApiTokens(actor: Actor, userId: string | undefined): Promise<ApiToken[]> {
    const ownerId = userId ?? actor.user.id;
    if (ownerId !== actor.user.id) {
      // Answered before any lookup, like createApiToken: it says nothing about whether the user exists.
      if (!actor.isSuperAdmin) throw new AppError(ErrorCode.FORBIDDEN, "Only a super-admin can list other users' tokens");
      if (!(await this.dataSource.getRepository(User).findOneBy({ id: ownerId }))) throw notFound('User');
    }
    return this.dataSource.getRepository(ApiToken).find({ where: { userId: ownerId }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  /**
   * By its owner or a super-admin; anyone else's token answers NOT_FOUND, exactly like a
   * missing id, so token ids cannot be probed. Revoking again keeps the first revocation time.
   */
  async revokeApiToken(actor: Actor, id: string): Promise<boolean> {
    const repo = this.dataSource.getRepository(ApiToken);
    const token = await repo.findOneBy({ id });
    if (!token || (token.userId !== actor.user.id && !actor.isSuperAdmin)) throw notFound('API token');
    await repo.update({ id, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
    return true;
  }
}
