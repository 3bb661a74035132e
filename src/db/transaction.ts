import { DataSource, EntityManager } from 'typeorm';
import type { ChangeContext } from '../events/domain-event.subscriber';

/**
 * Runs `work` in one transaction whose QueryRunner carries the acting user, so the outbox
 * subscriber can stamp `triggered_user_id` on the events the change produces.
 */
export async function inTransaction<T>(
  dataSource: DataSource,
  actorId: string | null,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  const runner = dataSource.createQueryRunner();
  runner.data = { actorId } satisfies ChangeContext;
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
