import { DataSource } from 'typeorm';
import { AppError, badInput, ErrorCode, notFound } from '../common/app-error';
import { ApiToken } from '../cms/api-token.entity';
import { User } from '../cms/user.entity';
import type { Actor } from './actor';
import { generateToken, hashToken } from './tokens';

const EMAIL = /^[^\s@]+@[^\s@]+$/;
const BOOTSTRAP_EMAIL = 'admin@localhost';

export class IdentityService {
  constructor(private readonly dataSource: DataSource) {}

  async authenticate(token: string | undefined): Promise<Actor | null> {
    if (!token) return null;
    const row = await this.dataSource.getRepository(ApiToken).findOne({
      where: { tokenHash: hashToken(token) },
      relations: { user: true },
    });
    if (!row?.user) return null;
    return { user: row.user, isSuperAdmin: row.user.isSuperAdmin };
  }

  /**
   * With BOOTSTRAP_ADMIN_TOKEN the super-admin holding it exists after every start (the same
   * token keeps working across restarts). Without it, the first start on an empty database
   * creates a super-admin and returns its token so the caller can print it once.
   */
  async bootstrap(configuredToken: string | undefined): Promise<{ createdToken?: string }> {
    return this.dataSource.transaction(async (m) => {
      // Two processes starting together must not both create the first admin.
      await m.query('SELECT pg_advisory_xact_lock(4242001)');
      if (configuredToken) {
        const hash = hashToken(configuredToken);
        if (await m.findOneBy(ApiToken, { tokenHash: hash })) return {};
        let admin = await m.findOneBy(User, { email: BOOTSTRAP_EMAIL });
        if (!admin) admin = await m.save(m.create(User, { email: BOOTSTRAP_EMAIL, name: 'Administrator', isSuperAdmin: true }));
        // A changed BOOTSTRAP_ADMIN_TOKEN replaces the previous one: that is how it is rotated.
        await m.delete(ApiToken, { userId: admin.id, name: 'bootstrap' });
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
}
