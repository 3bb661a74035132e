import { DataSource, EntityManager } from 'typeorm';
import type { Actor } from '../auth/actor';
import type { ChangeContext } from '../events/domain-event.subscriber';

/**
 * Runs `work` in one transaction whose QueryRunner carries the acting user and token (and the
 * delivery the request handles, if any), so the outbox subscriber can stamp
 * `triggered_user_id`, the token and the cause on the events the change produces.
 */
export async function inTransaction<T>(
  dataSource: DataSource,
  actor: Pick<Actor, 'user' | 'tokenId' | 'cause'> | null,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  const runner = dataSource.createQueryRunner();
  runner.data = { actorId: actor?.user.id ?? null, tokenId: actor?.tokenId ?? null, cause: actor?.cause ?? null } satisfies ChangeContext;
  await runner.connect();
  await runner.startTransaction();
  try {
    const result = await work(runner.manager);
    await runner.commitTransaction();
    return result;
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction();
    throw error;
  } finally {
    await runner.release();
  }
}
