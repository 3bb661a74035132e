import type { DataSource } from 'typeorm';
import { createTestDatabase } from '../support/database';

/**
 * The schema comes from migrations only (never `synchronize`). If an entity changes without
 * a migration, what TypeORM would run to synchronize is not empty, and this test names it.
 */
let dataSource: DataSource;

beforeAll(async () => {
  ({ dataSource } = await createTestDatabase('migrations'));
});

afterAll(async () => {
  await dataSource?.destroy();
});

test('the migrated schema is exactly what the entities describe', async () => {
  const pending = await dataSource.driver.createSchemaBuilder().log();
  expect(pending.upQueries.map((q) => q.query)).toEqual([]);
});

test('every migration can be reverted, and applied again', async () => {
  const applied = dataSource.migrations.length;
  expect(applied).toBeGreaterThanOrEqual(2);
  for (let i = 0; i < applied; i++) await dataSource.undoLastMigration({ transaction: 'all' });
  expect(await dataSource.query(`SELECT to_regclass('public.webhook') AS t`)).toEqual([{ t: null }]);
  expect((await dataSource.runMigrations({ transaction: 'all' })).map((m) => m.name)).toEqual(dataSource.migrations.map((m) => m.name));
  const pending = await dataSource.driver.createSchemaBuilder().log();
  expect(pending.upQueries).toEqual([]);
});
